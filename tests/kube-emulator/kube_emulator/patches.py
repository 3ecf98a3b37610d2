"""Patch application: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
strategic merge patch for built-in kinds (as kubectl computes it).

All functions take a private deep copy of the target and return a new value;
they raise PatchError when a patch cannot be applied (-> 422) and
ValueError for malformed patch documents (-> 400).
"""
import json

from .util import deep_copy


class PatchError(Exception):
    pass


# ------------------------------------------------------------------ merge patch

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = deep_copy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# ------------------------------------------------------------------ JSON patch
# Semantics and error texts of gopkg.in/evanphx/json-patch.v4, which the apiserver applies
# JSON patches with (errors.Wrapf: "<context>: <cause>").

_MISSING = "missing value"
_BAD_INDEX = "invalid index referenced"


def _keys(path):
    """The reference tokens of a JSON pointer ("" is the whole document)."""
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")] if path.startswith("/") \
        else [path.replace("~1", "/").replace("~0", "~")]


def _find(doc, path):
    """findObject: (container, key) for path, or (None, None) when its parent does not exist."""
    keys = _keys(path)
    if not keys:
        return None, None
    cur = doc
    for k in keys[:-1]:
        cur = _get(cur, k)
        if not isinstance(cur, (dict, list)):
            return None, None
    return cur, keys[-1]


def _get(con, key):
    if isinstance(con, dict):
        return con.get(key)
    if isinstance(con, list):
        try:
            i = int(key)
        except ValueError:
            return None
        return con[i] if 0 <= i < len(con) else None
    return None


def _index(key, n):
    try:
        i = int(key)
    except ValueError:
        raise PatchError("value was not a proper array index: '%s': strconv.Atoi: parsing %s: invalid syntax"
                         % (key, json.dumps(key)))
    if i < 0 or i >= n:
        raise PatchError("Unable to access invalid index: %d: %s" % (i, _BAD_INDEX))
    return i


def _con_get(con, key):
    if isinstance(con, dict):
        if key not in con:
            raise PatchError("unable to get nonexistent key: %s: %s" % (key, _MISSING))
        return con[key]
    return con[_index(key, len(con))]


def _con_add(con, key, value):
    if isinstance(con, dict):
        con[key] = value
        return
    if key == "-":
        con.append(value)
        return
    con.insert(_index(key, len(con) + 1), value)


def _con_remove(con, key):
    if isinstance(con, dict):
        if key not in con:
            raise PatchError("Unable to remove nonexistent key: %s: %s" % (key, _MISSING))
        return con.pop(key)
    return con.pop(_index(key, len(con)))


def json_patch(target, ops):
    if not isinstance(ops, list):
        raise ValueError("json patch must be a list of operations")
    doc = deep_copy(target)
    for op in ops:
        if not isinstance(op, dict):
            raise ValueError("invalid json patch operation")
        kind = op.get("op")
        path = op.get("path")
        if kind not in ("add", "remove", "replace", "move", "copy", "test"):
            raise PatchError("Unexpected kind: %s: unknown object type"
                             % (kind if isinstance(kind, str) else "unknown"))
        if not isinstance(path, str):
            raise PatchError("%s operation failed to decode path: %s" % (kind, _MISSING))
        value = deep_copy(op.get("value"))
        if kind == "add":
            if path == "":
                doc = value
                continue
            con, key = _find(doc, path)
            if con is None:
                raise PatchError('add operation does not apply: doc is missing path: "%s": %s' % (path, _MISSING))
            try:
                _con_add(con, key, value)
            except PatchError as e:
                raise PatchError("error in add for path: '%s': %s" % (path, e))
        elif kind == "remove":
            con, key = _find(doc, path)
            if con is None:
                raise PatchError('remove operation does not apply: doc is missing path: "%s": %s' % (path, _MISSING))
            try:
                _con_remove(con, key)
            except PatchError as e:
                raise PatchError("error in remove for path: '%s': %s" % (path, e))
        elif kind == "replace":
            if path == "":
                doc = value
                continue
            con, key = _find(doc, path)
            if con is None:
                raise PatchError("replace operation does not apply: doc is missing path: %s: %s" % (path, _MISSING))
            try:
                _con_get(con, key)
            except PatchError:
                raise PatchError("replace operation does not apply: doc is missing key: %s: %s" % (path, _MISSING))
            if isinstance(con, dict):
                con[key] = value
            else:
                con[_index(key, len(con))] = value
        elif kind in ("move", "copy"):
            frm = op.get("from")
            if not isinstance(frm, str):
                raise PatchError("%s operation failed to decode from: %s" % (kind, _MISSING))
            con, key = _find(doc, frm)
            if con is None:
                raise PatchError("%s operation does not apply: doc is missing from path: %s: %s"
                                 % (kind, frm, _MISSING))
            try:
                val = _con_remove(con, key) if kind == "move" else deep_copy(_con_get(con, key))
            except PatchError as e:
                raise PatchError("error in move for path: '%s': %s" % (key, e) if kind == "move" else
                                 "error in copy for from: '%s': %s" % (frm, e))
            if path == "":
                doc = val
                continue
            con, key = _find(doc, path)
            if con is None:
                raise PatchError("%s operation does not apply: doc is missing destination path: %s: %s"
                                 % (kind, path, _MISSING))
            try:
                _con_add(con, key, val)
            except PatchError as e:
                raise PatchError("error in %s for path: '%s': %s" % (kind, path, e))
        else:  # test
            if path == "":
                have = doc
            else:
                con, key = _find(doc, path)
                if con is None:
                    raise PatchError("test operation does not apply: is missing path: %s: %s" % (path, _MISSING))
                have = _get(con, key)
            if have is None and op.get("value") is None:
                continue
            if have != op.get("value"):
                raise PatchError("testing value %s failed: test failed" % path)
    return doc


# ------------------------------------------------------------- strategic merge

PRIMITIVE_MERGE = object()

# field name -> merge key, for lists that carry patchStrategy=merge in the Go types.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "ports": "containerPort", "ownerReferences": "uid", "conditions": "type",
    "secrets": "name", "imagePullSecrets": "name", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


def _strategy(field, path):
    if field == "finalizers":
        return PRIMITIVE_MERGE if path and path[-1] == "metadata" else None
    if field == "ports" and "spec" in path and "containers" not in path and "initContainers" not in path:
        return "port"  # Service ports
    return MERGE_KEYS.get(field)


def _strip(v):
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip(x) for x in v if not (isinstance(x, dict) and x.get("$patch") in ("replace", "delete")
                                              and len(x) == 1)]
    return v


def strategic_merge_patch(target, patch):
    if not isinstance(patch, dict):
        raise ValueError("strategic merge patch must be a JSON object")
    return _smp_map(deep_copy(target) if isinstance(target, dict) else {}, patch, [])


def _smp_map(orig, patch, path):
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise PatchError("Unknown patch type: %s" % directive)
    result = orig
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            result.pop(k, None)
            continue
        cur = result.get(k)
        if isinstance(v, dict):
            d = v.get("$patch")
            if d == "delete":
                result.pop(k, None)
            elif d == "replace":
                result[k] = _strip(v)
            else:
                result[k] = _smp_map(cur if isinstance(cur, dict) else {}, v, path + [k])
        elif isinstance(v, list):
            result[k] = _smp_list(cur if isinstance(cur, list) else [], v, k, path)
        else:
            result[k] = v
    for k, v in patch.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(v, list):
                result[field] = [x for x in result[field] if x not in v]
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") and isinstance(v, list):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = _reorder(result[field], v, _strategy(field, path))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        for k in list(result):
            if k not in retain:
                result.pop(k)
    return result


def _smp_list(orig, plist, field, path):
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in plist):
        return _strip(plist)
    strategy = _strategy(field, path)
    if strategy is None:
        return _strip(plist)
    if strategy is PRIMITIVE_MERGE:
        out = list(orig)
        for x in plist:
            if x not in out:
                out.append(x)
        return out
    key = strategy
    out = list(orig)
    for el in plist:
        if not isinstance(el, dict):
            out.append(el)
            continue
        kv = el.get(key)
        idx = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == kv), None)
        if el.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_strip(el))
        else:
            merged = _smp_map(out[idx], el, path + [field])
            out[idx] = merged
    return [x for x in out if x is not None]


def _reorder(items, order, strategy):
    def ident(x):
        if isinstance(strategy, str) and isinstance(x, dict):
            return ("k", repr(x.get(strategy)))
        return ("v", repr(x))
    pos = {ident(o): i for i, o in enumerate(order)}
    known = [x for x in items if ident(x) in pos]
    rest = [x for x in items if ident(x) not in pos]
    known.sort(key=lambda x: pos[ident(x)])
    return known + rest
