#!/usr/bin/python3
"""Throughput benchmark for the kube-emulator (loopback only, bounded, never asserts timings).

Starts its own emulator (HTTPS + bearer token, as the tests do), then measures:

  1. writes/s: POST of N Secrets over ONE keep-alive TLS connection;
  2. writes/s: the same with 4 client threads, each with its own keep-alive connection;
  3. watch fan-out: 10 concurrent watchers (one connection each) on a namespace while one writer
     POSTs N Secrets there; reports events delivered per second (sum over watchers) and the
     time until the last watcher saw the last object.

Each phase stops after N objects or --max-seconds, whichever comes first, and the table says which.
Usage: /usr/bin/python3 tests/kube-emulator/bench.py [--n 10000] [--max-seconds 120] [--watchers 10]
"""

import argparse
import base64
import http.client
import json
import os
import selectors
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EXE = os.path.join(HERE, "kube-emulator")


class Emu:
    def __init__(self, extra_args=()):
        self.tmp = tempfile.mkdtemp(prefix="kube-emu-bench-")
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        self.log = open(os.path.join(self.tmp, "emulator.log"), "wb")
        self.proc = subprocess.Popen([EXE, "--listen", "127.0.0.1:0", "--kubeconfig", self.kubeconfig,
                                      *extra_args],
                                     stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        line = self._ready_line(30)
        self.url = line.split()[1]
        self._config()

    def _ready_line(self, timeout):
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.proc.kill()
                sys.exit(f"emulator did not become ready (see {self.tmp}/emulator.log)")
            if sel.select(left):
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                buf += chunk
        sel.close()
        return buf.split(b"\n")[0].decode()

    def _config(self):
        import yaml
        with open(self.kubeconfig) as f:
            cfg = yaml.safe_load(f)
        self.token = cfg["users"][0]["user"]["token"]
        cl = cfg["clusters"][0]["cluster"]
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port
        ca = os.path.join(self.tmp, "ca.pem")
        with open(ca, "wb") as f:
            f.write(base64.b64decode(cl["certificate-authority-data"]))
        self.ctx = ssl.create_default_context(cafile=ca)

    def conn(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def headers(self):
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                "Accept": "application/json"}

    def request(self, conn, method, path, body=None):
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=self.headers())
        r = conn.getresponse()
        data = r.read()
        return r.status, data

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed"
        self.log.close()
        if rc == 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return rc


def secret(name, i):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": {"bench": "yes"}},
            "type": "Opaque", "data": {"value": base64.b64encode(f"value-{i}".encode()).decode()}}


def make_ns(emu, name):
    c = emu.conn()
    st, body = emu.request(c, "POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    c.close()
    if st != 201:
        sys.exit(f"namespace {name}: {st} {body[:200]!r}")


def writer(emu, ns, names, deadline, result):
    """POST secrets over one keep-alive connection; result = [done, errors]."""
    c = emu.conn()
    path = f"/api/v1/namespaces/{ns}/secrets"
    done = errors = 0
    for i, name in enumerate(names):
        if time.monotonic() > deadline:
            break
        st, _ = emu.request(c, "POST", path, secret(name, i))
        if st == 201:
            done += 1
        else:
            errors += 1
    c.close()
    result.extend([done, errors])


def phase_writes(emu, n, threads, max_seconds):
    ns = f"bench-w{threads}"
    make_ns(emu, ns)
    per = [[f"s-{t}-{i}" for i in range(t, n, threads)] for t in range(threads)]
    results = [[] for _ in range(threads)]
    t0 = time.monotonic()
    deadline = t0 + max_seconds
    ths = [threading.Thread(target=writer, args=(emu, ns, per[t], deadline, results[t])) for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    dt = time.monotonic() - t0
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return done, errors, dt


class Watcher(threading.Thread):
    def __init__(self, emu, ns, rv, expect, deadline):
        super().__init__(daemon=True)
        self.emu, self.ns, self.rv, self.expect, self.deadline = emu, ns, rv, expect, deadline
        self.count = 0
        self.last_at = None
        self.ready = threading.Event()
        self.error = None

    def run(self):
        try:
            c = self.emu.conn(timeout=max(5, self.deadline - time.monotonic() + 5))
            q = urllib.parse.urlencode({"watch": "true", "resourceVersion": self.rv,
                                        "timeoutSeconds": int(self.deadline - time.monotonic()) + 1})
            c.request("GET", f"/api/v1/namespaces/{self.ns}/secrets?{q}", headers=self.emu.headers())
            r = c.getresponse()
            if r.status != 200:
                self.error = f"watch status {r.status}"
                self.ready.set()
                return
            self.ready.set()
            while self.count < self.expect and time.monotonic() < self.deadline:
                line = r.readline()
                if not line:
                    break
                if line.startswith(b'{"type":"ADDED"') or b'"ADDED"' in line[:20]:
                    self.count += 1
                    self.last_at = time.monotonic()
            c.close()
        except Exception as e:  # reported in the table
            self.error = repr(e)
            self.ready.set()


def phase_watch(emu, n, n_watchers, max_seconds):
    ns = "bench-watch"
    make_ns(emu, ns)
    c = emu.conn()
    st, body = emu.request(c, "GET", f"/api/v1/namespaces/{ns}/secrets?limit=1")
    c.close()
    rv = json.loads(body)["metadata"]["resourceVersion"]
    t0 = time.monotonic()
    deadline = t0 + max_seconds
    ws = [Watcher(emu, ns, rv, n, deadline) for _ in range(n_watchers)]
    for w in ws:
        w.start()
    for w in ws:
        w.ready.wait(30)
    # The watches are registered once the emulator reports them (admin API), if it can say so.
    c = emu.conn()
    for _ in range(200):
        st, body = emu.request(c, "GET", "/emulator/v1/watches")
        if st != 200 or body.count(ns.encode()) >= n_watchers:
            break
        time.sleep(0.01)
    c.close()
    result = []
    tw = time.monotonic()
    writer(emu, ns, [f"w-{i}" for i in range(n)], deadline, result)
    write_dt = time.monotonic() - tw
    for w in ws:
        w.join(max(0.1, deadline - time.monotonic() + 5))
    delivered = sum(w.count for w in ws)
    last = max((w.last_at for w in ws if w.last_at), default=time.monotonic())
    dt = last - tw
    errors = [w.error for w in ws if w.error]
    complete = all(w.count == result[0] for w in ws)
    return dict(written=result[0], write_errors=result[1], write_dt=write_dt, delivered=delivered,
                dt=dt, complete=complete, errors=errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="objects per phase (default 10000)")
    ap.add_argument("--watchers", type=int, default=10)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=120.0, help="time cap per phase")
    args = ap.parse_args()
    if not os.access(EXE, os.X_OK):
        sys.exit(f"missing {EXE}")
    emu = Emu(extra_args=["--history", str(max(1000, args.n * 2))])
    rows = []
    try:
        done, err, dt = phase_writes(emu, args.n, 1, args.max_seconds)
        rows.append(("writes, 1 keep-alive TLS connection", f"{done} POST", dt, done / dt,
                     "" if done == args.n else "time cap hit", err))
        done, err, dt = phase_writes(emu, args.n, args.threads, args.max_seconds)
        rows.append((f"writes, {args.threads} threads/connections", f"{done} POST", dt, done / dt,
                     "" if done == args.n else "time cap hit", err))
        w = phase_watch(emu, args.n, args.watchers, args.max_seconds)
        rows.append(("writes during watch fan-out", f"{w['written']} POST", w["write_dt"],
                     w["written"] / w["write_dt"], "", w["write_errors"]))
        note = "all watchers complete" if w["complete"] else "INCOMPLETE"
        if w["errors"]:
            note += "; errors: " + "; ".join(w["errors"][:3])
        rows.append((f"watch events to {args.watchers} watchers", f"{w['delivered']} events", w["dt"],
                     w["delivered"] / w["dt"] if w["dt"] > 0 else 0.0, note, ""))
    finally:
        rc = emu.stop()
    print(f"kube-emulator bench: n={args.n}, loopback HTTPS, {os.cpu_count()} CPUs, "
          f"python {sys.version.split()[0]}; emulator exit status {rc}")
    print(f"{'phase':42} {'count':>14} {'seconds':>9} {'rate/s':>10}  {'errors':>6}  note")
    for name, cnt, dt, rate, note, err in rows:
        print(f"{name:42} {cnt:>14} {dt:9.2f} {rate:10.0f}  {str(err):>6}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
