"""Manifests and small helpers shared by the kube-emulator suites (imported as `emu_helpers`)."""

import base64
import json
import urllib.parse

from conftest import wait_for_impl as wait_for

GROUP = "example.com"
WIDGETS = "/apis/example.com/v1"


def widget_crd(plural="widgets", kind="Widget", short="wd", group=GROUP):
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind,
                      "listKind": kind + "List", "shortNames": [short], "categories": ["all"]},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["size"],
                            "properties": {
                                "size": {"type": "integer", "minimum": 1, "maximum": 100},
                                "color": {"type": "string", "enum": ["red", "green", "blue"]},
                                "note": {"type": "string"},
                            },
                        },
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    },
                }},
            }],
        },
    }


# Same CRD without a status subresource (status is an ordinary field there).
def gadget_crd():
    crd = widget_crd(plural="gadgets", kind="Gadget", short="gd")
    del crd["spec"]["versions"][0]["subresources"]
    return crd


def widget(name, size=3, ns="default", **meta):
    m = {"name": name, "namespace": ns}
    m.update(meta)
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": m, "spec": {"size": size}}


def ns_path(ns, plural="widgets", name=None, sub=None, base=WIDGETS):
    p = f"{base}/namespaces/{ns}/{plural}"
    if name:
        p += "/" + name
    if sub:
        p += "/" + sub
    return p


def core(ns, plural, name=None, sub=None):
    return ns_path(ns, plural, name, sub, base="/api/v1")


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def unb64(s):
    return base64.b64decode(s).decode()


def ok(resp, *codes):
    """Assert resp.status is one of codes (default 200/201) and return the parsed body."""
    codes = codes or (200, 201)
    assert resp.status in codes, f"expected {codes}, got {resp.status}: {resp.body[:500]!r}"
    return resp.json


def install_crd(emu, crd=None):
    """POST a CRD and wait until it is Established and served in discovery."""
    crd = crd or widget_crd()
    r = emu.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    assert r.status in (201, 409), r
    name = crd["metadata"]["name"]
    group = crd["spec"]["group"]
    plural = crd["spec"]["names"]["plural"]

    def established():
        o = emu.api("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}").json
        conds = {c["type"]: c["status"] for c in o.get("status", {}).get("conditions", [])}
        if conds.get("Established") != "True":
            return False
        d = emu.api("GET", f"/apis/{group}/v1")
        return d.status == 200 and any(x["name"] == plural for x in d.json["resources"])

    wait_for(established, 10, f"CRD {name} established and in discovery")
    return crd


def create_ns(emu, name):
    r = emu.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": name}})
    assert r.status in (201, 409), r
    return name


def assert_status(resp, code, reason):
    """Assert a metav1.Status error body of the documented shape."""
    assert resp.status == code, resp
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    st = resp.json
    assert st["kind"] == "Status" and st["apiVersion"] == "v1", st
    assert st["status"] == "Failure", st
    assert st["code"] == code, st
    assert st["reason"] == reason, st
    assert isinstance(st.get("message"), str) and st["message"], st
    assert isinstance(st.get("metadata"), dict), st
    return st


def rv(obj):
    return int(obj["metadata"]["resourceVersion"])


def dumps(obj):
    return json.dumps(obj)
