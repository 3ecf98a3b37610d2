"""End-to-end behaviour of the operator against the emulator (with Fleet simulation).

Each test drives the operator the way a user does (kubectl) and checks what
lands in the Bundle, the FleetHandshake status and the simulated downstream
clusters, plus the apiserver call budget from the emulator's counters.
"""
import base64
import json
import os

import harness
from harness import (bundle_path, bundle_secret, condition, fh_manifest, fh_path,
                     secret_manifest, secret_path, wait_for)

SAMPLES = os.path.join(harness.ROOT, "config", "samples")


def synced(emu, ns, name, secret_rv=None):
    """The FleetHandshake reports Synced/Ready=True for its current generation."""
    fh = emu.get(fh_path(ns, name))
    if not fh:
        return None
    st = fh.get("status") or {}
    c = condition(fh)
    ok = (st.get("status") == "Synced" and c and c["status"] == "True"
          and st.get("observedGeneration") == fh["metadata"]["generation"])
    if ok and secret_rv is not None:
        ok = st.get("secretResourceVersion") == secret_rv
    return fh if ok else None


def downstream(emu, cluster, ns, name):
    return emu.get(secret_path(f"{cluster}--{ns}", name))


def test_original_samples_sync_and_deliver(emu, operator_factory):
    """The original operator's samples apply unchanged and produce a Bundle."""
    emu.apply(harness.cluster_manifest("test", {"managed": "rancher"}))
    emu.kubectl("apply", "-f", os.path.join(SAMPLES, "secret.yaml"))
    emu.kubectl("apply", "-f", os.path.join(SAMPLES, "fleethandshake.yaml"))
    op = operator_factory()
    op.wait_ready()
    for name in ("fleethandshake-sample", "fleethandshake-test-only"):
        fh = wait_for(lambda: synced(emu, "fleet-default", name), 30, f"{name} synced")
        b = emu.get(bundle_path("fleet-default", name))
        assert b["spec"]["resources"][0]["name"] == f"{name}.json"
        s = bundle_secret(b)
        assert s["metadata"] == {"name": name, "namespace": "test"}
        assert "fleet-handshake" in s["data"]
        assert fh["status"]["bundleName"] == name
    # the original's verification hint works: content is JSON, data is base64
    b = emu.get(bundle_path("fleet-default", "fleethandshake-sample"))
    assert base64.b64decode(bundle_secret(b)["data"]["fleet-handshake"]) == b"apply"
    # printer columns and short name
    out = emu.kubectl("get", "fhs", "-n", "fleet-default").stdout
    assert "SECRET" in out and "TARGET-NAMESPACE" in out and "READY" in out
    assert "Synced" in out


def test_first_sync_bundle_shape_status_and_call_budget(emu, operator_factory):
    emu.apply(secret_manifest("db", data={"password": b"s3cr3t-\x00\xff-binary", "user": b"app"}))
    op = operator_factory()
    op.wait_ready()
    emu.reset_stats()
    emu.apply(fh_manifest("db", "db"))
    fh = wait_for(lambda: synced(emu, "fleet-default", "db"), 30, "db synced")
    wait_for(lambda: emu.count("patch", "fleethandshakes", "status") >= 1, 10, "status write counted")
    st = emu.stats()
    assert emu.count("get", "secrets", stats=st) == 1
    assert emu.count("create", "bundles", stats=st) == 1
    assert emu.count("patch", "bundles", stats=st) + emu.count("update", "bundles", stats=st) == 0
    assert emu.count("patch", "fleethandshakes", "status", stats=st) == 1
    assert emu.count("update", "fleethandshakes", "status", stats=st) == 0

    b = emu.get(bundle_path("fleet-default", "db"))
    meta = b["metadata"]
    refs = meta["ownerReferences"]
    assert len(refs) == 1 and refs[0]["controller"] is True and refs[0]["kind"] == "FleetHandshake"
    assert refs[0]["uid"] == fh["metadata"]["uid"]
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "fleet-handshake"
    assert b["spec"]["defaultNamespace"] == "apps"
    assert b["spec"]["targets"] == [{"clusterSelector": {"matchLabels": {"env": "prod"}}}]
    s = bundle_secret(b)
    assert s["type"] == "Opaque"
    assert base64.b64decode(s["data"]["password"]) == b"s3cr3t-\x00\xff-binary"
    status = fh["status"]
    assert status["bundleName"] == "db"
    src = emu.get(secret_path("default", "db"))
    assert status["secretResourceVersion"] == src["metadata"]["resourceVersion"]
    assert status["lastSyncTime"].endswith("Z")
    # status never carries secret material
    blob = json.dumps(status)
    assert "s3cr3t" not in blob and src["data"]["password"] not in blob
    # delivered to both prod clusters, in a namespace that did not exist downstream
    for c in ("prod-1", "prod-2"):
        d = wait_for(lambda: downstream(emu, c, "apps", "db"), 30, f"copy on {c}")
        assert d["data"] == src["data"]
    assert downstream(emu, "staging-1", "apps", "db") is None
    # the operator logs never contain the secret, plain or base64
    text = op.logtext()
    assert "s3cr3t" not in text and src["data"]["password"] not in text


def test_secret_change_updates_bundle_with_budget(emu, operator_factory):
    emu.apply(secret_manifest("api", string_data={"token": "v1"}))
    emu.apply(fh_manifest("api", "api"))
    op = operator_factory()
    op.wait_ready()
    wait_for(lambda: synced(emu, "fleet-default", "api"), 30, "api synced")
    wait_for(lambda: downstream(emu, "prod-1", "apps", "api"), 30, "first copy")
    emu.reset_stats()
    emu.apply(secret_manifest("api", string_data={"token": "v2"}))
    rv = emu.get(secret_path("default", "api"))["metadata"]["resourceVersion"]
    wait_for(lambda: synced(emu, "fleet-default", "api", rv), 30, "api re-synced")
    b = emu.get(bundle_path("fleet-default", "api"))
    assert base64.b64decode(bundle_secret(b)["data"]["token"]) == b"v2"
    wait_for(lambda: (downstream(emu, "prod-2", "apps", "api") or {}).get("data", {}).get("token")
             == base64.b64encode(b"v2").decode(), 30, "v2 downstream")
    st = emu.stats()
    assert emu.count("get", "secrets", stats=st) == 1
    assert emu.count("patch", "bundles", stats=st) + emu.count("update", "bundles", stats=st) == 1
    assert emu.count("create", "bundles", stats=st) == 0
    assert emu.count("patch", "fleethandshakes", "status", stats=st) == 1


def test_spec_change_delete_and_missing_secret(emu, operator_factory):
    emu.apply(secret_manifest("s1", string_data={"k": "v"}))
    emu.apply(fh_manifest("f1", "s1"))
    op = operator_factory()
    op.wait_ready()
    wait_for(lambda: synced(emu, "fleet-default", "f1"), 30, "f1 synced")
    # spec change: retarget to staging and another target namespace
    emu.apply(fh_manifest("f1", "s1", target_ns="other",
                          targets=[{"clusterSelector": {"matchLabels": {"env": "staging"}}}]))
    wait_for(lambda: synced(emu, "fleet-default", "f1"), 30, "f1 follows spec")
    b = emu.get(bundle_path("fleet-default", "f1"))
    assert b["spec"]["targets"][0]["clusterSelector"]["matchLabels"] == {"env": "staging"}
    assert bundle_secret(b)["metadata"]["namespace"] == "other"
    wait_for(lambda: downstream(emu, "staging-1", "other", "s1"), 30, "copy on staging")
    wait_for(lambda: downstream(emu, "prod-1", "apps", "s1") is None, 30, "old copy removed")
    # secret deleted: Missing, SecretNotFound, bundle kept
    emu.kubectl("delete", "secret", "s1", "-n", "default")

    def missing():
        fh = emu.get(fh_path("fleet-default", "f1"))
        c = condition(fh)
        return fh["status"]["status"] == "Missing" and c["status"] == "False" and c["reason"] == "SecretNotFound"
    wait_for(missing, 30, "Missing status")
    assert emu.get(bundle_path("fleet-default", "f1")) is not None
    # secret comes back: Synced again
    emu.apply(secret_manifest("s1", string_data={"k": "v3"}))
    wait_for(lambda: synced(emu, "fleet-default", "f1"), 30, "re-synced after secret returns")
    # FleetHandshake deleted: Bundle deleted
    emu.kubectl("delete", "fleethandshake", "f1", "-n", "fleet-default")
    wait_for(lambda: emu.get(bundle_path("fleet-default", "f1")) is None, 30, "bundle deleted")


def test_foreign_bundle_is_never_overwritten(emu, operator_factory):
    foreign = {"apiVersion": "fleet.cattle.io/v1alpha1", "kind": "Bundle",
               "metadata": {"name": "taken", "namespace": "fleet-default",
                            "labels": {"fleet.cattle.io/repo-name": "gitrepo"}},
               "spec": {"resources": [{"name": "x.yaml", "content": "{}"}], "targets": []}}
    emu.apply(foreign)
    before = emu.get(bundle_path("fleet-default", "taken"))
    emu.apply(secret_manifest("taken", string_data={"a": "b"}))
    emu.apply(fh_manifest("taken", "taken"))
    op = operator_factory()
    op.wait_ready()

    def conflict():
        fh = emu.get(fh_path("fleet-default", "taken"))
        c = condition(fh)
        ok = c and c["status"] == "False" and c["reason"] == "BundleConflict" and fh["status"]["status"] == "Error"
        return fh if ok else None
    fh = wait_for(conflict, 30, "BundleConflict")
    assert "taken" in condition(fh)["message"]
    after = emu.get(bundle_path("fleet-default", "taken"))
    # untouched: same spec and generation (the Fleet simulation may still
    # write its status, so the resourceVersion is no proof), and the operator
    # sent it no write at all
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert "ownerReferences" not in after["metadata"]
    st = emu.stats()
    assert emu.count("patch", "bundles", stats=st) == 0
    assert emu.count("update", "bundles", stats=st) == 0
    # once the foreign Bundle is gone, ours is created. --wait=false: the
    # operator recreates a Bundle of the same name at once, and kubectl's
    # deletion wait (a GET, then a list+watch on metadata.name that never
    # compares UIDs) hangs when its list already sees our new Bundle; a real
    # apiserver gives kubectl the same race.
    emu.kubectl("delete", "bundle", "taken", "-n", "fleet-default", "--wait=false")
    # only our own Bundles are watched: a conflict is looked at again every
    # 30 s (growing with the backoff), or at once when the FleetHandshake changes
    wait_for(lambda: synced(emu, "fleet-default", "taken"), 45, "synced after conflict cleared")


def test_hand_edit_and_hand_delete_are_repaired(emu, operator_factory):
    emu.apply(secret_manifest("rep", string_data={"a": "1"}))
    emu.apply(fh_manifest("rep", "rep"))
    op = operator_factory()
    op.wait_ready()
    wait_for(lambda: synced(emu, "fleet-default", "rep"), 30, "rep synced")
    good = emu.get(bundle_path("fleet-default", "rep"))
    st, _ = emu.api("PATCH", bundle_path("fleet-default", "rep"),
                    {"spec": {"targets": [{"clusterName": "staging-1"}],
                              "resources": [{"name": "rep.json", "content": "{}"}]}},
                    content_type="application/merge-patch+json")
    assert st == 200

    def repaired():
        b = emu.get(bundle_path("fleet-default", "rep"))
        return b["spec"]["targets"] == good["spec"]["targets"] and \
            b["spec"]["resources"] == good["spec"]["resources"]
    wait_for(repaired, 30, "hand edit repaired")
    emu.api("DELETE", bundle_path("fleet-default", "rep"))
    wait_for(lambda: (emu.get(bundle_path("fleet-default", "rep")) or {}).get("spec", {}).get("resources")
             == good["spec"]["resources"], 30, "hand delete recreated")


def test_edit_while_operator_down_is_repaired_on_start(emu, operator_factory):
    emu.apply(secret_manifest("down", string_data={"a": "1"}))
    emu.apply(fh_manifest("down", "down"))
    op = operator_factory()
    op.wait_ready()
    fh = wait_for(lambda: synced(emu, "fleet-default", "down"), 30, "down synced")
    good = emu.get(bundle_path("fleet-default", "down"))
    assert fh["status"]["bundleGeneration"] == good["metadata"]["generation"]
    assert op.stop() == 0
    st, _ = emu.api("PATCH", bundle_path("fleet-default", "down"),
                    {"spec": {"targets": [{"clusterName": "staging-1"}]}},
                    content_type="application/merge-patch+json")
    assert st == 200
    op2 = operator_factory()
    op2.wait_ready()
    wait_for(lambda: emu.get(bundle_path("fleet-default", "down"))["spec"]["targets"] == good["spec"]["targets"],
             30, "edit made while down repaired")


def test_restart_makes_zero_writes(emu, operator_factory):
    for i in range(5):
        emu.apply(secret_manifest(f"r{i}", string_data={"n": str(i)}))
        emu.apply(fh_manifest(f"r{i}", f"r{i}"))
    op = operator_factory()
    op.wait_ready()
    for i in range(5):
        wait_for(lambda: synced(emu, "fleet-default", f"r{i}"), 30, f"r{i} synced")
    assert op.stop() == 0
    emu.reset_stats()
    op2 = operator_factory()
    op2.wait_ready()
    # readiness means the lists are synced and every key was handed out; wait
    # until the worker pool is idle (all tasks reported) before reading counters
    wait_for(lambda: any("queue idle" in (l.get("message") or "") for l in op2.loglines()), 30,
             "queue drained after restart")
    st = emu.stats()
    mine = [r for r in st["requests"] if r.get("userAgent") == "fleet-handshake"]
    assert any(r["verb"] == "list" for r in mine), "the restarted operator listed"
    writes = sum(r["count"] for r in mine
                 if r["verb"] in ("create", "update", "patch", "delete", "deletecollection"))
    reads = sum(r["count"] for r in mine if r["verb"] == "get")
    assert writes == 0, st
    assert reads == 0, st


def test_sigterm_drains_and_exits_zero(emu, operator_factory):
    op = operator_factory(workers=3)
    op.wait_ready()
    kids = op.children()
    assert sorted(n for _, n in kids) == ["fh-watcher", "fh-worker", "fh-worker", "fh-worker"]
    assert op.stop() == 0
    for pid, _ in kids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_health_probes(emu, operator_factory):
    op = operator_factory()
    st, body = op.probe("/healthz")
    assert st == 200
    op.wait_ready()
    assert op.probe("/readyz")[0] == 200
    assert op.probe("/nope")[0] == 404
