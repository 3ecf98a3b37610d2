"""Request-body decoding as kube-apiserver's handlers do it, before any
admission or validation (staging/src/k8s.io/apiserver/pkg/endpoints/handlers
create.go / update.go / patch.go, runtime/serializer/json, sigs.k8s.io/json):

- parse_body: JSON text -> dict, Go-like syntax errors ("couldn't get
  version/kind; json parse error: ..."); duplicate keys are remembered.
- Built-in kinds are decoded into their Go types (gotypes.py): unknown fields
  are dropped (and reported as strict errors `unknown field "spec.x"`), a
  wrong JSON type is a decode error (`json: cannot unmarshal string into Go
  struct field ObjectMeta.metadata.labels of type map[string]string`),
  []byte fields must be valid base64, metav1.Time/MicroTime must parse with
  Go's time.Parse; the result is re-encoded as Go would write it
  (omitempty, zero values of always-present fields, canonical base64,
  times in UTC).
- Custom resources: a missing `kind` is rejected; metadata is decoded into
  ObjectMeta (unknown fields -> strict errors "metadata.x"); the rest is
  pruned and defaulted by the CRD schema (validation.py).
- The fieldValidation directive decides what strict errors do: Strict -> 400,
  Warn (the default, also when the parameter is absent) -> `Warning` headers,
  Ignore -> nothing.

Decode errors of create/update are 400 BadRequest with transformDecodeError's
prefix ("Secret in version "v1" cannot be handled as a Secret: ..."); for
patches they are 422 on field "patch" and strict errors carry no prefix.
"""
import base64
import binascii
import json

from . import errors, gotypes, gostd
from .validation import prune_and_default

DIRECTIVES = ("Ignore", "Warn", "Strict")
_MAX_STRICT = 100
_INT_RANGE = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}


class Number(float):
    """A JSON number with a fraction or exponent, remembering its literal text
    (Go quotes the literal in "cannot unmarshal number 1.5 into ... int32")."""
    __slots__ = ("text",)


def _number(text):
    n = Number(text)
    n.text = text
    return n


class DupDict(dict):
    """A JSON object that had duplicate keys (the last value wins, as in Go)."""
    __slots__ = ("dups",)


def _pairs(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        dd = DupDict(d)
        names = [k for k, _ in pairs]
        dd.dups = [k for i, k in enumerate(names) if k in names[:i]]
        return dd
    return d


_JSON = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_number)


# ------------------------------------------------------------------ JSON text

def _go_char(c):
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    return "'" + json.dumps(c)[1:-1] + "'"


def _go_syntax_error(text, e):
    """Go's json.SyntaxError text for a Python JSONDecodeError (best effort)."""
    pos, msg = e.pos, e.msg
    if pos >= len(text) or msg.startswith("Unterminated string"):
        return "unexpected end of JSON input"
    c = _go_char(text[pos])
    if msg.startswith("Expecting value"):
        return "invalid character %s looking for beginning of value" % c
    if msg.startswith("Expecting property name"):
        return "invalid character %s looking for beginning of object key string" % c
    if msg.startswith("Expecting ':'"):
        return "invalid character %s after object key" % c
    if msg.startswith("Expecting ','"):
        before = text[:pos].rstrip()
        opener = _innermost_open(before)
        return "invalid character %s after %s" % (c, "array element" if opener == "[" else
                                                  "object key:value pair")
    if msg.startswith("Extra data"):
        return "invalid character %s after top-level value" % c
    if msg.startswith("Invalid control character"):
        return "invalid character %s in string literal" % c
    return "invalid character %s looking for beginning of value" % c


def _innermost_open(text):
    depth = []
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth.append(ch)
        elif ch in "]}" and depth:
            depth.pop()
    return depth[-1] if depth else ""


def summarize(raw):
    """handlers.summarizeData(body, 30)."""
    if not raw:
        return "<empty>"
    if raw[:1] == b"{":
        return raw[:30].decode("utf-8", "replace") + (" ..." if len(raw) > 30 else "")
    return raw[:30].hex() + (" ..." if len(raw) > 30 else "")


def unrecognized(kind, err, raw):
    """transformDecodeError when the body's kind is unknown."""
    return errors.bad_request("the object provided is unrecognized (must be of type %s): %s (%s)"
                              % (kind, err, summarize(raw)))


def parse_body(raw, rt):
    """The request body as a JSON value; 400 as the JSON serializer answers malformed input."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else (raw or "")
    try:
        obj = _JSON.decode(text)
    except json.JSONDecodeError as e:
        raise unrecognized(rt.kind, "couldn't get version/kind; json parse error: " + _go_syntax_error(text, e),
                           raw if isinstance(raw, bytes) else text.encode())
    if not isinstance(obj, dict) and obj is not None:
        raise unrecognized(rt.kind, "couldn't get version/kind; json parse error: json: cannot unmarshal %s into "
                           "Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
                           "Kind string \"json:\\\"kind,omitempty\\\"\" }" % _json_kind(obj), raw)
    if isinstance(obj, dict):
        for f in ("apiVersion", "kind"):
            if f in obj and obj[f] is not None and not isinstance(obj[f], str):
                raise unrecognized(rt.kind, "couldn't get version/kind; json parse error: json: cannot unmarshal "
                                   "%s into Go struct field .%s of type string" % (_json_kind(obj[f]), f), raw)
    return obj


def _json_kind(v):
    if v is None:
        return "null"
    if v is True or v is False:
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


# ------------------------------------------------------------------ the Go-type walker

class _Abort(Exception):
    """An error that stops Go's decoder at once (from a custom UnmarshalJSON)."""


class _State:
    __slots__ = ("saved", "strict", "seen", "report")

    def __init__(self, report=True):
        self.saved = None     # first saved error text (Go reports the earliest)
        self.strict = []      # strict errors, in document order, deduplicated
        self.seen = set()
        self.report = report  # False inside a custom UnmarshalJSON (a non-strict json.Unmarshal)

    def strict_error(self, msg):
        if self.report and msg not in self.seen and len(self.strict) < _MAX_STRICT:
            self.seen.add(msg)
            self.strict.append(msg)

    def save(self, msg):
        if self.saved is None:
            self.saved = msg


def _type_error(value_desc, t, struct_name, field):
    if struct_name or field:
        return "json: cannot unmarshal %s into Go struct field %s.%s of type %s" % (value_desc, struct_name, field,
                                                                                     t.go)
    return "json: cannot unmarshal %s into Go value of type %s" % (value_desc, t.go)


def _join(path, key):
    return path + "." + key if path else key


_OMIT = object()
_UINT8 = gotypes.GoType("uint8", "uint8")


def _zero(t):
    k = t.kind
    if k == "string":
        return ""
    if k == "bool":
        return False
    if k in ("int32", "int64", "float64"):
        return 0
    if k == "struct":
        return {n: _zero(t.fields[n][0]) for n in t.always}
    return None  # slices, maps, []byte, times, raw JSON: null


def _empty(v):
    return v is None or v == "" or v is False or v == 0 or v == [] or v == {}


def _struct(v, t, st, sname, fpath, spath):
    """A JSON object into a Go struct: fields decoded in document order (so strict errors come
    in that order), written back in the struct's field order as Go marshals them."""
    if v.__class__ is DupDict:
        for k in v.dups:
            st.strict_error('duplicate field "%s"' % _join(spath, k))
    fields = t.fields
    index = t.index
    got = {}
    last = -1
    ordered = True
    for k, x in v.items():
        f = fields.get(k)
        if f is None:
            st.strict_error('unknown field "%s"' % _join(spath, k))
            continue
        ft, mode, cls = f
        if x is None:
            if mode == "!":
                got[k] = _zero(ft)
        elif x.__class__ is cls:  # fast path: a string or bool of the right type
            if mode != "" or x:
                got[k] = x
        else:
            x = _value(x, ft, st, t.name, _join(fpath, k), _join(spath, k))
            if x is _OMIT or (mode == "" and _empty(x)):
                continue
            got[k] = x
        i = index[k]
        if i < last:
            ordered = False
        last = i
    missing = [n for n in t.always if n not in got]
    if ordered and not missing:
        return got
    for n in missing:
        got[n] = _zero(fields[n][0])
    return {fname: got[fname] for fname in fields if fname in got}


def _string_map(v, st, sname, fpath, spath, et):
    """map[string]string (labels, annotations, data ...): the common all-strings case at C speed."""
    for x in v.values():
        if x.__class__ is not str:
            break
    else:
        return dict(v)
    out = {}
    for key, x in v.items():
        if x is None:
            out[key] = ""
            continue
        x = _value(x, et, st, sname, fpath, _join(spath, key))
        if x is not _OMIT:
            out[key] = x
    return out


def _bytes_map(v, st, sname, fpath, spath, et):
    """map[string][]byte (Secret.data, ConfigMap.binaryData): canonical base64 kept as it is."""
    out = {}
    for key, x in v.items():
        if x.__class__ is str:
            try:
                if binascii.b2a_base64(binascii.a2b_base64(x, strict_mode=True), newline=False) == x.encode():
                    out[key] = x
                    continue
            except (binascii.Error, ValueError):
                pass
        if x is None:
            out[key] = None
            continue
        x = _value(x, et, st, sname, fpath, _join(spath, key))
        if x is not _OMIT:
            out[key] = x
    return out


def in_field_order(d, t):
    """d's keys rearranged in the order Go marshals struct t (unknown keys last)."""
    out = {k: d[k] for k in t.fields if k in d}
    if len(out) != len(d):
        out.update((k, v) for k, v in d.items() if k not in out)
    return out


def _value(v, t, st, sname, fpath, spath):
    """Decode JSON value v into GoType t. Returns the value as Go would write it back,
    or _OMIT. Records saved/strict errors in st; raises _Abort for immediate errors."""
    k = t.kind
    vc = v.__class__
    if k == "string":
        if vc is str:
            return v
    elif k == "struct":
        if vc is dict or vc is DupDict:
            return _struct(v, t, st, sname, fpath, spath)
    elif k == "map":
        if vc is dict or vc is DupDict:
            if vc is DupDict:
                for key in v.dups:
                    st.strict_error('duplicate field "%s"' % _join(spath, key))
            et = t.elem
            if et.kind == "string":
                return _string_map(v, st, sname, fpath, spath, et)
            if et.kind == "bytes":
                return _bytes_map(v, st, sname, fpath, spath, et)
            out = {}
            for key, x in v.items():
                if x is None:
                    out[key] = _zero(et)
                    continue
                x = _value(x, et, st, sname, fpath, _join(spath, key))
                if x is not _OMIT:
                    out[key] = x
            return out
    elif k == "slice":
        if vc is list:
            et = t.elem
            out = []
            for i, x in enumerate(v):
                if x is None:
                    out.append(_zero(et))
                    continue
                x = _value(x, et, st, sname, fpath, "%s[%d]" % (spath, i))
                out.append(None if x is _OMIT else x)
            return out
    elif k == "bool":
        if vc is bool:
            return v
    elif k in ("int32", "int64"):
        if vc is int:
            lo, hi = _INT_RANGE[k]
            if lo <= v <= hi:
                return v
            st.save(_type_error("number %d" % v, t, sname, fpath))
            return _OMIT
        if vc is Number or vc is float:
            st.save(_type_error("number " + getattr(v, "text", repr(v)), t, sname, fpath))
            return _OMIT
    elif k == "float64":
        if (vc is int or vc is Number or vc is float) and vc is not bool:
            return v
    elif k == "bytes":
        if vc is str:
            try:
                data = gostd.b64decode(v)
            except gostd.GoError as e:
                st.save(str(e))
                return _OMIT
            return base64.b64encode(data).decode("ascii")
        if vc is list:  # encoding/json also decodes a JSON array of numbers into []byte
            out = bytearray()
            for x in v:
                if x.__class__ is int and 0 <= x <= 255:
                    out.append(x)
                elif isinstance(x, (int, float)) and x.__class__ is not bool:
                    st.save(_type_error("number " + getattr(x, "text", str(x)), _UINT8, sname, fpath))
                    return _OMIT
                elif x is not None:
                    st.save(_type_error(_json_kind(x), _UINT8, sname, fpath))
                    return _OMIT
            return base64.b64encode(bytes(out)).decode("ascii")
    elif k in ("time", "microtime"):
        micro = k == "microtime"
        if vc is not str:  # metav1.(Micro)Time.UnmarshalJSON: json.Unmarshal(b, &str)
            raise _Abort("json: cannot unmarshal %s into Go value of type string" % _json_kind(v))
        try:
            secs, nsec = gostd.parse_time(v, gostd.RFC3339_MICRO if micro else gostd.RFC3339)
        except gostd.GoError as e:
            raise _Abort(str(e))
        return gostd.format_time(secs, nsec, micro)
    elif k == "any":
        return v
    elif k == "custom":
        inner = t.accepts.get(_json_kind(v))
        if inner is None:
            if t.error:
                raise _Abort(t.error)
            return _OMIT
        # the custom UnmarshalJSON runs a plain (non-strict) json.Unmarshal; a type error
        # in it aborts decoding and is reported with the outer field's context.
        sub = _State(report=False)
        out = _value(v, inner, sub, inner.name if inner.kind == "struct" else "", "", "")
        if sub.saved is not None:
            raise _Abort(_recontext(sub.saved, sname, fpath))
        return out
    st.save(_type_error(_json_kind(v), t, sname, fpath))
    return _OMIT


def _recontext(msg, sname, fpath):
    """addErrorContext of the outer decoder applied to an inner UnmarshalTypeError."""
    marker = " into Go struct field "
    if msg.startswith("json: cannot unmarshal ") and marker in msg:
        head, rest = msg.split(marker, 1)
        return "%s%s%s.%s of type %s" % (head, marker, sname, fpath, rest.rsplit(" of type ", 1)[1])
    if msg.startswith("json: cannot unmarshal ") and " into Go value of type " in msg:
        head, typ = msg.split(" into Go value of type ", 1)
        return "%s into Go struct field %s.%s of type %s" % (head, sname, fpath, typ)
    return msg


def decode(value, t, path=""):
    """Decode value into GoType t. Returns (value, error, strict_errors): error is
    the Go error text that makes the decode fail (None if it succeeded)."""
    st = _State()
    try:
        out = _value(value, t, st, "", "", path) if value is not None else _zero(t)
    except _Abort as e:
        return None, str(e), []
    if st.saved is not None:
        return None, st.saved, []
    return out, None, st.strict


def _duplicates(v, path, out):
    """Strict errors for duplicate keys anywhere in an unstructured document."""
    if isinstance(v, dict):
        if v.__class__ is DupDict:
            out.extend('duplicate field "%s"' % _join(path, k) for k in v.dups)
        for k, x in v.items():
            _duplicates(x, _join(path, k), out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _duplicates(x, "%s[%d]" % (path, i), out)


# ------------------------------------------------------------------ request objects

def check_directive(directive, options_kind):
    """fieldValidation query parameter: "" / Ignore / Warn / Strict, else 422 (ValidateFieldValidation)."""
    if directive in (None, "") or directive in DIRECTIVES:
        return
    raise errors.invalid(options_kind, "meta.k8s.io", "", [errors.not_supported(
        "fieldValidation", directive, ["", "Ignore", "Strict", "Warn"])])


def _apply_directive(strict, directive, warnings, prefix):
    if not strict or directive == "Ignore":
        return
    if directive == "Strict":
        raise errors.bad_request(prefix + "strict decoding error: " + ", ".join(strict))
    if warnings is not None:
        warnings.extend(strict)


def _data_gvk(rt, body, version):
    """gvkWithDefaults(kind/version in the data, the endpoint's): what the decode error names."""
    kind = body.get("kind") or rt.kind
    av = body.get("apiVersion") or ""
    ver = av.rsplit("/", 1)[-1] if av else version
    return kind, ver


def request_object(rt, body, version, directive=None, warnings=None, raw=None, patch=False):
    """Decode a create/update body (or a patched object, patch=True) for resource type rt.
    Returns the object to work with; raises the ApiError the apiserver answers."""
    if body is None:
        body = {}
    if rt.builtin:
        t = gotypes.for_resource(rt.key)
        if t is None:
            return body
        out, err, strict = decode(body, t)
        if err is not None:
            if patch:
                raise _patch_invalid(body, err)
            kind, ver = _data_gvk(rt, body, version)
            raise errors.bad_request('%s in version "%s" cannot be handled as a %s: %s' % (kind, ver, rt.kind, err))
        if strict:
            kind, ver = _data_gvk(rt, body, version)
            _apply_directive(strict, directive, warnings,
                             "" if patch else '%s in version "%s" cannot be handled as a %s: ' % (kind, ver, rt.kind))
        return out
    return _custom_resource(rt, body, version, directive, warnings, raw, patch)


def _custom_resource(rt, body, version, directive, warnings, raw, patch):
    kind, ver = _data_gvk(rt, body, version)
    if not body.get("kind"):
        raw_text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else \
            json.dumps(body, separators=(",", ":"))
        err = "Object 'Kind' is missing in '%s'" % raw_text
        if patch:
            raise _patch_invalid(body, err)
        if directive == "Ignore":  # the non-strict decoder fails inside Unstructured.UnmarshalJSON
            raise errors.bad_request('%s in version "%s" cannot be handled as a %s: %s' % (kind, ver, rt.kind, err))
        raw_bytes = raw if isinstance(raw, (bytes, bytearray)) else raw_text.encode()
        raise unrecognized(rt.kind, err, raw_bytes)
    prefix = '%s in version "%s" cannot be handled as a %s: ' % (kind, ver, rt.kind)
    strict = []
    _duplicates(body, "", strict)
    if "metadata" in body:
        md, err, unknown = decode(body["metadata"], gotypes.OBJECT_META)
        if err is not None:
            # GetObjectMetaWithOptions unmarshals metadata on its own: field paths start inside it
            if patch:
                raise _patch_invalid(body, err)
            raise errors.bad_request(prefix + err)
        body["metadata"] = md
        strict += ['unknown field "metadata.' + u[len('unknown field "'):] for u in unknown
                   if u.startswith("unknown field")]
    av = body.get("apiVersion") or ""
    group = av.rsplit("/", 1)[0] if "/" in av else ""
    if group == rt.group and body.get("kind") == rt.kind:
        schema = rt.schemas.get(version) or rt.schemas.get(rt.storage_version)
        pruned = []
        prune_and_default(body, schema, pruned)
        strict += ['unknown field "%s"' % p for p in pruned]
    _apply_directive(strict, directive, warnings, "" if patch else prefix)
    return body


def _patch_invalid(obj, err):
    """patch.go: a patched object that does not decode is 422 on field "patch"."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return errors.invalid("", "", "", [errors.invalid_value("patch", text, err)])
