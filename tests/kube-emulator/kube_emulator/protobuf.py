"""Decoding of Kubernetes protobuf request bodies (Content-Type
application/vnd.kubernetes.protobuf) for the built-in kinds, into the same
dicts the JSON decoder gives. kubectl's typed generators (`kubectl create
secret|configmap|namespace|serviceaccount|role|rolebinding ...`) send these;
responses are always JSON (clients also accept it).

Wire format: magic b"k8s\\x00" + runtime.Unknown{typeMeta(1){apiVersion(1),
kind(2)}, raw(2), contentEncoding(3), contentType(4)}; raw is the object
message from k8s.io/api's generated.proto files (field numbers below).
"""
import base64
import time

MAGIC = b"k8s\x00"

# message -> {field number: (json name, type, repeated)}
S, B, I, BOOL, T, MT = "string", "bytes", "int", "bool", "time", "microtime"
MSS, MSB = "map_ss", "map_sb"

MESSAGES = {
    "ObjectMeta": {1: ("name", S, 0), 2: ("generateName", S, 0), 3: ("namespace", S, 0), 4: ("selfLink", S, 0),
                   5: ("uid", S, 0), 6: ("resourceVersion", S, 0), 7: ("generation", I, 0),
                   8: ("creationTimestamp", T, 0), 9: ("deletionTimestamp", T, 0),
                   10: ("deletionGracePeriodSeconds", I, 0), 11: ("labels", MSS, 0), 12: ("annotations", MSS, 0),
                   13: ("ownerReferences", "OwnerReference", 1), 14: ("finalizers", S, 1)},
    "OwnerReference": {1: ("kind", S, 0), 3: ("name", S, 0), 4: ("uid", S, 0), 5: ("apiVersion", S, 0),
                       6: ("controller", BOOL, 0), 7: ("blockOwnerDeletion", BOOL, 0)},
    "TypeMeta": {1: ("apiVersion", S, 0), 2: ("kind", S, 0)},
    "Secret": {1: ("metadata", "ObjectMeta", 0), 2: ("data", MSB, 0), 3: ("type", S, 0),
               4: ("stringData", MSS, 0), 5: ("immutable", BOOL, 0)},
    "ConfigMap": {1: ("metadata", "ObjectMeta", 0), 2: ("data", MSS, 0), 3: ("binaryData", MSB, 0),
                  4: ("immutable", BOOL, 0)},
    "Namespace": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "NamespaceSpec", 0),
                  3: ("status", "NamespaceStatus", 0)},
    "NamespaceSpec": {1: ("finalizers", S, 1)},
    "NamespaceStatus": {1: ("phase", S, 0)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", 0), 2: ("secrets", "ObjectReference", 1),
                       3: ("imagePullSecrets", "LocalObjectReference", 1),
                       4: ("automountServiceAccountToken", BOOL, 0)},
    "ObjectReference": {1: ("kind", S, 0), 2: ("namespace", S, 0), 3: ("name", S, 0), 4: ("uid", S, 0),
                        5: ("apiVersion", S, 0), 6: ("resourceVersion", S, 0), 7: ("fieldPath", S, 0)},
    "LocalObjectReference": {1: ("name", S, 0)},
    "Event": {1: ("metadata", "ObjectMeta", 0), 2: ("involvedObject", "ObjectReference", 0), 3: ("reason", S, 0),
              4: ("message", S, 0), 5: ("source", "EventSource", 0), 6: ("firstTimestamp", T, 0),
              7: ("lastTimestamp", T, 0), 8: ("count", I, 0), 9: ("type", S, 0), 10: ("eventTime", MT, 0),
              11: ("series", "EventSeries", 0), 12: ("action", S, 0), 13: ("related", "ObjectReference", 0),
              14: ("reportingComponent", S, 0), 15: ("reportingInstance", S, 0)},
    "EventSource": {1: ("component", S, 0), 2: ("host", S, 0)},
    "EventSeries": {1: ("count", I, 0), 2: ("lastObservedTime", MT, 0)},
    "Lease": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "LeaseSpec", 0)},
    "LeaseSpec": {1: ("holderIdentity", S, 0), 2: ("leaseDurationSeconds", I, 0), 3: ("acquireTime", MT, 0),
                  4: ("renewTime", MT, 0), 5: ("leaseTransitions", I, 0), 6: ("strategy", S, 0),
                  7: ("preferredHolder", S, 0)},
    "Role": {1: ("metadata", "ObjectMeta", 0), 2: ("rules", "PolicyRule", 1)},
    "ClusterRole": {1: ("metadata", "ObjectMeta", 0), 2: ("rules", "PolicyRule", 1),
                    3: ("aggregationRule", "AggregationRule", 0)},
    "AggregationRule": {1: ("clusterRoleSelectors", "LabelSelector", 1)},
    "PolicyRule": {1: ("verbs", S, 1), 2: ("apiGroups", S, 1), 3: ("resources", S, 1), 4: ("resourceNames", S, 1),
                   5: ("nonResourceURLs", S, 1)},
    "RoleBinding": {1: ("metadata", "ObjectMeta", 0), 2: ("subjects", "Subject", 1), 3: ("roleRef", "RoleRef", 0)},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta", 0), 2: ("subjects", "Subject", 1),
                           3: ("roleRef", "RoleRef", 0)},
    "Subject": {1: ("kind", S, 0), 2: ("apiGroup", S, 0), 3: ("name", S, 0), 4: ("namespace", S, 0)},
    "RoleRef": {1: ("apiGroup", S, 0), 2: ("kind", S, 0), 3: ("name", S, 0)},
    "LabelSelector": {1: ("matchLabels", MSS, 0), 2: ("matchExpressions", "LabelSelectorRequirement", 1)},
    "LabelSelectorRequirement": {1: ("key", S, 0), 2: ("operator", S, 0), 3: ("values", S, 1)},
    "DeleteOptions": {1: ("gracePeriodSeconds", I, 0), 2: ("preconditions", "Preconditions", 0),
                      3: ("orphanDependents", BOOL, 0), 4: ("propagationPolicy", S, 0), 5: ("dryRun", S, 1)},
    "Preconditions": {1: ("uid", S, 0), 2: ("resourceVersion", S, 0)},
    "Time": {1: ("seconds", I, 0), 2: ("nanos", I, 0)},
    "Unknown": {1: ("typeMeta", "TypeMeta", 0), 2: ("raw", B, 0), 3: ("contentEncoding", S, 0),
                4: ("contentType", S, 0)},
}


class ProtobufError(ValueError):
    pass


def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def _fields(buf):
    i = 0
    n = len(buf)
    while i < n:
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            ln, i = _varint(buf, i)
            v = bytes(buf[i:i + ln])
            if len(v) != ln:
                raise ProtobufError("truncated field")
            i += ln
        elif wt == 1:
            v = buf[i:i + 8]
            i += 8
        elif wt == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise ProtobufError("unsupported wire type %d" % wt)
        yield num, wt, v


def _signed(v):
    return v - (1 << 64) if v >= (1 << 63) else v


def _time(buf, micro):
    t = decode_message(buf, "Time")
    secs = t.get("seconds", 0)
    nanos = t.get("nanos", 0)
    if not secs and not nanos:
        return None
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if micro:
        return "%s.%06dZ" % (base, nanos // 1000)
    return base + "Z"


def decode_message(buf, msg):
    spec = MESSAGES[msg]
    out = {}
    for num, wt, v in _fields(buf):
        f = spec.get(num)
        if f is None:
            continue
        name, typ, rep = f
        if typ == S:
            val = v.decode("utf-8")
        elif typ == B:
            val = v
        elif typ == I:
            val = _signed(v) if wt == 0 else int.from_bytes(v, "little", signed=True)
        elif typ == BOOL:
            val = bool(v)
        elif typ in (T, MT):
            val = _time(v, typ == MT)
        elif typ in (MSS, MSB):
            k, mv = "", b""
            for n2, _, v2 in _fields(v):
                if n2 == 1:
                    k = v2.decode("utf-8")
                elif n2 == 2:
                    mv = v2
            d = out.setdefault(name, {})
            d[k] = mv.decode("utf-8") if typ == MSS else base64.b64encode(mv).decode("ascii")
            continue
        else:
            val = decode_message(v, typ)
        if rep:
            out.setdefault(name, []).append(val)
        else:
            out[name] = val
    return _omit_empty(out)


def _omit_empty(d):
    return {k: v for k, v in d.items() if v is not None and v != "" and v != {} and v != []}


def decode(body):
    """A JSON-shaped dict from a k8s protobuf envelope."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing k8s protobuf magic")
    unk = decode_message(memoryview(body)[4:].tobytes(), "Unknown")
    tm = unk.get("typeMeta") or {}
    kind = tm.get("kind")
    if kind not in MESSAGES or kind in ("Unknown", "Time", "TypeMeta"):
        raise ProtobufError("protobuf bodies are supported for built-in kinds only, not %r" % kind)
    obj = decode_message(unk.get("raw", b""), kind)
    obj["apiVersion"] = tm.get("apiVersion", "v1")
    obj["kind"] = kind
    obj.setdefault("metadata", {})
    return obj
