"""Command line, start-up and shutdown contract of the kube-emulator executable."""

import base64
import re
import signal
import ssl
import subprocess

import pytest
import yaml

from conftest import EMULATOR_EXE, START_DEADLINE
from emu_helpers import assert_status, core, ok


def test_ready_line_and_kubeconfig(emulator):
    emu = emulator()
    assert re.match(r"^ready https://127\.0\.0\.1:\d+$", emu.ready_line), emu.ready_line
    assert emu.stdout_rest == b""  # exactly one line so far
    cfg = emu.kubeconfig_data
    assert cfg["apiVersion"] == "v1" and cfg["kind"] == "Config"
    ctx = next(c for c in cfg["contexts"] if c["name"] == cfg["current-context"])["context"]
    cluster = next(c for c in cfg["clusters"] if c["name"] == ctx["cluster"])["cluster"]
    assert cluster["server"] == emu.url
    pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert len(emu.token) >= 16
    # The serving certificate verifies against the CA for the IP in the URL.
    with emu.raw_socket() as s:
        assert s.version() in ("TLSv1.2", "TLSv1.3")
    # Without the CA the certificate is not trusted.
    with pytest.raises(ssl.SSLError):
        import socket
        raw = socket.create_connection((emu.host, emu.port), timeout=10)
        try:
            ssl.create_default_context().wrap_socket(raw, server_hostname=emu.host)
        finally:
            raw.close()


def test_fixed_token_version_minor_and_plain_http(emulator):
    emu = emulator(token="fixed-token-123", version_minor=27, plain_http=True)
    assert emu.url.startswith("http://")
    assert emu.token == "fixed-token-123"
    cluster = emu.kubeconfig_data["clusters"][0]["cluster"]
    assert "certificate-authority-data" not in cluster
    v = ok(emu.api("GET", "/version"))
    assert v["minor"] == "27" and v["gitVersion"].startswith("v1.27.")
    assert_status(emu.api("GET", "/api/v1/namespaces", token="other"), 401, "Unauthorized")
    ok(emu.api("GET", "/api/v1/namespaces", token="fixed-token-123"))
    # client-go never sends a bearer token over plain HTTP (kubernetes/kubectl#744), so in this mode
    # a request without Authorization is served (insecure-port semantics); kubectl works.
    ok(emu.api("GET", "/api/v1/namespaces", token=False))
    names = emu.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert "namespace/default" in names and "namespace/kube-system" in names


def test_two_emulators_are_independent(emulator):
    a = emulator()
    b = emulator()
    assert a.port != b.port and a.token != b.token
    ok(a.api("POST", core("default", "configmaps"), {"metadata": {"name": "only-in-a"}}), 201)
    assert b.api("GET", core("default", "configmaps", "only-in-a")).status == 404
    # a's token means nothing to b
    assert b.api("GET", core("default", "configmaps"), token=a.token).status == 401


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_exit_zero(emulator, sig):
    emu = emulator()
    ok(emu.api("GET", "/api/v1/namespaces"))
    emu.proc.send_signal(sig)
    assert emu.proc.wait(timeout=10) == 0
    assert emu.stop() == 0


def test_bad_listen_address_fails_fast(tmp_path):
    p = subprocess.run([EMULATOR_EXE, "--listen", "256.1.1.1:0", "--kubeconfig", str(tmp_path / "kc")],
                       capture_output=True, text=True, timeout=START_DEADLINE)
    assert p.returncode != 0
    assert "ready" not in p.stdout


def test_kubeconfig_usable_by_kubectl_and_default_namespace(emulator):
    emu = emulator()
    out = emu.kubectl("config", "view", "--minify", "-o", "yaml").stdout
    cfg = yaml.safe_load(out)
    assert cfg["clusters"][0]["cluster"]["server"] == emu.url
    emu.kubectl("create", "configmap", "via-kubectl", "--from-literal=a=b")
    # the context's namespace (or kubectl's default) is "default"
    ok(emu.api("GET", core("default", "configmaps", "via-kubectl")))
