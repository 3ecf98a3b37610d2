"""Smoke test of the emulator core: start-up, kubeconfig, 401, CRUD, watch,
no-op writes, finalizers, protobuf create (kubectl create secret), YAML
subset reader. Uses the shared fixtures in conftest.py.
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kube_emulator.yamlsub import load_all  # noqa: E402

SECRETS = "/api/v1/namespaces/default/secrets"


def test_startup_kubeconfig_and_auth(emulator):
    emu = emulator()
    assert emu.url.startswith("https://127.0.0.1:")
    cfg = emu.kubeconfig_data
    assert cfg["contexts"][0]["context"]["namespace"] == "default"
    assert base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).startswith(b"-----BEGIN")
    r = emu.api("GET", SECRETS, token=False)
    assert r.status == 401 and r.json["reason"] == "Unauthorized"
    r = emu.api("GET", SECRETS, token="wrong")
    assert r.status == 401
    v = emu.api("GET", "/version").json
    assert v["major"] == "1" and v["minor"] == "32" and v["gitVersion"] == "v1.32.0"
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert emu.api("GET", "/api/v1/namespaces/" + ns).status == 200


def test_crud_noop_and_conflict(emulator):
    emu = emulator()
    r = emu.api("POST", SECRETS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"},
                                  "stringData": {"a": "b"}})
    assert r.status == 201, r
    s = r.json
    assert s["data"] == {"a": base64.b64encode(b"b").decode()} and "stringData" not in s
    assert s["type"] == "Opaque"
    # re-POSTing what the server returned fails on its resourceVersion first (etcd3 store.Create) ...
    assert emu.api("POST", SECRETS, s).status == 500
    # ... and without it on the name
    again = dict(s, metadata={k: v for k, v in s["metadata"].items() if k != "resourceVersion"})
    assert emu.api("POST", SECRETS, again).json["reason"] == "AlreadyExists"
    # no-op update keeps the resourceVersion
    r2 = emu.api("PUT", SECRETS + "/s1", s)
    assert r2.status == 200 and r2.json["metadata"]["resourceVersion"] == s["metadata"]["resourceVersion"]
    s["data"]["x"] = "eA=="
    r3 = emu.api("PUT", SECRETS + "/s1", s)
    assert r3.status == 200 and r3.json["metadata"]["resourceVersion"] != s["metadata"]["resourceVersion"]
    r4 = emu.api("PUT", SECRETS + "/s1", s)  # stale RV
    assert r4.status == 409 and r4.json["reason"] == "Conflict"
    r5 = emu.api("POST", "/api/v1/namespaces/nope/secrets", {"metadata": {"name": "x"}})
    assert r5.status == 404 and r5.json["details"]["kind"] == "namespaces"
    assert emu.api("DELETE", SECRETS + "/s1").json["status"] == "Success"
    assert emu.api("GET", SECRETS + "/s1").status == 404


def test_watch_and_finalizer(emulator):
    emu = emulator()
    lst = emu.api("GET", "/api/v1/namespaces/default/configmaps").json
    stream = emu.open_stream("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="
                             + lst["metadata"]["resourceVersion"])
    assert stream.status == 200
    emu.api("POST", "/api/v1/namespaces/default/configmaps",
            {"metadata": {"name": "c1", "finalizers": ["x/y"]}, "data": {"k": "v"}})
    ev = stream.next_event()
    assert ev["type"] == "ADDED" and ev["object"]["kind"] == "ConfigMap"
    d = emu.api("DELETE", "/api/v1/namespaces/default/configmaps/c1").json
    assert d["metadata"]["deletionTimestamp"]
    assert stream.next_event()["type"] == "MODIFIED"
    emu.api("PATCH", "/api/v1/namespaces/default/configmaps/c1", {"metadata": {"finalizers": None}},
            headers={"Content-Type": "application/merge-patch+json"})
    assert stream.next_event()["type"] == "DELETED"
    stream.close()


def test_kubectl_create_secret_protobuf(emulator):
    emu = emulator()
    emu.kubectl("create", "secret", "generic", "x", "--from-literal=a=b")
    s = emu.api("GET", SECRETS + "/x").json
    assert s["data"] == {"a": "Yg=="} and s["type"] == "Opaque"
    out = emu.kubectl("get", "secrets").stdout
    assert "NAME" in out and "TYPE" in out and "Opaque" in out


def test_yaml_subset():
    docs = load_all("a: 1\nb:\n- x\n- {c: d}\ntxt: |\n  hi\n---\n[1, 2]\n")
    assert docs == [{"a": 1, "b": ["x", {"c": "d"}], "txt": "hi\n"}, [1, 2]]
    assert json.dumps(load_all('{"k": "v"}')) == '[{"k": "v"}]'
