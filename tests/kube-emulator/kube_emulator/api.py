"""Verb semantics shared by the HTTP layer and in-process controllers:
get, list, create, update (PUT), patch, delete, deletecollection.

Owns the rules of section 2 of the wire reference: server-set metadata
(uid, creationTimestamp, resourceVersion, generation), generateName,
namespace existence, optimistic concurrency, status subresource handling,
no-op writes, finalizers and deletionTimestamp, DeleteOptions
preconditions and propagation finalizers, dryRun. Every mutation runs under
Store.lock. Objects returned are stored objects: callers must not mutate them.
"""
import base64
import json

from . import decoding, errors, gotypes
from .errors import ApiError
from .kinds import strategy_for
from .validation import finalizer_warnings, validate_object_meta
from .patches import merge_patch, json_patch, strategic_merge_patch, PatchError
from .selectors import parse_label_selector, parse_field_selector, object_fields, allowed_fields
from .store import TooOld
from .util import new_uid, now_rfc3339, random_suffix, deep_copy

NS_KEY = ("", "namespaces")
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
FRESH_TIMEOUT = 3.0  # how long a read with a future resourceVersion waits (watch cache blockTimeout)
CONTINUE_EXPIRED = ("The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this "
                    "response to retrieve the remainder of the results. Continuing with the provided token "
                    "results in an inconsistent list - objects that were created, modified, or deleted between "
                    "the time the first chunk was returned and now may show up in the list.")


class ListResult:
    def __init__(self, items, rv, cont=None, remaining=None):
        self.items = items
        self.rv = rv
        self.cont = cont
        self.remaining = remaining


def encode_continue(rv, start):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(tok):
    try:
        pad = "=" * (-len(tok) % 4)
        d = json.loads(base64.urlsafe_b64decode(tok + pad))
        return int(d["rv"]), list(d["start"])
    except (ValueError, KeyError, TypeError):
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion (version "
                                 "meta.k8s.io/v1)")


def parse_rv(s, what="resource version"):
    if s in (None, ""):
        return None
    try:
        v = int(s)
        if v < 0:
            raise ValueError
        return v
    except ValueError:
        raise errors.bad_request("invalid %s: %s" % (what, s))


class Selectors:
    """Compiled label + field selectors for one request."""

    def __init__(self, rt, label=None, field=None):
        try:
            self.label = parse_label_selector(label)
        except ValueError as e:
            raise errors.bad_request(str(e))
        try:
            self.field = parse_field_selector(field)
        except ValueError as e:
            raise errors.bad_request(str(e))
        allowed = allowed_fields(rt.plural)
        for f in self.field.fields():
            if f not in allowed:
                raise errors.bad_request('"%s" is not a known field selector: only "%s"'
                                         % (f, '", "'.join(allowed)))
        self.plural = rt.plural
        self.empty = self.label.is_empty() and self.field.is_empty()

    def matches(self, obj):
        md = obj.get("metadata") or {}
        if not self.label.is_empty() and not self.label.matches(md.get("labels") or {}):
            return False
        if not self.field.is_empty() and not self.field.matches(object_fields(self.plural, obj)):
            return False
        return True


class Api:
    def __init__(self, store, registry):
        self.store = store
        self.registry = registry

    # ------------------------------------------------------------------ helpers
    def output(self, rt, obj, version):
        """The object as served for a version (apiVersion rewritten, no conversion)."""
        if version and version != rt.storage_version and obj.get("apiVersion") != rt.api_version(version):
            obj = dict(obj)
            obj["apiVersion"] = rt.api_version(version)
        return obj

    def _decode(self, rt, body, version, field_validation, warnings, raw):
        """The handler's decode step: a typed (or schema-pruned) object, or the 400 the
        apiserver answers. Returns the object and its metadata dict."""
        if body is not None and not isinstance(body, dict):  # parse_body rejects these for HTTP requests
            raise errors.bad_request("the object provided is unrecognized (must be of type %s)" % rt.kind)
        body = body if body is not None else {}
        av, kind = body.get("apiVersion"), body.get("kind")
        want = rt.api_version(version)
        if rt.builtin:  # the typed decoder needs the kind registered in this version
            if av and av != want:
                raise errors.bad_request("the API version in the data (%s) does not match the expected API "
                                         "version (%s)" % (av, want))
            if kind and kind != rt.kind:
                raise errors.bad_request('%s in version "%s" cannot be handled as a %s: converting (%s.%s) to '
                                         "(%s): unknown conversion" % (kind, version, rt.kind, version, kind,
                                                                       gotypes.INTERNAL_TYPE.get(rt.key, rt.kind)))
            if not kind or not av:  # typed by the URL (gvkWithDefaults)
                body["kind"], body["apiVersion"] = rt.kind, want
        obj = decoding.request_object(rt, body, version, field_validation, warnings, raw)
        if not rt.builtin and (obj.get("apiVersion") or "") != want:  # AcceptsGroupVersion
            raise errors.bad_request("the API version in the data (%s) does not match the expected API version "
                                     "(%s)" % (obj.get("apiVersion") or "", want))
        md = obj.get("metadata")
        if not isinstance(md, dict):
            md = obj["metadata"] = {}
        return obj, md

    def _validate(self, strat, rt, obj, old, version):
        """BeforeCreate/BeforeUpdate validation: ObjectMeta, then the kind's own rules (custom
        resources check kind/apiVersion before anything else)."""
        if not rt.builtin:
            head = strat.type_errors(rt, obj, version)
            if head:
                return head
        name_rule = rt.name_rule if old is None else "path"  # updates: validateCommonFields
        return validate_object_meta(obj["metadata"], name_rule) + strat.validate(self, rt, obj, old, version)

    def _admit_namespace(self, rt, ns, name):
        """NamespaceLifecycle admission: the namespace must exist and not be terminating."""
        nso = self._require_ns(ns)
        if nso["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(rt.group, rt.plural, name or "",
                                   "unable to create new content in namespace %s because it is being "
                                   "terminated" % ns)

    def _require_ns(self, ns):
        nso = self.store.get(NS_KEY, "", ns)
        if nso is None:
            raise errors.not_found("", "namespaces", ns)
        return nso

    # ------------------------------------------------------------------ get/list
    def get(self, rt, ns, name, rv=None):
        """GET; a resourceVersion ahead of the store waits for it (the watch cache's 3 s), then 504."""
        rvn = parse_rv(rv)
        if rvn and rvn > self.store.rv and not self.store.wait_for_rv(rvn, FRESH_TIMEOUT):
            raise errors.timeout_too_large_rv(rvn, self.store.rv)
        obj = self.store.get(rt.key, ns if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt.group, rt.plural, name)
        return obj

    def list(self, rt, ns, sel=None, limit=None, cont=None, rv=None, rv_match=None):
        store = self.store
        if rv_match and rv_match not in ("Exact", "NotOlderThan"):
            raise errors.bad_request('resourceVersionMatch: Unsupported value: "%s"' % rv_match)
        rvn = parse_rv(rv)
        if rv_match and rvn is None:
            raise errors.bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
        if rv_match == "Exact" and rvn == 0:
            raise errors.bad_request('resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
        ns_filter = ns if rt.namespaced else None
        start = None
        if cont:
            if rvn is not None and rv != "0":
                raise errors.bad_request("specifying resource version is not allowed when using continue")
            at, start = decode_continue(cont)
            try:
                objs = store.snapshot(rt.key, ns_filter, at)
            except TooOld:
                raise errors.expired(CONTINUE_EXPIRED,
                                     metadata={"continue": encode_continue(store.rv, start)})
            list_rv = at
        elif rvn is not None and rvn != 0 and (rv_match == "Exact" or (limit and rv_match is None)):
            if rvn > store.rv:
                raise errors.timeout_too_large_rv(rvn, store.rv)
            try:
                objs = store.snapshot(rt.key, ns_filter, rvn)
            except TooOld:
                raise errors.expired("The resourceVersion for the provided list is too old.")
            list_rv = rvn
        else:
            if rvn is not None and rvn > store.rv and not store.wait_for_rv(rvn, FRESH_TIMEOUT):
                raise errors.timeout_too_large_rv(rvn, store.rv)
            fname = sel.field.single_name() if sel is not None else None
            with store.lock:
                list_rv = store.rv
                if fname is not None and (ns_filter is not None or not rt.namespaced):
                    o = store.get(rt.key, ns_filter or "", fname)
                    objs = [o] if o is not None else []
                else:
                    objs = store.items(rt.key, ns_filter)
        if start:
            s = tuple(start)
            objs = [o for o in objs if (o["metadata"].get("namespace") or "", o["metadata"]["name"]) > s]
        if sel is not None and not sel.empty:
            objs = [o for o in objs if sel.matches(o)]
        next_tok = remaining = None
        if limit and limit > 0 and len(objs) > limit:
            remaining = len(objs) - limit
            objs = objs[:limit]
            last = objs[-1]["metadata"]
            next_tok = encode_continue(list_rv, [last.get("namespace") or "", last["name"]])
        return ListResult(objs, list_rv, next_tok, remaining)

    # ------------------------------------------------------------------ create
    def create(self, rt, ns, body, version=None, dry_run=False, field_validation=None, warnings=None, raw=None):
        """POST, in kube-apiserver's order: decode (400), namespace of the body (400),
        NamespaceLifecycle (404/403), generateName, PrepareForCreate + validation (422),
        storage: resourceVersion set (500), name taken (409)."""
        version = version or rt.storage_version
        if rt.terminating:
            raise ApiError(405, "MethodNotAllowed",
                           "create not allowed while custom resource definition is terminating")
        obj, md = self._decode(rt, body, version, field_validation, warnings, raw)
        if rt.namespaced:
            bns = md.get("namespace")
            if bns and bns != ns:
                raise errors.bad_request("the namespace of the provided object does not match the namespace sent "
                                         "on the request")
            self._admit_namespace(rt, ns, md.get("name"))
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        _dedup_owner_refs(md, warnings)
        name = md.get("name")
        if not name and md.get("generateName"):
            gn = md["generateName"]
            name = md["name"] = (gn[:58] if len(gn) > 58 else gn) + random_suffix()
        obj["apiVersion"] = obj.get("apiVersion") or rt.api_version(version)
        obj["kind"] = obj.get("kind") or rt.kind
        requested_rv = md.pop("resourceVersion", None)
        for f in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"):
            md.pop(f, None)
        md["uid"] = new_uid()
        md["creationTimestamp"] = now_rfc3339()
        if rt.has_generation:
            md["generation"] = 1
        else:
            md.pop("generation", None)
        normalize_metadata(md)
        md["resourceVersion"] = ""  # set by the store; placed here so the metadata reads in Go's order
        md = obj["metadata"] = decoding.in_field_order(md, gotypes.OBJECT_META)
        if rt.has_status:
            obj.pop("status", None)
        strat = strategy_for(rt)
        strat.prepare_create(self, rt, obj)
        causes = self._validate(strat, rt, obj, None, version)
        if causes:
            raise errors.invalid(rt.kind, rt.group, name or "", causes)
        obj["apiVersion"] = rt.api_version()
        if warnings is not None and not rt.builtin:
            warnings.extend(finalizer_warnings(md.get("finalizers")))
        with self.store.lock:
            if rt.namespaced:
                self._admit_namespace(rt, ns, name)  # again under the lock: the namespace controller races us
            if not dry_run and _is_set_rv(requested_rv):
                # etcd3 store.Create: a plain error, which the handler answers as a 500 without a reason
                raise errors.unknown_error(500, "resourceVersion should not be set on objects to be created")
            if self.store.get(rt.key, ns if rt.namespaced else "", name) is not None:
                raise errors.already_exists(rt.group, rt.plural, name)
            if dry_run:
                md.pop("resourceVersion", None)
                return obj
            stored = self.store.put(rt.key, obj, None)
            strat.committed(self, rt, stored, None)
            return stored

    # ------------------------------------------------------------------ update
    def update(self, rt, ns, name, body, version=None, subresource=None, dry_run=False, field_validation=None,
               warnings=None, raw=None):
        version = version or rt.storage_version
        body, md = self._decode(rt, body, version, field_validation, warnings, raw)
        _dedup_owner_refs(md, warnings)
        if md.get("name") and md["name"] != name:
            raise errors.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                     % (md["name"], name))
        if rt.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        with self.store.lock:
            old = self.store.get(rt.key, ns if rt.namespaced else "", name)
            if old is None:
                if rt.create_on_update and subresource is None:
                    md["name"] = name
                    md.pop("resourceVersion", None)  # an update that creates ignores the precondition
                    return self.create(rt, ns, body, version, dry_run, "Ignore", warnings), True
                raise errors.not_found(rt.group, rt.plural, name)
            rv = md.get("resourceVersion")
            if not rv:
                if not rt.unconditional_update:
                    raise errors.invalid(rt.plural, rt.group, name, [errors.Cause(
                        errors.Cause.INVALID, "metadata.resourceVersion",
                        "Invalid value: 0x0: must be specified for an update")])
            elif rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.group, rt.plural, name)
            return self._update_from(rt, old, body, version, subresource, dry_run, warnings), False

    def _update_from(self, rt, old, new, version, subresource, dry_run, warnings=None):
        """Turn a requested new state into the stored one and commit (lock held)."""
        omd = old["metadata"]
        name = omd["name"]
        strat = strategy_for(rt)
        if subresource == "status":
            status = new.get("status")
            new = dict(old)
            new["metadata"] = dict(omd)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        elif subresource == "finalize":
            fins = ((new.get("spec") or {}).get("finalizers")) or []
            new = dict(old)
            new["metadata"] = dict(omd)
            spec = dict(old.get("spec") or {})
            spec["finalizers"] = fins
            new["spec"] = spec
        else:
            md = new.get("metadata")
            if not isinstance(md, dict):
                md = new["metadata"] = {}
            if md.get("uid") and md["uid"] != omd.get("uid"):
                raise errors.conflict(rt.group, rt.plural, name, "Precondition failed: UID in precondition: %s, "
                                      "UID in object meta: %s" % (omd.get("uid"), md["uid"]))
            if rt.has_status:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            for f in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "generation", "namespace"):
                if f in omd:
                    md[f] = omd[f]
                else:
                    md.pop(f, None)
            md["name"] = name
            md.pop("managedFields", None)
            md.pop("selfLink", None)
            if omd.get("deletionTimestamp"):
                added = [f for f in md.get("finalizers") or [] if f not in (omd.get("finalizers") or [])]
                if added:
                    raise errors.invalid(rt.kind, rt.group, name, [errors.forbidden_field(
                        "metadata.finalizers", "no new finalizers can be added if the object is being deleted, "
                        "found new finalizers []string{%s}" % ", ".join('"%s"' % a for a in added))])
            normalize_metadata(md)
            strat.prepare_update(self, rt, new, old)
        md = new["metadata"]
        md["resourceVersion"] = omd["resourceVersion"]
        causes = self._validate(strat, rt, new, old, version)
        if causes:
            raise errors.invalid(rt.kind, rt.group, name, causes)
        new["apiVersion"] = rt.api_version()
        new["kind"] = rt.kind
        if warnings is not None and not rt.builtin and subresource is None:
            warnings.extend(finalizer_warnings(md.get("finalizers"), omd.get("finalizers")))
        if rt.has_generation:
            gen = omd.get("generation", 1)
            if _spec_changed(rt, new, old):
                gen += 1
            md["generation"] = gen
        if new == old:
            return old
        if dry_run:
            return new
        ns = omd.get("namespace") or ""
        if md.get("deletionTimestamp") and not md.get("finalizers") and not _spec_finalizers(rt, new):
            gone = self.store.remove(rt.key, ns, name, last=new)
            strat.removed(self, rt, gone)
            return gone
        stored = self.store.put(rt.key, new, old)
        strat.committed(self, rt, stored, old)
        return stored

    # ------------------------------------------------------------------ patch
    def patch(self, rt, ns, name, ctype, raw, version=None, subresource=None, dry_run=False,
              field_validation=None, warnings=None):
        version = version or rt.storage_version
        ctype = (ctype or "").split(";")[0].strip().lower()
        if ctype == APPLY:
            raise ApiError(415, "UnsupportedMediaType",
                           "server-side apply (application/apply-patch+yaml) is not supported by this emulator; "
                           "use application/merge-patch+json or application/json-patch+json"
                           + (" or application/strategic-merge-patch+json" if rt.builtin else ""))
        if ctype not in (MERGE, JSONPATCH, STRATEGIC) or (ctype == STRATEGIC and not rt.builtin):
            raise errors.unsupported_media_type(ctype, rt.builtin)
        try:
            patch = json.loads(raw or b"null")
        except ValueError as e:
            raise errors.bad_request("error decoding patch: %s" % e)
        if ctype == JSONPATCH and not isinstance(patch, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        if ctype != JSONPATCH and not isinstance(patch, dict):
            raise errors.bad_request("error decoding patch: patch must be a JSON object")
        with self.store.lock:
            old = self.get(rt, ns, name)
            base = self.output(rt, old, version)
            try:
                if ctype == MERGE:
                    patched = merge_patch(base, patch)
                elif ctype == JSONPATCH:
                    patched = json_patch(base, patch)
                else:
                    patched = strategic_merge_patch(base, patch)
            except PatchError as e:
                raise errors.patch_rejected(str(e))
            except ValueError as e:
                raise errors.bad_request(str(e))
            if not isinstance(patched, dict):
                raise errors.bad_request("patch produced a non-object")
            patched = decoding.request_object(rt, patched, version, field_validation, warnings, patch=True)
            pmd = patched.get("metadata")
            if not isinstance(pmd, dict):
                pmd = patched["metadata"] = {}
            _dedup_owner_refs(pmd, warnings, after_admission=True)
            prv = pmd.get("resourceVersion")
            if prv and prv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.group, rt.plural, name)
            if pmd.get("name") != name:
                raise errors.bad_request("metadata.name: Invalid value: %r: field is immutable" % pmd.get("name"))
            return self._update_from(rt, old, patched, version, subresource, dry_run, warnings)

    # ------------------------------------------------------------------ delete
    def delete(self, rt, ns, name, options=None, dry_run=False):
        """Returns (object, removed). object is the last state when removed, else the
        object now carrying deletionTimestamp."""
        options = options or {}
        ns = ns if rt.namespaced else ""
        with self.store.lock:
            old = self.get(rt, ns, name)
            omd = old["metadata"]
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != omd.get("uid"):
                raise errors.conflict(rt.group, rt.plural, name, "Precondition failed: UID in precondition: %s, "
                                      "UID in object meta: %s" % (pre["uid"], omd.get("uid")))
            if pre.get("resourceVersion") and pre["resourceVersion"] != omd.get("resourceVersion"):
                raise errors.conflict(rt.group, rt.plural, name, "Precondition failed: ResourceVersion in "
                                      "precondition: %s, ResourceVersion in object meta: %s"
                                      % (pre["resourceVersion"], omd.get("resourceVersion")))
            if rt.key == NS_KEY and name in PROTECTED_NAMESPACES:
                raise errors.forbidden("", "namespaces", name, "this namespace may not be deleted")
            policy = options.get("propagationPolicy")
            if policy is None and options.get("orphanDependents") is True:
                policy = "Orphan"
            if policy not in (None, "Background", "Foreground", "Orphan"):
                raise errors.invalid("DeleteOptions", "", "", [errors.not_supported(
                    "propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])])
            fins = list(omd.get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in fins and "orphan" not in fins:
                fins.append("foregroundDeletion")
            elif policy == "Orphan" and "orphan" not in fins and "foregroundDeletion" not in fins:
                fins.append("orphan")
            if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
                if "customresourcecleanup.apiextensions.k8s.io" not in fins:
                    fins.append("customresourcecleanup.apiextensions.k8s.io")
            strat = strategy_for(rt)
            if fins or _spec_finalizers(rt, old):
                if omd.get("deletionTimestamp") and fins == list(omd.get("finalizers") or []):
                    return old, False
                new = dict(old)
                md = new["metadata"] = dict(omd)
                if not md.get("deletionTimestamp"):
                    md["deletionTimestamp"] = now_rfc3339()
                    md["deletionGracePeriodSeconds"] = 0
                    if rt.has_generation:
                        md["generation"] = omd.get("generation", 1) + 1
                md["finalizers"] = fins
                if rt.key == NS_KEY:
                    st = dict(new.get("status") or {})
                    st["phase"] = "Terminating"
                    new["status"] = st
                if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
                    st = deep_copy(new.get("status") or {})
                    conds = [c for c in st.get("conditions") or [] if c.get("type") != "Terminating"]
                    conds.append({"type": "Terminating", "status": "True", "lastTransitionTime": now_rfc3339(),
                                  "reason": "InstanceDeletionInProgress",
                                  "message": "CustomResource deletion is in progress"})
                    st["conditions"] = conds
                    new["status"] = st
                if dry_run:
                    return new, False
                stored = self.store.put(rt.key, new, old)
                strat.committed(self, rt, stored, old)
                return stored, False
            if dry_run:
                return old, True
            gone = self.store.remove(rt.key, ns, name)
            strat.removed(self, rt, gone)
            return gone, True

    def delete_collection(self, rt, ns, sel, options=None, dry_run=False):
        res = self.list(rt, ns if rt.namespaced else None, sel)
        out = []
        for o in res.items:
            md = o["metadata"]
            try:
                obj, _ = self.delete(rt, md.get("namespace") or "", md["name"], options, dry_run)
                out.append(obj)
            except ApiError as e:
                if e.code != 404:
                    raise
        return out

    # ------------------------------------------------------------------ internal helpers for controllers
    def mutate(self, rt, ns, name, fn, subresource=None):
        """Read-modify-write for controllers: fn(copy) edits a private copy in place
        (return False to skip). Returns the stored result or None if absent."""
        with self.store.lock:
            obj = self.store.get(rt.key, ns if rt.namespaced else "", name)
            if obj is None:
                return None
            new = deep_copy(obj)
            if fn(new) is False:
                return obj
            return self._update_from(rt, obj, new, rt.storage_version, subresource, False)

    def remove_finalizer(self, rt, ns, name, finalizer):
        with self.store.lock:
            obj = self.store.get(rt.key, ns if rt.namespaced else "", name)
            if obj is None or finalizer not in (obj["metadata"].get("finalizers") or []):
                return obj
            new = deep_copy(obj)
            new["metadata"]["finalizers"] = [f for f in new["metadata"]["finalizers"] if f != finalizer]
            return self._update_from(rt, obj, new, rt.storage_version, None, False)


def _is_set_rv(rv):
    """APIObjectVersioner.ObjectResourceVersion: a numeric, non-zero uint64 (anything else is ignored)."""
    return isinstance(rv, str) and rv.isdigit() and rv.isascii() and 0 < int(rv) < 1 << 64


_DUP_REFS = (".metadata.ownerReferences contains duplicate entries%s; API server dedups owner references in "
             "1.20+, and may reject such requests as early as 1.24; please fix your requests. Duplicate UIDs found in "
             "metadata.ownerReferences: %s")


def _dedup_owner_refs(md, warnings, after_admission=False):
    """dedupOwnerReferencesAndAddWarning: identical ownerReferences entries are dropped, with a warning."""
    refs = md.get("ownerReferences")
    if not refs or len(refs) < 2:
        return
    out, dups = [], []
    for r in refs:
        if r in out:
            dups.append(str(r.get("uid", "")))
        else:
            out.append(r)
    if dups:
        md["ownerReferences"] = out
        if warnings is not None:
            warnings.append(_DUP_REFS % (" after mutating admission happens" if after_admission else "",
                                         ", ".join(dups)))


def normalize_metadata(md):
    """Drop empty optional metadata fields, as Go's omitempty would."""
    for f in ("labels", "annotations", "finalizers", "ownerReferences", "generateName"):
        if f in md and not md[f]:
            del md[f]


def _spec_changed(rt, new, old):
    skip = ("metadata", "status") if rt.has_status else ("metadata",)
    for k in set(new) | set(old):
        if k in skip or k in ("apiVersion", "kind"):
            continue
        if new.get(k) != old.get(k):
            return True
    return False


def _spec_finalizers(rt, obj):
    if rt.key != NS_KEY:
        return False
    return bool((obj.get("spec") or {}).get("finalizers"))
