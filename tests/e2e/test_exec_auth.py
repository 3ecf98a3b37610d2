"""The operator authenticates through a kubeconfig exec credential plugin
(client.authentication.k8s.io/v1), as `make run` does against EKS, GKE or an
OIDC login: the plugin runs once per process, not per request; a 401 makes
it run again and the operator picks up the new token; a failing plugin is
reported with its own words and the operator does not become ready."""
import os
import stat

import yaml

from harness import fh_manifest, secret_manifest, wait_for
from test_operator import synced

PLUGIN = """#!/bin/sh
echo run >> '{runs}'
if [ -f '{fail}' ]; then cat '{fail}' >&2; exit 1; fi
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}}}' "$(cat '{token}')"
"""


class Plugin:
    """A plugin script that prints the token in a file; counts its runs."""

    def __init__(self, emu, token):
        d = os.path.join(emu.tmp, "plugin")
        os.makedirs(d, exist_ok=True)
        self.runs_path = os.path.join(d, "runs")
        self.token_path = os.path.join(d, "token")
        self.fail_path = os.path.join(d, "fail")
        self.path = os.path.join(d, "fh-test-credential")
        with open(self.path, "w") as f:
            f.write(PLUGIN.format(runs=self.runs_path, fail=self.fail_path, token=self.token_path))
        os.chmod(self.path, stat.S_IRWXU)
        self.set_token(token)
        with open(emu.kubeconfig) as f:
            cfg = yaml.safe_load(f)
        for u in cfg["users"]:
            u["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                  "command": self.path, "args": ["get-token"],
                                  "interactiveMode": "Never",
                                  "installHint": "fh-test-credential comes with the test suite"}}
        self.kubeconfig = os.path.join(emu.tmp, "exec.kubeconfig")
        with open(self.kubeconfig, "w") as f:
            yaml.safe_dump(cfg, f)

    def set_token(self, token):
        with open(self.token_path + ".new", "w") as f:
            f.write(token)
        os.replace(self.token_path + ".new", self.token_path)

    def fail_with(self, text):
        with open(self.fail_path, "w") as f:
            f.write(text)

    def runs(self):
        try:
            with open(self.runs_path) as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0


def create_fh(emu, name):
    emu.apply({"apiVersion": "v1", "kind": "List", "items": [
        secret_manifest(name, string_data={"v": name}), fh_manifest(name, name)]})


def said(op, process, text):
    return any(text in l.get("message", "") for l in op.loglines() if l.get("process") == process)


def test_plugin_token_is_used_and_cached(emu, operator_factory):
    plugin = Plugin(emu, emu.token)
    op = operator_factory(workers=2, kubeconfig=plugin.kubeconfig)
    op.wait_ready()
    create_fh(emu, "via-plugin")
    wait_for(lambda: synced(emu, "fleet-default", "via-plugin"), 30, "synced with the plugin's token")
    # once per process that talks to the apiserver (watcher + 2 workers),
    # however many requests they made: the token does not expire for years
    assert plugin.runs() == 3, plugin.runs()


def test_401_runs_the_plugin_again(emu, operator_factory):
    plugin = Plugin(emu, "not-a-valid-token")
    op = operator_factory(workers=1, kubeconfig=plugin.kubeconfig)
    wait_for(lambda: said(op, "watcher", "401 Unauthorized"), 30, "the watcher's 401")
    assert op.probe("/readyz")[0] == 503
    before = plugin.runs()
    plugin.set_token(emu.token)                     # e.g. the user logged in again
    op.wait_ready(60)
    assert plugin.runs() > before
    assert said(op, "watcher", "got a new token")
    create_fh(emu, "after-401")
    wait_for(lambda: synced(emu, "fleet-default", "after-401"), 30, "synced after the new token")


def test_failing_plugin_is_reported_in_its_own_words(emu, operator_factory):
    plugin = Plugin(emu, emu.token)
    plugin.fail_with("error: refresh token expired, run fh-test-credential login\n")
    op = operator_factory(workers=1, kubeconfig=plugin.kubeconfig)
    wait_for(lambda: said(op, "watcher", "refresh token expired"), 30, "the plugin's error in the log")
    line = next(l for l in op.loglines() if l.get("process") == "watcher"
                and "refresh token expired" in l.get("message", ""))
    assert "exited 1" in line["message"] and plugin.path in line["message"]
    assert line["level"] == "error"
    assert op.probe("/readyz")[0] == 503
