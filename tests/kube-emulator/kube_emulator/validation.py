"""Validation shared by all kinds, as apimachinery has it:

- the string validators of k8s.io/apimachinery/pkg/util/validation
  (IsDNS1123Subdomain, IsDNS1123Label, IsQualifiedName, IsValidLabelValue,
  IsConfigMapKey, path-segment names) with their exact messages;
- ValidateObjectMetaAccessor: name/generateName, labels, annotations (keys
  and total size), ownerReferences, finalizers;
- openAPIV3Schema handling for custom resources, like a structural schema:
  prune unknown fields (unless x-kubernetes-preserve-unknown-fields) and
  apply `default`s when the body is decoded (prune_and_default), then
  validate (validate_schema: type, required, properties, items,
  additionalProperties, enum, minLength/maxLength, minItems/maxItems,
  minimum/maximum, pattern, nullable, x-kubernetes-int-or-string,
  x-kubernetes-embedded-resource).

Validators return lists of errors.Cause; kind-specific rules live in kinds.py.
"""
import re

from . import errors
from .util import deep_copy

_TYPE_NAMES = {"object": dict, "array": list, "string": str, "boolean": bool}

# ------------------------------------------------------------------ apimachinery string validators

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_LABEL_RE = re.compile(DNS1123_LABEL_FMT)
_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN_FMT)
_QUALIFIED_RE = re.compile(QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = re.compile(LABEL_VALUE_FMT)
_CONFIG_KEY_RE = re.compile(CONFIG_MAP_KEY_FMT)
# One-regex fast paths for the (overwhelmingly common) valid values; ASCII only, so str length = bytes
_FAST_QUALIFIED = re.compile("(?:%s/)?%s" % (DNS1123_SUBDOMAIN_FMT, QUALIFIED_NAME_FMT))
_FAST_LABEL_VALUE = _LABEL_VALUE_RE
TOTAL_ANNOTATION_SIZE = 256 * 1024
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")


def regex_error(msg, fmt, *examples):
    if not examples:
        return msg + " (regex used for validation is '" + fmt + "')"
    return msg + " (e.g. " + " or ".join("'%s', " % e for e in examples) + "regex used for validation is '" + \
        fmt + "')"


def max_len_error(n):
    return "must be no more than %d characters" % n


def _blen(s):
    return len(s.encode("utf-8"))


def is_dns1123_label(value):
    errs = []
    if _blen(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_RE.fullmatch(value):
        errs.append(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                                "'-', and must start and end with an alphanumeric character", DNS1123_LABEL_FMT,
                                "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value):
    if len(value) <= 253 and _SUBDOMAIN_RE.fullmatch(value):
        return []
    errs = []
    if _blen(value) > 253:
        errs.append(max_len_error(253))
    if not _SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                                "'-' or '.', and must start and end with an alphanumeric character",
                                DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


_QUALIFIED_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                  "alphanumeric character")


def is_qualified_name(value):
    if len(value) <= 63 and _FAST_QUALIFIED.fullmatch(value):
        return []
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in is_dns1123_subdomain(prefix)]
    else:
        return ["a qualified name " + regex_error(_QUALIFIED_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif _blen(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _QUALIFIED_RE.fullmatch(name):
        errs.append("name part " + regex_error(_QUALIFIED_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_valid_label_value(value):
    if len(value) <= 63 and _LABEL_VALUE_RE.fullmatch(value):
        return []
    errs = []
    if _blen(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(regex_error("a valid label must be an empty string or consist of alphanumeric characters, '-', "
                                "'_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE_FMT,
                                "MyValue", "my_value", "12345"))
    return errs


def is_config_map_key(value):
    if len(value) <= 253 and _CONFIG_KEY_RE.fullmatch(value) and not value.startswith(".."):
        return [] if value != "." else ["must not be '.'"]
    errs = []
    if _blen(value) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_KEY_RE.fullmatch(value):
        errs.append(regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def _mask_trailing_dash(name):
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def name_is_dns_subdomain(name, prefix=False):
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name, prefix=False):
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def path_segment_name(name, prefix=False):
    """path.ValidatePathSegmentName (RBAC objects)."""
    if not prefix and name in (".", ".."):
        return ["may not be '%s'" % name]
    return ["may not contain '%s'" % c for c in ("/", "%") if c in name]


NAME_RULES = {"subdomain": name_is_dns_subdomain, "label": name_is_dns_label, "path": path_segment_name}


# ------------------------------------------------------------------ ObjectMeta

def validate_object_meta(md, name_rule="subdomain"):
    """ValidateObjectMetaAccessor(meta, ..., nameFn, "metadata") on a decoded ObjectMeta dict
    (namespace, generation and managedFields are server-controlled here)."""
    causes = []
    name_fn = NAME_RULES[name_rule]
    gn = md.get("generateName")
    if gn:
        causes += [errors.invalid_value("metadata.generateName", gn, m) for m in name_fn(gn, True)]
    name = md.get("name")
    if not name:
        causes.append(errors.required("metadata.name", "name or generateName is required"))
    else:
        causes += [errors.invalid_value("metadata.name", name, m) for m in name_fn(name, False)]
    causes += validate_labels(md.get("labels"), "metadata.labels")
    causes += validate_annotations(md.get("annotations"), "metadata.annotations")
    causes += validate_owner_references(md.get("ownerReferences"), "metadata.ownerReferences")
    causes += validate_finalizers(md.get("finalizers"), "metadata.finalizers")
    return causes


def validate_labels(labels, path):
    causes = []
    for k, v in (labels or {}).items():
        causes += [errors.invalid_value(path, k, m) for m in is_qualified_name(k)]
        causes += [errors.invalid_value(path, v, m) for m in is_valid_label_value(v)]
    return causes


def validate_annotations(annotations, path):
    causes = []
    total = 0
    for k, v in (annotations or {}).items():
        causes += [errors.invalid_value(path, k, m) for m in is_qualified_name(k.lower())]
        total += (len(k) if k.isascii() else _blen(k)) + (len(v) if v.isascii() else _blen(v))
    if total > TOTAL_ANNOTATION_SIZE:
        causes.append(errors.too_long(path, TOTAL_ANNOTATION_SIZE))
    return causes


def _group_version(av):
    """schema.ParseGroupVersion -> (group, version), None when it does not parse."""
    if av in ("", "/"):
        return "", ""
    n = av.count("/")
    if n == 0:
        return "", av
    if n == 1:
        return tuple(av.split("/"))
    return None


def validate_owner_references(refs, path):
    causes = []
    first_controller = ""
    for ref in refs or ():
        gv = _group_version(ref.get("apiVersion") or "")
        kind = ref.get("kind") or ""
        if gv is None or not gv[1]:
            causes.append(errors.invalid_value(path + ".apiVersion", ref.get("apiVersion") or "",
                                               "version must not be empty"))
        if not kind:
            causes.append(errors.invalid_value(path + ".kind", kind, "kind must not be empty"))
        if not ref.get("name"):
            causes.append(errors.invalid_value(path + ".name", ref.get("name") or "", "name must not be empty"))
        if not ref.get("uid"):
            causes.append(errors.invalid_value(path + ".uid", ref.get("uid") or "", "uid must not be empty"))
        if gv == ("", "v1") and kind == "Event":
            causes.append(errors.invalid_value(path, ref, "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller") is True:
            cur = "%s/%s" % (kind, ref.get("name") or "")
            if first_controller:
                causes.append(errors.invalid_value(path, refs, 'Only one reference can have Controller set to true. '
                                                   'Found "true" in references for %s and %s'
                                                   % (first_controller, cur)))
            else:
                first_controller = cur
    return causes


def validate_finalizers(finalizers, path):
    causes = []
    for f in finalizers or ():
        causes += [errors.invalid_value(path, f, m) for m in is_qualified_name(f)]
    if finalizers and "orphan" in finalizers and "foregroundDeletion" in finalizers:
        causes.append(errors.invalid_value(path, errors.go_string_slice(finalizers),
                                           "finalizer orphan and foregroundDeletion cannot be both set"))
    return causes


def finalizer_warnings(new, old=None):
    """Warnings for finalizers without a domain prefix (custom resources: WarningsOnCreate/Update)."""
    added = sorted(set(new or ()) - set(old or ()))
    return ['metadata.finalizers: "%s": prefer a domain-qualified finalizer name to avoid accidental conflicts '
            'with other finalizer writers' % f for f in added if "/" not in f and f not in STANDARD_FINALIZERS]


# ------------------------------------------------------------------ custom resources: openAPIV3Schema

def prune_and_default(obj, schema, unknown=None):
    """Decode-time schema handling: prune unknown fields (their paths appended to
    `unknown`) and apply defaults. obj is modified in place."""
    if not schema:
        return
    _prune(obj, schema, root=True, path="", unknown=unknown)
    _default(obj, schema)


def validate_schema(obj, schema):
    """errors.Cause list for obj against its (already applied) structural schema."""
    if not schema:
        return []
    causes = []
    _validate(obj, schema, "", causes, root=True)
    return causes


# ------------------------------------------------------------------ pruning

def _prune(value, schema, root=False, path="", unknown=None):
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        if schema.get("x-kubernetes-int-or-string"):
            return
        props = schema.get("properties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        embedded = schema.get("x-kubernetes-embedded-resource") is True
        addl = schema.get("additionalProperties")
        for k in list(value.keys()):
            if root and k in ("apiVersion", "kind", "metadata"):
                continue
            if embedded and k in ("apiVersion", "kind", "metadata"):
                continue
            sub = None
            if props is not None and k in props:
                sub = props[k]
            elif isinstance(addl, dict):
                sub = addl
            elif addl is True or preserve:
                continue
            else:
                if unknown is not None:
                    unknown.append(_child(path, k))
                del value[k]
                continue
            v = value[k]
            if v is None and not (isinstance(sub, dict) and sub.get("nullable")):
                del value[k]
                continue
            _prune(v, sub, path=_child(path, k), unknown=unknown)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, v in enumerate(value):
                _prune(v, items, path="%s[%d]" % (path, i), unknown=unknown)


# ---------------------------------------------------------------- defaulting

def _default(value, schema):
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for k, sub in props.items():
            if not isinstance(sub, dict):
                continue
            if k not in value and "default" in sub:
                value[k] = deep_copy(sub["default"])
            if k in value:
                _default(value[k], sub)
        addl = schema.get("additionalProperties")
        if isinstance(addl, dict):
            for k, v in value.items():
                if k not in props:
                    _default(v, addl)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for v in value:
                _default(v, items)


# ---------------------------------------------------------------- validation

def _type_ok(value, t):
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or \
            (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t in _TYPE_NAMES:
        return isinstance(value, _TYPE_NAMES[t])
    return True


def _child(path, k):
    return "%s.%s" % (path, k) if path else k


def _validate(value, schema, path, causes, root=False):
    if not isinstance(schema, dict):
        return
    if value is None:
        if schema.get("nullable"):
            return
        if "type" in schema:
            causes.append(errors.Cause(errors.Cause.TYPE_INVALID, path,
                                       'Invalid value: "null": %s in body must be of type %s: "null"'
                                       % (path or "body", schema["type"])))
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, (int, str)) and not isinstance(value, bool)):
            causes.append(errors.Cause(errors.Cause.TYPE_INVALID, path,
                                       "Invalid value: %s: %s in body must be of type integer,string: %s"
                                       % (errors.go_quote(value), path, _go_type(value))))
        return
    t = schema.get("type")
    if t and not _type_ok(value, t):
        causes.append(errors.Cause(errors.Cause.TYPE_INVALID, path,
                                   'Invalid value: "%s": %s in body must be of type %s: "%s"'
                                   % (_go_type(value), path or "body", t, _go_type(value))))
        return
    if "enum" in schema and isinstance(schema["enum"], list) and value not in schema["enum"]:
        causes.append(errors.not_supported(path, value, schema["enum"]))
    if isinstance(value, str):
        n = len(value)
        if "minLength" in schema and n < schema["minLength"]:
            causes.append(errors.invalid_value(path, value, "%s in body should be at least %d chars long"
                                               % (path, schema["minLength"])))
        if "maxLength" in schema and n > schema["maxLength"]:
            causes.append(errors.Cause(errors.Cause.TOO_LONG, path, "Too long: may not be more than %d bytes"
                                       % schema["maxLength"]))
        if "pattern" in schema:
            try:
                if not re.search(schema["pattern"], value):
                    causes.append(errors.invalid_value(path, value, "%s in body should match '%s'"
                                                       % (path, schema["pattern"])))
            except re.error:
                pass
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema:
            m = schema["minimum"]
            if value < m or (schema.get("exclusiveMinimum") and value == m):
                causes.append(errors.invalid_value(path, value, "%s in body should be greater than or equal to %s"
                                                   % (path, m)))
        if "maximum" in schema:
            m = schema["maximum"]
            if value > m or (schema.get("exclusiveMaximum") and value == m):
                causes.append(errors.invalid_value(path, value, "%s in body should be less than or equal to %s"
                                                   % (path, m)))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            causes.append(errors.invalid_value(path, value, "%s in body should have at least %d items"
                                               % (path, schema["minItems"])))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            causes.append(errors.Cause(errors.Cause.TOO_MANY, path, "Too many: %d: must have at most %d items"
                                       % (len(value), schema["maxItems"])))
        items = schema.get("items")
        if isinstance(items, dict):
            for i, v in enumerate(value):
                _validate(v, items, "%s[%d]" % (path, i), causes)
    if isinstance(value, dict):
        for r in schema.get("required") or []:
            if r not in value:
                causes.append(errors.required(_child(path, r)))
        props = schema.get("properties") or {}
        for k, v in value.items():
            if root and k in ("apiVersion", "kind", "metadata"):
                continue
            if k in props:
                _validate(v, props[k], _child(path, k), causes)
            elif isinstance(schema.get("additionalProperties"), dict):
                _validate(v, schema["additionalProperties"], _child(path, k), causes)


def _go_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"
