"""ObjectMeta validation (ValidateObjectMetaAccessor), resourceVersion on create, custom resources
without kind/apiVersion, and the order in which a create is judged (decode, NamespaceLifecycle,
validation, storage)."""

import pytest

from emu_helpers import assert_status, b64, core, install_crd, ns_path, ok, q, widget

MERGE = {"Content-Type": "application/merge-patch+json"}
JSONPATCH = {"Content-Type": "application/json-patch+json"}
QUALIFIED = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
             "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


@pytest.fixture(scope="module")
def emu(module_emulator):
    e = module_emulator()
    install_crd(e)
    return e


def cm(name, **meta):
    md = {"name": name}
    md.update(meta)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": {"k": "v"}}


def causes(st):
    return [(c["field"], c["message"]) for c in st["details"]["causes"]]


def invalid(emu, body, path=None):
    return assert_status(emu.api("POST", path or core("default", "configmaps"), body), 422, "Invalid")


# --------------------------------------------------------------------------------------------
# labels, annotations, finalizers, ownerReferences


def test_label_keys_and_values(emu):
    st = invalid(emu, cm("lbl", labels={"a/b/c": "x", "example.com/ok": "-bad", "x" * 64: "ok", "": "v"}))
    got = causes(st)
    assert ("metadata.labels", 'Invalid value: "a/b/c": a qualified name ' + QUALIFIED +
            " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')") in got
    assert ("metadata.labels", 'Invalid value: "-bad": a valid label must be an empty string or consist of '
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')") in got
    assert ("metadata.labels", 'Invalid value: "%s": name part must be no more than 63 characters' % ("x" * 64)) in got
    # an empty key: both "must be non-empty" and the regex message, as IsQualifiedName reports them
    assert ("metadata.labels", 'Invalid value: "": name part must be non-empty') in got
    assert ("metadata.labels", 'Invalid value: "": name part ' + QUALIFIED) in got
    assert st["details"]["kind"] == "ConfigMap"
    ok(emu.api("POST", core("default", "configmaps"), cm("lbl-ok", labels={"a.b/c": "", "x": "y" * 63})), 201)
    # updates are validated too
    st = assert_status(emu.api("PATCH", core("default", "configmaps", "lbl-ok"),
                               {"metadata": {"labels": {"UPPER/x": "1"}}}, MERGE), 422, "Invalid")
    assert causes(st)[0][1].startswith('Invalid value: "UPPER/x": prefix part a lowercase RFC 1123 subdomain')


def test_annotation_keys_and_total_size(emu):
    # keys are qualified names, compared in lower case; values are free
    ok(emu.api("POST", core("default", "configmaps"), cm("ann-ok", annotations={"Example.COM/Key": "any value!"})),
       201)
    st = invalid(emu, cm("ann", annotations={"bad key": "v"}))
    assert causes(st) == [("metadata.annotations", 'Invalid value: "bad key": name part ' + QUALIFIED)]
    st = invalid(emu, cm("ann-big", annotations={"a": "x" * (256 * 1024)}))
    assert causes(st) == [("metadata.annotations", "Too long: may not be more than 262144 bytes")]
    ok(emu.api("POST", core("default", "configmaps"), cm("ann-max", annotations={"a": "x" * (256 * 1024 - 1)})),
       201)


def test_finalizer_names(emu):
    # qualified names; unprefixed names are allowed ("kubernetes", or anything qualified)
    ok(emu.api("POST", core("default", "configmaps"),
               cm("fin-ok", finalizers=["kubernetes", "example.com/cleanup", "plain"])), 201)
    st = invalid(emu, cm("fin-bad", finalizers=["example.com/clean up"]))
    assert causes(st) == [("metadata.finalizers", 'Invalid value: "example.com/clean up": name part ' + QUALIFIED)]
    st = invalid(emu, cm("fin-both", finalizers=["orphan", "foregroundDeletion"]))
    assert causes(st) == [("metadata.finalizers", 'Invalid value: []string{"orphan", "foregroundDeletion"}: '
                                                  "finalizer orphan and foregroundDeletion cannot be both set")]


def test_custom_resource_unprefixed_finalizer_gets_a_warning(emu):
    r = emu.api("POST", ns_path("default", "widgets"), widget("fin-w", finalizers=["mine", "example.com/x",
                                                                                   "orphan"]))
    ok(r, 201)
    assert r.warnings == ['metadata.finalizers: "mine": prefer a domain-qualified finalizer name to avoid '
                          'accidental conflicts with other finalizer writers']
    r = emu.api("PATCH", ns_path("default", "widgets", "fin-w"),
                {"metadata": {"finalizers": ["mine", "example.com/x", "orphan", "also"]}}, MERGE)
    assert ok(r)["metadata"]["finalizers"][-1] == "also"
    assert r.warnings == ['metadata.finalizers: "also": prefer a domain-qualified finalizer name to avoid '
                          'accidental conflicts with other finalizer writers']
    ok(emu.api("PATCH", ns_path("default", "widgets", "fin-w"), {"metadata": {"finalizers": None}}, MERGE))


def test_owner_references(emu):
    good = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "u-1", "controller": True}
    ok(emu.api("POST", core("default", "configmaps"), cm("or-ok", ownerReferences=[good])), 201)
    st = invalid(emu, cm("or-empty", ownerReferences=[{"controller": False}]))
    assert causes(st) == [("metadata.ownerReferences.apiVersion", 'Invalid value: "": version must not be empty'),
                          ("metadata.ownerReferences.kind", 'Invalid value: "": kind must not be empty'),
                          ("metadata.ownerReferences.name", 'Invalid value: "": name must not be empty'),
                          ("metadata.ownerReferences.uid", 'Invalid value: "": uid must not be empty')]
    st = invalid(emu, cm("or-noversion", ownerReferences=[dict(good, apiVersion="apps/")]))
    assert causes(st) == [("metadata.ownerReferences.apiVersion", 'Invalid value: "apps/": version must not be empty')]
    second = dict(good, name="other", uid="u-2")
    st = invalid(emu, cm("or-two", ownerReferences=[good, second]))
    (field, message), = causes(st)
    assert field == "metadata.ownerReferences"
    assert message.endswith('Only one reference can have Controller set to true. Found "true" in references for '
                            'ConfigMap/owner and ConfigMap/other')
    st = invalid(emu, cm("or-event", ownerReferences=[dict(good, kind="Event", controller=False)]))
    assert causes(st)[0][1].endswith("/v1, Kind=Event is disallowed from being an owner")
    # identical entries are deduplicated, with a warning
    r = emu.api("POST", core("default", "configmaps"), cm("or-dup", ownerReferences=[good, dict(good)]))
    assert len(ok(r, 201)["metadata"]["ownerReferences"]) == 1
    assert r.warnings == [".metadata.ownerReferences contains duplicate entries; API server dedups owner references "
                          "in 1.20+, and may reject such requests as early as 1.24; please fix your requests. "
                          "Duplicate UIDs found in metadata.ownerReferences: u-1"]


def test_names_and_generate_name(emu):
    st = invalid(emu, {"metadata": {"generateName": "Bad-"}, "data": {}})
    assert [f for f, _ in causes(st)] == ["metadata.generateName", "metadata.name"]
    st = invalid(emu, {"metadata": {}, "data": {}})
    assert causes(st) == [("metadata.name", "Required value: name or generateName is required")]
    st = invalid(emu, cm("x" * 254))
    assert [m.split(": ", 2)[-1] for _, m in causes(st)] == ["must be no more than 253 characters"]
    st = invalid(emu, {"metadata": {"name": "Upper"}}, "/api/v1/namespaces")
    assert causes(st)[0][1].endswith("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                                     "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',"
                                     "  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    st = invalid(emu, {"metadata": {"name": "a/b"}, "rules": []},
                 "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles")
    assert causes(st) == [("metadata.name", "Invalid value: \"a/b\": may not contain '/'")]


# --------------------------------------------------------------------------------------------
# resourceVersion on create


def test_create_with_resource_version_is_500(emu):
    r = emu.api("POST", core("default", "configmaps"), cm("rv-set", resourceVersion="42"))
    assert r.status == 500
    assert r.json == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": "resourceVersion should not be set on objects to be created", "code": 500}
    assert emu.api("GET", core("default", "configmaps", "rv-set")).status == 404
    # etcd3 only objects to a numeric, non-zero version; "0" and non-numbers are cleared
    for i, v in enumerate(("0", "", "abc", "-1")):
        o = ok(emu.api("POST", core("default", "configmaps"), cm("rv-ok-%d" % i, resourceVersion=v)), 201)
        assert o["metadata"]["resourceVersion"].isdigit() and o["metadata"]["resourceVersion"] != v
    # validation (BeforeCreate) comes first, the name check (storage) after
    assert invalid(emu, cm("Bad", resourceVersion="42"))["details"]["causes"][0]["field"] == "metadata.name"
    taken = ok(emu.api("GET", core("default", "configmaps", "rv-ok-0")))
    assert emu.api("POST", core("default", "configmaps"), taken).status == 500
    # a dry run never reaches the storage check
    assert emu.api("POST", q(core("default", "configmaps"), dryRun="All"), cm("rv-dry", resourceVersion="7")).status \
        == 201
    # PUT creating a Lease (create-on-update) ignores it, as the update path does
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "rv-lease", "resourceVersion": "5"}, "spec": {}}
    r = emu.api("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/rv-lease", lease)
    assert r.status == 201, r


# --------------------------------------------------------------------------------------------
# custom resources: kind and apiVersion


def test_custom_resource_without_kind_is_400(emu):
    raw = b'{"apiVersion":"example.com/v1","metadata":{"name":"nokind"},"spec":{"size":3}}'
    st = assert_status(emu.api("POST", ns_path("default", "widgets"), raw), 400, "BadRequest")
    assert st["message"] == ("the object provided is unrecognized (must be of type Widget): Object 'Kind' is missing "
                             "in '%s' (%s ...)" % (raw.decode(), raw[:30].decode()))
    # the non-strict decoder (fieldValidation=Ignore) fails inside Unstructured.UnmarshalJSON instead
    st = assert_status(emu.api("POST", q(ns_path("default", "widgets"), fieldValidation="Ignore"), raw),
                       400, "BadRequest")
    assert st["message"] == ('Widget in version "v1" cannot be handled as a Widget: Object \'Kind\' is missing in '
                             "'%s'" % raw.decode())
    ok(emu.api("POST", ns_path("default", "widgets"), widget("kinded")), 201)
    put = widget("kinded")
    del put["kind"]
    assert_status(emu.api("PUT", ns_path("default", "widgets", "kinded"), put), 400, "BadRequest")
    # patches carry no kind: unaffected
    ok(emu.api("PATCH", ns_path("default", "widgets", "kinded"), {"spec": {"size": 4}}, MERGE))
    assert emu.api("GET", ns_path("default", "widgets", "nokind")).status == 404


def test_custom_resource_without_or_with_wrong_api_version_or_kind(emu):
    body = widget("noav")
    del body["apiVersion"]
    st = assert_status(emu.api("POST", ns_path("default", "widgets"), body), 400, "BadRequest")
    assert st["message"] == ("the API version in the data () does not match the expected API version "
                             "(example.com/v1)")
    body = widget("wrongkind")
    body["kind"] = "Gadget"
    st = invalid(emu, body, ns_path("default", "widgets"))
    assert causes(st) == [("kind", 'Invalid value: "Gadget": must be Widget')]
    # a JSON patch that removes kind leaves an object that does not decode: 422 on "patch"
    st = assert_status(emu.api("PATCH", ns_path("default", "widgets", "kinded"),
                               [{"op": "remove", "path": "/kind"}], JSONPATCH), 422, "Invalid")
    assert causes(st)[0][0] == "patch" and "Object 'Kind' is missing in" in causes(st)[0][1]


# --------------------------------------------------------------------------------------------
# order of checks on create


def test_create_order_decode_then_namespace_then_validation(emu):
    missing = core("no-such-ns", "configmaps")
    # NamespaceLifecycle (admission) runs before validation: an invalid object still gets the 404
    st = assert_status(emu.api("POST", missing, cm("Invalid_Name")), 404, "NotFound")
    assert st["details"] == {"name": "no-such-ns", "kind": "namespaces"}
    # ... but after decoding: a body that does not decode is a 400 even there
    st = assert_status(emu.api("POST", missing, {"metadata": {"name": "x", "labels": "x"}}), 400, "BadRequest")
    st = assert_status(emu.api("POST", q(missing, fieldValidation="Strict"), cm("x", bogus=1)), 400, "BadRequest")
    assert "strict decoding error" in st["message"]
    # and a namespace in the body that contradicts the URL is a 400 before the namespace is looked up
    st = assert_status(emu.api("POST", missing, cm("x", namespace="default")), 400, "BadRequest")
    assert st["message"] == "the namespace of the provided object does not match the namespace sent on the request"
    assert_status(emu.api("POST", core("no-such-ns", "secrets"), {"metadata": {"name": "s"},
                                                                   "data": {"a": b64("1")}}), 404, "NotFound")
