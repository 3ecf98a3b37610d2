"""Per-kind strategies: defaulting, validation and side effects that differ
between kinds (what the apiserver's registry strategies do).

- SecretStrategy: stringData -> data, default type Opaque, base64 check, immutable
- ConfigMapStrategy: key checks, immutable
- NamespaceStrategy: phase Active, spec.finalizers, kubernetes.io/metadata.name label
- CRDStrategy: name/version checks, names defaulting, status synthesis,
  (un)registering the served resource
- CustomResourceStrategy: openAPIV3Schema prune/default/validate
"""
import base64
import binascii
import re

from . import errors
from .registry import ResourceType, CR_VERBS, version_priority
from .util import now_rfc3339
from .validation import prune_default_validate

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
MAX_SECRET_SIZE = 1024 * 1024


def validate_name(rt, name):
    """field.Errors for metadata.name following the kind's naming rule."""
    if rt.name_rule == "label":
        if len(name) > 63 or not _DNS_LABEL.match(name):
            return [errors.invalid_value("metadata.name", name,
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
                    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")]
    elif rt.name_rule == "path":
        if name in (".", "..") or "/" in name or "%" in name:
            return [errors.invalid_value("metadata.name", name, 'may not contain "/"')]
    else:
        if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
            return [errors.invalid_value("metadata.name", name,
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
                    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    return []


def validate_metadata(md):
    causes = []
    for field in ("labels", "annotations"):
        v = md.get(field)
        if v is None:
            continue
        if not isinstance(v, dict) or any(not isinstance(x, str) for x in v.values()):
            causes.append(errors.invalid_value("metadata." + field, v, "must be a map of strings"))
            continue
        if field == "labels":
            for k, val in v.items():
                if len(val) > 63 or (val and not re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", val)):
                    causes.append(errors.invalid_value("metadata.labels", val,
                                  "a valid label must be an empty string or consist of alphanumeric characters, "
                                  "'-', '_' or '.', and must start and end with an alphanumeric character"))
    return causes


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
        data = obj.get("data")
        if data is not None and not isinstance(data, dict):
            return [errors.invalid_value("data", data, "must be a map")]
        total = 0
        for k, v in (data or {}).items():
            if not _CONFIG_KEY.match(k):
                causes.append(_bad_key("data[%s]" % k, k))
            if not isinstance(v, str):
                causes.append(errors.invalid_value("data[%s]" % k, v, "must be a base64-encoded string"))
                continue
            try:
                total += len(base64.b64decode(v, validate=True))
            except (binascii.Error, ValueError):
                causes.append(errors.invalid_value("data[%s]" % k, "<value omitted>",
                              "illegal base64 data: a Secret's data values must be base64-encoded"))
        if total > MAX_SECRET_SIZE:
            causes.append(errors.Cause(errors.Cause.TOO_LONG, "data",
                                       "Too long: must have at most %d bytes" % MAX_SECRET_SIZE))
        if old is not None:
            if old.get("type") != obj.get("type"):
                causes.append(errors.invalid_value("type", obj.get("type"), "field is immutable"))
            causes += _immutable_checks(obj, old, ("data",))
        return causes


class ConfigMapStrategy(Strategy):
    def validate(self, api, rt, obj, old, version):
        causes = []
        data = obj.get("data") or {}
        bdata = obj.get("binaryData") or {}
        if not isinstance(data, dict) or not isinstance(bdata, dict):
            return [errors.invalid_value("data", data, "must be a map")]
        for k, v in data.items():
            if not _CONFIG_KEY.match(k):
                causes.append(_bad_key("data[%s]" % k, k))
            if not isinstance(v, str):
                causes.append(errors.invalid_value("data[%s]" % k, v, "must be a string"))
            if k in bdata:
                causes.append(errors.invalid_value("data[%s]" % k, k,
                              "duplicate of key present in binaryData"))
        for k, v in bdata.items():
            if not _CONFIG_KEY.match(k):
                causes.append(_bad_key("binaryData[%s]" % k, k))
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError, TypeError):
                causes.append(errors.invalid_value("binaryData[%s]" % k, "<value omitted>",
                                                   "illegal base64 data"))
        if old is not None:
            causes += _immutable_checks(obj, old, ("data", "binaryData"))
        return causes


def _bad_key(field, k):
    return errors.invalid_value(field, k, "a valid config key must consist of alphanumeric characters, '-', '_' "
                                "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                                "validation is '[-._a-zA-Z0-9]+')")


def _immutable_checks(obj, old, fields):
    causes = []
    if old.get("immutable") is True:
        if obj.get("immutable") is not True:
            causes.append(errors.forbidden_field("immutable", "field is immutable when `immutable` is set"))
        for f in fields:
            if (obj.get(f) or {}) != (old.get(f) or {}):
                causes.append(errors.forbidden_field(f, "field is immutable when `immutable` is set"))
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
    def validate(self, api, rt, obj, old, version, unknown=None):
        schema = rt.schemas.get(version) or rt.schemas.get(rt.storage_version)
        return prune_default_validate(obj, schema, unknown)


CR = CustomResourceStrategy()

STRATEGIES = {
    ("", "secrets"): SecretStrategy(),
    ("", "configmaps"): ConfigMapStrategy(),
    ("", "namespaces"): NamespaceStrategy(),
    ("apiextensions.k8s.io", "customresourcedefinitions"): CRDStrategy(),
}


def strategy_for(rt):
    if not rt.builtin:
        return CR
    return STRATEGIES.get(rt.key, DEFAULT)
