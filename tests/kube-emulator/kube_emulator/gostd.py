"""Go standard-library behaviour the API server's JSON decoding depends on,
re-implemented exactly enough that values are accepted or rejected as Go
does and error texts read the same:

- time.Parse for the two layouts metav1 uses: time.RFC3339 (metav1.Time)
  and RFC3339Micro "2006-01-02T15:04:05.000000Z07:00" (metav1.MicroTime),
  plus the Marshal side (UTC, seconds resp. exactly 6 fractional digits;
  the zero time marshals as null);
- encoding/base64 StdEncoding decoding ([]byte fields such as Secret.data),
  with Go's CorruptInputError offsets ("illegal base64 data at input byte N");
- the quoting Go uses in these messages.

Pure functions, no state.
"""
import binascii

RFC3339 = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00"


class GoError(ValueError):
    """An error whose str() is the Go error text."""


# ------------------------------------------------------------------ quoting

def time_quote(s):
    """time.quote(): what time.ParseError puts between double quotes."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if o >= 0x80 or o < 0x20:
            out.extend("\\x%02x" % b for b in ch.encode("utf-8", "surrogatepass"))
        else:
            if ch in '"\\':
                out.append("\\")
            out.append(ch)
    out.append('"')
    return "".join(out)


# ------------------------------------------------------------------ time.Parse

def _parse_error(layout, value, layout_elem, value_elem, message=""):
    if message:
        return GoError("parsing time " + time_quote(value) + message)
    return GoError("parsing time %s as %s: cannot parse %s as %s"
                   % (time_quote(value), time_quote(layout), time_quote(value_elem), time_quote(layout_elem)))


def _isdigit(s, i):
    return i < len(s) and "0" <= s[i] <= "9"


def _getnum(s, fixed):
    if not _isdigit(s, 0):
        return 0, s, False
    if not _isdigit(s, 1):
        if fixed:
            return 0, s, False
        return ord(s[0]) - 48, s[1:], True
    return (ord(s[0]) - 48) * 10 + ord(s[1]) - 48, s[2:], True


def _atoi(s):
    """time.atoi: optional sign, then only digits. None on error."""
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if not s or any(not ("0" <= c <= "9") for c in s):
        return None
    return -int(s) if neg else int(s)


def _nanoseconds(value, nbytes):
    """time.parseNanoseconds -> (ns, range_err, ok)."""
    if value[0] not in ".,":
        return 0, "", False
    if nbytes > 10:
        value, nbytes = value[:10], 10
    ns = _atoi(value[1:nbytes])
    if ns is None:
        return 0, "", False
    if ns < 0:
        return 0, "fractional second", True
    return ns * 10 ** (10 - nbytes), "", True


def _days_in(month, year):
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z):
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


# layout chunks: (literal prefix, std element)
_CHUNKS = {
    RFC3339: [("", "2006"), ("-", "01"), ("-", "02"), ("T", "15"), (":", "04"), (":", "05"), ("", "Z07:00")],
    RFC3339_MICRO: [("", "2006"), ("-", "01"), ("-", "02"), ("T", "15"), (":", "04"), (":", "05"),
                    ("", ".000000"), ("", "Z07:00")],
}


def _skip(value, prefix):
    for ch in prefix:
        if not value or value[0] != ch:
            return value, False
        value = value[1:]
    return value, True


def parse_time(value, layout=RFC3339):
    """Go time.Parse(layout, value) for RFC3339 / RFC3339Micro.
    Returns (unix_seconds, nanoseconds); raises GoError with Go's message."""
    chunks = _CHUNKS[layout]
    avalue = value
    year = month = day = hour = minute = sec = nsec = offset = 0
    month = day = 1
    for idx, (prefix, std) in enumerate(chunks):
        value, ok = _skip(value, prefix)
        if not ok:
            raise _parse_error(layout, avalue, prefix, value)
        hold = value
        rng = ""
        ok = True
        if std == "2006":
            if len(value) < 4 or not _isdigit(value, 0):
                ok = False
            else:
                year = _atoi(value[:4])
                value = value[4:]
                ok = year is not None
        elif std == "01":
            month, value, ok = _getnum(value, True)
            if ok and not 1 <= month <= 12:
                rng = "month"
        elif std == "02":
            day, value, ok = _getnum(value, True)
        elif std == "15":
            hour, value, ok = _getnum(value, False)
            if not 0 <= hour < 24:
                rng = "hour"
        elif std == "04":
            minute, value, ok = _getnum(value, True)
            if not 0 <= minute < 60:
                rng = "minute"
        elif std == "05":
            sec, value, ok = _getnum(value, True)
            if ok and not 0 <= sec < 60:
                rng = "second"
            elif ok and len(value) >= 2 and value[0] in ".," and _isdigit(value, 1):
                nxt = chunks[idx + 1][1] if idx + 1 < len(chunks) else ""
                if not nxt.startswith("."):
                    # a fraction the layout does not mention: any number of digits
                    n = 2
                    while n < len(value) and _isdigit(value, n):
                        n += 1
                    nsec, rng, ok = _nanoseconds(value, n)
                    value = value[n:]
        elif std.startswith("."):
            ndigit = len(std)
            if len(value) < ndigit:
                ok = False
            else:
                nsec, rng, ok = _nanoseconds(value, ndigit)
                value = value[ndigit:]
        elif std == "Z07:00":
            if value[:1] == "Z":
                value = value[1:]
                offset = 0
            elif len(value) < 6 or value[3] != ":":
                ok = False
            else:
                sign, hh, mm, value = value[0], value[1:3], value[4:6], value[6:]
                hr, _, ok1 = _getnum(hh, True)
                mi, _, ok2 = _getnum(mm, True)
                ok = ok1 and ok2
                if hr > 24:
                    rng = "time zone offset hour"
                if mi > 60:
                    rng = "time zone offset minute"
                offset = (hr * 60 + mi) * 60
                if sign == "-":
                    offset = -offset
                elif sign != "+":
                    ok = False
        if rng:
            raise _parse_error(layout, avalue, std, value, ": %s out of range" % rng)
        if not ok:
            raise _parse_error(layout, avalue, std, hold)
    if value:
        raise _parse_error(layout, avalue, "", value, ": extra text: " + time_quote(value))
    if day < 1 or day > _days_in(month, year):
        raise _parse_error(layout, avalue, "", value, ": day out of range")
    secs = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + sec - offset
    return secs, nsec


_ZERO_TIME = _days_from_civil(1, 1, 1) * 86400  # Go's zero time.Time (year 1), which marshals as null


def format_time(secs, nsec=0, micro=False):
    """metav1.Time / MicroTime MarshalJSON text (UTC); None for the zero time."""
    if secs == _ZERO_TIME and nsec == 0:
        return None
    days, rem = divmod(secs, 86400)
    y, m, d = _civil_from_days(days)
    base = "%04d-%02d-%02dT%02d:%02d:%02d" % (y, m, d, rem // 3600, rem // 60 % 60, rem % 60)
    if micro:
        return "%s.%06dZ" % (base, nsec // 1000)
    return base + "Z"


# ------------------------------------------------------------------ encoding/base64

_B64 = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def b64decode(text):
    """base64.StdEncoding.DecodeString as encoding/json does it for []byte:
    padding required, \\r and \\n ignored. Raises GoError
    "illegal base64 data at input byte N" with Go's offset."""
    src = text.encode("utf-8") if isinstance(text, str) else text
    try:  # fast path: canonical input (strict mode accepts a subset of what Go accepts)
        return binascii.a2b_base64(src, strict_mode=True)
    except binascii.Error:
        pass
    out = bytearray()
    si, n = 0, len(src)
    while True:
        dbuf = [0, 0, 0, 0]
        dlen = 4
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out)
                raise GoError("illegal base64 data at input byte %d" % (si - j))
            ch = src[si]
            si += 1
            v = _B64.get(ch)
            if v is not None:
                dbuf[j] = v
                j += 1
                continue
            if ch in (10, 13):
                continue
            if ch != 61:  # '='
                raise GoError("illegal base64 data at input byte %d" % (si - 1))
            if j in (0, 1):
                raise GoError("illegal base64 data at input byte %d" % (si - 1))
            if j == 2:
                while si < n and src[si] in (10, 13):
                    si += 1
                if si == n:
                    raise GoError("illegal base64 data at input byte %d" % n)
                if src[si] != 61:
                    raise GoError("illegal base64 data at input byte %d" % (si - 1))
                si += 1
            while si < n and src[si] in (10, 13):
                si += 1
            if si < n:
                raise GoError("illegal base64 data at input byte %d" % si)
            dlen = j
            break
        val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3]
        out += bytes(((val >> 16) & 255, (val >> 8) & 255, val & 255))[:dlen - 1]
        if dlen < 4:
            return bytes(out)
