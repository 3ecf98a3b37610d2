"""Per-kind strategies: defaulting, validation and side effects that differ
between kinds (what the apiserver's registry strategies do). Rules shared by
all kinds (ObjectMeta, name formats) are in validation.py; request-body
decoding is in decoding.py.

- SecretStrategy: stringData -> data, default type Opaque, config keys,
  1 MiB limit, the keys each `type` requires (ValidateSecret), immutable
- ConfigMapStrategy: config keys, data/binaryData overlap, 1 MiB, immutable
- LeaseStrategy: spec checks, fields of disabled feature gates dropped
- EventStrategy: core/v1 legacy Event checks
- NamespaceStrategy: phase Active, spec.finalizers, kubernetes.io/metadata.name label
- CRDStrategy: name/version checks, names defaulting, status synthesis,
  (un)registering the served resource
- CustomResourceStrategy: kind/apiVersion and openAPIV3Schema validation
"""
import base64
import json

from . import errors
from .registry import ResourceType, CR_VERBS, version_priority
from .util import now_rfc3339
from .validation import is_config_map_key, is_dns1123_subdomain, is_qualified_name, validate_schema

MAX_SECRET_SIZE = 1024 * 1024


class Strategy:
    def prepare_create(self, api, rt, obj):
        pass

    def prepare_update(self, api, rt, new, old):
        pass

    def validate(self, api, rt, obj, old, version):
        return []

    def committed(self, api, rt, obj, prev):
        pass

    def removed(self, api, rt, obj):
        pass


DEFAULT = Strategy()


def _decoded_len(b64):
    """Length of the bytes of a canonical base64 string (decoding.py re-encodes them)."""
    return len(b64) // 4 * 3 - b64[-2:].count("=")


def _keys(bag, field):
    causes = []
    for k in bag:
        causes += [errors.invalid_value("%s[%s]" % (field, k), k, m) for m in is_config_map_key(k)]
    return causes


def _go_json_object_error(data):
    """The error json.Unmarshal(data, &map[string]interface{}{}) gives, or None."""
    from .decoding import _go_syntax_error, _json_kind
    text = data.decode("utf-8", "replace")
    try:
        v = json.loads(text)
    except json.JSONDecodeError as e:
        return _go_syntax_error(text, e)
    if not isinstance(v, dict) and v is not None:
        return "json: cannot unmarshal %s into Go value of type map[string]interface {}" % _json_kind(v)
    return None


# data keys each Secret type requires (ValidateSecret)
SECRET_TYPE_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


class SecretStrategy(Strategy):
    def _fold(self, obj):
        sd = obj.pop("stringData", None)
        if isinstance(sd, dict) and sd:
            data = obj.get("data")
            data = dict(data) if isinstance(data, dict) else {}
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode("utf-8")).decode("ascii")
            obj["data"] = data
        if not obj.get("type"):
            obj["type"] = "Opaque"

    def prepare_create(self, api, rt, obj):
        self._fold(obj)

    def prepare_update(self, api, rt, new, old):
        self._fold(new)

    def validate(self, api, rt, obj, old, version):
        causes = []
        if old is not None:  # ValidateSecretUpdate: immutability first, then ValidateSecret
            if old.get("type") != obj.get("type"):
                causes.append(errors.invalid_value("type", obj.get("type"), "field is immutable"))
            causes += _immutable_checks(obj, old, ("data",))
        data = obj.get("data") or {}
        causes += _keys(data, "data")
        if sum(_decoded_len(v) for v in data.values()) > MAX_SECRET_SIZE:
            causes.append(errors.too_long("data", MAX_SECRET_SIZE))
        causes += self._type_rules(obj, data)
        return causes

    @staticmethod
    def _type_rules(obj, data):
        typ = obj.get("type")
        if typ == "kubernetes.io/service-account-token":
            ann = (obj["metadata"].get("annotations") or {}).get("kubernetes.io/service-account.name")
            if not ann:
                return [errors.required("metadata.annotations[kubernetes.io/service-account.name]")]
            return []
        if typ == "kubernetes.io/basic-auth":
            if "username" not in data and "password" not in data:
                return [errors.required("data[username]"), errors.required("data[password]")]
            return []
        if typ == "kubernetes.io/ssh-auth":
            if not data.get("ssh-privatekey"):
                return [errors.required("data[ssh-privatekey]")]
            return []
        if typ in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
            key = SECRET_TYPE_KEYS[typ][0]
            if key not in data:
                return [errors.required("data[%s]" % key)]
            err = _go_json_object_error(base64.b64decode(data[key]))
            if err:
                return [errors.invalid_value("data[%s]" % key, "<secret contents redacted>", err)]
            return []
        return [errors.required("data[%s]" % k) for k in SECRET_TYPE_KEYS.get(typ, ()) if k not in data]


class ConfigMapStrategy(Strategy):
    def validate(self, api, rt, obj, old, version):
        data = obj.get("data") or {}
        bdata = obj.get("binaryData") or {}
        causes = []
        total = 0
        for k, v in data.items():
            causes += [errors.invalid_value("data[%s]" % k, k, m) for m in is_config_map_key(k)]
            if k in bdata:
                causes.append(errors.invalid_value("data[%s]" % k, k, "duplicate of key present in binaryData"))
            total += len(v.encode("utf-8"))
        causes += _keys(bdata, "binaryData")
        total += sum(_decoded_len(v) for v in bdata.values())
        if total > MAX_SECRET_SIZE:
            causes.append(errors.too_long("", MAX_SECRET_SIZE))  # "" = the whole object
        if old is not None:
            causes += _immutable_checks(obj, old, ("data", "binaryData"))
        return causes


def _immutable_checks(obj, old, fields):
    causes = []
    if old.get("immutable") is True:
        if obj.get("immutable") is not True:
            causes.append(errors.forbidden_field("immutable", "field is immutable when `immutable` is set"))
        for f in fields:
            if (obj.get(f) or {}) != (old.get(f) or {}):
                causes.append(errors.forbidden_field(f, "field is immutable when `immutable` is set"))
    return causes


class LeaseStrategy(Strategy):
    """coordination/v1 Lease: ValidateLeaseSpec; strategy and preferredHolder belong to the
    CoordinatedLeaderElection feature gate (alpha, off) and are dropped like disabled fields."""

    @staticmethod
    def _drop_disabled(obj):
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.pop("strategy", None)
            spec.pop("preferredHolder", None)

    def prepare_create(self, api, rt, obj):
        self._drop_disabled(obj)

    def prepare_update(self, api, rt, new, old):
        self._drop_disabled(new)

    def validate(self, api, rt, obj, old, version):
        spec = obj.get("spec") or {}
        causes = []
        d = spec.get("leaseDurationSeconds")
        if d is not None and d <= 0:
            causes.append(errors.invalid_value("spec.leaseDurationSeconds", d, "must be greater than 0"))
        t = spec.get("leaseTransitions")
        if t is not None and t < 0:
            causes.append(errors.invalid_value("spec.leaseTransitions", t, "must be greater than or equal to 0"))
        return causes


class EventStrategy(Strategy):
    """core/v1 Events: legacyValidateEvent (the v1 API skips the newer events.k8s.io rules)."""

    def validate(self, api, rt, obj, old, version):
        causes = []
        md = obj["metadata"]
        ns = md.get("namespace") or ""
        inv = obj.get("involvedObject") or {}
        ins = inv.get("namespace") or ""
        if not obj.get("eventTime"):
            if (not ins and ns not in ("", "default")) or (ins and ns != ins):
                causes.append(errors.invalid_value("involvedObject.namespace", ins, "does not match event.namespace"))
        else:
            if not ins and ns not in ("default", "kube-system"):
                causes.append(errors.invalid_value("involvedObject.namespace", ins, "does not match event.namespace"))
            rc = obj.get("reportingComponent") or ""
            if not rc:
                causes.append(errors.required("reportingComponent"))
            causes += [errors.invalid_value("reportingComponent", rc, m) for m in is_qualified_name(rc)]
            for f, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
                v = obj.get(f) or ""
                if not v:
                    causes.append(errors.required(f))
                if len(v) > limit:
                    causes.append(errors.invalid_value(f, "", "can have at most %d characters" % limit))
            if len(obj.get("message") or "") > 1024:
                causes.append(errors.invalid_value("message", "", "can have at most 1024 characters"))
        causes += [errors.invalid_value("namespace", ns, m) for m in is_dns1123_subdomain(ns)]
        return causes


class NamespaceStrategy(Strategy):
    def prepare_create(self, api, rt, obj):
        obj["status"] = {"phase": "Active"}
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        fins = spec.get("finalizers") or []
        if "kubernetes" not in fins:
            fins = list(fins) + ["kubernetes"]
        spec["finalizers"] = fins
        obj["spec"] = spec
        md = obj["metadata"]
        labels = dict(md.get("labels") or {})
        labels["kubernetes.io/metadata.name"] = md["name"]
        md["labels"] = labels

    def prepare_update(self, api, rt, new, old):
        new["spec"] = old.get("spec", {})  # spec.finalizers only change through /finalize
        md = new["metadata"]
        labels = dict(md.get("labels") or {})
        labels["kubernetes.io/metadata.name"] = md["name"]
        md["labels"] = labels


# ------------------------------------------------------------------ CRDs

class CRDStrategy(Strategy):
    def prepare_create(self, api, rt, obj):
        spec = obj.get("spec")
        if isinstance(spec, dict):
            _default_crd_spec(spec)
        obj["status"] = _crd_status(obj, None)

    def prepare_update(self, api, rt, new, old):
        spec = new.get("spec")
        if isinstance(spec, dict):
            _default_crd_spec(spec)
        new["status"] = _crd_status(new, old.get("status"))

    def validate(self, api, rt, obj, old, version):
        causes = []
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [errors.required("spec")]
        group = spec.get("group") or ""
        names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
        plural = names.get("plural") or ""
        if not group:
            causes.append(errors.required("spec.group"))
        elif "." not in group:
            causes.append(errors.invalid_value("spec.group", group, "should be a domain with at least one dot"))
        if not plural:
            causes.append(errors.required("spec.names.plural"))
        if not names.get("kind"):
            causes.append(errors.required("spec.names.kind"))
        name = obj["metadata"]["name"]
        if plural and group and name != "%s.%s" % (plural, group):
            causes.append(errors.invalid_value("metadata.name", name,
                                               'must be spec.names.plural+"."+spec.group'))
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            causes.append(errors.not_supported("spec.scope", spec.get("scope"), ["Cluster", "Namespaced"]))
        versions = spec.get("versions")
        if not isinstance(versions, list) or not versions:
            causes.append(errors.invalid_value("spec.versions", versions, "must have exactly one version marked "
                                               "as storage version"))
        else:
            storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
            if len(storage) != 1:
                causes.append(errors.invalid_value("spec.versions", versions,
                                                   "must have exactly one version marked as storage version"))
            for i, v in enumerate(versions):
                if not isinstance(v, dict) or not v.get("name"):
                    causes.append(errors.required("spec.versions[%d].name" % i))
                    continue
                sch = (v.get("schema") or {}).get("openAPIV3Schema")
                if not isinstance(sch, dict):
                    causes.append(errors.required("spec.versions[%d].schema.openAPIV3Schema" % i,
                                                  "schemas are required"))
        if old is not None:
            ospec = old.get("spec") or {}
            if ospec.get("group") != spec.get("group"):
                causes.append(errors.invalid_value("spec.group", spec.get("group"), "field is immutable"))
            if (ospec.get("names") or {}).get("plural") != plural:
                causes.append(errors.invalid_value("spec.names.plural", plural, "field is immutable"))
        return causes

    def committed(self, api, rt, obj, prev):
        crt = crd_resource_type(obj)
        if crt is not None:
            api.registry.put(crt)

    def removed(self, api, rt, obj):
        spec = obj.get("spec") or {}
        key = (spec.get("group"), (spec.get("names") or {}).get("plural"))
        api.registry.remove(key)
        api.store.drop_key(key)


def _default_crd_spec(spec):
    names = spec.get("names")
    if isinstance(names, dict) and names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("conversion", {"strategy": "None"})
    for v in spec.get("versions") or []:
        if isinstance(v, dict):
            v.setdefault("served", True)
            v.setdefault("storage", False)


def _crd_status(obj, old_status):
    spec = obj.get("spec") or {}
    now = now_rfc3339()
    old_status = old_status or {}
    conds = {c.get("type"): c for c in old_status.get("conditions") or [] if isinstance(c, dict)}
    out_conds = []
    for t, reason, msg in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                           ("Established", "InitialNamesAccepted", "the initial names have been accepted")):
        c = conds.get(t)
        if c and c.get("status") == "True":
            out_conds.append(c)
        else:
            out_conds.append({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason,
                              "message": msg})
    if "Terminating" in conds:
        out_conds.append(conds["Terminating"])
    names = dict(spec.get("names") or {})
    stored = list(old_status.get("storedVersions") or [])
    for v in spec.get("versions") or []:
        if isinstance(v, dict) and v.get("storage") and v.get("name") not in stored:
            stored.append(v.get("name"))
    return {"conditions": out_conds, "acceptedNames": names, "storedVersions": stored}


def crd_resource_type(crd):
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    served = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served", True)]
    if not served or not names.get("plural") or not names.get("kind"):
        return None
    storage = next((v["name"] for v in spec.get("versions") if v.get("storage")), served[0]["name"])
    has_status = any("status" in ((v.get("subresources") or {})) for v in served)
    cols = {v["name"]: v.get("additionalPrinterColumns") or [] for v in served}
    schemas = {v["name"]: (v.get("schema") or {}).get("openAPIV3Schema") for v in served}
    versions = sorted((v["name"] for v in served), key=version_priority)
    rt = ResourceType(spec.get("group"), versions, names["plural"], names["kind"],
                      spec.get("scope") == "Namespaced", singular=names.get("singular") or names["kind"].lower(),
                      short_names=names.get("shortNames") or [], categories=names.get("categories") or [],
                      builtin=False, has_status=has_status, has_generation=True, unconditional_update=False,
                      return_deleted=True, verbs=CR_VERBS, storage_version=storage, printer_columns=cols,
                      schemas=schemas, list_kind=names.get("listKind"), crd_name=crd["metadata"]["name"])
    rt.versions = versions
    if crd["metadata"].get("deletionTimestamp"):
        rt.terminating = True
        rt.verbs = ["delete", "deletecollection", "get", "list", "watch"]
    return rt


class CustomResourceStrategy(Strategy):
    """customResourceValidator: kind and apiVersion first (type_errors, alone), then
    ObjectMeta (validated by the caller) and the version's schema."""

    @staticmethod
    def type_errors(rt, obj, version):
        if obj.get("kind") != rt.kind:
            return [errors.invalid_value("kind", obj.get("kind") or "", "must be %s" % rt.kind)]
        want = rt.api_version(version)
        if obj.get("apiVersion") != want:
            return [errors.invalid_value("apiVersion", obj.get("apiVersion") or "", "must be %s" % want)]
        return []

    def validate(self, api, rt, obj, old, version):
        schema = rt.schemas.get(version) or rt.schemas.get(rt.storage_version)
        return validate_schema(obj, schema)


CR = CustomResourceStrategy()

STRATEGIES = {
    ("", "secrets"): SecretStrategy(),
    ("", "configmaps"): ConfigMapStrategy(),
    ("", "events"): EventStrategy(),
    ("coordination.k8s.io", "leases"): LeaseStrategy(),
    ("", "namespaces"): NamespaceStrategy(),
    ("apiextensions.k8s.io", "customresourcedefinitions"): CRDStrategy(),
}


def strategy_for(rt):
    if not rt.builtin:
        return CR
    return STRATEGIES.get(rt.key, DEFAULT)
