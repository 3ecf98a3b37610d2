"""Watch streaming: HTTP 200, chunked, headers flushed at once, one compact
JSON WatchEvent + "\\n" per event; synthetic ADDED for resourceVersion ""/"0",
resume from history, 410 as an ERROR event, BOOKMARKs, timeoutSeconds,
sendInitialEvents, Table/PartialObjectMetadata objects, admin-driven close,
and the splitChunks fault (each event written as 2-3 chunks).

Start points as the cacher has them: a watch from RV N delivers only events
newer than N, also when N is ahead of the store (it then simply waits);
sendInitialEvents=true with an N the store has not reached waits up to 3 s
and then ends with an ERROR event carrying 504 ResourceVersionTooLarge.

Bookmarks (allowWatchBookmarks=true) follow the cacher's schedule: every
bookmark interval (--bookmark-interval, default 60 s, like the cacher's
once a minute) and once 2 s before the watch's deadline, never with an RV
below the watch's start; none at start unless sendInitialEvents asks for one.

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

DEFAULT_BOOKMARK_INTERVAL = 60.0  # seconds (cacher: defaultBookmarkFrequency = 1 minute)
PRETIMEOUT_BOOKMARK = 2.0   # a bookmark this long before the deadline (cacher: nextBookmarkTime)
LIVENESS_INTERVAL = 5.0     # how often an idle watch checks that its client is still there
MAX_BATCH = 512             # events written per chunk at most
COALESCE = 0.002            # seconds a busy watch waits for more events before writing
FRESH_TIMEOUT = 3.0         # waitUntilFreshAndBlock's blockTimeout
SPLIT_PAUSE = 0.001         # pause between the pieces of a split event, so they travel apart


class Settings:
    """Watch behaviour the command line and the admin API can change at run time."""

    def __init__(self, bookmark_interval=DEFAULT_BOOKMARK_INTERVAL, split_chunks=False):
        self.bookmark_interval = float(bookmark_interval)
        self.split_chunks = bool(split_chunks)


class WatchFormat:
    """How objects are rendered in this watch: plain JSON, PartialObjectMetadata or Table."""

    def __init__(self, rt, version, api, kind="json", include="Metadata", table_version="v1", pom_version="v1"):
        self.fails = kind == "pomlist"  # the transform to PartialObjectMetadataList fails on every event
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
        elif kind in ("pom", "pomlist"):
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
        if self.kind in ("pom", "pomlist"):
            obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/" + self.pom_version, "metadata": md}
        elif self.kind == "table":
            obj = {"kind": "Table", "apiVersion": "meta.k8s.io/" + self.table_version, "metadata": md,
                   "columnDefinitions": None, "rows": []}
        else:
            obj = {"kind": self.rt.kind, "apiVersion": self.rt.api_version(self.version), "metadata": md}
        return b'{"type":"BOOKMARK","object":' + dumpb(obj) + b"}\n"


def _chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def _pieces(line):
    """An event line cut at 1-2 random byte offsets (anywhere, even inside a UTF-8 sequence)."""
    if len(line) < 3:
        return [line]
    cuts = sorted(random.sample(range(1, len(line)), random.choice((1, 2))))
    return [line[a:b] for a, b in zip([0] + cuts, cuts + [len(line)])]


class _Writer:
    """Writes event lines as HTTP chunks: batched, or split across chunk boundaries."""

    def __init__(self, wfile, split):
        self.wfile = wfile
        self.split = split

    def write(self, lines):
        if not lines:
            return
        if not self.split:
            self.wfile.write(_chunk(b"".join(lines)))
            return
        for line in lines:
            for piece in _pieces(line):
                self.wfile.write(_chunk(piece))
                time.sleep(SPLIT_PAUSE)


def plan(store, params):
    """Validate watch parameters. Returns (since, initial_events, min_rv): since=None
    means 'synthetic ADDED for the current state'; min_rv is the RV the client asked
    to start after (events and bookmarks at or below it are never sent)."""
    rv = params.get("resourceVersion")
    sie = params.get("sendInitialEvents")
    bookmarks = parse_bool(params.get("allowWatchBookmarks", "")) is True
    n = None
    if rv not in (None, "", "0"):
        try:
            n = int(rv)
            if n < 0:
                raise ValueError
        except ValueError:
            raise errors.bad_request("invalid resource version: %s" % rv)
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
            return None, True, n or 0
        if n is None:
            return store.rv, False, store.rv
    elif params.get("resourceVersionMatch"):
        raise errors.bad_request("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
    if n is None:
        return None, False, 0
    return n, False, n


def watch_timeout(params):
    """timeoutSeconds; absent or 0 means the server's: random in [minRequestTimeout, 2x) = [1800, 3600) s."""
    ts = params.get("timeoutSeconds")
    if ts in (None, ""):
        return random.uniform(1800, 3600)
    try:
        t = int(ts)
    except ValueError:
        raise errors.bad_request("invalid timeoutSeconds: %s" % ts)
    return t if t != 0 else random.uniform(1800, 3600)


class _Bookmarks:
    """The cacher's bookmark schedule for one watch."""

    def __init__(self, settings, start, deadline):
        self.settings = settings
        self.deadline = deadline
        self.next = self._after(start)

    def _after(self, now):
        t = min(now + self.settings.bookmark_interval, self.deadline - PRETIMEOUT_BOOKMARK)
        return t if t >= now else None

    def due(self, now):
        return self.next is not None and now >= self.next

    def sent(self, now):
        self.next = self._after(now)


def serve(handler, store, rt, ns, match, fmt, params, settings, split=False, on_start=None):
    """Run one watch on an HTTP handler (BaseHTTPRequestHandler) until it ends."""
    since, initial_events, min_rv = plan(store, params)
    bookmarks = parse_bool(params.get("allowWatchBookmarks", "")) is True
    timeout = watch_timeout(params)
    w = None
    failed = None
    if initial_events and min_rv > store.rv and not store.wait_for_rv(min_rv, FRESH_TIMEOUT):
        failed = errors.timeout_too_large_rv(min_rv, store.rv).status()
    else:
        try:
            w, backlog, rv0 = store.watch(rt.key, ns, match, since, min_rv)
        except TooOld as e:
            failed = errors.expired(str(e)).status()
    emulator = handler.server.emulator
    ended = w is None

    def end():
        """Take the watch out of the store and the admin listing (idempotent). Done before
        the client can see the stream end, as registering is done before it sees the 200:
        /emulator/v1/watches never lags what the client has seen."""
        nonlocal ended
        if not ended:
            ended = w.closed = True     # w.closed may already be set: an admin close
            store.unwatch(w)
            emulator.watch_closed(w)

    if w is not None:
        emulator.watch_opened(w)
    try:
        if on_start:
            on_start(200)
        handler.send_raw_headers(200, [("Content-Type", "application/json"),
                                       ("Transfer-Encoding", "chunked"),
                                       ("Cache-Control", "no-cache, private")])
    except BaseException:
        end()
        raise
    wfile = handler.wfile
    if failed is not None:
        try:
            wfile.write(_chunk(b'{"type":"ERROR","object":' + dumpb(failed) + b"}\n") + b"0\r\n\r\n")
        except OSError:
            handler.close_connection = True
        return
    out_w = _Writer(wfile, split or settings.split_chunks)
    ok = True
    closed_by_admin = False
    try:
        start = time.monotonic()
        deadline = start + timeout
        schedule = _Bookmarks(settings, start, deadline) if bookmarks and not initial_events else None
        out = []
        stop = False
        for etype, ev in backlog:
            if fmt.fails:
                stop = True
                break
            out.append(fmt.event_line(etype, ev))
            if len(out) >= MAX_BATCH:
                out_w.write(out)
                out = []
        if initial_events and not stop:
            out.append(fmt.bookmark_line(rv0, initial_end=True))
            schedule = _Bookmarks(settings, start, deadline)
        out_w.write(out)
        last_check = time.monotonic()
        sock = handler.connection
        q = w.q
        busy = False
        last_write = 0.0
        while not stop:
            now = time.monotonic()
            if now >= deadline:
                break
            if schedule is not None and schedule.due(now):
                store.bookmark(w)
                schedule.sent(now)
            wait = min(deadline - now, LIVENESS_INTERVAL)
            if schedule is not None and schedule.next is not None:
                wait = min(wait, max(0.0, schedule.next - now))
            try:
                item = q.get(timeout=wait)
            except queue.Empty:
                if _client_gone(sock):
                    ok = False
                    break
                continue
            if busy and q.empty():
                time.sleep(COALESCE)  # under load: let a few more events queue up per write
            out = []
            while True:
                etype, ev = item
                if ev is CLOSE:
                    stop = closed_by_admin = True
                    break
                if fmt.fails:  # as=PartialObjectMetadataList cannot render a watch event: the stream ends
                    stop = True
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
            out_w.write(out)
            t_now = time.monotonic()
            busy = t_now - last_write < 0.005
            last_write = t_now
            if time.monotonic() - last_check > LIVENESS_INTERVAL:
                last_check = time.monotonic()
                if _client_gone(sock):
                    ok = False
                    break
        if ok:
            end()
            wfile.write(b"0\r\n\r\n")
    except (OSError, ValueError):
        ok = False
    finally:
        end()
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
