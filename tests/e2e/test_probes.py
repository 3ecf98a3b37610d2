"""The health probes mean what they say: /readyz waits for the first lists,
/healthz stops answering when the supervisor's loop is stuck and fails when
a child crash-loops."""
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
