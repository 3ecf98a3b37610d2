"""Resource types served by the emulator and their lookup.

A ResourceType describes one group/resource: names, scope, served versions,
status subresource, printer columns and schemas (for CRDs), and which
semantics apply (generation, unconditional update, ...). The Registry holds
the built-ins plus one type per established CRD; it is replaced
copy-on-write so readers never need the store lock.
"""
import re
import threading

_VER_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(v):
    """Sort key so that sorted(..., key=version_priority) puts the preferred version first."""
    m = _VER_RE.match(v)
    if not m:
        return (3, 0, 0, v)
    major = int(m.group(1))
    if not m.group(2):
        return (0, -major, 0, v)
    return (1 if m.group(2) == "beta" else 2, -major, -int(m.group(3)), v)


CRUD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CR_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]


class ResourceType:
    def __init__(self, group, versions, plural, kind, namespaced, singular=None, short_names=(),
                 categories=(), builtin=True, has_status=False, has_generation=False,
                 unconditional_update=True, create_on_update=False, return_deleted=False,
                 verbs=None, subresources=None, name_rule="subdomain", storage_version=None,
                 printer_columns=None, schemas=None, list_kind=None, crd_name=None):
        self.group = group
        self.versions = list(versions)
        self.storage_version = storage_version or self.versions[0]
        self.plural = plural
        self.kind = kind
        self.list_kind = list_kind or kind + "List"
        self.singular = singular if singular is not None else kind.lower()
        self.namespaced = namespaced
        self.short_names = list(short_names or [])
        self.categories = list(categories or [])
        self.builtin = builtin
        self.has_status = has_status
        self.has_generation = has_generation
        self.unconditional_update = unconditional_update
        self.create_on_update = create_on_update
        self.return_deleted = return_deleted
        self.verbs = list(verbs or CRUD_VERBS)
        self.subresources = dict(subresources or ({"status": ["get", "patch", "update"]} if has_status else {}))
        self.name_rule = name_rule
        self.printer_columns = printer_columns or {}
        self.schemas = schemas or {}
        self.crd_name = crd_name
        self.terminating = False
        self.key = (group, plural)

    def api_version(self, version=None):
        v = version or self.storage_version
        return "%s/%s" % (self.group, v) if self.group else v

    def qualified(self):
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    def __repr__(self):
        return "<ResourceType %s>" % self.qualified()


def builtin_types():
    t = []
    core = ""
    t.append(ResourceType(core, ["v1"], "namespaces", "Namespace", False, short_names=["ns"], has_status=True,
                          return_deleted=True, name_rule="label",
                          verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
                          subresources={"status": ["get", "patch", "update"], "finalize": ["update"]}))
    t.append(ResourceType(core, ["v1"], "secrets", "Secret", True))
    t.append(ResourceType(core, ["v1"], "configmaps", "ConfigMap", True, short_names=["cm"]))
    t.append(ResourceType(core, ["v1"], "events", "Event", True, short_names=["ev"], name_rule="subdomain"))
    t.append(ResourceType(core, ["v1"], "serviceaccounts", "ServiceAccount", True, short_names=["sa"]))
    t.append(ResourceType("coordination.k8s.io", ["v1"], "leases", "Lease", True, unconditional_update=False,
                          create_on_update=True))
    t.append(ResourceType("apiextensions.k8s.io", ["v1"], "customresourcedefinitions", "CustomResourceDefinition",
                          False, short_names=["crd", "crds"], categories=["api-extensions"], has_status=True,
                          has_generation=True, unconditional_update=False, return_deleted=True))
    rbac = "rbac.authorization.k8s.io"
    for plural, kind, ns in (("clusterrolebindings", "ClusterRoleBinding", False),
                             ("clusterroles", "ClusterRole", False),
                             ("rolebindings", "RoleBinding", True),
                             ("roles", "Role", True)):
        t.append(ResourceType(rbac, ["v1"], plural, kind, ns, name_rule="path", create_on_update=True))
    return t


BUILTIN_GROUP_ORDER = ["", "apiextensions.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io"]


class Registry:
    def __init__(self):
        self._lock = threading.Lock()
        self._types = {}
        for rt in builtin_types():
            self._types[rt.key] = rt
        self._rebuild()

    def _rebuild(self):
        by_gvr, by_gk, groups = {}, {}, {}
        for rt in self._types.values():
            for v in rt.versions:
                by_gvr[(rt.group, v, rt.plural)] = rt
                groups.setdefault(rt.group, set()).add(v)
            by_gk[(rt.group, rt.kind)] = rt
        self._by_gvr = by_gvr
        self._by_gk = by_gk
        self._groups = {g: sorted(vs, key=version_priority) for g, vs in groups.items()}

    # --- mutation (CRD lifecycle)
    def put(self, rt):
        with self._lock:
            self._types = dict(self._types)
            self._types[rt.key] = rt
            self._rebuild()

    def remove(self, key):
        with self._lock:
            if key in self._types:
                self._types = dict(self._types)
                del self._types[key]
                self._rebuild()

    # --- lookup
    def lookup(self, group, version, plural):
        return self._by_gvr.get((group, version, plural))

    def by_key(self, key):
        return self._types.get(key)

    def by_kind(self, group, kind):
        return self._by_gk.get((group, kind))

    def by_api_version_kind(self, api_version, kind):
        group = api_version.rsplit("/", 1)[0] if "/" in (api_version or "") else ""
        return self._by_gk.get((group, kind))

    def types(self):
        return list(self._types.values())

    def group_versions(self, group):
        return self._groups.get(group)

    def groups(self):
        """[(group, [versions preferred first])], built-ins first, then CRD groups sorted."""
        gs = self._groups
        out = [(g, gs[g]) for g in BUILTIN_GROUP_ORDER if g in gs and g]
        out += [(g, gs[g]) for g in sorted(gs) if g and g not in BUILTIN_GROUP_ORDER]
        return out

    def resources_in(self, group, version):
        return sorted((rt for rt in self._types.values() if rt.group == group and version in rt.versions),
                      key=lambda r: r.plural)
