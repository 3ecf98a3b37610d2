"""openAPIV3Schema handling for custom resources, like a structural schema:
prune unknown fields (unless x-kubernetes-preserve-unknown-fields), apply
`default`s, then validate (type, required, properties, items,
additionalProperties, enum, minLength/maxLength, minItems/maxItems,
minimum/maximum, pattern, nullable, x-kubernetes-int-or-string,
x-kubernetes-embedded-resource).

Entry point: prune_default_validate(obj, schema) -> list of errors.Cause.
The object is modified in place (pruned and defaulted).
"""
import re

from . import errors
from .util import deep_copy

_TYPE_NAMES = {"object": dict, "array": list, "string": str, "boolean": bool}


def prune_default_validate(obj, schema, unknown=None):
    """unknown: optional list that receives the paths of pruned (unknown) fields."""
    if not schema:
        return []
    root_schema = dict(schema)
    _prune(obj, root_schema, root=True, path="", unknown=unknown)
    _default(obj, root_schema)
    causes = []
    _validate(obj, root_schema, "", causes, root=True)
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
