"""A small YAML reader (standard library only) for the manifests inside
Fleet Bundles: block mappings and sequences, plain/single/double-quoted
scalars (multi-line too), literal and folded block scalars, flow
collections, comments and multiple documents. Anchors, aliases, tags and
complex keys are not supported (YAMLError). Scalars resolve like YAML 1.1
as used by Kubernetes (null, booleans incl. yes/no/on/off, ints, floats).

load_all(text) -> list of documents.
"""
import json
import re


class YAMLError(ValueError):
    pass


_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_HEX = re.compile(r"^0x[0-9a-fA-F_]+$")
_OCT = re.compile(r"^0o?[0-7_]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


def resolve_plain(s):
    if s in ("", "~", "null", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"):
        return True if s not in ("y", "Y") else s
    if s in ("false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"):
        return False if s not in ("n", "N") else s
    if _INT.match(s):
        return int(s.replace("_", ""))
    if _HEX.match(s):
        return int(s.replace("_", ""), 16)
    if _OCT.match(s) and len(s) > 1 and s != "0":
        return int(s.replace("_", "").replace("o", ""), 8)
    if _FLOAT.match(s) and any(c.isdigit() for c in s):
        return float(s.replace("_", ""))
    if s in (".inf", ".Inf", ".INF", "+.inf"):
        return float("inf")
    if s in ("-.inf", "-.Inf", "-.INF"):
        return float("-inf")
    if s in (".nan", ".NaN", ".NAN"):
        return float("nan")
    return s


def _strip_comment(s):
    """Remove a trailing ' #...' comment outside quotes."""
    q = None
    for i, c in enumerate(s):
        if q:
            if c == q:
                q = None
        elif c in "'\"" and (i == 0 or s[i - 1] in " \t[{,:"):
            q = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s


def _unescape_double(s):
    out = []
    i = 0
    esc = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "/": "/", "0": "\0", "a": "\a",
           "b": "\b", "e": "\x1b", "f": "\f", "v": "\v", " ": " ", "N": "\x85", "_": "\xa0"}
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = s[i + 1] if i + 1 < len(s) else ""
        if n in esc:
            out.append(esc[n])
            i += 2
        elif n in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[n]
            out.append(chr(int(s[i + 2:i + 2 + width], 16)))
            i += 2 + width
        else:
            raise YAMLError("bad escape \\%s" % n)
    return "".join(out)


def _fold(lines, quoted=False):
    """YAML line folding for multi-line flow scalars: single breaks -> space, blank lines -> \\n."""
    out = ""
    pending_blank = 0
    n = len(lines)
    for j, ln in enumerate(lines):
        last = j == n - 1
        if j == 0:
            t = ln if (last and quoted) else ln.rstrip()
        else:
            t = ln.lstrip() if (quoted and last) else ln.strip()
        if j and not last and t == "":
            pending_blank += 1
            continue
        if j:
            out += "\n" * pending_blank if pending_blank else " "
            pending_blank = 0
        out += t
    return out


class _Parser:
    def __init__(self, text):
        self.lines = text.replace("\r\n", "\n").replace("\t", "    ").split("\n")
        self.i = 0

    # -------------------------------------------------- line helpers
    def _skip(self):
        while self.i < len(self.lines):
            st = self.lines[self.i].strip()
            if st == "" or st.startswith("#"):
                self.i += 1
                continue
            break

    def _cur(self):
        self._skip()
        if self.i >= len(self.lines):
            return None
        ln = self.lines[self.i]
        return len(ln) - len(ln.lstrip(" ")), ln.strip()

    @staticmethod
    def _is_seq(text):
        return text == "-" or text.startswith("- ")

    @staticmethod
    def _split_key(text):
        if text[:1] in ("'", '"'):
            q = text[0]
            j = 1
            while j < len(text):
                if text[j] == q:
                    if q == "'" and text[j + 1:j + 2] == "'":
                        j += 2
                        continue
                    if q == '"' and text[j - 1] == "\\":
                        j += 1
                        continue
                    break
                j += 1
            rest = text[j + 1:]
            if rest.startswith(":") and (len(rest) == 1 or rest[1] == " "):
                raw = text[1:j]
                key = _unescape_double(raw) if q == '"' else raw.replace("''", "'")
                return key, rest[1:]
            return None
        if text[:1] in ("[", "{", "&", "*", "!", "|", ">", "?"):
            return None
        m = re.search(r":( |$)", text)
        if not m:
            return None
        key = text[:m.start()].rstrip()
        if "#" in key and re.search(r"\s#", key):
            return None
        return key, text[m.end():]

    # -------------------------------------------------- nodes
    def parse_node(self, min_indent):
        c = self._cur()
        if c is None or c[0] < min_indent:
            return None
        ind, text = c
        if self._is_seq(text):
            return self.parse_seq(ind)
        if self._split_key(text) is not None:
            return self.parse_map(ind)
        self.i += 1
        return self.parse_inline(text, ind - 1)

    def parse_map(self, ind):
        out = {}
        while True:
            c = self._cur()
            if c is None or c[0] < ind:
                break
            i2, text = c
            if i2 > ind:
                raise YAMLError("bad indentation at line %d" % (self.i + 1))
            if self._is_seq(text):
                break
            kv = self._split_key(text)
            if kv is None:
                raise YAMLError("expected a mapping key at line %d" % (self.i + 1))
            key, rest = kv
            if key == "<<":
                raise YAMLError("merge keys are not supported")
            self.i += 1
            out[key] = self.parse_value(rest, ind)
        return out

    def parse_seq(self, ind):
        out = []
        while True:
            c = self._cur()
            if c is None or c[0] != ind or not self._is_seq(c[1]):
                break
            text = c[1]
            content = text[1:]
            stripped = content.lstrip(" ")
            if stripped == "" or stripped.startswith("#"):
                self.i += 1
                out.append(self.parse_value("", ind))
                continue
            item_indent = ind + 1 + (len(content) - len(stripped))
            if self._is_seq(stripped) or (self._split_key(stripped) is not None):
                self.lines[self.i] = " " * item_indent + stripped
                out.append(self.parse_node(item_indent))
            else:
                self.i += 1
                out.append(self.parse_inline(stripped, ind))
        return out

    def parse_value(self, rest, parent_indent):
        rest = rest.strip()
        if rest == "" or rest.startswith("#"):
            c = self._cur()
            if c is None:
                return None
            if c[0] > parent_indent:
                return self.parse_node(c[0])
            if c[0] == parent_indent and self._is_seq(c[1]):
                return self.parse_seq(c[0])
            return None
        return self.parse_inline(rest, parent_indent)

    def parse_inline(self, rest, parent_indent):
        """A scalar or flow node starting on the current (already consumed) line."""
        if rest.startswith("!!") and " " in rest:
            tag, rest2 = rest.split(" ", 1)
            v = self.parse_inline(rest2.strip(), parent_indent)
            conv = {"!!str": str, "!!int": int, "!!float": float, "!!null": lambda x: None,
                    "!!bool": lambda x: resolve_plain(x) if isinstance(x, str) else bool(x)}.get(tag)
            if conv is None:
                return v
            return conv(v) if not (tag == "!!str" and v is None) else ""
        if rest[:1] in ("&", "*", "!"):
            raise YAMLError("anchors, aliases and tags are not supported")
        if rest[:1] in ("|", ">"):
            return self.block_scalar(rest, parent_indent)
        if rest[:1] in ("[", "{"):
            text = rest
            while not _balanced(text):
                if self.i >= len(self.lines):
                    raise YAMLError("unterminated flow collection")
                text += "\n" + self.lines[self.i]
                self.i += 1
            try:
                return json.loads(text)
            except ValueError:
                return _Flow(text).parse()
        if rest[:1] in ("'", '"'):
            q = rest[0]
            lines = [rest[1:]]
            while not _closes(lines[-1], q):
                if self.i >= len(self.lines):
                    raise YAMLError("unterminated quoted scalar")
                lines.append(self.lines[self.i])
                self.i += 1
            last = lines[-1]
            end = _close_index(last, q)
            tail = last[end + 1:].strip()
            if tail and not tail.startswith("#"):
                raise YAMLError("unexpected text after quoted scalar: %r" % tail)
            lines[-1] = last[:end]
            return _decode_quoted(lines, q)
        # plain scalar, possibly continued on more-indented lines
        lines = [_strip_comment(rest)]
        while self.i < len(self.lines):
            ln = self.lines[self.i]
            st = ln.strip()
            ind = len(ln) - len(ln.lstrip(" "))
            if st == "":
                lines.append("")
                self.i += 1
                continue
            if ind <= parent_indent or st.startswith("#") or self._split_key(st) is not None \
                    or (self._is_seq(st) and ind <= parent_indent + 1):
                break
            lines.append(_strip_comment(st))
            self.i += 1
        while lines and lines[-1] == "":
            lines.pop()
        if len(lines) == 1:
            return resolve_plain(lines[0].strip())
        return _fold(lines)

    def block_scalar(self, header, parent_indent):
        header = _strip_comment(header).strip()
        style = header[0]
        chomp = "clip"
        explicit = None
        for ch in header[1:]:
            if ch == "-":
                chomp = "strip"
            elif ch == "+":
                chomp = "keep"
            elif ch.isdigit():
                explicit = int(ch)
        raw = []
        block_indent = None
        while self.i < len(self.lines):
            ln = self.lines[self.i]
            if ln.strip() == "":
                raw.append("")
                self.i += 1
                continue
            ind = len(ln) - len(ln.lstrip(" "))
            if block_indent is None:
                block_indent = parent_indent + explicit if explicit else ind
                if block_indent <= parent_indent:
                    break
            if ind < block_indent:
                break
            raw.append(ln[block_indent:])
            self.i += 1
        trailing = 0
        while raw and raw[-1] == "":
            raw.pop()
            trailing += 1
        if style == "|":
            body = "\n".join(raw)
        else:
            body = ""
            prev_more = False
            for j, ln in enumerate(raw):
                more = ln.startswith(" ")
                if j == 0:
                    body = ln
                elif ln == "":
                    body += "\n"
                elif raw[j - 1] == "" or more or prev_more:
                    body += ("\n" if raw[j - 1] != "" or more or prev_more else "") + ln
                else:
                    body += " " + ln
                prev_more = more
        if not raw:
            return "" if chomp != "keep" else "\n" * trailing
        if chomp == "strip":
            return body
        if chomp == "keep":
            return body + "\n" * (trailing + 1)
        return body + "\n"


def _decode_quoted(lines, q):
    """Value of a quoted scalar given its raw lines (without the quotes)."""
    if q == "'":
        return _fold(lines, quoted=True).replace("''", "'")
    text = ""
    n = len(lines)
    pending = 0
    for j, ln in enumerate(lines):
        piece = ln if j == 0 else ln.lstrip()
        last = j == n - 1
        if j and not last and piece.strip() == "":
            pending += 1
            continue
        if j:
            if text.endswith("\\") and not text.endswith("\\\\"):
                text = text[:-1]
            else:
                text += "\n" * pending if pending else " "
            pending = 0
        text += piece if last else piece.rstrip()
    return _unescape_double(text)


def _balanced(text):
    depth = 0
    q = None
    for c in text:
        if q:
            if c == q:
                q = None
            continue
        if c in "'\"":
            q = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
    return depth <= 0


def _close_index(s, q):
    j = 0
    while j < len(s):
        if s[j] == "\\" and q == '"':
            j += 2
            continue
        if s[j] == q:
            if q == "'" and s[j + 1:j + 2] == "'":
                j += 2
                continue
            return j
        j += 1
    return -1


def _closes(s, q):
    return _close_index(s, q) >= 0


class _Flow:
    """Flow collections with plain or quoted scalars: {a: b, c: [1, 2]}."""

    def __init__(self, s):
        self.s = s
        self.i = 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\n":
            self.i += 1

    def parse(self):
        self.ws()
        v = self.node()
        self.ws()
        if self.i != len(self.s):
            raise YAMLError("trailing characters in flow collection")
        return v

    def node(self):
        self.ws()
        c = self.s[self.i:self.i + 1]
        if c == "{":
            self.i += 1
            out = {}
            while True:
                self.ws()
                if self.s[self.i:self.i + 1] == "}":
                    self.i += 1
                    return out
                k = self.scalar(key=True)
                self.ws()
                v = None
                if self.s[self.i:self.i + 1] == ":":
                    self.i += 1
                    v = self.node()
                out[k if isinstance(k, str) else json.dumps(k)] = v
                self.ws()
                if self.s[self.i:self.i + 1] == ",":
                    self.i += 1
        if c == "[":
            self.i += 1
            out = []
            while True:
                self.ws()
                if self.s[self.i:self.i + 1] == "]":
                    self.i += 1
                    return out
                out.append(self.node())
                self.ws()
                if self.s[self.i:self.i + 1] == ",":
                    self.i += 1
        if not c:
            raise YAMLError("unexpected end of flow collection")
        return self.scalar()

    def scalar(self, key=False):
        c = self.s[self.i:self.i + 1]
        if c in ("'", '"'):
            end = _close_index(self.s[self.i + 1:], c)
            if end < 0:
                raise YAMLError("unterminated quoted scalar")
            raw = self.s[self.i + 1:self.i + 1 + end]
            self.i += end + 2
            return _decode_quoted(raw.split("\n"), c)
        j = self.i
        while j < len(self.s) and self.s[j] not in ",]}" and not (self.s[j] == ":" and (
                j + 1 >= len(self.s) or self.s[j + 1] in " ,]}")):
            j += 1
        tok = _fold(self.s[self.i:j].strip().split("\n"))
        self.i = j
        return tok if key else resolve_plain(tok)


def load_all(text):
    docs = []
    cur = []
    for ln in text.replace("\r\n", "\n").split("\n"):
        if ln.startswith("---") and (len(ln) == 3 or ln[3] in " \t"):
            docs.append("\n".join(cur))
            cur = [ln[3:]] if ln[3:].strip() else []
            continue
        if ln.rstrip() == "...":
            docs.append("\n".join(cur))
            cur = []
            continue
        cur.append(ln)
    docs.append("\n".join(cur))
    out = []
    for d in docs:
        if not d.strip() or all(not ln.strip() or ln.strip().startswith("#") for ln in d.split("\n")):
            continue
        p = _Parser(d)
        v = p.parse_node(0)
        if p._cur() is not None:
            raise YAMLError("unexpected content at line %d" % (p.i + 1))
        out.append(v)
    return out
