"""Unmodified kubectl against the emulator, for kubectl 1.27 and 1.32.

/usr/bin/kubectl is Google Cloud SDK's version dispatcher: it asks the server for /version and runs the
kubectl build whose minor version matches, so `--version-minor` selects the kubectl under test.
"""

import json
import subprocess

import pytest
import yaml

from emu_helpers import (assert_status, core, create_ns, ns_path, ok, unb64, wait_for,
                         widget_crd)

VERSIONS = [27, 32]


@pytest.fixture(scope="module", params=VERSIONS, ids=[f"kubectl-1.{v}" for v in VERSIONS])
def kube(request, module_emulator):
    return module_emulator(version_minor=request.param)


@pytest.fixture(scope="module")
def crd(kube):
    """The Widget CRD applied with `kubectl apply` and waited for with `kubectl wait`."""
    p = kube.kubectl("apply", "-f", "-", input=yaml.safe_dump(widget_crd()))
    assert "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created" in p.stdout
    kube.kubectl("wait", "--for=condition=established", "crd/widgets.example.com", "--timeout=30s")
    return kube


def manifest(name, size, ns="default", labels=None, extra_spec=None, finalizers=None):
    m = {"apiVersion": "example.com/v1", "kind": "Widget",
         "metadata": {"name": name, "namespace": ns}, "spec": {"size": size}}
    if labels:
        m["metadata"]["labels"] = labels
    if finalizers:
        m["metadata"]["finalizers"] = finalizers
    if extra_spec:
        m["spec"].update(extra_spec)
    return yaml.safe_dump(m)


def parse_table(text):
    """kubectl's column output -> list of {HEADER: cell} using the header's column offsets."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    header = lines[0]
    names = header.split()
    starts, pos = [], 0
    for n in names:
        pos = header.index(n, pos)
        starts.append(pos)
        pos += len(n)
    rows = []
    for ln in lines[1:]:
        cells = [ln[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(names, cells)))
    return names, rows


def watch_count(kube, resource):
    """Watches ever opened on resource. It only grows: an open-watch count would race a watch
    from an earlier test whose client has gone but whose server side has not yet noticed."""
    return kube.admin("GET", "/emulator/v1/watches").json.get("openedByResource", {}).get(resource, 0)


def get_json(kube, *args):
    return json.loads(kube.kubectl("get", *args, "-o", "json").stdout)


def test_server_version_selects_kubectl_build(kube):
    out = json.loads(kube.kubectl("version", "-o", "json").stdout)
    assert out["serverVersion"]["major"] == "1"
    assert out["serverVersion"]["minor"] == str(kube.version_minor)
    assert out["serverVersion"]["gitVersion"].startswith(f"v1.{kube.version_minor}.")
    # The dispatcher ran the matching kubectl build.
    assert out["clientVersion"]["gitVersion"].startswith(f"v1.{kube.version_minor}."), out["clientVersion"]


def test_crd_applied_and_established(crd):
    o = get_json(crd, "crd", "widgets.example.com")
    conds = {c["type"]: c["status"] for c in o["status"]["conditions"]}
    assert conds["Established"] == "True" and conds["NamesAccepted"] == "True"
    assert o["status"]["acceptedNames"]["shortNames"] == ["wd"]
    assert "kubectl.kubernetes.io/last-applied-configuration" in o["metadata"]["annotations"]
    # Discovery knows the new resource: api-resources lists short name and kind.
    p = crd.kubectl("api-resources", "--api-group=example.com")
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("widgets"))
    assert line.split()[:5] == ["widgets", "wd", "example.com/v1", "true", "Widget"], line


def test_apply_cr_and_get_shows_printer_columns(crd):
    p = crd.kubectl("apply", "-f", "-", input=manifest("w1", 3))
    assert "widget.example.com/w1 created" in p.stdout
    names, rows = parse_table(crd.kubectl("get", "widgets").stdout)
    assert names == ["NAME", "SIZE", "PHASE", "AGE"]
    row = next(r for r in rows if r["NAME"] == "w1")
    # the Phase cell is null in the server's Table (no status yet); kubectl prints it blank
    assert row["SIZE"] == "3" and row["PHASE"] == "", row
    assert row["AGE"][-1] in "smhd", row
    # Short name and singular name resolve through discovery.
    out = crd.kubectl("get", "wd", "w1", "--no-headers").stdout.split()
    assert out[:2] == ["w1", "3"]
    out = crd.kubectl("get", "widget", "w1", "-o", "name").stdout.strip()
    assert out == "widget.example.com/w1"


def test_get_yaml(crd):
    crd.kubectl("apply", "-f", "-", input=manifest("w-yaml", 7, labels={"tier": "gold"}))
    o = yaml.safe_load(crd.kubectl("get", "widget", "w-yaml", "-o", "yaml").stdout)
    assert o["kind"] == "Widget" and o["apiVersion"] == "example.com/v1"
    assert o["spec"] == {"size": 7}
    md = o["metadata"]
    assert md["labels"] == {"tier": "gold"}
    assert md["generation"] == 1
    assert len(md["uid"]) == 36 and int(md["resourceVersion"]) > 0
    assert md["creationTimestamp"].endswith("Z")
    last = json.loads(md["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"] == {"size": 7}


def test_describe(crd):
    crd.kubectl("apply", "-f", "-", input=manifest("w-desc", 4, extra_spec={"color": "red"}))
    out = crd.kubectl("describe", "widget", "w-desc").stdout
    lines = [ln.split() for ln in out.splitlines()]
    assert ["Name:", "w-desc"] in lines
    assert ["Namespace:", "default"] in lines
    assert ["Kind:", "Widget"] in lines
    assert ["Size:", "4"] in lines and ["Color:", "red"] in lines
    assert any(ln[:1] == ["Events:"] for ln in lines)
    # describe hides the last-applied annotation
    assert "last-applied-configuration" not in out


def test_patch_status_subresource_then_wait_ready(crd):
    crd.kubectl("apply", "-f", "-", input=manifest("w-ready", 2))
    before = watch_count(crd, "widgets.example.com")
    # Start waiting first, so the condition is delivered through kubectl's list+watch.
    waiter = subprocess.Popen(
        ["/usr/bin/kubectl", "--kubeconfig", crd.kubeconfig, "wait", "--for=condition=Ready",
         "widget/w-ready", "--timeout=60s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"HOME": crd.home, "KUBECACHEDIR": crd.cachedir, "PATH": "/usr/bin:/bin"})
    try:
        # The waiter has opened its watch once the emulator lists a watch on widgets.
        wait_for(lambda: waiter.poll() is not None or watch_count(crd, "widgets.example.com") > before,
                 30, "kubectl wait to open its watch")
        assert waiter.poll() is None, waiter.communicate()
        status = {"status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "reason": "Done", "message": "ok",
             "lastTransitionTime": "2025-06-01T12:00:00Z"}]}}
        crd.kubectl("patch", "widget", "w-ready", "--subresource=status", "--type=merge",
                    "-p", json.dumps(status))
        out, err = waiter.communicate(timeout=60)
        assert waiter.returncode == 0, (out, err)
        assert "widget.example.com/w-ready condition met" in out
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    row = crd.kubectl("get", "widget", "w-ready", "--no-headers").stdout.split()
    assert row[:3] == ["w-ready", "2", "Running"], row
    o = get_json(crd, "widget", "w-ready")
    assert o["metadata"]["generation"] == 1  # status writes never bump generation


def test_patch_status_via_main_endpoint_is_ignored(crd):
    crd.kubectl("apply", "-f", "-", input=manifest("w-mainst", 2))
    crd.kubectl("patch", "widget", "w-mainst", "--type=merge", "-p", '{"status":{"phase":"Hacked"}}')
    o = get_json(crd, "widget", "w-mainst")
    assert "phase" not in o.get("status", {})


def test_delete_waits_for_finalizer(crd):
    crd.kubectl("apply", "-f", "-", input=manifest("w-fin", 1, finalizers=["example.com/hold"]))
    deleter = subprocess.Popen(
        ["/usr/bin/kubectl", "--kubeconfig", crd.kubeconfig, "delete", "widget", "w-fin",
         "--timeout=60s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"HOME": crd.home, "KUBECACHEDIR": crd.cachedir, "PATH": "/usr/bin:/bin"})
    try:
        path = ns_path("default", "widgets", "w-fin")
        o = wait_for(lambda: (crd.api("GET", path).json or {}).get("metadata", {}).get("deletionTimestamp")
                     and crd.api("GET", path).json, 30, "deletionTimestamp set")
        assert o["metadata"]["finalizers"] == ["example.com/hold"]
        # kubectl is still waiting: the object is held by the finalizer.
        assert deleter.poll() is None, deleter.communicate()
        # Another process removes the finalizer with a merge patch.
        crd.kubectl("patch", "widget", "w-fin", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        out, err = deleter.communicate(timeout=60)
        assert deleter.returncode == 0, (out, err)
        assert 'widget.example.com "w-fin" deleted' in out
    finally:
        if deleter.poll() is None:
            deleter.kill()
            deleter.wait()
    assert_status(crd.api("GET", ns_path("default", "widgets", "w-fin")), 404, "NotFound")


def test_reapply_after_edit_uses_merge_patch(crd):
    crd.kubectl("apply", "-f", "-", input=manifest("w-edit", 3, labels={"a": "1"}))
    before = get_json(crd, "widget", "w-edit")
    crd.admin("DELETE", "/emulator/v1/stats")
    p = crd.kubectl("apply", "-f", "-", input=manifest("w-edit", 5, labels={"b": "2"},
                                                      extra_spec={"note": "edited"}))
    assert "widget.example.com/w-edit configured" in p.stdout
    o = get_json(crd, "widget", "w-edit")
    assert o["spec"] == {"size": 5, "note": "edited"}
    # label "a" was in the last applied manifest and is gone from the new one => removed.
    assert o["metadata"]["labels"] == {"b": "2"}
    assert o["metadata"]["generation"] == 2
    assert o["metadata"]["uid"] == before["metadata"]["uid"]
    last = json.loads(o["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"] == {"size": 5, "note": "edited"} and last["metadata"]["labels"] == {"b": "2"}
    stats = crd.admin("GET", "/emulator/v1/stats").json
    patches = [r for r in stats["requests"] if r["verb"] == "patch" and r["resource"] == "widgets"]
    assert patches and all(r["code"] == 200 for r in patches), stats
    # Applying the same manifest again changes nothing.
    p = crd.kubectl("apply", "-f", "-", input=manifest("w-edit", 5, labels={"b": "2"},
                                                      extra_spec={"note": "edited"}))
    assert "widget.example.com/w-edit unchanged" in p.stdout
    assert get_json(crd, "widget", "w-edit")["metadata"]["resourceVersion"] == o["metadata"]["resourceVersion"]


def test_apply_invalid_cr_is_rejected_with_causes(crd):
    p = crd.kubectl("apply", "-f", "-", input=manifest("w-bad", 1000), check=False)
    assert p.returncode != 0
    assert "spec.size" in p.stderr and "Invalid" in p.stderr, p.stderr
    assert_status(crd.api("GET", ns_path("default", "widgets", "w-bad")), 404, "NotFound")


def test_secret_from_literal_and_stringdata_manifest(crd):
    crd.kubectl("create", "secret", "generic", "s-lit", "--from-literal=user=admin",
                "--from-literal=pass=s3cr3t")
    o = get_json(crd, "secret", "s-lit")
    assert o["type"] == "Opaque"
    assert {k: unb64(v) for k, v in o["data"].items()} == {"user": "admin", "pass": "s3cr3t"}
    # A manifest with data + stringData: stringData is merged into data and never returned.
    m = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s-man", "namespace": "default"},
         "type": "Opaque", "data": {"a": "YQ=="}, "stringData": {"b": "bee", "a": "override"}}
    crd.kubectl("apply", "-f", "-", input=yaml.safe_dump(m))
    o = get_json(crd, "secret", "s-man")
    assert "stringData" not in o
    assert {k: unb64(v) for k, v in o["data"].items()} == {"a": "override", "b": "bee"}
    # Re-apply with a changed stringData value (strategic merge patch path for built-ins).
    m["stringData"] = {"b": "bumble", "a": "override"}
    p = crd.kubectl("apply", "-f", "-", input=yaml.safe_dump(m))
    assert "secret/s-man configured" in p.stdout
    o = get_json(crd, "secret", "s-man")
    assert unb64(o["data"]["b"]) == "bumble" and "stringData" not in o


def test_strict_field_validation_is_what_kubectl_sends(crd):
    # kubectl (1.27 as 1.32) sends fieldValidation=Strict: an unknown field fails the apply ...
    cm = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict-cm\n  labelz: {a: b}\n"
          "data:\n  k: v\nbogus: 1\n")
    p = crd.kubectl("apply", "-f", "-", input=cm, check=False)
    assert p.returncode != 0
    assert ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field '
            '"bogus", unknown field "metadata.labelz"') in p.stderr, p.stderr
    p = crd.kubectl("apply", "-f", "-", input=manifest("w-strict", 2, extra_spec={"sizee": 3}), check=False)
    assert p.returncode != 0 and 'unknown field "spec.sizee"' in p.stderr, p.stderr
    # ... and --validate=false (fieldValidation=Ignore) drops it silently
    crd.kubectl("apply", "--validate=false", "-f", "-", input=cm)
    assert "bogus" not in get_json(crd, "configmap", "strict-cm")
    # a created Lease's times must be MicroTime: kubectl passes the server's error on
    lease = ("apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: strict-lease\n"
             "spec:\n  renewTime: '2026-01-02T03:04:05Z'\n")
    p = crd.kubectl("apply", "-f", "-", input=lease, check=False)
    assert p.returncode != 0 and 'cannot parse "Z" as ".000000"' in p.stderr, p.stderr


def test_get_secrets_table_has_type_and_data_columns(crd):
    crd.kubectl("create", "secret", "generic", "s-tab", "--from-literal=k1=v1",
                "--from-literal=k2=v2", "--from-literal=k3=v3")
    out = crd.kubectl("get", "secrets").stdout.splitlines()
    assert out[0].split() == ["NAME", "TYPE", "DATA", "AGE"], out[0]
    row = next(ln.split() for ln in out if ln.startswith("s-tab "))
    assert row[:3] == ["s-tab", "Opaque", "3"], row


def test_label_selectors(crd):
    for name, labels in [("cm-a", "app=web,tier=front"), ("cm-b", "app=web,tier=back"),
                         ("cm-c", "app=db")]:
        crd.kubectl("create", "configmap", name, "--from-literal=x=y")
        crd.kubectl("label", "configmap", name, *labels.split(","))

    def names(sel):
        out = crd.kubectl("get", "configmaps", "-l", sel, "-o", "name").stdout.split()
        return sorted(n.split("/")[1] for n in out)

    assert names("app=web") == ["cm-a", "cm-b"]
    assert names("app=web,tier!=front") == ["cm-b"]
    assert names("app in (db,cache)") == ["cm-c"]
    assert names("tier") == ["cm-a", "cm-b"]
    assert names("!tier,app") == ["cm-c"]
    assert names("app=none") == []


def test_get_all_namespaces(crd):
    create_ns(crd, "team-a")
    crd.kubectl("create", "namespace", "team-b")
    crd.kubectl("apply", "-f", "-", input=manifest("wa", 1, ns="team-a"))
    crd.kubectl("apply", "-f", "-", input=manifest("wb", 2, ns="team-b"))
    out = crd.kubectl("get", "widgets", "-A").stdout.splitlines()
    assert out[0].split() == ["NAMESPACE", "NAME", "SIZE", "PHASE", "AGE"], out[0]
    rows = {tuple(ln.split()[:3]) for ln in out[1:]}
    assert ("team-a", "wa", "1") in rows and ("team-b", "wb", "2") in rows
    # Namespaced get only sees its own namespace.
    out = crd.kubectl("get", "widgets", "-n", "team-a", "-o", "name").stdout.split()
    assert out == ["widget.example.com/wa"]
    # kubectl reports NotFound with the server's message.
    p = crd.kubectl("get", "widget", "nope", check=False)
    assert p.returncode != 0
    assert 'Error from server (NotFound): widgets.example.com "nope" not found' in p.stderr


def test_create_in_missing_namespace_fails(crd):
    p = crd.kubectl("apply", "-f", "-", input=manifest("w-x", 1, ns="does-not-exist"), check=False)
    assert p.returncode != 0
    assert 'namespaces "does-not-exist" not found' in p.stderr, p.stderr


def test_events_for_describe_are_served(crd):
    r = crd.api("GET", core("default", "events") + "?fieldSelector=involvedObject.name%3Dw1")
    body = ok(r, 200)
    assert body["kind"] == "EventList" and isinstance(body["items"], list)


def test_get_watch_prints_table_rows_for_new_objects(crd):
    import os
    import selectors
    import time
    before = watch_count(crd, "widgets.example.com")
    proc = subprocess.Popen(
        ["/usr/bin/kubectl", "--kubeconfig", crd.kubeconfig, "get", "widgets", "-l", "watch=me", "-w"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={"HOME": crd.home, "KUBECACHEDIR": crd.cachedir, "PATH": "/usr/bin:/bin"})
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    try:
        wait_for(lambda: proc.poll() is not None or watch_count(crd, "widgets.example.com") > before,
                 30, "kubectl get -w to open its watch")
        assert proc.poll() is None, proc.communicate()
        crd.kubectl("apply", "-f", "-", input=manifest("w-watched", 9, labels={"watch": "me"}))
        crd.kubectl("patch", "widget", "w-watched", "--subresource=status", "--type=merge",
                    "-p", '{"status":{"phase":"Watching"}}')
        deadline = time.monotonic() + 30
        while b"Watching" not in buf:
            left = deadline - time.monotonic()
            assert left > 0, f"kubectl get -w printed only {buf!r}"
            if sel.select(left):
                data = os.read(proc.stdout.fileno(), 65536)
                assert data, f"kubectl get -w exited: {buf!r} {proc.stderr.read()!r}"
                buf += data
    finally:
        sel.close()
        proc.kill()
        proc.wait()
    lines = [ln.split() for ln in buf.decode().splitlines() if ln.strip()]
    # one header (column definitions only in the first Table event), then one row per event
    assert lines[0] == ["NAME", "SIZE", "PHASE", "AGE"], lines
    assert sum(1 for ln in lines if ln[0] == "NAME") == 1, lines
    assert lines[1][:2] == ["w-watched", "9"], lines
    assert lines[-1][:3] == ["w-watched", "9", "Watching"], lines


def test_server_side_apply_reports_unsupported(crd):
    p = crd.kubectl("apply", "--server-side", "-f", "-", input=manifest("w-ssa", 1), check=False)
    assert p.returncode != 0
    assert "Server-side apply not available on the server" in p.stderr, p.stderr
    assert crd.api("GET", ns_path("default", "widgets", "w-ssa")).status == 404


def test_get_all_category_and_delete_by_file(crd):
    crd.kubectl("apply", "-f", "-", input=manifest("w-cat", 1))
    out = crd.kubectl("get", "all", "-o", "name").stdout.split()
    assert "widget.example.com/w-cat" in out
    p = crd.kubectl("delete", "-f", "-", input=manifest("w-cat", 1))
    assert 'widget.example.com "w-cat" deleted' in p.stdout
    assert_status(crd.api("GET", ns_path("default", "widgets", "w-cat")), 404, "NotFound")
