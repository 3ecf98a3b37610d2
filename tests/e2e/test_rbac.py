"""Least privilege, proven by running the operator with exactly the chart's RBAC.

The chart is rendered (build/helm-render, as `helm template -n fleet-handshake-system
fleet-handshake helm/fleet-handshake`); its ServiceAccount, ClusterRole, ClusterRoleBinding and
leader-election Role/RoleBinding are applied to the emulator, which enforces RBAC like
kube-apiserver (plus the OwnerReferencesPermissionEnforcement admission plugin, so the
fleethandshakes/finalizers rule is exercised too). A token for the ServiceAccount comes from the
TokenRequest API and the operator runs with a kubeconfig holding only that token.

1. With exactly those permissions the operator passes the end-to-end behaviours of
   test_operator.py (the same test functions are run here), and no request of the operator is
   answered 403.
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


@pytest.fixture(scope="module")
def chart():
    """The chart's objects as `helm template` renders them for this release."""
    p = subprocess.run([_renderer(), "-n", SYSTEM_NS, "--name", RELEASE,
                        os.path.join(harness.ROOT, "helm", "fleet-handshake")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    docs = [d for d in yaml.safe_load_all(p.stdout) if d]

    def one(kind, name=None):
        found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
        assert len(found) == 1, (kind, name, [d["metadata"]["name"] for d in found])
        return found[0]
    crb = one("ClusterRoleBinding")
    sa = one("ServiceAccount")
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                "namespace": SYSTEM_NS}]
    c = {"sa": sa, "cluster_role": one("ClusterRole", crb["roleRef"]["name"]), "crb": crb,
         "roles": [d for d in docs if d["kind"] == "Role"],
         "role_bindings": [d for d in docs if d["kind"] == "RoleBinding"],
         "args": [a for d in docs if d["kind"] == "Deployment"
                  for a in d["spec"]["template"]["spec"]["containers"][0]["args"]]}
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
    return path


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
    """Starts the operator with the ServiceAccount's kubeconfig; stop_all() expects clean exits."""

    def __init__(self, emu, bin_dir):
        self.emu = emu
        self.bin_dir = bin_dir
        self.ops = []

    def __call__(self, **kw):
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

SCENARIOS = [
    test_operator.test_original_samples_sync_and_deliver,
    test_operator.test_first_sync_bundle_shape_status_and_call_budget,
    test_operator.test_secret_change_updates_bundle_with_budget,
    test_operator.test_spec_change_delete_and_missing_secret,
    test_operator.test_foreign_bundle_is_never_overwritten,
    test_operator.test_hand_edit_and_hand_delete_are_repaired,
    test_operator.test_restart_makes_zero_writes,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f.__name__[len("test_"):] for f in SCENARIOS])
def test_behaviour_with_exactly_the_chart_rbac(chart, bin_dir, scenario):
    emu = rbac_emulator(chart)
    ops = Operators(emu, bin_dir)
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


def test_leader_election_with_exactly_the_chart_rbac(chart, bin_dir):
    """The chart's --leader-elect flags and its Lease Role: the ServiceAccount acquires the Lease."""
    args = leader_args(chart)
    if "--leader-elect" not in args:
        pytest.skip("the chart renders no --leader-elect flag")
    emu = rbac_emulator(chart)
    ops = Operators(emu, bin_dir)
    try:
        lease_ns = _arg(args, "--leader-elect-namespace")
        lease_name = _arg(args, "--leader-elect-id")
        emu.reset_stats()
        emu.apply({"apiVersion": "v1", "kind": "List", "items": [
            secret_manifest("le", string_data={"k": "v"}), fh_manifest("le", "le")]})
        op = ops(extra=args)
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
    """FleetHandshake deleted: the operator deletes its Bundle. A finalizer of a bystander keeps
    the Bundle (terminating) after the garbage collector's delete, so the operator's own
    delete is certain to be tried; the FleetHandshake is gone, so the log is the evidence."""
    c.source()
    c.start()
    wait_for(lambda: test_operator.synced(c.emu, FH_NS, c.name), 30, "synced")
    st, body = c.emu.api("PATCH", bundle_path(FH_NS, c.name),
                         {"metadata": {"finalizers": ["fleet.cattle.io/bundle-finalizer", "test/hold"]}},
                         content_type="application/merge-patch+json")
    assert st == 200, body
    c.cleanup.append(lambda: c.emu.api("PATCH", bundle_path(FH_NS, c.name), {"metadata": {"finalizers": []}},
                                       content_type="application/merge-patch+json"))
    c.emu.kubectl("delete", "fleethandshake", c.name, "-n", FH_NS, "--wait=false")
    c.expect_worker("delete", "bundles.fleet.cattle.io", apiserver_text=denial("delete", "bundles"))


def case_lease_create(c):
    c.start(extra=c.leader_args, ready=False)
    line = wait_for(lambda: logged(c.op, "elector", "cannot create lease:", denial("create", "leases")), 30,
                    "elector log")
    assert c.emu.sa_name in line["message"]


def case_lease_get(c):
    c.start(extra=c.leader_args, ready=False)
    line = wait_for(lambda: logged(c.op, "elector", "cannot read lease:", denial("get", "leases")), 30,
                    "elector log")
    assert c.emu.sa_name in line["message"]


def case_lease_update(c):
    """The first create acquires the Lease; renewing it needs update."""
    c.start(extra=c.leader_args, ready=False)
    line = wait_for(lambda: logged(c.op, "elector", "cannot update lease:", denial("update", "leases")), 30,
                    "elector log")
    assert c.emu.sa_name in line["message"]


CASES = {
    ("riverpointtechnology.com", "fleethandshakes", "list"): case_fh_list,
    ("riverpointtechnology.com", "fleethandshakes", "watch"): case_fh_watch,
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
