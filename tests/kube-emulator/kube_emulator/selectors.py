"""Label and field selectors.

- parse_label_selector("a=b,c in (x,y),!d") -> LabelSelector (string form, as in ?labelSelector=)
- label_selector_from_object({"matchLabels":..,"matchExpressions":..}) (metav1.LabelSelector)
- parse_field_selector("metadata.name=x,involvedObject.kind!=Pod") -> FieldSelector
Both raise ValueError with the apiserver's wording on bad input.
"""
import re

_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                     r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


class Requirement:
    __slots__ = ("key", "op", "values")

    def __init__(self, key, op, values=()):
        self.key = key
        self.op = op  # in notin exists !exists = != gt lt
        self.values = tuple(values)

    def matches(self, labels):
        has = self.key in labels
        v = labels.get(self.key)
        op = self.op
        if op in ("=", "==", "in"):
            return has and v in self.values
        if op in ("!=", "notin"):
            return (not has) or v not in self.values
        if op == "exists":
            return has
        if op == "!exists":
            return not has
        if op in ("gt", "lt"):
            if not has:
                return False
            try:
                lv, rv = int(v), int(self.values[0])
            except ValueError:
                return False
            return lv > rv if op == "gt" else lv < rv
        return False


class LabelSelector:
    """Conjunction of requirements. empty() matches everything; nothing() matches nothing."""

    def __init__(self, reqs, match_nothing=False):
        self.reqs = list(reqs)
        self.match_nothing = match_nothing

    def matches(self, labels):
        if self.match_nothing:
            return False
        labels = labels or {}
        for r in self.reqs:
            if not r.matches(labels):
                return False
        return True

    def is_empty(self):
        return not self.reqs and not self.match_nothing


_TOKEN_RE = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s!=(),<>]+)")


def parse_label_selector(s):
    s = (s or "").strip()
    if not s:
        return LabelSelector([])
    toks = []
    pos = 0
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m:
            break
        if m.group(1):
            toks.append(m.group(1))
        pos = m.end()
        if s[pos:].strip() == "":
            break
    reqs = []
    i = 0

    def err(msg):
        raise ValueError("unable to parse requirement: " + msg)

    def ident(tok):
        return tok not in ("!=", "==", "=", "!", "(", ")", ",", ">", "<")

    while i < len(toks):
        neg = False
        if toks[i] == "!":
            neg = True
            i += 1
        if i >= len(toks) or not ident(toks[i]):
            err("found '%s', expected: identifier" % (toks[i] if i < len(toks) else ""))
        key = toks[i]
        if not _KEY_RE.match(key) or len(key.split("/")[-1]) > 63:
            err("<nil>: Invalid value: \"%s\": name part must consist of alphanumeric characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character" % key)
        i += 1
        if neg:
            reqs.append(Requirement(key, "!exists"))
        elif i >= len(toks) or toks[i] == ",":
            reqs.append(Requirement(key, "exists"))
        else:
            op = toks[i]
            i += 1
            if op in ("=", "==", "!="):
                val = ""
                if i < len(toks) and ident(toks[i]):
                    val = toks[i]
                    i += 1
                reqs.append(Requirement(key, op, [val]))
            elif op in (">", "<"):
                if i >= len(toks):
                    err("missing value")
                reqs.append(Requirement(key, "gt" if op == ">" else "lt", [toks[i]]))
                i += 1
            elif op in ("in", "notin"):
                if i >= len(toks) or toks[i] != "(":
                    err("found '%s', expected: '('" % (toks[i] if i < len(toks) else ""))
                i += 1
                vals = []
                while i < len(toks) and toks[i] != ")":
                    if toks[i] != ",":
                        vals.append(toks[i])
                    i += 1
                if i >= len(toks):
                    err("found '', expected: ')'")
                i += 1
                if not vals:
                    vals = [""]
                reqs.append(Requirement(key, op, vals))
            else:
                err("found '%s', expected: in, notin, =, ==, !=, gt, lt" % op)
        if i < len(toks):
            if toks[i] != ",":
                err("found '%s', expected: ',' or 'end of string'" % toks[i])
            i += 1
    return LabelSelector(reqs)


def label_selector_from_object(sel):
    """metav1.LabelSelector dict -> LabelSelector. None -> matches nothing."""
    if sel is None:
        return LabelSelector([], match_nothing=True)
    reqs = []
    for k, v in sorted((sel.get("matchLabels") or {}).items()):
        reqs.append(Requirement(k, "=", [v]))
    for e in sel.get("matchExpressions") or []:
        op = (e.get("operator") or "")
        vals = e.get("values") or []
        if op == "In":
            reqs.append(Requirement(e.get("key", ""), "in", vals))
        elif op == "NotIn":
            reqs.append(Requirement(e.get("key", ""), "notin", vals))
        elif op == "Exists":
            reqs.append(Requirement(e.get("key", ""), "exists"))
        elif op == "DoesNotExist":
            reqs.append(Requirement(e.get("key", ""), "!exists"))
        else:
            raise ValueError("\"%s\" is not a valid label selector operator" % op)
    return LabelSelector(reqs)


# ---------------------------------------------------------------- fields

def _split_unescaped(s, sep):
    parts, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(v):
    return re.sub(r"\\(.)", r"\1", v)


class FieldSelector:
    def __init__(self, reqs):
        self.reqs = reqs  # list of (field, op, value) op in ("=", "!=")

    def is_empty(self):
        return not self.reqs

    def fields(self):
        return [r[0] for r in self.reqs]

    def matches(self, fields):
        for f, op, v in self.reqs:
            have = fields.get(f, "")
            if op == "=" and have != v:
                return False
            if op == "!=" and have == v:
                return False
        return True

    def single_name(self):
        """The name when the selector is exactly metadata.name=X (fast path)."""
        if len(self.reqs) == 1 and self.reqs[0][0] == "metadata.name" and self.reqs[0][1] == "=":
            return self.reqs[0][2]
        return None


def parse_field_selector(s):
    s = (s or "").strip()
    if not s:
        return FieldSelector([])
    reqs = []
    for part in _split_unescaped(s, ","):
        part = part.strip()
        if not part:
            continue
        for op in ("!=", "==", "="):
            idx = _find_unescaped(part, op)
            if idx >= 0:
                field = part[:idx].strip()
                val = _unescape(part[idx + len(op):].strip())
                reqs.append((field, "!=" if op == "!=" else "=", val))
                break
        else:
            raise ValueError("invalid selector: '%s'; can't understand '%s'" % (s, part))
    return FieldSelector(reqs)


def _find_unescaped(s, op):
    i = 0
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s.startswith(op, i):
            if op == "=" and i > 0 and s[i - 1] == "!":
                i += 1
                continue
            return i
        i += 1
    return -1


EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")


def object_fields(resource, obj):
    """The selectable fields of an object, as the apiserver's GetAttrs builds them."""
    md = obj.get("metadata") or {}
    f = {"metadata.name": md.get("name", ""), "metadata.namespace": md.get("namespace", "")}
    if resource == "events":
        io = obj.get("involvedObject") or {}
        for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
            f["involvedObject." + k] = io.get(k) or ""
        f["reason"] = obj.get("reason") or ""
        f["reportingComponent"] = obj.get("reportingComponent") or ""
        f["source"] = (obj.get("source") or {}).get("component") or ""
        f["type"] = obj.get("type") or ""
    elif resource == "secrets":
        f["type"] = obj.get("type") or ""
    elif resource == "namespaces":
        f["status.phase"] = (obj.get("status") or {}).get("phase") or ""
    return f


def allowed_fields(resource):
    base = ["metadata.name", "metadata.namespace"]
    if resource == "events":
        return base + list(EVENT_FIELDS)
    if resource == "secrets":
        return base + ["type"]
    if resource == "namespaces":
        return base + ["status.phase"]
    return base
