#!/usr/bin/env python3
"""make demo: the whole flow on one machine, narrated.

Starts the Kubernetes API emulator with the Fleet simulation and three
clusters (two env=prod, one env=staging), applies the CRD, a Secret and a
FleetHandshake with kubectl, runs the operator, shows the FleetHandshake
status, the Bundle and the downstream copies, changes the Secret and shows
the change arrive, then stops everything and exits 0.
"""
import argparse
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import bundle_path, fh_path, secret_path, wait_for  # noqa: E402


def say(text):
    print(f"\n\033[1m==> {text}\033[0m", flush=True)


# The demo's secret values: shown only masked, never in full, even in a demo.
SECRETS = ("first-password", "rotated-password")


def masked(text):
    """text with every demo secret value replaced by its first 3 characters and its length"""
    for v in SECRETS:
        text = text.replace(v, f"{v[:3]}***({len(v)} chars)")
    return text


def show(emu, *args):
    print(masked("$ kubectl " + " ".join(args)), flush=True)
    p = emu.kubectl(*args, check=False)
    print(masked((p.stdout + p.stderr).rstrip()), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    a = ap.parse_args()
    say("starting the Kubernetes API emulator with the Fleet simulation")
    emu = harness.Emulator(fleet_sim=True)
    op = None
    try:
        print(f"apiserver at {emu.url}; kubeconfig {emu.kubeconfig}")
        say("installing the FleetHandshake CRD and three Fleet clusters")
        show(emu, "apply", "-f", harness.CRD)
        emu.kubectl("wait", "--for=condition=established", "--timeout=30s",
                    "crd/fleethandshakes.riverpointtechnology.com")
        for name, env in (("prod-1", "prod"), ("prod-2", "prod"), ("staging-1", "staging")):
            emu.apply(harness.cluster_manifest(name, {"env": env}))
        show(emu, "get", "clusters.fleet.cattle.io", "-n", "fleet-default", "--show-labels")

        say("creating a Secret and a FleetHandshake that sends it to env=prod clusters")
        show(emu, "create", "secret", "generic", "db-credentials", "-n", "default",
             "--from-literal=username=app", "--from-literal=password=first-password")
        emu.apply(harness.fh_manifest("db-credentials", "db-credentials", target_ns="payments"))
        show(emu, "get", "fleethandshakes", "-n", "fleet-default")

        say("starting the operator (supervisor, watcher, 2 workers)")
        op = harness.Operator(emu, a.bin_dir, workers=2)
        op.wait_ready()
        print(f"/readyz: {op.probe('/readyz')}")
        wait_for(lambda: (emu.get(fh_path("fleet-default", "db-credentials")) or {})
                 .get("status", {}).get("status") == "Synced", 30, "Synced")
        show(emu, "get", "fleethandshakes", "-n", "fleet-default", "-o", "wide")
        show(emu, "get", "bundles.fleet.cattle.io", "-n", "fleet-default")
        say("the Bundle the operator wrote (its resource's content is the Secret, data elided here)")
        show(emu, "get", "bundle.fleet.cattle.io", "db-credentials", "-n", "fleet-default", "-o",
             "jsonpath={'labels:          '}{.metadata.labels}{'\\n'}"
             "{'ownerReferences: '}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"
             " controller={.metadata.ownerReferences[0].controller}{'\\n'}"
             "{'defaultNamespace: '}{.spec.defaultNamespace}{'\\n'}"
             "{'targets:         '}{.spec.targets}{'\\n'}"
             "{'resources:       '}{.spec.resources[*].name}{'\\n'}")

        say("downstream copies (the simulation materializes them as <cluster>--<namespace>)")
        for c in ("prod-1", "prod-2", "staging-1"):
            s = wait_for(lambda: emu.get(secret_path(f"{c}--payments", "db-credentials")), 30,
                         f"copy on {c}") if c != "staging-1" else emu.get(
                             secret_path(f"{c}--payments", "db-credentials"))
            pw = base64.b64decode(s["data"]["password"]).decode() if s else None
            print(f"  {c:10s} payments/db-credentials: "
                  f"{masked('password=' + pw) if s else 'not delivered (not targeted)'}")

        say("rotating the password in the source Secret")
        show(emu, "patch", "secret", "db-credentials", "-n", "default", "-p",
             '{"stringData":{"password":"rotated-password"}}')

        def rotated(c):
            s = emu.get(secret_path(f"{c}--payments", "db-credentials"))
            return s and base64.b64decode(s["data"]["password"]) == b"rotated-password"
        for c in ("prod-1", "prod-2"):
            wait_for(lambda: rotated(c), 30, f"rotation on {c}")
            print(f"  {c:10s} payments/db-credentials: {masked('password=rotated-password')}")
        show(emu, "describe", "fleethandshake", "db-credentials", "-n", "fleet-default")
        b = emu.get(bundle_path("fleet-default", "db-credentials"))
        print(f"Bundle status: {b.get('status', {}).get('display', {})}")

        say("stopping the operator (SIGTERM drains and exits 0)")
        rc = op.stop()
        op = None
        print(f"operator exit code: {rc}")
        if rc != 0:
            return 1
        say("demo finished")
        return 0
    finally:
        if op:
            op.stop()
        emu.close()


if __name__ == "__main__":
    sys.exit(main())
