"""Emulator admin state behind /emulator/v1/: request statistics, fault
injection, artificial latency. (The watch-control, compaction and fleet
endpoints are routed by server.py and call into store/watch/fleet_sim.)

Request statistics count every API request (discovery as verb "get" with
resource ""), keyed by audit-style verb, group, resource, subresource, HTTP
code and the client's User-Agent product token (e.g. "kubectl",
"fleet-handshake"), so tests can count one client's calls. Requests refused
with 401 are counted too (verb and resource taken from the URL). Admin
requests themselves are not counted.

Fault rules either fail matching requests (code 429/500/503) or, with
"splitChunks": true, leave them alone and make matching watch streams write
every event in 2-3 HTTP chunks cut at random byte offsets.
"""
import itertools
import random
import threading

from . import errors

FAULT_CODES = (429, 500, 503)


class Admin:
    def __init__(self):
        self._lock = threading.Lock()
        self._stats = {}
        self._total = 0
        self._faults = []
        self._ids = itertools.count(1)
        self._latency = []

    # ------------------------------------------------------------ stats
    def record(self, verb, group, resource, subresource, code, agent=""):
        k = (verb, group, resource, subresource, code, agent)
        with self._lock:
            self._stats[k] = self._stats.get(k, 0) + 1
            self._total += 1

    def stats(self):
        with self._lock:
            reqs = [{"verb": k[0], "group": k[1], "resource": k[2], "subresource": k[3], "code": k[4],
                     "userAgent": k[5], "count": n}
                    for k, n in sorted(self._stats.items(), key=lambda kv: tuple(str(x) for x in kv[0]))]
            return {"total": self._total, "requests": reqs}

    def reset_stats(self):
        with self._lock:
            self._stats.clear()
            self._total = 0

    # ------------------------------------------------------------ faults
    def add_fault(self, spec):
        if not isinstance(spec, dict):
            raise errors.bad_request("fault must be a JSON object")
        split = spec.get("splitChunks", False)
        if not isinstance(split, bool):
            raise errors.bad_request("splitChunks must be true or false")
        code = spec.get("code", None if split else 500)
        if split and code is not None:
            raise errors.bad_request("a splitChunks rule fails nothing: leave out code")
        if not split and code not in FAULT_CODES:
            raise errors.bad_request("code must be one of 429, 500, 503")
        frac = spec.get("fraction", 1.0)
        if frac is None:
            frac = 1.0
        if not isinstance(frac, (int, float)) or not 0 <= frac <= 1:
            raise errors.bad_request("fraction must be a number in [0,1]")
        count = spec.get("count")
        if count is not None and (not isinstance(count, int) or count < 0):
            raise errors.bad_request("count must be null or a non-negative integer")
        f = {"id": next(self._ids), "verb": spec.get("verb"), "resource": spec.get("resource"),
             "group": spec.get("group"), "subresource": spec.get("subresource"), "fraction": float(frac),
             "code": code, "retryAfterSeconds": spec.get("retryAfterSeconds", 1), "count": count,
             "message": spec.get("message"), "userAgent": spec.get("userAgent"), "splitChunks": split,
             "fired": 0}
        with self._lock:
            self._faults.append(f)
        return f

    def faults(self):
        with self._lock:
            return {"faults": [dict(f) for f in self._faults]}

    def clear_faults(self, fid=None):
        with self._lock:
            if fid is None:
                self._faults = []
            else:
                self._faults = [f for f in self._faults if f["id"] != fid]

    def check_fault(self, verb, group, resource, subresource, agent=""):
        """An ApiError to answer instead of serving the request, or None.
        A fault with "userAgent" set only hits clients whose User-Agent
        product token equals it (so a test can fail the operator's calls
        while its own kubectl calls go through)."""
        if not self._faults:
            return None
        with self._lock:
            f = self._match(False, verb, group, resource, subresource, agent)
            if f is not None:
                code = f["code"]
                if code == 429:
                    ra = f["retryAfterSeconds"] if f["retryAfterSeconds"] is not None else 1
                    return errors.too_many_requests(ra)
                if code == 500:
                    return errors.internal_error(f["message"] or "injected fault")
                e = errors.service_unavailable(f["message"] or "the server is currently unable to handle the "
                                                                "request (injected fault)")
                if f["retryAfterSeconds"] is not None:
                    e.headers["Retry-After"] = str(int(f["retryAfterSeconds"]))
                    e.details = {"retryAfterSeconds": int(f["retryAfterSeconds"])}
                return e
        return None

    def split_watch(self, group, resource, agent=""):
        """Whether a new watch on group/resource should have its events split across chunks."""
        if not self._faults:
            return False
        with self._lock:
            return self._match(True, "watch", group, resource, "", agent) is not None

    def _match(self, split, verb, group, resource, subresource, agent):
        """The first rule of the kind (failing or splitChunks) that fires for a request; counts it."""
        for f in self._faults:
            if f["splitChunks"] != split:
                continue
            if f["verb"] is not None and f["verb"] != verb:
                continue
            if f["resource"] is not None and f["resource"] != resource:
                continue
            if f["group"] is not None and f["group"] != group:
                continue
            if f["subresource"] is not None and f["subresource"] != subresource:
                continue
            if f.get("userAgent") is not None and f["userAgent"] != agent:
                continue
            if f["count"] is not None and f["fired"] >= f["count"]:
                continue
            if f["fraction"] < 1.0 and random.random() >= f["fraction"]:
                continue
            f["fired"] += 1
            return f
        return None

    # ------------------------------------------------------------ latency
    def set_latency(self, spec):
        if not isinstance(spec, dict):
            raise errors.bad_request("latency must be a JSON object")
        ms = spec.get("ms", 0)
        if not isinstance(ms, (int, float)) or ms < 0:
            raise errors.bad_request("ms must be a non-negative number")
        verb, resource = spec.get("verb"), spec.get("resource")
        with self._lock:
            self._latency = [r for r in self._latency if not (r["verb"] == verb and r["resource"] == resource)]
            if ms > 0:
                self._latency.append({"verb": verb, "resource": resource, "ms": ms})
            return {"latency": list(self._latency)}

    def latency(self):
        with self._lock:
            return {"latency": list(self._latency)}

    def clear_latency(self):
        with self._lock:
            self._latency = []

    def delay_ms(self, verb, resource):
        if not self._latency:
            return 0
        with self._lock:
            ms = 0
            for r in self._latency:
                if (r["verb"] is None or r["verb"] == verb) and (r["resource"] is None or r["resource"] == resource):
                    ms = max(ms, r["ms"])
            return ms
