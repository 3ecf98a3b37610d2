"""Small shared helpers: timestamps, fast deep copy, compact JSON, random names.

Owns no state. Everything here is pure and safe to call from any thread.
"""
import json
import os
import random
import string
import time

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's utilrand alphabet


def dumps(obj):
    """Compact JSON text (what the apiserver sends on the wire)."""
    return _ENCODER.encode(obj)


def dumpb(obj):
    """Compact JSON as UTF-8 bytes."""
    return _ENCODER.encode(obj).encode("utf-8")


def deep_copy(o):
    """Copy a JSON-like value (dict/list/scalars) much faster than copy.deepcopy."""
    if isinstance(o, dict):
        return {k: deep_copy(v) for k, v in o.items()}
    if isinstance(o, list):
        return [deep_copy(v) for v in o]
    return o


_NOW = [0, ""]


def now_rfc3339():
    """metav1.Time: RFC 3339, seconds, UTC, 'Z'."""
    t = int(time.time())
    if _NOW[0] != t:
        _NOW[1] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        _NOW[0] = t
    return _NOW[1]


def parse_rfc3339(s):
    """Seconds since the epoch for an RFC 3339 timestamp, or None."""
    if not isinstance(s, str) or len(s) < 19:
        return None
    try:
        base = time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    import calendar
    t = calendar.timegm(base)
    rest = s[19:]
    if rest.startswith("."):
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        rest = rest[i:]
    if rest in ("Z", "z", ""):
        return t
    try:
        sign = 1 if rest[0] == "+" else -1
        hh, mm = rest[1:].split(":")
        return t - sign * (int(hh) * 3600 + int(mm) * 60)
    except (ValueError, IndexError):
        return None


def new_uid():
    """A random (version 4, RFC 4122) UUID string, as uuid.uuid4() gives but cheaper."""
    h = os.urandom(16).hex()
    return "%s-%s-4%s-%x%s-%s" % (h[:8], h[8:12], h[13:16], 8 | (int(h[16], 16) & 3), h[17:20], h[20:])


def random_suffix(n=5):
    return "".join(random.choice(_NAME_CHARS) for _ in range(n))


def random_token(n=32):
    alphabet = string.ascii_letters + string.digits
    rnd = random.SystemRandom()
    return "".join(rnd.choice(alphabet) for _ in range(n))


def human_duration(seconds):
    """Go's k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    seconds = int(seconds)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return "%ds" % seconds
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return "%dm" % minutes if s == 0 else "%dm%ds" % (minutes, s)
    if minutes < 180:
        return "%dm" % minutes
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24, h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        y = hours // 24 // 365
        return "%dy" % y if dy == 0 else "%dy%dd" % (y, dy)
    return "%dy" % (hours // 24 // 365)


def age(ts):
    """Age string for an RFC 3339 timestamp (None if unparsable)."""
    t = parse_rfc3339(ts)
    if t is None:
        return None
    return human_duration(time.time() - t)


def parse_bool(s):
    """Go strconv.ParseBool subset; None if not a bool."""
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None
