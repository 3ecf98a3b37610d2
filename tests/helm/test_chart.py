"""The Helm chart (helm/fleet-handshake), rendered like `helm template`.

What is checked: every value in values.yaml changes what it should (and a
new value without a case here fails the suite); the operator's flags reach
the container and are accepted by the real fh-supervisor, which serves the
probes on the port the chart points them at; the security context; the
replicas/leader-election rule; the CRD ships in crds/ only; every object
parses and is named and labelled; RBAC is exactly the least-privilege set
(and covers every API resource the C code calls); the docs list every value.
"""
import glob
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

from helmlib import CHART, ROOT, render, render_error, run_render

FULL = "release-name-fleet-handshake"
VALUES = yaml.safe_load(open(os.path.join(CHART, "values.yaml")))
CHART_META = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))


def leaves(d, prefix=""):
    """Dotted paths of values.yaml's leaves (scalars, lists, empty maps)."""
    out = []
    for k, v in d.items():
        p = prefix + k
        if isinstance(v, dict) and v:
            out += leaves(v, p + ".")
        else:
            out.append(p)
    return out


def nested(path, value):
    d = value
    for part in reversed(path.split(".")):
        d = {part: d}
    return d


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# ------------------------------------------------------------ rules

OPERATOR_RULES = [
    {"apiGroups": ["riverpointtechnology.com"], "resources": ["fleethandshakes"],
     "verbs": ["list", "watch"]},
    {"apiGroups": ["riverpointtechnology.com"], "resources": ["fleethandshakes"],
     "verbs": ["get"]},
    {"apiGroups": ["riverpointtechnology.com"], "resources": ["fleethandshakes/status"],
     "verbs": ["patch"]},
    {"apiGroups": ["riverpointtechnology.com"], "resources": ["fleethandshakes/finalizers"],
     "verbs": ["update"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "watch"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
    {"apiGroups": ["fleet.cattle.io"], "resources": ["bundles"], "verbs": ["list", "watch"]},
    {"apiGroups": ["fleet.cattle.io"], "resources": ["bundles"],
     "verbs": ["get", "create", "patch", "delete"]},
]


def lease_rules(name=FULL):
    return [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "resourceNames": [name], "verbs": ["get", "update"]},
    ]


# ------------------------------------------------------------ every value

def image(r):
    return r.container["image"]


def labels_of_pod(r):
    return r.deployment["spec"]["template"]["metadata"]["labels"]


def operator_roles(r):
    return [d for d in r.all("ClusterRole") + r.all("Role") if d["metadata"]["name"] == FULL]


def bindings(r):
    return r.all("ClusterRoleBinding") + r.all("RoleBinding")


def metrics_service(r):
    found = r.all("Service", FULL + "-metrics")
    return found[0] if found else None


PROBE = {"initialDelaySeconds": 3, "periodSeconds": 7, "timeoutSeconds": 2, "failureThreshold": 5}

# (values path, new value, extra values the case needs, check on the render)
CASES = [
    ("nameOverride", "fh", {},
     lambda r: r.deployment["metadata"]["name"] == "release-name-fh"
     and r.deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "fh"),
    ("fullnameOverride", "op", {},
     lambda r: {d["metadata"]["name"] for d in r.docs} >= {"op", "op-leader-election", "op-view"}
     and r.pod["serviceAccountName"] == "op"),
    ("image.repository", "registry.example.org/fh", {},
     lambda r: image(r) == "registry.example.org/fh:0.1.0"),
    ("image.tag", "1.2.3", {},
     lambda r: image(r) == "fleet-handshake:1.2.3"
     and r.deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "1.2.3"),
    ("image.digest", "sha256:" + "a" * 64, {},
     lambda r: image(r) == "fleet-handshake:0.1.0@sha256:" + "a" * 64),
    ("image.pullPolicy", "Always", {},
     lambda r: r.container["imagePullPolicy"] == "Always"),
    ("imagePullSecrets", [{"name": "regcred"}], {},
     lambda r: r.pod["imagePullSecrets"] == [{"name": "regcred"}]),
    ("replicaCount", 3, {},
     lambda r: r.deployment["spec"]["replicas"] == 3),
    ("workers", 7, {}, lambda r: r.arg("--workers") == "7"),
    ("logLevel", "debug", {}, lambda r: r.arg("--log-level") == "debug"),
    ("resyncPeriod", "1h", {}, lambda r: r.arg("--resync-period") == "1h"),
    ("taskTimeout", "5m", {}, lambda r: r.arg("--task-timeout") == "5m"),
    ("terminationGracePeriodSeconds", 60, {},
     lambda r: r.pod["terminationGracePeriodSeconds"] == 60 and r.arg("--drain-timeout") == "55s"),
    ("watchNamespaces", ["team-a", "team-b"], {},
     lambda r: [a for a in r.args if a.startswith("--namespace")]
     == ["--namespace=team-a", "--namespace=team-b"]
     and {d["metadata"]["namespace"] for d in r.all("Role", FULL)} == {"team-a", "team-b"}
     and not r.all("ClusterRole", FULL) and not r.all("ClusterRoleBinding")),
    ("leaderElection.enabled", False, {},
     lambda r: r.arg("--leader-elect") is None
     and not [a for a in r.args if a.startswith("--leader-elect")]
     and r.deployment["spec"]["strategy"] == {"type": "Recreate"}
     and not r.all("Role", FULL + "-leader-election")),
    ("leaderElection.leaseDuration", "30s", {},
     lambda r: r.arg("--leader-elect-lease-duration") == "30s"),
    ("leaderElection.renewDeadline", "12s", {},
     lambda r: r.arg("--leader-elect-renew-deadline") == "12s"),
    ("leaderElection.retryPeriod", "4s", {},
     lambda r: r.arg("--leader-elect-retry-period") == "4s"),
    ("probes.port", 9440, {},
     lambda r: r.arg("--health-probe-bind-address") == ":9440"
     and r.container["ports"] == [{"name": "health", "containerPort": 9440, "protocol": "TCP"}]),
    ("probes.liveness", PROBE, {},
     lambda r: r.container["livenessProbe"] == dict(PROBE, httpGet={"path": "/healthz", "port": "health"})),
    ("probes.readiness", PROBE, {},
     lambda r: r.container["readinessProbe"] == dict(PROBE, httpGet={"path": "/readyz", "port": "health"})),
    ("resources", {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}, {},
     lambda r: r.container["resources"] == {"requests": {"cpu": "1", "memory": "1Gi"},
                                            "limits": {"cpu": "2", "memory": "2Gi"}}),
    ("podSecurityContext", {"runAsNonRoot": True, "runAsUser": 1000}, {},
     lambda r: r.pod["securityContext"]["runAsUser"] == 1000),
    ("securityContext", {"readOnlyRootFilesystem": False}, {},
     lambda r: r.container["securityContext"]["readOnlyRootFilesystem"] is False),
    ("serviceAccount.create", False, {"serviceAccount": {"name": "existing"}},
     lambda r: not r.all("ServiceAccount") and r.pod["serviceAccountName"] == "existing"
     and all(b["subjects"][0]["name"] == "existing" for b in bindings(r))),
    ("serviceAccount.name", "custom-sa", {},
     lambda r: r.one("ServiceAccount")["metadata"]["name"] == "custom-sa"
     and r.pod["serviceAccountName"] == "custom-sa"
     and all(b["subjects"] == [{"kind": "ServiceAccount", "name": "custom-sa", "namespace": "default"}]
             for b in bindings(r))),
    ("serviceAccount.annotations", {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/fh"}, {},
     lambda r: r.one("ServiceAccount")["metadata"]["annotations"]
     == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/fh"}),
    ("serviceAccount.automountServiceAccountToken", False, {},
     lambda r: r.one("ServiceAccount")["automountServiceAccountToken"] is False
     and r.pod["automountServiceAccountToken"] is False),
    ("rbac.create", False, {},
     lambda r: not operator_roles(r) and not bindings(r)
     and not r.all("Role", FULL + "-leader-election")),
    ("rbac.userRoles", False, {},
     lambda r: not r.all("ClusterRole", FULL + "-view") and not r.all("ClusterRole", FULL + "-edit")),
    ("rbac.aggregateToView", False, {},
     lambda r: not [k for k in r.one("ClusterRole", FULL + "-view")["metadata"]["labels"]
                    if k.startswith("rbac.authorization.k8s.io/aggregate")]),
    ("rbac.aggregateToEdit", True, {},
     lambda r: r.one("ClusterRole", FULL + "-edit")["metadata"]["labels"].get(
         "rbac.authorization.k8s.io/aggregate-to-edit") == "true"),
    ("podDisruptionBudget.enabled", True, {"replicaCount": 2},
     lambda r: r.one("PodDisruptionBudget")["spec"]
     == {"minAvailable": 1, "selector": r.deployment["spec"]["selector"]}),
    ("podDisruptionBudget.minAvailable", 2, {"replicaCount": 3, "podDisruptionBudget": {"enabled": True}},
     lambda r: r.one("PodDisruptionBudget")["spec"]["minAvailable"] == 2),
    ("podDisruptionBudget.maxUnavailable", "50%", {"replicaCount": 2, "podDisruptionBudget": {"enabled": True}},
     lambda r: r.one("PodDisruptionBudget")["spec"]["maxUnavailable"] == "50%"
     and "minAvailable" not in r.one("PodDisruptionBudget")["spec"]),
    ("metrics.service.enabled", True, {},
     lambda r: metrics_service(r)["spec"]["ports"]
     == [{"name": "http-metrics", "port": 8081, "targetPort": "health", "protocol": "TCP"}]
     and not r.all("ServiceMonitor")),
    ("metrics.serviceMonitor.enabled", True, {},
     lambda r: metrics_service(r) is not None
     and r.one("ServiceMonitor")["spec"]["endpoints"][0]["port"] == "http-metrics"),
    ("metrics.serviceMonitor.interval", "1m", {"metrics": {"serviceMonitor": {"enabled": True}}},
     lambda r: r.one("ServiceMonitor")["spec"]["endpoints"][0]["interval"] == "1m"),
    ("metrics.serviceMonitor.scrapeTimeout", "25s", {"metrics": {"serviceMonitor": {"enabled": True}}},
     lambda r: r.one("ServiceMonitor")["spec"]["endpoints"][0]["scrapeTimeout"] == "25s"),
    ("metrics.serviceMonitor.labels", {"release": "kube-prometheus-stack", "app.kubernetes.io/name": "x"},
     {"metrics": {"serviceMonitor": {"enabled": True}}},
     lambda r: r.one("ServiceMonitor")["metadata"]["labels"]["release"] == "kube-prometheus-stack"
     # a chart label is never replaced
     and r.one("ServiceMonitor")["metadata"]["labels"]["app.kubernetes.io/name"] == "fleet-handshake"),
    ("extraArgs", ["--kubeconfig=/etc/fh/kubeconfig"], {},
     lambda r: r.args[-1] == "--kubeconfig=/etc/fh/kubeconfig"),
    ("extraEnv", [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}], {},
     lambda r: {"name": "HTTPS_PROXY", "value": "http://proxy:3128"} in r.container["env"]),
    ("extraVolumes", [{"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}], {},
     lambda r: [v["name"] for v in r.pod["volumes"]] == ["tmp", "token"]),
    ("extraVolumeMounts", [{"name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}], {},
     lambda r: r.container["volumeMounts"][-1]["name"] == "token"),
    ("podAnnotations", {"prometheus.io/scrape": "false"}, {},
     lambda r: r.deployment["spec"]["template"]["metadata"]["annotations"] == {"prometheus.io/scrape": "false"}),
    ("podLabels", {"team": "platform", "app.kubernetes.io/name": "other"}, {},
     lambda r: labels_of_pod(r)["team"] == "platform"
     and "team" not in r.deployment["spec"]["selector"]["matchLabels"]
     # a chart label is never replaced: the selector keeps matching
     and labels_of_pod(r)["app.kubernetes.io/name"] == "fleet-handshake"),
    ("nodeSelector", {"node-role.kubernetes.io/infra": "true"}, {},
     lambda r: r.pod["nodeSelector"] == {"node-role.kubernetes.io/infra": "true", "kubernetes.io/os": "linux"}),
    ("tolerations", [{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}], {},
     lambda r: r.pod["tolerations"] == [{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}]),
    ("affinity", {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}, {},
     lambda r: r.pod["affinity"] == {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}),
    ("topologySpreadConstraints", [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                    "whenUnsatisfiable": "ScheduleAnyway"}], {},
     lambda r: r.pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"),
    ("priorityClassName", "system-cluster-critical", {},
     lambda r: r.pod["priorityClassName"] == "system-cluster-critical"),
]


def test_every_value_has_a_case():
    """A value added to values.yaml without a case here fails: none is ignored."""
    covered = {c[0] for c in CASES}
    missing = [p for p in leaves(VALUES)
               if not any(p == c or p.startswith(c + ".") for c in covered)]
    assert not missing, "values without a test case: %s" % missing
    unknown = [c for c in covered if not any(p == c or p.startswith(c + ".") for p in leaves(VALUES))]
    assert not unknown, "cases for values that do not exist: %s" % unknown


@pytest.mark.parametrize("path,value,base,check", CASES, ids=[c[0] for c in CASES])
def test_value_changes_what_it_should(path, value, base, check):
    before = run_render(values=base).stdout
    r = render(values=merge(base, nested(path, value)))
    assert r.text != before, "%s=%r changes nothing" % (path, value)
    assert check(r), "%s=%r did not do what it should" % (path, value)


def test_workers_from_set_and_from_file():
    # --set gives an int64, -f a float64 (Helm reads values through JSON):
    # both must print as a plain 7
    assert render("--set", "workers=7").arg("--workers") == "7"
    assert render(values={"workers": 7}).arg("--workers") == "7"
    assert render("--set", "workers=256").arg("--workers") == "256"


@pytest.mark.parametrize("bad,msg", [
    ({"workers": 0}, "workers"),
    ({"workers": 257}, "workers"),
    ({"worker": 3}, "worker"),
    ({"logLevel": "verbose"}, "logLevel"),
    ({"resyncPeriod": "10 minutes"}, "resyncPeriod"),
    ({"image": {"tag": 1.1}}, "tag"),
    ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
    ({"watchNamespaces": ["Not_A_Namespace"]}, "watchNamespaces"),
    ({"terminationGracePeriodSeconds": 5}, "terminationGracePeriodSeconds"),
    ({"probes": {"port": 70000}}, "port"),
    # the apiserver rejects a liveness successThreshold other than 1
    ({"probes": {"liveness": {"successThreshold": 2}}}, "successThreshold"),
    ({"probes": {"liveness": {"successThreshold": 0}}}, "successThreshold"),
    ({"metrics": {"serviceMonitor": {"enabled": True, "interval": "10s", "scrapeTimeout": "1m"}}},
     "must not be longer than its interval"),
    ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "interval"),
    ({"metrics": {"service": {"port": 9000}}}, "port"),
])
def test_bad_values_are_refused(bad, msg):
    err = render_error(values=bad)
    assert msg in err


def test_liveness_success_threshold_may_be_1():
    for r in (render(values={"probes": {"liveness": {"successThreshold": 1}}}),
              render("--set", "probes.liveness.successThreshold=1")):
        assert r.container["livenessProbe"]["successThreshold"] == 1
    # readiness probes may need several successes
    r = render(values={"probes": {"readiness": {"successThreshold": 2}}})
    assert r.container["readinessProbe"]["successThreshold"] == 2


# ------------------------------------------------------------ operator flags

def test_default_args(default):
    assert default.container["command"] == ["/usr/local/bin/fh-supervisor"]
    assert default.args == [
        "--health-probe-bind-address=:8081",
        "--workers=4",
        "--log-level=info",
        "--resync-period=10m",
        "--task-timeout=2m",
        "--drain-timeout=25s",
        "--leader-elect",
        "--leader-elect-namespace=default",
        "--leader-elect-id=" + FULL,
        "--leader-elect-lease-duration=15s",
        "--leader-elect-renew-deadline=10s",
        "--leader-elect-retry-period=2s",
    ]


def test_lease_is_in_the_release_namespace_and_named_like_its_role():
    r = render("-n", "ops")
    assert r.arg("--leader-elect-namespace") == "ops"
    role = r.one("Role", FULL + "-leader-election")
    assert role["metadata"]["namespace"] == "ops"
    assert role["rules"][1]["resourceNames"] == [r.arg("--leader-elect-id")]


def test_probes_point_at_the_port_the_supervisor_serves():
    for args in ([], ["--set", "probes.port=9440"]):
        r = render(*args)
        port = int(r.arg("--health-probe-bind-address").rsplit(":", 1)[1])
        ports = {p["name"]: p["containerPort"] for p in r.container["ports"]}
        assert ports == {"health": port}
        assert r.container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
        assert r.container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}


def test_metrics_service_reaches_the_pods_port_that_serves_metrics():
    r = render("--set", "probes.port=9440", "--set", "metrics.serviceMonitor.enabled=true")
    svc = metrics_service(r)
    # the Service's selector picks the operator's pods, its targetPort is
    # the container port the supervisor serves /metrics on
    assert svc["spec"]["selector"].items() <= labels_of_pod(r).items()
    assert svc["spec"]["ports"][0]["targetPort"] == "health"
    assert {p["name"]: p["containerPort"] for p in r.container["ports"]}["health"] == 9440
    assert svc["spec"]["ports"][0]["port"] == 9440
    # the ServiceMonitor selects exactly that Service, in the release namespace
    sm = r.one("ServiceMonitor")
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [svc["metadata"]["namespace"]]}
    assert sm["spec"]["endpoints"] == [{"port": "http-metrics", "path": "/metrics", "scheme": "http",
                                        "interval": "30s", "scrapeTimeout": "10s"}]


def _supervisor():
    path = os.path.join(ROOT, "build", "rel", "bin", "fh-supervisor")
    if not os.access(path, os.X_OK):
        subprocess.run(["make", "-s", "-C", ROOT, "VARIANT=rel", "all"], check=True)
    return path


def test_supervisor_accepts_every_flag_the_chart_passes():
    usage = subprocess.run([_supervisor(), "--help"], capture_output=True, text=True).stdout
    known = set(re.findall(r"^\s+(--[a-z-]+)", usage, flags=re.M))
    r = render(values={"watchNamespaces": ["a", "b"], "extraArgs": []})
    used = {a.split("=", 1)[0] for a in r.args}
    assert used <= known, "flags fh-supervisor does not know: %s" % (used - known)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_supervisor_runs_with_the_rendered_args_and_serves_the_probe_port(tmp_path):
    """The exact rendered args start fh-supervisor (a bad flag exits 78 at
    once), and /healthz answers on the port the probes use."""
    port = _free_port()
    r = render("--set", "probes.port=%d" % port, "--set", "watchNamespaces={team-a}")
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path), "KUBECONFIG": str(tmp_path / "none"),
           "HOME": str(tmp_path)}
    p = subprocess.Popen([_supervisor()] + r.args, env=env, cwd=str(tmp_path),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        status = None
        deadline = time.time() + 10
        while time.time() < deadline and status is None:
            assert p.poll() is None, "fh-supervisor exited %s: %s" % (p.returncode, p.stderr.read()[-2000:])
            try:
                status = urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1).status
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError:
                time.sleep(0.1)
        assert status in (200, 503), "no /healthz on the probe port %d" % port
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1)
            ready = 200
        except urllib.error.HTTPError as e:
            ready = e.code
        assert ready == 503  # nothing listed: no apiserver here
        # the metrics Service's port: /metrics is served there too
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=1).read().decode()
        assert "# TYPE fleet_handshake_ready gauge" in body and "\nfleet_handshake_ready 0\n" in body
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        p.stderr.close()
    assert rc == 0, "fh-supervisor did not drain and exit 0 on SIGTERM"


@pytest.mark.parametrize("lease,renew,retry", [
    ("15s", "10s", "2s"), ("1m30s", "1m", "10s"), ("15s", "2401ms", "2s"),
    ("10s", "10s", "2s"), ("15s", "2400ms", "2s"), ("900ms", "500ms", "100ms"),
])
def test_leader_timing_refused_by_the_chart_exactly_when_the_supervisor_refuses_it(tmp_path, lease, renew, retry):
    """The chart fails at install time for the timings fh-supervisor would
    refuse at start (exit 78, a crash-looping pod), and only for those."""
    sets = "leaderElection.leaseDuration=%s,leaderElection.renewDeadline=%s,leaderElection.retryPeriod=%s" % (
        lease, renew, retry)
    p = run_render("--set", sets, check=False)
    flags = ["--leader-elect", "--leader-elect-namespace=default", "--leader-elect-lease-duration=" + lease,
             "--leader-elect-renew-deadline=" + renew, "--leader-elect-retry-period=" + retry,
             "--health-probe-bind-address=0"]
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path), "KUBECONFIG": str(tmp_path / "none"),
           "HOME": str(tmp_path)}
    sup = subprocess.Popen([_supervisor()] + flags, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = sup.wait(timeout=1.5)
    except subprocess.TimeoutExpired:
        rc = None  # running: the flags were accepted
        sup.send_signal(signal.SIGTERM)
        sup.wait(timeout=20)
    if p.returncode == 0:
        assert rc is None, "the chart renders timings fh-supervisor refuses (exit %s)" % rc
    else:
        assert "leaderElection timing" in p.stderr
        assert rc == 78, "the chart refuses timings fh-supervisor accepts"


def test_drain_timeout_is_shorter_than_the_grace_period():
    for tgps in (6, 30, 120):
        r = render("--set", "terminationGracePeriodSeconds=%d" % tgps)
        drain = int(r.arg("--drain-timeout").rstrip("s"))
        assert 0 < drain < r.pod["terminationGracePeriodSeconds"] == tgps


# ------------------------------------------------------------ security

def test_security_context(default):
    pod = default.pod["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == 65532 and pod["runAsUser"] != 0
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["fsGroup"] == 65532
    c = default.container["securityContext"]
    assert c["readOnlyRootFilesystem"] is True
    assert c["allowPrivilegeEscalation"] is False
    assert c["capabilities"] == {"drop": ["ALL"]}
    assert c["runAsNonRoot"] is True
    assert c.get("privileged") is False


def test_tmp_is_a_writable_emptydir(default):
    # the IPC socket directory: the root filesystem is read-only
    assert {"name": "tmp", "mountPath": "/tmp"} in default.container["volumeMounts"]
    tmp = [v for v in default.pod["volumes"] if v["name"] == "tmp"]
    assert len(tmp) == 1 and "emptyDir" in tmp[0]
    assert {"name": "TMPDIR", "value": "/tmp"} in default.container["env"]


def test_image_user_matches_the_pod_user(default):
    df = open(os.path.join(ROOT, "Dockerfile")).read()
    user = re.findall(r"^USER\s+(\d+)(?::(\d+))?", df, flags=re.M)[-1]
    assert int(user[0]) == default.pod["securityContext"]["runAsUser"]
    assert int(user[1]) == default.pod["securityContext"]["runAsGroup"]


# ------------------------------------------------------------ replicas

def test_replicas_without_leader_election_fail_clearly():
    err = render_error("--set", "replicaCount=2", "--set", "leaderElection.enabled=false")
    assert "replicaCount=2 needs leaderElection.enabled=true" in err
    assert "execution error at (" in err


def test_replicas_with_leader_election_render():
    r = render("--set", "replicaCount=3")
    assert r.deployment["spec"]["replicas"] == 3 and r.arg("--leader-elect") is True
    assert "strategy" not in r.deployment["spec"]  # rolling update: the new pod stands by


def test_one_replica_without_leader_election_recreates():
    r = render("--set", "leaderElection.enabled=false")
    assert r.deployment["spec"]["replicas"] == 1
    assert r.deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_service_account_create_false_needs_a_name():
    err = render_error("--set", "serviceAccount.create=false")
    assert "serviceAccount.name is required" in err


# ------------------------------------------------------------ CRD

def test_crd_is_in_crds_and_not_in_templates(default):
    crds = glob.glob(os.path.join(CHART, "crds", "*.yaml"))
    assert [os.path.basename(c) for c in crds] == ["fleethandshakes.riverpointtechnology.com.yaml"]
    crd = yaml.safe_load(open(crds[0]))
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == "fleethandshakes.riverpointtechnology.com"
    assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}
    for t in glob.glob(os.path.join(CHART, "templates", "*")):
        assert "CustomResourceDefinition" not in open(t).read(), t
    assert not default.all("CustomResourceDefinition")
    with_crds = render("--include-crds")
    assert with_crds.docs[0]["kind"] == "CustomResourceDefinition"
    assert with_crds.sources[0] == "fleet-handshake/crds/fleethandshakes.riverpointtechnology.com.yaml"
    assert with_crds.docs[1:] == default.docs


# ------------------------------------------------------------ objects

ALL_ON = {"replicaCount": 2, "watchNamespaces": ["team-a", "team-b"], "podDisruptionBudget": {"enabled": True},
          "rbac": {"aggregateToEdit": True}, "podAnnotations": {"a": "b"}, "podLabels": {"c": "d"},
          "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}}}


@pytest.mark.parametrize("values", [{}, ALL_ON, {"leaderElection": {"enabled": False}, "rbac": {"create": False}}],
                         ids=["defaults", "all-on", "minimal"])
def test_every_object_parses_and_is_named_and_labelled(values):
    r = render("--name", "fh", "-n", "ops", values=values)
    assert r.docs
    for src, d in zip(r.sources, r.docs):
        assert src.startswith("fleet-handshake/templates/") and not os.path.basename(src).startswith("_")
        assert d.get("apiVersion") and d.get("kind"), src
        name = d["metadata"]["name"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) and len(name) <= 63, name
        labels = d["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/instance"] == "fh"
        assert labels["app.kubernetes.io/name"] == "fleet-handshake"
        assert labels["helm.sh/chart"] == "fleet-handshake-0.1.0"
        if d["kind"] in ("Deployment", "ServiceAccount", "PodDisruptionBudget", "RoleBinding", "Role",
                         "Service", "ServiceMonitor"):
            ns = d["metadata"]["namespace"]
            assert ns == "ops" or (d["kind"] in ("Role", "RoleBinding") and ns in values.get("watchNamespaces", []))
        else:
            assert "namespace" not in d["metadata"], "%s is cluster-scoped" % d["kind"]
    dep = r.deployment
    sel = dep["spec"]["selector"]["matchLabels"]
    assert sel.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    for pdb in r.all("PodDisruptionBudget"):
        assert pdb["spec"]["selector"]["matchLabels"] == sel


def test_kinds_in_install_order(default):
    assert [d["kind"] for d in default.docs] == [
        "ServiceAccount", "ClusterRole", "ClusterRole", "ClusterRole", "ClusterRoleBinding",
        "Role", "RoleBinding", "Deployment"]


def test_names(default):
    assert default.deployment["metadata"]["name"] == FULL
    assert render("--name", "fleet-handshake").deployment["metadata"]["name"] == "fleet-handshake"
    assert render("--name", "my-fleet-handshake-prod").deployment["metadata"]["name"] == "my-fleet-handshake-prod"
    long = render("--name", "a" * 60)
    name = long.deployment["metadata"]["name"]
    assert len(name) <= 63 and not name.endswith("-")
    for d in long.docs:
        assert len(d["metadata"]["name"]) <= 63 + len("-leader-election")


def test_kube_version_constraint():
    assert CHART_META["kubeVersion"] == ">=1.27.0-0"
    render("--kube-version", "v1.27.0")
    render("--kube-version", "v1.33.1")
    assert "incompatible with Kubernetes v1.26" in render_error("--kube-version", "v1.26.9")


def test_null_removes_a_default_and_files_merge_in_order(tmp_path):
    # Helm's coalescing: null deletes a chart default, later -f files win
    assert "nodeSelector" not in render("--set", "nodeSelector=null").pod
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("workers: 5\nlogLevel: debug\n")
    b.write_text("workers: 6\n")
    r = render("-f", str(a), "-f", str(b))
    assert (r.arg("--workers"), r.arg("--log-level")) == ("6", "debug")
    assert render("-f", str(a), "--set", "workers=9").arg("--workers") == "9"
    # --set keeps "1.10" a string, a YAML 1.10 is a number the schema refuses
    assert render("--set", "image.tag=1.10").container["image"] == "fleet-handshake:1.10"


def test_notes_render():
    for values in ({}, ALL_ON, {"leaderElection": {"enabled": False}}):
        out = run_render("--notes", values=values).stdout
        notes = out.split("\nNOTES:\n", 1)[1]
        assert "kubectl apply -f crds/" in notes
        assert "<no value>" not in notes and "%!" not in notes
    notes = run_render("--notes", values=ALL_ON).stdout.split("\nNOTES:\n", 1)[1]
    assert "team-a, team-b" in notes and "aggregateToEdit" in notes


# ------------------------------------------------------------ RBAC

def test_cluster_rbac_is_exactly_least_privilege(default):
    role = default.one("ClusterRole", FULL)
    assert role["rules"] == OPERATOR_RULES
    crb = default.one("ClusterRoleBinding", FULL)
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": FULL}
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": FULL, "namespace": "default"}]
    lease = default.one("Role", FULL + "-leader-election", "default")
    assert lease["rules"] == lease_rules()
    rb = default.one("RoleBinding", FULL + "-leader-election", "default")
    assert rb["roleRef"]["name"] == FULL + "-leader-election" and rb["roleRef"]["kind"] == "Role"
    assert rb["subjects"] == crb["subjects"]
    # nothing else grants the operator anything
    bound = {b["roleRef"]["name"] for b in bindings(default)}
    assert bound == {FULL, FULL + "-leader-election"}


def test_namespaced_rbac_replaces_the_cluster_role():
    r = render("-n", "ops", "--set", "watchNamespaces={team-a,team-b}")
    assert not r.all("ClusterRole", FULL) and not r.all("ClusterRoleBinding")
    for ns in ("team-a", "team-b"):
        assert r.one("Role", FULL, ns)["rules"] == OPERATOR_RULES
        rb = r.one("RoleBinding", FULL, ns)
        assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": FULL}
        assert rb["subjects"] == [{"kind": "ServiceAccount", "name": FULL, "namespace": "ops"}]
    assert r.one("Role", FULL + "-leader-election", "ops")["rules"] == lease_rules()
    assert len(r.all("Role")) == 3 and len(r.all("RoleBinding")) == 3


def test_no_wildcards_and_no_lease_rbac_without_leader_election():
    r = render("--set", "leaderElection.enabled=false")
    assert not [d for d in r.all("Role") if "leader" in d["metadata"]["name"]]
    for role in r.all("ClusterRole") + r.all("Role"):
        for rule in role["rules"]:
            for k in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[k], role["metadata"]["name"]


def test_user_roles(default):
    view = default.one("ClusterRole", FULL + "-view")
    assert view["rules"] == [{"apiGroups": ["riverpointtechnology.com"], "resources": ["fleethandshakes"],
                              "verbs": ["get", "list", "watch"]}]
    for k in ("view", "edit", "admin"):
        assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-" + k] == "true"
    edit = default.one("ClusterRole", FULL + "-edit")
    assert edit["rules"] == [{"apiGroups": ["riverpointtechnology.com"], "resources": ["fleethandshakes"],
                              "verbs": ["get", "list", "watch", "create", "update", "patch", "delete",
                                        "deletecollection"]}]
    # not aggregated into edit by default (creating one ships a Secret downstream)
    assert not [k for k in edit["metadata"]["labels"] if "aggregate" in k]
    on = render("--set", "rbac.aggregateToEdit=true").one("ClusterRole", FULL + "-edit")
    assert on["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert on["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"


# (group, resource, verb) of every apiserver request the C sources make, derived from the code:
# the request functions (kube_request and the wrappers that pass their method and path on to it,
# such as worker/wreq.c's wreq_do), the path each call site passes (a path builder such as
# wreq_bundle_path(ns, NAME-or-NULL), or a path snprintf'd from a literal, as elector/lease.c
# does), the method (a literal, or `cond ? "A" : "B"` paired with the path's `cond ? X : Y`), and
# the reflectors (kube/kube_reflector.c lists and watches the collections fh-watcher's table
# names). RBAC's verbs: GET of one object = get, of a collection = list, ?watch = watch,
# POST = create, PUT = update, PATCH = patch, DELETE = delete (deletecollection on a
# collection); a subresource is resource/sub. An ownerReference with blockOwnerDeletion: true
# needs update on the owner's finalizers (OwnerReferencesPermissionEnforcement).
API_DIRS = ("kube", "watcher", "worker", "elector")
PREFIX_RE = r'"/(?:api/v1|apis/([a-z0-9.-]+)/v[0-9a-z]+)'
METHOD_VERB = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def _c_sources(dirs=API_DIRS):
    out = {}
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(ROOT, d, "*.c"))):
            text = re.sub(r"/\*.*?\*/", " ", open(f).read(), flags=re.S)
            out[os.path.relpath(f, ROOT)] = re.sub(r"//[^\n]*", "", text)
    return out


def _functions(text):
    """name -> (parameter names, body) of every function defined at file level (this tree's
    style: the name at the start of a line, the braces of the body alone on their lines)."""
    out = {}
    for m in re.finditer(r"^(\w+)\(([^)]*)\)\s*\n\{\n(.*?)^\}", text, flags=re.M | re.S):
        params = [re.findall(r"\w+", p)[-1] for p in m.group(2).split(",") if re.findall(r"\w+", p)]
        out[m.group(1)] = (params, m.group(3))
    return out


def _args(text, start):
    """The top-level, comma-separated arguments of the call whose "(" is at text[start]."""
    depth, cur, out, i, quote = 0, "", [], start, None
    while True:
        c = text[i]
        if quote:
            cur += c
            if c == "\\":
                cur += text[i + 1]
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            cur += c
        elif c in "([{":
            depth += 1
            if depth > 1:
                cur += c
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                out.append(cur.strip())
                return out
            cur += c
        elif c == "," and depth == 1:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1


def _alternatives(expr):
    """[(condition, branch, value)] of expr: `c ? A : B` gives two, anything else one."""
    m = re.fullmatch(r"\(?\s*(!?[\w>.-]+)\s*\?\s*(.+?)\s*:\s*(.+?)\s*\)?", expr.strip())
    if m:
        return [(m.group(1), True, m.group(2)), (m.group(1), False, m.group(3))]
    return [(None, None, expr.strip())]


def _api_calls_in_code():
    srcs = _c_sources()
    funcs = {}
    for f, text in srcs.items():
        for name, (params, body) in _functions(text).items():
            funcs[name] = (f, params, body)

    # path builders: return ns_path("/apis/G/V", ns, "plural", name, "/sub"-or-NULL)
    builders = {}
    for name, (f, params, body) in funcs.items():
        m = re.search(r"return\s+\w+\(\s*" + PREFIX_RE + r'"\s*,\s*\w+\s*,\s*"([a-z]+)"\s*,\s*(\w+)\s*,'
                      r'\s*(?:"/([a-z]+)"|NULL)\s*\)', body)
        if m:
            assert params.index(m.group(3)) >= 0
            builders[name] = (m.group(1) or "", m.group(2) + ("/" + m.group(4) if m.group(4) else ""),
                              params.index(m.group(3)))
    assert {"wreq_secret_path", "wreq_bundle_path", "wreq_fh_status_path"} <= set(builders), builders

    # paths kept in struct fields: snprintf(e->FIELD, n, "/apis/G/V/namespaces/%s/plural", ...)
    # (a collection), snprintf(e->OTHER, n, "%s/%s", e->FIELD, name) (one object of it)
    fields = {}
    for f, text in srcs.items():
        for m in re.finditer(r"snprintf\(\s*(\w+->\w+)\s*,\s*\w+\s*,\s*" + PREFIX_RE +
                             r'[^"]*/([a-z]+)"', text):
            fields[m.group(1)] = (m.group(2) or "", m.group(3), False)
        for m in re.finditer(r'snprintf\(\s*(\w+->\w+)\s*,\s*\w+\s*,\s*"%s/%s"\s*,\s*(\w+->\w+)\s*,', text):
            if m.group(2) in fields:
                g, r, _ = fields[m.group(2)]
                fields[m.group(1)] = (g, r, True)

    def resolve_path(expr, body):
        """[(condition, branch, group, resource, is_one)] for a path expression."""
        out = []
        for cond, br, e in _alternatives(expr):
            if e in fields:
                out.append((cond, br) + fields[e])
                continue
            m = re.search(r"\b" + re.escape(e) + r"\s*=\s*(\w+)\(", body)
            assert m and m.group(1) in builders, "cannot tell which path %r is" % e
            g, r, name_at = builders[m.group(1)]
            name = _args(body, m.end() - 1)[name_at]
            for ncond, nbr, n in _alternatives(name):
                out.append((ncond, nbr, g, r, n != "NULL"))
        return out

    # request functions: kube_request(client, method, path, ...), and every function that
    # passes its own method and path parameters on to a request function
    requests = {"kube_request": (1, 2)}
    grew = True
    while grew:
        grew = False
        for name, (f, params, body) in funcs.items():
            for rq, (mi, pi) in list(requests.items()):
                for m in re.finditer(r"\b%s\(" % rq, body):
                    a = _args(body, m.end() - 1)
                    if a[mi] in params and a[pi] in params and name not in requests:
                        requests[name] = (params.index(a[mi]), params.index(a[pi]))
                        grew = True
    calls = set()
    sites = 0
    for name, (f, params, body) in funcs.items():
        if name in requests:
            continue
        for rq, (mi, pi) in requests.items():
            for m in re.finditer(r"\b%s\(" % rq, body):
                a = _args(body, m.end() - 1)
                methods = _alternatives(a[mi])
                paths = resolve_path(a[pi], body)
                sites += 1
                for mc, mb, method in methods:
                    method = method.strip('"')
                    assert method in ("GET", "POST", "PUT", "PATCH", "DELETE"), "%s: method %r" % (f, method)
                    for pc, pb, g, r, one in paths:
                        if mc and pc and mc == pc and mb != pb:
                            continue  # create ? "POST" : "PUT" with create ? collection : one
                        if method == "GET":
                            verb = "get" if one else "list"
                        elif method == "DELETE":
                            verb = "delete" if one else "deletecollection"
                        else:
                            verb = METHOD_VERB[method]
                        calls.add((g, r, verb))
    assert sites >= 6, "found only %d request call sites" % sites

    # reflectors: fh-watcher's table of (prefix, plural) collections, listed and watched by
    # kube/kube_reflector.c
    refl = srcs["kube/kube_reflector.c"]
    assert re.search(r'append_param\(&r->url, "watch", "1"', refl), "the reflector no longer watches"
    assert re.search(r'append_param\(&r->url, "limit"', refl), "the reflector no longer lists"
    watched = set()
    for f, text in srcs.items():
        if f.startswith("watcher/"):
            for m in re.finditer(PREFIX_RE + r'"\s*,\s*"([a-z]+)"', text):
                watched.add((m.group(1) or "", m.group(2)))
    assert len(watched) == 3, watched
    for g, r in watched:
        calls |= {(g, r, "list"), (g, r, "watch")}

    # blockOwnerDeletion: update on the owner's finalizers subresource
    consts = dict(re.findall(r'^#define\s+(\w+)\s+"([^"]*)"', "".join(
        open(h).read() for h in glob.glob(os.path.join(ROOT, "include", "*.h"))), flags=re.M))
    crds = [yaml.safe_load(open(c)) for c in glob.glob(os.path.join(CHART, "crds", "*.yaml"))]
    for f, text in srcs.items():
        for name, (_, body) in _functions(text).items():
            if re.search(r'AddTrueToObject\(\s*\w+\s*,\s*"blockOwnerDeletion"\s*\)', body):
                kind = re.search(r'"kind"\s*,\s*(\w+|"\w+")\s*\)', body).group(1)
                api = re.search(r'"apiVersion"\s*,\s*(\w+|"[^"]+")\s*\)', body).group(1)
                kind, api = consts.get(kind, kind.strip('"')), consts.get(api, api.strip('"'))
                [crd] = [c for c in crds if c["spec"]["names"]["kind"] == kind]
                assert api.split("/")[0] == crd["spec"]["group"]
                calls.add((crd["spec"]["group"], crd["spec"]["names"]["plural"] + "/finalizers", "update"))
    return calls


def _granted(r):
    roles = [r.one("ClusterRole", FULL), r.one("Role", FULL + "-leader-election")]
    return {(g, res, v) for role in roles for rule in role["rules"] for g in rule["apiGroups"]
            for res in rule["resources"] for v in rule["verbs"]}


def test_rbac_covers_exactly_the_resources_the_code_calls(default):
    """Each (group, resource, verb) the C code uses is granted, and nothing else is."""
    code = _api_calls_in_code()
    granted = _granted(default)
    assert code == granted, "code uses %s\nRBAC grants %s\nmissing %s, unused %s" % (
        sorted(code), sorted(granted), sorted(code - granted), sorted(granted - code))
    # the same in namespaced mode (Roles instead of the ClusterRole)
    ns = render("--set", "watchNamespaces={a,b}")
    for n in ("a", "b"):
        assert {(g, res, v) for rule in ns.one("Role", FULL, n)["rules"] for g in rule["apiGroups"]
                for res in rule["resources"] for v in rule["verbs"]} == {
            t for t in code if t[1] != "leases"}


def test_api_call_derivation_sees_every_verb():
    """The derivation itself: what it finds per file kind (so a parse gap cannot pass silently)."""
    code = _api_calls_in_code()
    assert ("", "secrets", "get") in code and ("fleet.cattle.io", "bundles", "create") in code
    assert ("fleet.cattle.io", "bundles", "patch") in code and ("fleet.cattle.io", "bundles", "delete") in code
    assert ("riverpointtechnology.com", "fleethandshakes/status", "patch") in code
    assert ("coordination.k8s.io", "leases", "create") in code and ("coordination.k8s.io", "leases", "update") in code
    # the POST goes to the collection and the PUT to the object: no "create one"/"update all" mixups
    assert ("coordination.k8s.io", "leases", "list") not in code
    assert not [t for t in code if t[2] == "deletecollection"]


# ------------------------------------------------------------ metadata and docs

def test_chart_metadata():
    m = CHART_META
    assert m["apiVersion"] == "v2" and m["name"] == "fleet-handshake" and m["type"] == "application"
    assert m["version"] == "0.1.0" and m["appVersion"] == "0.1.0"
    assert m["description"] and m["home"] and m["sources"] and m["keywords"]
    assert os.path.isfile(os.path.join(CHART, "values.schema.json"))
    assert os.path.isfile(os.path.join(CHART, "templates", "NOTES.txt"))


def test_every_value_is_documented_in_values_yaml():
    """Each leaf, or a block it is in, has a comment right above it."""
    lines = open(os.path.join(CHART, "values.yaml")).read().splitlines()
    documented = set()
    stack = []
    for i, line in enumerate(lines):
        m = re.match(r"^( *)([A-Za-z][A-Za-z0-9]*):", line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        stack = stack[:depth] + [m.group(2)]
        j = i - 1
        if j >= 0 and lines[j].lstrip().startswith("#"):
            documented.add(".".join(stack))
    for p in leaves(VALUES):
        parts = p.split(".")
        assert any(".".join(parts[:k]) in documented for k in range(1, len(parts) + 1)), \
            "%s has no comment in values.yaml" % p


def test_readme_values_table_lists_every_value():
    readme = open(os.path.join(ROOT, "README.md")).read()
    rows = dict(re.findall(r"^\| `([A-Za-z][A-Za-z0-9.]*)` \| (.*?) \|", readme, flags=re.M))
    for p in leaves(VALUES):
        parts = p.split(".")
        keys = [".".join(parts[:k]) for k in range(len(parts), 0, -1)]
        assert any(k in rows for k in keys), "README's values table lacks %s" % p
        if p in rows:
            default = VALUES
            for part in parts:
                default = default[part]
            shown = rows[p].strip("` ")
            if isinstance(default, (bool, int, str)) and not isinstance(default, dict):
                want = str(default).lower() if isinstance(default, bool) else str(default)
                assert shown == (want if want != "" else '""'), "%s: README says %s, values.yaml %r" % (p, shown, default)


@pytest.mark.parametrize("readme", ["README.md", "helm/fleet-handshake/README.md"])
def test_upgrade_instructions_apply_the_crd_first_and_keep_new_defaults(readme):
    """`helm upgrade --reuse-values` replaces the new chart's defaults with the old release's
    values; Helm never upgrades crds/. Every documented upgrade applies the CRD, then upgrades
    with --reset-then-reuse-values or -f."""
    text = open(os.path.join(ROOT, readme)).read()
    blocks = [b.replace("\\\n", " ") for b in re.findall(r"^```[A-Za-z]*\n(.*?)^```", text, flags=re.M | re.S)]
    upgrades = [b for b in blocks if "helm upgrade" in b]
    assert upgrades, "%s documents no helm upgrade" % readme
    for b in upgrades:
        lines = [l.split("#", 1)[0].strip() for l in b.splitlines()]
        up = next(i for i, l in enumerate(lines) if l.startswith("helm upgrade"))
        crd = [i for i, l in enumerate(lines) if re.match(r"kubectl apply .*-f \S*crds/?", l)]
        assert crd and crd[0] < up, "%s: apply the CRD before helm upgrade:\n%s" % (readme, b)
        cmd = lines[up]
        assert "--reuse-values" not in cmd.split(), "%s: --reuse-values drops new defaults" % readme
        assert "--reset-then-reuse-values" in cmd.split() or re.search(r"(^| )(-f|--values) ", cmd), cmd
    assert "--reset-then-reuse-values" in text and "3.14" in text
    assert re.search(r"-f my-values\.yaml", text)
