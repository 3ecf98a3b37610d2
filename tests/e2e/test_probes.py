"""The health probes mean what they say: /readyz waits for the first lists,
/healthz stops answering when the supervisor's loop is stuck and fails when
a child crash-loops; /metrics on the same port reports the work done."""
import http.client
import os
import signal
import socket
import tempfile

from harness import wait_for


def probe(op, path, timeout=5.0):
    """(status, body) of one GET; raises on a connection timeout."""
    c = http.client.HTTPConnection("127.0.0.1", op.health_port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def test_readyz_fails_until_first_lists_synced(emu, operator_factory):
    # the first FleetHandshake list takes 3 s
    st, _ = emu.api("POST", "/emulator/v1/latency", {"verb": "list", "resource": "fleethandshakes", "ms": 3000})
    assert st == 200
    op = operator_factory(workers=1)
    code, body = probe(op, "/readyz")
    assert code == 503, body
    assert "first lists" in body
    assert probe(op, "/healthz")[0] == 200          # live while not ready
    wait_for(lambda: probe(op, "/readyz")[0] == 200, 30, "ready after the slow list")
    assert any(l.get("message") == "initial lists synced" for l in op.loglines())


def test_healthz_does_not_answer_while_loop_is_stuck(emu, operator_factory):
    op = operator_factory(workers=1)
    op.wait_ready()
    assert probe(op, "/healthz")[0] == 200
    os.kill(op.proc.pid, signal.SIGSTOP)
    try:
        # the kernel still accepts the connection, but nobody answers it
        try:
            code, _ = probe(op, "/healthz", timeout=2.0)
        except (socket.timeout, TimeoutError):
            code = None
        assert code is None, f"a stopped supervisor answered /healthz with {code}"
    finally:
        os.kill(op.proc.pid, signal.SIGCONT)
    wait_for(lambda: probe(op, "/healthz")[0] == 200, 10, "healthz after SIGCONT")


def test_healthz_fails_when_workers_crash_loop(emu, operator_factory, bin_dir):
    with tempfile.TemporaryDirectory(prefix="fh-bin-") as d:
        os.symlink(os.path.join(bin_dir, "fh-watcher"), os.path.join(d, "fh-watcher"))
        fake = os.path.join(d, "fh-worker")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        os.chmod(fake, 0o755)
        op = operator_factory(workers=1, extra=("--bin-dir", d))
        assert probe(op, "/healthz")[0] == 200
        # 5 failures in a row with backoff 0.5, 1, 2, 4 s: about 8 s
        code, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(probe(op, "/healthz")),
                              20, "healthz reports the crash loop")
        assert "worker 0 is crash-looping" in body, body
        assert "exit 1" in body
        assert probe(op, "/readyz")[0] == 503


def metrics(op):
    """{sample name with labels: value} from /metrics."""
    code, body = probe(op, "/metrics")
    assert code == 200, body
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_metrics_report_reconciles_queue_and_processes(emu, operator_factory):
    from harness import fh_manifest, secret_manifest
    from test_operator import synced

    op = operator_factory(workers=2)
    op.wait_ready()
    m = metrics(op)
    assert m["fleet_handshake_ready"] == 1 and m["fleet_handshake_healthy"] == 1
    assert m["fleet_handshake_leader"] == 1
    assert m['fleet_handshake_process_up{process="watcher",slot="0"}'] == 1
    assert m['fleet_handshake_process_up{process="worker",slot="1"}'] == 1
    for i in range(3):
        emu.apply({"apiVersion": "v1", "kind": "List", "items": [
            secret_manifest(f"m{i}", string_data={"v": str(i)}), fh_manifest(f"m{i}", f"m{i}")]})
    wait_for(lambda: all(synced(emu, "fleet-default", f"m{i}") for i in range(3)), 30, "all synced")
    wait_for(lambda: metrics(op)["fleet_handshake_workqueue_inflight"] == 0, 10, "queue drained")
    m = metrics(op)
    assert m['fleet_handshake_reconcile_total{result="success"}'] >= 3
    assert m['fleet_handshake_reconcile_total{result="error"}'] == 0
    assert m["fleet_handshake_reconcile_duration_seconds_count"] >= 3
    assert m['fleet_handshake_cached_objects{resource="fleethandshakes"}'] == 3
    # the workers' own count of their calls is the apiserver's count
    reqs = [r for r in emu.stats()["requests"] if r.get("userAgent") == "fleet-handshake"]
    reads = sum(r["count"] for r in reqs if r["verb"] == "get")
    writes = sum(r["count"] for r in reqs if r["verb"] in ("create", "update", "patch", "delete"))
    assert m['fleet_handshake_reconcile_apiserver_requests_total{type="read"}'] == reads >= 3
    assert m['fleet_handshake_reconcile_apiserver_requests_total{type="write"}'] == writes >= 6
    # no Secret value, no object name in any label
    code, body = probe(op, "/metrics")
    assert "m0" not in body and "fleet-default" not in body
