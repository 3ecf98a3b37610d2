"""The object store: all objects of all kinds, one global resourceVersion
counter, a bounded event history (for watch resume and consistent list
continuation) and the fan-out of events to watchers.

Concurrency model: one re-entrant lock (Store.lock). Every read-modify-write
of the API layer runs under it. Stored objects are never mutated after they
are committed (writers always commit a fresh dict), so readers may hand them
out without copying as long as they don't modify them. Watchers get events
through their own SimpleQueue, filled under the lock so ordering is exact.
"""
import collections
import queue
import threading

from .util import dumpb

CLOSE = object()  # sentinel put in a watcher queue to end the watch


class Event:
    """One change. obj is the new state (for DELETED: the last state with the
    deletion's resourceVersion); prev is the state before (None for ADDED)."""
    __slots__ = ("rv", "type", "key", "ns", "name", "obj", "prev", "_enc")

    def __init__(self, rv, etype, key, ns, name, obj, prev):
        self.rv = rv
        self.type = etype
        self.key = key
        self.ns = ns
        self.name = name
        self.obj = obj
        self.prev = prev
        self._enc = None

    def encoded(self, fmt, fn):
        """JSON bytes of fn(obj), computed once per format and shared by all watchers."""
        enc = self._enc
        if enc is None:
            enc = self._enc = {}
        b = enc.get(fmt)
        if b is None:
            b = enc[fmt] = dumpb(fn(self.obj))
        return b


class Watcher:
    def __init__(self, store, key, ns, match, min_rv=0):
        self.store = store
        self.key = key
        self.ns = ns            # None = all namespaces
        self.match = match      # None = everything, else fn(obj) -> bool
        self.min_rv = min_rv    # the RV the client started from: only newer events are delivered
        self.q = queue.SimpleQueue()
        self.closed = False
        self.close_after = None  # remaining events before the server closes it
        self.delivered = 0

    def offer(self, ev):
        if self.closed or ev.rv <= self.min_rv:
            return
        if self.ns is not None and ev.ns != self.ns:
            return
        m = self.match
        if m is None:
            self.q.put((ev.type, ev))
            return
        new_ok = ev.type != "DELETED" and m(ev.obj)
        old_ok = ev.prev is not None and m(ev.prev)
        if new_ok and old_ok:
            self.q.put(("MODIFIED", ev))
        elif new_ok:
            self.q.put(("ADDED", ev))
        elif old_ok:
            if ev.type == "DELETED":
                self.q.put(("DELETED", ev))
            else:
                gone = dict(ev.prev)
                md = dict(gone.get("metadata") or {})
                md["resourceVersion"] = str(ev.rv)
                gone["metadata"] = md
                self.q.put(("DELETED", Event(ev.rv, "DELETED", ev.key, ev.ns, ev.name, gone, ev.prev)))

    def close(self):
        if not self.closed:
            self.closed = True
            self.q.put((None, CLOSE))


class TooOld(Exception):
    def __init__(self, requested, oldest):
        super().__init__("too old resource version: %d (%d)" % (requested, oldest))
        self.requested = requested
        self.oldest = oldest


class Store:
    def __init__(self, history=10000):
        self.lock = threading.RLock()
        self.rv = 0
        self.data = {}          # key -> {ns: {name: obj}}
        self.history = collections.deque()
        self.history_max = max(1, int(history))
        self.floor = 0          # every event with rv > floor is in history
        self.watchers = {}      # key -> set(Watcher)
        self.listeners = []     # fn(event) called under the lock
        self.uid_index = {}     # uid -> (key, ns, name)
        self.owner_index = {}   # owner uid -> set((key, ns, name))
        self._advanced = threading.Condition(self.lock)
        self._rv_waiters = 0

    # ------------------------------------------------------------ reads
    def get(self, key, ns, name):
        b = self.data.get(key)
        if not b:
            return None
        nsd = b.get(ns or "")
        return nsd.get(name) if nsd else None

    def items(self, key, ns=None):
        """Objects of a resource, sorted like etcd keys (namespace, name)."""
        with self.lock:
            b = self.data.get(key)
            if not b:
                return []
            if ns is not None:
                nsd = b.get(ns)
                return [nsd[n] for n in sorted(nsd)] if nsd else []
            out = []
            for n in sorted(b):
                nsd = b[n]
                out.extend(nsd[x] for x in sorted(nsd))
            return out

    def count(self, key, ns=None):
        b = self.data.get(key)
        if not b:
            return 0
        if ns is not None:
            return len(b.get(ns) or ())
        return sum(len(v) for v in b.values())

    def namespaces_with_objects(self, ns):
        """Keys that hold at least one object in namespace ns."""
        return [k for k, b in self.data.items() if b.get(ns)]

    def by_uid(self, uid):
        return self.uid_index.get(uid)

    def dependents(self, owner_uid):
        return list(self.owner_index.get(owner_uid, ()))

    # ------------------------------------------------------------ writes (hold self.lock)
    def put(self, key, obj, prev):
        """Commit obj (a fresh dict the store now owns) with a new resourceVersion."""
        self.rv += 1
        rv = self.rv
        md = obj["metadata"]
        md["resourceVersion"] = str(rv)
        ns = md.get("namespace") or ""
        name = md["name"]
        self.data.setdefault(key, {}).setdefault(ns, {})[name] = obj
        self._index(key, ns, name, prev, obj)
        self._emit(Event(rv, "MODIFIED" if prev is not None else "ADDED", key, ns, name, obj, prev))
        return obj

    def remove(self, key, ns, name, last=None):
        """Delete an object; returns its last state (or `last`, e.g. the update that
        emptied the finalizers) carrying the deletion's resourceVersion."""
        ns = ns or ""
        b = self.data.get(key, {})
        nsd = b.get(ns)
        prev = nsd.pop(name) if nsd and name in nsd else None
        if prev is None:
            return None
        if not nsd:
            del b[ns]
        self.rv += 1
        gone = dict(last if last is not None else prev)
        md = dict(gone["metadata"])
        md["resourceVersion"] = str(self.rv)
        gone["metadata"] = md
        self._index(key, ns, name, prev, None)
        self._emit(Event(self.rv, "DELETED", key, ns, name, gone, prev))
        return gone

    def drop_key(self, key):
        with self.lock:
            self.data.pop(key, None)
            for w in list(self.watchers.pop(key, ())):
                w.close()

    def _index(self, key, ns, name, prev, new):
        ref = (key, ns, name)
        if prev is not None:
            pmd = prev["metadata"]
            if new is None:
                self.uid_index.pop(pmd.get("uid"), None)
            for o in pmd.get("ownerReferences") or ():
                s = self.owner_index.get(o.get("uid"))
                if s is not None:
                    s.discard(ref)
                    if not s:
                        del self.owner_index[o.get("uid")]
        if new is not None:
            nmd = new["metadata"]
            self.uid_index[nmd.get("uid")] = ref
            for o in nmd.get("ownerReferences") or ():
                self.owner_index.setdefault(o.get("uid"), set()).add(ref)

    def _emit(self, ev):
        if self._rv_waiters:
            self._advanced.notify_all()
        h = self.history
        h.append(ev)
        while len(h) > self.history_max:
            self.floor = h.popleft().rv
        ws = self.watchers.get(ev.key)
        if ws:
            for w in ws:
                w.offer(ev)
        for fn in self.listeners:
            fn(ev)

    def compact(self):
        with self.lock:
            self.history.clear()
            self.floor = self.rv

    def wait_for_rv(self, rv, timeout):
        """Block until the store has reached rv (True) or timeout seconds passed (False),
        like the watch cache's waitUntilFreshAndBlock."""
        with self.lock:
            self._rv_waiters += 1
            try:
                return self._advanced.wait_for(lambda: self.rv >= rv, timeout)
            finally:
                self._rv_waiters -= 1

    # ------------------------------------------------------------ history
    def events_since(self, rv):
        """History events with resourceVersion > rv, oldest first; TooOld if compacted away."""
        if rv < self.floor:
            raise TooOld(rv, self.floor + 1)
        out = []
        for ev in reversed(self.history):
            if ev.rv <= rv:
                break
            out.append(ev)
        out.reverse()
        return out

    def snapshot(self, key, ns, at_rv):
        """Objects of key (optionally one namespace) as they were at at_rv, sorted."""
        with self.lock:
            undo = [ev for ev in self.events_since(at_rv) if ev.key == key and (ns is None or ev.ns == ns)]
            cur = {}
            b = self.data.get(key) or {}
            for n, nsd in b.items():
                if ns is not None and n != ns:
                    continue
                for name, obj in nsd.items():
                    cur[(n, name)] = obj
        for ev in reversed(undo):
            k = (ev.ns, ev.name)
            if ev.prev is None:
                cur.pop(k, None)
            else:
                cur[k] = ev.prev
        return [cur[k] for k in sorted(cur)]

    # ------------------------------------------------------------ watch
    def watch(self, key, ns, match, since, min_rv=0):
        """Register a watcher. since=None: start with synthetic ADDED for the current
        state; else replay history after since (TooOld if compacted). Events at or
        below min_rv are never delivered (a start point ahead of the store waits).
        Returns (watcher, backlog[(type, Event)], rv_at_start)."""
        with self.lock:
            w = Watcher(self, key, ns, match, min_rv)
            backlog = []
            if since is None:
                for obj in self.items(key, ns):
                    if match is None or match(obj):
                        md = obj["metadata"]
                        ev = Event(int(md["resourceVersion"]), "ADDED", key, md.get("namespace") or "",
                                   md["name"], obj, None)
                        backlog.append(("ADDED", ev))
            else:
                collect = _Collector()
                collect.ns, collect.match, collect.closed, collect.q, collect.min_rv = ns, match, False, collect, 0
                for ev in self.events_since(since):
                    if ev.key == key:
                        Watcher.offer(collect, ev)
                backlog = collect.items
            self.watchers.setdefault(key, set()).add(w)
            return w, backlog, self.rv

    def unwatch(self, w):
        with self.lock:
            s = self.watchers.get(w.key)
            if s:
                s.discard(w)

    def bookmark(self, w):
        """Queue a BOOKMARK at the current revision behind every event already queued
        (none while the store is still behind the watch's start)."""
        with self.lock:
            if not w.closed and self.rv >= w.min_rv:
                w.q.put(("BOOKMARK", self.rv))

    def open_watches(self):
        with self.lock:
            return {k: len(v) for k, v in self.watchers.items() if v}

    def all_watchers(self):
        with self.lock:
            return [w for s in self.watchers.values() for w in s]


class _Collector:
    """Stand-in for Watcher while replaying history into a list."""

    def __init__(self):
        self.items = []

    def put(self, item):
        self.items.append(item)
