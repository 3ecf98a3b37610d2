"""Least privilege, proven by running the operator with exactly the chart's RBAC.

The chart is rendered (build/helm-render, as `helm template -n fleet-handshake-system
fleet-handshake helm/fleet-handshake`); its ServiceAccount, ClusterRole, ClusterRoleBinding and
leader-election Role/RoleBinding are applied to the emulator, which enforces RBAC like
kube-apiserver (plus the OwnerReferencesPermissionEnforcement admission plugin, so the
fleethandshakes/finalizers rule is exercised too). A token for the ServiceAccount comes from the
TokenRequest API and the operator runs with a kubeconfig holding only that token.

1. With exactly those permissions the operator passes the end-to-end behaviours of
   test_operator.py (every one of its test functions is run here), and no request of the
   operator is answered 403. The same again with the chart rendered with
   `watchNamespaces: [fleet-default, default]`: no ClusterRole at all, one Role + RoleBinding per
   watched namespace, and the operator started with the chart's own container args.
2. Removing any single permission the ClusterRole grants (one verb of one resource) makes the
   operator say so: a log line naming the denied verb and resource and, where the status write
   itself is still permitted, Ready=False/Forbidden on the FleetHandshake. The same holds for the
   leader-election Role when the operator runs with the chart's --leader-elect flags.
"""
import copy
import os
import subprocess

import pytest
import yaml

import harness
import test_operator
from conftest import setup_cluster
from harness import bundle_path, condition, fh_manifest, fh_path, secret_manifest, wait_for

SYSTEM_NS = "fleet-handshake-system"
RELEASE = "fleet-handshake"
FH_NS = "fleet-default"
ADMISSION = ("--enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
RBAC_API = "/apis/rbac.authorization.k8s.io/v1"
QUALIFIED = {"fleethandshakes": "fleethandshakes.riverpointtechnology.com", "secrets": "secrets",
             "bundles": "bundles.fleet.cattle.io", "leases": "leases.coordination.k8s.io"}


# ---------------------------------------------------------------- the rendered chart

def _renderer():
    path = os.environ.get("HELM_RENDER")
    if not path:
        subprocess.run(["make", "-s", "-C", harness.ROOT, "build/helm-render"], check=True,
                       capture_output=True, timeout=600)
        path = os.path.join(harness.ROOT, "build", "helm-render")
    return path


WATCHED = (FH_NS, "default")
NAMESPACED = ("--set", "watchNamespaces={%s}" % ",".join(WATCHED))


def render_chart(*values):
    """The chart's objects as `helm template` renders them for this release (values: --set ...)."""
    p = subprocess.run([_renderer(), "-n", SYSTEM_NS, "--name", RELEASE, *values,
                        os.path.join(harness.ROOT, "helm", "fleet-handshake")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    docs = [d for d in yaml.safe_load_all(p.stdout) if d]

    def all_(kind):
        return [d for d in docs if d["kind"] == kind]
    [sa] = all_("ServiceAccount")
    subject = {"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": SYSTEM_NS}
    crbs = [b for b in all_("ClusterRoleBinding") if subject in b["subjects"]]
    rbs = [b for b in all_("RoleBinding") if subject in b["subjects"]]
    # every binding of the chart is to the operator's ServiceAccount, and to a role it renders
    assert len(crbs) == len(all_("ClusterRoleBinding")) and len(rbs) == len(all_("RoleBinding"))
    cluster_roles = {d["metadata"]["name"]: d for d in all_("ClusterRole")}
    roles = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in all_("Role")}
    for b in crbs:
        assert b["roleRef"]["kind"] == "ClusterRole" and b["roleRef"]["name"] in cluster_roles, b
    for b in rbs:
        assert b["roleRef"]["kind"] == "Role", b
        assert (b["metadata"]["namespace"], b["roleRef"]["name"]) in roles, b
    assert len(crbs) <= 1
    [deployment] = all_("Deployment")
    return {"sa": sa, "crb": crbs[0] if crbs else None,
            "cluster_role": cluster_roles[crbs[0]["roleRef"]["name"]] if crbs else None,
            "roles": list(roles.values()), "role_bindings": rbs,
            "args": deployment["spec"]["template"]["spec"]["containers"][0]["args"]}


@pytest.fixture(scope="module")
def chart():
    """The default chart: all namespaces, one ClusterRole (+ the leader-election Role)."""
    c = render_chart()
    assert c["cluster_role"] is not None
    return c


@pytest.fixture(scope="module")
def ns_chart():
    """watchNamespaces: a Role + RoleBinding in each watched namespace and nothing cluster-wide.
    Leader election off: the shared scenarios count the operator's requests (the Lease renewals
    would add writes) and its child processes (the elector would add one); leader election with
    these Roles has its own test below, test_leader_election_with_exactly_the_chart_rbac."""
    c = render_chart(*NAMESPACED, "--set", "leaderElection.enabled=false")
    assert c["cluster_role"] is None and c["crb"] is None
    assert sorted(r["metadata"]["namespace"] for r in c["roles"]) == sorted(WATCHED)
    assert [a for a in c["args"] if a.startswith("--namespace")] == ["--namespace=" + n for n in WATCHED]
    assert not leader_args(c)
    return c


def ns_chart_le():
    c = render_chart(*NAMESPACED)
    assert c["cluster_role"] is None and c["crb"] is None
    assert sorted(r["metadata"]["namespace"] for r in c["roles"]) == sorted(WATCHED + (SYSTEM_NS,))
    return c


def leader_args(chart):
    """The chart's --leader-elect* flags."""
    return [a for a in chart["args"] if a.startswith("--leader-elect")]


def permissions(rules):
    """Every (apiGroup, resource, verb) a rule list grants."""
    return [(g, res, v) for r in rules for g in r["apiGroups"] for res in r["resources"] for v in r["verbs"]]


def without(rules, perm):
    """rules minus one verb of one resource (a rule left empty is dropped)."""
    g, res, v = perm
    out = []
    for r in copy.deepcopy(rules):
        if g in r["apiGroups"] and res in r["resources"] and v in r["verbs"]:
            assert r["apiGroups"] == [g] and r["resources"] == [res], "split the rule first: %r" % r
            r["verbs"] = [x for x in r["verbs"] if x != v]
            if not r["verbs"]:
                continue
        out.append(r)
    assert permissions(out) == [p for p in permissions(rules) if p != perm]
    return out


# ---------------------------------------------------------------- installing it

def _put(emu, path, obj):
    st, body = emu.api("PUT", f"{path}/{obj['metadata']['name']}", obj)
    assert st in (200, 201), body


def set_cluster_role_rules(emu, chart, rules):
    cr = copy.deepcopy(chart["cluster_role"])
    cr["rules"] = rules
    _put(emu, f"{RBAC_API}/clusterroles", cr)


def set_role_rules(emu, role, rules):
    r = copy.deepcopy(role)
    r["rules"] = rules
    _put(emu, f"{RBAC_API}/namespaces/{r['metadata']['namespace']}/roles", r)


def install(emu, chart):
    """Namespace, the rendered ServiceAccount and RBAC, a token; returns the operator's kubeconfig."""
    st, body = emu.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": SYSTEM_NS}})
    assert st == 201, body
    sa = chart["sa"]
    st, body = emu.api("POST", f"/api/v1/namespaces/{SYSTEM_NS}/serviceaccounts", sa)
    assert st == 201, body
    if chart["cluster_role"] is not None:
        set_cluster_role_rules(emu, chart, chart["cluster_role"]["rules"])
        _put(emu, f"{RBAC_API}/clusterrolebindings", chart["crb"])
    for r in chart["roles"]:
        _put(emu, f"{RBAC_API}/namespaces/{r['metadata']['namespace']}/roles", r)
    for rb in chart["role_bindings"]:
        _put(emu, f"{RBAC_API}/namespaces/{rb['metadata']['namespace']}/rolebindings", rb)
    st, tr = emu.api("POST", f"/api/v1/namespaces/{SYSTEM_NS}/serviceaccounts/{sa['metadata']['name']}/token",
                     {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                      "spec": {"expirationSeconds": 3600}})
    assert st == 201, tr
    with open(emu.kubeconfig) as f:
        cfg = yaml.safe_load(f)
    for u in cfg["users"]:
        u["user"] = {"token": tr["status"]["token"]}  # same server and CA, only the token differs
    path = os.path.join(emu.tmp, "operator.kubeconfig")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    emu.sa_name = f"system:serviceaccount:{SYSTEM_NS}:{sa['metadata']['name']}"
    emu.sa_token = tr["status"]["token"]
    return path


def as_operator(emu, method, path):
    """One request with the operator's token: (status, body)."""
    admin = emu.token
    emu.token = emu.sa_token
    try:
        return emu.api(method, path)
    finally:
        emu.token = admin


def rbac_emulator(chart):
    e = harness.Emulator(fleet_sim=True, extra=ADMISSION)
    try:
        setup_cluster(e)
        e.sa_kubeconfig = install(e, chart)
    except BaseException:
        e.close()
        raise
    return e


class Operators:
    """Starts the operator with the ServiceAccount's kubeconfig; stop_all() expects clean exits.

    With chart_args, the operator gets the chart's container args: only the probe address is
    replaced (the harness binds 127.0.0.1:0, not :8081 on every interface), and a worker count
    the scenario asks for replaces the chart's --workers."""

    PER_RUN = ("--health-probe-bind-address", "--workers", "--log-level")

    def __init__(self, emu, bin_dir, chart_args=None):
        self.emu = emu
        self.bin_dir = bin_dir
        self.chart_args = chart_args
        self.ops = []

    def __call__(self, **kw):
        if self.chart_args is not None:
            kw.setdefault("workers", int(_arg(self.chart_args, "--workers")))
            kw.setdefault("log_level", _arg(self.chart_args, "--log-level"))
            kw["extra"] = tuple(a for a in self.chart_args if a.split("=", 1)[0] not in self.PER_RUN) \
                + tuple(kw.get("extra", ()))
        op = harness.Operator(self.emu, self.bin_dir, name=f"sa-op{len(self.ops)}",
                              kubeconfig=self.emu.sa_kubeconfig, **kw)
        self.ops.append(op)
        return op

    def stop_all(self):
        for op in self.ops:
            rc = op.stop()
            assert rc == 0, f"operator exited {rc}:\n{op.logtext()[-4000:]}"
        self.ops = []


def settle_races(emu):
    """Two timing races of the shared test_operator scenarios, made deterministic (the scenarios
    themselves are unchanged):
    - after `apply` of a Bundle, wait until the Fleet simulation has taken it (its finalizer and
      status written), so a snapshot taken right after means "the Bundle as Fleet keeps it";
    - `kubectl delete bundle X` waits by name, and the operator recreates its own Bundle X at once
      when a foreign one goes away: kubectl would then wait for the new object. Do not wait there
      (the scenario waits for the outcome anyway)."""
    apply, kubectl = emu.apply, emu.kubectl

    def fleet_took(ns, name):
        b = emu.get(bundle_path(ns, name))
        return b and "fleet.cattle.io/bundle-finalizer" in (b["metadata"].get("finalizers") or []) \
            and b.get("status")

    def apply_settled(manifest):
        r = apply(manifest)
        if isinstance(manifest, dict) and manifest.get("kind") == "Bundle":
            md = manifest["metadata"]
            wait_for(lambda: fleet_took(md["namespace"], md["name"]), 10, "Fleet took the Bundle")
        return r

    def kubectl_delete_nowait(*args, **kw):
        if args[:2] == ("delete", "bundle") and not any(a.startswith("--wait") for a in args):
            args += ("--wait=false",)
        return kubectl(*args, **kw)
    emu.apply = apply_settled
    emu.kubectl = kubectl_delete_nowait


def operator_403s(stats):
    return [r for r in stats["requests"] if r.get("userAgent") == "fleet-handshake" and r["code"] == 403]


# ---------------------------------------------------------------- 1. the behaviours, with exactly the chart's RBAC

def scenarios():
    """Every end-to-end test of test_operator.py (a new one is picked up here by itself)."""
    found = [getattr(test_operator, n) for n in dir(test_operator) if n.startswith("test_")]
    found = [f for f in found if callable(f)]
    found.sort(key=lambda f: f.__code__.co_firstlineno)
    for f in found:
        assert f.__code__.co_varnames[:f.__code__.co_argcount] == ("emu", "operator_factory"), \
            f"{f.__name__} takes fixtures this module does not provide"
    return found


SCENARIOS = scenarios()


def test_every_operator_scenario_runs_under_rbac():
    assert len(SCENARIOS) >= 10
    assert {"test_edit_while_operator_down_is_repaired_on_start", "test_sigterm_drains_and_exits_zero",
            "test_health_probes"} <= {f.__name__ for f in SCENARIOS}


def run_scenario(emu, ops, scenario):
    """Run one shared scenario; no 403 for the operator, none in its logs."""
    denied = []
    reset = emu.reset_stats

    def checked_reset():  # the scenarios reset the counters: look at them first
        denied.extend(operator_403s(emu.stats()))
        reset()
    emu.reset_stats = checked_reset
    settle_races(emu)
    try:
        scenario(emu, ops)
        st = emu.stats()
        denied.extend(operator_403s(st))
        assert denied == [], "the operator was denied: %r" % denied
        assert any(r.get("userAgent") == "fleet-handshake" for r in st["requests"])
        for op in ops.ops:
            text = op.logtext()
            assert "forbidden" not in text.lower() and "HTTP 403" not in text, text[-3000:]
        ops.stop_all()
    finally:
        for op in ops.ops:
            op.stop()
        emu.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f.__name__[len("test_"):] for f in SCENARIOS])
def test_behaviour_with_exactly_the_chart_rbac(chart, bin_dir, scenario):
    emu = rbac_emulator(chart)
    run_scenario(emu, Operators(emu, bin_dir), scenario)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f.__name__[len("test_"):] for f in SCENARIOS])
def test_behaviour_with_the_namespaced_chart_rbac(ns_chart, bin_dir, scenario):
    """watchNamespaces=[fleet-default, default]: Roles only, the chart's own args."""
    emu = rbac_emulator(ns_chart)
    # the token is bound to the namespaced Roles only: nothing cluster-wide
    assert as_operator(emu, "GET", "/apis/riverpointtechnology.com/v1alpha1/fleethandshakes")[0] == 403
    assert as_operator(emu, "GET", "/api/v1/namespaces/kube-system/secrets")[0] == 403
    assert as_operator(emu, "GET", bundle_path(FH_NS))[0] == 200
    run_scenario(emu, Operators(emu, bin_dir, chart_args=ns_chart["args"]), scenario)


@pytest.mark.parametrize("mode", ["cluster", "namespaced"])
def test_leader_election_with_exactly_the_chart_rbac(chart, bin_dir, mode):
    """The chart's --leader-elect flags and its Lease Role: the ServiceAccount acquires the Lease.
    namespaced: the chart with watchNamespaces, run with all of its args."""
    c = chart if mode == "cluster" else ns_chart_le()
    args = leader_args(c)
    if "--leader-elect" not in args:
        pytest.skip("the chart renders no --leader-elect flag")
    emu = rbac_emulator(c)
    ops = Operators(emu, bin_dir, chart_args=c["args"] if mode == "namespaced" else None)
    try:
        lease_ns = _arg(args, "--leader-elect-namespace")
        lease_name = _arg(args, "--leader-elect-id")
        emu.reset_stats()
        emu.apply({"apiVersion": "v1", "kind": "List", "items": [
            secret_manifest("le", string_data={"k": "v"}), fh_manifest("le", "le")]})
        op = ops(extra=args) if mode == "cluster" else ops()
        lease = wait_for(lambda: (emu.get(f"/apis/coordination.k8s.io/v1/namespaces/{lease_ns}/leases/{lease_name}")
                                  or {}).get("spec", {}).get("holderIdentity"), 30, "lease acquired")
        assert lease
        wait_for(lambda: test_operator.synced(emu, FH_NS, "le"), 30, "synced by the leader")
        assert operator_403s(emu.stats()) == []
        assert "forbidden" not in op.logtext().lower()
        ops.stop_all()
    finally:
        for op in ops.ops:
            op.stop()
        emu.close()


def _arg(args, flag):
    for a in args:
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    raise AssertionError(f"{flag} not in {args}")


# ---------------------------------------------------------------- 2. remove one permission: a clear error

def logged(op, process, *texts, key=None):
    """The first log line of process containing every text (and of key, if given)."""
    for line in op.loglines():
        msg = line.get("message", "")
        proc = (line.get("process") or "").split(".")[0]  # worker.0 -> worker
        if proc == process and all(t in msg for t in texts) and (key is None or line.get("key") == key):
            return line
    return None


def forbidden_status(emu, name):
    """Ready=False/Forbidden (status Error) on FleetHandshake fleet-default/name, or None."""
    fh = emu.get(fh_path(FH_NS, name))
    c = condition(fh)
    if c and c["status"] == "False" and c["reason"] == "Forbidden" and fh["status"].get("status") == "Error":
        return c
    return None


def denial(verb, resource, sub=""):
    """The apiserver's wording for the denied request."""
    return 'cannot %s resource "%s"' % (verb, resource + ("/" + sub if sub else ""))


class Case:
    """One run with one permission removed: the emulator (shared), the operator, unique names."""

    def __init__(self, emu, ops, perm, index):
        self.emu = emu
        self.ops = ops
        self.perm = perm
        self.name = f"rm{index}"
        self.op = None
        self.cleanup = []

    def source(self, data="v1"):
        self.emu.apply({"apiVersion": "v1", "kind": "List", "items": [
            secret_manifest(self.name, string_data={"k": data}), fh_manifest(self.name, self.name)]})

    def start(self, extra=(), ready=True):
        self.op = self.ops(extra=extra)
        if ready:
            self.op.wait_ready(30)
        return self.op

    def expect_watcher(self, resource, verb):
        """fh-watcher: 'cannot list/watch <resource>: forbidden (<verb>: <apiserver text>); check ... RBAC'."""
        q = QUALIFIED[resource]
        line = wait_for(lambda: logged(self.op, "watcher", f"cannot list/watch {q}: forbidden",
                                       denial(verb, resource)), 30, f"watcher error for {verb} {q}")
        assert "check the operator's RBAC rules" in line["message"], line
        assert line["level"] == "error", line
        return line

    def expect_worker(self, verb, qualified, ns=FH_NS, apiserver_text=None):
        """fh-worker: '<verb> <resource> in <ns> failed: HTTP 403: <apiserver text>' and the
        supervisor's 'will retry (forbidden: <verb> <resource> in <ns>)' for this key."""
        key = f"{FH_NS}/{self.name}"
        w = wait_for(lambda: logged(self.op, "worker", f"{verb} {qualified} in {ns} failed: HTTP 403:",
                                    apiserver_text or "", key=key), 30, f"worker log for {verb} {qualified}")
        s = wait_for(lambda: logged(self.op, "supervisor", f"will retry (forbidden: {verb} {qualified} in {ns})",
                                    key=key), 30, "supervisor log")
        return w, s

    def expect_status(self, verb, qualified, apiserver_text, names_user=True):
        c = wait_for(lambda: forbidden_status(self.emu, self.name), 30, "Ready=False/Forbidden")
        msg = c["message"]
        assert f"the operator is not allowed to {verb} {qualified} in namespace" in msg, msg
        assert apiserver_text in msg, msg
        assert self.emu.sa_name in msg or not names_user, msg
        assert "grant this permission" in msg, msg
        return c


# What each permission is needed for, and how its absence shows. Keyed by (apiGroup, resource,
# verb); a permission the chart grants without an entry here fails the test (add its case).

def case_fh_list(c):
    c.source()
    c.start(ready=False)
    c.expect_watcher("fleethandshakes", "list")
    assert c.op.probe("/readyz")[0] != 200  # never synced: not ready, nothing reconciled
    assert c.emu.get(bundle_path(FH_NS, c.name)) is None


def case_fh_watch(c):
    c.start()
    c.expect_watcher("fleethandshakes", "watch")


def case_fh_get(c):
    """An orphaned Bundle of ours (kept by an orphan deletion, labels intact): before adopting
    it, the worker reads the FleetHandshake itself to make sure it is not being deleted."""
    st, body = c.emu.api("POST", bundle_path(FH_NS), {
        "apiVersion": "fleet.cattle.io/v1alpha1", "kind": "Bundle",
        "metadata": {"name": c.name, "namespace": FH_NS,
                     "labels": {"app.kubernetes.io/managed-by": "fleet-handshake",
                                "fleethandshake.riverpointtechnology.com/name": c.name}},
        "spec": {"resources": [{"name": "x.json", "content": "{}"}], "targets": []}})
    assert st == 201, body
    c.source()
    c.start()
    c.expect_status("get", "fleethandshakes.riverpointtechnology.com", denial("get", "fleethandshakes"))
    c.expect_worker("get", "fleethandshakes.riverpointtechnology.com",
                    apiserver_text=denial("get", "fleethandshakes"))
    assert not (c.emu.get(bundle_path(FH_NS, c.name))["metadata"].get("ownerReferences"))  # not adopted


def case_fh_status_patch(c):
    """The status write itself is denied: the Bundle is written, the logs say why status is not."""
    c.source()
    c.start()
    w, _ = c.expect_worker("patch", "fleethandshakes.riverpointtechnology.com/status",
                           apiserver_text=denial("patch", "fleethandshakes", "status"))
    assert c.emu.get(bundle_path(FH_NS, c.name)) is not None
    assert not (c.emu.get(fh_path(FH_NS, c.name)) or {}).get("status")


def case_fh_finalizers_update(c):
    """OwnerReferencesPermissionEnforcement: the Bundle's blockOwnerDeletion ownerReference."""
    c.source()
    c.start()
    text = "cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on"
    # the admission plugin's message names the rule, not the user (as kube-apiserver's does)
    c.expect_status("create", "bundles.fleet.cattle.io", text, names_user=False)
    c.expect_worker("create", "bundles.fleet.cattle.io", apiserver_text=text)
    assert c.emu.get(bundle_path(FH_NS, c.name)) is None


def case_secrets_list(c):
    c.start(ready=False)
    c.expect_watcher("secrets", "list")
    assert c.op.probe("/readyz")[0] != 200


def case_secrets_watch(c):
    c.start()
    c.expect_watcher("secrets", "watch")


def case_secrets_get(c):
    c.source()
    c.start()
    c.expect_status("get", "secrets", denial("get", "secrets"))
    c.expect_worker("get", "secrets", ns="default", apiserver_text=denial("get", "secrets"))
    assert c.emu.get(bundle_path(FH_NS, c.name)) is None


def case_bundles_list(c):
    c.start(ready=False)
    c.expect_watcher("bundles", "list")
    assert c.op.probe("/readyz")[0] != 200


def case_bundles_watch(c):
    c.start()
    c.expect_watcher("bundles", "watch")


def case_bundles_get(c):
    """A Bundle of that name that is not ours must be read before anything is decided."""
    st, body = c.emu.api("POST", bundle_path(FH_NS), {
        "apiVersion": "fleet.cattle.io/v1alpha1", "kind": "Bundle",
        "metadata": {"name": c.name, "namespace": FH_NS, "labels": {"fleet.cattle.io/repo-name": "gitrepo"}},
        "spec": {"resources": [{"name": "x.yaml", "content": "{}"}], "targets": []}})
    assert st == 201, body
    c.source()
    c.start()
    c.expect_status("get", "bundles.fleet.cattle.io", denial("get", "bundles"))
    c.expect_worker("get", "bundles.fleet.cattle.io", apiserver_text=denial("get", "bundles"))


def case_bundles_create(c):
    c.source()
    c.start()
    c.expect_status("create", "bundles.fleet.cattle.io", denial("create", "bundles"))
    c.expect_worker("create", "bundles.fleet.cattle.io", apiserver_text=denial("create", "bundles"))


def case_bundles_patch(c):
    """Created fine; the next Secret change needs the patch."""
    c.source("v1")
    c.start()
    wait_for(lambda: test_operator.synced(c.emu, FH_NS, c.name), 30, "first sync (create is allowed)")
    c.source("v2")
    c.expect_status("patch", "bundles.fleet.cattle.io", denial("patch", "bundles"))
    c.expect_worker("patch", "bundles.fleet.cattle.io", apiserver_text=denial("patch", "bundles"))


def case_bundles_delete(c):
    """FleetHandshake deleted: the operator deletes its Bundle. A finalizer of a bystander on
    the FleetHandshake keeps it terminating, so the garbage collector (which acts once the
    owner is gone) cannot get there first and the operator's own delete is certain to be
    tried; the log is the evidence."""
    c.source()
    c.start()
    wait_for(lambda: test_operator.synced(c.emu, FH_NS, c.name), 30, "synced")
    st, body = c.emu.api("PATCH", fh_path(FH_NS, c.name), {"metadata": {"finalizers": ["test/hold"]}},
                         content_type="application/merge-patch+json")
    assert st == 200, body
    c.cleanup.append(lambda: c.emu.api("PATCH", fh_path(FH_NS, c.name), {"metadata": {"finalizers": []}},
                                       content_type="application/merge-patch+json"))
    c.emu.kubectl("delete", "fleethandshake", c.name, "-n", FH_NS, "--wait=false")
    c.expect_worker("delete", "bundles.fleet.cattle.io", apiserver_text=denial("delete", "bundles"))
    assert c.emu.get(bundle_path(FH_NS, c.name)) is not None


def lease_of(c):
    return _arg(c.leader_args, "--leader-elect-namespace"), _arg(c.leader_args, "--leader-elect-id")


def elector_denial(c, verb, what):
    """fh-elector's line about the forbidden Lease <verb> ("cannot <what> lease ..."): an error,
    saying "forbidden", naming the verb and the Lease (namespace/name, or the name quoted), and
    quoting the apiserver's denial of exactly that verb."""
    ns, name = lease_of(c)

    def find():
        for line in c.op.loglines():
            msg = line.get("message", "")
            if (line.get("process") or "").split(".")[0] == "elector" and "forbidden" in msg.lower() \
                    and (denial(verb, "leases") in msg or f"cannot {what} lease" in msg):
                return line
        return None
    line = wait_for(find, 30, f"elector log of the forbidden lease {verb}")
    msg = line["message"]
    assert line.get("level") in ("error",), f"a forbidden lease {verb} must be logged as an error: {line}"
    assert f"cannot {what} lease" in msg, f"the message does not name the verb ({what}): {line}"
    assert f"{ns}/{name}" in msg or f'"{name}"' in msg or f"lease {name}" in msg, \
        f"the message does not name the lease {ns}/{name}: {line}"
    assert denial(verb, "leases") in msg, line
    assert c.emu.sa_name in msg, line
    return line


def case_lease_create(c):
    c.start(extra=c.leader_args, ready=False)
    elector_denial(c, "create", "create")


def case_lease_get(c):
    c.start(extra=c.leader_args, ready=False)
    elector_denial(c, "get", "read")


def case_lease_update(c):
    """The first create acquires the Lease; renewing it needs update."""
    c.start(extra=c.leader_args, ready=False)
    elector_denial(c, "update", "update")


CASES = {
    ("riverpointtechnology.com", "fleethandshakes", "list"): case_fh_list,
    ("riverpointtechnology.com", "fleethandshakes", "watch"): case_fh_watch,
    ("riverpointtechnology.com", "fleethandshakes", "get"): case_fh_get,
    ("riverpointtechnology.com", "fleethandshakes/status", "patch"): case_fh_status_patch,
    ("riverpointtechnology.com", "fleethandshakes/finalizers", "update"): case_fh_finalizers_update,
    ("", "secrets", "list"): case_secrets_list,
    ("", "secrets", "watch"): case_secrets_watch,
    ("", "secrets", "get"): case_secrets_get,
    ("fleet.cattle.io", "bundles", "list"): case_bundles_list,
    ("fleet.cattle.io", "bundles", "watch"): case_bundles_watch,
    ("fleet.cattle.io", "bundles", "get"): case_bundles_get,
    ("fleet.cattle.io", "bundles", "create"): case_bundles_create,
    ("fleet.cattle.io", "bundles", "patch"): case_bundles_patch,
    ("fleet.cattle.io", "bundles", "delete"): case_bundles_delete,
}
LEASE_CASES = {
    ("coordination.k8s.io", "leases", "create"): case_lease_create,
    ("coordination.k8s.io", "leases", "get"): case_lease_get,
    ("coordination.k8s.io", "leases", "update"): case_lease_update,
}


@pytest.fixture(scope="module")
def shared(chart, bin_dir):
    """One emulator for all removal cases (each case uses its own names and is cleaned up)."""
    emu = rbac_emulator(chart)
    yield emu, bin_dir
    emu.close()


def _run_case(shared, chart, perm, fn, role=None, role_rules=None):
    emu, bin_dir = shared
    ops = Operators(emu, bin_dir)
    index = sorted(list(CASES) + list(LEASE_CASES)).index(perm)
    c = Case(emu, ops, perm, index)
    c.leader_args = leader_args(chart)
    try:
        fn(c)
        ops.stop_all()
    finally:
        for op in ops.ops:
            op.stop()
        # restore the chart's rules and remove what the case made
        set_cluster_role_rules(emu, chart, chart["cluster_role"]["rules"])
        for r in chart["roles"]:
            set_role_rules(emu, r, r["rules"])
        for fn_ in c.cleanup:
            fn_()
        emu.api("DELETE", fh_path(FH_NS, c.name))
        emu.api("DELETE", bundle_path(FH_NS, c.name))
        emu.api("DELETE", harness.secret_path("default", c.name))
        if role is not None:
            lease_ns, lease_name = _arg(c.leader_args, "--leader-elect-namespace"), _arg(c.leader_args,
                                                                                          "--leader-elect-id")
            emu.api("DELETE", f"/apis/coordination.k8s.io/v1/namespaces/{lease_ns}/leases/{lease_name}")


def test_every_granted_permission_has_a_case(chart):
    granted = permissions(chart["cluster_role"]["rules"])
    assert sorted(granted) == sorted(CASES), "cases and the chart's ClusterRole differ"
    lease = [p for r in chart["roles"] for p in permissions(r["rules"])]
    assert not lease or sorted(set(lease)) == sorted(LEASE_CASES)


@pytest.mark.parametrize("perm", list(CASES), ids=["%s:%s:%s" % (g or "core", r, v) for g, r, v in CASES])
def test_removing_one_permission_is_reported(shared, chart, perm):
    emu, _ = shared
    if perm not in permissions(chart["cluster_role"]["rules"]):
        pytest.fail(f"the chart's ClusterRole no longer grants {perm}; drop its case")
    set_cluster_role_rules(emu, chart, without(chart["cluster_role"]["rules"], perm))
    _run_case(shared, chart, perm, CASES[perm])


@pytest.mark.parametrize("perm", list(LEASE_CASES), ids=["leases:%s" % v for _, _, v in LEASE_CASES])
def test_removing_one_leader_election_permission_is_reported(shared, chart, perm):
    emu, _ = shared
    if "--leader-elect" not in leader_args(chart):
        pytest.skip("the chart renders no --leader-elect flag")
    role = next((r for r in chart["roles"] if perm in permissions(r["rules"])), None)
    assert role is not None, f"no rendered Role grants {perm}"
    set_role_rules(emu, role, without(role["rules"], perm))
    _run_case(shared, chart, perm, LEASE_CASES[perm], role=role)
