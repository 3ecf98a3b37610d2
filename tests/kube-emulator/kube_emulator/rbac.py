"""Authentication of ServiceAccount tokens, impersonation and RBAC
authorization, as kube-apiserver does them.

- Identities: the admin token is user "admin" in group system:masters (always
  allowed, like kube-apiserver's privileged-group authorizer). Tokens minted
  by the TokenRequest API (POST .../serviceaccounts/NAME/token) authenticate
  as system:serviceaccount:NS:NAME with the groups system:serviceaccounts,
  system:serviceaccounts:NS and system:authenticated; they stop working when
  they expire, when their audiences do not include the API audience, and when
  the ServiceAccount is deleted (checked by uid, like bound tokens). The admin
  API can mint static tokens for any user/groups (POST /emulator/v1/tokens).
- Impersonation (Impersonate-User/-Group/-Uid/-Extra-*, kubectl --as/--as-group)
  needs the verb "impersonate" on users/groups/serviceaccounts/uids/userextras.
- Authorization: RequestInfo-style attributes (verb from method + name/watch,
  name from the URL or from a metadata.name field selector on list/watch,
  namespace of a namespace request = its name), then the RBAC rule walk of
  pkg/registry/rbac/validation: ClusterRoleBindings, then RoleBindings in the
  request's namespace (to a Role there or a ClusterRole), rules matched on
  verbs, apiGroups, resources ("res/sub", "*", "*/sub"), resourceNames and
  nonResourceURLs ("/prefix/*"). The bootstrap roles every cluster binds to
  system:authenticated (system:discovery, system:basic-user,
  system:public-info-viewer) are built in, not stored objects.
- Denials are 403 Forbidden Status bodies with the apiserver's message
  (responsewriters.forbiddenMessage); RBAC's reason (missing roles) is appended.
- Reviews: SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview,
  LocalSubjectAccessReview (authorization.k8s.io/v1), SelfSubjectReview and
  TokenReview (authentication.k8s.io/v1): kubectl auth can-i [--list], auth whoami.
- ClusterRole aggregation controller: a ClusterRole with an aggregationRule gets
  the rules of the ClusterRoles its clusterRoleSelectors match (by name order,
  deduplicated), rewritten whenever a ClusterRole changes.
- Admission plugin OwnerReferencesPermissionEnforcement (opt-in): setting
  blockOwnerDeletion needs update on the owner's finalizers subresource;
  changing ownerReferences on update needs delete on the object.
- Light validation of Roles/ClusterRoles/bindings (roleRef kind, apiGroup,
  subjects, roleRef immutable) as the rbac registry strategies do.
"""
import base64
import json
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import unquote

from . import errors, kinds, protobuf
from .errors import ApiError
from .registry import ResourceType
from .selectors import label_selector_from_object
from .util import deep_copy, now_rfc3339, random_token

RBAC_GROUP = "rbac.authorization.k8s.io"
SA_KEY = ("", "serviceaccounts")
CR_KEY = (RBAC_GROUP, "clusterroles")
CRB_KEY = (RBAC_GROUP, "clusterrolebindings")
ROLE_KEY = (RBAC_GROUP, "roles")
RB_KEY = (RBAC_GROUP, "rolebindings")

MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
SA_PREFIX = "system:serviceaccount:"
API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
DEFAULT_TOKEN_SECONDS = 3600
MIN_TOKEN_SECONDS = 600
OWNER_REFS_PLUGIN = "OwnerReferencesPermissionEnforcement"
ADMISSION_PLUGINS = (OWNER_REFS_PLUGIN,)


# ---------------------------------------------------------------- identities

class UserInfo:
    """user.Info: name, uid, groups, extra."""
    __slots__ = ("name", "uid", "groups", "extra", "privileged")

    def __init__(self, name, groups=(), uid="", extra=None):
        self.name = name
        self.uid = uid or ""
        self.groups = tuple(groups)
        self.extra = dict(extra or {})
        self.privileged = MASTERS in self.groups

    def as_dict(self):
        d = {"username": self.name}
        if self.uid:
            d["uid"] = self.uid
        if self.groups:
            d["groups"] = list(self.groups)
        if self.extra:
            d["extra"] = {k: list(v) for k, v in self.extra.items()}
        return d

    def __repr__(self):
        return "<UserInfo %s %s>" % (self.name, list(self.groups))


ADMIN = UserInfo("admin", (MASTERS, AUTHENTICATED))


def sa_username(ns, name):
    return SA_PREFIX + ns + ":" + name


def sa_groups(ns):
    return ("system:serviceaccounts", "system:serviceaccounts:" + ns)


def _with_authenticated(name, groups):
    groups = list(groups)
    if name != ANONYMOUS and AUTHENTICATED not in groups and UNAUTHENTICATED not in groups:
        groups.append(AUTHENTICATED)
    return groups


# ---------------------------------------------------------------- attributes and rules

class Attributes:
    """authorizer.Attributes of one request."""
    __slots__ = ("user", "verb", "namespace", "group", "version", "resource", "subresource", "name",
                 "resource_request", "path")

    def __init__(self, user, verb, namespace="", group="", version="", resource="", subresource="", name="",
                 resource_request=True, path=""):
        self.user = user
        self.verb = verb or ""
        self.namespace = namespace or ""
        self.group = group or ""
        self.version = version or ""
        self.resource = resource or ""
        self.subresource = subresource or ""
        self.name = name or ""
        self.resource_request = resource_request
        self.path = path or ""


def _strs(v):
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def resource_matches(resources, resource, sub):
    combined = resource + "/" + sub if sub else resource
    for r in resources:
        if r == "*" or r == combined:
            return True
        if sub and len(r) == len(sub) + 2 and r.startswith("*/") and r.endswith(sub):
            return True
    return False


def nonresource_matches(urls, path):
    for u in urls:
        if u == "*" or u == path:
            return True
        if u.endswith("*") and path.startswith(u.rstrip("*")):
            return True
    return False


def rule_allows(a, rule):
    """rbac RuleAllows."""
    if not isinstance(rule, dict):
        return False
    verbs = _strs(rule.get("verbs"))
    if "*" not in verbs and a.verb not in verbs:
        return False
    if not a.resource_request:
        return nonresource_matches(_strs(rule.get("nonResourceURLs")), a.path)
    groups = _strs(rule.get("apiGroups"))
    if "*" not in groups and a.group not in groups:
        return False
    if not resource_matches(_strs(rule.get("resources")), a.resource, a.subresource):
        return False
    names = _strs(rule.get("resourceNames"))
    return not names or a.name in names


def _aggregate(errs):
    """utilerrors.NewAggregate(errs).Error()"""
    if len(errs) == 1:
        return errs[0]
    seen = []
    for e in errs:
        if e not in seen:
            seen.append(e)
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


def describe_subject(s, binding_ns):
    if s.get("kind") == "ServiceAccount":
        return '%s "%s"' % (s.get("kind"), (s.get("name") or "") + "/" + (s.get("namespace") or binding_ns))
    return '%s "%s"' % (s.get("kind"), s.get("name") or "")


def applies_to(user, subject, binding_ns):
    """rbac appliesToUser."""
    if not isinstance(subject, dict):
        return False
    kind = subject.get("kind")
    name = subject.get("name") or ""
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        if not ns:
            return False
        return user.name == sa_username(ns, name)
    return False


# The bootstrap policy every cluster binds to system:authenticated (and partly
# system:unauthenticated): (binding = role name, subject groups, rules).
BOOTSTRAP = (
    ("system:discovery", (AUTHENTICATED,),
     [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                             "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]}]),
    ("system:basic-user", (AUTHENTICATED,),
     [{"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
       "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
      {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]}]),
    ("system:public-info-viewer", (AUTHENTICATED, UNAUTHENTICATED),
     [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]}]),
)

ALL_RESOURCES_RULE = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
ALL_NONRESOURCE_RULE = {"verbs": ["*"], "nonResourceURLs": ["*"]}


def forbidden_message(a):
    """responsewriters.forbiddenMessage"""
    if not a.resource_request:
        return 'User "%s" cannot %s path "%s"' % (a.user.name, a.verb, a.path)
    res = a.resource + "/" + a.subresource if a.subresource else a.resource
    if a.namespace:
        return 'User "%s" cannot %s resource "%s" in API group "%s" in the namespace "%s"' % (
            a.user.name, a.verb, res, a.group, a.namespace)
    return 'User "%s" cannot %s resource "%s" in API group "%s" at the cluster scope' % (
        a.user.name, a.verb, res, a.group)


def new_forbidden(group, resource, name, msg):
    """apierrors.NewForbidden(GroupResource, name, err)"""
    if not resource and not group:
        return ApiError(403, "Forbidden", "forbidden: " + msg, {})
    q = errors.qualified(group, resource)
    if name:
        message = '%s "%s" is forbidden: %s' % (q, name, msg)
    else:
        message = "%s is forbidden: %s" % (q, msg)
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = resource
    return ApiError(403, "Forbidden", message, d)


def forbidden(a, reason=""):
    msg = forbidden_message(a)
    if reason:
        msg += ": " + reason
    if not a.resource_request:
        return new_forbidden("", "", "", msg)
    return new_forbidden(a.group, a.resource, a.name, msg)


# ---------------------------------------------------------------- tokens

def _b64url(b):
    return base64.urlsafe_b64encode(b).decode("ascii").rstrip("=")


def _rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class _Token:
    __slots__ = ("ns", "name", "sa_uid", "exp", "audiences", "jti")

    def __init__(self, ns, name, sa_uid, exp, audiences, jti):
        self.ns = ns
        self.name = name
        self.sa_uid = sa_uid
        self.exp = exp
        self.audiences = audiences
        self.jti = jti


# ---------------------------------------------------------------- protobuf messages of the review kinds
# (k8s.io/api authentication/v1 and authorization/v1 generated.proto field numbers)

_S, _I, _BOOL, _T = "string", "int", "bool", "time"
PROTO_MESSAGES = {
    "TokenRequest": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "TokenRequestSpec", 0),
                     3: ("status", "TokenRequestStatus", 0)},
    "TokenRequestSpec": {1: ("audiences", _S, 1), 3: ("boundObjectRef", "BoundObjectReference", 0),
                         4: ("expirationSeconds", _I, 0)},
    "BoundObjectReference": {1: ("kind", _S, 0), 2: ("apiVersion", _S, 0), 3: ("name", _S, 0), 4: ("uid", _S, 0)},
    "TokenRequestStatus": {1: ("token", _S, 0), 2: ("expirationTimestamp", _T, 0)},
    "TokenReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "TokenReviewSpec", 0)},
    "TokenReviewSpec": {1: ("token", _S, 0), 2: ("audiences", _S, 1)},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", 0)},
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "SelfSubjectAccessReviewSpec", 0)},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", 0),
                                    2: ("nonResourceAttributes", "NonResourceAttributes", 0)},
    "ResourceAttributes": {1: ("namespace", _S, 0), 2: ("verb", _S, 0), 3: ("group", _S, 0), 4: ("version", _S, 0),
                           5: ("resource", _S, 0), 6: ("subresource", _S, 0), 7: ("name", _S, 0)},
    "NonResourceAttributes": {1: ("path", _S, 0), 2: ("verb", _S, 0)},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "SelfSubjectRulesReviewSpec", 0)},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", _S, 0)},
    "SubjectAccessReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "SubjectAccessReviewSpec", 0)},
    "LocalSubjectAccessReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "SubjectAccessReviewSpec", 0)},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", 0),
                                2: ("nonResourceAttributes", "NonResourceAttributes", 0), 3: ("user", _S, 0),
                                4: ("groups", _S, 1), 6: ("uid", _S, 0)},
}

AUTHZ = "authorization.k8s.io"
AUTHN = "authentication.k8s.io"
# plural -> (group, kind, namespaced)
REVIEW_TYPES = {
    "selfsubjectaccessreviews": (AUTHZ, "SelfSubjectAccessReview", False),
    "selfsubjectrulesreviews": (AUTHZ, "SelfSubjectRulesReview", False),
    "subjectaccessreviews": (AUTHZ, "SubjectAccessReview", False),
    "localsubjectaccessreviews": (AUTHZ, "LocalSubjectAccessReview", True),
    "selfsubjectreviews": (AUTHN, "SelfSubjectReview", False),
    "tokenreviews": (AUTHN, "TokenReview", False),
}


# ---------------------------------------------------------------- validation of the RBAC kinds

class _RBACStrategy(kinds.Strategy):
    """The rbac registry strategies' checks on roleRef and subjects."""

    def __init__(self, binding, namespaced):
        self.binding = binding
        self.namespaced = namespaced

    def _default(self, obj):
        """SetDefaults_Subject / SetDefaults_(Cluster)RoleBinding of rbac/v1."""
        if not self.binding:
            return
        ref = obj.get("roleRef")
        if isinstance(ref, dict) and not ref.get("apiGroup"):
            ref["apiGroup"] = RBAC_GROUP
        for s in obj.get("subjects") or []:
            if isinstance(s, dict) and not s.get("apiGroup") and s.get("kind") in ("User", "Group"):
                s["apiGroup"] = RBAC_GROUP

    def prepare_create(self, api, rt, obj):
        self._default(obj)

    def prepare_update(self, api, rt, new, old):
        self._default(new)

    def validate(self, api, rt, obj, old, version):
        if not self.binding:
            causes = []
            for i, r in enumerate(obj.get("rules") or []):
                f = "rules[%d]" % i
                if not isinstance(r, dict):
                    causes.append(errors.invalid_value(f, r, "must be an object"))
                    continue
                if not _strs(r.get("verbs")):
                    causes.append(errors.required(f + ".verbs", "verbs must contain at least one value"))
                if r.get("nonResourceURLs"):
                    if self.namespaced:
                        causes.append(errors.invalid_value(f + ".nonResourceURLs", r.get("nonResourceURLs"),
                                                           "namespaced rules cannot apply to non-resource URLs"))
                    if r.get("apiGroups") or r.get("resources") or r.get("resourceNames"):
                        causes.append(errors.invalid_value(f + ".nonResourceURLs", r.get("nonResourceURLs"),
                                                           "rules cannot apply to both regular resources and "
                                                           "non-resource URLs"))
                    continue
                if not r.get("apiGroups"):
                    causes.append(errors.required(f + ".apiGroups", "resource rules must supply at least one "
                                                                    "api group"))
                if not r.get("resources"):
                    causes.append(errors.required(f + ".resources", "resource rules must supply at least one "
                                                                    "resource"))
            return causes
        causes = []
        ref = obj.get("roleRef")
        if not isinstance(ref, dict):
            return [errors.required("roleRef")]
        if ref.get("apiGroup") != RBAC_GROUP:
            causes.append(errors.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [RBAC_GROUP]))
        kinds_ok = ["Role", "ClusterRole"] if self.namespaced else ["ClusterRole"]
        if ref.get("kind") not in kinds_ok:
            causes.append(errors.not_supported("roleRef.kind", ref.get("kind") or "", kinds_ok))
        if not ref.get("name"):
            causes.append(errors.required("roleRef.name"))
        for i, s in enumerate(obj.get("subjects") or []):
            f = "subjects[%d]" % i
            if not isinstance(s, dict):
                causes.append(errors.invalid_value(f, s, "must be an object"))
                continue
            if not s.get("name"):
                causes.append(errors.required(f + ".name"))
            k = s.get("kind")
            if k == "ServiceAccount":
                if s.get("apiGroup"):
                    causes.append(errors.not_supported(f + ".apiGroup", s.get("apiGroup"), [""]))
                if not s.get("namespace") and not self.namespaced:
                    causes.append(errors.required(f + ".namespace"))
            elif k in ("User", "Group"):
                if s.get("apiGroup") != RBAC_GROUP:
                    causes.append(errors.not_supported(f + ".apiGroup", s.get("apiGroup") or "", [RBAC_GROUP]))
            else:
                causes.append(errors.not_supported(f + ".kind", k or "", ["ServiceAccount", "User", "Group"]))
        if old is not None and (old.get("roleRef") or {}) != ref:
            causes.append(errors.invalid_value("roleRef", ref, "cannot change roleRef"))
        return causes


def register_strategies():
    kinds.STRATEGIES.setdefault(CRB_KEY, _RBACStrategy(True, False))
    kinds.STRATEGIES.setdefault(RB_KEY, _RBACStrategy(True, True))
    kinds.STRATEGIES.setdefault(CR_KEY, _RBACStrategy(False, False))
    kinds.STRATEGIES.setdefault(ROLE_KEY, _RBACStrategy(False, True))


# ---------------------------------------------------------------- the RBAC subsystem

class RBAC:
    def __init__(self, api, admission=()):
        self.api = api
        self.store = api.store
        self.registry = api.registry
        unknown = [p for p in admission if p not in ADMISSION_PLUGINS]
        if unknown:
            raise ValueError('enable-admission-plugins plugin "%s" is unknown' % unknown[0])
        self.owner_refs_enforced = OWNER_REFS_PLUGIN in admission
        self._lock = threading.Lock()
        self._sa_tokens = {}      # token -> _Token
        self._static = {}         # token -> UserInfo (minted via the admin API)
        self._agg_wake = threading.Event()
        self._agg_thread = threading.Thread(target=self._aggregate_loop, name="clusterrole-aggregation",
                                            daemon=True)
        protobuf.MESSAGES.update({k: v for k, v in PROTO_MESSAGES.items() if k not in protobuf.MESSAGES})
        register_strategies()
        self._install_types()
        self.store.listeners.append(self._on_event)

    def _install_types(self):
        sa = self.registry.by_key(SA_KEY)
        if sa is not None and "token" not in sa.subresources:
            sa.subresources = dict(sa.subresources, token=["create"])
        for plural, (group, kind, namespaced) in REVIEW_TYPES.items():
            rt = ResourceType(group, ["v1"], plural, kind, namespaced, verbs=["create"])
            rt.virtual = True
            self.registry.put(rt)

    def start(self):
        self._agg_thread.start()
        self._agg_wake.set()

    # ------------------------------------------------------------ authentication
    def add_static_token(self, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get("user"), str) or not spec["user"]:
            raise errors.bad_request('a token needs {"user": NAME, "groups": [...]}')
        groups = _strs(spec.get("groups"))
        tok = spec.get("token") or random_token(40)
        if not isinstance(tok, str):
            raise errors.bad_request("token must be a string")
        u = UserInfo(spec["user"], _with_authenticated(spec["user"], groups), spec.get("uid") or "")
        with self._lock:
            self._static[tok] = u
        return {"token": tok, "user": u.as_dict()}

    def authenticate(self, token):
        """UserInfo for a non-admin bearer token, or None."""
        with self._lock:
            u = self._static.get(token)
            if u is not None:
                return u
            t = self._sa_tokens.get(token)
        if t is None:
            return None
        if time.time() >= t.exp:
            with self._lock:
                self._sa_tokens.pop(token, None)
            return None
        if API_AUDIENCE not in t.audiences:
            return None
        sa = self.store.get(SA_KEY, t.ns, t.name)
        if sa is None or sa["metadata"].get("uid") != t.sa_uid:
            return None  # the ServiceAccount was deleted (or recreated): the token is dead
        return UserInfo(sa_username(t.ns, t.name), sa_groups(t.ns) + (AUTHENTICATED,), t.sa_uid,
                        {"authentication.kubernetes.io/credential-id": ["JTI=" + t.jti]})

    def token_request(self, ns, name, body):
        """POST /api/v1/namespaces/NS/serviceaccounts/NAME/token -> (201, TokenRequest)."""
        if not isinstance(body, dict):
            raise errors.bad_request("TokenRequest body must be an object")
        if body.get("kind") not in (None, "", "TokenRequest"):
            raise errors.bad_request('kind "%s" is not TokenRequest' % body.get("kind"))
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        exp = spec.get("expirationSeconds")
        if exp in (None, 0):
            exp = DEFAULT_TOKEN_SECONDS
        if not isinstance(exp, int):
            raise errors.bad_request("spec.expirationSeconds must be an integer")
        if exp < MIN_TOKEN_SECONDS:
            raise errors.invalid("TokenRequest", AUTHN, name, [errors.invalid_value(
                "spec.expirationSeconds", exp, "may not specify a duration less than 10 minutes")])
        if exp > 1 << 32:
            raise errors.invalid("TokenRequest", AUTHN, name, [errors.invalid_value(
                "spec.expirationSeconds", exp, "may not specify a duration larger than 2^32 seconds")])
        auds = _strs(spec.get("audiences")) or [API_AUDIENCE]
        sa = self.store.get(SA_KEY, ns, name)
        if sa is None:
            raise errors.not_found("", "serviceaccounts", name)
        uid = sa["metadata"].get("uid")
        now = int(time.time())
        jti = str(uuid.uuid4())
        claims = {"aud": auds, "exp": now + exp, "iat": now, "iss": API_AUDIENCE, "jti": jti,
                  "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": uid}},
                  "nbf": now, "sub": sa_username(ns, name)}
        token = ".".join((_b64url(json.dumps({"alg": "RS256", "kid": "kube-emulator"}).encode()),
                          _b64url(json.dumps(claims, separators=(",", ":")).encode()),
                          _b64url(uuid.uuid4().bytes + uuid.uuid4().bytes)))
        with self._lock:
            self._sa_tokens[token] = _Token(ns, name, uid, now + exp, auds, jti)
        out_spec = {"audiences": auds, "expirationSeconds": exp, "boundObjectRef": spec.get("boundObjectRef")}
        return 201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                     "metadata": {"name": name, "namespace": ns, "creationTimestamp": now_rfc3339()},
                     "spec": out_spec, "status": {"token": token, "expirationTimestamp": _rfc3339(now + exp)}}

    # ------------------------------------------------------------ impersonation
    def impersonate(self, user, headers):
        """The acting user after Impersonate-* headers (403 when not allowed)."""
        if not getattr(headers, "impersonation", True):
            return user  # the request parser saw no Impersonate-* header
        iu = headers.get("Impersonate-User")
        groups_h = headers.get("Impersonate-Group")
        uid = headers.get("Impersonate-Uid")
        extras = {}
        for k, v in headers.items():
            if k.startswith("impersonate-extra-"):
                extras[unquote(k[len("impersonate-extra-"):]).lower()] = [x.strip() for x in v.split(",")]
        if iu is None:
            if groups_h is not None or uid is not None or extras:
                raise ApiError(500, "InternalError", "Internal error occurred: requested impersonation "
                               "without impersonating a user", {"causes": [{"message": "requested "
                               "impersonation without impersonating a user"}]})
            return user
        groups = [g.strip() for g in groups_h.split(",")] if groups_h else []
        checks = []
        name = iu
        if iu.startswith(SA_PREFIX) and len(iu.split(":")) == 4:
            _, _, sns, sname = iu.split(":")
            checks.append(Attributes(user, "impersonate", sns, "", "", "serviceaccounts", "", sname))
            if groups_h is None:
                groups = list(sa_groups(sns))
        else:
            checks.append(Attributes(user, "impersonate", "", "", "", "users", "", iu))
        for g in ([g.strip() for g in groups_h.split(",")] if groups_h else []):
            checks.append(Attributes(user, "impersonate", "", "", "", "groups", "", g))
        if uid is not None:
            checks.append(Attributes(user, "impersonate", "", AUTHN, "", "uids", "", uid))
        for k, vs in extras.items():
            for v in vs:
                checks.append(Attributes(user, "impersonate", "", AUTHN, "", "userextras", k, v))
        for a in checks:
            ok, reason = self.authorize(a)
            if not ok:
                raise forbidden(a, reason)
        return UserInfo(name, _with_authenticated(name, groups), uid or "", extras)

    # ------------------------------------------------------------ authorization
    def role_ref_rules(self, ref, binding_ns):
        """(rules, error text or None) of a binding's roleRef."""
        if not isinstance(ref, dict):
            return [], 'unsupported role reference kind: ""'
        kind, name = ref.get("kind"), ref.get("name") or ""
        if kind == "Role":
            role = self.store.get(ROLE_KEY, binding_ns, name) if binding_ns else None
            if role is None:
                return [], 'role.rbac.authorization.k8s.io "%s" not found' % name
            return role.get("rules") or [], None
        if kind == "ClusterRole":
            role = self.store.get(CR_KEY, "", name)
            if role is None:
                return [], 'clusterrole.rbac.authorization.k8s.io "%s" not found' % name
            return role.get("rules") or [], None
        return [], 'unsupported role reference kind: "%s"' % (kind or "")

    def visit_rules(self, user, namespace, visitor):
        """VisitRulesFor: visitor(source_text, rule, error) returns False to stop."""
        if user.privileged:
            for r in (ALL_RESOURCES_RULE, ALL_NONRESOURCE_RULE):
                if not visitor("group %s" % MASTERS, r, None):
                    return
        for name, groups, rules in BOOTSTRAP:
            for g in groups:
                if g in user.groups:
                    src = 'ClusterRoleBinding "%s" of ClusterRole "%s" to Group "%s"' % (name, name, g)
                    for r in rules:
                        if not visitor(src, r, None):
                            return
                    break
        for b in self.store.items(CRB_KEY):
            subj = next((s for s in b.get("subjects") or [] if applies_to(user, s, "")), None)
            if subj is None:
                continue
            ref = b.get("roleRef") or {}
            rules, err = self.role_ref_rules(ref, "")
            if err and not visitor(None, None, err):
                return
            src = 'ClusterRoleBinding "%s" of %s "%s" to %s' % (b["metadata"]["name"], ref.get("kind"),
                                                                ref.get("name"), describe_subject(subj, ""))
            for r in rules:
                if not visitor(src, r, None):
                    return
        if namespace:
            for b in self.store.items(RB_KEY, namespace):
                subj = next((s for s in b.get("subjects") or [] if applies_to(user, s, namespace)), None)
                if subj is None:
                    continue
                ref = b.get("roleRef") or {}
                rules, err = self.role_ref_rules(ref, namespace)
                if err and not visitor(None, None, err):
                    return
                src = 'RoleBinding "%s" of %s "%s" to %s' % (b["metadata"]["name"] + "/" + namespace,
                                                             ref.get("kind"), ref.get("name"),
                                                             describe_subject(subj, namespace))
                for r in rules:
                    if not visitor(src, r, None):
                        return

    def authorize(self, a):
        """(allowed, reason) like the union of the privileged-group and RBAC authorizers."""
        if a.user.privileged:
            return True, ""
        result = {"allowed": False, "reason": ""}
        errs = []

        def visit(src, rule, err):
            if err:
                errs.append(err)
                return True
            if rule_allows(a, rule):
                result["allowed"] = True
                result["reason"] = "RBAC: allowed by " + src
                return False
            return True
        self.visit_rules(a.user, a.namespace, visit)
        if result["allowed"]:
            return True, result["reason"]
        return False, ("RBAC: " + _aggregate(errs)) if errs else ""

    def check(self, a):
        """Raise the 403 when a is not allowed."""
        ok, reason = self.authorize(a)
        if not ok:
            raise forbidden(a, reason)

    def rules_for(self, user, namespace):
        """SubjectRulesReviewStatus for SelfSubjectRulesReview."""
        res, nonres, errs = [], [], []

        def visit(src, rule, err):
            if err:
                errs.append(err)
                return True
            if not isinstance(rule, dict):
                return True
            if _strs(rule.get("resources")):
                rr = {"verbs": _strs(rule.get("verbs")), "apiGroups": _strs(rule.get("apiGroups")),
                      "resources": _strs(rule.get("resources"))}
                if _strs(rule.get("resourceNames")):
                    rr["resourceNames"] = _strs(rule.get("resourceNames"))
                res.append(rr)
            if _strs(rule.get("nonResourceURLs")):
                nonres.append({"verbs": _strs(rule.get("verbs")),
                               "nonResourceURLs": _strs(rule.get("nonResourceURLs"))})
            return True
        self.visit_rules(user, namespace, visit)
        st = {"resourceRules": res, "nonResourceRules": nonres, "incomplete": bool(errs)}
        if errs:
            st["evaluationError"] = _aggregate(errs)
        return st

    # ------------------------------------------------------------ request hooks
    def check_path(self, user, method, path):
        """A non-resource request (discovery, /openapi, /)."""
        if user.privileged:
            return
        self.check(Attributes(user, method.lower(), path=path, resource_request=False))

    def check_resource(self, user, verb, group, version, plural, sub, ns, name, params):
        """A resource request, with the name/namespace rules of RequestInfo."""
        if user.privileged:
            return
        if name is None and verb in ("list", "watch"):
            name = _field_selector_name(params.get("fieldSelector"))
        if not ns and plural == "namespaces" and not group and name:
            ns = name
        self.check(Attributes(user, verb, ns or "", group, version, plural, sub, name or ""))

    # ------------------------------------------------------------ reviews (virtual resources)
    def review(self, user, rt, ns, body):
        """POST of a *review: (code, body)."""
        if not isinstance(body, dict):
            raise errors.bad_request("review body must be an object")
        kind = rt.kind
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        out = {"kind": kind, "apiVersion": rt.api_version("v1"), "metadata": {"creationTimestamp": None}}
        if kind == "SelfSubjectReview":
            out["status"] = {"userInfo": user.as_dict()}
            return 201, out
        if kind == "TokenReview":
            tok = spec.get("token") or ""
            u = ADMIN if tok and tok in getattr(self, "admin_tokens", ()) else self.authenticate(tok)
            out["spec"] = spec
            if u is None:
                out["status"] = {"authenticated": False, "user": {}, "error": "invalid bearer token"}
            else:
                out["status"] = {"authenticated": True, "user": u.as_dict(), "audiences": [API_AUDIENCE]}
            return 201, out
        if kind == "SelfSubjectRulesReview":
            target = spec.get("namespace") or ""
            out["spec"] = spec
            out["status"] = self.rules_for(user, target)
            return 201, out
        subject = user
        if kind in ("SubjectAccessReview", "LocalSubjectAccessReview"):
            if not spec.get("user") and not _strs(spec.get("groups")):
                raise errors.invalid(kind, AUTHZ, "", [errors.invalid_value(
                    "spec.user", "", "at least one of user or group must be specified")])
            subject = UserInfo(spec.get("user") or "", _strs(spec.get("groups")), spec.get("uid") or "")
        ra = spec.get("resourceAttributes")
        nra = spec.get("nonResourceAttributes")
        if isinstance(ra, dict) == isinstance(nra, dict):
            raise errors.invalid(kind, AUTHZ, "", [errors.required(
                "spec.resourceAttributes", "exactly one of nonResourceAttributes or resourceAttributes must "
                "be specified")])
        if isinstance(ra, dict):
            if kind == "LocalSubjectAccessReview" and (ra.get("namespace") or "") != ns:
                raise errors.invalid(kind, AUTHZ, "", [errors.invalid_value(
                    "spec.resourceAttributes.namespace", ra.get("namespace") or "",
                    "must match metadata.namespace")])
            a = Attributes(subject, ra.get("verb"), ra.get("namespace"), ra.get("group"), ra.get("version"),
                           ra.get("resource"), ra.get("subresource"), ra.get("name"))
        else:
            a = Attributes(subject, nra.get("verb"), path=nra.get("path"), resource_request=False)
        ok, reason = self.authorize(a)
        st = {"allowed": ok}
        if reason:
            st["reason"] = reason
        out["spec"] = spec
        out["status"] = st
        if kind == "LocalSubjectAccessReview":
            out["metadata"]["namespace"] = ns
        return 201, out

    # ------------------------------------------------------------ admission: OwnerReferencesPermissionEnforcement
    def admit_owner_refs(self, user, rt, version, ns, name, sub, new, old, create):
        """Validate a create/update whose stored result is `new` (old: previous state or None)."""
        if not self.owner_refs_enforced or user.privileged or not isinstance(new, dict):
            return
        nmd = new.get("metadata") if isinstance(new.get("metadata"), dict) else {}
        new_refs = [r for r in nmd.get("ownerReferences") or [] if isinstance(r, dict)]
        old_refs = [r for r in ((old or {}).get("metadata") or {}).get("ownerReferences") or []
                    if isinstance(r, dict)]
        changing = bool(new_refs) if old is None else new_refs != old_refs
        if not changing:
            return
        obj_name = name or nmd.get("name") or ""
        if not create:
            ok, reason = self.authorize(Attributes(user, "delete", ns or "", rt.group, version, rt.plural, sub,
                                                   obj_name))
            if not ok:
                raise new_forbidden(rt.group, rt.plural, obj_name, "cannot set an ownerRef on a resource you "
                                    "can't delete: %s, <nil>" % reason)
        old_by_uid = {r.get("uid"): r for r in old_refs}
        for ref in new_refs:
            if ref.get("blockOwnerDeletion") is not True:
                continue
            prev = old_by_uid.get(ref.get("uid"))
            if prev is not None and prev.get("blockOwnerDeletion") is True:
                continue
            av, kind = ref.get("apiVersion") or "", ref.get("kind") or ""
            group, _, ver = av.rpartition("/")
            ort = self.registry.by_api_version_kind(av, kind)
            if ort is None or ver not in ort.versions:
                raise new_forbidden(rt.group, rt.plural, obj_name, "cannot set blockOwnerDeletion in this case "
                                    "because cannot find RESTMapping for APIVersion %s Kind %s: no matches for "
                                    'kind "%s" in version "%s"' % (av, kind, kind, av))
            ok, reason = self.authorize(Attributes(user, "update", ns or "", group, ver, ort.plural, "finalizers",
                                                   ref.get("name") or ""))
            if not ok:
                raise new_forbidden(rt.group, rt.plural, obj_name, "cannot set blockOwnerDeletion if an "
                                    "ownerReference refers to a resource you can't set finalizers on: %s, <nil>"
                                    % reason)

    # ------------------------------------------------------------ ClusterRole aggregation controller
    def _on_event(self, ev):  # under the store lock: only wake the controller
        if ev.key == CR_KEY:
            self._agg_wake.set()

    def _aggregate_loop(self):
        while True:
            self._agg_wake.wait()
            self._agg_wake.clear()
            try:
                self.aggregate_once()
            except Exception:  # keep the controller alive, but say why
                traceback.print_exc(file=sys.stderr)

    def aggregate_once(self):
        """One pass of the clusterrole-aggregation controller over all aggregated ClusterRoles."""
        rt = self.registry.by_key(CR_KEY)
        roles = self.store.items(CR_KEY)
        for cr in roles:
            agg = cr.get("aggregationRule")
            if not isinstance(agg, dict):
                continue
            me = cr["metadata"]["name"]
            rules = []
            for sel in agg.get("clusterRoleSelectors") or []:
                if not isinstance(sel, dict):
                    continue
                try:
                    ls = label_selector_from_object(sel)
                except ValueError:
                    continue
                for other in roles:
                    omd = other["metadata"]
                    if omd["name"] == me or not ls.matches(omd.get("labels") or {}):
                        continue
                    for r in other.get("rules") or []:
                        if r not in rules:
                            rules.append(deep_copy(r))
            if rules != (cr.get("rules") or []):
                def setter(o, rules=rules):
                    o["rules"] = rules
                try:
                    self.api.mutate(rt, "", me, setter)
                except ApiError:
                    pass


def _field_selector_name(fs):
    """The name of a metadata.name=X (or ==) field selector that requires exactly that, else None."""
    if not fs:
        return None
    parts = [p.strip() for p in fs.split(",") if p.strip()]
    name = None
    for p in parts:
        if p.startswith("metadata.name=="):
            v = p[len("metadata.name=="):]
        elif p.startswith("metadata.name=") and not p.startswith("metadata.name!="):
            v = p[len("metadata.name="):]
        else:
            continue
        if name is not None and name != v:
            return None
        name = v
    if not name or "/" in name or "%" in name or name in (".", ".."):
        return None
    return name
