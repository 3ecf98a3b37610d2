"""/version, legacy discovery documents (/api, /apis, /api/v1, /apis/G,
/apis/G/V) built from the live Registry, and the OpenAPI stubs that let a
default `kubectl apply` (client-side validation on) work.
"""
import hashlib
import base64

GO_VERSIONS = {27: "go1.20.14", 28: "go1.20.14", 29: "go1.21.13", 30: "go1.22.12", 31: "go1.22.12",
               32: "go1.23.4", 33: "go1.24.2"}
OPENAPI_V2_CTYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def version_info(minor):
    return {"major": "1", "minor": str(minor), "gitVersion": "v1.%d.0" % minor,
            "gitCommit": hashlib.sha1(("kube-emulator-%d" % minor).encode()).hexdigest(),
            "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z",
            "goVersion": GO_VERSIONS.get(minor, "go1.23.4"), "compiler": "gc", "platform": "linux/amd64"}


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_doc(group, versions):
    vs = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
    return {"name": group, "versions": vs, "preferredVersion": vs[0]}


def api_group_list(registry):
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in registry.groups()]}


def api_group(registry, group):
    vs = registry.group_versions(group)
    if not vs or not group:
        return None
    d = _group_doc(group, vs)
    d["kind"] = "APIGroup"
    d["apiVersion"] = "v1"
    return d


def _hash(rt):
    h = hashlib.sha256(("%s/%s/%s" % (rt.group, rt.storage_version, rt.kind)).encode()).digest()
    return base64.b64encode(h[:8]).decode()


def api_resource_list(registry, group, version):
    rts = registry.resources_in(group, version)
    if not rts:
        return None
    res = []
    for rt in rts:
        r = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
             "verbs": list(rt.verbs)}
        if rt.short_names:
            r["shortNames"] = list(rt.short_names)
        if rt.categories:
            r["categories"] = list(rt.categories)
        r["storageVersionHash"] = _hash(rt)
        res.append(r)
        for sub, verbs in sorted(rt.subresources.items()):
            res.append({"name": "%s/%s" % (rt.plural, sub), "singularName": "", "namespaced": rt.namespaced,
                        "kind": rt.kind, "verbs": list(verbs)})
    gv = "%s/%s" % (group, version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}


def openapi_v3():
    return {"paths": {}}
