"""The FleetHandshake CRD (helm/fleet-handshake/crds/): schema, validation, passthrough.

- The schema is structural (the invariants kube-apiserver enforces, checked
  here because the emulator does not check them all) and every property has
  a description, so `kubectl explain` helps.
- The original operator's samples apply unchanged and the operator syncs
  them; the printer columns show what they should.
- A target with unknown fields, explicit nulls and nested helm.values
  round-trips unchanged into the stored object and into the Bundle.
- Names Kubernetes could never accept (bad characters, too long) and wrong
  types are refused with 422 by the apiserver, before the operator sees them.
- `kubectl explain` renders the descriptions (through a small OpenAPI v3
  shim, since the emulator publishes no schemas).
"""
import copy
import glob
import http.server
import json
import os
import subprocess
import threading
import urllib.error
import urllib.request

import pytest
import yaml

import harness
from harness import bundle_path, fh_manifest, fh_path, secret_manifest, wait_for

SAMPLES = os.path.join(harness.ROOT, "config", "samples")
FH_LIST = "/apis/riverpointtechnology.com/v1alpha1/namespaces/fleet-default/fleethandshakes"

DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def load_crd():
    with open(harness.CRD) as f:
        return yaml.safe_load(f)


def root_schema():
    return load_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def target_schema():
    return root_schema()["properties"]["spec"]["properties"]["targets"]["items"]


def walk(schema, path="", root=True):
    """Yield (path, schema) for every schema node below `schema`."""
    yield path, schema
    for k, sub in (schema.get("properties") or {}).items():
        yield from walk(sub, f"{path}.{k}" if path else k, False)
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], path + "[]", False)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], path + "{}", False)


# ------------------------------------------------------------ static schema

def test_schema_is_structural():
    """The structural-schema rules kube-apiserver applies to apiextensions/v1 CRDs."""
    errors = []
    for path, s in walk(root_schema()):
        where = path or "<root>"
        for junctor in ("allOf", "anyOf", "oneOf", "not"):
            if junctor in s:
                errors.append(f"{where}: {junctor} not used by this CRD (keep it simple)")
        if "type" not in s and not (s.get("x-kubernetes-preserve-unknown-fields") is True
                                    or s.get("x-kubernetes-int-or-string") is True):
            errors.append(f"{where}: no type")
        if s.get("properties") and isinstance(s.get("additionalProperties"), (dict, bool)):
            errors.append(f"{where}: properties and additionalProperties are exclusive")
        if "x-kubernetes-preserve-unknown-fields" in s and s["x-kubernetes-preserve-unknown-fields"] is not True:
            errors.append(f"{where}: x-kubernetes-preserve-unknown-fields must be true or absent")
        if "x-kubernetes-map-type" in s and s.get("type") != "object":
            errors.append(f"{where}: x-kubernetes-map-type on a non-object")
        if "x-kubernetes-list-type" in s and s.get("type") != "array":
            errors.append(f"{where}: x-kubernetes-list-type on a non-array")
        if s.get("x-kubernetes-list-type") == "map":
            items = s.get("items") or {}
            for key in s.get("x-kubernetes-list-map-keys") or []:
                if key not in (items.get("required") or []) and "default" not in items["properties"][key]:
                    errors.append(f"{where}: list-map key {key} neither required nor defaulted")
        for req in s.get("required") or []:
            if req not in (s.get("properties") or {}):
                errors.append(f"{where}: required {req} is not a property")
        if s.get("type") == "array" and "items" not in s:
            errors.append(f"{where}: array without items")
        if "pattern" in s:
            assert s.get("type") == "string", where
    # metadata: nothing but type (a description there is refused by the apiserver)
    assert root_schema()["properties"]["metadata"] == {"type": "object"}
    assert not errors, "\n".join(errors)


def test_every_property_has_a_description():
    missing = []
    for path, s in walk(root_schema()):
        if path == "metadata":
            continue  # the apiserver forbids anything but type there
        named = path == "" or not path.endswith(("[]", "{}"))
        if (named or s.get("type") == "object") and not (s.get("description") or "").strip():
            missing.append(path or "<root>")
    assert not missing, "no description: " + ", ".join(missing)


def test_target_item_carries_fleet_bundletarget_schema():
    t = target_schema()
    assert t["type"] == "object" and t["x-kubernetes-preserve-unknown-fields"] is True
    p = t["properties"]
    identity = {"name", "clusterName", "clusterSelector", "clusterGroup", "clusterGroupSelector", "doNotDeploy"}
    options = {"defaultNamespace", "namespace", "helm", "kustomize", "yaml", "serviceAccount",
               "forceSyncGeneration", "diff", "keepResources", "deleteNamespace", "ignore",
               "correctDrift", "namespaceLabels", "namespaceAnnotations", "deleteCRDResources",
               "createNamespace", "downstreamResources", "overwrites", "allowedTargetNamespaceSelector"}
    assert identity | options <= set(p), sorted(identity | options - set(p))
    # Fleet's types
    assert p["forceSyncGeneration"] == {**p["forceSyncGeneration"], "type": "integer", "format": "int64"}
    for b in ("doNotDeploy", "keepResources", "deleteNamespace", "deleteCRDResources", "createNamespace"):
        assert p[b]["type"] == "boolean", b
    for m in ("namespaceLabels", "namespaceAnnotations"):
        assert p[m]["type"] == "object" and p[m]["additionalProperties"] == {"type": "string"}, m
    for sel in ("clusterSelector", "clusterGroupSelector", "allowedTargetNamespaceSelector"):
        s = p[sel]
        assert set(s["properties"]) == {"matchLabels", "matchExpressions"}, sel
        assert s["properties"]["matchLabels"]["additionalProperties"] == {"type": "string"}
        req = s["properties"]["matchExpressions"]["items"]
        assert set(req["properties"]) == {"key", "operator", "values"} and req["required"] == ["key", "operator"]
        assert req["properties"]["values"]["items"] == {"type": "string"}
        # closed on purpose: a misspelt key must not silently become an empty (match-all) selector
        assert "x-kubernetes-preserve-unknown-fields" not in s, sel
    h = p["helm"]["properties"]
    assert {"chart", "repo", "releaseName", "version", "timeoutSeconds", "values", "templateValues",
            "valuesFrom", "valuesFiles", "force", "takeOwnership", "maxHistory", "waitForJobs", "atomic",
            "disablePreProcess", "disableDNS", "skipSchemaValidation", "disableDependencyUpdate"} <= set(h)
    assert h["timeoutSeconds"]["type"] == "integer" and h["maxHistory"]["type"] == "integer"
    assert h["values"]["type"] == "object" and h["values"]["x-kubernetes-preserve-unknown-fields"] is True
    assert h["releaseName"]["maxLength"] == 53 and h["releaseName"]["pattern"] == DNS_SUBDOMAIN
    assert set(h["valuesFrom"]["items"]["properties"]) == {"configMapKeyRef", "secretKeyRef"}
    assert set(p["correctDrift"]["properties"]) == {"enabled", "force", "keepFailHistory"}
    assert set(p["kustomize"]["properties"]) == {"dir"}
    assert p["yaml"]["properties"]["overlays"]["items"] == {"type": "string"}
    assert p["ignore"]["properties"]["conditions"]["items"]["additionalProperties"] == {"type": "string"}
    cp = p["diff"]["properties"]["comparePatches"]["items"]["properties"]
    assert {"apiVersion", "kind", "name", "namespace", "jsonPointers", "operations"} <= set(cp)
    assert set(cp["operations"]["items"]["properties"]) == {"op", "path", "value"}
    assert set(p["downstreamResources"]["items"]["properties"]) == {"kind", "name"}
    # Fleet's option objects keep fields of newer Fleet versions
    for o in ("helm", "kustomize", "yaml", "diff", "ignore", "correctDrift"):
        assert p[o].get("x-kubernetes-preserve-unknown-fields") is True, o


def test_spec_names_match_kubernetes_rules_and_required_is_the_originals():
    spec = root_schema()["properties"]["spec"]
    assert spec["required"] == ["secretName", "secretNamespace", "targetNamespace", "targets"]
    p = spec["properties"]
    assert (p["secretName"]["maxLength"], p["secretName"]["pattern"]) == (253, DNS_SUBDOMAIN)
    for f in ("secretNamespace", "targetNamespace"):
        assert (p[f]["maxLength"], p[f]["pattern"]) == (63, DNS_LABEL), f
    assert "minItems" not in p["targets"]  # the original had none
    assert "x-kubernetes-validations" not in json.dumps(root_schema())  # plain OpenAPI only


def test_names_short_names_and_printer_columns():
    crd = load_crd()
    names = crd["spec"]["names"]
    assert names["shortNames"] == ["fhs"] and names["categories"] == ["fleet"]
    cols = {c["name"]: c for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]}
    assert list(cols) == ["Secret", "Target-Namespace", "Status", "Ready", "Bundle", "Age"]
    assert cols["Secret"]["jsonPath"] == ".spec.secretName"
    assert cols["Target-Namespace"]["jsonPath"] == ".spec.targetNamespace"
    assert cols["Status"]["jsonPath"] == ".status.status"
    assert cols["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    assert cols["Bundle"]["jsonPath"] == ".status.bundleName" and cols["Bundle"]["priority"] == 1
    assert cols["Age"]["type"] == "date"
    assert all(c.get("priority", 0) == 0 for n, c in cols.items() if n != "Bundle")


# ------------------------------------------------------------ against the emulator

def create(emu, obj, query=""):
    return emu.api("POST", FH_LIST + query, obj)


def causes(reply):
    return {c.get("field"): c.get("message", "") for c in ((reply or {}).get("details") or {}).get("causes") or []}


def test_original_samples_apply_unchanged_and_sync(emu, operator_factory):
    with open(os.path.join(SAMPLES, "fleethandshake.yaml")) as f:
        samples = [d for d in yaml.safe_load_all(f) if d]
    emu.kubectl("apply", "-f", os.path.join(SAMPLES, "secret.yaml"))
    emu.kubectl("apply", "-f", os.path.join(SAMPLES, "fleethandshake.yaml"))
    for s in samples:
        got = emu.get(fh_path(s["metadata"]["namespace"], s["metadata"]["name"]))
        assert got["spec"] == s["spec"]  # nothing pruned or defaulted
    op = operator_factory()
    op.wait_ready()
    for s in samples:
        name = s["metadata"]["name"]
        wait_for(lambda: (emu.get(fh_path("fleet-default", name)).get("status") or {}).get("status") == "Synced",
                 30, f"{name} synced")
        assert emu.get(bundle_path("fleet-default", name))["spec"]["targets"] == s["spec"]["targets"]
    out = emu.kubectl("get", "fhs", "-n", "fleet-default", "-o", "wide").stdout.splitlines()
    assert out[0].split() == ["NAME", "SECRET", "TARGET-NAMESPACE", "STATUS", "READY", "BUNDLE", "AGE"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert rows["fleethandshake-sample"][1:6] == ["fleethandshake-sample", "test", "Synced", "True",
                                                 "fleethandshake-sample"]
    # without -o wide there is no BUNDLE column; the category lists it too
    assert "BUNDLE" not in emu.kubectl("get", "fhs", "-n", "fleet-default").stdout
    assert "fleethandshake-test-only" in emu.kubectl("get", "fleet", "-n", "fleet-default").stdout


TARGETS_WITH_EXTRAS = [
    {
        "name": "prod",
        "clusterSelector": {"matchLabels": {"env": "prod"},
                            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["edge"]}]},
        "clusterGroup": None,                         # nullable, as in Fleet's CRD: kept
        "someFutureFleetField": {"nested": [1, {"deep": True}], "s": "x"},
        "downstreamResources": [{"kind": "ConfigMap", "name": "extra", "futureKey": "kept"}],
        "forceSyncGeneration": 7,
        "correctDrift": {"enabled": True, "force": False, "keepFailHistory": True},
        "diff": {"comparePatches": [{"apiVersion": "v1", "kind": "Secret", "name": "db",
                                     "jsonPointers": ["/data/x"],
                                     "operations": [{"op": "remove", "path": "/metadata/labels"}]}]},
        "ignore": {"conditions": [{"type": "Ready", "status": "False"}]},
        "namespaceLabels": {"team": "payments"},
        "namespaceAnnotations": {"note": "made by fleet"},
        "helm": {
            "releaseName": "db-credentials",
            "timeoutSeconds": 300,
            "takeOwnership": True,
            "maxHistory": 3,
            "newerHelmFlag": "kept",
            "values": {"image": {"repository": "nginx", "tag": "{{ .Values.tag }}"},
                       "list": [{"a": 1}, {"b": [True, None, 0.5, "s"]}],
                       "empty": {}, "nothing": None},
            "valuesFrom": [{"secretKeyRef": {"name": "vals", "namespace": "apps", "key": "values.yaml"}}],
        },
    },
    {"clusterName": "staging-1", "doNotDeploy": True, "yaml": {"overlays": ["a"]}, "kustomize": {"dir": "k"}},
]


def test_target_with_unknown_fields_and_nested_values_round_trips(emu, operator_factory):
    emu.apply(secret_manifest("db", string_data={"password": "p"}))
    fh = fh_manifest("db", "db", targets=copy.deepcopy(TARGETS_WITH_EXTRAS))
    st, obj = create(emu, fh)
    assert st == 201, obj
    assert obj["spec"]["targets"] == TARGETS_WITH_EXTRAS
    assert emu.get(fh_path("fleet-default", "db"))["spec"]["targets"] == TARGETS_WITH_EXTRAS
    # strict field validation (kubectl's default) has nothing to complain about
    fh2 = fh_manifest("db2", "db", targets=copy.deepcopy(TARGETS_WITH_EXTRAS))
    st, obj = create(emu, fh2, "?fieldValidation=Strict")
    assert st == 201, obj
    # ... and the operator hands them to Fleet unchanged. Fleet's own Bundle
    # CRD (simulated by the emulator) then prunes what its version does not
    # know (a top-level field it lacks; a null where it is not nullable):
    # that is Fleet's call, the FleetHandshake keeps everything.
    op = operator_factory()
    op.wait_ready()
    b = wait_for(lambda: emu.get(bundle_path("fleet-default", "db")), 30, "Bundle db")
    want = copy.deepcopy(TARGETS_WITH_EXTRAS)
    del want[0]["someFutureFleetField"], want[0]["clusterGroup"]
    assert b["spec"]["targets"] == want
    # nested unknown fields inside Fleet's option objects survive both CRDs
    assert b["spec"]["targets"][0]["helm"]["newerHelmFlag"] == "kept"
    assert b["spec"]["targets"][0]["helm"]["values"] == TARGETS_WITH_EXTRAS[0]["helm"]["values"]


def test_misspelt_selector_key_is_not_silently_kept(emu):
    """Selectors are closed: a typo is an error under strict validation, pruned otherwise."""
    bad = fh_manifest("typo", "db", targets=[{"clusterSelector": {"matchLabel": {"env": "prod"}}}])
    st, obj = create(emu, bad, "?fieldValidation=Strict")
    assert st in (400, 422), obj
    assert "matchLabel" in json.dumps(obj)
    st, obj = create(emu, bad)
    assert st == 201, obj
    assert obj["spec"]["targets"] == [{"clusterSelector": {}}]


@pytest.mark.parametrize("field,value", [
    ("secretName", "DB-Credentials"),            # uppercase
    ("secretName", "db_credentials"),            # underscore
    ("secretName", "-db"),                       # must start with a letter or digit
    ("secretName", "db."),                       # ... and end with one
    ("secretName", "a..b"),
    ("secretName", "a" * 254),                   # DNS subdomain: at most 253
    ("secretName", ""),
    ("secretNamespace", "Default"),
    ("secretNamespace", "my.ns"),                # a DNS label has no dots
    ("secretNamespace", "a" * 64),               # at most 63
    ("secretNamespace", ""),
    ("targetNamespace", "Payments"),
    ("targetNamespace", "pay_ments"),
    ("targetNamespace", "a" * 300),
    ("targetNamespace", "apps-"),
])
def test_invalid_names_are_refused_with_422(emu, field, value):
    fh = fh_manifest("bad", "db")
    fh["spec"][field] = value
    st, obj = create(emu, fh)
    assert st == 422, obj
    assert obj["reason"] == "Invalid"
    assert f"spec.{field}" in causes(obj), obj
    assert emu.get(fh_path("fleet-default", "bad")) is None


def test_longest_valid_names_are_accepted(emu):
    fh = fh_manifest("long", "a" * 253, secret_ns="b" * 63, target_ns="c" * 63)
    st, obj = create(emu, fh)
    assert st == 201, obj
    fh = fh_manifest("dotted", "db.credentials-1.v2", secret_ns="kube-system", target_ns="0a")
    st, obj = create(emu, fh)
    assert st == 201, obj


def test_update_to_an_invalid_name_is_refused(emu):
    st, obj = create(emu, fh_manifest("up", "db"))
    assert st == 201, obj
    st, obj = emu.api("PATCH", fh_path("fleet-default", "up"), {"spec": {"secretName": "Nope"}},
                      content_type="application/merge-patch+json")
    assert st == 422, obj
    assert "spec.secretName" in causes(obj)
    assert emu.get(fh_path("fleet-default", "up"))["spec"]["secretName"] == "db"


@pytest.mark.parametrize("target,field", [
    ({"clusterName": "x", "forceSyncGeneration": 1.5}, "spec.targets[0].forceSyncGeneration"),
    ({"clusterName": "x", "helm": {"timeoutSeconds": "10"}}, "spec.targets[0].helm.timeoutSeconds"),
    ({"clusterName": "x", "helm": {"values": "a: b"}}, "spec.targets[0].helm.values"),
    ({"clusterName": "x", "doNotDeploy": "yes"}, "spec.targets[0].doNotDeploy"),
    ({"clusterName": "x", "helm": {"releaseName": "Bad_Name"}}, "spec.targets[0].helm.releaseName"),
    ({"clusterName": "x", "helm": {"releaseName": "r" * 54}}, "spec.targets[0].helm.releaseName"),
    ({"clusterSelector": {"matchExpressions": [{"key": "env"}]}},
     "spec.targets[0].clusterSelector.matchExpressions[0].operator"),
    ({"clusterName": "x", "namespaceLabels": {"a": 1}}, "spec.targets[0].namespaceLabels.a"),
])
def test_wrong_types_in_targets_are_refused_with_422(emu, target, field):
    st, obj = create(emu, fh_manifest("bad", "db", targets=[target]))
    assert st == 422, obj
    assert field in causes(obj), obj


@pytest.mark.parametrize("field", ["secretName", "secretNamespace", "targetNamespace", "targets"])
def test_required_fields_as_in_the_original(emu, field):
    fh = fh_manifest("req", "db")
    del fh["spec"][field]
    st, obj = create(emu, fh)
    assert st == 422, obj
    assert f"spec.{field}" in causes(obj)


# ------------------------------------------------------------ kubectl explain

class _OpenAPIShim:
    """Serves /openapi/v3 for the CRD the way kube-apiserver publishes it (the
    schema under components.schemas, a path carrying the GVK) and proxies
    every other request to a plain-HTTP emulator."""

    def __init__(self, upstream):
        crd = load_crd()
        v = crd["spec"]["versions"][0]
        g, kind, plural = crd["spec"]["group"], crd["spec"]["names"]["kind"], crd["spec"]["names"]["plural"]
        gvk = {"group": g, "version": v["name"], "kind": kind}
        schema = dict(v["schema"]["openAPIV3Schema"], **{"x-kubernetes-group-version-kind": [gvk]})
        self.gvpath = f"apis/{g}/{v['name']}"
        self.doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
                    "paths": {f"/{self.gvpath}/namespaces/{{namespace}}/{plural}": {
                        "get": {"x-kubernetes-group-version-kind": gvk}}},
                    "components": {"schemas": {"com.riverpointtechnology.v1alpha1.FleetHandshake": schema}}}
        shim = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/openapi/v3":
                    self._send(200, "application/json", json.dumps({"paths": {shim.gvpath: {
                        "serverRelativeURL": f"/openapi/v3/{shim.gvpath}?hash=1"}}}).encode())
                elif path == f"/openapi/v3/{shim.gvpath}":
                    self._send(200, "application/json", json.dumps(shim.doc).encode())
                else:
                    req = urllib.request.Request(upstream + self.path, headers={"Accept": self.headers["Accept"] or "*/*"})
                    try:
                        r = urllib.request.urlopen(req, timeout=30)
                        self._send(r.status, r.headers.get("Content-Type"), r.read())
                    except urllib.error.HTTPError as e:
                        self._send(e.code, e.headers.get("Content-Type"), e.read())

            def _send(self, code, ctype, data):
                self.send_response(code)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_kubectl_explain_shows_the_descriptions():
    emu = harness.Emulator(fleet_sim=False, extra=("--plain-http",))
    shim = None
    try:
        emu.kubectl("apply", "-f", harness.CRD)
        # the emulator itself publishes no schemas: explain cannot work against it directly
        p = emu.kubectl("explain", "fleethandshake.spec", check=False)
        assert p.returncode != 0
        shim = _OpenAPIShim(emu.url)
        kc = os.path.join(emu.tmp, "shim-kubeconfig")
        with open(kc, "w") as f:
            yaml.safe_dump({"apiVersion": "v1", "kind": "Config",
                            "clusters": [{"name": "shim", "cluster": {"server": shim.url}}],
                            "users": [{"name": "u", "user": {}}],
                            "contexts": [{"name": "shim", "context": {"cluster": "shim", "user": "u"}}],
                            "current-context": "shim"}, f)
        def explain(what):
            env = dict(os.environ, HOME=emu.home, KUBECACHEDIR=os.path.join(emu.home, "shim-cache"))
            p = subprocess.run([harness.KUBECTL, "--kubeconfig", kc, "explain", what], env=env,
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stderr
            return p.stdout

        out = explain("fleethandshake.spec.targets.helm")
        assert "KIND:       FleetHandshake" in out
        assert "Helm options." in out
        for field in ("releaseName\t<string>", "timeoutSeconds\t<integer>", "values\t<Object>",
                      "takeOwnership\t<boolean>", "valuesFrom\t<[]Object>"):
            assert field in out, out
        assert "last wrote" in explain("fhs.status.lastSyncTime")
        assert "DNS label" in explain("fhs.spec.secretNamespace")
    finally:
        if shim:
            shim.close()
        emu.close()


def test_chart_ships_exactly_this_crd():
    assert [os.path.basename(p) for p in glob.glob(os.path.join(os.path.dirname(harness.CRD), "*"))] == \
        [os.path.basename(harness.CRD)]
