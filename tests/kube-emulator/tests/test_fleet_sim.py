"""--fleet-sim: Bundle targeting, status, downstream copies, namespace errors, cleanup, keepResources.

Clusters in fleet-default:
  prod-1, prod-2   env=prod
  staging-1        env=staging
  sick-1           env=prod, fleet-sim/unhealthy=true (never becomes ready)
ClusterGroups: prod (env=prod, labelled tier=critical), staging (env=staging).
prod-1 has annotation fleet-sim/namespaces: "extra,monitoring".
"""

import base64
import gzip
import json

import pytest

from emu_helpers import b64, core, ok, unb64, wait_for

FLEET = "/apis/fleet.cattle.io/v1alpha1"
WS = "fleet-default"
MERGE = {"Content-Type": "application/merge-patch+json"}
ALL = ["prod-1", "prod-2", "sick-1", "staging-1"]


def fpath(plural, name=None, ns=WS):
    p = f"{FLEET}/namespaces/{ns}/{plural}"
    return p + "/" + name if name else p


def cluster(name, labels, annotations=None):
    md = {"name": name, "namespace": WS, "labels": labels}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": "fleet.cattle.io/v1alpha1", "kind": "Cluster", "metadata": md, "spec": {}}


def group(name, match, labels=None):
    return {"apiVersion": "fleet.cattle.io/v1alpha1", "kind": "ClusterGroup",
            "metadata": {"name": name, "namespace": WS, "labels": labels or {}},
            "spec": {"selector": {"matchLabels": match}}}


def cm_manifest(name, data, ns=None):
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data}


def bundle(name, targets, resources, **opts):
    spec = {"targets": targets,
            "resources": [{"name": f"r{i}.json", "content": json.dumps(r)} for i, r in enumerate(resources)]}
    spec.update(opts)
    return {"apiVersion": "fleet.cattle.io/v1alpha1", "kind": "Bundle",
            "metadata": {"name": name, "namespace": WS}, "spec": spec}


@pytest.fixture(scope="module")
def fleet(module_emulator):
    emu = module_emulator(fleet_sim=True)
    # CRDs and workspaces exist from the start
    for crd in ("bundles", "clusters", "clustergroups"):
        o = ok(emu.api("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}.fleet.cattle.io"))
        assert {c["type"]: c["status"] for c in o["status"]["conditions"]}["Established"] == "True"
    for ns in ("fleet-default", "fleet-local"):
        ok(emu.api("GET", f"/api/v1/namespaces/{ns}"))
    ok(emu.api("POST", fpath("clusters"), cluster("prod-1", {"env": "prod"},
                                                   {"fleet-sim/namespaces": "extra,monitoring"})), 201)
    ok(emu.api("POST", fpath("clusters"), cluster("prod-2", {"env": "prod"})), 201)
    ok(emu.api("POST", fpath("clusters"), cluster("staging-1", {"env": "staging"})), 201)
    ok(emu.api("POST", fpath("clusters"), cluster("sick-1", {"env": "prod", "fleet-sim/unhealthy": "true"})), 201)
    ok(emu.api("POST", fpath("clustergroups"), group("prod", {"env": "prod"}, {"tier": "critical"})), 201)
    ok(emu.api("POST", fpath("clustergroups"), group("staging", {"env": "staging"}, {"tier": "low"})), 201)
    return emu


def get_bundle(emu, name):
    return ok(emu.api("GET", fpath("bundles", name)))


def bundle_state(emu, name):
    return ok(emu.admin("GET", f"/emulator/v1/fleet/bundles/{WS}/{name}"))


def wait_summary(emu, name, desired, ready):
    def check():
        st = get_bundle(emu, name).get("status") or {}
        s = st.get("summary") or {}
        return (s.get("desiredReady") == desired and s.get("ready") == ready) and st
    return wait_for(check, 10, f"bundle {name} summary desiredReady={desired} ready={ready}")


def ready_condition(status):
    return next(c for c in status["conditions"] if c["type"] == "Ready")


def copy_of(emu, cluster_name, ns, name, plural="configmaps"):
    r = emu.api("GET", core(f"{cluster_name}--{ns}", plural, name))
    return r.json if r.status == 200 else None


def clusters_with_copy(emu, ns, name, plural="configmaps"):
    return sorted(c for c in ALL if copy_of(emu, c, ns, name, plural))


def test_cluster_name_target(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-name", [{"clusterName": "staging-1"}],
        [cm_manifest("app-config", {"mode": "staging"})], defaultNamespace="apps")), 201)
    st = wait_summary(fleet, "b-name", 1, 1)
    assert st["display"]["readyClusters"] == "1/1"
    cond = ready_condition(st)
    assert cond["status"] == "True"
    c = wait_for(lambda: copy_of(fleet, "staging-1", "apps", "app-config"), 10, "copy on staging-1")
    assert c["data"] == {"mode": "staging"}
    assert c["metadata"]["namespace"] == "staging-1--apps"
    assert clusters_with_copy(fleet, "apps", "app-config") == ["staging-1"]
    state = bundle_state(fleet, "b-name")
    assert "staging-1" in json.dumps(state) and "prod-1" not in json.dumps(state)


def test_cluster_selector_target_with_unhealthy_cluster(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-sel", [{"clusterSelector": {"matchLabels": {"env": "prod"}}}],
        [cm_manifest("sel-config", {"a": "1"})], defaultNamespace="web")), 201)
    st = wait_summary(fleet, "b-sel", 3, 2)
    assert st["display"]["readyClusters"] == "2/3"
    cond = ready_condition(st)
    assert cond["status"] == "False"
    assert "NotReady(1)" in cond["message"] and "fleet-default/sick-1" in cond["message"], cond
    assert st["summary"]["notReady"] == 1
    # the unhealthy cluster gets nothing delivered
    wait_for(lambda: clusters_with_copy(fleet, "web", "sel-config") == ["prod-1", "prod-2"],
             10, "copies on healthy prod clusters")
    state = bundle_state(fleet, "b-sel")["clusters"]
    assert {c: d["state"] for c, d in state.items()} == {"prod-1": "Ready", "prod-2": "Ready", "sick-1": "NotReady"}
    # kubectl shows the Bundle's printer columns from the status
    out = fleet.kubectl("get", "bundles", "-n", WS, "b-sel").stdout.splitlines()
    assert out[0].split()[:3] == ["NAME", "BUNDLEDEPLOYMENTS-READY", "STATUS"], out
    assert out[1].split()[:3] == ["b-sel", "2/3", "NotReady(1)"], out


def test_downstream_namespace_precedence(fleet):
    manifests = [cm_manifest("from-meta", {"x": "1"}, ns="monitoring"),  # metadata.namespace wins over default
                 cm_manifest("from-default", {"x": "2"})]               # -> defaultNamespace
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-prec", [{"clusterName": "prod-1"}], manifests, defaultNamespace="apps")), 201)
    wait_summary(fleet, "b-prec", 1, 1)
    assert wait_for(lambda: copy_of(fleet, "prod-1", "monitoring", "from-meta"), 10, "copy in monitoring")
    assert copy_of(fleet, "prod-1", "apps", "from-default")["data"] == {"x": "2"}
    assert copy_of(fleet, "prod-1", "apps", "from-meta") is None
    # `namespace` forces everything into one namespace, overriding metadata.namespace
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-force", [{"clusterName": "prod-2"}], [cm_manifest("forced-cm", {"y": "1"}, ns="monitoring")],
        namespace="pinned", defaultNamespace="apps")), 201)
    wait_summary(fleet, "b-force", 1, 1)
    assert wait_for(lambda: copy_of(fleet, "prod-2", "pinned", "forced-cm"), 10, "copy in pinned")
    # nothing specified at all -> "default"
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-dflt", [{"clusterName": "prod-2"}], [cm_manifest("dflt-cm", {"z": "1"})])), 201)
    wait_summary(fleet, "b-dflt", 1, 1)
    c = wait_for(lambda: copy_of(fleet, "prod-2", "default", "dflt-cm"), 10, "copy in default")
    assert c["metadata"]["labels"]["fleet.cattle.io/bundle-name"] == "b-dflt"
    assert c["metadata"]["labels"]["fleet.cattle.io/bundle-namespace"] == WS


def test_base64_gz_encoded_resource(fleet):
    content = base64.b64encode(gzip.compress(json.dumps(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gz-secret"},
         "data": {"token": b64("zipped")}}).encode())).decode()
    b = bundle("b-gz", [{"clusterName": "staging-1"}], [])
    b["spec"]["resources"] = [{"name": "secret.json", "content": content, "encoding": "base64+gz"},
                              {"name": "README.md", "content": "not a manifest"}]
    ok(fleet.api("POST", fpath("bundles"), b), 201)
    wait_summary(fleet, "b-gz", 1, 1)
    s = wait_for(lambda: copy_of(fleet, "staging-1", "default", "gz-secret", "secrets"), 10, "gz secret copy")
    assert unb64(s["data"]["token"]) == "zipped"


def test_cluster_group_target(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-group", [{"clusterGroup": "staging"}], [cm_manifest("grp-config", {"g": "staging"})])), 201)
    st = wait_summary(fleet, "b-group", 1, 1)
    assert st["display"]["readyClusters"] == "1/1"
    c = wait_for(lambda: copy_of(fleet, "staging-1", "default", "grp-config"), 10, "copy in default ns")
    assert c["data"] == {"g": "staging"}


def test_cluster_group_selector_target(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-gsel", [{"clusterGroupSelector": {"matchLabels": {"tier": "critical"}}}],
        [cm_manifest("gsel-config", {"x": "y"})], namespace="forced")), 201)
    st = wait_summary(fleet, "b-gsel", 3, 2)
    assert st["display"]["readyClusters"] == "2/3"
    # the `namespace` option forces every resource into that namespace
    wait_for(lambda: {"prod-1", "prod-2"} <= set(clusters_with_copy(fleet, "forced", "gsel-config")),
             10, "copies in forced namespace")
    assert copy_of(fleet, "staging-1", "forced", "gsel-config") is None


def test_cluster_group_plus_cluster_selector_refines(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-refine", [{"clusterGroup": "prod", "clusterSelector": {"matchExpressions": [
            {"key": "fleet-sim/unhealthy", "operator": "DoesNotExist"}]}}],
        [cm_manifest("refine-config", {"x": "y"})])), 201)
    st = wait_summary(fleet, "b-refine", 2, 2)
    assert st["display"]["readyClusters"] == "2/2"
    assert ready_condition(st)["status"] == "True"


def test_first_target_wins_and_do_not_deploy(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-first", [{"clusterName": "prod-2", "doNotDeploy": True},
                    {"clusterSelector": {"matchLabels": {"env": "prod"}}}],
        [cm_manifest("first-config", {"f": "1"})], defaultNamespace="first")), 201)
    st = wait_summary(fleet, "b-first", 2, 1)  # prod-1 ready, sick-1 not ready; prod-2 excluded
    assert st["display"]["readyClusters"] == "1/2"
    wait_for(lambda: copy_of(fleet, "prod-1", "first", "first-config"), 10, "copy on prod-1")
    assert copy_of(fleet, "prod-2", "first", "first-config") is None


def test_no_matching_cluster(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-none", [{"clusterSelector": {"matchLabels": {"env": "nowhere"}}}],
        [cm_manifest("none-config", {"n": "0"})])), 201)
    st = wait_summary(fleet, "b-none", 0, 0)
    assert st["display"]["readyClusters"] == "0/0"


def test_namespace_not_found_is_err_applied(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-ns", [{"clusterSelector": {"matchLabels": {"env": "prod"}}}],
        [cm_manifest("ns-config", {"x": "1"}, ns="extra")])), 201)
    # prod-1 lists "extra" in fleet-sim/namespaces; prod-2 does not; sick-1 is unhealthy anyway
    st = wait_summary(fleet, "b-ns", 3, 1)
    cond = ready_condition(st)
    assert cond["status"] == "False"
    assert 'ErrApplied(1) [Cluster fleet-default/prod-2: namespaces "extra" not found]' in cond["message"], cond
    nrr = {r["name"]: r for r in st["summary"]["nonReadyResources"]}
    # Fleet names each non-ready resource "<cluster namespace>/<cluster>"
    assert nrr["fleet-default/prod-2"]["bundleState"] == "ErrApplied"
    assert nrr["fleet-default/sick-1"]["bundleState"] == "NotReady"
    assert st["summary"]["errApplied"] == 1 and st["display"]["state"] == "ErrApplied"
    state = bundle_state(fleet, "b-ns")["clusters"]
    assert state["prod-1"]["state"] == "Ready"
    assert state["prod-2"]["state"] == "ErrApplied"
    assert state["prod-2"]["message"] == 'namespaces "extra" not found'
    assert state["sick-1"]["state"] == "NotReady"
    wait_for(lambda: copy_of(fleet, "prod-1", "extra", "ns-config"), 10, "copy on prod-1 in extra")
    assert copy_of(fleet, "prod-2", "extra", "ns-config") is None


def test_update_content_updates_copies(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-upd", [{"clusterName": "prod-1"}, {"clusterName": "prod-2"}],
        [cm_manifest("upd-config", {"v": "1"}),
         {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "upd-secret"}, "type": "Opaque",
          "data": {"pw": b64("one")}}], defaultNamespace="upd")), 201)
    wait_summary(fleet, "b-upd", 2, 2)
    wait_for(lambda: clusters_with_copy(fleet, "upd", "upd-config") == ["prod-1", "prod-2"], 10, "initial copies")
    assert unb64(copy_of(fleet, "prod-2", "upd", "upd-secret", "secrets")["data"]["pw"]) == "one"
    b = get_bundle(fleet, "b-upd")
    b["spec"]["resources"][0]["content"] = json.dumps(cm_manifest("upd-config", {"v": "2"}))
    b["spec"]["resources"][1]["content"] = json.dumps(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "upd-secret"}, "data": {"pw": b64("two")}})
    ok(fleet.api("PUT", fpath("bundles", "b-upd"), b))
    for c in ("prod-1", "prod-2"):
        wait_for(lambda: (copy_of(fleet, c, "upd", "upd-config") or {}).get("data") == {"v": "2"},
                 10, f"updated configmap on {c}")
        wait_for(lambda: unb64((copy_of(fleet, c, "upd", "upd-secret", "secrets") or {"data": {"pw": ""}})
                               ["data"]["pw"]) == "two", 10, f"updated secret on {c}")
    # Retarget: drop prod-2 => its copies are removed, prod-1's stay.
    ok(fleet.api("PATCH", fpath("bundles", "b-upd"), {"spec": {"targets": [{"clusterName": "prod-1"}]}}, MERGE))
    wait_summary(fleet, "b-upd", 1, 1)
    wait_for(lambda: clusters_with_copy(fleet, "upd", "upd-config") == ["prod-1"], 10, "copy removed from prod-2")
    wait_for(lambda: copy_of(fleet, "prod-2", "upd", "upd-secret", "secrets") is None, 10, "secret removed")


def test_resource_dropped_from_bundle_is_removed(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-drop", [{"clusterName": "prod-1"}],
        [cm_manifest("keep-me", {"k": "1"}), cm_manifest("drop-me", {"d": "1"})], defaultNamespace="drop")), 201)
    wait_for(lambda: copy_of(fleet, "prod-1", "drop", "drop-me"), 10, "drop-me copied")
    ok(fleet.api("PATCH", fpath("bundles", "b-drop"), {"spec": {"resources": [
        {"name": "r0.json", "content": json.dumps(cm_manifest("keep-me", {"k": "1"}))}]}}, MERGE))
    wait_for(lambda: copy_of(fleet, "prod-1", "drop", "drop-me") is None, 10, "drop-me removed")
    assert copy_of(fleet, "prod-1", "drop", "keep-me")


def test_bundle_delete_removes_copies(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-del", [{"clusterGroup": "staging"}, {"clusterName": "prod-1"}],
        [cm_manifest("del-config", {"d": "1"})], defaultNamespace="del")), 201)
    wait_for(lambda: clusters_with_copy(fleet, "del", "del-config") == ["prod-1", "staging-1"], 10, "copies")
    ok(fleet.api("DELETE", fpath("bundles", "b-del")), 200, 202)
    wait_for(lambda: clusters_with_copy(fleet, "del", "del-config") == [], 10, "copies removed")
    wait_for(lambda: fleet.api("GET", fpath("bundles", "b-del")).status == 404, 10, "bundle gone")


def test_keep_resources(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-keep", [{"clusterName": "prod-1"}, {"clusterName": "prod-2"}],
        [cm_manifest("keep-config", {"k": "v"})], defaultNamespace="keep", keepResources=True)), 201)
    wait_for(lambda: clusters_with_copy(fleet, "keep", "keep-config") == ["prod-1", "prod-2"], 10, "copies")
    # no longer targeting prod-2: with keepResources its copy stays
    ok(fleet.api("PATCH", fpath("bundles", "b-keep"), {"spec": {"targets": [{"clusterName": "prod-1"}]}}, MERGE))
    wait_summary(fleet, "b-keep", 1, 1)
    ok(fleet.api("DELETE", fpath("bundles", "b-keep")), 200, 202)
    wait_for(lambda: fleet.api("GET", fpath("bundles", "b-keep")).status == 404, 10, "bundle gone")
    assert clusters_with_copy(fleet, "keep", "keep-config") == ["prod-1", "prod-2"]


def test_cluster_label_change_retargets(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-relabel", [{"clusterSelector": {"matchLabels": {"env": "staging"}}}],
        [cm_manifest("relabel-config", {"r": "1"})], defaultNamespace="relabel")), 201)
    wait_summary(fleet, "b-relabel", 1, 1)
    ok(fleet.api("PATCH", fpath("clusters", "prod-2"), {"metadata": {"labels": {"env": "staging"}}}, MERGE))
    try:
        wait_summary(fleet, "b-relabel", 2, 2)
        wait_for(lambda: clusters_with_copy(fleet, "relabel", "relabel-config") == ["prod-2", "staging-1"],
                 10, "copy on relabelled cluster")
    finally:
        ok(fleet.api("PATCH", fpath("clusters", "prod-2"), {"metadata": {"labels": {"env": "prod"}}}, MERGE))
    wait_summary(fleet, "b-relabel", 1, 1)
    wait_for(lambda: clusters_with_copy(fleet, "relabel", "relabel-config") == ["staging-1"], 10, "copy removed")


def test_unhealthy_cluster_recovers(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-heal", [{"clusterName": "sick-1"}], [cm_manifest("heal-config", {"h": "1"})])), 201)
    st = wait_summary(fleet, "b-heal", 1, 0)
    assert ready_condition(st)["status"] == "False"
    ok(fleet.api("PATCH", fpath("clusters", "sick-1"), {"metadata": {"labels": {"fleet-sim/unhealthy": None}}}, MERGE))
    try:
        st = wait_summary(fleet, "b-heal", 1, 1)
        assert ready_condition(st)["status"] == "True"
    finally:
        ok(fleet.api("PATCH", fpath("clusters", "sick-1"),
                     {"metadata": {"labels": {"fleet-sim/unhealthy": "true"}}}, MERGE))
    wait_summary(fleet, "b-heal", 1, 0)




def test_fleet_debug_endpoints(fleet):
    ok(fleet.api("POST", fpath("bundles"), bundle(
        "b-debug", [{"clusterName": "staging-1"}], [cm_manifest("dbg", {"d": "1"})], defaultNamespace="dbg")), 201)
    wait_summary(fleet, "b-debug", 1, 1)
    allb = ok(fleet.admin("GET", "/emulator/v1/fleet/bundles"))
    names = {b["bundle"] for b in allb["bundles"]}
    assert f"{WS}/b-debug" in names
    one = bundle_state(fleet, "b-debug")
    assert list(one["clusters"]) == ["staging-1"]
    assert one["clusters"]["staging-1"]["state"] == "Ready"
    assert one["clusters"]["staging-1"]["namespaces"] == ["staging-1--dbg"]
    r = fleet.admin("GET", f"/emulator/v1/fleet/bundles/{WS}/no-such-bundle")
    assert r.status == 404
    # the bundle carries Fleet's finalizer while it exists
    assert "fleet.cattle.io/bundle-finalizer" in get_bundle(fleet, "b-debug")["metadata"]["finalizers"]


def test_yaml_multi_document_and_namespace_manifest(fleet):
    import yaml
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "made-by-bundle"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "yaml-cm", "namespace": "made-by-bundle"},
         "data": {"multi": "line one\nline two\n", "quoted": "yes", "num": "8080"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "yaml-secret", "namespace": "made-by-bundle"},
         "stringData": {"password": "p@ss: word"}},
    ]
    b = bundle("b-yaml", [{"clusterName": "prod-2"}], [])
    b["spec"]["resources"] = [{"name": "all.yaml", "content": yaml.safe_dump_all(docs, default_style=None)}]
    ok(fleet.api("POST", fpath("bundles"), b), 201)
    st = wait_summary(fleet, "b-yaml", 1, 1)
    assert ready_condition(st)["status"] == "True", st
    # prod-2 has no fleet-sim/namespaces annotation: the Namespace manifest of the bundle creates it
    c = wait_for(lambda: copy_of(fleet, "prod-2", "made-by-bundle", "yaml-cm"), 10, "yaml configmap copy")
    assert c["data"] == {"multi": "line one\nline two\n", "quoted": "yes", "num": "8080"}
    s = copy_of(fleet, "prod-2", "made-by-bundle", "yaml-secret", "secrets")
    assert unb64(s["data"]["password"]) == "p@ss: word" and "stringData" not in s
    ok(fleet.api("GET", "/api/v1/namespaces/prod-2--made-by-bundle"))


def test_unparsable_resource_is_err_applied(fleet):
    b = bundle("b-broken", [{"clusterName": "staging-1"}], [])
    b["spec"]["resources"] = [{"name": "bad.json", "content": "{\"apiVersion\": \"v1\", \"kind\": "}]
    ok(fleet.api("POST", fpath("bundles"), b), 201)
    st = wait_summary(fleet, "b-broken", 1, 0)
    assert st["summary"]["errApplied"] == 1
    assert bundle_state(fleet, "b-broken")["clusters"]["staging-1"]["state"] == "ErrApplied"


# --------------------------------------------------------------------------------------------
# Fleet's summary and matcher, exactly (rancher/fleet internal/cmd/controller/summary, target/matcher).
# These use fleet-local, so the fleet-default fixtures above stay as they are.

LOCAL = "fleet-local"


def local_obj(kind, name, labels=None, spec=None):
    return {"apiVersion": "fleet.cattle.io/v1alpha1", "kind": kind,
            "metadata": {"name": name, "namespace": LOCAL, "labels": labels or {}}, "spec": spec or {}}


@pytest.fixture(scope="module")
def local(fleet):
    for name, labels in (("alpha", {"env": "prod"}), ("beta", {"env": "prod"}), ("gamma", {"env": "lab"}),
                         ("lonely", {"env": "none"}), ("zsick", {"env": "prod", "fleet-sim/unhealthy": "true"})):
        ok(fleet.api("POST", fpath("clusters", ns=LOCAL), local_obj("Cluster", name, labels)), 201)
    # alpha and beta are in "prod" and in "all-prod"; lonely is in no group; "empty" has no selector
    ok(fleet.api("POST", fpath("clustergroups", ns=LOCAL), local_obj(
        "ClusterGroup", "prod", {"tier": "critical"}, {"selector": {"matchLabels": {"env": "prod"}}})), 201)
    ok(fleet.api("POST", fpath("clustergroups", ns=LOCAL), local_obj(
        "ClusterGroup", "all-prod", {"tier": "wide"}, {"selector": {"matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod"]}]}})), 201)
    ok(fleet.api("POST", fpath("clustergroups", ns=LOCAL), local_obj("ClusterGroup", "empty", {"tier": "wide"})),
       201)
    return fleet


def local_bundle(emu, name, targets, resources=None):
    b = bundle(name, targets, resources or [cm_manifest("c-" + name, {"a": "b"})])
    b["metadata"]["namespace"] = LOCAL
    ok(emu.api("POST", fpath("bundles", ns=LOCAL), b), 201)

    def status():
        st = ok(emu.api("GET", fpath("bundles", name, ns=LOCAL))).get("status") or {}
        return st if st.get("observedGeneration") and st.get("summary") else None
    return wait_for(status, 10, f"status of bundle {name}")


def local_targets(emu, name):
    return sorted(ok(emu.admin("GET", f"/emulator/v1/fleet/bundles/{LOCAL}/{name}"))["clusters"])


def test_bundle_matching_no_cluster_is_ready(local):
    st = local_bundle(local, "none", [{"clusterName": "no-such-cluster"}])
    assert st["summary"] == {"desiredReady": 0, "ready": 0}
    assert st["display"] == {"readyClusters": "0/0"}
    c = ready_condition(st)
    assert c["status"] == "True" and "message" not in c  # Ready = the ReadyMessage is empty


def test_ready_message_names_the_first_resource_per_state_sorted(local):
    st = local_bundle(local, "msg", [{"clusterSelector": {"matchLabels": {"env": "prod"}}}],
                      [cm_manifest("c-msg", {"a": "b"}, ns="nowhere")])
    assert st["summary"]["errApplied"] == 2 and st["summary"]["notReady"] == 1
    assert st["summary"]["nonReadyResources"] == [
        {"name": "fleet-local/alpha", "bundleState": "ErrApplied", "message": 'namespaces "nowhere" not found'},
        {"name": "fleet-local/beta", "bundleState": "ErrApplied", "message": 'namespaces "nowhere" not found'},
        {"name": "fleet-local/zsick", "bundleState": "NotReady"}]
    c = ready_condition(st)
    assert c["status"] == "False"
    assert c["message"] == ('ErrApplied(2) [Cluster fleet-local/alpha: namespaces "nowhere" not found]; '
                            'NotReady(1) [Cluster fleet-local/zsick]')
    assert st["display"] == {"readyClusters": "0/3", "state": "ErrApplied"}


def test_group_name_and_group_selector_must_hold_for_the_same_group(local):
    # alpha/beta are in "prod" (tier=critical) and in "all-prod" (tier=wide): no single group is
    # both named prod and labelled tier=wide
    local_bundle(local, "same-group", [{"clusterGroup": "prod", "clusterGroupSelector": {
        "matchLabels": {"tier": "wide"}}}, {"clusterName": "gamma"}])
    assert local_targets(local, "same-group") == ["gamma"]
    local_bundle(local, "same-group-2", [{"clusterGroup": "all-prod", "clusterGroupSelector": {
        "matchLabels": {"tier": "wide"}}}])
    assert local_targets(local, "same-group-2") == ["alpha", "beta", "zsick"]


def test_cluster_in_no_group_is_matched_with_empty_group_labels(local):
    # {} selects everything, also the empty labels of "no group"; a group without a selector has no members
    local_bundle(local, "any-group", [{"clusterGroupSelector": {}}])
    assert local_targets(local, "any-group") == ["alpha", "beta", "gamma", "lonely", "zsick"]
    local_bundle(local, "empty-group", [{"clusterGroup": "empty"}, {"clusterGroup": ""}])
    assert local_targets(local, "empty-group") == []
