"""Watch streaming: HTTP 200, chunked, headers flushed at once, one compact
JSON WatchEvent + "\\n" per event; synthetic ADDED for resourceVersion ""/"0",
resume from history, 410 as an ERROR event, BOOKMARKs, timeoutSeconds,
sendInitialEvents, Table/PartialObjectMetadata objects, admin-driven close.

Each watch runs in its request's thread and reads its own queue, which the
store fills under its lock. Event JSON is encoded once per output format and
shared by all watchers (store.Event.encoded).
"""
import queue
import random
import select
import time

from . import errors, tables
from .store import CLOSE, Event, TooOld
from .util import dumpb, parse_bool

BOOKMARK_INTERVAL = 2.0     # seconds of idleness before a BOOKMARK (when allowed)
LIVENESS_INTERVAL = 5.0     # how often an idle watch checks that its client is still there
MAX_BATCH = 512             # events written per chunk at most
COALESCE = 0.002            # seconds a busy watch waits for more events before writing


class WatchFormat:
    """How objects are rendered in this watch: plain JSON, PartialObjectMetadata or Table."""

    def __init__(self, rt, version, api, kind="json", include="Metadata", table_version="v1", pom_version="v1"):
        self.rt = rt
        self.version = version
        self.api = api
        self.kind = kind
        self.include = include
        self.table_version = table_version
        self.pom_version = pom_version
        self.headers_sent = False
        if kind == "json":
            self.key = ("json", version)
            self.fn = lambda o: api.output(rt, o, version)
        elif kind == "pom":
            self.key = ("pom", pom_version)
            self.fn = self._pom
        else:
            self.key = ("table", version, include, table_version, id(rt))
            self.fn = lambda o: tables.table(rt, version, [o], o["metadata"].get("resourceVersion"),
                                             include=include, headers=False, table_version=table_version)

    def _pom(self, o):
        p = tables.pom(o)
        if self.pom_version != "v1":
            p["apiVersion"] = "meta.k8s.io/" + self.pom_version
        return p

    def event_line(self, etype, ev):
        if self.kind == "table" and not self.headers_sent:
            self.headers_sent = True
            o = ev.obj
            objb = dumpb(tables.table(self.rt, self.version, [o], o["metadata"].get("resourceVersion"),
                                      include=self.include, headers=True, table_version=self.table_version))
        else:
            objb = ev.encoded(self.key, self.fn)
        return b'{"type":"' + etype.encode() + b'","object":' + objb + b"}\n"

    def bookmark_line(self, rv, initial_end=False):
        md = {"resourceVersion": str(rv)}
        if initial_end:
            md["annotations"] = {"k8s.io/initial-events-end": "true"}
        if self.kind == "pom":
            obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/" + self.pom_version, "metadata": md}
        elif self.kind == "table":
            obj = {"kind": "Table", "apiVersion": "meta.k8s.io/" + self.table_version, "metadata": md,
                   "columnDefinitions": None, "rows": []}
        else:
            obj = {"kind": self.rt.kind, "apiVersion": self.rt.api_version(self.version), "metadata": md}
        return b'{"type":"BOOKMARK","object":' + dumpb(obj) + b"}\n"


def _chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def plan(store, params):
    """Validate watch parameters. Returns (since, initial_events) where since=None
    means 'synthetic ADDED for the current state'."""
    rv = params.get("resourceVersion")
    sie = params.get("sendInitialEvents")
    bookmarks = parse_bool(params.get("allowWatchBookmarks", "")) is True
    if sie is not None:
        sie_b = parse_bool(sie)
        if sie_b is None:
            raise errors.bad_request("invalid sendInitialEvents: %s" % sie)
        if params.get("resourceVersionMatch") != "NotOlderThan":
            raise errors.invalid("ListOptions", "meta.k8s.io", "", [errors.forbidden_field(
                "sendInitialEvents", "sendInitialEvents is forbidden for watch unless resourceVersionMatch is "
                "set to NotOlderThan")])
        if sie_b and not bookmarks:
            raise errors.invalid("ListOptions", "meta.k8s.io", "", [errors.forbidden_field(
                "allowWatchBookmarks", "allowWatchBookmarks must be set to true when sendInitialEvents is true")])
        if sie_b:
            return None, True
        if rv in (None, "", "0"):
            return store.rv, False
    elif params.get("resourceVersionMatch"):
        raise errors.bad_request("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
    if rv in (None, "", "0"):
        return None, False
    try:
        n = int(rv)
        if n < 0:
            raise ValueError
    except ValueError:
        raise errors.bad_request("invalid resource version: %s" % rv)
    return n, False


def serve(handler, store, rt, ns, match, fmt, params, on_start=None):
    """Run one watch on an HTTP handler (BaseHTTPRequestHandler) until it ends."""
    since, initial_events = plan(store, params)
    bookmarks = parse_bool(params.get("allowWatchBookmarks", "")) is True
    ts = params.get("timeoutSeconds")
    try:
        timeout = float(ts) if ts not in (None, "") else random.uniform(1800, 3600)
    except ValueError:
        raise errors.bad_request("invalid timeoutSeconds: %s" % ts)
    w = None
    too_old = None
    try:
        w, backlog, rv0 = store.watch(rt.key, ns, match, since)
    except TooOld as e:
        too_old = e
    if on_start:
        on_start(200)
    handler.send_raw_headers(200, [("Content-Type", "application/json"),
                                   ("Transfer-Encoding", "chunked"),
                                   ("Cache-Control", "no-cache, private")])
    wfile = handler.wfile
    if too_old is not None:
        st = errors.expired(str(too_old)).status()
        try:
            wfile.write(_chunk(b'{"type":"ERROR","object":' + dumpb(st) + b"}\n") + b"0\r\n\r\n")
        except OSError:
            handler.close_connection = True
        return
    handler.server.emulator.watch_opened(w)
    ok = True
    closed_by_admin = False
    try:
        out = []
        for etype, ev in backlog:
            out.append(fmt.event_line(etype, ev))
            if len(out) >= MAX_BATCH:
                wfile.write(_chunk(b"".join(out)))
                out = []
        if initial_events:
            out.append(fmt.bookmark_line(rv0, initial_end=True))
        if out:
            wfile.write(_chunk(b"".join(out)))
        if bookmarks and not initial_events:
            store.bookmark(w)
        deadline = time.monotonic() + timeout
        last_check = time.monotonic()
        sock = handler.connection
        q = w.q
        busy = False
        last_write = 0.0
        while True:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                break
            wait = min(remaining, BOOKMARK_INTERVAL if bookmarks else LIVENESS_INTERVAL)
            try:
                item = q.get(timeout=wait)
            except queue.Empty:
                if bookmarks:
                    store.bookmark(w)
                if _client_gone(sock):
                    ok = False
                    break
                continue
            if busy and q.empty():
                time.sleep(COALESCE)  # under load: let a few more events queue up per write
            out = []
            stop = False
            while True:
                etype, ev = item
                if ev is CLOSE:
                    stop = closed_by_admin = True
                    break
                if etype == "BOOKMARK":
                    if bookmarks:
                        out.append(fmt.bookmark_line(ev))
                else:
                    out.append(fmt.event_line(etype, ev))
                    if w.close_after is not None:
                        w.close_after -= 1
                        if w.close_after <= 0:
                            stop = closed_by_admin = True
                            break
                if len(out) >= MAX_BATCH:
                    break
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            if out:
                wfile.write(_chunk(b"".join(out)))
            t_now = time.monotonic()
            busy = t_now - last_write < 0.005
            last_write = t_now
            if stop:
                break
            if time.monotonic() - last_check > LIVENESS_INTERVAL:
                last_check = time.monotonic()
                if _client_gone(sock):
                    ok = False
                    break
        if ok:
            wfile.write(b"0\r\n\r\n")
    except (OSError, ValueError):
        ok = False
    finally:
        w.closed = True
        store.unwatch(w)
        handler.server.emulator.watch_closed(w)
    if not ok or closed_by_admin:
        handler.close_connection = True


def _client_gone(sock):
    """A watch client never sends anything: readable means EOF/close_notify."""
    try:
        r, _, _ = select.select([sock], [], [], 0)
        return bool(r)
    except (OSError, ValueError):
        return True


def synthetic_event(etype, obj):
    md = obj["metadata"]
    return Event(int(md.get("resourceVersion") or 0), etype, None, md.get("namespace") or "", md["name"], obj, None)
