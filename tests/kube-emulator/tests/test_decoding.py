"""Request bodies decoded as kube-apiserver decodes them: the Go types of the built-in kinds
(unknown fields, fieldValidation Ignore/Warn/Strict, JSON type errors, base64, MicroTime),
the kind-specific Secret/ConfigMap/Lease rules, and custom resources' metadata."""

import base64

import pytest

from emu_helpers import assert_status, b64, core, install_crd, ns_path, ok, q, widget

MERGE = {"Content-Type": "application/merge-patch+json"}
LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"


@pytest.fixture(scope="module")
def emu(module_emulator):
    e = module_emulator()
    install_crd(e)
    return e


def secret(name, **fields):
    o = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}
    o.update(fields)
    return o


def lease(name, **spec):
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name}, "spec": spec}


# --------------------------------------------------------------------------------------------
# Unknown fields and the fieldValidation directive


def test_unknown_fields_dropped_with_warnings_by_default(emu):
    r = emu.api("POST", core("default", "secrets"),
                secret("unk-warn", data={"a": b64("1")}, bogus={"x": 1}, metadata={"name": "unk-warn", "foo": 1}))
    s = ok(r, 201)
    assert "bogus" not in s and "foo" not in s["metadata"]
    # default directive is Warn: one 299 Warning per strict error, in document order
    assert r.warnings == ['unknown field "metadata.foo"', 'unknown field "bogus"']
    assert "bogus" not in ok(emu.api("GET", core("default", "secrets", "unk-warn")))


def test_unknown_fields_strict_is_400_ignore_is_silent(emu):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unk-strict", "foo": 1},
            "data": {"a": "b"}, "spec": {"x": 1}}
    st = assert_status(emu.api("POST", q(core("default", "configmaps"), fieldValidation="Strict"), body),
                       400, "BadRequest")
    assert st["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
                             'unknown field "metadata.foo", unknown field "spec"')
    r = emu.api("POST", q(core("default", "configmaps"), fieldValidation="Ignore"), body)
    assert "spec" not in ok(r, 201) and r.warnings == []
    # patches: the same under Strict, without the decoder's prefix
    st = assert_status(emu.api("PATCH", q(core("default", "configmaps", "unk-strict"), fieldValidation="Strict"),
                               {"data": {"c": "d"}, "extra": True}, MERGE), 400, "BadRequest")
    assert st["message"] == 'strict decoding error: unknown field "extra"'
    r = emu.api("PATCH", core("default", "configmaps", "unk-strict"), {"extra": True, "data": {"c": "d"}}, MERGE)
    assert ok(r)["data"] == {"a": "b", "c": "d"} and r.warnings == ['unknown field "extra"']


def test_strict_paths_name_list_indexes_and_duplicates(emu):
    body = (b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"dup-a","name":"dup-b",'
            b'"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u","colour":"x"}]}}')
    st = assert_status(emu.api("POST", q(core("default", "secrets"), fieldValidation="Strict"), body),
                       400, "BadRequest")
    assert st["message"].endswith('strict decoding error: duplicate field "metadata.name", '
                                  'unknown field "metadata.ownerReferences[0].colour"'), st["message"]
    r = emu.api("POST", core("default", "secrets"), body)
    assert ok(r, 201)["metadata"]["name"] == "dup-b"  # the last value wins, as in Go
    assert 'duplicate field "metadata.name"' in r.warnings


def test_invalid_field_validation_value_is_422(emu):
    st = assert_status(emu.api("POST", q(core("default", "secrets"), fieldValidation="strict"), secret("fv")),
                       422, "Invalid")
    assert st["message"] == ('CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
                             '"strict": supported values: "", "Ignore", "Strict", "Warn"')


# --------------------------------------------------------------------------------------------
# JSON type errors


@pytest.mark.parametrize("body,message", [
    ({"metadata": {"name": "t1", "labels": "x"}},
     "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string"),
    ({"metadata": {"name": "t2", "labels": {"a": 5}}},
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"),
    ({"metadata": {"name": "t3"}, "data": 5},
     "json: cannot unmarshal number into Go struct field Secret.data of type map[string][]uint8"),
    ({"metadata": {"name": "t4"}, "immutable": "yes"},
     "json: cannot unmarshal string into Go struct field Secret.immutable of type bool"),
    ({"metadata": {"name": "t5", "ownerReferences": [{"controller": "yes"}]}},
     "json: cannot unmarshal string into Go struct field OwnerReference.metadata.ownerReferences.controller "
     "of type bool"),
    ({"metadata": {"name": "t6"}, "data": {"a": "!!notbase64!!"}}, "illegal base64 data at input byte 0"),
    ({"metadata": {"name": "t7"}, "data": {"a": "YQ"}}, "illegal base64 data at input byte 0"),
    ({"metadata": {"name": "t8"}, "data": {"a": "YQ==YQ=="}}, "illegal base64 data at input byte 4"),
])
def test_type_errors_are_400_like_the_go_decoder(emu, body, message):
    st = assert_status(emu.api("POST", core("default", "secrets"), body), 400, "BadRequest")
    assert st["message"] == 'Secret in version "v1" cannot be handled as a Secret: ' + message
    assert emu.api("GET", core("default", "secrets", body["metadata"]["name"])).status == 404


def test_unparsable_body_is_400(emu):
    st = assert_status(emu.api("POST", core("default", "secrets"), b'{"metadata": '), 400, "BadRequest")
    assert st["message"] == ("the object provided is unrecognized (must be of type Secret): couldn't get "
                             "version/kind; json parse error: unexpected end of JSON input ({\"metadata\": )")


def test_base64_as_go_decodes_it(emu):
    # encoding/json skips \r and \n inside base64 and ignores non-zero padding bits; the server
    # writes back the canonical encoding of the bytes
    s = ok(emu.api("POST", core("default", "secrets"), secret("b64", data={"a": "YWJj\nZGVm", "b": "YR=="})), 201)
    assert s["data"] == {"a": b64("abcdef"), "b": "YQ=="}


# --------------------------------------------------------------------------------------------
# Lease: MicroTime and int32


def test_lease_micro_time_needs_six_fraction_digits(emu):
    for bad, elem in (("2026-01-02T03:04:05Z", '"Z" as ".000000"'),
                      ("2026-01-02T03:04:05.123Z", '".123Z" as ".000000"'),
                      ("2026-01-02T03:04:05.1234567Z", '"7Z" as "Z07:00"')):
        st = assert_status(emu.api("POST", LEASES, lease("mt", renewTime=bad)), 400, "BadRequest")
        assert st["message"] == ('Lease in version "v1" cannot be handled as a Lease: parsing time "%s" as '
                                 '"2006-01-02T15:04:05.000000Z07:00": cannot parse %s' % (bad, elem)), st
    st = assert_status(emu.api("POST", LEASES, lease("mt", acquireTime="2026-13-02T03:04:05.000000Z")),
                       400, "BadRequest")
    assert st["message"].endswith('parsing time "2026-13-02T03:04:05.000000Z": month out of range')
    # any offset is fine; the server stores and returns UTC with exactly six digits
    lo = ok(emu.api("POST", LEASES, lease("mt", holderIdentity="", leaseDurationSeconds=15, leaseTransitions=0,
                                          acquireTime="2026-01-02T03:04:05.000001+01:00",
                                          renewTime="2026-01-02T03:04:05.123456Z")), 201)
    assert lo["spec"] == {"holderIdentity": "", "leaseDurationSeconds": 15,
                          "acquireTime": "2026-01-02T02:04:05.000001Z", "renewTime": "2026-01-02T03:04:05.123456Z",
                          "leaseTransitions": 0}


def test_lease_int32_fields_and_spec_checks(emu):
    for v, text in ((1.5, "number 1.5"), (2 ** 31, "number 2147483648"), ("15", "string")):
        st = assert_status(emu.api("POST", LEASES, lease("li", leaseDurationSeconds=v)), 400, "BadRequest")
        assert st["message"].endswith("json: cannot unmarshal %s into Go struct field LeaseSpec.spec."
                                      "leaseDurationSeconds of type int32" % text), st
    st = assert_status(emu.api("POST", LEASES, lease("li", leaseDurationSeconds=0, leaseTransitions=-1)),
                       422, "Invalid")
    assert [c["field"] for c in st["details"]["causes"]] == ["spec.leaseDurationSeconds", "spec.leaseTransitions"]
    assert st["details"]["causes"][0]["message"] == "Invalid value: 0: must be greater than 0"


# --------------------------------------------------------------------------------------------
# Secret and ConfigMap rules (ValidateSecret, ValidateConfigMap)


@pytest.mark.parametrize("typ,data,missing", [
    ("kubernetes.io/tls", {"tls.crt": b64("c")}, ["data[tls.key]"]),
    ("kubernetes.io/tls", {}, ["data[tls.crt]", "data[tls.key]"]),
    ("kubernetes.io/dockerconfigjson", {}, ["data[.dockerconfigjson]"]),
    ("kubernetes.io/dockercfg", {}, ["data[.dockercfg]"]),
    ("kubernetes.io/basic-auth", {}, ["data[username]", "data[password]"]),
    ("kubernetes.io/ssh-auth", {"ssh-privatekey": ""}, ["data[ssh-privatekey]"]),
    ("kubernetes.io/service-account-token", {}, ["metadata.annotations[kubernetes.io/service-account.name]"]),
])
def test_secret_type_requires_its_keys(emu, typ, data, missing):
    st = assert_status(emu.api("POST", core("default", "secrets"), secret("typed", type=typ, data=data)),
                       422, "Invalid")
    assert [(c["reason"], c["field"]) for c in st["details"]["causes"]] == \
        [("FieldValueRequired", f) for f in missing]


def test_secret_type_content_checks(emu):
    st = assert_status(emu.api("POST", core("default", "secrets"), secret(
        "dcj", type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64("{not json")})), 422, "Invalid")
    assert st["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": "data[.dockerconfigjson]",
        "message": "Invalid value: \"<secret contents redacted>\": invalid character 'n' looking for beginning of "
                   "object key string"}]
    ok(emu.api("POST", core("default", "secrets"), secret(
        "dcj", type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64('{"auths":{}}')})), 201)
    ok(emu.api("POST", core("default", "secrets"), secret(
        "tls", type="kubernetes.io/tls", data={"tls.crt": b64("c"), "tls.key": b64("k")})), 201)
    ok(emu.api("POST", core("default", "secrets"), secret(
        "ba", type="kubernetes.io/basic-auth", data={"password": ""})), 201)


def test_config_keys_and_size_limits(emu):
    st = assert_status(emu.api("POST", core("default", "secrets"), secret(
        "keys", data={"ok.key": b64("1"), "bad key": b64("2"), "..dots": b64("3")})), 422, "Invalid")
    causes = [(c["field"], c["message"].split(": ", 2)[-1]) for c in st["details"]["causes"]]
    assert ("data[bad key]", "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
            "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')") in causes
    assert ("data[..dots]", "must not start with '..'") in causes
    big = base64.b64encode(b"x" * (1024 * 1024 - 3)).decode()
    ok(emu.api("POST", core("default", "secrets"), secret("big-ok", data={"a": big, "b": b64("123")})), 201)
    st = assert_status(emu.api("POST", core("default", "secrets"), secret("big", data={"a": big, "b": b64("1234")})),
                       422, "Invalid")
    assert st["details"]["causes"] == [{"reason": "FieldValueTooLong", "field": "data",
                                        "message": "Too long: may not be more than 1048576 bytes"}]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-big"},
          "data": {"a": "x" * (1024 * 1024)}, "binaryData": {"b": b64("y")}}
    st = assert_status(emu.api("POST", core("default", "configmaps"), cm), 422, "Invalid")
    # the whole object is the field: Go prints an empty path before the colon
    assert st["message"] == 'ConfigMap "cm-big" is invalid: : Too long: may not be more than 1048576 bytes'
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-keys"},
          "data": {"a b": "1", "k": "1"}, "binaryData": {"k": b64("2")}}
    st = assert_status(emu.api("POST", core("default", "configmaps"), cm), 422, "Invalid")
    assert [c["field"] for c in st["details"]["causes"]] == ["data[a b]", "data[k]"]
    assert st["details"]["causes"][1]["message"] == 'Invalid value: "k": duplicate of key present in binaryData'


# --------------------------------------------------------------------------------------------
# Output as Go writes it


def test_objects_are_written_back_as_go_marshals_them(emu):
    ev = ok(emu.api("POST", core("default", "events"), {
        "metadata": {"name": "ev1"}, "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": "default"},
        "reason": "Test", "count": 0, "type": ""}), 201)
    # fields without omitempty are always there (zero values), omitempty zero values are not
    assert ev["reportingComponent"] == "" and ev["reportingInstance"] == "" and ev["source"] == {}
    assert ev["firstTimestamp"] is None and ev["eventTime"] is None
    assert "count" not in ev and "type" not in ev
    assert list(ev)[:3] == ["kind", "apiVersion", "metadata"]
    assert list(ev["metadata"])[:5] == ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"]
    s = ok(emu.api("POST", core("default", "secrets"), secret("empty-data", data={}, stringData={})), 201)
    assert "data" not in s  # an empty map is omitted


def test_event_namespace_must_match_involved_object(emu):
    st = assert_status(emu.api("POST", core("default", "events"), {
        "metadata": {"name": "ev2"}, "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": "other"}}),
        422, "Invalid")
    assert st["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "involvedObject.namespace",
                                        "message": 'Invalid value: "other": does not match event.namespace'}]


# --------------------------------------------------------------------------------------------
# Custom resources: metadata is ObjectMeta


def test_custom_resource_metadata_is_pruned_to_object_meta(emu):
    w = widget("cr-meta")
    w["metadata"]["colour"] = "red"
    w["spec"]["extra"] = 1
    r = emu.api("POST", ns_path("default", "widgets"), w)
    o = ok(r, 201)
    assert "colour" not in o["metadata"] and "extra" not in o["spec"]
    assert r.warnings == ['unknown field "metadata.colour"', 'unknown field "spec.extra"']
    w["metadata"]["name"] = "cr-meta-2"
    st = assert_status(emu.api("POST", q(ns_path("default", "widgets"), fieldValidation="Strict"), w),
                       400, "BadRequest")
    assert st["message"] == ('Widget in version "v1" cannot be handled as a Widget: strict decoding error: '
                             'unknown field "metadata.colour", unknown field "spec.extra"')
    bad = widget("cr-meta-3", labels={"a": 1})
    st = assert_status(emu.api("POST", ns_path("default", "widgets"), bad), 400, "BadRequest")
    # ObjectMeta is decoded on its own here, so the field path starts inside it
    assert st["message"] == ('Widget in version "v1" cannot be handled as a Widget: json: cannot unmarshal number '
                             'into Go struct field ObjectMeta.labels of type string')
    st = assert_status(emu.api("PATCH", ns_path("default", "widgets", "cr-meta"),
                               {"metadata": {"labels": {"a": 1}}}, MERGE), 422, "Invalid")
    assert st["details"]["causes"][0]["field"] == "patch"
