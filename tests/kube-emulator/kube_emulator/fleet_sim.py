"""Fleet simulation (--fleet-sim): installs the Fleet CRDs (bundles, clusters,
clustergroups in fleet.cattle.io/v1alpha1) and the namespaces fleet-default
and fleet-local, then plays the Fleet controller + agents inside the emulator.

For every Bundle (a background thread woken by store changes):
- adds/removes the finalizer fleet.cattle.io/bundle-finalizer like Fleet;
- picks the Clusters in the Bundle's namespace that spec.targets select, as
  Fleet's matcher does (targets in order, first match wins; clusterName,
  clusterSelector, clusterGroup and clusterGroupSelector must all hold, the
  two group criteria for one and the same group of the cluster; a cluster in
  no group is judged with group "" and no group labels; doNotDeploy excludes;
  a target without criteria matches nothing; a ClusterGroup without a
  selector has no members);
- decodes spec.resources (encoding "", base64, base64+gz); only names ending
  .yaml/.yml/.json are manifests (as in Fleet); content is JSON or YAML
  (yamlsub: block/flow YAML without anchors/tags, multi-document), one object
  or a List per document; unparsable content marks the cluster ErrApplied;
- materialises each manifest on each targeted cluster as a copy in this
  emulator, namespace "<cluster>--<downstream namespace>" (auto-created,
  labelled fleet-sim/cluster=<cluster>), labels
  fleet.cattle.io/bundle-name / bundle-namespace added;
- a downstream namespace exists on a cluster only if it is "default", the
  target's defaultNamespace or namespace, listed in the Cluster annotation
  fleet-sim/namespaces ("a,b"), or created by a Namespace manifest of the
  bundle; otherwise the cluster is ErrApplied `namespaces "<ns>" not found`;
- Clusters labelled fleet-sim/unhealthy=true stay NotReady (nothing delivered);
- removes copies when a cluster stops matching or the Bundle goes, unless
  keepResources is true;
- writes status as Fleet's summary package does (summary counts,
  nonReadyResources named "<namespace>/<cluster>", display.readyClusters and
  display.state, observedGeneration, a Ready condition that is True exactly
  when the ReadyMessage is empty) through the status subresource.
"""
import base64
import gzip
import json
import sys
import threading
import time
import traceback

from .errors import ApiError
from .selectors import label_selector_from_object
from .util import deep_copy, now_rfc3339
from .yamlsub import YAMLError, load_all

GROUP = "fleet.cattle.io"
BUNDLE_KEY = (GROUP, "bundles")
CLUSTER_KEY = (GROUP, "clusters")
GROUP_KEY = (GROUP, "clustergroups")
NS_KEY = ("", "namespaces")
FINALIZER = "fleet.cattle.io/bundle-finalizer"
LABEL_BUNDLE = "fleet.cattle.io/bundle-name"
LABEL_BUNDLE_NS = "fleet.cattle.io/bundle-namespace"
LABEL_CLUSTER = "fleet-sim/cluster"
LABEL_UNHEALTHY = "fleet-sim/unhealthy"
ANNOTATION_NAMESPACES = "fleet-sim/namespaces"
STATE_RANK = {"ErrApplied": 7, "WaitApplied": 6, "Modified": 5, "OutOfSync": 4, "Pending": 3, "NotReady": 2,
              "Ready": 1}  # fleet.StateRank
SUMMARY_FIELD = {"ErrApplied": "errApplied", "WaitApplied": "waitApplied", "Modified": "modified",
                 "OutOfSync": "outOfSync", "Pending": "pending", "NotReady": "notReady"}

_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_ANY_OBJ = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_ANY_LIST = {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_LABEL_SELECTOR = {"type": "object", "properties": {
    "matchLabels": _STR_MAP,
    "matchExpressions": {"type": "array", "items": {"type": "object", "required": ["key", "operator"],
                                                    "properties": {"key": _STR, "operator": _STR,
                                                                   "values": {"type": "array", "items": _STR}}}}},
    "x-kubernetes-map-type": "atomic"}

# BundleDeploymentOptions: inline at spec level and in every target.
_OPTIONS = {
    "defaultNamespace": _STR, "namespace": _STR, "helm": _ANY_OBJ, "kustomize": _ANY_OBJ, "yaml": _ANY_OBJ,
    "serviceAccount": _STR, "createNamespace": _BOOL, "forceSyncGeneration": {"type": "integer"},
    "diff": _ANY_OBJ, "keepResources": _BOOL, "deleteNamespace": _BOOL, "ignore": _ANY_OBJ,
    "correctDrift": _ANY_OBJ, "namespaceLabels": _STR_MAP, "namespaceAnnotations": _STR_MAP,
    "deleteCRDResources": _BOOL, "downstreamResources": _ANY_LIST, "overwrites": _ANY_LIST,
    "allowedTargetNamespaceSelector": _LABEL_SELECTOR,
}
_TARGET = {"type": "object", "properties": dict(_OPTIONS, **{
    "name": _STR, "clusterName": {"type": "string", "nullable": True},
    "clusterSelector": dict(_LABEL_SELECTOR, nullable=True), "clusterGroup": _STR,
    "clusterGroupSelector": dict(_LABEL_SELECTOR, nullable=True), "doNotDeploy": _BOOL})}
BUNDLE_SPEC = {"type": "object", "properties": dict(_OPTIONS, **{
    "paused": _BOOL, "rolloutStrategy": _ANY_OBJ,
    "resources": {"type": "array", "nullable": True, "items": {"type": "object", "properties": {
        "name": _STR, "content": _STR, "encoding": _STR}}},
    "targetCustomizationMode": {"type": "string", "enum": ["FirstMatch", "AllMatches"], "default": "FirstMatch"},
    "targets": {"type": "array", "nullable": True, "items": _TARGET},
    "targetRestrictions": _ANY_LIST, "dependsOn": _ANY_LIST, "contentsId": _STR, "helmOpOptions": _ANY_OBJ,
    "valuesHash": _STR})}


def _crd(plural, kind, singular, spec_schema, columns, short_names=()):
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "%s.%s" % (plural, GROUP)},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": singular, "kind": kind, "listKind": kind + "List",
                           "shortNames": list(short_names)},
                 "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                               "subresources": {"status": {}},
                               "additionalPrinterColumns": columns,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "apiVersion": _STR, "kind": _STR, "metadata": {"type": "object"},
                                   "spec": spec_schema, "status": _ANY_OBJ}}}}]}}


_STATUS_COL = {"name": "Status", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].message'}


def fleet_crds():
    return [
        _crd("bundles", "Bundle", "bundle", BUNDLE_SPEC,
             [{"name": "BundleDeployments-Ready", "type": "string", "jsonPath": ".status.display.readyClusters"},
              _STATUS_COL]),
        _crd("clusters", "Cluster", "cluster", _ANY_OBJ,
             [{"name": "Bundles-Ready", "type": "string", "jsonPath": ".status.display.readyBundles"},
              {"name": "Last-Seen", "type": "string", "jsonPath": ".status.agent.lastSeen"}, _STATUS_COL]),
        _crd("clustergroups", "ClusterGroup", "clustergroup",
             {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
              "properties": {"selector": dict(_LABEL_SELECTOR, nullable=True)}},
             [{"name": "Clusters-Ready", "type": "string", "jsonPath": ".status.display.readyClusters"},
              {"name": "Bundles-Ready", "type": "string", "jsonPath": ".status.display.readyBundles"},
              _STATUS_COL]),
    ]


def ready_message(summary, kind):
    """summary.ReadyMessage: per non-ready state with a count, the first of the (at most 10)
    nonReadyResources in that state, as "State(n) [Kind name[: message]]"; sorted, "; "-joined."""
    messages = []
    for state, field in SUMMARY_FIELD.items():
        count = summary.get(field, 0)
        if count <= 0:
            continue
        for r in summary.get("nonReadyResources") or ():
            if r["bundleState"] == state:
                if r.get("message"):
                    messages.append("%s(%d) [%s %s: %s]" % (state, count, kind, r["name"], r["message"]))
                else:
                    messages.append("%s(%d) [%s %s]" % (state, count, kind, r["name"]))
                break
    return "; ".join(sorted(messages))


class Deployment:
    """The simulated BundleDeployment of one bundle on one cluster."""

    def __init__(self, cluster, target):
        self.cluster = cluster
        self.target = target
        self.state = "Ready"
        self.message = ""
        self.namespaces = []
        self.resources = []  # [(key, ns, name)]

    def as_dict(self):
        return {"cluster": self.cluster, "target": self.target, "state": self.state, "message": self.message,
                "namespaces": sorted(self.namespaces),
                "resources": ["%s %s/%s" % (k[1] if not k[0] else "%s.%s" % (k[1], k[0]), ns, n)
                              for k, ns, n in self.resources]}


class FleetSim:
    def __init__(self, api):
        self.api = api
        self.store = api.store
        self.registry = api.registry
        self._dirty = set()
        self._dirty_ns = set()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self.delivered = {}   # (bns, bname) -> {cluster: set((key, ns, name))}
        self.keep = {}        # (bns, bname) -> keepResources of the last seen spec
        self.debug_state = {}  # (bns, bname) -> dict
        self._thread = threading.Thread(target=self._run, name="fleet-sim", daemon=True)

    # ------------------------------------------------------------ setup
    def install(self):
        crd_rt = self.registry.by_key(("apiextensions.k8s.io", "customresourcedefinitions"))
        for crd in fleet_crds():
            self.api.create(crd_rt, "", crd)
        ns_rt = self.registry.by_key(NS_KEY)
        for ns in ("fleet-default", "fleet-local"):
            self.api.create(ns_rt, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    def start(self):
        self.store.listeners.append(self._on_event)
        self._thread.start()

    # ------------------------------------------------------------ change tracking (under store lock)
    def _on_event(self, ev):
        if ev.key == BUNDLE_KEY:
            if ev.type != "DELETED" and ev.prev is not None:
                a, b = ev.obj["metadata"], ev.prev["metadata"]
                if (a.get("generation") == b.get("generation") and a.get("finalizers") == b.get("finalizers")
                        and a.get("deletionTimestamp") == b.get("deletionTimestamp")):
                    return  # status-only / metadata-only change
            with self._lock:
                self._dirty.add((ev.ns, ev.name))
            self._wake.set()
        elif ev.key in (CLUSTER_KEY, GROUP_KEY):
            if ev.prev is not None and ev.type != "DELETED":
                a, b = ev.obj, ev.prev
                if (a["metadata"].get("labels") == b["metadata"].get("labels")
                        and a["metadata"].get("annotations") == b["metadata"].get("annotations")
                        and a.get("spec") == b.get("spec")):
                    return
            with self._lock:
                self._dirty_ns.add(ev.ns)
            self._wake.set()

    def _run(self):
        while True:
            self._wake.wait()
            time.sleep(0.005)  # let bursts coalesce
            self._wake.clear()
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                dirty_ns, self._dirty_ns = self._dirty_ns, set()
            for ns in dirty_ns:
                for b in self.store.items(BUNDLE_KEY, ns):
                    dirty.add((ns, b["metadata"]["name"]))
                for key in list(self.delivered):
                    if key[0] == ns:
                        dirty.add(key)
            for key in sorted(dirty):
                try:
                    self.reconcile(*key)
                except Exception:
                    traceback.print_exc(file=sys.stderr)

    # ------------------------------------------------------------ reconcile
    def reconcile(self, ns, name):
        brt = self.registry.by_key(BUNDLE_KEY)
        if brt is None:
            return
        b = self.store.get(BUNDLE_KEY, ns, name)
        key = (ns, name)
        if b is None:
            self._cleanup(key, self.keep.get(key, False))
            self.debug_state.pop(key, None)
            self.keep.pop(key, None)
            return
        md = b["metadata"]
        spec = b.get("spec") or {}
        self.keep[key] = bool(spec.get("keepResources"))
        if md.get("deletionTimestamp"):
            if FINALIZER in (md.get("finalizers") or []):
                self._cleanup(key, bool(spec.get("keepResources")))
                self.api.remove_finalizer(brt, ns, name, FINALIZER)
            self.debug_state.pop(key, None)
            return
        if FINALIZER not in (md.get("finalizers") or []):
            def add_fin(o):
                o["metadata"].setdefault("finalizers", []).append(FINALIZER)
            b = self.api.mutate(brt, ns, name, add_fin) or b
        deployments = self._target(ns, b)
        manifests, ignored, decode_err = self._decode(spec.get("resources") or [])
        delivered = self.delivered.setdefault(key, {})
        for cl, dep in sorted(deployments.items()):
            self._deploy(key, b, dep, manifests, decode_err, delivered)
        for cl in list(delivered):
            if cl not in deployments:
                if not spec.get("keepResources"):
                    self._delete_copies(delivered[cl])
                del delivered[cl]
        self._write_status(brt, b, deployments)
        self.debug_state[key] = {"bundle": "%s/%s" % (ns, name), "generation": b["metadata"].get("generation"),
                                 "ignoredResources": ignored,
                                 "clusters": {c: d.as_dict() for c, d in sorted(deployments.items())}}

    def _target(self, ns, bundle):
        spec = bundle.get("spec") or {}
        targets = spec.get("targets") or []
        clusters = self.store.items(CLUSTER_KEY, ns)
        groups = []  # (name, labels, selector) of the ClusterGroups that have a selector
        for g in self.store.items(GROUP_KEY, ns):
            gsel = (g.get("spec") or {}).get("selector")
            if gsel is None:
                continue
            try:
                groups.append((g["metadata"]["name"], g["metadata"].get("labels") or {},
                               label_selector_from_object(gsel)))
            except ValueError:
                continue
        out = {}
        for c in clusters:
            cname = c["metadata"]["name"]
            clabels = c["metadata"].get("labels") or {}
            cgroups = [(gname, glabels) for gname, glabels, sel in groups if sel.matches(clabels)]
            for i, t in enumerate(targets):
                if not isinstance(t, dict) or not _target_matches(t, cname, clabels, cgroups):
                    continue
                if not t.get("doNotDeploy"):
                    opts = {k: spec.get(k) for k in ("defaultNamespace", "namespace", "keepResources")}
                    for k in ("defaultNamespace", "namespace", "keepResources"):
                        if t.get(k):
                            opts[k] = t[k]
                    dep = Deployment(cname, t.get("name") or "target%03d" % i)
                    dep.opts = opts
                    dep.cluster_obj = c
                    out[cname] = dep
                break
        return out

    def _decode(self, resources):
        manifests, ignored = [], []
        for r in resources:
            if not isinstance(r, dict):
                continue
            rname = r.get("name") or ""
            if rname == "fleet.yaml" or not rname.endswith((".yaml", ".yml", ".json")):
                ignored.append(rname)
                continue
            content = r.get("content") or ""
            enc = r.get("encoding") or ""
            try:
                data = content.encode("utf-8")
                if enc.startswith("base64"):
                    data = base64.b64decode(content, validate=False)
                    if enc[len("base64"):].lstrip("+") == "gz":
                        data = gzip.decompress(data)
                text = data.decode("utf-8")
            except Exception as e:
                return [], ignored, "resource %s: cannot decode (%s): %s" % (rname, enc or "plain", e)
            if not text.strip():
                continue
            try:
                docs = [json.loads(text)]
            except ValueError:
                try:
                    docs = load_all(text)
                except YAMLError as e:
                    return [], ignored, ("resource %s: simulation supports JSON and plain YAML manifests only: %s"
                                         % (rname, e))
            items = []
            for doc in docs:
                if doc is None:
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("items"), list) and (
                        doc.get("kind") == "List" or str(doc.get("kind", "")).endswith("List")):
                    items.extend(doc["items"])
                else:
                    items.append(doc)
            for it in items or []:
                if not isinstance(it, dict) or not it.get("kind") or not it.get("apiVersion"):
                    return [], ignored, "resource %s: manifest without apiVersion/kind" % rname
                manifests.append(it)
        return manifests, ignored, None

    def _deploy(self, key, bundle, dep, manifests, decode_err, delivered):
        cluster = dep.cluster_obj
        cname = dep.cluster
        clabels = cluster["metadata"].get("labels") or {}
        if clabels.get(LABEL_UNHEALTHY) == "true":
            dep.state = "NotReady"
            dep.resources = sorted(delivered.get(cname, ()))
            return
        if decode_err:
            dep.state, dep.message = "ErrApplied", decode_err
            return
        opts = dep.opts
        existing = {"default"}
        for k in ("defaultNamespace", "namespace"):
            if opts.get(k):
                existing.add(opts[k])
        ann = (cluster["metadata"].get("annotations") or {}).get(ANNOTATION_NAMESPACES) or ""
        existing.update(x.strip() for x in ann.split(",") if x.strip())
        for m in manifests:
            if m.get("kind") == "Namespace" and m.get("apiVersion") == "v1":
                existing.add((m.get("metadata") or {}).get("name") or "")
        copies = []
        for m in manifests:
            rt = self.registry.by_api_version_kind(m.get("apiVersion"), m.get("kind"))
            mmd = m.get("metadata") if isinstance(m.get("metadata"), dict) else {}
            mname = mmd.get("name") or ""
            if rt is None:
                dep.state, dep.message = "ErrApplied", 'no matches for kind "%s" in version "%s"' % (
                    m.get("kind"), m.get("apiVersion"))
                return
            if rt.key == NS_KEY:
                copies.append((rt, "", "%s--%s" % (cname, mname), m, mname))
                continue
            if not rt.namespaced:
                dep.state, dep.message = "ErrApplied", ("simulation supports namespaced resources only: %s %s"
                                                        % (m.get("kind"), mname))
                return
            dns = opts.get("namespace") or mmd.get("namespace") or opts.get("defaultNamespace") or "default"
            if dns not in existing:
                dep.state, dep.message = "ErrApplied", 'namespaces "%s" not found' % dns
                return
            copies.append((rt, "%s--%s" % (cname, dns), mname, m, dns))
        bns, bname = key
        want = set()
        try:
            for rt, cns, cname_obj, m, dns in copies:
                if rt.key == NS_KEY:
                    self._ensure_ns(cname_obj, cname, m)
                    want.add((rt.key, "", cname_obj))
                    continue
                self._ensure_ns(cns, cname, None)
                body = deep_copy(m)
                mmd = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                labels = dict(mmd.get("labels") or {})
                labels[LABEL_BUNDLE] = bname
                labels[LABEL_BUNDLE_NS] = bns
                newmd = {"name": cname_obj, "namespace": cns, "labels": labels}
                if mmd.get("annotations"):
                    newmd["annotations"] = mmd["annotations"]
                body["metadata"] = newmd
                body.pop("status", None)
                cur = self.store.get(rt.key, cns, cname_obj)
                if cur is None:
                    self.api.create(rt, cns, body)
                else:
                    cl = cur["metadata"].get("labels") or {}
                    if cl.get(LABEL_BUNDLE) != bname or cl.get(LABEL_BUNDLE_NS) != bns:
                        dep.state = "ErrApplied"
                        dep.message = ('%s "%s" in namespace "%s" exists and cannot be imported into the current '
                                       'release: invalid ownership metadata' % (rt.kind, cname_obj, dns))
                        return
                    body["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
                    for f in ("finalizers", "ownerReferences"):
                        if cur["metadata"].get(f):
                            body["metadata"][f] = cur["metadata"][f]
                    self.api.update(rt, cns, cname_obj, body)
                want.add((rt.key, cns, cname_obj))
        except ApiError as e:
            dep.state, dep.message = "ErrApplied", e.message
            return
        old = delivered.get(cname, set())
        self._delete_copies(old - want)
        delivered[cname] = want
        dep.state, dep.message = "Ready", ""
        dep.namespaces = sorted({k[1] for k in want if k[1]})
        dep.resources = sorted(want)

    def _ensure_ns(self, ns, cluster, manifest):
        if self.store.get(NS_KEY, "", ns) is not None:
            return
        ns_rt = self.registry.by_key(NS_KEY)
        labels = {}
        if manifest is not None:
            labels.update((manifest.get("metadata") or {}).get("labels") or {})
        labels[LABEL_CLUSTER] = cluster
        try:
            self.api.create(ns_rt, "", {"apiVersion": "v1", "kind": "Namespace",
                                        "metadata": {"name": ns, "labels": labels}})
        except ApiError as e:
            if e.code != 409:
                raise

    def _delete_copies(self, refs):
        for k, ns, n in sorted(refs):
            if k == NS_KEY:
                continue  # Fleet does not delete namespaces unless deleteNamespace
            rt = self.registry.by_key(k)
            if rt is None:
                continue
            try:
                self.api.delete(rt, ns, n, {"propagationPolicy": "Background"})
            except ApiError:
                pass

    def _cleanup(self, key, keep):
        delivered = self.delivered.pop(key, {})
        if not keep:
            for refs in delivered.values():
                self._delete_copies(refs)

    # ------------------------------------------------------------ status
    def _write_status(self, brt, bundle, deployments):
        ns = bundle["metadata"]["namespace"]
        summary = {"desiredReady": 0, "ready": 0}
        non_ready = []
        for dep in sorted(deployments.values(), key=lambda x: x.cluster):  # targets sorted by cluster name
            summary["desiredReady"] += 1
            if dep.state == "Ready":
                summary["ready"] += 1
                continue
            field = SUMMARY_FIELD[dep.state]
            summary[field] = summary.get(field, 0) + 1
            if len(non_ready) < 10:  # summary.IncrementState keeps the first 10
                r = {"name": "%s/%s" % (ns, dep.cluster), "bundleState": dep.state}
                if dep.message:
                    r["message"] = dep.message
                non_ready.append(r)
        if non_ready:
            summary["nonReadyResources"] = non_ready
        message = ready_message(summary, "Cluster")
        ready = message == ""  # summary.SetReadyConditions
        display = {"readyClusters": "%d/%d" % (summary["ready"], summary["desiredReady"])}
        worst = max((r["bundleState"] for r in non_ready), key=STATE_RANK.get, default=None)
        if worst:
            display["state"] = worst
        gen = bundle["metadata"].get("generation")

        def apply(o):
            st = o.get("status") if isinstance(o.get("status"), dict) else {}
            conds = [c for c in st.get("conditions") or [] if isinstance(c, dict)]
            old = next((c for c in conds if c.get("type") == "Ready"), None)
            status_s = "True" if ready else "False"
            now = now_rfc3339()
            if old and old.get("status") == status_s and (old.get("message") or "") == message:
                cond = old
            else:
                cond = {"type": "Ready", "status": status_s, "lastUpdateTime": now,
                        "lastTransitionTime": old.get("lastTransitionTime", now)
                        if old and old.get("status") == status_s else now}
                if message:
                    cond["message"] = message
            conds = [c for c in conds if c.get("type") != "Ready"] + [cond]
            st["conditions"] = conds
            st["summary"] = summary
            st["display"] = display
            st["observedGeneration"] = gen
            o["status"] = st
        md = bundle["metadata"]
        self.api.mutate(brt, md["namespace"], md["name"], apply, subresource="status")

    # ------------------------------------------------------------ debug
    def debug(self, ns, name):
        return self.debug_state.get((ns, name))

    def debug_all(self):
        return {"bundles": [v for _, v in sorted(self.debug_state.items())]}


def _target_matches(t, cname, clabels, cgroups):
    """matcher.match: the target's criteria hold for the cluster together with one of its
    groups (or, for a cluster in no group, with group "" and no group labels)."""
    criteria = []
    if t.get("clusterName"):
        criteria.append(lambda g, gl: t["clusterName"] == cname)
    if t.get("clusterGroup"):
        criteria.append(lambda g, gl: t["clusterGroup"] == g)
    for field, use_group in (("clusterGroupSelector", True), ("clusterSelector", False)):
        if t.get(field) is not None:
            try:
                sel = label_selector_from_object(t[field])
            except ValueError:
                return False  # NewClusterMatcher fails: the bundle is ignored
            if use_group:
                criteria.append(lambda g, gl, sel=sel: sel.matches(gl))
            else:
                criteria.append(lambda g, gl, sel=sel: sel.matches(clabels))
    if not criteria:
        return False
    return any(all(c(g, gl) for c in criteria) for g, gl in (cgroups or [("", {})]))
