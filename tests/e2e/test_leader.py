"""Leader election (--leader-elect): two supervisors against one apiserver,
exactly one reconciles; kill -9 of the leader fails over within lease
duration + retry period (plus client-go's jitter); SIGTERM of the leader hands
the Lease over at once. Timings are measured and printed; a test fails on a
timing only as a deadline on the condition it waits for."""
import os
import signal
import subprocess
import time

import pytest

import harness
from harness import fh_manifest, secret_manifest, wait_for
from test_operator import synced

# short timings keep the suite fast; test_sigterm_hands_over_at_once uses the defaults
FAST = ("--leader-elect", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s",
        "--leader-elect-retry-period=1s")


def flag_seconds(args, flag):
    """The seconds of --flag=Ns in args."""
    [v] = [a.split("=", 1)[1] for a in args if a.startswith(flag + "=")]
    assert v.endswith("s"), v
    return float(v[:-1])


def failover_deadline(args):
    """client-go's worst case for a standby to take an abandoned Lease, counted from the kill:
    the standby may first see the leader's last renew up to one jittered retry period
    ((1 + JitterFactor 1.2) x retry) late, the lease duration runs from that sighting, and the
    first retry that finds it expired may come another 2.2 x retry after it; plus 2 s of
    slack for the processes and the emulator."""
    return (flag_seconds(args, "--leader-elect-lease-duration")
            + 4.4 * flag_seconds(args, "--leader-elect-retry-period") + 2.0)


def seconds_until(t0, deadline, pred, what):
    """Wait for pred() until t0 + deadline (monotonic); return the seconds from t0 it took."""
    wait_for(pred, max(0.0, t0 + deadline - time.monotonic()), f"{what} (deadline {deadline:.1f} s)",
             interval=0.02)
    return time.monotonic() - t0


def lease_path(ns, name="fleet-handshake-leader"):
    return f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}"


def identity(op):
    """The holderIdentity the supervisor logged at start."""
    for line in op.loglines():
        msg = line.get("message", "")
        if line.get("process") == "supervisor" and msg.startswith("leader election on lease "):
            return msg.split(" as ", 1)[1].split(":", 1)[0]
    return None


def said(op, text):
    return any(text in l.get("message", "") for l in op.loglines() if l.get("process") == "supervisor")


def tasks_sent(op):
    """Tasks in the supervisor's 'queue idle' lines (0 when it never dispatched)."""
    n = 0
    for l in op.loglines():
        msg = l.get("message", "")
        if l.get("process") == "supervisor" and msg.startswith("queue idle: "):
            n = int(msg.split()[2])
    return n


def create_fh(emu, name):
    emu.apply({"apiVersion": "v1", "kind": "List", "items": [
        secret_manifest(name, string_data={"v": name}), fh_manifest(name, name)]})


@pytest.fixture
def pair(emu, bin_dir):
    """Start supervisors; at the end stop those still running and expect a clean exit."""
    ops = []

    def start(extra, name):
        op = harness.Operator(emu, bin_dir, workers=2, extra=extra, name=name)
        ops.append(op)
        return op
    yield start
    for op in ops:
        if op.proc.poll() is None:
            rc = op.stop()
            assert rc == 0, f"{op.logpath} exited {rc}:\n{op.logtext()[-4000:]}"


def test_one_leader_reconciles_and_kill9_fails_over(emu, pair):
    args = FAST + ("--leader-elect-namespace=kube-system",)
    a, b = pair(args, "a"), pair(args, "b")
    a.wait_ready()
    b.wait_ready()
    ids = {identity(a): a, identity(b): b}
    assert None not in ids and len(ids) == 2
    lease = wait_for(lambda: (lambda l: l if l and l["spec"].get("holderIdentity") in ids else None)(
        emu.get(lease_path("kube-system"))), 15, "a leader in the Lease")
    leader = ids[lease["spec"]["holderIdentity"]]
    standby = b if leader is a else a
    wait_for(lambda: said(leader, "became leader"), 10, "leader log")
    wait_for(lambda: said(standby, "standby, leader is " + identity(leader)), 10, "standby log")

    create_fh(emu, "one")
    wait_for(lambda: synced(emu, "fleet-default", "one"), 30, "one synced")
    wait_for(lambda: tasks_sent(leader) > 0, 10, "the leader's queue idle line")
    assert tasks_sent(standby) == 0 and not said(standby, "became leader")
    assert standby.probe("/readyz")[0] == 200       # a standby is ready, and warm
    assert standby.probe("/healthz")[0] == 200
    assert "\nfleet_handshake_leader 0\n" in standby.probe("/metrics")[1]
    assert "\nfleet_handshake_leader 1\n" in leader.probe("/metrics")[1]

    # kill -9: the leader's children die with it, nobody releases the Lease
    deadline = failover_deadline(args)
    t0 = time.monotonic()
    leader.proc.kill()
    leader.proc.wait(10)
    create_fh(emu, "two")                           # pending work for the new leader

    def took_over():
        lease = emu.get(lease_path("kube-system"))
        return lease and lease["spec"].get("holderIdentity") == identity(standby) \
            and said(standby, "became leader")      # "became leader: dispatching N queued keys"
    took = seconds_until(t0, deadline, took_over, "the standby holds the Lease and reconciles")
    done = seconds_until(t0, deadline + 20, lambda: synced(emu, "fleet-default", "two"),
                         "two synced by the new leader")
    print(f"kill -9 failover: the standby held the Lease and was dispatching {took:.2f} s after the "
          f"kill (deadline {deadline:.1f} s = lease + 4.4 x retry + 2 s); the pending FleetHandshake "
          f"was synced after {done:.2f} s")
    spec = emu.get(lease_path("kube-system"))["spec"]
    assert spec["holderIdentity"] == identity(standby)
    assert spec["leaseTransitions"] >= 1
    wait_for(lambda: tasks_sent(standby) > 0, 10, "the new leader's queue idle line")
    assert synced(emu, "fleet-default", "one")      # still converged


def test_sigterm_hands_over_at_once(emu, pair):
    # default timings (lease 15 s, retry 2 s): a handover that waited for
    # expiry would take over 15 s; the released Lease is taken within a retry
    a = pair(("--leader-elect",), "a")
    wait_for(lambda: said(a, "became leader"), 15, "a leads")
    b = pair(("--leader-elect=true",), "b")
    b.wait_ready()
    wait_for(lambda: said(b, "standby, leader is " + identity(a)), 15, "b stands by")
    create_fh(emu, "before")
    wait_for(lambda: synced(emu, "fleet-default", "before"), 30, "synced by a")

    # a handover that waited for the Lease to expire would take the 15 s lease duration; the
    # released Lease is taken at b's next retry (2 s, jittered up to 1.2x), after a's drain
    deadline = 10.0
    t0 = time.monotonic()
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(10) == 0
    exited = time.monotonic() - t0
    # the Lease was released (or already taken by b, if it was that quick)
    spec = emu.get(lease_path("default"))["spec"]
    assert spec["holderIdentity"] in ("", identity(b)), spec
    if spec["holderIdentity"] == "":
        assert spec["leaseDurationSeconds"] == 1
    took = seconds_until(t0, deadline, lambda: emu.get(lease_path("default"))["spec"]["holderIdentity"]
                         == identity(b) and said(b, "became leader"), "b holds the Lease and reconciles")
    print(f"SIGTERM handover: a drained and exited {exited:.2f} s after SIGTERM, b held the Lease and "
          f"was dispatching after {took:.2f} s (deadline {deadline:.0f} s, lease duration 15 s)")
    # a drained its workers before it let the elector release the Lease
    lines = [l.get("message", "") for l in a.loglines() if l.get("process") == "supervisor"]
    release = next(i for i, m in enumerate(lines) if m.startswith("workers stopped; releasing"))
    assert all(i < release for i, m in enumerate(lines) if m.startswith("worker slot"))
    assert any(l.get("message") == "released lease" for l in a.loglines() if l.get("process") == "elector")
    create_fh(emu, "after")
    wait_for(lambda: synced(emu, "fleet-default", "after"), 30, "synced by b")


def test_lease_taken_over_stops_dispatching_and_is_not_a_crash(emu, pair):
    # Someone else writes itself into the Lease (another replica that judged
    # it expired, say): our leader must notice at its next renew, stop
    # dispatching, restart its elector as a standby without that counting
    # as a crash, and take the Lease back once the intruder lets it expire.
    a = pair(FAST + ("--leader-elect-namespace=kube-system",), "a")
    wait_for(lambda: said(a, "became leader"), 15, "a leads")
    me = identity(a)
    path = lease_path("kube-system")

    def intrude():
        """PUT the intruder over the Lease; a renew of ours in between is a 409: try again."""
        lease = emu.get(path)
        assert lease["spec"]["holderIdentity"] == me
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        lease["spec"].update(holderIdentity="intruder", acquireTime=now, renewTime=now,
                             leaseTransitions=lease["spec"].get("leaseTransitions", 0) + 1)
        st, body = emu.api("PUT", path, lease)
        assert st in (200, 409), body
        return st == 200

    wait_for(intrude, 15, "the intruder's Lease write")
    wait_for(lambda: said(a, "lost leadership"), 15, "a notices it lost the Lease")
    # the elector exited 75 and is back as a standby, nothing counts as a crash
    wait_for(lambda: said(a, "elector slot 0 exited (exit 75)"), 10, "the elector's exit")
    assert a.probe("/healthz")[0] == 200
    # work that arrives meanwhile is done once a leads again
    create_fh(emu, "during")
    wait_for(lambda: emu.get(path)["spec"]["holderIdentity"] == me, 20, "a takes the Lease back")
    wait_for(lambda: synced(emu, "fleet-default", "during"), 20, "during synced")
    msgs = [l.get("message", "") for l in a.loglines() if l.get("process") == "supervisor"]
    lost = next(i for i, m in enumerate(msgs) if m.startswith("lost leadership"))
    assert any(m.startswith("became leader") for m in msgs[lost + 1:])
    assert emu.get(path)["spec"]["leaseTransitions"] >= 2
    assert a.probe("/healthz")[0] == 200 and a.probe("/readyz")[0] == 200


def test_invalid_timing_exits_78(bin_dir):
    p = subprocess.run([os.path.join(bin_dir, "fh-supervisor"), "--leader-elect",
                        "--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=5s",
                        "--health-probe-bind-address=0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 78
    assert "--leader-elect-lease-duration" in p.stderr and "--leader-elect-renew-deadline" in p.stderr
    p = subprocess.run([os.path.join(bin_dir, "fh-supervisor"), "--leader-elect",
                        "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=2s",
                        "--health-probe-bind-address=0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 78
    assert "1.2 x" in p.stderr
