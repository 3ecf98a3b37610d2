"""Server-side output conversions: Table (as=Table), PartialObjectMetadata
(as=PartialObjectMetadata[List]); the JSONPath subset used by
additionalPrinterColumns; built-in printer columns.
"""
import re

from .util import age

_NAME_COL = {"name": "Name", "type": "string", "format": "name",
             "description": "Name must be unique within a namespace. Is required when creating resources, although "
                            "some resources may allow a client to request the generation of an appropriate name "
                            "automatically. Name is primarily intended for creation idempotence and configuration "
                            "definition. Cannot be updated. More info: "
                            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
             "priority": 0}


def _col(name, typ="string", desc="", fmt="", priority=0):
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


_AGE = _col("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was "
            "created.")


def pom(obj):
    """PartialObjectMetadata of an object."""
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def pom_list(items, rv, cont=None, remaining=None, version="v1"):
    md = {"resourceVersion": str(rv)}
    if cont:
        md["continue"] = cont
    if remaining:
        md["remainingItemCount"] = remaining
    return {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/" + version, "metadata": md,
            "items": [pom(o) for o in items]}


# ------------------------------------------------------------------ JSONPath subset

_TOKEN = re.compile(r"""\.\.|\.([A-Za-z0-9_\-$@/]+)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[(\*|-?\d+)\]|"""
                    r"""\[\?\(\s*@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(\S+?))\s*\)\]|\.\*""")


def compile_path(path):
    p = path.strip()
    if p.startswith("{") and p.endswith("}"):
        p = p[1:-1].strip()
    if p.startswith("$"):
        p = p[1:]
    steps = []
    pos = 0
    while pos < len(p):
        m = _TOKEN.match(p, pos)
        if not m:
            raise ValueError("unsupported JSONPath %r" % path)
        if m.group(0) == "..":
            raise ValueError("recursive descent not supported")
        if m.group(1) is not None:
            steps.append(("key", m.group(1)))
        elif m.group(2) is not None or m.group(3) is not None:
            steps.append(("key", m.group(2) if m.group(2) is not None else m.group(3)))
        elif m.group(4) is not None:
            steps.append(("all", None) if m.group(4) == "*" else ("idx", int(m.group(4))))
        elif m.group(5) is not None:
            lit = m.group(7) if m.group(7) is not None else m.group(8) if m.group(8) is not None else m.group(9)
            steps.append(("filter", (m.group(5)[1:].split("."), m.group(6), lit)))
        else:
            steps.append(("all", None))
        pos = m.end()
    return steps


def eval_path(steps, obj):
    cur = [obj]
    for kind, arg in steps:
        nxt = []
        for v in cur:
            if kind == "key":
                if isinstance(v, dict) and arg in v:
                    nxt.append(v[arg])
            elif kind == "idx":
                if isinstance(v, list) and -len(v) <= arg < len(v):
                    nxt.append(v[arg])
            elif kind == "all":
                if isinstance(v, list):
                    nxt.extend(v)
                elif isinstance(v, dict):
                    nxt.extend(v.values())
            elif kind == "filter":
                fields, op, lit = arg
                items = v if isinstance(v, list) else []
                for it in items:
                    x = it
                    for f in fields:
                        x = x.get(f) if isinstance(x, dict) else None
                    sx = _lit_str(x)
                    if (op == "==" and sx == lit) or (op == "!=" and sx != lit):
                        nxt.append(it)
        cur = nxt
    return cur


def _lit_str(x):
    if x is None:
        return None
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def _cell(typ, values):
    import json
    if not values:
        return None
    v = values[0]
    if typ == "string":
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if v is None:
            return None
        if isinstance(v, (dict, list)):
            return json.dumps(v, separators=(",", ":"))
        return str(v)
    if typ == "date":
        return age(v) if isinstance(v, str) else None
    if typ == "integer":
        if isinstance(v, bool):
            return None
        if isinstance(v, (int, float)):
            return int(v)
        return None
    if typ == "number":
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    if typ == "boolean":
        return v if isinstance(v, bool) else None
    return v


# ------------------------------------------------------------------ columns per type

class Columns:
    """Column definitions + a row function for one resource/version."""

    def __init__(self, defs, row_fn):
        self.defs = defs
        self.row_fn = row_fn


_CACHE = {}


def columns_for(rt, version):
    cols = rt.printer_columns.get(version) if not rt.builtin else None
    key = (rt.key, version, id(rt))
    c = _CACHE.get(key)
    if c is not None:
        return c
    if rt.builtin:
        c = _builtin_columns(rt)
    elif cols:
        defs = [_NAME_COL]
        fns = []
        for pc in cols:
            jp = pc.get("jsonPath", "")
            defs.append(_col(pc.get("name", ""), pc.get("type", "string"),
                             pc.get("description") or "Custom resource definition column (in JSONPath format): "
                             + jp, pc.get("format", ""), pc.get("priority", 0)))
            try:
                steps = compile_path(jp)
            except ValueError:
                steps = None
            fns.append((pc.get("type", "string"), steps))

        def row(o, fns=fns):
            cells = [o["metadata"]["name"]]
            for typ, steps in fns:
                cells.append(_cell(typ, eval_path(steps, o)) if steps is not None else None)
            return cells
        c = Columns(defs, row)
    else:
        c = Columns([_NAME_COL, _col("Age", "date", "Custom resource definition column (in JSONPath format): "
                                     ".metadata.creationTimestamp")],
                    lambda o: [o["metadata"]["name"], age(o["metadata"].get("creationTimestamp"))])
    if len(_CACHE) > 1000:
        _CACHE.clear()
    _CACHE[key] = c
    return c


def _name(o):
    return o["metadata"]["name"]


def _age(o):
    return age(o["metadata"].get("creationTimestamp"))


def _builtin_columns(rt):
    p = rt.plural
    if p == "secrets":
        return Columns([_NAME_COL, _col("Type", desc="The type of the secret"),
                        _col("Data", "string", "The number of entries in the data field"), _AGE],
                       lambda o: [_name(o), o.get("type", ""), len(o.get("data") or {}), _age(o)])
    if p == "configmaps":
        return Columns([_NAME_COL, _col("Data", "string", "Number of entries in the data field"), _AGE],
                       lambda o: [_name(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}), _age(o)])
    if p == "namespaces":
        return Columns([_NAME_COL, _col("Status", desc="The status of the namespace"), _AGE],
                       lambda o: [_name(o), (o.get("status") or {}).get("phase", ""), _age(o)])
    if p == "serviceaccounts":
        return Columns([_NAME_COL, _col("Secrets", "string", "Secrets is the list of secrets allowed"), _AGE],
                       lambda o: [_name(o), len(o.get("secrets") or []), _age(o)])
    if p == "leases":
        return Columns([_NAME_COL, _col("Holder", desc="HolderIdentity of the lease"), _AGE],
                       lambda o: [_name(o), (o.get("spec") or {}).get("holderIdentity", ""), _age(o)])
    if p == "events":
        def row(o):
            last = o.get("lastTimestamp") or o.get("eventTime") or (o.get("metadata") or {}).get(
                "creationTimestamp")
            first = o.get("firstTimestamp") or o.get("eventTime") or last
            io = o.get("involvedObject") or {}
            src = (o.get("source") or {}).get("component") or o.get("reportingComponent") or ""
            return [age(last) if last else "<unknown>", o.get("type", ""), o.get("reason", ""),
                    "%s/%s" % ((io.get("kind") or "").lower(), io.get("name", "")), io.get("fieldPath", ""),
                    src, o.get("message", ""), age(first) if first else "<unknown>", o.get("count", 1), _name(o)]
        return Columns([_col("Last Seen", desc="Time when last this event was seen"),
                        _col("Type", desc="Type of this event"), _col("Reason", desc="Reason of this event"),
                        _col("Object", desc="Object this event is about"),
                        _col("Subobject", desc="Subobject this event is about", priority=1),
                        _col("Source", desc="Component reporting this event", priority=1),
                        _col("Message", desc="Human-readable message of this event"),
                        _col("First Seen", desc="First time this event was seen", priority=1),
                        _col("Count", "integer", "Number of occurrences of this event", priority=1),
                        _col("Name", desc="Name of the event", priority=1)], row)
    if p in ("customresourcedefinitions", "roles", "clusterroles"):
        return Columns([_NAME_COL, _col("Created At", "date", "The time when this object was created")],
                       lambda o: [_name(o), o["metadata"].get("creationTimestamp")])
    if p in ("rolebindings", "clusterrolebindings"):
        def rb_row(o):
            ref = o.get("roleRef") or {}
            subs = o.get("subjects") or []

            def names(kind):
                if kind == "ServiceAccount":
                    return ", ".join("%s/%s" % (s.get("namespace", ""), s.get("name", ""))
                                     for s in subs if s.get("kind") == kind)
                return ", ".join(s.get("name", "") for s in subs if s.get("kind") == kind)
            return [_name(o), "%s/%s" % (ref.get("kind", ""), ref.get("name", "")), _age(o),
                    names("User"), names("Group"), names("ServiceAccount")]
        return Columns([_NAME_COL, _col("Role", desc="Role"), _AGE, _col("Users", priority=1),
                        _col("Groups", priority=1), _col("ServiceAccounts", priority=1)], rb_row)
    return Columns([_NAME_COL, _AGE], lambda o: [_name(o), _age(o)])


def table(rt, version, objs, rv, cont=None, remaining=None, include="Metadata", headers=True,
          table_version="v1"):
    cols = columns_for(rt, version)
    rows = [table_row(cols, o, include, rt, version) for o in objs]
    md = {"resourceVersion": str(rv)} if rv is not None else {}
    if cont:
        md["continue"] = cont
    if remaining:
        md["remainingItemCount"] = remaining
    return {"kind": "Table", "apiVersion": "meta.k8s.io/" + table_version, "metadata": md,
            "columnDefinitions": cols.defs if headers else None, "rows": rows}


def table_row(cols, o, include, rt=None, version=None):
    row = {"cells": cols.row_fn(o)}
    if include == "Object":
        row["object"] = o
    elif include != "None":
        row["object"] = pom(o)
    return row
