"""The official Python client (Debian python3-kubernetes 22.6) against the emulator."""

import json

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from emu_helpers import install_crd, widget


@pytest.fixture(scope="module")
def emu(module_emulator):
    e = module_emulator()
    install_crd(e)
    return e


@pytest.fixture(scope="module")
def api_client(emu):
    cfg = client.Configuration()
    config.load_kube_config(config_file=emu.kubeconfig, client_configuration=cfg)
    assert cfg.host == emu.url
    assert cfg.verify_ssl is True
    c = client.ApiClient(configuration=cfg)
    yield c
    c.close()


@pytest.fixture
def v1(api_client):
    return client.CoreV1Api(api_client)


@pytest.fixture
def co(api_client):
    return client.CustomObjectsApi(api_client)


def cm(name, data=None, labels=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels),
                              data=data or {"k": "v"})


def test_load_kube_config_default_loader(emu):
    # The module-level loader also understands the emulator's kubeconfig.
    config.load_kube_config(config_file=emu.kubeconfig)
    c = client.ApiClient()
    try:
        vers = client.VersionApi(c).get_code()
        assert vers.major == "1" and vers.minor == "32"
    finally:
        c.close()


def test_list_namespaces_and_create(v1):
    names = {n.metadata.name for n in v1.list_namespace().items}
    assert {"default", "kube-system"} <= names
    ns = v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py-ns")))
    assert ns.metadata.uid and ns.metadata.creation_timestamp is not None
    names = {n.metadata.name for n in v1.list_namespace().items}
    assert "py-ns" in names
    created = v1.create_namespaced_config_map("py-ns", cm("c1", {"a": "1"}))
    assert created.metadata.namespace == "py-ns"
    lst = v1.list_namespaced_config_map("py-ns")
    assert [i.metadata.name for i in lst.items] == ["c1"]
    assert int(lst.metadata.resource_version) >= int(created.metadata.resource_version)


def test_create_existing_is_409_already_exists(v1):
    v1.create_namespaced_config_map("default", cm("dup"))
    with pytest.raises(ApiException) as ei:
        v1.create_namespaced_config_map("default", cm("dup"))
    assert ei.value.status == 409
    body = json.loads(ei.value.body)
    assert body["reason"] == "AlreadyExists"
    assert body["details"] == {"name": "dup", "kind": "configmaps"} or \
        (body["details"]["name"] == "dup" and body["details"]["kind"] == "configmaps")


def test_replace_with_stale_resource_version_is_409(v1):
    c1 = v1.create_namespaced_config_map("default", cm("stale", {"n": "1"}))
    c1.data = {"n": "2"}
    c2 = v1.replace_namespaced_config_map("stale", "default", c1)
    assert int(c2.metadata.resource_version) > int(c1.metadata.resource_version)
    c1.data = {"n": "3"}  # c1 still carries the old resourceVersion
    with pytest.raises(ApiException) as ei:
        v1.replace_namespaced_config_map("stale", "default", c1)
    assert ei.value.status == 409
    body = json.loads(ei.value.body)
    assert body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    assert v1.read_namespaced_config_map("stale", "default").data == {"n": "2"}


def test_read_missing_is_404(v1):
    with pytest.raises(ApiException) as ei:
        v1.read_namespaced_secret("missing", "default")
    assert ei.value.status == 404
    assert json.loads(ei.value.body)["reason"] == "NotFound"


def test_custom_objects_create_and_merge_patch(co):
    w = co.create_namespaced_custom_object("example.com", "v1", "default", "widgets",
                                           widget("py-w", size=3))
    assert w["metadata"]["generation"] == 1
    p = co.patch_namespaced_custom_object("example.com", "v1", "default", "widgets", "py-w",
                                          {"spec": {"color": "blue"}, "metadata": {"labels": {"x": "y"}}})
    assert p["spec"] == {"size": 3, "color": "blue"}
    assert p["metadata"]["labels"] == {"x": "y"}
    assert p["metadata"]["generation"] == 2
    st = co.patch_namespaced_custom_object_status(
        "example.com", "v1", "default", "widgets", "py-w", {"status": {"phase": "Ok"}})
    assert st["status"] == {"phase": "Ok"} and st["metadata"]["generation"] == 2
    got = co.get_namespaced_custom_object("example.com", "v1", "default", "widgets", "py-w")
    assert got["status"] == {"phase": "Ok"} and got["spec"]["color"] == "blue"
    lst = co.list_namespaced_custom_object("example.com", "v1", "default", "widgets",
                                           label_selector="x=y")
    assert [i["metadata"]["name"] for i in lst["items"]] == ["py-w"]
    with pytest.raises(ApiException) as ei:
        co.patch_namespaced_custom_object("example.com", "v1", "default", "widgets", "py-w",
                                          {"spec": {"color": "purple"}})
    assert ei.value.status == 422


def test_watch_resumes_from_resource_version(v1):
    a = v1.create_namespaced_config_map("default", cm("wr-a", {"v": "1"}))
    start_rv = a.metadata.resource_version
    a.data = {"v": "2"}
    a2 = v1.replace_namespaced_config_map("wr-a", "default", a)
    b = v1.create_namespaced_config_map("default", cm("wr-b"))
    v1.delete_namespaced_config_map("wr-b", "default")
    v1.create_namespaced_config_map("default", cm("wr-end"))  # sentinel
    w = watch.Watch()
    seen = []
    for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=start_rv,
                       timeout_seconds=20):
        seen.append((ev["type"], ev["object"].metadata.name, ev["object"].metadata.resource_version))
        if ev["object"].metadata.name == "wr-end":
            w.stop()
    types = [(t, n) for t, n, _ in seen]
    assert types == [("MODIFIED", "wr-a"), ("ADDED", "wr-b"), ("DELETED", "wr-b"), ("ADDED", "wr-end")]
    assert seen[0][2] == a2.metadata.resource_version
    assert seen[1][2] == b.metadata.resource_version
    rvs = [int(r) for _, _, r in seen]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)


def test_watch_label_selector_and_timeout_ends(v1):
    v1.create_namespaced_config_map("default", cm("ls-1", labels={"grp": "w"}))
    v1.create_namespaced_config_map("default", cm("ls-2", labels={"grp": "other"}))
    w = watch.Watch()
    names = [ev["object"].metadata.name for ev in
             w.stream(v1.list_namespaced_config_map, "default", label_selector="grp=w",
                      timeout_seconds=1)]
    # No resourceVersion: synthetic ADDED for existing matching objects, then the server ends the
    # stream after timeoutSeconds (and the client stops, because timeout_seconds was given).
    assert names == ["ls-1"]


def test_watch_after_compact_raises_410(emu, v1):
    c = v1.create_namespaced_config_map("default", cm("old-rv"))
    old_rv = c.metadata.resource_version
    for i in range(3):
        v1.patch_namespaced_config_map("old-rv", "default", {"data": {"i": str(i)}})
    r = emu.admin("POST", "/emulator/v1/compact")
    assert r.status == 200, r
    w = watch.Watch()
    with pytest.raises(ApiException) as ei:
        for _ in w.stream(v1.list_namespaced_config_map, "default", resource_version=old_rv,
                          timeout_seconds=5):
            pass
    assert ei.value.status == 410
    assert "Expired" in str(ei.value.reason) or "too old" in str(ei.value.reason)
    # A list from scratch still works and a watch from the fresh RV is fine.
    lst = v1.list_namespaced_config_map("default")
    v1.patch_namespaced_config_map("old-rv", "default", {"data": {"i": "fresh"}})
    w = watch.Watch()
    for ev in w.stream(v1.list_namespaced_config_map, "default",
                       resource_version=lst.metadata.resource_version, timeout_seconds=10):
        assert ev["type"] == "MODIFIED" and ev["object"].data["i"] == "fresh"
        w.stop()


def test_secret_string_data_via_client(v1):
    s = client.V1Secret(metadata=client.V1ObjectMeta(name="py-sec"), string_data={"token": "abc"})
    created = v1.create_namespaced_secret("default", s)
    assert created.string_data is None
    assert created.data == {"token": "YWJj"}
    assert created.type == "Opaque"


def test_lease_roundtrip(api_client):
    coord = client.CoordinationV1Api(api_client)
    body = client.V1Lease(metadata=client.V1ObjectMeta(name="leader"),
                          spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15,
                                                  lease_transitions=0))
    l1 = coord.create_namespaced_lease("default", body)
    l1.spec.holder_identity = "b"
    l1.spec.lease_transitions = 1
    l2 = coord.replace_namespaced_lease("leader", "default", l1)
    assert l2.spec.holder_identity == "b"
    l1.spec.holder_identity = "c"  # stale RV => the loser of a race gets 409
    with pytest.raises(ApiException) as ei:
        coord.replace_namespaced_lease("leader", "default", l1)
    assert ei.value.status == 409
    assert coord.read_namespaced_lease("leader", "default").spec.holder_identity == "b"
