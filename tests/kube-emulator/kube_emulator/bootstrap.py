"""Start-up material: a throw-away CA and a serving certificate made with the
`openssl` command (SAN IP:127.0.0.1, DNS:localhost), the server SSLContext,
and the kubeconfig file clients use unchanged.
"""
import base64
import os
import shutil
import ssl
import subprocess
import tempfile


class TLSMaterial:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kube-emulator-tls-")
        self.ca_crt = os.path.join(self.dir, "ca.crt")
        self.crt = os.path.join(self.dir, "server.crt")
        self.key = os.path.join(self.dir, "server.key")
        d = self.dir
        ext = os.path.join(d, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n")
        ca_key = os.path.join(d, "ca.key")
        csr = os.path.join(d, "server.csr")

        def run(*args):
            subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", ca_key, "-out", self.ca_crt, "-days", "3650", "-subj", "/CN=kube-emulator-ca",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", self.key, "-out", csr, "-subj", "/CN=kube-emulator")
        run("x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-out", self.crt, "-days", "3650", "-extfile", ext)

    def context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.crt, self.key)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def ca_pem(self):
        with open(self.ca_crt, "rb") as f:
            return f.read()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def write_kubeconfig(path, server_url, token, ca_pem=None, namespace="default"):
    lines = ["apiVersion: v1", "kind: Config", "clusters:", "- name: kube-emulator", "  cluster:",
             "    server: %s" % server_url]
    if ca_pem:
        lines.append("    certificate-authority-data: %s" % base64.b64encode(ca_pem).decode())
    lines += ["users:", "- name: kube-emulator-admin", "  user:", "    token: %s" % token,
              "contexts:", "- name: kube-emulator", "  context:", "    cluster: kube-emulator",
              "    user: kube-emulator-admin", "    namespace: %s" % namespace,
              "current-context: kube-emulator", "preferences: {}", ""]
    tmp = path + ".tmp"
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
