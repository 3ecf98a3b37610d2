"""Patch application: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
strategic merge patch for built-in kinds (as kubectl computes it).

All functions take a private deep copy of the target and return a new value;
they raise PatchError when a patch cannot be applied (-> 422) and
ValueError for malformed patch documents (-> 400).
"""
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

def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise PatchError("doc is missing path: %s" % p)
            cur = cur[p]
        elif isinstance(cur, list):
            i = _index(p, len(cur))
            cur = cur[i]
        else:
            raise PatchError("doc is missing path: %s" % p)
    return cur


def _index(p, n, allow_end=False):
    if p == "-" and allow_end:
        return n
    try:
        i = int(p)
    except ValueError:
        raise PatchError("invalid array index %r" % p)
    if i < 0 or i > n or (i == n and not allow_end):
        raise PatchError("array index out of bounds: %d" % i)
    return i


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), allow_end=True), value)
    else:
        raise PatchError("add operation does not apply: doc is missing path")
    return doc


def _remove(doc, parts):
    if not parts:
        raise PatchError("cannot remove root")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("remove operation does not apply: doc is missing key: %s" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(last, len(parent)))
    raise PatchError("remove operation does not apply")


def json_patch(target, ops):
    if not isinstance(ops, list):
        raise ValueError("json patch must be a list of operations")
    doc = deep_copy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise ValueError("invalid json patch operation")
        kind = op["op"]
        if "path" not in op:
            raise PatchError("operation missing path")
        parts = _ptr(op["path"])
        if kind == "add":
            if "value" not in op:
                raise PatchError("add operation missing value")
            doc = _add(doc, parts, deep_copy(op["value"]))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            if "value" not in op:
                raise PatchError("replace operation missing value")
            if not parts:
                doc = deep_copy(op["value"])
                continue
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if isinstance(parent, dict):
                if last not in parent:
                    raise PatchError("replace operation does not apply: doc is missing key: %s" % op["path"])
                parent[last] = deep_copy(op["value"])
            elif isinstance(parent, list):
                parent[_index(last, len(parent))] = deep_copy(op["value"])
            else:
                raise PatchError("replace operation does not apply")
        elif kind in ("move", "copy"):
            if "from" not in op:
                raise PatchError("%s operation missing from" % kind)
            src = _ptr(op["from"])
            if kind == "move":
                val = _remove(doc, src)
            else:
                val = deep_copy(_walk(doc, src))
            doc = _add(doc, parts, val)
        elif kind == "test":
            try:
                have = _walk(doc, parts)
            except PatchError:
                raise PatchError("testing value %s failed" % op["path"])
            if have != op.get("value"):
                raise PatchError("testing value %s failed" % op["path"])
        else:
            raise PatchError("Unexpected kind: %s" % kind)
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
