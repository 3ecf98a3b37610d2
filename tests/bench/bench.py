#!/usr/bin/env python3
"""make bench: throughput, call budget, CPU, memory and latency at scale.

N FleetHandshakes, each with its own Secret, are created in the emulator
(with the Fleet simulation's CRDs but no clusters, so Fleet itself costs
nothing), then the operator is started and timed until every one is Synced.
Then 500 Secret changes are made one after another and the time from the
change to the Bundle carrying it (seen on a watch) is measured.

Prints a table; asserts nothing about timing. Bounded: loopback only, fixed
counts, every wait has a deadline.
"""
import argparse
import json
import os
import ssl
import statistics
import sys
import threading
import time
import http.client
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import harness  # noqa: E402
from harness import fh_manifest, secret_manifest, wait_for  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
BUILT_FROM = "fleethandshake.riverpointtechnology.com/built-from"


def proc_cpu(pid, children=False):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    t = int(fields[11]) + int(fields[12])          # utime + stime
    if children:
        t += int(fields[13]) + int(fields[14])     # reaped children
    return t / CLK


def proc_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def operator_cpu(op):
    total = proc_cpu(op.proc.pid, children=True)
    for pid, _ in op.children():
        try:
            total += proc_cpu(pid)
        except OSError:
            pass
    return total


def create_all(emu, n, threads=8):
    def one(i):
        for body, path in ((secret_manifest(f"s{i}", string_data={"v": f"{i}-0"}), "/api/v1/namespaces/default/secrets"),
                           (fh_manifest(f"f{i}", f"s{i}", targets=[{"clusterName": "none"}]),
                            "/apis/riverpointtechnology.com/v1alpha1/namespaces/fleet-default/fleethandshakes")):
            st, out = emu.api("POST", path, body)
            if st != 201:
                raise RuntimeError(f"create {path}: {st} {out}")
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(one, range(n)))


def count_synced(emu, n):
    st, lst = emu.api("GET", "/apis/riverpointtechnology.com/v1alpha1/namespaces/fleet-default/fleethandshakes")
    return sum(1 for o in lst["items"] if (o.get("status") or {}).get("status") == "Synced")


def idle_lines(op):
    return [l for l in op.loglines() if (l.get("message") or "").startswith("queue idle")]


class BundleWatch(threading.Thread):
    """Records when each Bundle first carries a given built-from annotation."""

    def __init__(self, emu, rv):
        super().__init__(daemon=True)
        self.emu, self.rv = emu, rv
        self.seen = {}
        self.lock = threading.Lock()
        self.stop = False

    def run(self):
        ctx = ssl.create_default_context(cadata=self.emu.ca.decode())
        c = http.client.HTTPSConnection(self.emu.host, self.emu.port, context=ctx, timeout=600)
        c.request("GET", f"/apis/fleet.cattle.io/v1alpha1/namespaces/fleet-default/bundles?watch=1"
                         f"&resourceVersion={self.rv}&timeoutSeconds=600",
                  headers={"Authorization": "Bearer " + self.emu.token})
        r = c.getresponse()
        buf = b""
        while not self.stop:
            try:
                chunk = r.read1(65536)
            except (http.client.HTTPException, OSError):
                break           # the emulator went away at the end of the run
            if not chunk:
                break
            now = time.monotonic()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                ev = json.loads(line)
                meta = ev["object"].get("metadata", {})
                bf = (meta.get("annotations") or {}).get(BUILT_FROM)
                if bf:
                    with self.lock:
                        self.seen.setdefault((meta["name"], bf.split("/")[3]), now)

    def when(self, name, secret_rv):
        with self.lock:
            return self.seen.get((name, secret_rv))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--changes", type=int, default=500)
    ap.add_argument("--workers", type=int, default=4)
    a = ap.parse_args()
    n = a.n
    emu = harness.Emulator(fleet_sim=True, extra=("--history", str(max(20000, 4 * n))))
    op = None
    try:
        emu.kubectl("apply", "-f", harness.CRD)
        emu.kubectl("wait", "--for=condition=established", "--timeout=30s",
                    "crd/fleethandshakes.riverpointtechnology.com")
        t = time.monotonic()
        create_all(emu, n)
        create_s = time.monotonic() - t
        print(f"created {n} Secrets + {n} FleetHandshakes in {create_s:.1f}s", flush=True)
        emu.reset_stats()

        t0 = time.monotonic()
        op = harness.Operator(emu, a.bin_dir, workers=a.workers, log_level="info")
        wait_for(lambda: idle_lines(op), max(120, n / 10), "initial sync", interval=0.2)
        wait_for(lambda: count_synced(emu, n) == n, 120, "all Synced", interval=1)
        sync_s = time.monotonic() - t0
        cpu_sync = operator_cpu(op)
        stats_sync = emu.stats()
        hwm = {}
        hwm["supervisor"] = proc_hwm_kib(op.proc.pid)
        for pid, name in op.children():
            key = name.replace("fh-", "")
            hwm.setdefault(key, [])
            hwm[key] = hwm[key] + [proc_hwm_kib(pid)] if isinstance(hwm[key], list) else [hwm[key]]

        # Secret change -> Bundle updated latency
        emu.reset_stats()
        list_rv = emu.api("GET", "/apis/fleet.cattle.io/v1alpha1/namespaces/fleet-default/bundles?limit=1")[1]["metadata"]["resourceVersion"]
        w = BundleWatch(emu, list_rv)
        w.start()
        lat = []
        cpu0 = operator_cpu(op)
        for i in range(a.changes):
            k = i % n
            st, s = emu.api("PATCH", f"/api/v1/namespaces/default/secrets/s{k}",
                            {"stringData": {"v": f"{k}-{i + 1}"}}, content_type="application/merge-patch+json")
            t_change = time.monotonic()
            rv = s["metadata"]["resourceVersion"]
            seen = wait_for(lambda: w.when(f"f{k}", rv), 30, f"bundle f{k} at secret rv {rv}", interval=0.001)
            lat.append((seen - t_change) * 1000)
        wait_for(lambda: len(idle_lines(op)) >= 2, 60, "queue idle after changes", interval=0.2)
        cpu_change = operator_cpu(op) - cpu0
        stats_change = emu.stats()
        w.stop = True
        rc = op.stop()
        op = None

        def per(stats, verb, res, sub=""):
            return emu.count(verb, res, sub, stats=stats)

        print()
        print(f"fleet-handshake benchmark: N={n}, workers={a.workers}, changes={a.changes}")
        print("-" * 72)
        print(f"{'initial sync: start -> all Synced':48s} {sync_s:10.2f} s")
        print(f"{'  FleetHandshakes synced per second':48s} {n / sync_s:10.0f}")
        print(f"{'  operator CPU (all processes)':48s} {cpu_sync:10.2f} s")
        print(f"{'  CPU per reconcile':48s} {cpu_sync / n * 1000:10.3f} ms")
        print("  apiserver requests per FleetHandshake (initial sync):")
        for verb, res, sub in (("get", "secrets", ""), ("create", "bundles", ""), ("patch", "bundles", ""),
                               ("patch", "fleethandshakes", "status"), ("list", "fleethandshakes", ""),
                               ("list", "secrets", ""), ("list", "bundles", ""), ("watch", "fleethandshakes", ""),
                               ("watch", "secrets", ""), ("watch", "bundles", "")):
            c = per(stats_sync, verb, res, sub)
            print(f"    {verb:6s} {res + ('/' + sub if sub else ''):28s} {c / n:10.3f}  ({c} total)")
        print(f"{'Secret change -> Bundle updated, p50':48s} {statistics.median(lat):10.1f} ms")
        print(f"{'Secret change -> Bundle updated, p99':48s} {pct(lat, 99):10.1f} ms")
        print(f"{'  operator CPU per change':48s} {cpu_change / a.changes * 1000:10.3f} ms")
        print("  apiserver requests per change:")
        for verb, res, sub in (("get", "secrets", ""), ("patch", "bundles", ""), ("patch", "fleethandshakes", "status")):
            c = per(stats_change, verb, res, sub)
            print(f"    {verb:6s} {res + ('/' + sub if sub else ''):28s} {c / a.changes:10.3f}  ({c} total)")
        print("peak RSS (VmHWM):")
        for k, v in hwm.items():
            vals = v if isinstance(v, list) else [v]
            print(f"    {k:12s} " + ", ".join(f"{x / 1024:.1f} MiB" for x in vals))
        print(f"operator exit code after SIGTERM: {rc}")
        return 0 if rc == 0 else 1
    finally:
        if op:
            op.stop()
        emu.close()


if __name__ == "__main__":
    sys.exit(main())
