"""Background controllers that the real control plane runs:

- garbage collector: Background cascade by ownerReferences (matched by uid;
  a dependent goes once all its owners are gone), foregroundDeletion and
  orphan finalizers (so nothing hangs);
- namespace controller: deleting a namespace deletes everything in it, then
  removes the namespace;
- CRD cleanup: deleting a CRD deletes all its custom resources, then the CRD
  (which stops serving the resource).

One daemon thread fed by a store listener (which only queues work, because it
runs under the store lock).
"""
import collections
import sys
import threading
import traceback

from .errors import ApiError

NS_KEY = ("", "namespaces")
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


class Controllers:
    def __init__(self, api):
        self.api = api
        self.store = api.store
        self.registry = api.registry
        self._tasks = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.store.listeners.append(self._on_event)
        self._thread = threading.Thread(target=self._run, name="controllers", daemon=True)

    def start(self):
        self._thread.start()

    # ------------------------------------------------------------ listener (under store lock)
    def _on_event(self, ev):
        t = self._tasks
        obj = ev.obj
        md = obj["metadata"]
        before = len(t)
        if ev.type == "DELETED":
            uid = md.get("uid")
            if uid in self.store.owner_index:
                t.append(("owner_gone", uid))
            for o in md.get("ownerReferences") or ():
                t.append(("owner_check", o.get("uid")))
            if ev.ns:
                nso = self.store.get(NS_KEY, "", ev.ns)
                if nso is not None and nso["metadata"].get("deletionTimestamp"):
                    t.append(("ns", ev.ns))
            rt = self.registry.by_key(ev.key)
            if rt is not None and rt.terminating and rt.crd_name:
                t.append(("crd", rt.crd_name))
        else:
            refs = md.get("ownerReferences")
            if refs and (ev.prev is None or ev.prev["metadata"].get("ownerReferences") != refs):
                t.append(("check", ev.key, ev.ns, ev.name))
            if md.get("deletionTimestamp"):
                fins = md.get("finalizers") or ()
                if "foregroundDeletion" in fins or "orphan" in fins:
                    t.append(("propagate", ev.key, ev.ns, ev.name))
                if ev.key == NS_KEY:
                    t.append(("ns", ev.name))
                elif ev.key == CRD_KEY:
                    t.append(("crd", ev.name))
        if len(t) != before:
            self._idle.clear()
            self._wake.set()

    # ------------------------------------------------------------ loop
    def _run(self):
        while True:
            self._wake.wait()
            self._wake.clear()
            seen = set()
            while self._tasks:
                task = self._tasks.popleft()
                if task in seen:
                    continue
                seen.add(task)
                try:
                    getattr(self, "_do_" + task[0])(*task[1:])
                except ApiError:
                    pass
                except Exception:  # keep the controller alive, but say why
                    traceback.print_exc(file=sys.stderr)
            if not self._tasks:
                self._idle.set()

    def wait_idle(self, timeout=5.0):
        return self._idle.wait(timeout)

    # ------------------------------------------------------------ garbage collector
    def _owner_state(self, ref, dep_ns):
        """'present', 'absent', 'deleting-foreground' or 'unknown' for one ownerReference."""
        rt = self.registry.by_api_version_kind(ref.get("apiVersion") or "", ref.get("kind") or "")
        if rt is None:
            return "unknown"
        if rt.namespaced and not dep_ns:
            return "absent"
        owner = self.store.get(rt.key, dep_ns if rt.namespaced else "", ref.get("name") or "")
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return "absent"
        omd = owner["metadata"]
        if omd.get("deletionTimestamp") and "foregroundDeletion" in (omd.get("finalizers") or ()):
            return "deleting-foreground"
        return "present"

    def _do_check(self, key, ns, name):
        obj = self.store.get(key, ns, name)
        if obj is None:
            return
        md = obj["metadata"]
        if md.get("deletionTimestamp"):
            return
        refs = md.get("ownerReferences") or []
        if not refs:
            return
        states = [self._owner_state(r, ns) for r in refs]
        if "present" in states or "unknown" in states:
            return
        rt = self.registry.by_key(key)
        if rt is None:
            return
        policy = "Foreground" if "deleting-foreground" in states else "Background"
        self.api.delete(rt, ns, name, {"propagationPolicy": policy,
                                       "preconditions": {"uid": md.get("uid")}})

    def _do_owner_gone(self, uid):
        for key, ns, name in self.store.dependents(uid):
            self._do_check(key, ns, name)

    def _do_owner_check(self, uid):
        ref = self.store.by_uid(uid)
        if ref is not None:
            self._do_propagate(*ref)

    def _do_propagate(self, key, ns, name):
        obj = self.store.get(key, ns, name)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        rt = self.registry.by_key(key)
        if rt is None:
            return
        md = obj["metadata"]
        uid = md.get("uid")
        fins = md.get("finalizers") or []
        if "orphan" in fins:
            for dkey, dns, dname in self.store.dependents(uid):
                drt = self.registry.by_key(dkey)
                if drt is None:
                    continue

                def strip(o):
                    o["metadata"]["ownerReferences"] = [r for r in o["metadata"].get("ownerReferences") or []
                                                        if r.get("uid") != uid]
                self.api.mutate(drt, dns, dname, strip)
            self.api.remove_finalizer(rt, ns, name, "orphan")
        elif "foregroundDeletion" in fins:
            blocking = False
            for dkey, dns, dname in self.store.dependents(uid):
                self._do_check(dkey, dns, dname)
                dep = self.store.get(dkey, dns, dname)
                if dep is not None:
                    for r in dep["metadata"].get("ownerReferences") or []:
                        if r.get("uid") == uid and r.get("blockOwnerDeletion"):
                            blocking = True
            if not blocking:
                self.api.remove_finalizer(rt, ns, name, "foregroundDeletion")

    # ------------------------------------------------------------ namespaces
    def _do_ns(self, name):
        nso = self.store.get(NS_KEY, "", name)
        if nso is None or not nso["metadata"].get("deletionTimestamp"):
            return
        remaining = False
        for key in self.store.namespaces_with_objects(name):
            rt = self.registry.by_key(key)
            if rt is None or not rt.namespaced:
                continue
            for obj in self.store.items(key, name):
                remaining = True
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.api.delete(rt, name, obj["metadata"]["name"], {"propagationPolicy": "Background"})
                except ApiError:
                    pass
        if remaining and self.store.namespaces_with_objects(name):
            return
        ns_rt = self.registry.by_key(NS_KEY)
        self.api.update(ns_rt, "", name, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                                          "spec": {"finalizers": []}}, subresource="finalize")

    # ------------------------------------------------------------ CRDs
    def _do_crd(self, name):
        crd = self.store.get(CRD_KEY, "", name)
        if crd is None or not crd["metadata"].get("deletionTimestamp"):
            return
        spec = crd.get("spec") or {}
        key = (spec.get("group"), (spec.get("names") or {}).get("plural"))
        rt = self.registry.by_key(key)
        if rt is not None:
            for obj in self.store.items(key):
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.api.delete(rt, obj["metadata"].get("namespace") or "", obj["metadata"]["name"],
                                    {"propagationPolicy": "Background"})
                except ApiError:
                    pass
        if self.store.count(key):
            return
        crd_rt = self.registry.by_key(CRD_KEY)
        self.api.remove_finalizer(crd_rt, "", name, CRD_FINALIZER)
