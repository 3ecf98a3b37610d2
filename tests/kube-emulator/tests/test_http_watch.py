"""Raw HTTP: watch streams (framing, resume, 410, bookmarks, selectors, timeouts)."""

import json
import re
import select
import threading
import time

import pytest

from emu_helpers import assert_status, b64, core, install_crd, ns_path, ok, q, rv, widget


@pytest.fixture(scope="module")
def emu(module_emulator):
    e = module_emulator()
    install_crd(e)
    return e


def cm(name, data=None, **meta):
    m = {"name": name}
    m.update(meta)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": m, "data": data or {"k": "v"}}


def post(emu, path, obj):
    return ok(emu.api("POST", path, obj), 201)


def current_rv(emu, path=None):
    return ok(emu.api("GET", path or core("default", "configmaps")))["metadata"]["resourceVersion"]


# --------------------------------------------------------------------------------------------
# Socket-level chunked decoding


class RawChunkedReader:
    """Minimal HTTP/1.1 client over a raw (TLS) socket that returns the chunks as sent."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.recvs = 0
        self.chunks_over_several_recvs = 0  # chunk payloads that arrived in pieces

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.recvs += 1
        self.buf += data

    def read_until(self, sep):
        while sep not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(sep)
        return head

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self):
        head = self.read_until(b"\r\n\r\n").decode()
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def read_chunk(self):
        """Return the next chunk's payload, b"" for the terminating zero-size chunk."""
        size_line = self.read_until(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        before = self.recvs
        data = self.read_exact(size)
        if self.recvs - before >= 1 and size > 0:
            self.chunks_over_several_recvs += 1
        assert self.read_exact(2) == b"\r\n", "chunk not terminated by CRLF"
        if size == 0:
            return b""
        return data


def raw_get(emu, path):
    s = emu.raw_socket(timeout=30)
    req = (f"GET {path} HTTP/1.1\r\nHost: {emu.host}:{emu.port}\r\n"
           f"Authorization: Bearer {emu.token}\r\nAccept: application/json\r\n"
           f"User-Agent: raw-test\r\n\r\n")
    s.sendall(req.encode())
    return s, RawChunkedReader(s)


def test_watch_framing_across_chunk_boundaries(emu):
    start = current_rv(emu)
    # Objects big enough that one event cannot fit in a single TLS record / write.
    big = "x" * 300_000
    n_small = 50
    post(emu, core("default", "configmaps"), cm("frame-big-1", {"blob": big}))
    for i in range(n_small):
        post(emu, core("default", "configmaps"), cm(f"frame-{i}", {"i": str(i)}))
    post(emu, core("default", "configmaps"), cm("frame-big-2", {"blob": big + "y"}))
    post(emu, core("default", "configmaps"), cm("frame-end"))
    sock, rd = raw_get(emu, q(core("default", "configmaps"), watch="true", resourceVersion=start,
                              timeoutSeconds=30))
    try:
        status, headers = rd.read_head()
        assert status == 200
        assert headers.get("transfer-encoding") == "chunked", headers
        assert headers.get("content-type", "").startswith("application/json")
        chunks, stream, lines = [], b"", []
        while not any(b'"frame-end"' in ln for ln in lines):
            c = rd.read_chunk()
            assert c, "stream ended early"
            chunks.append(c)
            stream += c
            *complete, stream = stream.split(b"\n")
            lines += complete
        assert stream == b"", "data after the sentinel event's newline"
    finally:
        sock.close()
    events = [json.loads(ln) for ln in lines]  # every line is exactly one complete JSON object
    assert all(set(e) == {"type", "object"} for e in events)
    names = [e["object"]["metadata"]["name"] for e in events]
    assert names == ["frame-big-1"] + [f"frame-{i}" for i in range(n_small)] + ["frame-big-2", "frame-end"]
    assert events[0]["object"]["data"]["blob"] == big
    assert events[-2]["object"]["data"]["blob"] == big + "y"
    # Compact encoding: no pretty-printing newlines inside an event.
    assert all(b"\n" not in ln for ln in lines)
    # Chunk boundaries are not event boundaries: several events share a chunk (batched
    # backlog), and the 300 kB events arrive over several TLS records / recv() calls and
    # are reassembled by the chunk decoder before the line split.
    assert any(c.count(b"\n") > 1 for c in chunks), [c.count(b"\n") for c in chunks]
    assert rd.chunks_over_several_recvs >= 1
    # Every chunk payload is non-empty and the stream is not terminated yet (watch still open).
    assert all(chunks)


def test_idle_watch_headers_arrive_before_events(emu):
    sock, rd = raw_get(emu, q(core("default", "configmaps"), watch="true",
                              resourceVersion=current_rv(emu), timeoutSeconds=30))
    try:
        # Nothing has happened yet, but the status line and headers must already be flushed.
        status, headers = rd.read_head()
        assert status == 200 and headers.get("transfer-encoding") == "chunked"
        post(emu, core("default", "configmaps"), cm("after-head"))
        line = b""
        while b"\n" not in line:
            line += rd.read_chunk()
        ev = json.loads(line.split(b"\n")[0])
        assert ev["type"] == "ADDED" and ev["object"]["metadata"]["name"] == "after-head"
    finally:
        sock.close()


# --------------------------------------------------------------------------------------------
# Resume, initial state, 410


def test_watch_without_rv_sends_synthetic_added_then_changes(emu):
    post(emu, ns_path("default", "widgets"), widget("init-a", labels={"set": "init"}))
    post(emu, ns_path("default", "widgets"), widget("init-b", labels={"set": "init"}))
    s = emu.open_stream(q(ns_path("default", "widgets"), watch="true", labelSelector="set=init",
                          timeoutSeconds=20))
    try:
        first = s.events(2)
        assert sorted((e["type"], e["object"]["metadata"]["name"]) for e in first) == \
            [("ADDED", "init-a"), ("ADDED", "init-b")]
        ok(emu.api("PATCH", ns_path("default", "widgets", "init-a"), {"spec": {"size": 8}},
                   {"Content-Type": "application/merge-patch+json"}))
        ev = s.next_event()
        assert ev["type"] == "MODIFIED" and ev["object"]["spec"]["size"] == 8
    finally:
        s.close()


def test_watch_resume_delivers_exactly_later_events(emu):
    a = post(emu, core("default", "configmaps"), cm("res-a"))
    mid = a["metadata"]["resourceVersion"]
    b = post(emu, core("default", "configmaps"), cm("res-b"))
    a2 = ok(emu.api("PATCH", core("default", "configmaps", "res-a"), {"data": {"k": "2"}},
                    {"Content-Type": "application/merge-patch+json"}))
    d = ok(emu.api("DELETE", core("default", "configmaps", "res-b")))
    post(emu, core("default", "configmaps"), cm("res-end"))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=mid, timeoutSeconds=20))
    try:
        evs = []
        while not evs or evs[-1]["object"]["metadata"]["name"] != "res-end":
            ev = s.next_event()
            assert ev is not None
            evs.append(ev)
    finally:
        s.close()
    got = [(e["type"], e["object"]["metadata"]["name"]) for e in evs]
    assert got == [("ADDED", "res-b"), ("MODIFIED", "res-a"), ("DELETED", "res-b"), ("ADDED", "res-end")]
    assert evs[0]["object"]["metadata"]["resourceVersion"] == b["metadata"]["resourceVersion"]
    assert evs[1]["object"]["metadata"]["resourceVersion"] == a2["metadata"]["resourceVersion"]
    # DELETED carries the last state with a new resourceVersion
    assert rv(evs[2]["object"]) > rv(evs[1]["object"])
    assert evs[2]["object"]["metadata"]["name"] == "res-b"
    # built-in kinds answer DELETE with a Success Status (CRs return the object)
    assert d["kind"] == "Status" and d["status"] == "Success"
    assert d["details"]["name"] == "res-b" and d["details"]["kind"] == "configmaps"


def test_watch_too_old_rv_gets_error_410_event(emulator):
    emu = emulator(history=5)
    first = post(emu, core("default", "configmaps"), cm("h0"))
    for i in range(1, 12):
        post(emu, core("default", "configmaps"), cm(f"h{i}"))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true",
                          resourceVersion=first["metadata"]["resourceVersion"], timeoutSeconds=20))
    try:
        assert s.status == 200
        evs = s.read_all()  # ERROR event, then the server ends the stream
    finally:
        s.close()
    assert len(evs) == 1, evs
    assert evs[0]["type"] == "ERROR"
    st = evs[0]["object"]
    assert st["kind"] == "Status" and st["code"] == 410 and st["reason"] == "Expired"
    assert st["status"] == "Failure" and "too old resource version" in st["message"]
    # Within the window: fine.
    recent = ok(emu.api("GET", core("default", "configmaps", "h9")))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true",
                          resourceVersion=recent["metadata"]["resourceVersion"], timeoutSeconds=1))
    try:
        names = [e["object"]["metadata"]["name"] for e in s.read_all()]
    finally:
        s.close()
    assert names == ["h10", "h11"]


def test_list_with_compacted_exact_rv_is_410(emulator):
    emu = emulator()
    old = post(emu, core("default", "configmaps"), cm("c0"))
    post(emu, core("default", "configmaps"), cm("c1"))
    assert emu.admin("POST", "/emulator/v1/compact").status == 200
    r = emu.api("GET", q(core("default", "configmaps"), resourceVersion=old["metadata"]["resourceVersion"],
                         resourceVersionMatch="Exact"))
    st = assert_status(r, 410, "Expired")
    assert st["message"] == "The resourceVersion for the provided list is too old."


def test_watch_from_future_rv_does_not_replay_history(emu):
    # The cacher starts a watch from RV N at N even when it has not got there yet: it waits, and
    # delivers only events newer than N (processInterval drops the rest). No ERROR event.
    post(emu, core("default", "configmaps"), cm("future-old"))
    now = int(current_rv(emu))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=str(now + 2),
                          timeoutSeconds=20))
    try:
        assert s.status == 200 and s.headers.get("transfer-encoding") == "chunked"
        post(emu, core("default", "configmaps"), cm("future-1"))   # now+1: not delivered
        post(emu, core("default", "configmaps"), cm("future-2"))   # now+2: not delivered
        post(emu, core("default", "configmaps"), cm("future-3"))   # now+3: the first event
        ev = s.next_event()
    finally:
        s.close()
    assert ev["type"] == "ADDED" and ev["object"]["metadata"]["name"] == "future-3", ev
    assert int(ev["object"]["metadata"]["resourceVersion"]) == now + 3


def test_watch_from_future_rv_never_bookmarks_below_it(emulator):
    emu = emulator(extra_args=("--bookmark-interval", "0.2"))
    now = int(current_rv(emu))
    target = now + 4
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=str(target),
                          allowWatchBookmarks="true", timeoutSeconds=20))
    try:
        for i in range(6):
            post(emu, core("default", "configmaps"), cm(f"fbm-{i}"))
        evs = []
        while not any(e["type"] == "ADDED" and e["object"]["metadata"]["name"] == "fbm-5" for e in evs):
            evs.append(s.next_event())
        # bookmarks keep coming at the store's RV
        while evs[-1]["type"] != "BOOKMARK":
            evs.append(s.next_event())
    finally:
        s.close()
    rvs = [(e["type"], int(e["object"]["metadata"]["resourceVersion"])) for e in evs]
    assert all(v >= target for t, v in rvs if t == "BOOKMARK"), rvs
    assert [v for t, v in rvs if t == "ADDED"] == [now + 5, now + 6], rvs


def test_send_initial_events_from_future_rv_times_out_with_504(emu):
    # waitUntilFreshAndBlock: ~3 s, then an ERROR event with the TooLargeResourceVersion Status
    now = int(current_rv(emu))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", sendInitialEvents="true",
                          resourceVersionMatch="NotOlderThan", allowWatchBookmarks="true",
                          resourceVersion=str(now + 1000)), timeout=20)
    try:
        assert s.status == 200
        evs = s.read_all()
    finally:
        s.close()
    assert len(evs) == 1 and evs[0]["type"] == "ERROR", evs
    assert evs[0]["object"] == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Timeout: Too large resource version: %d, current: %d" % (now + 1000, now), "reason": "Timeout",
        "details": {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                    "retryAfterSeconds": 1}, "code": 504}


def test_list_future_rv_is_504(emu):
    now = int(current_rv(emu))
    r = emu.api("GET", q(core("default", "configmaps"), resourceVersion=str(now + 1000)), timeout=15)
    st = assert_status(r, 504, "Timeout")
    assert {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"} in st["details"]["causes"]
    assert st["message"] == "Timeout: Too large resource version: %d, current: %d" % (now + 1000, now)
    r = emu.api("GET", q(core("default", "configmaps", "future-old"), resourceVersion=str(now + 1000)), timeout=15)
    assert_status(r, 504, "Timeout")


def test_list_waits_for_a_resource_version_that_arrives(emu):
    now = int(current_rv(emu))
    done = {}

    def lister():
        done["r"] = emu.api("GET", q(core("default", "configmaps"), resourceVersion=str(now + 1)), timeout=15)
    t = threading.Thread(target=lister)
    t.start()
    time.sleep(0.5)  # let the list arrive first: it has to wait for the write
    post(emu, core("default", "configmaps"), cm("arrives"))
    t.join(15)
    lst = ok(done["r"])
    assert int(lst["metadata"]["resourceVersion"]) >= now + 1


# --------------------------------------------------------------------------------------------
# Bookmarks, selectors, timeouts


def test_bookmarks_only_with_allow_watch_bookmarks(emulator):
    emu = emulator()
    base = current_rv(emu)

    def bookmarks(allow):
        params = dict(watch="true", resourceVersion=base, timeoutSeconds=2,
                      labelSelector="bm=yes")
        if allow:
            params["allowWatchBookmarks"] = "true"
        s = emu.open_stream(q(core("default", "configmaps"), **params))
        try:
            # Unrelated writes (filtered out by the selector) move the store RV forward.
            for i in range(3):
                post(emu, core("default", "configmaps"), cm(f"bm-{int(allow)}-{i}"))
            return s.read_all()
        finally:
            s.close()

    without = bookmarks(False)
    assert without == [], without
    evs = bookmarks(True)
    bms = [e for e in evs if e["type"] == "BOOKMARK"]
    assert bms, f"no BOOKMARK within the 2 s watch: {evs}"
    assert all(e["type"] == "BOOKMARK" for e in evs)
    for e in bms:
        o = e["object"]
        assert o["kind"] == "ConfigMap" and o["apiVersion"] == "v1"
        assert set(o["metadata"]) <= {"resourceVersion", "annotations"}
        assert int(o["metadata"]["resourceVersion"]) >= int(base)


def test_watch_field_selector_single_object(emu):
    post(emu, core("default", "configmaps"), cm("fs-target"))
    post(emu, core("default", "configmaps"), cm("fs-other"))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                          fieldSelector="metadata.name=fs-target", timeoutSeconds=20))
    try:
        ok(emu.api("PATCH", core("default", "configmaps", "fs-other"), {"data": {"x": "1"}},
                   {"Content-Type": "application/merge-patch+json"}))
        ok(emu.api("PATCH", core("default", "configmaps", "fs-target"), {"data": {"x": "2"}},
                   {"Content-Type": "application/merge-patch+json"}))
        ev = s.next_event()
        assert ev["type"] == "MODIFIED" and ev["object"]["metadata"]["name"] == "fs-target"
    finally:
        s.close()


def test_watch_label_change_moves_object_in_and_out_of_selection(emu):
    post(emu, core("default", "configmaps"), cm("lbl-move"))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                          labelSelector="sel=in", timeoutSeconds=20))
    try:
        merge = {"Content-Type": "application/merge-patch+json"}
        ok(emu.api("PATCH", core("default", "configmaps", "lbl-move"), {"metadata": {"labels": {"sel": "in"}}}, merge))
        out = ok(emu.api("PATCH", core("default", "configmaps", "lbl-move"), {"metadata": {"labels": {"sel": "out"}}}, merge))
        evs = s.events(2)
        # apiserver cacher semantics: entering the selection is ADDED; leaving it is DELETED carrying
        # the previous object content with the new event's resourceVersion.
        assert [(e["type"], e["object"]["metadata"]["labels"]["sel"]) for e in evs] == \
            [("ADDED", "in"), ("DELETED", "in")]
        assert evs[1]["object"]["metadata"]["resourceVersion"] == out["metadata"]["resourceVersion"]
    finally:
        s.close()


def test_watch_timeout_seconds_ends_stream(emu):
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                          timeoutSeconds=1))
    try:
        assert s.status == 200
        assert s.read_all() == []  # the server closed the (idle) stream by itself
    finally:
        s.close()


def test_watch_namespaced_only_sees_its_namespace(emu):
    ok(emu.api("POST", "/api/v1/namespaces", {"metadata": {"name": "wns"}}), 201)
    s = emu.open_stream(q(core("wns", "secrets"), watch="true", resourceVersion=current_rv(emu),
                          timeoutSeconds=20))
    all_ns = emu.open_stream(q("/api/v1/secrets", watch="true", resourceVersion=current_rv(emu),
                               timeoutSeconds=20))
    try:
        post(emu, core("default", "secrets"), {"metadata": {"name": "not-mine"}, "data": {"a": b64("1")}})
        post(emu, core("wns", "secrets"), {"metadata": {"name": "mine"}, "data": {"a": b64("1")}})
        ev = s.next_event()
        assert ev["object"]["metadata"]["name"] == "mine"
        names = [e["object"]["metadata"]["name"] for e in all_ns.events(2)]
        assert names == ["not-mine", "mine"]
    finally:
        s.close()
        all_ns.close()


def test_watch_bool_spellings(emu):
    for spelling in ("1", "true", "True"):
        r = emu.api("GET", q(core("default", "configmaps"), watch=spelling, resourceVersion=current_rv(emu),
                             timeoutSeconds=1), timeout=15)
        assert r.status == 200
        assert r.headers.get("transfer-encoding") == "chunked", (spelling, r.headers)
    r = emu.api("GET", q(core("default", "configmaps"), watch="false"))
    assert ok(r)["kind"] == "ConfigMapList"


def test_watch_events_for_cr_and_bookmark_kind(emu):
    base = current_rv(emu, ns_path("default", "widgets"))
    s = emu.open_stream(q(ns_path("default", "widgets"), watch="true", resourceVersion=base,
                          timeoutSeconds=20))
    try:
        post(emu, ns_path("default", "widgets"), widget("cr-ev"))
        ev = s.next_event()
        assert ev["type"] == "ADDED"
        assert ev["object"]["kind"] == "Widget" and ev["object"]["apiVersion"] == "example.com/v1"
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# Request transport details libcurl relies on


def _read_response_head(sock, deadline_s=10):
    sock.settimeout(deadline_s)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        assert data, f"connection closed: {buf!r}"
        buf += data
    return buf


def test_expect_100_continue(emu):
    body = json.dumps({"metadata": {"name": "expect-100"}, "data": {"a": "x" * 4000}}).encode()
    s = emu.raw_socket()
    try:
        s.sendall((f"POST {core('default', 'configmaps')} HTTP/1.1\r\nHost: {emu.host}\r\n"
                   f"Authorization: Bearer {emu.token}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode())
        # libcurl waits for the interim response before sending the body
        interim = _read_response_head(s)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        s.sendall(body)
        final = _read_response_head(s)
        assert final.startswith(b"HTTP/1.1 201 "), final
    finally:
        s.close()
    assert ok(emu.api("GET", core("default", "configmaps", "expect-100")))["data"]["a"] == "x" * 4000


def test_chunked_request_body_and_keep_alive(emu):
    s = emu.raw_socket()
    try:
        for name in ("chunked-1", "chunked-2"):  # two requests on one connection
            body = json.dumps({"metadata": {"name": name}, "data": {"a": "b"}}).encode()
            req = (f"POST {core('default', 'configmaps')} HTTP/1.1\r\nHost: {emu.host}\r\n"
                   f"Authorization: Bearer {emu.token}\r\nContent-Type: application/json\r\n"
                   f"Transfer-Encoding: chunked\r\n\r\n").encode()
            req += b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (7, body[:7], len(body) - 7, body[7:])
            s.sendall(req)
            head = _read_response_head(s)
            assert head.startswith(b"HTTP/1.1 201 "), head
            hdr, _, rest = head.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", hdr).group(1))
            while len(rest) < length:
                rest += s.recv(65536)
            assert json.loads(rest[:length])["metadata"]["name"] == name
    finally:
        s.close()


def test_send_initial_events_ends_with_annotated_bookmark(emu):
    ok(emu.api("POST", "/api/v1/namespaces", {"metadata": {"name": "sie"}}), 201)
    for n in ("i1", "i2"):
        post(emu, core("sie", "configmaps"), cm(n))
    s = emu.open_stream(q(core("sie", "configmaps"), watch="true", sendInitialEvents="true",
                          resourceVersionMatch="NotOlderThan", allowWatchBookmarks="true", timeoutSeconds=20))
    try:
        evs = s.events(3)
    finally:
        s.close()
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in evs[:2]] == [("ADDED", "i1"), ("ADDED", "i2")]
    assert evs[2]["type"] == "BOOKMARK"
    assert evs[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    # without allowWatchBookmarks the request is invalid
    r = emu.api("GET", q(core("sie", "configmaps"), watch="true", sendInitialEvents="true",
                         resourceVersionMatch="NotOlderThan"))
    assert_status(r, 422, "Invalid")


# --------------------------------------------------------------------------------------------
# Server timeouts, bookmark schedule, PartialObjectMetadataList, split chunks


def quiet_for(stream, seconds):
    """True if the server sends nothing on the stream (no event, no end) for `seconds`."""
    sock = stream.conn.sock
    if getattr(sock, "pending", lambda: 0)():
        return False
    r, _, _ = select.select([sock], [], [], seconds)
    return not r


def test_timeout_seconds_zero_means_the_server_default(emu):
    # timeoutSeconds=0 is "not given" (get.go): the server picks 30-60 min, it does not close at once
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                          timeoutSeconds=0), timeout=20)
    try:
        assert quiet_for(s, 1.5)  # nothing, and no end of stream either
        post(emu, core("default", "configmaps"), cm("t0-after"))
        ev = s.next_event()
        assert ev and ev["object"]["metadata"]["name"] == "t0-after"
    finally:
        s.close()


def test_no_bookmark_at_watch_start(emu):
    # the module emulator runs with the default 60 s interval: a 30 s watch gets its first
    # bookmark 2 s before its end, not when it starts
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                          allowWatchBookmarks="true", timeoutSeconds=30), timeout=20)
    try:
        assert quiet_for(s, 2)
    finally:
        s.close()


def test_bookmark_interval_flag_and_setting(emulator):
    emu = emulator(extra_args=("--bookmark-interval", "0.5"))
    assert ok(emu.admin("GET", "/emulator/v1/settings"))["bookmarkIntervalSeconds"] == 0.5
    base = int(current_rv(emu))
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=str(base),
                          allowWatchBookmarks="true", timeoutSeconds=60), timeout=20)
    try:
        bms = [s.next_event(), s.next_event()]
        assert [e["type"] for e in bms] == ["BOOKMARK", "BOOKMARK"], bms
        assert all(int(e["object"]["metadata"]["resourceVersion"]) >= base for e in bms)
        assert bms[0]["object"] == {"kind": "ConfigMap", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": str(base)}}
    finally:
        s.close()
    # the admin setting applies to watches from then on: an hour means no bookmark in 2 s
    assert ok(emu.admin("POST", "/emulator/v1/settings", {"bookmarkIntervalSeconds": 3600})) == \
        {"bookmarkIntervalSeconds": 3600.0, "splitChunks": False}
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=str(base),
                          allowWatchBookmarks="true", timeoutSeconds=60), timeout=20)
    try:
        assert quiet_for(s, 2)
    finally:
        s.close()
    assert_status(emu.admin("POST", "/emulator/v1/settings", {"bookmarkIntervalSeconds": 0}), 400, "BadRequest")
    assert_status(emu.admin("POST", "/emulator/v1/settings", {"nope": 1}), 400, "BadRequest")


def test_watch_as_partial_object_metadata_list_ends_at_the_first_event(emu):
    # as=PartialObjectMetadataList cannot render an event object: the stream ends without it
    pom_list = {"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                          timeoutSeconds=20), headers=pom_list)
    try:
        assert s.status == 200
        post(emu, core("default", "configmaps"), cm("pom-list-watch"))
        assert s.read_all() == []
    finally:
        s.close()
    # as=PartialObjectMetadata works on a watch
    pom = {"Accept": "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"}
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                          timeoutSeconds=20), headers=pom)
    try:
        post(emu, core("default", "configmaps"), cm("pom-watch"))
        ev = s.next_event()
        assert ev["object"]["kind"] == "PartialObjectMetadata" and "data" not in ev["object"]
    finally:
        s.close()


def _split_watch(emu, n, headers=""):
    sock, rd = raw_get(emu, q(core("default", "configmaps"), watch="true", resourceVersion=current_rv(emu),
                              timeoutSeconds=30))
    try:
        status, _ = rd.read_head()
        assert status == 200
        for i in range(n):
            post(emu, core("default", "configmaps"), cm(f"split-{headers}{i}", {"payload": "é" * 40 + str(i)}))
        chunks, stream, lines = [], b"", []
        while len(lines) < n:
            c = rd.read_chunk()
            chunks.append(c)
            stream += c
            *complete, stream = stream.split(b"\n")
            lines += complete
    finally:
        sock.close()
    return chunks, lines


def test_split_chunks_setting_cuts_events_at_random_offsets(emulator):
    emu = emulator()
    ok(emu.admin("POST", "/emulator/v1/settings", {"splitChunks": True}))
    chunks, lines = _split_watch(emu, 8)
    events = [json.loads(ln) for ln in lines]  # reassembled, every event is intact
    assert [e["object"]["metadata"]["name"] for e in events] == [f"split-{i}" for i in range(8)]
    assert events[3]["object"]["data"]["payload"] == "é" * 40 + "3"
    # each event came in 2-3 chunks, none of which ends at the event's end except the last piece
    assert len(chunks) >= 2 * len(lines) and len(chunks) <= 3 * len(lines), (len(chunks), len(lines))
    assert sum(1 for c in chunks if not c.endswith(b"\n")) >= len(lines)
    ok(emu.admin("POST", "/emulator/v1/settings", {"splitChunks": False}))
    chunks, lines = _split_watch(emu, 3, "off-")
    assert all(c.endswith(b"\n") for c in chunks)


def test_split_chunks_fault_rule_hits_matching_watches_only(emulator):
    emu = emulator()
    rule = ok(emu.admin("POST", "/emulator/v1/faults", {"splitChunks": True, "resource": "configmaps",
                                                        "userAgent": "raw-test", "count": 1}), 201)
    assert rule["splitChunks"] is True and rule["code"] is None
    chunks, lines = _split_watch(emu, 4)
    assert len(chunks) >= 2 * len(lines)
    # count=1: the next watch is not split any more
    chunks, lines = _split_watch(emu, 2, "again-")
    assert all(c.endswith(b"\n") for c in chunks)
    faults = ok(emu.admin("GET", "/emulator/v1/faults"))["faults"]
    assert faults[0]["fired"] == 1
    # a split rule does not fail requests
    ok(emu.api("GET", core("default", "configmaps")))
    assert_status(emu.admin("POST", "/emulator/v1/faults", {"splitChunks": True, "code": 500}), 400, "BadRequest")
