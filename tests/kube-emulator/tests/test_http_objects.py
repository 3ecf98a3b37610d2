"""Raw HTTP: object semantics (CRUD, Status bodies, generation, status subresource, finalizers, GC,
Secrets, schema validation, patches, pagination, Table and PartialObjectMetadata)."""

import json
import re

import pytest

from emu_helpers import (assert_status, b64, core, create_ns, gadget_crd, install_crd,
                         ns_path, ok, q, rv, unb64, wait_for, widget)

UID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MERGE = {"Content-Type": "application/merge-patch+json"}
JSONPATCH = {"Content-Type": "application/json-patch+json"}
SMP = {"Content-Type": "application/strategic-merge-patch+json"}
PMD_LIST = {"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"}
PMD = {"Accept": "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json"}
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"}


@pytest.fixture(scope="module")
def emu(module_emulator):
    e = module_emulator()
    install_crd(e)
    install_crd(e, gadget_crd())
    return e


def W(name=None, ns="default", sub=None):
    return ns_path(ns, "widgets", name, sub)


def cm(name, data=None, ns="default", **meta):
    m = {"name": name}
    m.update(meta)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": m, "data": data or {"k": "v"}}


def post(emu, path, obj):
    return ok(emu.api("POST", path, obj), 201)


# --------------------------------------------------------------------------------------------
# Server-set fields, naming, namespaces


def test_create_sets_server_owned_fields(emu):
    o = post(emu, W(), widget("sf", size=2))
    md = o["metadata"]
    assert UID_RE.match(md["uid"]), md
    assert TS_RE.match(md["creationTimestamp"]), md
    assert md["generation"] == 1 and isinstance(md["generation"], int)
    assert md["resourceVersion"].isdigit()
    assert o["apiVersion"] == "example.com/v1" and o["kind"] == "Widget"
    got = ok(emu.api("GET", W("sf")), 200)
    assert got == o


def test_resource_version_is_global_and_monotonic(emu):
    rvs = [rv(post(emu, core("default", "configmaps"), cm("mono-1"))),
           rv(post(emu, W(), widget("mono-2"))),
           rv(post(emu, core("default", "secrets"), {"metadata": {"name": "mono-3"}})),
           rv(ok(emu.api("PATCH", core("default", "configmaps", "mono-1"), {"data": {"x": "1"}}, MERGE)))]
    assert rvs == sorted(rvs) and len(set(rvs)) == 4, rvs
    lst = ok(emu.api("GET", core("default", "configmaps")))
    assert int(lst["metadata"]["resourceVersion"]) >= rvs[-1]
    assert lst["kind"] == "ConfigMapList" and lst["apiVersion"] == "v1"


def test_generate_name(emu):
    a = post(emu, core("default", "configmaps"), {"metadata": {"generateName": "gen-"}, "data": {"a": "1"}})
    b = post(emu, core("default", "configmaps"), {"metadata": {"generateName": "gen-"}, "data": {}})
    for o in (a, b):
        assert re.match(r"^gen-[a-z0-9]{5}$", o["metadata"]["name"]), o["metadata"]
    assert a["metadata"]["name"] != b["metadata"]["name"]


def test_namespace_must_exist(emu):
    r = emu.api("POST", core("nowhere", "configmaps"), cm("x"))
    st = assert_status(r, 404, "NotFound")
    assert st["message"] == 'namespaces "nowhere" not found'
    create_ns(emu, "somewhere")
    post(emu, core("somewhere", "configmaps"), cm("x"))


def test_body_namespace_mismatch_is_400(emu):
    r = emu.api("POST", core("default", "configmaps"), cm("mm", namespace="kube-system"))
    assert_status(r, 400, "BadRequest")


def test_unauthenticated_and_wrong_token_are_401(emu):
    for token in (False, "wrong-token", ""):
        r = emu.api("GET", core("default", "configmaps"), token=token)
        st = assert_status(r, 401, "Unauthorized")
        assert st["message"] == "Unauthorized"
    ok(emu.api("GET", core("default", "configmaps")), 200)


# --------------------------------------------------------------------------------------------
# Status bodies


def test_not_found_status_shape(emu):
    st = assert_status(emu.api("GET", W("nope")), 404, "NotFound")
    assert st["metadata"] == {}
    assert st["message"] == 'widgets.example.com "nope" not found'
    assert st["details"] == {"name": "nope", "group": "example.com", "kind": "widgets"}
    st = assert_status(emu.api("GET", core("default", "secrets", "nope")), 404, "NotFound")
    assert st["message"] == 'secrets "nope" not found'
    assert st["details"]["kind"] == "secrets" and st["details"]["name"] == "nope"
    # Unknown resource path
    r = emu.api("GET", "/apis/nonexistent.io/v1/namespaces/default/things")
    assert_status(r, 404, "NotFound")


def test_already_exists_status_shape(emu):
    post(emu, W(), widget("dupw"))
    st = assert_status(emu.api("POST", W(), widget("dupw")), 409, "AlreadyExists")
    assert st["message"] == 'widgets.example.com "dupw" already exists'
    assert st["details"] == {"name": "dupw", "group": "example.com", "kind": "widgets"}


def test_conflict_on_stale_resource_version(emu):
    o = post(emu, W(), widget("conf", size=1))
    o2 = dict(o, spec={"size": 2})
    new = ok(emu.api("PUT", W("conf"), o2), 200)
    assert rv(new) > rv(o)
    o3 = dict(o, spec={"size": 3})  # carries the original resourceVersion
    st = assert_status(emu.api("PUT", W("conf"), o3), 409, "Conflict")
    assert st["message"] == ('Operation cannot be fulfilled on widgets.example.com "conf": the object has been '
                             'modified; please apply your changes to the latest version and try again')
    assert st["details"]["name"] == "conf" and st["details"]["kind"] == "widgets"
    # resourceVersion inside a merge patch is a precondition too
    r = emu.api("PATCH", W("conf"), {"metadata": {"resourceVersion": o["metadata"]["resourceVersion"]},
                                     "spec": {"size": 4}}, MERGE)
    assert_status(r, 409, "Conflict")
    assert ok(emu.api("GET", W("conf")))["spec"]["size"] == 2


def test_put_without_resource_version(emu):
    o = post(emu, W(), widget("norv"))
    del o["metadata"]["resourceVersion"]
    st = assert_status(emu.api("PUT", W("norv"), o), 422, "Invalid")
    assert "must be specified for an update" in st["message"]
    assert any(c["field"] == "metadata.resourceVersion" for c in st["details"]["causes"])
    # ConfigMaps allow unconditional update
    c = post(emu, core("default", "configmaps"), cm("norv-cm"))
    del c["metadata"]["resourceVersion"]
    c["data"] = {"k": "changed"}
    assert ok(emu.api("PUT", core("default", "configmaps", "norv-cm"), c), 200)["data"] == {"k": "changed"}


def test_put_changing_name_is_400(emu):
    o = post(emu, W(), widget("rename"))
    o["metadata"]["name"] = "other"
    st = assert_status(emu.api("PUT", W("rename"), o), 400, "BadRequest")
    assert st["message"] == "the name of the object (other) does not match the name on the URL (rename)"


def test_delete_returns_object_and_404_after(emu):
    post(emu, W(), widget("del1"))
    o = ok(emu.api("DELETE", W("del1"), {"propagationPolicy": "Background"}), 200)
    assert o["metadata"]["name"] == "del1"
    assert_status(emu.api("GET", W("del1")), 404, "NotFound")
    assert_status(emu.api("DELETE", W("del1")), 404, "NotFound")


def test_delete_precondition_mismatch_is_409(emu):
    o = post(emu, W(), widget("precond"))
    r = emu.api("DELETE", W("precond"), {"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}})
    assert_status(r, 409, "Conflict")
    r = emu.api("DELETE", W("precond"), {"preconditions": {"uid": o["metadata"]["uid"]}})
    ok(r, 200)


# --------------------------------------------------------------------------------------------
# generation and the status subresource


def test_generation_and_status_subresource_rules(emu):
    o = post(emu, W(), widget("gen") | {"status": {"phase": "fromPost"}})
    assert "status" not in o or "phase" not in o.get("status", {}), "status in POST must be dropped"
    assert o["metadata"]["generation"] == 1
    # metadata-only change: no generation bump, but a new RV
    o2 = ok(emu.api("PATCH", W("gen"), {"metadata": {"labels": {"a": "b"}}}, MERGE))
    assert o2["metadata"]["generation"] == 1 and rv(o2) > rv(o)
    # spec change: bump
    o3 = ok(emu.api("PATCH", W("gen"), {"spec": {"size": 9}}, MERGE))
    assert o3["metadata"]["generation"] == 2
    # status through the main endpoint is ignored (no change at all => RV unchanged)
    o4 = ok(emu.api("PATCH", W("gen"), {"status": {"phase": "ignored"}}, MERGE))
    assert "phase" not in o4.get("status", {}) and rv(o4) == rv(o3)
    # /status: only .status is taken; spec/labels in the request are ignored; no generation bump
    body = dict(o3, spec={"size": 50}, status={"phase": "Running", "observedGeneration": 2})
    body["metadata"] = dict(o3["metadata"], labels={"changed": "yes"})
    o5 = ok(emu.api("PUT", W("gen", sub="status"), body))
    assert o5["status"] == {"phase": "Running", "observedGeneration": 2}
    assert o5["spec"] == {"size": 9} and o5["metadata"]["labels"] == {"a": "b"}
    assert o5["metadata"]["generation"] == 2 and rv(o5) > rv(o3)
    # GET /status returns the whole object
    assert ok(emu.api("GET", W("gen", sub="status"))) == o5
    # PUT on the main endpoint keeps the stored status
    main = dict(o5, spec={"size": 10}, status={"phase": "Overwritten"})
    o6 = ok(emu.api("PUT", W("gen"), main))
    assert o6["status"] == {"phase": "Running", "observedGeneration": 2}
    assert o6["metadata"]["generation"] == 3


def test_status_is_plain_field_without_subresource(emu):
    path = ns_path("default", "gadgets")
    o = post(emu, path, {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"},
                         "spec": {"size": 1}, "status": {"phase": "kept"}})
    assert o["status"] == {"phase": "kept"}
    o2 = ok(emu.api("PATCH", path + "/g1", {"status": {"phase": "changed"}}, MERGE))
    assert o2["status"] == {"phase": "changed"}
    assert o2["metadata"]["generation"] == 2  # any non-metadata change bumps generation
    assert emu.api("GET", path + "/g1/status").status == 404


def test_noop_update_keeps_rv_and_emits_no_event(emu):
    o = post(emu, W(), widget("noop", size=4))
    s = emu.open_stream(q(W(), watch="true", resourceVersion=o["metadata"]["resourceVersion"],
                          fieldSelector="metadata.name=noop", timeoutSeconds=20))
    try:
        assert s.status == 200
        same = ok(emu.api("PUT", W("noop"), o), 200)
        assert same["metadata"]["resourceVersion"] == o["metadata"]["resourceVersion"]
        same = ok(emu.api("PATCH", W("noop"), {"spec": {"size": 4}}, MERGE))
        assert same["metadata"]["resourceVersion"] == o["metadata"]["resourceVersion"]
        same = ok(emu.api("PATCH", W("noop"), [{"op": "replace", "path": "/spec/size", "value": 4}], JSONPATCH))
        assert same["metadata"]["resourceVersion"] == o["metadata"]["resourceVersion"]
        changed = ok(emu.api("PATCH", W("noop"), {"spec": {"size": 5}}, MERGE))
        ev = s.next_event()
        # The first event after the no-op writes is the real change.
        assert ev["type"] == "MODIFIED"
        assert ev["object"]["spec"]["size"] == 5
        assert ev["object"]["metadata"]["resourceVersion"] == changed["metadata"]["resourceVersion"]
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# Finalizers and deletion


def test_finalizer_delete_flow(emu):
    o = post(emu, W(), widget("fin", finalizers=["example.com/a", "example.com/b"]))
    s = emu.open_stream(q(W(), watch="1", resourceVersion=o["metadata"]["resourceVersion"],
                          fieldSelector="metadata.name=fin", timeoutSeconds=30))
    try:
        d = ok(emu.api("DELETE", W("fin")), 200, 202)
        ts = d["metadata"]["deletionTimestamp"]
        assert TS_RE.match(ts)
        assert d["metadata"]["generation"] == 2
        ev = s.next_event()
        assert ev["type"] == "MODIFIED" and ev["object"]["metadata"]["deletionTimestamp"] == ts
        # Deleting again keeps the first timestamp
        d2 = ok(emu.api("DELETE", W("fin")), 200, 202)
        assert d2["metadata"]["deletionTimestamp"] == ts
        # Cannot add finalizers while terminating
        r = emu.api("PATCH", W("fin"), {"metadata": {"finalizers": ["example.com/a", "example.com/b", "example.com/c"]}}, MERGE)
        assert_status(r, 422, "Invalid")
        # Remove one: still there
        ok(emu.api("PATCH", W("fin"), [{"op": "remove", "path": "/metadata/finalizers/0"}], JSONPATCH))
        cur = ok(emu.api("GET", W("fin")))
        assert cur["metadata"]["finalizers"] == ["example.com/b"]
        # Remove the last: gone, DELETED event
        ok(emu.api("PATCH", W("fin"), {"metadata": {"finalizers": None}}, MERGE))
        assert_status(emu.api("GET", W("fin")), 404, "NotFound")
        evs = []
        while True:
            ev = s.next_event()
            assert ev is not None, f"stream ended before DELETED; got {evs}"
            evs.append(ev["type"])
            if ev["type"] == "DELETED":
                assert ev["object"]["metadata"]["name"] == "fin"
                break
        # MODIFIED (2nd delete is a no-op, so only) the finalizer removal, then DELETED
        assert evs == ["MODIFIED", "DELETED"], evs
    finally:
        s.close()


def test_garbage_collection_of_dependents(emu):
    owner = post(emu, W(), widget("owner"))
    other = post(emu, W(), widget("other-owner"))
    ref = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "owner",
           "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
    ref_other = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "other-owner",
                 "uid": other["metadata"]["uid"]}
    post(emu, core("default", "configmaps"), cm("dep-1", ownerReferences=[ref]))
    post(emu, core("default", "secrets"), {"metadata": {"name": "dep-2", "ownerReferences": [ref]}})
    post(emu, core("default", "configmaps"), cm("dep-both", ownerReferences=[dict(ref, controller=False), ref_other]))
    # a dependent whose ref names the owner but with another uid is not the owner's dependent
    post(emu, core("default", "configmaps"), cm("dep-wrong-uid", ownerReferences=[
        dict(ref, uid="11111111-2222-3333-4444-555555555555")]))
    ok(emu.api("DELETE", W("owner"), {"propagationPolicy": "Background"}), 200, 202)

    def gone(path):
        return emu.api("GET", path).status == 404

    wait_for(lambda: gone(core("default", "configmaps", "dep-1")), 10, "dep-1 collected")
    wait_for(lambda: gone(core("default", "secrets", "dep-2")), 10, "dep-2 collected")
    # the wrong-uid owner does not exist either => collected as well (owner verified absent)
    wait_for(lambda: gone(core("default", "configmaps", "dep-wrong-uid")), 10, "dep-wrong-uid collected")
    # still has a live owner => kept
    assert emu.api("GET", core("default", "configmaps", "dep-both")).status == 200


def test_orphan_propagation_keeps_dependents(emu):
    owner = post(emu, W(), widget("orph-owner"))
    ref = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "orph-owner",
           "uid": owner["metadata"]["uid"]}
    post(emu, core("default", "configmaps"), cm("orph-dep", ownerReferences=[ref]))
    ok(emu.api("DELETE", W("orph-owner"), {"propagationPolicy": "Orphan"}), 200, 202)
    wait_for(lambda: emu.api("GET", W("orph-owner")).status == 404, 10, "owner deleted")

    def orphaned():
        o = emu.api("GET", core("default", "configmaps", "orph-dep"))
        assert o.status == 200, o
        return not o.json["metadata"].get("ownerReferences")
    wait_for(orphaned, 10, "orph-dep kept with ownerReferences removed")


# --------------------------------------------------------------------------------------------
# Secrets


def test_secret_string_data_merged_into_data(emu):
    s = post(emu, core("default", "secrets"), {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sd"},
        "data": {"a": b64("from-data"), "b": b64("bee")}, "stringData": {"a": "from-stringData", "c": "sea"}})
    assert "stringData" not in s
    assert s["type"] == "Opaque"
    assert {k: unb64(v) for k, v in s["data"].items()} == {"a": "from-stringData", "b": "bee", "c": "sea"}
    s["stringData"] = {"d": "dee"}
    s2 = ok(emu.api("PUT", core("default", "secrets", "sd"), s))
    assert "stringData" not in s2 and unb64(s2["data"]["d"]) == "dee" and len(s2["data"]) == 4
    s3 = ok(emu.api("PATCH", core("default", "secrets", "sd"), {"stringData": {"b": "bumble"}}, MERGE))
    assert unb64(s3["data"]["b"]) == "bumble" and "stringData" not in s3
    assert "stringData" not in ok(emu.api("GET", core("default", "secrets", "sd")))


def test_secret_invalid_base64_rejected(emu):
    r = emu.api("POST", core("default", "secrets"), {"metadata": {"name": "bad64"}, "data": {"a": "!!notbase64!!"}})
    assert r.status in (400, 422), r  # apiserver: 400 (JSON decoding of []byte fails)
    assert r.json["kind"] == "Status" and r.json["status"] == "Failure"
    assert emu.api("GET", core("default", "secrets", "bad64")).status == 404


# --------------------------------------------------------------------------------------------
# Schema validation


def test_schema_validation_causes(emu):
    cases = [
        ({"color": "red"}, "spec.size", "FieldValueRequired"),
        ({"size": 1000}, "spec.size", None),
        ({"size": 0}, "spec.size", None),
        ({"size": "big"}, "spec.size", None),
        ({"size": 1, "color": "purple"}, "spec.color", "FieldValueNotSupported"),
    ]
    for spec, field, reason in cases:
        obj = widget("invalid")
        obj["spec"] = spec
        st = assert_status(emu.api("POST", W(), obj), 422, "Invalid")
        assert st["details"]["name"] == "invalid"
        assert st["details"]["kind"] == "Widget" and st["details"]["group"] == "example.com"
        assert st["message"].startswith('Widget.example.com "invalid" is invalid: '), st["message"]
        causes = st["details"]["causes"]
        assert [c["field"] for c in causes] == [field], causes
        assert causes[0]["reason"].startswith("FieldValue") and causes[0]["message"]
        if reason:
            assert causes[0]["reason"] == reason, causes
        assert emu.api("GET", W("invalid")).status == 404
    # Two violations => two causes
    obj = widget("invalid2")
    obj["spec"] = {"size": 500, "color": "pink"}
    st = assert_status(emu.api("POST", W(), obj), 422, "Invalid")
    assert sorted(c["field"] for c in st["details"]["causes"]) == ["spec.color", "spec.size"]
    # Updates are validated too
    post(emu, W(), widget("valid"))
    st = assert_status(emu.api("PATCH", W("valid"), {"spec": {"size": -1}}, MERGE), 422, "Invalid")
    assert ok(emu.api("GET", W("valid")))["spec"]["size"] == 3


# --------------------------------------------------------------------------------------------
# Patches


def test_json_patch(emu):
    post(emu, W(), widget("jp", size=1))
    o = ok(emu.api("PATCH", W("jp"), [
        {"op": "test", "path": "/spec/size", "value": 1},
        {"op": "replace", "path": "/spec/size", "value": 2},
        {"op": "add", "path": "/spec/color", "value": "green"},
        {"op": "add", "path": "/metadata/labels", "value": {"x": "1"}},
        {"op": "copy", "from": "/metadata/labels/x", "path": "/metadata/labels/y"},
        {"op": "move", "from": "/metadata/labels/x", "path": "/metadata/labels/z"},
    ], JSONPATCH))
    assert o["spec"] == {"size": 2, "color": "green"}
    assert o["metadata"]["labels"] == {"y": "1", "z": "1"}
    r = emu.api("PATCH", W("jp"), [{"op": "test", "path": "/spec/size", "value": 99},
                                   {"op": "replace", "path": "/spec/size", "value": 3}], JSONPATCH)
    # NewGenericServerResponse(422): a fixed message, the json-patch library's error as the cause
    assert r.json == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": "the server rejected our request due to an error in our request",
                      "reason": "Invalid",
                      "details": {"causes": [{"reason": "UnexpectedServerResponse",
                                              "message": "testing value /spec/size failed: test failed"}]},
                      "code": 422}
    for ops, detail in (
            ([{"op": "remove", "path": "/spec/nothing"}],
             "error in remove for path: '/spec/nothing': Unable to remove nonexistent key: nothing: missing value"),
            ([{"op": "replace", "path": "/spec/nothing", "value": 1}],
             "replace operation does not apply: doc is missing key: /spec/nothing: missing value"),
            ([{"op": "add", "path": "/no/such/path", "value": 1}],
             'add operation does not apply: doc is missing path: "/no/such/path": missing value')):
        st = assert_status(emu.api("PATCH", W("jp"), ops, JSONPATCH), 422, "Invalid")
        assert st["message"] == "the server rejected our request due to an error in our request"
        assert st["details"]["causes"] == [{"reason": "UnexpectedServerResponse", "message": detail}]
    assert ok(emu.api("GET", W("jp")))["spec"]["size"] == 2
    r = emu.api("PATCH", W("jp"), b"{not json", JSONPATCH)
    assert_status(r, 400, "BadRequest")


def test_merge_patch_null_deletes_and_replaces_arrays(emu):
    post(emu, core("default", "configmaps"), cm("mp", {"a": "1", "b": "2"}, finalizers=["x/a", "x/b"]))
    o = ok(emu.api("PATCH", core("default", "configmaps", "mp"),
                   {"data": {"a": None, "c": "3"}, "metadata": {"finalizers": ["x/c"]}}, MERGE))
    assert o["data"] == {"b": "2", "c": "3"}
    assert o["metadata"]["finalizers"] == ["x/c"]
    ok(emu.api("PATCH", core("default", "configmaps", "mp"), {"metadata": {"finalizers": None}}, MERGE))


def test_strategic_merge_patch_builtins_only(emu):
    post(emu, core("default", "configmaps"), cm("smp", {"a": "1"}, labels={"l1": "x"}))
    o = ok(emu.api("PATCH", core("default", "configmaps", "smp"),
                   {"data": {"b": "2"}, "metadata": {"labels": {"l2": "y"}}}, SMP))
    assert o["data"] == {"a": "1", "b": "2"} and o["metadata"]["labels"] == {"l1": "x", "l2": "y"}
    post(emu, W(), widget("smp-cr"))
    st = assert_status(emu.api("PATCH", W("smp-cr"), {"spec": {"size": 2}}, SMP), 415, "UnsupportedMediaType")
    assert "application/merge-patch+json" in st["message"]


def test_server_side_apply_is_415(emu):
    r = emu.api("PATCH", W("ssa") + "?fieldManager=kubectl&force=false",
                json.dumps(widget("ssa")), {"Content-Type": "application/apply-patch+yaml"})
    assert_status(r, 415, "UnsupportedMediaType")
    assert emu.api("GET", W("ssa")).status == 404


# --------------------------------------------------------------------------------------------
# Lists: selectors, pagination, metadata-only and Table


def test_list_selectors(emu):
    create_ns(emu, "sel")
    for name, labels in [("a", {"app": "web", "tier": "fe"}), ("b", {"app": "web"}), ("c", {"app": "db"})]:
        post(emu, core("sel", "configmaps"), cm(name, labels=labels))

    def names(**params):
        return sorted(i["metadata"]["name"] for i in ok(emu.api("GET", q(core("sel", "configmaps"), **params)))["items"])

    assert names(labelSelector="app=web") == ["a", "b"]
    assert names(labelSelector="app==web,tier") == ["a"]
    assert names(labelSelector="app notin (web)") == ["c"]
    assert names(labelSelector="!tier") == ["b", "c"]
    assert names(fieldSelector="metadata.name=b") == ["b"]
    assert names(fieldSelector="metadata.name!=b") == ["a", "c"]
    assert names(fieldSelector="metadata.namespace=sel", labelSelector="app=db") == ["c"]
    all_ns = ok(emu.api("GET", q("/api/v1/configmaps", fieldSelector="metadata.namespace=sel")))
    assert sorted(i["metadata"]["name"] for i in all_ns["items"]) == ["a", "b", "c"]
    assert all(i["metadata"]["namespace"] == "sel" for i in all_ns["items"])
    empty = ok(emu.api("GET", q(core("sel", "configmaps"), labelSelector="app=none")))
    assert empty["items"] == []


def test_list_pagination_limit_continue(emu):
    create_ns(emu, "page")
    for i in range(7):
        post(emu, core("page", "configmaps"), cm(f"p{i}"))
    p1 = ok(emu.api("GET", q(core("page", "configmaps"), limit=3)))
    assert len(p1["items"]) == 3 and p1["metadata"]["continue"]
    if "remainingItemCount" in p1["metadata"]:
        assert p1["metadata"]["remainingItemCount"] == 4
    # Created after the first page: not part of this consistent list.
    post(emu, core("page", "configmaps"), cm("p-late"))
    p2 = ok(emu.api("GET", q(core("page", "configmaps"), limit=3, **{"continue": p1["metadata"]["continue"]})))
    assert len(p2["items"]) == 3 and p2["metadata"]["continue"]
    p3 = ok(emu.api("GET", q(core("page", "configmaps"), limit=3, **{"continue": p2["metadata"]["continue"]})))
    assert len(p3["items"]) == 1 and not p3["metadata"].get("continue")
    names = [i["metadata"]["name"] for p in (p1, p2, p3) for i in p["items"]]
    assert sorted(names) == [f"p{i}" for i in range(7)]
    assert p1["metadata"]["resourceVersion"] == p2["metadata"]["resourceVersion"] == p3["metadata"]["resourceVersion"]
    full = ok(emu.api("GET", core("page", "configmaps")))
    assert len(full["items"]) == 8 and not full["metadata"].get("continue")


def test_expired_continue_token_after_compact(emulator):
    emu = emulator()
    for i in range(5):
        post(emu, core("default", "configmaps"), cm(f"e{i}"))
    p1 = ok(emu.api("GET", q(core("default", "configmaps"), limit=2)))
    token = p1["metadata"]["continue"]
    post(emu, core("default", "configmaps"), cm("e5"))
    assert emu.admin("POST", "/emulator/v1/compact").status == 200
    r = emu.api("GET", q(core("default", "configmaps"), limit=2, **{"continue": token}))
    st = assert_status(r, 410, "Expired")
    assert "continue parameter is too old" in st["message"]
    # The 410 carries a fresh token that continues (inconsistently) after the last item seen.
    r2 = ok(emu.api("GET", q(core("default", "configmaps"), limit=10, **{"continue": st["metadata"]["continue"]})))
    assert [i["metadata"]["name"] for i in r2["items"]] == ["e2", "e3", "e4", "e5"]
    # A list with an old exact resourceVersion + limit is 410 as well
    r = emu.api("GET", q(core("default", "configmaps"), limit=2, resourceVersion=p1["metadata"]["resourceVersion"]))
    assert_status(r, 410, "Expired")


def test_bad_continue_token_is_400(emu):
    r = emu.api("GET", q(core("default", "configmaps"), limit=2, **{"continue": "garbage!!"}))
    assert_status(r, 400, "BadRequest")


def test_partial_object_metadata_list_and_get_of_secrets(emu):
    post(emu, core("default", "secrets"), {"metadata": {"name": "pom", "labels": {"k": "v"}},
                                           "data": {"x": b64("secret-value")}})
    lst = ok(emu.api("GET", core("default", "secrets"), headers=PMD_LIST))
    assert lst["kind"] == "PartialObjectMetadataList" and lst["apiVersion"] == "meta.k8s.io/v1"
    assert lst["items"]
    for it in lst["items"]:
        assert it["kind"] == "PartialObjectMetadata" and it["apiVersion"] == "meta.k8s.io/v1"
        assert set(it) <= {"kind", "apiVersion", "metadata"}, it
    item = next(i for i in lst["items"] if i["metadata"]["name"] == "pom")
    assert item["metadata"]["labels"] == {"k": "v"}
    assert "secret-value" not in json.dumps(lst) and b64("secret-value") not in json.dumps(lst)
    one = ok(emu.api("GET", core("default", "secrets", "pom"), headers=PMD))
    assert one["kind"] == "PartialObjectMetadata" and "data" not in one
    assert one["metadata"]["uid"]


def test_partial_object_metadata_kind_must_fit_the_request(emu):
    # doTransformObject: a list asked as PartialObjectMetadata, or one object as a ...List, is a 406
    # naming the Go type the storage returned
    post(emu, core("default", "secrets"), {"metadata": {"name": "pom-406"}})
    post(emu, W(), widget("pmd-cr"))
    for path, accept, msg in (
            (core("default", "secrets"), PMD,
             "you requested PartialObjectMetadata, but the requested object is a list (*core.SecretList)"),
            (core("default", "secrets", "pom-406"), PMD_LIST,
             "you requested PartialObjectMetadataList, but the requested object is not a list (*core.Secret)"),
            (W(), PMD, "you requested PartialObjectMetadata, but the requested object is a list "
                       "(*unstructured.UnstructuredList)"),
            (W("pmd-cr"), PMD_LIST, "you requested PartialObjectMetadataList, but the requested object is not a "
                                    "list (*unstructured.Unstructured)")):
        r = emu.api("GET", path, headers=accept)
        assert r.json == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": msg, "reason": "NotAcceptable", "code": 406}, r
    assert ok(emu.api("GET", W("pmd-cr"), headers=PMD))["kind"] == "PartialObjectMetadata"


def test_head_has_headers_but_no_body(emu):
    s = emu.raw_socket()
    try:
        s.sendall((f"HEAD {core('default', 'configmaps')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {emu.token}"
                   f"\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\n\r\n").encode())
        buf = b""
        while buf.count(b"HTTP/1.1 200") < 2 or not buf.endswith(b"}"):
            data = s.recv(65536)
            assert data, buf
            buf += data
    finally:
        s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    assert re.search(rb"(?i)content-length: [1-9]", head), head
    # the next response starts right after the HEAD response's headers: no body in between
    assert rest.startswith(b"HTTP/1.1 200 "), rest[:80]


def test_partial_object_metadata_watch_of_secrets(emu):
    base = ok(emu.api("GET", core("default", "secrets")))["metadata"]["resourceVersion"]
    s = emu.open_stream(q(core("default", "secrets"), watch="true", resourceVersion=base, timeoutSeconds=20),
                        headers=PMD)
    try:
        assert s.status == 200
        post(emu, core("default", "secrets"), {"metadata": {"name": "pom-w"}, "data": {"x": b64("hidden")}})
        ev = s.next_event()
        assert ev["type"] == "ADDED"
        assert ev["object"]["kind"] == "PartialObjectMetadata"
        assert ev["object"]["metadata"]["name"] == "pom-w"
        assert "data" not in ev["object"] and b64("hidden") not in json.dumps(ev)
    finally:
        s.close()


def test_table_for_custom_resources(emu):
    post(emu, W(), widget("tbl", size=6))
    ok(emu.api("PATCH", W("tbl", sub="status"), {"status": {"phase": "Ready"}}, MERGE))
    t = ok(emu.api("GET", q(W(), fieldSelector="metadata.name=tbl"), headers=TABLE))
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    cols = [(c["name"], c["type"]) for c in t["columnDefinitions"]]
    assert cols == [("Name", "string"), ("Size", "integer"), ("Phase", "string"), ("Age", "date")]
    assert t["columnDefinitions"][0]["format"] == "name"
    assert len(t["rows"]) == 1
    cells = t["rows"][0]["cells"]
    assert cells[:3] == ["tbl", 6, "Ready"]
    assert re.match(r"^\d+[smhd]", cells[3]), cells  # server-side age string
    obj = t["rows"][0]["object"]
    assert obj["kind"] == "PartialObjectMetadata" and obj["metadata"]["name"] == "tbl"
    # single-object GET as Table too
    t1 = ok(emu.api("GET", W("tbl"), headers=TABLE))
    assert t1["kind"] == "Table" and t1["rows"][0]["cells"][0] == "tbl"


# --------------------------------------------------------------------------------------------
# Discovery and CRD lifecycle


def test_discovery_documents(emu):
    v = ok(emu.api("GET", "/version"))
    assert v["major"] == "1" and v["minor"] == "32" and v["gitVersion"].startswith("v1.32.")
    api = ok(emu.api("GET", "/api"))
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    groups = {g["name"]: g for g in ok(emu.api("GET", "/apis"))["groups"]}
    assert {"apiextensions.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io", "example.com"} <= set(groups)
    assert groups["example.com"]["preferredVersion"]["groupVersion"] == "example.com/v1"
    core_res = {r["name"]: r for r in ok(emu.api("GET", "/api/v1"))["resources"]}
    for name in ("namespaces", "secrets", "configmaps", "events", "serviceaccounts"):
        assert name in core_res, name
    assert core_res["namespaces"]["namespaced"] is False and core_res["secrets"]["namespaced"] is True
    res = {r["name"]: r for r in ok(emu.api("GET", "/apis/example.com/v1"))["resources"]}
    w = res["widgets"]
    assert w["kind"] == "Widget" and w["singularName"] == "widget" and w["namespaced"] is True
    assert w["shortNames"] == ["wd"] and w["categories"] == ["all"]
    assert set(w["verbs"]) == {"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"}
    assert set(res["widgets/status"]["verbs"]) == {"get", "patch", "update"}
    assert "gadgets/status" not in res
    r = emu.api("GET", "/openapi/v2")
    assert r.status == 200 and "protobuf" in r.headers["content-type"] and "@" not in r.headers["content-type"]


def test_crd_delete_removes_resources_and_discovery(emulator):
    emu = emulator()
    crd = install_crd(emu)
    post(emu, W(), widget("doomed"))
    assert ok(emu.api("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"), 200, 202)
    wait_for(lambda: emu.api("GET", "/apis/example.com/v1").status == 404, 10, "group gone from discovery")
    assert "example.com" not in {g["name"] for g in ok(emu.api("GET", "/apis"))["groups"]}
    assert emu.api("GET", W("doomed")).status == 404
    # Re-creating the CRD does not resurrect old objects
    install_crd(emu, crd)
    assert ok(emu.api("GET", W()))["items"] == []


def test_namespace_deletion_removes_contents(emu):
    create_ns(emu, "gone-ns")
    post(emu, core("gone-ns", "configmaps"), cm("c"))
    post(emu, W(ns="gone-ns"), widget("w", ns="gone-ns"))
    ok(emu.api("DELETE", "/api/v1/namespaces/gone-ns"), 200, 202)
    wait_for(lambda: emu.api("GET", "/api/v1/namespaces/gone-ns").status == 404, 10, "namespace gone")
    assert emu.api("GET", core("gone-ns", "configmaps", "c")).status == 404
    assert emu.api("GET", W("w", ns="gone-ns")).status == 404


# --------------------------------------------------------------------------------------------
# Other built-in kinds, dryRun, deletecollection


def test_builtin_kinds_roundtrip(emu):
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    objs = [
        (core("default", "serviceaccounts"), {"apiVersion": "v1", "kind": "ServiceAccount",
                                              "metadata": {"name": "op"}}),
        (core("default", "events"), {"apiVersion": "v1", "kind": "Event",
                                     "metadata": {"name": "ev1"}, "reason": "Synced", "message": "ok",
                                     "type": "Normal",
                                     "involvedObject": {"kind": "Widget", "name": "w1", "namespace": "default"}}),
        (f"{rbac}/namespaces/default/roles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                              "metadata": {"name": "r"},
                                              "rules": [{"apiGroups": [""], "resources": ["secrets"],
                                                         "verbs": ["get", "list", "watch"]}]}),
        (f"{rbac}/namespaces/default/rolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "default"}]}),
        (f"{rbac}/clusterroles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                  "metadata": {"name": "cr"}, "rules": []}),
        (f"{rbac}/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "crb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cr"},
            "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "default"}]}),
        ("/apis/coordination.k8s.io/v1/namespaces/default/leases", {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
            "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15,
                     "renewTime": "2025-06-01T12:00:00.123456Z", "leaseTransitions": 0}}),
    ]
    for path, body in objs:
        created = post(emu, path, body)
        assert created["kind"] == body["kind"] and created["metadata"]["uid"]
        got = ok(emu.api("GET", path + "/" + body["metadata"]["name"]))
        assert got == created
        lst = ok(emu.api("GET", path))
        assert lst["kind"] == body["kind"] + "List"
        assert body["metadata"]["name"] in [i["metadata"]["name"] for i in lst["items"]]
    lease = ok(emu.api("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/l"))
    assert lease["spec"]["renewTime"] == "2025-06-01T12:00:00.123456Z"  # MicroTime passthrough
    # Leases forbid unconditional update (leader election relies on it)
    del lease["metadata"]["resourceVersion"]
    st = assert_status(emu.api("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/l", lease),
                       422, "Invalid")
    assert "must be specified for an update" in st["message"]
    # cluster-scoped kinds reject a namespaced path
    r = emu.api("POST", f"{rbac}/namespaces/default/clusterroles", {"metadata": {"name": "x"}, "rules": []})
    assert r.status == 404


def test_dry_run_does_not_persist(emu):
    before = ok(emu.api("GET", core("default", "configmaps")))["metadata"]["resourceVersion"]
    r = emu.api("POST", q(core("default", "configmaps"), dryRun="All"), cm("dry"))
    assert r.status == 201 and r.json["metadata"]["name"] == "dry"
    assert emu.api("GET", core("default", "configmaps", "dry")).status == 404
    post(emu, core("default", "configmaps"), cm("dry2"))
    r = emu.api("DELETE", q(core("default", "configmaps", "dry2"), dryRun="All"))
    assert r.status == 200
    assert emu.api("GET", core("default", "configmaps", "dry2")).status == 200
    r = emu.api("POST", q(core("default", "configmaps"), dryRun="Some"), cm("dry3"))
    assert_status(r, 400, "BadRequest")
    assert int(before) < rv(ok(emu.api("GET", core("default", "configmaps", "dry2"))))


def test_delete_collection_with_label_selector(emu):
    create_ns(emu, "coll")
    for i in range(4):
        post(emu, core("coll", "configmaps"), cm(f"c{i}", labels={"batch": "x" if i < 3 else "y"}))
    r = emu.api("DELETE", q(core("coll", "configmaps"), labelSelector="batch=x"))
    assert r.status == 200
    left = ok(emu.api("GET", core("coll", "configmaps")))["items"]
    assert [i["metadata"]["name"] for i in left] == ["c3"]


def test_kind_and_api_version_defaults(emu):
    # A body without apiVersion/kind is typed by the URL; the reply carries them.
    o = post(emu, core("default", "configmaps"), {"metadata": {"name": "nokind"}, "data": {"a": "b"}})
    assert o["kind"] == "ConfigMap" and o["apiVersion"] == "v1"
    # Items of built-in lists carry no apiVersion/kind (like the apiserver); CR list items do.
    item = next(i for i in ok(emu.api("GET", core("default", "configmaps")))["items"]
                if i["metadata"]["name"] == "nokind")
    assert "kind" not in item and "apiVersion" not in item
    post(emu, W(), widget("kinded"))
    item = next(i for i in ok(emu.api("GET", W()))["items"] if i["metadata"]["name"] == "kinded")
    assert item["kind"] == "Widget" and item["apiVersion"] == "example.com/v1"
    # A body whose kind contradicts the URL is a 400 (decoded as that kind, which then does not convert).
    st = assert_status(emu.api("POST", core("default", "configmaps"), {"kind": "Secret", "metadata": {"name": "x"}}),
                       400, "BadRequest")
    assert st["message"] == ('Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to '
                             '(core.ConfigMap): unknown conversion')
    r = emu.api("POST", core("default", "configmaps"), b"{this is not json")
    assert_status(r, 400, "BadRequest")


def test_foreground_deletion_waits_for_blocking_dependents(emu):
    owner = post(emu, W(), widget("fg-owner"))
    ref = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "fg-owner",
           "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True}
    post(emu, core("default", "configmaps"), cm("fg-dep", ownerReferences=[ref], finalizers=["example.com/hold"]))
    d = ok(emu.api("DELETE", W("fg-owner"), {"propagationPolicy": "Foreground"}), 200, 202)
    assert "foregroundDeletion" in d["metadata"]["finalizers"] and d["metadata"]["deletionTimestamp"]
    # the dependent is being deleted, held by its own finalizer; the owner waits for it
    wait_for(lambda: ok(emu.api("GET", core("default", "configmaps", "fg-dep")))["metadata"].get("deletionTimestamp"),
             10, "dependent marked for deletion")
    assert emu.api("GET", W("fg-owner")).status == 200
    ok(emu.api("PATCH", core("default", "configmaps", "fg-dep"), {"metadata": {"finalizers": None}}, MERGE))
    wait_for(lambda: emu.api("GET", W("fg-owner")).status == 404, 10, "owner removed after its dependent")
    assert emu.api("GET", core("default", "configmaps", "fg-dep")).status == 404
