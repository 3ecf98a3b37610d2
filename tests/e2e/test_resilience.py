"""The operator converges through failures: killed workers, closed and
compacted watches, and an apiserver that fails a fifth of its requests."""
import os
import signal

import harness
from harness import bundle_path, bundle_secret, fh_manifest, secret_manifest, secret_path, wait_for
from test_operator import synced

N = 12


def create_many(emu, n=N, prefix="k"):
    docs = []
    for i in range(n):
        docs.append(secret_manifest(f"{prefix}{i}", string_data={"v": f"{prefix}{i}-0"}))
        docs.append(fh_manifest(f"{prefix}{i}", f"{prefix}{i}"))
    emu.apply({"apiVersion": "v1", "kind": "List", "items": docs})


def all_synced(emu, n=N, prefix="k", version=0):
    for i in range(n):
        fh = synced(emu, "fleet-default", f"{prefix}{i}")
        if not fh:
            return False
        b = emu.get(bundle_path("fleet-default", f"{prefix}{i}"))
        if not b:
            return False
        want = harness.base64.b64encode(f"{prefix}{i}-{version}".encode()).decode()
        if bundle_secret(b)["data"].get("v") != want:
            return False
        if fh["status"].get("secretResourceVersion") != \
                emu.get(secret_path("default", f"{prefix}{i}"))["metadata"]["resourceVersion"]:
            return False
    return True


def bump_all(emu, version, n=N, prefix="k"):
    emu.apply({"apiVersion": "v1", "kind": "List", "items": [
        secret_manifest(f"{prefix}{i}", string_data={"v": f"{prefix}{i}-{version}"}) for i in range(n)]})


def test_kill_worker_mid_sync_converges(emu, operator_factory):
    op = operator_factory(workers=2)
    op.wait_ready()
    # slow the apiserver down so workers are caught in the middle of tasks
    emu.api("POST", "/emulator/v1/latency", {"verb": None, "resource": "bundles", "ms": 150})
    create_many(emu)
    workers = wait_for(lambda: [p for p, n in op.children() if n == "fh-worker"], 10, "workers")
    wait_for(lambda: emu.count("create", "bundles") >= 1, 30, "first bundle write under way")
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    emu.api("POST", "/emulator/v1/latency", {"verb": None, "resource": "bundles", "ms": 0})
    wait_for(lambda: all_synced(emu), 90, "all synced after workers were killed")
    new = [p for p, n in op.children() if n == "fh-worker"]
    assert len(new) == 2 and not set(new) & set(workers)


def test_watch_closed_and_compacted_mid_sync_converges(emu, operator_factory):
    op = operator_factory(workers=2)
    op.wait_ready()
    create_many(emu)
    lists0 = sum(emu.count("list", r) for r in ("fleethandshakes", "secrets", "bundles"))
    # A certain 410: freeze the watcher, cut its watches, change everything and
    # drop the history; when it resumes from the resourceVersion it last saw,
    # that version is gone, so it must relist.
    watcher = next(p for p, n in op.children() if n == "fh-watcher")
    os.kill(watcher, signal.SIGSTOP)
    try:
        emu.api("POST", "/emulator/v1/watches/close", {"afterEvents": 0})
        bump_all(emu, 1)
        emu.api("POST", "/emulator/v1/compact", {})
    finally:
        os.kill(watcher, signal.SIGCONT)
    # and while it relists and the workers sync: cut the watches again mid-stream
    emu.api("POST", "/emulator/v1/compact", {})
    emu.api("POST", "/emulator/v1/watches/close", {"afterEvents": 3})
    wait_for(lambda: all_synced(emu, version=1), 90, "all synced after watch loss")
    assert sum(emu.count("list", r) for r in ("fleethandshakes", "secrets", "bundles")) > lists0
    assert any(l.get("process") == "watcher" and "relisting" in (l.get("message") or "")
               for l in op.loglines()), "the watcher never reported the 410 that forces a relist"
    # a change after the relist still arrives
    bump_all(emu, 2, n=3)
    wait_for(lambda: all_synced(emu, n=3, version=2), 60, "changes after relist")


def test_twenty_percent_faults_converge_nothing_lost(emu, operator_factory):
    op = operator_factory(workers=3)
    op.wait_ready()
    for code in (429, 500):
        st, _ = emu.api("POST", "/emulator/v1/faults",
                        {"verb": None, "resource": None, "group": None, "fraction": 0.1,
                         "code": code, "retryAfterSeconds": 1, "count": None,
                         "userAgent": "fleet-handshake"})
        assert st in (200, 201)
    create_many(emu, prefix="f")
    bump_all(emu, 1, prefix="f")
    wait_for(lambda: all_synced(emu, prefix="f", version=1), 180, "all synced under 20% faults")
    faults = emu.api("GET", "/emulator/v1/faults")[1]
    fired = sum(f["fired"] for f in faults["faults"])
    assert fired > 0, faults
    emu.api("DELETE", "/emulator/v1/faults")
