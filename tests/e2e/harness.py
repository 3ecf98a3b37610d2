"""Shared harness for end-to-end tests, the demo and the benchmark.

Starts the project's Kubernetes API emulator (tests/kube-emulator) and the
operator (fh-supervisor, which starts fh-watcher and fh-worker), and offers
kubectl, raw API access, the emulator's admin API and wait-with-deadline
helpers. Everything runs on loopback and is torn down by close().
"""
import base64
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EMULATOR = os.path.join(ROOT, "tests", "kube-emulator", "kube-emulator")
CRD = os.path.join(ROOT, "helm", "fleet-handshake", "crds",
                   "fleethandshakes.riverpointtechnology.com.yaml")
KUBECTL = "/usr/bin/kubectl"


def wait_for(pred, timeout=30.0, what="condition", interval=0.05):
    """Poll pred() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except Exception as e:  # a transient error is just "not yet"
            last = e
            if time.monotonic() > deadline:
                raise
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


class Emulator:
    """The Kubernetes API emulator as a child process."""

    def __init__(self, fleet_sim=True, version_minor=32, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="fh-e2e-")
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        args = [sys.executable if sys.executable.startswith("/usr/bin") else "/usr/bin/python3",
                EMULATOR, "--listen", "127.0.0.1:0", "--kubeconfig", self.kubeconfig,
                "--version-minor", str(version_minor)]
        if fleet_sim:
            args.append("--fleet-sim")
        args += list(extra)
        self.log = open(os.path.join(self.tmp, "emulator.log"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self._read_ready(30)
        self.url = line.split()[1]
        u = urllib.parse.urlparse(self.url)
        self.host, self.port = u.hostname, u.port
        cfg = self._kubeconfig_fields()
        self.token = cfg["token"]
        self.ca = cfg["ca"]
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        self._local = threading.local()

    def _read_ready(self, timeout):
        result = {}

        def reader():
            result["line"] = self.proc.stdout.readline()
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(timeout)
        line = result.get("line", "")
        if not line.startswith("ready "):
            self.close()
            raise RuntimeError(f"emulator did not start: {line!r}")
        return line.strip()

    def _kubeconfig_fields(self):
        # The emulator writes JSON-compatible YAML or plain YAML; parse the two fields we need.
        import yaml  # python3-yaml is installed by scripts/install-deps.sh
        with open(self.kubeconfig) as f:
            cfg = yaml.safe_load(f)
        user = cfg["users"][0]["user"]
        cluster = cfg["clusters"][0]["cluster"]
        ca = base64.b64decode(cluster["certificate-authority-data"]) if "certificate-authority-data" in cluster else None
        return {"token": user["token"], "ca": ca}

    # --- raw API ---------------------------------------------------------
    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            if self.url.startswith("https"):
                ctx = ssl.create_default_context(cadata=self.ca.decode())
                c = http.client.HTTPSConnection(self.host, self.port, context=ctx, timeout=60)
            else:
                c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self._local.conn = c
        return c

    def api(self, method, path, body=None, content_type="application/json", accept="application/json"):
        """One request; returns (status, parsed JSON or text)."""
        headers = {"Authorization": "Bearer " + self.token, "Accept": accept}
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = content_type
        for attempt in range(2):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                self._local.conn = None
                if attempt:
                    raise
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, raw.decode(errors="replace")

    def get(self, path):
        st, obj = self.api("GET", path)
        return obj if st == 200 else None

    def stats(self):
        st, obj = self.api("GET", "/emulator/v1/stats")
        assert st == 200, obj
        return obj

    def reset_stats(self):
        self.api("DELETE", "/emulator/v1/stats")

    def count(self, verb, resource, subresource="", code=None, stats=None, agent="fleet-handshake"):
        """Requests the operator (User-Agent fleet-handshake/...) made for verb/resource(/subresource)."""
        stats = stats or self.stats()
        n = 0
        for r in stats["requests"]:
            if agent is not None and r.get("userAgent") != agent:
                continue
            if r["verb"] == verb and r["resource"] == resource and (r.get("subresource") or "") == subresource:
                if code is None or r["code"] == code:
                    n += r["count"]
        return n

    # --- kubectl ---------------------------------------------------------
    def kubectl(self, *args, input=None, check=True, timeout=120):
        env = dict(os.environ, HOME=self.home, KUBECACHEDIR=os.path.join(self.home, "cache"))
        p = subprocess.run([KUBECTL, "--kubeconfig", self.kubeconfig, *args], input=input,
                           capture_output=True, text=True, timeout=timeout, env=env)
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {p.stderr}{p.stdout}")
        return p

    def apply(self, manifest):
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return self.kubectl("apply", "-f", "-", input=text)

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Operator:
    """fh-supervisor (and, through it, fh-watcher and fh-worker)."""

    def __init__(self, emu, bin_dir, workers=2, extra=(), log_level="info", name="op", kubeconfig=None):
        self.emu = emu
        self.bin_dir = bin_dir
        self.logpath = os.path.join(emu.tmp, f"{name}.log")
        self.log = open(self.logpath, "w")
        self.health_port = None
        # kubeconfig: the operator's credentials (default: the emulator's admin kubeconfig)
        args = [os.path.join(bin_dir, "fh-supervisor"), "--kubeconfig", kubeconfig or emu.kubeconfig,
                "--workers", str(workers), "--health-probe-bind-address", "127.0.0.1:0",
                "--log-level", log_level, *extra]
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=86")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        self.health_port = wait_for(self._find_health_port, 30, "supervisor health port")

    def _find_health_port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"supervisor exited {self.proc.returncode}: {self.logtext()[-3000:]}")
        for line in self.loglines():
            if line.get("health_port"):
                return int(line["health_port"])
            msg = line.get("message", "")
            m = re.match(r"health probes and metrics on \S+ \(port (\d+)\)", msg)
            if m:
                return int(m.group(1))
        return None

    def logtext(self):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def loglines(self):
        out = []
        for l in self.logtext().splitlines():
            try:
                out.append(json.loads(l))
            except ValueError:
                out.append({"raw": l})
        return out

    def probe(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.health_port, timeout=5)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def wait_ready(self, timeout=60):
        wait_for(lambda: self.probe("/readyz")[0] == 200, timeout, "operator /readyz")

    def children(self):
        """pids of the supervisor's children (from /proc)."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                out.append((int(pid), os.path.basename(cmd[0].decode())))
        return out

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.flush()
        return self.proc.returncode


def secret_manifest(name, ns="default", data=None, string_data=None, type_="Opaque"):
    m = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "type": type_}
    if data is not None:
        m["data"] = {k: base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode()
                     for k, v in data.items()}
    if string_data is not None:
        m["stringData"] = string_data
    return m


def fh_manifest(name, secret, ns="fleet-default", secret_ns="default", target_ns="apps", targets=None):
    return {"apiVersion": "riverpointtechnology.com/v1alpha1", "kind": "FleetHandshake",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"secretName": secret, "secretNamespace": secret_ns, "targetNamespace": target_ns,
                     "targets": targets if targets is not None else [{"clusterSelector": {"matchLabels": {"env": "prod"}}}]}}


def cluster_manifest(name, labels, ns="fleet-default", annotations=None):
    return {"apiVersion": "fleet.cattle.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": annotations or {}},
            "spec": {}}


def fh_path(ns, name, sub=""):
    return f"/apis/riverpointtechnology.com/v1alpha1/namespaces/{ns}/fleethandshakes/{name}{sub}"


def bundle_path(ns, name=""):
    return f"/apis/fleet.cattle.io/v1alpha1/namespaces/{ns}/bundles" + (f"/{name}" if name else "")


def secret_path(ns, name=""):
    return f"/api/v1/namespaces/{ns}/secrets" + (f"/{name}" if name else "")


def condition(obj, type_="Ready"):
    for c in (obj or {}).get("status", {}).get("conditions", []) or []:
        if c.get("type") == type_:
            return c
    return None


def bundle_secret(bundle):
    """The downstream Secret manifest carried by our Bundle."""
    res = bundle["spec"]["resources"][0]
    return json.loads(res["content"])
