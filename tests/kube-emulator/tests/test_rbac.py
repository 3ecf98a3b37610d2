"""RBAC in the emulator: ServiceAccount tokens (TokenRequest, `kubectl create token`),
authorization of every request like kube-apiserver's RBAC authorizer (verbs, apiGroups,
resources and subresources, resourceNames, nonResourceURLs, wildcards; User, Group and
ServiceAccount subjects; ClusterRoleBindings and RoleBindings to Roles or ClusterRoles),
the Forbidden Status body, reviews (`kubectl auth can-i`, `auth whoami`), impersonation,
ClusterRole aggregation and the OwnerReferencesPermissionEnforcement admission plugin.

Most tests share one emulator (module_emulator) and work in their own namespaces.
"""
import base64
import json
import os
import subprocess
import tempfile

import pytest

from emu_helpers import widget_crd, wait_for

RBAC = "/apis/rbac.authorization.k8s.io/v1"
W = "/apis/example.com/v1"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
POM = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


# ---------------------------------------------------------------- helpers

def ok(r, *codes):
    assert r.status in (codes or (200, 201)), r
    return r.json


def forbidden(r):
    assert r.status == 403, r
    body = r.json
    assert body["reason"] == "Forbidden" and body["code"] == 403 and body["kind"] == "Status", body
    return body


def allowed(r):
    """Anything but 403 means RBAC let the request through."""
    assert r.status != 403, r
    return r


def ns_obj(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def make_ns(emu, name):
    r = emu.api("POST", "/api/v1/namespaces", ns_obj(name))
    assert r.status in (201, 409), r


def make_sa(emu, ns, name):
    make_ns(emu, ns)
    r = emu.api("POST", f"/api/v1/namespaces/{ns}/serviceaccounts",
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
    assert r.status in (201, 409), r


def token_for(emu, ns, name, **spec):
    r = emu.api("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/{name}/token",
                {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
    return ok(r, 201)["status"]["token"]


def sa(emu, ns, name):
    """A ServiceAccount and a token for it; returns the token."""
    make_sa(emu, ns, name)
    return token_for(emu, ns, name)


def put(emu, path, obj):
    """Create or replace (RBAC kinds allow create on update)."""
    r = emu.api("PUT", f"{path}/{obj['metadata']['name']}", obj)
    assert r.status in (200, 201), r
    return r.json


def role(emu, ns, name, rules):
    return put(emu, f"{RBAC}/namespaces/{ns}/roles",
               {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": name, "namespace": ns}, "rules": rules})


def cluster_role(emu, name, rules=None, labels=None, aggregation=None):
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name, "labels": labels or {}}, "rules": rules or []}
    if aggregation is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": aggregation}
    return put(emu, f"{RBAC}/clusterroles", obj)


def sa_subject(ns, name):
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}


def role_binding(emu, ns, name, ref_kind, ref_name, subjects):
    return put(emu, f"{RBAC}/namespaces/{ns}/rolebindings",
               {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
                "subjects": subjects})


def cluster_role_binding(emu, name, ref_name, subjects):
    return put(emu, f"{RBAC}/clusterrolebindings",
               {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ref_name},
                "subjects": subjects})


def widget(name, ns, size=1):
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": ns},
            "spec": {"size": size}}


def wpath(ns, name=None, sub=None):
    p = f"{W}/namespaces/{ns}/widgets"
    if name:
        p += "/" + name
    if sub:
        p += "/" + sub
    return p


def secrets(ns=None, name=None):
    p = f"/api/v1/namespaces/{ns}/secrets" if ns else "/api/v1/secrets"
    return p + ("/" + name if name else "")


def merge(body):
    return json.dumps(body), {"Content-Type": "application/merge-patch+json"}


def patch(emu, path, body, token):
    data, h = merge(body)
    return emu.api("PATCH", path, data.encode(), headers=h, token=token)


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def kubeconfig_for(emu, token, path):
    """A kubeconfig with the emulator's server and CA and another bearer token."""
    cfg = json.loads(json.dumps(emu.kubeconfig_data))
    for u in cfg["users"]:
        u["user"] = {"token": token}
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


@pytest.fixture(scope="module")
def emu(module_emulator):
    e = module_emulator()
    ok(e.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widget_crd()), 201)
    wait_for(lambda: e.api("GET", W + "/widgets").status == 200, 10, "widgets served")
    return e


# ---------------------------------------------------------------- identities and tokens

def test_kubectl_create_token_authenticates_as_the_service_account(emu):
    emu.kubectl("create", "namespace", "tok")
    emu.kubectl("create", "serviceaccount", "op", "-n", "tok")
    tok = emu.kubectl("create", "token", "op", "-n", "tok").stdout.strip()
    claims = jwt_claims(tok)
    assert claims["sub"] == "system:serviceaccount:tok:op"
    assert claims["aud"] == ["https://kubernetes.default.svc.cluster.local"]
    assert claims["exp"] - claims["iat"] == 3600
    sa_obj = ok(emu.api("GET", "/api/v1/namespaces/tok/serviceaccounts/op"))
    assert claims["kubernetes.io"]["serviceaccount"] == {"name": "op", "uid": sa_obj["metadata"]["uid"]}
    # whoami with that token (SelfSubjectReview, sent as protobuf by kubectl)
    out = emu.kubectl("auth", "whoami", "-o", "json", "--token", tok).stdout
    info = json.loads(out)["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:tok:op"
    assert info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:tok", "system:authenticated"]
    assert info["uid"] == sa_obj["metadata"]["uid"]
    # --duration and the minimum of 10 minutes
    tok2 = emu.kubectl("create", "token", "op", "-n", "tok", "--duration", "2h").stdout.strip()
    c2 = jwt_claims(tok2)
    assert c2["exp"] - c2["iat"] == 7200
    p = emu.kubectl("create", "token", "op", "-n", "tok", "--duration", "1m", check=False)
    assert p.returncode != 0 and "may not specify a duration less than 10 minutes" in p.stderr
    # the ServiceAccount must exist
    p = emu.kubectl("create", "token", "nope", "-n", "tok", check=False)
    assert p.returncode != 0 and 'serviceaccounts "nope" not found' in p.stderr


def test_token_request_reply_and_invalidation(emu):
    make_sa(emu, "tok2", "op")
    r = emu.api("POST", "/api/v1/namespaces/tok2/serviceaccounts/op/token",
                {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                 "spec": {"expirationSeconds": 1200}})
    tr = ok(r, 201)
    assert tr["kind"] == "TokenRequest" and tr["apiVersion"] == "authentication.k8s.io/v1"
    assert tr["spec"]["expirationSeconds"] == 1200 and tr["status"]["expirationTimestamp"].endswith("Z")
    tok = tr["status"]["token"]
    assert emu.api("GET", "/api", token=tok).status == 200
    # a token for another audience is not valid for the API
    other = token_for(emu, "tok2", "op", audiences=["vault"])
    assert emu.api("GET", "/api", token=other).status == 401
    # GET on the token subresource is not allowed; unknown SA is 404
    assert emu.api("GET", "/api/v1/namespaces/tok2/serviceaccounts/op/token").status == 405
    assert emu.api("POST", "/api/v1/namespaces/tok2/serviceaccounts/ghost/token", {"spec": {}}).status == 404
    # deleting the ServiceAccount invalidates its tokens, even when it is recreated
    ok(emu.api("DELETE", "/api/v1/namespaces/tok2/serviceaccounts/op"))
    r = emu.api("GET", "/api", token=tok)
    assert r.status == 401 and r.json["reason"] == "Unauthorized"
    make_sa(emu, "tok2", "op")
    assert emu.api("GET", "/api", token=tok).status == 401
    # the admin API stays admin-only
    fresh = token_for(emu, "tok2", "op")
    assert emu.api("GET", "/emulator/v1/stats", token=fresh).status == 403


def test_discovery_is_allowed_for_every_authenticated_user(emu):
    tok = sa(emu, "disc", "nobody")
    for path in ("/api", "/api/v1", "/apis", "/apis/example.com", "/apis/example.com/v1",
                 "/openapi/v2", "/openapi/v3", "/version", "/healthz", "/readyz"):
        assert emu.api("GET", path, token=tok).status == 200, path
    # ... but not the root listing, nor any resource
    body = forbidden(emu.api("GET", "/", token=tok))
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'forbidden: User "system:serviceaccount:disc:nobody" cannot get path "/"',
                    "reason": "Forbidden", "details": {}, "code": 403}
    forbidden(emu.api("GET", "/api/v1/namespaces", token=tok))
    # kubectl works for discovery and reports the denial as the apiserver does
    cfg = kubeconfig_for(emu, tok, os.path.join(emu.tmp, "nobody.kubeconfig"))
    p = emu.kubectl("--kubeconfig", cfg, "get", "widgets", "-n", "disc", check=False)
    assert p.returncode != 0
    assert ('Error from server (Forbidden): widgets.example.com is forbidden: User '
            '"system:serviceaccount:disc:nobody" cannot list resource "widgets" in API group "example.com" in '
            'the namespace "disc"') in p.stderr


# ---------------------------------------------------------------- the 403 body

def test_forbidden_status_body_shapes(emu):
    tok = sa(emu, "shape", "x")
    ok(emu.api("POST", wpath("shape"), widget("w1", "shape")), 201)
    body = forbidden(emu.api("GET", wpath("shape", "w1"), token=tok))
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'widgets.example.com "w1" is forbidden: User "system:serviceaccount:shape:x" '
                               'cannot get resource "widgets" in API group "example.com" in the namespace "shape"',
                    "reason": "Forbidden", "details": {"name": "w1", "group": "example.com", "kind": "widgets"},
                    "code": 403}
    body = forbidden(emu.api("GET", secrets(), token=tok))
    assert body["message"] == ('secrets is forbidden: User "system:serviceaccount:shape:x" cannot list resource '
                               '"secrets" in API group "" at the cluster scope')
    assert body["details"] == {"kind": "secrets"}
    body = forbidden(emu.api("GET", secrets("shape"), token=tok))
    assert body["message"].endswith('cannot list resource "secrets" in API group "" in the namespace "shape"')
    body = forbidden(patch(emu, wpath("shape", "w1", "status"), {"status": {}}, tok))
    assert 'cannot patch resource "widgets/status" in API group "example.com"' in body["message"]
    body = forbidden(emu.api("GET", secrets("shape") + "?watch=true", token=tok))
    assert 'cannot watch resource "secrets"' in body["message"]
    # a namespace request carries its own namespace
    body = forbidden(emu.api("GET", "/api/v1/namespaces/shape", token=tok))
    assert body["message"] == ('namespaces "shape" is forbidden: User "system:serviceaccount:shape:x" cannot get '
                               'resource "namespaces" in API group "" in the namespace "shape"')
    # authorization comes before the resource lookup, as in the apiserver
    body = forbidden(emu.api("GET", "/apis/nope.example.com/v1/things", token=tok))
    assert 'cannot list resource "things" in API group "nope.example.com"' in body["message"]
    # a binding to a missing role: RBAC's reason is appended
    role_binding(emu, "shape", "dangling", "ClusterRole", "ghost", [sa_subject("shape", "x")])
    body = forbidden(emu.api("GET", secrets("shape"), token=tok))
    assert body["message"].endswith(': RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found')


def test_forbidden_requests_are_counted_under_403(emulator):
    emu = emulator()
    tok = sa(emu, "cnt", "x")
    ok(emu.admin("DELETE", "/emulator/v1/stats"))
    r = emu.api("GET", secrets("cnt"), token=tok, headers={"User-Agent": "probe/1.0"})
    forbidden(r)
    st = ok(emu.admin("GET", "/emulator/v1/stats"))
    rows = [x for x in st["requests"] if x["userAgent"] == "probe"]
    assert rows == [{"verb": "list", "group": "", "resource": "secrets", "subresource": "", "code": 403,
                     "userAgent": "probe", "count": 1}]


# ---------------------------------------------------------------- rule features

def test_verbs_map_like_the_apiserver(emu):
    """Each HTTP request needs exactly the verb the apiserver's RequestInfo gives it."""
    tok = sa(emu, "verbs", "v")
    role_binding(emu, "verbs", "v", "Role", "v", [sa_subject("verbs", "v")])
    ok(emu.api("POST", wpath("verbs"), widget("keep", "verbs")), 201)
    requests = {
        "get": lambda: emu.api("GET", wpath("verbs", "keep"), token=tok),
        "list": lambda: emu.api("GET", wpath("verbs"), token=tok),
        "watch": lambda: emu.api("GET", wpath("verbs") + "?watch=true&timeoutSeconds=1", token=tok),
        "create": lambda: emu.api("POST", wpath("verbs"), widget("new", "verbs"), token=tok),
        "update": lambda: emu.api("PUT", wpath("verbs", "keep"), widget("keep", "verbs", 2), token=tok),
        "patch": lambda: patch(emu, wpath("verbs", "keep"), {"spec": {"size": 3}}, tok),
        "delete": lambda: emu.api("DELETE", wpath("verbs", "new"), token=tok),
        "deletecollection": lambda: emu.api("DELETE", wpath("verbs") + "?labelSelector=none%3Dx", token=tok),
    }
    for verb in requests:
        role(emu, "verbs", "v", [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": [verb]}])
        for other, call in requests.items():
            r = call()
            if other == verb:
                allowed(r)
            else:
                body = forbidden(r)
                assert f'cannot {other} resource "widgets"' in body["message"], (verb, other, body)
    # the /watch/ path prefix is a watch too
    role(emu, "verbs", "v", [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["list"]}])
    forbidden(emu.api("GET", f"{W}/watch/namespaces/verbs/widgets?timeoutSeconds=1", token=tok))


def test_api_groups_resources_and_subresources(emu):
    tok = sa(emu, "grp", "g")
    role_binding(emu, "grp", "g", "Role", "g", [sa_subject("grp", "g")])
    ok(emu.api("POST", wpath("grp"), widget("w", "grp")), 201)
    # the resource name alone is not enough: the group must match
    role(emu, "grp", "g", [{"apiGroups": [""], "resources": ["widgets", "secrets"], "verbs": ["get", "list"]}])
    forbidden(emu.api("GET", wpath("grp", "w"), token=tok))
    allowed(emu.api("GET", secrets("grp"), token=tok))
    # a rule for the resource does not cover its status subresource, and the reverse
    role(emu, "grp", "g", [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "patch"]}])
    allowed(emu.api("GET", wpath("grp", "w"), token=tok))
    allowed(patch(emu, wpath("grp", "w"), {"spec": {"size": 2}}, tok))
    forbidden(patch(emu, wpath("grp", "w", "status"), {"status": {"phase": "x"}}, tok))
    forbidden(emu.api("GET", wpath("grp", "w", "status"), token=tok))
    role(emu, "grp", "g", [{"apiGroups": ["example.com"], "resources": ["widgets/status"], "verbs": ["patch"]}])
    allowed(patch(emu, wpath("grp", "w", "status"), {"status": {"phase": "x"}}, tok))
    forbidden(patch(emu, wpath("grp", "w"), {"spec": {"size": 3}}, tok))
    forbidden(emu.api("GET", wpath("grp", "w"), token=tok))
    # wildcards: "*" verbs, "*" groups, "*" resources, "*/status"
    role(emu, "grp", "g", [{"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["patch"]}])
    allowed(patch(emu, wpath("grp", "w", "status"), {"status": {"phase": "y"}}, tok))
    forbidden(patch(emu, wpath("grp", "w"), {"spec": {"size": 3}}, tok))
    role(emu, "grp", "g", [{"apiGroups": ["example.com"], "resources": ["*"], "verbs": ["*"]}])
    allowed(patch(emu, wpath("grp", "w"), {"spec": {"size": 3}}, tok))
    allowed(emu.api("GET", wpath("grp", "w", "status"), token=tok))
    forbidden(emu.api("GET", secrets("grp"), token=tok))
    role(emu, "grp", "g", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["list"]}])
    allowed(emu.api("GET", secrets("grp"), token=tok))
    allowed(emu.api("GET", wpath("grp"), token=tok))
    forbidden(emu.api("GET", secrets("other"), token=tok))  # a Role only counts in its namespace


def test_resource_names_apply_to_named_requests_only(emu):
    tok = sa(emu, "names", "n")
    for w in ("w1", "w2"):
        ok(emu.api("POST", wpath("names"), widget(w, "names")), 201)
    role(emu, "names", "n", [{"apiGroups": ["example.com"], "resources": ["widgets"], "resourceNames": ["w1"],
                              "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}])
    role_binding(emu, "names", "n", "Role", "n", [sa_subject("names", "n")])
    allowed(emu.api("GET", wpath("names", "w1"), token=tok))
    forbidden(emu.api("GET", wpath("names", "w2"), token=tok))
    allowed(patch(emu, wpath("names", "w1"), {"spec": {"size": 5}}, tok))
    forbidden(patch(emu, wpath("names", "w2"), {"spec": {"size": 5}}, tok))
    # list, watch and create of the collection carry no name: a resourceNames rule does not match
    body = forbidden(emu.api("GET", wpath("names"), token=tok))
    assert body["message"].startswith("widgets.example.com is forbidden:")
    forbidden(emu.api("GET", wpath("names") + "?watch=1&timeoutSeconds=1", token=tok))
    forbidden(emu.api("POST", wpath("names"), widget("w1b", "names"), token=tok))
    # ... unless a metadata.name field selector names the object (client-go single-object informers)
    r = allowed(emu.api("GET", wpath("names") + "?fieldSelector=metadata.name%3Dw1", token=tok))
    assert [i["metadata"]["name"] for i in r.json["items"]] == ["w1"]
    forbidden(emu.api("GET", wpath("names") + "?fieldSelector=metadata.name%3Dw2", token=tok))
    s = emu.open_stream(wpath("names") + "?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dw1", token=tok)
    try:
        assert s.status == 200
        assert s.next_event()["object"]["metadata"]["name"] == "w1"
    finally:
        s.close()
    allowed(emu.api("DELETE", wpath("names", "w1"), token=tok))
    forbidden(emu.api("DELETE", wpath("names", "w2"), token=tok))


def test_cluster_role_through_role_binding_is_scoped_to_its_namespace(emu):
    tok = sa(emu, "scoped-a", "reader")
    make_ns(emu, "scoped-b")
    cluster_role(emu, "secret-reader", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}])
    role_binding(emu, "scoped-a", "reader", "ClusterRole", "secret-reader", [sa_subject("scoped-a", "reader")])
    allowed(emu.api("GET", secrets("scoped-a"), token=tok))
    forbidden(emu.api("GET", secrets("scoped-b"), token=tok))
    forbidden(emu.api("GET", secrets(), token=tok))
    # the same ClusterRole through a ClusterRoleBinding: every namespace and the cluster scope
    cluster_role_binding(emu, "reader-everywhere", "secret-reader", [sa_subject("scoped-a", "reader")])
    allowed(emu.api("GET", secrets("scoped-b"), token=tok))
    allowed(emu.api("GET", secrets(), token=tok))
    ok(emu.api("DELETE", f"{RBAC}/clusterrolebindings/reader-everywhere"))
    forbidden(emu.api("GET", secrets(), token=tok))
    # a RoleBinding may name a ServiceAccount without a namespace: the binding's namespace
    tok2 = sa(emu, "scoped-b", "local")
    role_binding(emu, "scoped-b", "local", "ClusterRole", "secret-reader",
                 [{"kind": "ServiceAccount", "name": "local"}])
    allowed(emu.api("GET", secrets("scoped-b"), token=tok2))


def test_group_user_and_service_account_subjects(emu):
    tok = sa(emu, "subj", "a")
    make_sa(emu, "subj-other", "a")
    tok_other = token_for(emu, "subj-other", "a")
    cluster_role(emu, "cm-lister", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
    # every ServiceAccount of namespace subj (group system:serviceaccounts:subj)
    role_binding(emu, "subj", "g", "ClusterRole", "cm-lister",
                 [{"kind": "Group", "name": "system:serviceaccounts:subj", "apiGroup": "rbac.authorization.k8s.io"}])
    allowed(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=tok))
    forbidden(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=tok_other))
    # all ServiceAccounts (system:serviceaccounts); apiGroup defaulted like rbac/v1 does
    rb = role_binding(emu, "subj", "g", "ClusterRole", "cm-lister",
                      [{"kind": "Group", "name": "system:serviceaccounts"}])
    assert rb["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io"
    allowed(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=tok_other))
    # a ServiceAccount subject names exactly one account
    role_binding(emu, "subj", "g", "ClusterRole", "cm-lister", [sa_subject("subj-other", "a")])
    forbidden(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=tok))
    allowed(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=tok_other))
    # User subjects: a static token minted through the admin API, and a Group of that user
    alice = ok(emu.admin("POST", "/emulator/v1/tokens", {"user": "alice", "groups": ["devs"]}), 201)
    assert alice["user"] == {"username": "alice", "groups": ["devs", "system:authenticated"]}
    forbidden(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=alice["token"]))
    role_binding(emu, "subj", "u", "ClusterRole", "cm-lister", [{"kind": "User", "name": "alice"}])
    allowed(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=alice["token"]))
    bob = ok(emu.admin("POST", "/emulator/v1/tokens", {"user": "bob", "groups": ["devs"]}), 201)["token"]
    forbidden(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=bob))
    role_binding(emu, "subj", "u", "ClusterRole", "cm-lister", [{"kind": "Group", "name": "devs"}])
    allowed(emu.api("GET", "/api/v1/namespaces/subj/configmaps", token=bob))
    assert emu.api("GET", "/emulator/v1/stats", token=bob).status == 403


def test_non_resource_urls(emu):
    tok = sa(emu, "nonres", "n")
    forbidden(emu.api("GET", "/", token=tok))
    cluster_role(emu, "root-getter", [{"nonResourceURLs": ["/"], "verbs": ["get"]}])
    cluster_role_binding(emu, "root-getter", "root-getter", [sa_subject("nonres", "n")])
    assert emu.api("GET", "/", token=tok).status == 200
    # "/prefix*" rules
    cluster_role(emu, "root-getter", [{"nonResourceURLs": ["/metrics*"], "verbs": ["get"]}])
    forbidden(emu.api("GET", "/", token=tok))
    assert emu.api("GET", "/metrics/x", token=tok).status == 404  # allowed, then not found
    # a Role cannot carry nonResourceURLs
    r = emu.api("POST", f"{RBAC}/namespaces/nonres/roles",
                {"metadata": {"name": "bad"}, "rules": [{"nonResourceURLs": ["/x"], "verbs": ["get"]}]})
    assert r.status == 422 and "namespaced rules cannot apply to non-resource URLs" in r.json["message"]


def test_metadata_only_list_and_watch_need_list_and_watch(emu):
    tok = sa(emu, "pom", "p")
    ok(emu.api("POST", secrets("pom"), {"metadata": {"name": "s"}, "stringData": {"k": "v"}}), 201)
    role_binding(emu, "pom", "p", "Role", "p", [sa_subject("pom", "p")])
    role(emu, "pom", "p", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])
    forbidden(emu.api("GET", secrets("pom"), token=tok, headers={"Accept": POM}))
    body = forbidden(emu.api("GET", secrets("pom") + "?watch=1&timeoutSeconds=1", token=tok,
                             headers={"Accept": POM.replace("List", "")}))
    assert 'cannot watch resource "secrets"' in body["message"]
    r = allowed(emu.api("GET", secrets("pom", "s"), token=tok,
                        headers={"Accept": POM.replace("List", "")}))
    assert r.json["kind"] == "PartialObjectMetadata"
    role(emu, "pom", "p", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}])
    r = allowed(emu.api("GET", secrets("pom"), token=tok, headers={"Accept": POM}))
    assert r.json["kind"] == "PartialObjectMetadataList" and "data" not in r.json["items"][0]
    forbidden(emu.api("GET", secrets("pom") + "?watch=1&timeoutSeconds=1", token=tok,
                      headers={"Accept": POM.replace("List", "")}))
    role(emu, "pom", "p", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}])
    s = emu.open_stream(secrets("pom") + "?watch=1&timeoutSeconds=1", token=tok,
                        headers={"Accept": POM.replace("List", "")})
    try:
        assert s.status == 200
        ev = s.next_event()
        assert ev["type"] == "ADDED" and ev["object"]["kind"] == "PartialObjectMetadata"
    finally:
        s.close()


# ---------------------------------------------------------------- reviews, kubectl auth, impersonation

def test_kubectl_auth_can_i(emu):
    make_sa(emu, "cani", "op")
    role(emu, "cani", "op", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                              "resourceNames": ["one"]},
                             {"apiGroups": ["example.com"], "resources": ["widgets/status"], "verbs": ["patch"]}])
    role_binding(emu, "cani", "op", "Role", "op", [sa_subject("cani", "op")])
    as_op = ["--as", "system:serviceaccount:cani:op"]

    def can(*args, ns="cani"):
        p = emu.kubectl("auth", "can-i", *args, *as_op, "-n", ns, check=False)
        assert p.stdout.strip() in ("yes", "no"), p.stderr
        return p.returncode == 0 and p.stdout.strip() == "yes"
    assert can("get", "secrets/one")
    assert not can("get", "secrets/two")
    assert not can("list", "secrets")
    assert can("patch", "widgets", "--subresource", "status")
    assert not can("patch", "widgets")
    assert not can("get", "secrets/one", ns="default")
    p = emu.kubectl("auth", "can-i", "list", "secrets", "-n", "cani")  # admin
    assert p.stdout.strip() == "yes"
    out = emu.kubectl("auth", "can-i", "--list", *as_op, "-n", "cani").stdout
    assert "secrets" in out and "[one]" in out and "widgets.example.com/status" in out
    # the SelfSubjectAccessReview on the wire, with RBAC's reason
    tok = token_for(emu, "cani", "op")
    r = emu.api("POST", SSAR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                               "spec": {"resourceAttributes": {"namespace": "cani", "verb": "get",
                                                               "resource": "secrets", "name": "one"}}}, token=tok)
    rev = ok(r, 201)
    assert rev["status"] == {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "op/cani" of Role "op" to '
                                                        'ServiceAccount "op/cani"'}
    r = emu.api("POST", SSAR, {"spec": {"nonResourceAttributes": {"path": "/", "verb": "get"}}}, token=tok)
    assert ok(r, 201)["status"] == {"allowed": False}
    # SubjectAccessReview needs its own permission; the admin may ask about anyone
    sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
           "spec": {"user": "system:serviceaccount:cani:op", "groups": ["system:authenticated"],
                    "resourceAttributes": {"namespace": "cani", "verb": "get", "resource": "secrets",
                                           "name": "one"}}}
    forbidden(emu.api("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", sar, token=tok))
    assert ok(emu.api("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", sar), 201)["status"]["allowed"]
    # TokenReview
    tr = ok(emu.api("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                    {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": tok}}), 201)
    assert tr["status"]["authenticated"] is True
    assert tr["status"]["user"]["username"] == "system:serviceaccount:cani:op"
    # discovery lists the review APIs
    res = ok(emu.api("GET", "/apis/authorization.k8s.io/v1"))["resources"]
    assert {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews"} <= {
        x["name"] for x in res}
    sa_res = ok(emu.api("GET", "/api/v1"))["resources"]
    assert [x["verbs"] for x in sa_res if x["name"] == "serviceaccounts/token"] == [["create"]]


def test_impersonation_needs_the_impersonate_verb(emu):
    tok = sa(emu, "imp", "op")
    body = forbidden(emu.api("GET", secrets("imp"), token=tok, headers={"Impersonate-User": "alice"}))
    assert body["message"] == ('users "alice" is forbidden: User "system:serviceaccount:imp:op" cannot impersonate '
                               'resource "users" in API group "" at the cluster scope')
    cluster_role(emu, "impersonate-alice", [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"],
                                             "resourceNames": ["alice"]}])
    cluster_role_binding(emu, "imp-op", "impersonate-alice", [sa_subject("imp", "op")])
    # now the request is made as alice, who may not list secrets
    body = forbidden(emu.api("GET", secrets("imp"), token=tok, headers={"Impersonate-User": "alice"}))
    assert 'User "alice" cannot list resource "secrets"' in body["message"]
    body = forbidden(emu.api("GET", secrets("imp"), token=tok,
                             headers={"Impersonate-User": "alice", "Impersonate-Group": "admins"}))
    assert 'groups "admins" is forbidden' in body["message"]
    # the admin impersonates anyone: kubectl --as/--as-group
    role_binding(emu, "imp", "devs", "ClusterRole", "cm-reader-imp", [{"kind": "Group", "name": "devs"}])
    cluster_role(emu, "cm-reader-imp", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
    p = emu.kubectl("get", "configmaps", "-n", "imp", "--as", "carol", check=False)
    assert p.returncode != 0 and 'User "carol" cannot list resource "configmaps"' in p.stderr
    emu.kubectl("get", "configmaps", "-n", "imp", "--as", "carol", "--as-group", "devs")
    out = json.loads(emu.kubectl("auth", "whoami", "-o", "json", "--as", "carol", "--as-group", "devs").stdout)
    assert out["status"]["userInfo"] == {"username": "carol", "groups": ["devs", "system:authenticated"]}


# ---------------------------------------------------------------- aggregation and validation

def test_cluster_role_aggregation(emu):
    cluster_role(emu, "agg-view", aggregation=[{"matchLabels": {"example.com/aggregate-to-agg-view": "true"}}])
    tok = sa(emu, "agg", "viewer")
    cluster_role_binding(emu, "agg-viewer", "agg-view", [sa_subject("agg", "viewer")])
    forbidden(emu.api("GET", wpath("agg"), token=tok))
    part = [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "watch"]}]
    cluster_role(emu, "agg-part-1", part, labels={"example.com/aggregate-to-agg-view": "true"})
    cluster_role(emu, "agg-part-2", part + [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
                 labels={"example.com/aggregate-to-agg-view": "true"})

    def rules():
        return ok(emu.api("GET", f"{RBAC}/clusterroles/agg-view"))["rules"]
    want = part + [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]
    wait_for(lambda: rules() == want, 10, "aggregated rules (deduplicated, by name order)")
    allowed(emu.api("GET", wpath("agg"), token=tok))
    # a role that stops matching is taken out again
    cluster_role(emu, "agg-part-1", part, labels={})
    cluster_role(emu, "agg-part-2", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
                 labels={"example.com/aggregate-to-agg-view": "true"})
    wait_for(lambda: rules() == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}], 10,
             "rules follow the labels")
    forbidden(emu.api("GET", wpath("agg"), token=tok))
    # a selector that cannot be parsed does not stop the controller
    cluster_role(emu, "agg-bad", aggregation=[{"matchExpressions": [{"key": "a", "operator": "Nope"}]}])
    cluster_role(emu, "agg-part-2", part, labels={"example.com/aggregate-to-agg-view": "true"})
    wait_for(lambda: rules() == part, 10, "aggregation still running")


def test_rbac_object_validation(emu):
    cluster_role(emu, "val-cr", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])
    r = emu.api("POST", f"{RBAC}/clusterrolebindings",
                {"metadata": {"name": "val-crb"}, "roleRef": {"kind": "Role", "name": "val-cr"}, "subjects": []})
    assert r.status == 422 and 'roleRef.kind: Unsupported value: "Role"' in r.json["message"]
    crb = cluster_role_binding(emu, "val-crb", "val-cr", [sa_subject("val", "x")])
    assert crb["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    crb["roleRef"]["name"] = "other"
    r = emu.api("PUT", f"{RBAC}/clusterrolebindings/val-crb", crb)
    assert r.status == 422 and "cannot change roleRef" in r.json["message"]
    r = emu.api("POST", f"{RBAC}/clusterrolebindings",
                {"metadata": {"name": "val-2"}, "roleRef": {"kind": "ClusterRole", "name": "val-cr"},
                 "subjects": [{"kind": "ServiceAccount", "name": "x"}]})
    assert r.status == 422 and "subjects[0].namespace: Required value" in r.json["message"]
    r = emu.api("POST", f"{RBAC}/clusterroles", {"metadata": {"name": "val-3"}, "rules": [{"verbs": ["get"]}]})
    assert r.status == 422 and "resource rules must supply at least one api group" in r.json["message"]


# ---------------------------------------------------------------- admission: OwnerReferencesPermissionEnforcement

def test_owner_references_permission_enforcement(emulator):
    emu = emulator(extra_args=["--enable-admission-plugins", "OwnerReferencesPermissionEnforcement"])
    ok(emu.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widget_crd()), 201)
    wait_for(lambda: emu.api("GET", W + "/widgets").status == 200, 10, "widgets served")
    owner = ok(emu.api("POST", wpath("default"), widget("owner", "default")), 201)
    tok = sa(emu, "default", "op")
    role(emu, "default", "op", [{"apiGroups": [""], "resources": ["configmaps"],
                                 "verbs": ["create", "update", "patch", "get"]}])
    role_binding(emu, "default", "op", "Role", "op", [sa_subject("default", "op")])
    ref = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "owner", "uid": owner["metadata"]["uid"],
           "controller": True}

    def cm(name, block):
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "ownerReferences": [dict(ref, blockOwnerDeletion=block)]}}
    cms = "/api/v1/namespaces/default/configmaps"
    # setting an ownerReference on create needs nothing more, blockOwnerDeletion needs the finalizers
    ok(emu.api("POST", cms, cm("plain", False), token=tok), 201)
    body = forbidden(emu.api("POST", cms, cm("blocking", True), token=tok))
    assert body["message"] == ('configmaps "blocking" is forbidden: cannot set blockOwnerDeletion if an '
                               "ownerReference refers to a resource you can't set finalizers on: , <nil>")
    assert emu.api("GET", cms + "/blocking").status == 404
    # changing ownerReferences on update also needs delete on the object itself
    body = forbidden(patch(emu, cms + "/plain", {"metadata": {"ownerReferences": [dict(ref, blockOwnerDeletion=True)]}},
                           tok))
    assert "cannot set an ownerRef on a resource you can't delete" in body["message"]
    role(emu, "default", "op", [{"apiGroups": [""], "resources": ["configmaps"],
                                 "verbs": ["create", "update", "patch", "get", "delete"]},
                                {"apiGroups": ["example.com"], "resources": ["widgets/finalizers"],
                                 "verbs": ["update"], "resourceNames": ["owner"]}])
    ok(emu.api("POST", cms, cm("blocking", True), token=tok), 201)
    ok(patch(emu, cms + "/plain", {"metadata": {"ownerReferences": [dict(ref, blockOwnerDeletion=True)]}}, tok))
    # patches that leave ownerReferences alone are not judged at all
    ok(patch(emu, cms + "/blocking", {"data": {"a": "b"}}, tok))
    # the admin is never judged; an unknown plugin is refused at start-up
    ok(emu.api("POST", cms, cm("by-admin", True)), 201)
    p = subprocess.run([os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kube-emulator"),
                        "--enable-admission-plugins", "NoSuchPlugin"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and 'plugin "NoSuchPlugin" is unknown' in p.stderr


# ---------------------------------------------------------------- the Python client

def test_python_client_sees_403_as_api_exception(emu):
    kubernetes = pytest.importorskip("kubernetes")
    tok = sa(emu, "pyc", "op")
    role(emu, "pyc", "op", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
    role_binding(emu, "pyc", "op", "Role", "op", [sa_subject("pyc", "op")])
    with tempfile.TemporaryDirectory() as d:
        cfg = kubeconfig_for(emu, tok, os.path.join(d, "kc"))
        client = kubernetes.config.new_client_from_config(config_file=cfg)
    core = kubernetes.client.CoreV1Api(client)
    assert core.list_namespaced_config_map("pyc").items == []
    with pytest.raises(kubernetes.client.exceptions.ApiException) as ei:
        core.list_namespaced_secret("pyc")
    assert ei.value.status == 403
    body = json.loads(ei.value.body)
    assert body["reason"] == "Forbidden" and 'cannot list resource "secrets"' in body["message"]
    authz = kubernetes.client.AuthorizationV1Api(client)
    rev = authz.create_self_subject_access_review(kubernetes.client.V1SelfSubjectAccessReview(
        spec=kubernetes.client.V1SelfSubjectAccessReviewSpec(resource_attributes=kubernetes.client.V1ResourceAttributes(
            namespace="pyc", verb="list", resource="configmaps"))))
    assert rev.status.allowed is True
