"""HTTP/1.1 serving (ThreadingHTTPServer, keep-alive, daemon threads), TLS
wrapping per connection, bearer-token authentication, request routing,
Accept negotiation (JSON / Table / PartialObjectMetadata) and response
writing (one sendall per response).

Emulator ties everything together: store, registry, api, controllers,
admin, optional fleet simulation.
"""
import json
import socket
import ssl
import sys
import threading
import time
import traceback
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from . import decoding, discovery, errors, gotypes, protobuf, rbac, tables, watch
from .admin import Admin
from .api import Api, Selectors
from .errors import ApiError
from .gc import Controllers
from .registry import Registry
from .store import Store
from .util import dumpb, parse_bool

PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
           409: "Conflict", 410: "Gone", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
           504: "Gateway Timeout"}
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}


class Request:
    __slots__ = ("method", "path", "params", "headers", "body", "handler", "verb", "group", "resource",
                 "subresource", "user", "warnings")

    def __init__(self, method, path, params, headers, body, handler):
        self.method = method
        self.path = path
        self.params = params
        self.headers = headers
        self.body = body
        self.handler = handler
        self.verb = None
        self.group = ""
        self.resource = ""
        self.subresource = ""
        self.user = None  # rbac.UserInfo of the (impersonated) requester
        self.warnings = []  # texts for Warning headers (299)


class Response:
    __slots__ = ("code", "body", "ctype", "headers")

    def __init__(self, code, body, ctype="application/json", headers=None):
        self.code = code
        self.body = body
        self.ctype = ctype
        self.headers = headers


def status_response(e):
    return Response(e.code, e.status(), headers=e.headers)


def warning_header(text):
    """A Warning header value as the apiserver writes it: 299 - "<text>" (strconv.Quote)."""
    return '299 - "%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------- Accept negotiation

def parse_accept(value):
    out = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        bits = [b.strip() for b in part.split(";")]
        params = {}
        for b in bits[1:]:
            if "=" in b:
                k, v = b.split("=", 1)
                params[k.strip()] = v.strip().strip('"')
        out.append((bits[0].lower(), params))
    return out


def negotiate(accept_header):
    """-> (kind, version) with kind in json|table|pom|pomlist; raises 406."""
    ranges = parse_accept(accept_header)
    if not ranges:
        return "json", None
    for mt, p in ranges:
        if mt not in ("application/json", "*/*", "application/*", "application/json;stream=watch"):
            continue
        as_ = p.get("as")
        if as_ is None:
            return "json", None
        if p.get("g") != "meta.k8s.io":
            continue
        v = p.get("v", "v1")
        if v not in ("v1", "v1beta1"):
            continue
        if as_ == "Table":
            return "table", v
        if as_ == "PartialObjectMetadata":
            return "pom", v
        if as_ == "PartialObjectMetadataList":
            return "pomlist", v
    raise errors.not_acceptable()


def check_transform(kind, verb, rt):
    """doTransformObject's checks (handlers/response.go): PartialObjectMetadata needs a single
    object and PartialObjectMetadataList a list. The messages name the Go type of what the
    storage returned (%T: internal types for built-ins, unstructured for custom resources)."""
    if kind == "pom" and verb == "list":
        t = ("*%sList" % gotypes.INTERNAL_TYPE[rt.key]) if rt.builtin else "*unstructured.UnstructuredList"
        raise errors.not_acceptable_transform("you requested PartialObjectMetadata, but the requested object is a "
                                              "list (%s)" % t)
    if kind == "pomlist" and verb == "get":
        t = ("*" + gotypes.INTERNAL_TYPE[rt.key]) if rt.builtin else "*unstructured.Unstructured"
        raise errors.not_acceptable_transform("you requested PartialObjectMetadataList, but the requested object is "
                                              "not a list (%s)" % t)


def resource_path(rest):
    """(watch_prefix, namespace, plural, name, subresource) of the part of a resource URL
    after /api/v1 or /apis/G/V, or None when it is not a resource path."""
    watch_prefix = False
    if rest and rest[0] == "watch":
        watch_prefix = True
        rest = rest[1:]
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces" and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        ns = rest[1]
        rest = rest[2:]
    if not rest or len(rest) > 3:
        return None
    return watch_prefix, ns, rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else "")


def resource_verb(method, name, watch):
    """The audit verb of a resource request (RequestInfoFactory), or None for other methods."""
    if method in ("GET", "HEAD"):
        if name is not None:
            return "get"
        return "watch" if watch else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method) or \
        ({"DELETE": "delete" if name is not None else "deletecollection"}.get(method))


def classify(req, parts):
    """Fill req.verb/group/resource/subresource from the URL alone (for requests that are
    answered before routing, e.g. 401s, so that they are counted too)."""
    if not parts or parts[0] not in ("api", "apis"):
        if parts and parts[0] == "openapi":
            req.verb = "get"
        return
    head_len = 2 if parts[0] == "api" else 3
    if len(parts) <= head_len:
        req.verb = "get"  # discovery
        return
    req.group = "" if parts[0] == "api" else parts[1]
    rp = resource_path(parts[head_len:])
    if rp is None:
        req.verb = "get"
        return
    watch_prefix, _, plural, name, sub = rp
    req.resource, req.subresource = plural, sub
    req.verb = resource_verb(req.method, name, watch_prefix or parse_bool(req.params.get("watch", "")) is True) \
        or req.method.lower()


# ---------------------------------------------------------------- HTTP plumbing

class Headers(dict):
    """Request headers with case-insensitive get() (keys stored lower-case).
    `impersonation` says whether any Impersonate-* header is present."""
    impersonation = True

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name):
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name):
        return dict.__contains__(self, name.lower())


_DATE_CACHE = [0, ""]


def http_date():
    now = int(time.time())
    if _DATE_CACHE[0] != now:
        _DATE_CACHE[0] = now
        _DATE_CACHE[1] = formatdate(now, usegmt=True)
    return _DATE_CACHE[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-emulator"

    def handle_one_request(self):
        """A lean HTTP/1.1 request parser (the stdlib one goes through the email
        package, which dominated the per-request cost)."""
        try:
            line = self.rfile.readline(65537)
            if not line:
                self.close_connection = True
                return
            if len(line) > 65536:
                self.close_connection = True
                return
            self.raw_requestline = line
            parts = line.decode("latin-1").rstrip("\r\n").split()
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                if not parts:
                    return  # tolerate a stray CRLF between requests
                self.close_connection = True
                self.requestline = line.decode("latin-1").rstrip("\r\n")
                self.request_version = "HTTP/1.1"
                self.send_body(400, errors.bad_request("malformed request line").status())
                return
            self.command, self.path, self.request_version = parts
            self.requestline = " ".join(parts)
            headers = Headers()
            imp = False
            n = 0
            while True:
                h = self.rfile.readline(65537)
                if h in (b"\r\n", b"\n", b""):
                    break
                n += 1
                if n > 200:
                    self.close_connection = True
                    return
                k, _, v = h.decode("latin-1").partition(":")
                k = k.strip().lower()
                v = v.strip()
                if k.startswith("impersonate-"):
                    imp = True
                if k in headers:
                    headers[k] = headers[k] + ", " + v
                else:
                    headers[k] = v
            headers.impersonation = imp
            self.headers = headers
            conn = headers.get("connection", "").lower()
            if self.request_version == "HTTP/1.0":
                self.close_connection = "keep-alive" not in conn
            else:
                self.close_connection = "close" in conn
            if headers.get("expect", "").lower() == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._serve()
            try:
                self.wfile.flush()
            except (OSError, ValueError):
                self.close_connection = True
        except TimeoutError:
            self.close_connection = True

    def log_message(self, fmt, *args):
        if self.server.emulator.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send_raw_headers(self, code, headers):
        lines = ["HTTP/1.1 %d %s" % (code, REASONS.get(code, "Unknown")),
                 "Date: " + http_date()]
        lines += ["%s: %s" % kv for kv in headers]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send_body(self, code, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = dumpb(body)
        elif isinstance(body, str):
            body = body.encode("utf-8")
        h = ["HTTP/1.1 %d %s" % (code, REASONS.get(code, "Unknown")),
             "Cache-Control: no-cache, private",
             "Content-Type: " + ctype,
             "Date: " + http_date(),
             "Content-Length: %d" % len(body)]
        if headers:
            h += ["%s: %s" % kv for kv in (headers.items() if isinstance(headers, dict) else headers)]
        if self.close_connection:
            h.append("Connection: close")
        head = ("\r\n".join(h) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + body)  # HEAD: headers only

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(n))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _serve(self):
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()} if query else {}
        req = Request(self.command, unquote(path), params, self.headers, body, self)
        emu = self.server.emulator
        resp = emu.handle(req)
        if emu.verbose:
            self.log_message('"%s %s" %s %s', self.command, self.path, resp.code if resp else "200 (stream)",
                             self.headers.get("User-Agent", "-"))
        if resp is None:  # streamed (watch)
            return
        headers = resp.headers
        if req.warnings:
            headers = list((headers or {}).items()) + [("Warning", warning_header(w)) for w in req.warnings]
        try:
            self.send_body(resp.code, resp.body, resp.ctype, headers)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr, emulator, ssl_ctx=None):
        self.emulator = emulator
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.ssl_ctx is None:
            self.RequestHandlerClass(request, client_address, self)
            return
        try:
            request.settimeout(30)
            conn = self.ssl_ctx.wrap_socket(request, server_side=True)
            conn.settimeout(None)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


# ---------------------------------------------------------------- the emulator

class Emulator:
    def __init__(self, version_minor=32, history=10000, tokens=None, verbose=False, admission=(),
                 bookmark_interval=watch.DEFAULT_BOOKMARK_INTERVAL):
        self.version_minor = version_minor
        self.watch_settings = watch.Settings(bookmark_interval)
        self.verbose = verbose
        self.tokens = dict(tokens or {})  # token -> user name
        self.admin_tokens = set(t for t, u in self.tokens.items() if u == "admin")
        self.store = Store(history)
        self.registry = Registry()
        self.api = Api(self.store, self.registry)
        # RBAC: ServiceAccount tokens (TokenRequest), impersonation, authorization, reviews
        self.rbac = rbac.RBAC(self.api, admission)
        self.rbac.admin_tokens = self.admin_tokens
        self.admin = Admin()
        self.controllers = Controllers(self.api)
        self.fleet = None
        # User for requests without an Authorization header (None = 401). main.py sets "admin" for
        # --plain-http: client-go/kubectl never send bearer tokens over plain HTTP (kubernetes/kubectl#744),
        # so that mode behaves like the old apiserver insecure port. A wrong token is still 401.
        self.anonymous_user = None
        self.server_address = "127.0.0.1:0"
        self._watch_lock = threading.Lock()
        self._open_watches = {}  # Watcher -> resource label
        self._opened_watches = {}  # resource label -> watches ever opened (only grows)
        ns_rt = self.registry.by_key(("", "namespaces"))
        for ns in DEFAULT_NAMESPACES:
            self.api.create(ns_rt, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    def start_controllers(self):
        self.controllers.start()
        self.rbac.start()
        if self.fleet is not None:
            self.fleet.start()

    # ------------------------------------------------------------ watches bookkeeping
    def watch_opened(self, w):
        rt = self.registry.by_key(w.key)
        label = rt.qualified() if rt else "%s.%s" % (w.key[1], w.key[0])
        with self._watch_lock:
            self._open_watches[w] = label
            self._opened_watches[label] = self._opened_watches.get(label, 0) + 1

    def watch_closed(self, w):
        with self._watch_lock:
            self._open_watches.pop(w, None)

    def watches_summary(self):
        with self._watch_lock:
            by = {}
            for label in self._open_watches.values():
                by[label] = by.get(label, 0) + 1
            return {"total": len(self._open_watches), "byResource": by,
                    "openedByResource": dict(self._opened_watches)}

    def close_watches(self, after_events):
        with self._watch_lock:
            ws = list(self._open_watches)
        for w in ws:
            if after_events and after_events > 0:
                w.close_after = after_events
            else:
                w.close()
        return {"closed" if not after_events else "scheduled": len(ws)}

    # ------------------------------------------------------------ entry
    def handle(self, req):
        try:
            return self._handle(req)
        except ApiError as e:
            self._record(req, e.code)
            return status_response(e)
        except Exception as e:  # never let a bug kill the connection silently
            traceback.print_exc(file=sys.stderr)
            self._record(req, 500)
            return status_response(errors.internal_error(repr(e)))

    def _record(self, req, code):
        if req.verb is not None:
            agent = (req.headers.get("User-Agent") or "").split("/", 1)[0]
            self.admin.record(req.verb, req.group, req.resource, req.subresource, code, agent)

    def _auth(self, req):
        """rbac.UserInfo, None (no Authorization header) or False (bad credentials)."""
        h = req.headers.get("Authorization")
        if h is None:
            return None
        if h[:7].lower() == "bearer ":
            tok = h[7:].strip()
            u = self.tokens.get(tok)
            if u == "admin":
                return rbac.ADMIN
            if u is not None:
                return rbac.UserInfo(u, [rbac.AUTHENTICATED])
            return self.rbac.authenticate(tok) or False
        return False

    def _handle(self, req):
        path = req.path
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/")
        user = self._auth(req)
        if user is None:
            user = rbac.ADMIN if self.anonymous_user == "admin" else self.anonymous_user
        if user is False or (user is None and not path.startswith(PUBLIC_PATHS)):
            if not path.startswith("/emulator/"):
                classify(req, [p for p in path.split("/") if p])
                self._record(req, 401)
            return status_response(errors.unauthorized())
        if path.startswith("/emulator/"):
            if user is not rbac.ADMIN:
                raise errors.forbidden("", "", "", "admin API needs the admin token")
            return self._admin(req, path)
        if user is not None:
            user = self.rbac.impersonate(user, req.headers)
        req.user = user
        parts = [p for p in path.split("/") if p]
        if user is not None and not user.privileged and not path.startswith(PUBLIC_PATHS) and not (
                parts and ((parts[0] == "api" and len(parts) >= 3) or (parts[0] == "apis" and len(parts) >= 4))):
            # a non-resource request (/, discovery, /openapi): nonResourceURLs rules
            if parts and parts[0] in ("api", "apis", "openapi"):
                req.verb = "get"
            self.rbac.check_path(user, req.method, req.path)
        if not parts:
            return Response(200, {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz",
                                             "/version", "/openapi/v2", "/openapi/v3"]})
        head = parts[0]
        if head in ("healthz", "livez", "readyz"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if head == "version" and len(parts) == 1:
            return Response(200, discovery.version_info(self.version_minor))
        if head == "openapi":
            req.verb = "get"
            if parts[1:] == ["v2"]:
                r = Response(200, b"", discovery.OPENAPI_V2_CTYPE)
            elif parts[1:] == ["v3"]:
                r = Response(200, discovery.openapi_v3())
            else:
                raise errors.path_not_found()
            self._record(req, 200)
            return r
        if head == "api":
            if len(parts) == 1:
                req.verb = "get"
                self._record(req, 200)
                return Response(200, discovery.api_versions(self.server_address))
            if parts[1] != "v1":
                req.verb = "get"
                raise errors.path_not_found()
            return self._resource(req, "", "v1", parts[2:])
        if head == "apis":
            if len(parts) == 1:
                req.verb = "get"
                self._record(req, 200)
                return Response(200, discovery.api_group_list(self.registry))
            if len(parts) == 2:
                req.verb = "get"
                doc = discovery.api_group(self.registry, parts[1])
                if doc is None:
                    raise errors.path_not_found()
                self._record(req, 200)
                return Response(200, doc)
            return self._resource(req, parts[1], parts[2], parts[3:])
        raise errors.path_not_found()

    # ------------------------------------------------------------ resources
    def _resource(self, req, group, version, rest):
        req.group = group
        if not rest:
            req.verb = "get"
            doc = discovery.api_resource_list(self.registry, group, version)
            if doc is None:
                raise errors.path_not_found()
            self._record(req, 200)
            return Response(200, doc)
        rp = resource_path(rest)
        if rp is None:
            req.verb = "get"
            raise errors.path_not_found()
        watch_prefix, ns, plural, name, sub = rp
        req.resource = plural
        req.subresource = sub
        m = req.method
        params = req.params
        req.verb = resource_verb(m, name, watch_prefix or parse_bool(params.get("watch", "")) is True)
        if req.verb is None:
            req.verb = m.lower()
            raise errors.method_not_allowed(m, group, plural)
        if req.user is not None:
            self.rbac.check_resource(req.user, req.verb, group, version, plural, sub, ns, name, params)
        rt = self.registry.lookup(group, version, plural)
        if rt is None or (ns is not None and not rt.namespaced):
            raise errors.path_not_found()
        if sub and sub not in rt.subresources:
            raise errors.path_not_found()
        if rt.namespaced and ns is None and name is not None:
            raise errors.path_not_found()
        agent = (req.headers.get("User-Agent") or "").split("/", 1)[0]
        fault = self.admin.check_fault(req.verb, group, plural, sub, agent)
        delay = self.admin.delay_ms(req.verb, plural)
        if delay:
            time.sleep(delay / 1000.0)
        if fault is not None:
            raise fault
        if getattr(rt, "virtual", False) or (sub == "token" and rt.key == rbac.SA_KEY):
            if req.verb != "create" or (rt.namespaced and ns is None):
                raise errors.method_not_allowed(req.verb, group, plural)
            if sub == "token":
                code, body = self.rbac.token_request(ns, name, self._json(req))
            else:
                code, body = self.rbac.review(req.user, rt, ns, self._json(req))
            self._record(req, code)
            return Response(code, body)
        if req.verb not in rt.verbs and not sub and not (rt.terminating and req.verb in ("patch", "update", "create")):
            raise errors.method_not_allowed(req.verb, group, plural)
        if rt.namespaced and ns is None and req.verb not in ("list", "watch"):
            raise errors.path_not_found()
        dry = self._dry_run(params)
        api = self.api
        v = req.verb
        directive = params.get("fieldValidation")
        if directive is not None and v in OPTIONS_KIND:
            decoding.check_directive(directive, OPTIONS_KIND[v])
        if v in ("create", "update", "patch") and self.rbac.owner_refs_enforced and not req.user.privileged:
            self._admit_owner_refs(req, rt, version, ns, name, sub)
        if v in ("get", "list", "watch"):
            kind, fmt_ver = negotiate(req.headers.get("Accept"))
            check_transform(kind, v, rt)
        else:
            kind, fmt_ver = "json", None
        if v == "get":
            obj = api.get(rt, ns, name, params.get("resourceVersion"))
            r = Response(200, self._render_one(rt, version, obj, kind, fmt_ver, params))
        elif v == "list":
            sel = Selectors(rt, params.get("labelSelector"), params.get("fieldSelector"))
            limit = self._int(params.get("limit"), "limit")
            res = api.list(rt, ns, sel, limit, params.get("continue"), params.get("resourceVersion"),
                           params.get("resourceVersionMatch"))
            r = Response(200, self._render_list(rt, version, res, kind, fmt_ver, params))
        elif v == "watch":
            sel = Selectors(rt, params.get("labelSelector"), params.get("fieldSelector"))
            if kind == "table":
                fmt = watch.WatchFormat(rt, version, api, "table", params.get("includeObject") or "Metadata",
                                        table_version=fmt_ver)
            elif kind in ("pom", "pomlist"):
                fmt = watch.WatchFormat(rt, version, api, kind, pom_version=fmt_ver)
            else:
                fmt = watch.WatchFormat(rt, version, api)
            split = self.admin.split_watch(group, plural, agent)
            watch.serve(req.handler, self.store, rt, ns, None if sel.empty else sel.matches, fmt, params,
                        self.watch_settings, split, on_start=lambda code: self._record(req, code))
            return None
        elif v == "create":
            if name is not None:
                raise errors.method_not_allowed(v, group, plural)
            obj = api.create(rt, ns, self._body(req, rt), version, dry, directive, req.warnings, req.body)
            r = Response(201, api.output(rt, obj, version))
        elif v == "update":
            obj, created = api.update(rt, ns, name, self._body(req, rt), version, sub or None, dry, directive,
                                      req.warnings, req.body)
            r = Response(201 if created else 200, api.output(rt, obj, version))
        elif v == "patch":
            obj = api.patch(rt, ns, name, req.headers.get("Content-Type"), req.body, version, sub or None, dry,
                            directive, req.warnings)
            r = Response(200, api.output(rt, obj, version))
        elif v == "delete":
            opts = self._delete_options(req)
            obj, removed = api.delete(rt, ns, name, opts, dry or "All" in (opts.get("dryRun") or []))
            if removed and not rt.return_deleted:
                d = {"name": name}
                if group:
                    d["group"] = group
                d["kind"] = plural
                d["uid"] = obj["metadata"].get("uid")
                r = Response(200, errors.status_success(d))
            else:
                r = Response(200, api.output(rt, obj, version))
        elif v == "deletecollection":
            sel = Selectors(rt, params.get("labelSelector"), params.get("fieldSelector"))
            opts = self._delete_options(req)
            objs = api.delete_collection(rt, ns, sel, opts, dry or "All" in (opts.get("dryRun") or []))
            r = Response(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(version),
                               "metadata": {"resourceVersion": str(self.store.rv)},
                               "items": [api.output(rt, o, version) for o in objs]})
        else:
            raise errors.method_not_allowed(v, group, plural)
        self._record(req, r.code)
        return r

    def _admit_owner_refs(self, req, rt, version, ns, name, sub):
        """OwnerReferencesPermissionEnforcement: judge the object as it would be stored (a dry run)."""
        api = self.api
        if req.verb == "create":
            body = self._body(req, rt)
            self.rbac.admit_owner_refs(req.user, rt, version, ns, name, sub, body, None, True)
            return
        old = api.store.get(rt.key, ns if rt.namespaced else "", name)
        if req.verb == "update":
            new, created = api.update(rt, ns, name, self._body(req, rt), version, sub or None, True)
            old = None if created else old
        else:
            new = api.patch(rt, ns, name, req.headers.get("Content-Type"), req.body, version, sub or None, True)
        self.rbac.admit_owner_refs(req.user, rt, version, ns, name, sub, new, old, old is None)

    def _render_one(self, rt, version, obj, kind, fmt_ver, params):
        if kind == "table":
            return tables.table(rt, version, [obj], obj["metadata"].get("resourceVersion"),
                                include=params.get("includeObject") or "Metadata", table_version=fmt_ver)
        if kind == "pom":
            p = tables.pom(obj)
            if fmt_ver != "v1":
                p["apiVersion"] = "meta.k8s.io/" + fmt_ver
            return p
        return self.api.output(rt, obj, version)

    def _render_list(self, rt, version, res, kind, fmt_ver, params):
        if kind == "table":
            return tables.table(rt, version, res.items, res.rv, res.cont, res.remaining,
                                include=params.get("includeObject") or "Metadata", table_version=fmt_ver)
        if kind == "pomlist":
            return tables.pom_list(res.items, res.rv, res.cont, res.remaining, fmt_ver)
        md = {"resourceVersion": str(res.rv)}
        if res.cont:
            md["continue"] = res.cont
        if res.remaining:
            md["remainingItemCount"] = res.remaining
        if rt.builtin:
            items = []
            for o in res.items:
                o = dict(o)
                o.pop("apiVersion", None)
                o.pop("kind", None)
                items.append(o)
        else:
            items = [self.api.output(rt, o, version) for o in res.items]
        return {"kind": rt.list_kind, "apiVersion": rt.api_version(version), "metadata": md, "items": items}

    @staticmethod
    def _int(s, what):
        if s in (None, ""):
            return None
        try:
            return int(s)
        except ValueError:
            raise errors.bad_request("invalid %s: %s" % (what, s))

    @staticmethod
    def _dry_run(params):
        d = params.get("dryRun")
        if d in (None, ""):
            return False
        if d != "All":
            raise errors.bad_request('dryRun: Unsupported value: "%s": supported values: "All"' % d)
        return True

    @staticmethod
    def _body(req, rt):
        """A create/update body: Kubernetes protobuf or JSON (decoded as the JSON serializer does)."""
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/vnd.kubernetes.protobuf":
            return Emulator._json(req)
        return decoding.parse_body(req.body, rt)

    @staticmethod
    def _json(req):
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/vnd.kubernetes.protobuf":
            try:
                return protobuf.decode(req.body)
            except ValueError as e:
                raise ApiError(415, "UnsupportedMediaType", "cannot decode protobuf body: %s" % e)
        try:
            return json.loads(req.body or b"null")
        except ValueError as e:
            raise errors.bad_request("couldn't decode the request body as JSON: %s" % e)

    def _delete_options(self, req):
        opts = {}
        if req.body and req.body.startswith(protobuf.MAGIC):
            try:
                opts = protobuf.decode(req.body)
            except ValueError as e:
                raise errors.bad_request("couldn't decode DeleteOptions: %s" % e)
        elif req.body:
            try:
                opts = json.loads(req.body)
            except ValueError as e:
                raise errors.bad_request("couldn't decode DeleteOptions: %s" % e)
            if not isinstance(opts, dict):
                opts = {}
        p = req.params
        if p.get("propagationPolicy"):
            opts["propagationPolicy"] = p["propagationPolicy"]
        if p.get("orphanDependents"):
            opts["orphanDependents"] = parse_bool(p["orphanDependents"])
        if p.get("dryRun"):
            opts["dryRun"] = [p["dryRun"]]
        dr = opts.get("dryRun")
        if dr and any(x != "All" for x in dr):
            raise errors.bad_request('dryRun: Unsupported value: "%s": supported values: "All"' % dr[0])
        return opts

    # ------------------------------------------------------------ admin API
    def _settings(self):
        ws = self.watch_settings
        return {"bookmarkIntervalSeconds": ws.bookmark_interval, "splitChunks": ws.split_chunks}

    def _set_settings(self, spec):
        if not isinstance(spec, dict):
            raise errors.bad_request("settings must be a JSON object")
        unknown = sorted(set(spec) - {"bookmarkIntervalSeconds", "splitChunks"})
        if unknown:
            raise errors.bad_request('unknown setting "%s"' % unknown[0])
        ws = self.watch_settings
        if "bookmarkIntervalSeconds" in spec:
            v = spec["bookmarkIntervalSeconds"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise errors.bad_request("bookmarkIntervalSeconds must be a positive number")
            ws.bookmark_interval = float(v)
        if "splitChunks" in spec:
            if not isinstance(spec["splitChunks"], bool):
                raise errors.bad_request("splitChunks must be true or false")
            ws.split_chunks = spec["splitChunks"]
        return self._settings()

    def _admin(self, req, path):
        parts = [p for p in path.split("/") if p][2:]  # after emulator/v1
        m = req.method
        a = self.admin
        body = None
        if m in ("POST", "PUT") and req.body:
            try:
                body = json.loads(req.body)
            except ValueError as e:
                raise errors.bad_request("bad JSON: %s" % e)
        if parts == ["stats"]:
            if m == "GET":
                return Response(200, a.stats())
            if m == "DELETE":
                a.reset_stats()
                return Response(200, {"ok": True})
        elif parts == ["faults"]:
            if m == "GET":
                return Response(200, a.faults())
            if m == "POST":
                return Response(201, a.add_fault(body or {}))
            if m == "DELETE":
                a.clear_faults()
                return Response(200, {"ok": True})
        elif len(parts) == 2 and parts[0] == "faults" and m == "DELETE":
            a.clear_faults(self._int(parts[1], "id"))
            return Response(200, {"ok": True})
        elif parts == ["latency"]:
            if m == "GET":
                return Response(200, a.latency())
            if m == "POST":
                return Response(200, a.set_latency(body or {}))
            if m == "DELETE":
                a.clear_latency()
                return Response(200, {"ok": True})
        elif parts == ["watches"] and m == "GET":
            return Response(200, self.watches_summary())
        elif parts == ["watches", "close"] and m == "POST":
            n = (body or {}).get("afterEvents") or 0
            return Response(200, self.close_watches(int(n)))
        elif parts == ["settings"]:
            if m == "GET":
                return Response(200, self._settings())
            if m in ("POST", "PUT"):
                return Response(200, self._set_settings(body or {}))
        elif parts == ["tokens"] and m == "POST":
            return Response(201, self.rbac.add_static_token(body or {}))
        elif parts == ["compact"] and m == "POST":
            self.store.compact()
            return Response(200, {"compactedAt": str(self.store.rv)})
        elif parts == ["fleet", "bundles"] and m == "GET" and self.fleet is not None:
            return Response(200, self.fleet.debug_all())
        elif len(parts) == 4 and parts[:2] == ["fleet", "bundles"] and m == "GET":
            if self.fleet is None:
                raise errors.path_not_found()
            d = self.fleet.debug(parts[2], parts[3])
            if d is None:
                raise errors.not_found("fleet.cattle.io", "bundles", parts[3])
            return Response(200, d)
        raise errors.path_not_found()
