"""Life-cycle corners of the operator, end to end against the emulator:
objects deleted while the watcher was away, --namespace limits, the
orphan deletion policy, deletion of the Bundle with preconditions, hand
edits of Bundle fields outside the Secret and targets, periodic resyncs and
spec changes on the call budget, and Secret types other than Opaque.
"""
import base64
import os
import signal

from harness import (bundle_path, bundle_secret, condition, fh_manifest, fh_path,
                     secret_manifest, wait_for)
from test_operator import downstream, synced
from test_probes import metrics


def said(op, text):
    return any(text in (l.get("message") or "") for l in op.loglines())


def operator_writes(emu, stats=None):
    st = stats or emu.stats()
    return {(r["verb"], r["resource"], r.get("subresource") or ""): r["count"]
            for r in st["requests"] if r.get("userAgent") == "fleet-handshake"
            and r["verb"] in ("get", "create", "update", "patch", "delete")}


def synced_one(emu, operator_factory, name, **op_kw):
    """A Secret and a FleetHandshake named name, the operator started, name Synced."""
    emu.apply(secret_manifest(name, string_data={"v": "1"}))
    emu.apply(fh_manifest(name, name))
    op = operator_factory(**op_kw)
    op.wait_ready()
    wait_for(lambda: synced(emu, "fleet-default", name), 30, f"{name} synced")
    return op


def test_deleted_while_the_watcher_was_away(emu, operator_factory):
    """A restarted watcher lists only what exists: what vanished meanwhile
    must still reach the FleetHandshakes (client-go's Replace semantics)."""
    for n in ("w1", "w2"):
        emu.apply(secret_manifest(n, string_data={"v": n}))
        emu.apply(fh_manifest(n, n))
    op = operator_factory()
    op.wait_ready()
    for n in ("w1", "w2"):
        wait_for(lambda: synced(emu, "fleet-default", n), 30, f"{n} synced")
    watcher = next(p for p, name in op.children() if name == "fh-watcher")
    # freeze the watcher, delete behind its back, then kill it
    os.kill(watcher, signal.SIGSTOP)
    emu.kubectl("delete", "secret", "w1", "-n", "default")
    emu.kubectl("delete", "fleethandshake", "w2", "-n", "fleet-default", "--wait=false")
    wait_for(lambda: emu.get(fh_path("fleet-default", "w2")) is None, 30, "w2 gone from the API")
    try:
        os.kill(watcher, signal.SIGKILL)
    except ProcessLookupError:
        pass    # the supervisor already killed it for its silence (a very slow machine)
    wait_for(lambda: [p for p, name in op.children() if name == "fh-watcher" and p != watcher],
             30, "a new watcher")
    op.wait_ready()

    def missing():
        fh = emu.get(fh_path("fleet-default", "w1"))
        c = condition(fh)
        return fh["status"]["status"] == "Missing" and c["reason"] == "SecretNotFound"
    wait_for(missing, 30, "w1 reports the Secret deleted while the watcher was away")
    # (the Secret count includes w2's downstream copies the Fleet simulation removed)
    wait_for(lambda: said(op, "Secrets deleted while the watcher was restarting"), 10,
             "the supervisor noticed the Secrets")
    wait_for(lambda: said(op, "1 FleetHandshakes deleted while the watcher was restarting"), 10,
             "the supervisor noticed the FleetHandshake")
    wait_for(lambda: emu.get(bundle_path("fleet-default", "w2")) is None, 30, "w2's Bundle removed")
    # the Bundle of w1 stays (Secret deleted -> Bundle kept, as the original does)
    assert emu.get(bundle_path("fleet-default", "w1")) is not None


def test_secret_outside_watched_namespaces_is_reported(emu, operator_factory):
    emu.apply(secret_manifest("far", string_data={"v": "1"}))          # in "default"
    emu.apply(fh_manifest("far", "far"))
    op = operator_factory(extra=("--namespace", "fleet-default"))
    op.wait_ready()
    emu.reset_stats()

    def reported():
        fh = emu.get(fh_path("fleet-default", "far"))
        c = condition(fh)
        return c if c and c["reason"] == "SecretNamespaceNotWatched" else None
    c = wait_for(reported, 30, "SecretNamespaceNotWatched")
    assert c["status"] == "False"
    assert "default" in c["message"] and "watchNamespaces" in c["message"]
    assert emu.get(fh_path("fleet-default", "far"))["status"]["status"] == "Error"
    assert emu.count("get", "secrets") == 0                 # never read what it cannot watch
    assert emu.get(bundle_path("fleet-default", "far")) is None
    assert op.stop() == 0
    # watching the Secret's namespace too: synced
    op2 = operator_factory(extra=("--namespace", "fleet-default", "--namespace", "default"))
    op2.wait_ready()
    wait_for(lambda: synced(emu, "fleet-default", "far"), 30, "synced once default is watched")


def test_bad_namespace_flag_is_refused(emu, bin_dir):
    import subprocess
    for bad in ("", "Not_A_Namespace", "-x"):
        p = subprocess.run([os.path.join(bin_dir, "fh-supervisor"), "--kubeconfig", emu.kubeconfig,
                            "--namespace", bad, "--health-probe-bind-address", "0"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 78, (bad, p.returncode, p.stderr[-500:])
        assert "--namespace" in p.stderr


def test_delete_with_orphan_policy_keeps_the_bundle(emu, operator_factory):
    op = synced_one(emu, operator_factory, "orph")
    wait_for(lambda: downstream(emu, "prod-1", "apps", "orph"), 30, "copy delivered")
    emu.reset_stats()
    done0 = metrics(op)['fleet_handshake_reconcile_total{result="success"}']
    emu.kubectl("delete", "fleethandshake", "orph", "-n", "fleet-default", "--cascade=orphan")
    wait_for(lambda: emu.get(fh_path("fleet-default", "orph")) is None, 30, "FleetHandshake gone")
    # the garbage collector orphans the Bundle (drops our ownerReference)
    wait_for(lambda: not (emu.get(bundle_path("fleet-default", "orph")) or {})
             .get("metadata", {}).get("ownerReferences"), 30, "Bundle orphaned")
    # the operator handled the deletion (a reconcile after it) and deleted nothing
    wait_for(lambda: metrics(op)['fleet_handshake_reconcile_total{result="success"}'] > done0, 10,
             "the deletion reconciled")
    wait_for(lambda: metrics(op)["fleet_handshake_workqueue_inflight"] == 0
             and metrics(op)["fleet_handshake_workqueue_depth"] == 0, 10, "queue drained")
    assert emu.count("delete", "bundles") == 0
    assert emu.get(bundle_path("fleet-default", "orph")) is not None
    assert downstream(emu, "prod-1", "apps", "orph") is not None


def test_delete_removes_only_our_bundle(emu, operator_factory):
    synced_one(emu, operator_factory, "gone")
    emu.reset_stats()
    emu.kubectl("delete", "fleethandshake", "gone", "-n", "fleet-default")
    wait_for(lambda: emu.get(bundle_path("fleet-default", "gone")) is None, 30, "Bundle deleted")
    wait_for(lambda: downstream(emu, "prod-1", "apps", "gone") is None, 30, "downstream copy removed")
    # whoever got there first (the operator or the garbage collector), the
    # operator never deleted twice and no delete failed otherwise than by a
    # lost race: a 409 means the garbage collector began deleting the Bundle
    # between the operator's read and its uid/resourceVersion-guarded delete;
    # the operator then reads it again and leaves it to the collector
    st = emu.stats()
    codes = {c: emu.count("delete", "bundles", stats=st, code=c) for c in (200, 202, 404, 409)}
    assert emu.count("delete", "bundles", stats=st) == sum(codes.values()), st["requests"]
    assert codes[200] + codes[202] <= 1 and codes[409] <= 1, codes


def test_hand_set_bundle_namespace_is_repaired(emu, operator_factory):
    """spec.namespace on a Bundle forces every resource into it: a hand edit
    that sets it (or pauses the Bundle) must not redirect the Secret."""
    synced_one(emu, operator_factory, "ns1")
    st, _ = emu.api("PATCH", bundle_path("fleet-default", "ns1"),
                    {"spec": {"namespace": "evil", "paused": True, "keepResources": True}},
                    content_type="application/merge-patch+json")
    assert st == 200

    def repaired():
        spec = emu.get(bundle_path("fleet-default", "ns1"))["spec"]
        return not spec.get("namespace") and not spec.get("paused") and not spec.get("keepResources")
    wait_for(repaired, 30, "forced namespace and pause removed")
    wait_for(lambda: downstream(emu, "prod-1", "apps", "ns1"), 30, "the copy is in apps")
    assert downstream(emu, "prod-1", "evil", "ns1") is None
    wait_for(lambda: synced(emu, "fleet-default", "ns1"), 30, "ns1 still synced")


def test_removed_managed_by_label_is_restored(emu, operator_factory):
    """Only labelled Bundles are watched: one whose label is removed by hand
    leaves the watch (DELETED), and the operator must still find and repair it."""
    synced_one(emu, operator_factory, "lbl")
    uid = emu.get(bundle_path("fleet-default", "lbl"))["metadata"]["uid"]
    st, _ = emu.api("PATCH", bundle_path("fleet-default", "lbl"),
                    {"metadata": {"labels": {"app.kubernetes.io/managed-by": None}}},
                    content_type="application/merge-patch+json")
    assert st == 200
    wait_for(lambda: (emu.get(bundle_path("fleet-default", "lbl"))["metadata"].get("labels") or {})
             .get("app.kubernetes.io/managed-by") == "fleet-handshake", 30, "label restored")
    assert emu.get(bundle_path("fleet-default", "lbl"))["metadata"]["uid"] == uid   # repaired, not replaced
    wait_for(lambda: synced(emu, "fleet-default", "lbl"), 30, "lbl still synced")


def test_periodic_resync_and_spec_change_budget(emu, operator_factory):
    for i in range(3):
        emu.apply(secret_manifest(f"rs{i}", string_data={"v": str(i)}))
        emu.apply(fh_manifest(f"rs{i}", f"rs{i}"))
    op = operator_factory(extra=("--resync-period", "1s"))
    op.wait_ready()
    for i in range(3):
        wait_for(lambda: synced(emu, "fleet-default", f"rs{i}"), 30, f"rs{i} synced")
    wait_for(lambda: said(op, "queue idle"), 30, "queue idle")
    emu.reset_stats()

    def said_count(prefix):
        return sum(1 for l in op.loglines() if (l.get("message") or "").startswith(prefix))

    def resyncs_then_idle(n):
        """n more periodic resyncs, then one more 'queue idle' line (the resync period
        is 1 s, so a later resync always brings one)."""
        r0 = said_count("periodic resync")
        wait_for(lambda: said_count("periodic resync") >= r0 + n, 30, f"{n} periodic resyncs")
        i0 = said_count("queue idle")
        wait_for(lambda: said_count("queue idle") > i0, 30, "queue idle after the resyncs")

    resyncs_then_idle(3)
    assert operator_writes(emu) == {}, "a resync with nothing changed makes no call at all"
    # a spec change: 1 Secret read (the Bundle is rebuilt), 1 Bundle patch, 1 status write
    emu.apply(fh_manifest("rs0", "rs0", targets=[{"clusterName": "staging-1"}]))
    wait_for(lambda: (synced(emu, "fleet-default", "rs0") or {}).get("metadata", {}).get("generation") == 2,
             30, "rs0 follows its spec")
    wait_for(lambda: emu.count("patch", "fleethandshakes", "status") >= 1, 10, "status write counted")
    # and the resyncs after it cost nothing either: the echo of the operator's own
    # Bundle write (its generation moved) does not make the next task re-read the Bundle
    resyncs_then_idle(2)
    assert operator_writes(emu) == {("get", "secrets", ""): 1, ("patch", "bundles", ""): 1,
                                    ("patch", "fleethandshakes", "status"): 1}
    assert emu.get(bundle_path("fleet-default", "rs0"))["spec"]["targets"] == [{"clusterName": "staging-1"}]


def test_secret_types_are_kept(emu, operator_factory):
    tls = secret_manifest("tls1", data={"tls.crt": b"-----BEGIN CERTIFICATE-----\nMIIB\n",
                                        "tls.key": b"-----BEGIN PRIVATE KEY-----\nMIIE\n"},
                          type_="kubernetes.io/tls")
    docker = secret_manifest("pull1", data={".dockerconfigjson": b'{"auths":{"r.example":{"auth":"eDp5"}}}'},
                             type_="kubernetes.io/dockerconfigjson")
    for s in (tls, docker):
        emu.apply(s)
        emu.apply(fh_manifest(s["metadata"]["name"], s["metadata"]["name"]))
    op = operator_factory()
    op.wait_ready()
    for s in (tls, docker):
        name = s["metadata"]["name"]
        wait_for(lambda: synced(emu, "fleet-default", name), 30, f"{name} synced")
        carried = bundle_secret(emu.get(bundle_path("fleet-default", name)))
        assert carried["type"] == s["type"]
        assert carried["data"] == s["data"]
        d = wait_for(lambda: downstream(emu, "prod-1", "apps", name), 30, f"{name} downstream")
        assert d["type"] == s["type"]
        assert base64.b64decode(d["data"][next(iter(s["data"]))]) == \
            base64.b64decode(s["data"][next(iter(s["data"]))])
