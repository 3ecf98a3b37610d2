"""Command line and process lifecycle: parse flags, build TLS material and
the Emulator, bind, write the kubeconfig, print `ready URL`, serve until
SIGTERM/SIGINT, clean up, exit 0.
"""
import argparse
import signal
import sys
import threading

from .bootstrap import TLSMaterial, write_kubeconfig
from .server import Emulator, Server
from .util import random_token


def parse_args(argv):
    p = argparse.ArgumentParser(prog="kube-emulator", description="In-memory Kubernetes API server for tests")
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to bind (default 127.0.0.1:0)")
    p.add_argument("--kubeconfig", help="write a kubeconfig for this server to PATH")
    p.add_argument("--token", help="bearer token (cluster-admin); default random")
    p.add_argument("--fleet-sim", action="store_true", help="install Fleet CRDs and simulate Fleet")
    p.add_argument("--version-minor", type=int, default=32, help="minor version reported by /version")
    p.add_argument("--plain-http", action="store_true", help="serve HTTP instead of HTTPS")
    p.add_argument("--history", type=int, default=10000, help="watch history window (events)")
    p.add_argument("--bookmark-interval", type=float, default=60.0, metavar="SECONDS",
                   help="how often watches with allowWatchBookmarks get a BOOKMARK (default 60, like the cacher)")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    p.add_argument("--enable-admission-plugins", default="",
                   help="comma-separated admission plugins; supported: OwnerReferencesPermissionEnforcement")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    token = args.token or random_token()
    admission = [x.strip() for x in args.enable_admission_plugins.split(",") if x.strip()]
    if args.bookmark_interval <= 0:
        sys.stderr.write("kube-emulator: --bookmark-interval must be positive\n")
        return 2
    from .rbac import ADMISSION_PLUGINS
    unknown = [x for x in admission if x not in ADMISSION_PLUGINS]
    if unknown:
        sys.stderr.write('kube-emulator: enable-admission-plugins plugin "%s" is unknown\n' % unknown[0])
        return 2
    tls = None if args.plain_http else TLSMaterial()
    try:
        emu = Emulator(version_minor=args.version_minor, history=args.history, tokens={token: "admin"},
                       verbose=args.verbose, admission=admission, bookmark_interval=args.bookmark_interval)
        if args.plain_http:
            emu.anonymous_user = "admin"  # kubectl sends no token over http (see Emulator.anonymous_user)
        if args.fleet_sim:
            from .fleet_sim import FleetSim
            emu.fleet = FleetSim(emu.api)
            emu.fleet.install()
        srv = Server((host, int(port or 0)), emu, tls.context() if tls else None)
        real_port = srv.server_address[1]
        url_host = "127.0.0.1" if host in ("0.0.0.0", "127.0.0.1", "") else host
        scheme = "http" if args.plain_http else "https"
        url = "%s://%s:%d" % (scheme, url_host, real_port)
        emu.server_address = "%s:%d" % (url_host, real_port)
        if args.kubeconfig:
            write_kubeconfig(args.kubeconfig, url, token, tls.ca_pem() if tls else None)
        emu.start_controllers()
        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        t.start()
        sys.stdout.write("ready %s\n" % url)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
        srv.shutdown()
        srv.server_close()
    finally:
        if tls:
            tls.cleanup()
    return 0
