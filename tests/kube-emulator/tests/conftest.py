"""Shared fixtures for the kube-emulator test suites.

Run with /usr/bin/python3 (the Debian python that has `kubernetes` and `pytest`):

    /usr/bin/python3 -m pytest tests/kube-emulator/tests

Fixtures
--------
emulator            function-scoped factory: ``emu = emulator(fleet_sim=False, version_minor=32,
                    plain_http=False, extra_args=())`` starts a fresh emulator and stops it (SIGTERM,
                    exit code 0 asserted) at the end of the test.
module_emulator     the same factory, module-scoped (one emulator shared by a whole test module;
                    use it for tests that do not depend on global state such as stats or faults).
wait_for            ``wait_for(predicate, timeout=10, what="...")`` polls until predicate() is truthy
                    and returns its value, failing with ``what`` after the deadline.

An ``Emulator`` object exposes ``url``, ``host``, ``port``, ``token``, ``kubeconfig`` (path),
``ca_file``, ``kubectl(*args, check=True, input=None)``, ``api(method, path, body=None,
headers=None)``, ``open_stream(path)`` (for watches) and ``stop()``.
"""

import base64
import http.client
import json
import os
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EMU_DIR = os.path.dirname(HERE)
EMULATOR_EXE = os.environ.get("KUBE_EMULATOR", os.path.join(EMU_DIR, "kube-emulator"))
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
START_DEADLINE = 20.0  # seconds to wait for the "ready" line
STOP_DEADLINE = 10.0


def wait_for_impl(predicate, timeout=10.0, what="condition", interval=0.02):
    """Poll predicate() until it returns something truthy; return that value.

    Fails the test with ``what`` (and the last value/exception) after ``timeout`` seconds.
    Polling backs off from 20 ms to 200 ms so that fast conditions are seen quickly.
    """
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = predicate()
            last_exc = None
            if last:
                return last
        except AssertionError as e:  # let predicates use assert for diagnostics
            last_exc = e
        if time.monotonic() >= deadline:
            detail = f"last exception: {last_exc!r}" if last_exc else f"last value: {last!r}"
            pytest.fail(f"timed out after {timeout}s waiting for {what} ({detail})")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def _yaml_load(text):
    try:
        import yaml  # python3-yaml, a dependency of python3-kubernetes
        return yaml.safe_load(text)
    except ImportError:  # pragma: no cover - fallback: kubeconfig written as JSON
        return json.loads(text)


class Response:
    """Result of Emulator.api(): status, reason, headers (lower-case keys), raw body, parsed json,
    and header_list (every header line, repeated ones included)."""

    def __init__(self, status, reason, headers, body, header_list=()):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.header_list = list(header_list)

    @property
    def warnings(self):
        """The texts of the Warning headers (299 - "<text>"), unquoted."""
        out = []
        for k, v in self.header_list:
            if k.lower() == "warning":
                code, _, rest = v.partition(" - ")
                assert code == "299", v
                out.append(json.loads(rest))
        return out

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        b = self.body[:300]
        return f"<Response {self.status} {b!r}>"


class Stream:
    """An open streaming response (watch). Iterate lines with readline()/events()."""

    def __init__(self, conn, resp):
        self.conn = conn
        self.resp = resp
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}

    def readline(self):
        return self.resp.readline()

    def next_event(self):
        """Next decoded watch event, or None at end of stream."""
        line = self.resp.readline()
        if not line:
            return None
        return json.loads(line)

    def events(self, n):
        out = []
        for _ in range(n):
            ev = self.next_event()
            if ev is None:
                break
            out.append(ev)
        return out

    def read_all(self):
        """Read until the server ends the stream; return the list of events."""
        out = []
        while True:
            ev = self.next_event()
            if ev is None:
                return out
            out.append(ev)

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


class Emulator:
    def __init__(self, fleet_sim=False, version_minor=32, plain_http=False, extra_args=(),
                 token=None, history=None):
        if not os.access(EMULATOR_EXE, os.X_OK):
            pytest.fail(f"emulator executable missing: {EMULATOR_EXE}")
        self.tmp = tempfile.mkdtemp(prefix="kube-emu-test-")
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        self.home = os.path.join(self.tmp, "home")
        self.cachedir = os.path.join(self.tmp, "kubecache")
        os.makedirs(self.home)
        os.makedirs(self.cachedir)
        self.log_path = os.path.join(self.tmp, "emulator.log")
        args = [EMULATOR_EXE, "--listen", "127.0.0.1:0", "--kubeconfig", self.kubeconfig,
                "--version-minor", str(version_minor)]
        if fleet_sim:
            args.append("--fleet-sim")
        if plain_http:
            args.append("--plain-http")
        if token:
            args += ["--token", token]
        if history is not None:
            args += ["--history", str(history)]
        args += list(extra_args)
        self.args = args
        self.version_minor = version_minor
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL, cwd=self.tmp)
        self.stopped = False
        try:
            self.url = self._wait_ready()
            self._load_kubeconfig()
        except BaseException:
            self._kill()
            raise

    # ---- start-up -------------------------------------------------------------------------
    def _wait_ready(self):
        deadline = time.monotonic() + START_DEADLINE
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"emulator not ready within {START_DEADLINE}s; log:\n{self.log_tail()}")
                if not sel.select(timeout=left):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    rc = self.proc.wait(timeout=5)
                    pytest.fail(f"emulator exited ({rc}) before ready; log:\n{self.log_tail()}")
                buf += chunk
                if b"\n" in buf:
                    line, _, rest = buf.partition(b"\n")
                    self.ready_line = line.decode()
                    self.stdout_rest = rest
                    parts = self.ready_line.split()
                    assert len(parts) == 2 and parts[0] == "ready", f"bad ready line {line!r}"
                    return parts[1]
        finally:
            sel.close()

    def _load_kubeconfig(self):
        with open(self.kubeconfig) as f:
            cfg = _yaml_load(f.read())
        self.kubeconfig_data = cfg
        ctx_name = cfg["current-context"]
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        assert cluster["server"] == self.url, (cluster["server"], self.url)
        self.token = user["token"]
        self.admin_token = os.environ.get("KUBE_EMULATOR_ADMIN_TOKEN", self.token)
        u = urllib.parse.urlsplit(self.url)
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port
        self.ca_file = None
        self.ssl_context = None
        if self.scheme == "https":
            self.ca_file = os.path.join(self.tmp, "ca.pem")
            with open(self.ca_file, "wb") as f:
                f.write(base64.b64decode(cluster["certificate-authority-data"]))
            self.ssl_context = ssl.create_default_context(cafile=self.ca_file)

    # ---- helpers --------------------------------------------------------------------------
    def log_tail(self, n=4000):
        try:
            self._log.flush()
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def connection(self, timeout=30):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def raw_socket(self, timeout=30):
        """A connected (TLS-wrapped unless --plain-http) socket to the emulator."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.scheme == "https":
            s = self.ssl_context.wrap_socket(s, server_hostname=self.host)
        return s

    def _headers(self, headers, token, body_ct):
        h = {"Accept": "application/json"}
        if body_ct:
            h["Content-Type"] = body_ct
        if token is not False:
            h["Authorization"] = f"Bearer {self.token if token is None else token}"
        if headers:
            h.update(headers)
        return h

    @staticmethod
    def _encode(body, headers):
        if body is None:
            return None, None
        if isinstance(body, (bytes, str)):
            return (body.encode() if isinstance(body, str) else body), "application/json"
        return json.dumps(body).encode(), "application/json"

    def api(self, method, path, body=None, headers=None, token=None, timeout=30):
        """One HTTP request on a fresh connection. token=False sends no Authorization header."""
        data, ct = self._encode(body, headers)
        conn = self.connection(timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=self._headers(headers, token, ct))
            r = conn.getresponse()
            raw = r.read()
            return Response(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, raw, r.getheaders())
        finally:
            conn.close()

    def admin(self, method, path, body=None):
        return self.api(method, path, body=body, token=self.admin_token)

    def open_stream(self, path, headers=None, token=None, timeout=30):
        """Start a streaming GET (watch); returns a Stream (status/headers already read)."""
        conn = self.connection(timeout=timeout)
        conn.request("GET", path, headers=self._headers(headers, token, None))
        resp = conn.getresponse()
        return Stream(conn, resp)

    def kubectl(self, *args, check=True, input=None, timeout=90, env=None):
        """Run kubectl against this emulator with a private HOME and discovery cache."""
        e = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "KUBECACHEDIR": self.cachedir,
            "KUBECONFIG": self.kubeconfig,
            "LANG": "C.UTF-8",
        }
        if env:
            e.update(env)
        cmd = [KUBECTL, "--kubeconfig", self.kubeconfig] + [str(a) for a in args]
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, env=e,
                           timeout=timeout)
        if check and p.returncode != 0:
            pytest.fail(f"kubectl {' '.join(map(str, args))} failed ({p.returncode}):\n"
                        f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}\nemulator log:\n{self.log_tail(2000)}")
        return p

    # ---- shutdown -------------------------------------------------------------------------
    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def stop(self, check=True):
        """SIGTERM, wait, and (check=True) assert the emulator exited with status 0."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self._kill()
                if check:
                    pytest.fail(f"emulator did not exit within {STOP_DEADLINE}s of SIGTERM")
        rc = self.proc.returncode
        try:
            self.proc.stdout.close()
        except Exception:
            pass
        self._log.close()
        if check:
            assert rc == 0, f"emulator exit status {rc}; log:\n{self.log_tail()}"
        if rc == 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return rc


def _factory(request):
    started = []

    def start(**kw):
        emu = Emulator(**kw)
        started.append(emu)
        return emu

    yield start
    errors = []
    for emu in started:
        try:
            emu.stop()
        except BaseException as e:  # report all, raise the first
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def emulator(request):
    """Factory: emulator(fleet_sim=False, version_minor=32, plain_http=False, extra_args=())."""
    yield from _factory(request)


@pytest.fixture(scope="module")
def module_emulator(request):
    """Module-scoped factory, same signature as `emulator`."""
    yield from _factory(request)


@pytest.fixture
def wait_for():
    return wait_for_impl

