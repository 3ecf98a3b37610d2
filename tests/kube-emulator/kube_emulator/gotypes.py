"""Types-only structural description of the Go types behind the built-in
kinds (k8s.io/api core/v1, coordination/v1, rbac/v1, apiextensions/v1 and
metav1.ObjectMeta): which JSON fields exist, what JSON type each one takes,
the Go type names that appear in decode errors, and the encoding tags that
decide what a field looks like when the server writes the object back
(omitempty, pointer, always-present). decoding.py applies these; there are
no validation rules here (those live in validation.py and kinds.py).

Field specs are written as "name" (omitempty, the common case), "name*"
(pointer: omitted only when nil, so an empty value is kept) or "name!"
(no omitempty, or a non-pointer struct: always written, zero value if unset).
"""


class GoType:
    __slots__ = ("kind", "go")

    def __init__(self, kind, go):
        self.kind = kind    # string bool int32 int64 float64 bytes time microtime any struct map slice custom
        self.go = go        # reflect.Type.String() as Go prints it in UnmarshalTypeError


_PY_CLASS = {"string": str, "bool": bool}


class Struct(GoType):
    __slots__ = ("name", "fields", "always", "index")

    def __init__(self, pkg, name, fields=None):
        super().__init__("struct", "%s.%s" % (pkg, name))
        self.name = name    # the struct name UnmarshalTypeError reports ("ObjectMeta")
        self.fields = {}    # json name -> (GoType, mode, python class of a scalar or None)
        self.always = ()    # json names written even when unset
        self.index = {}     # json name -> position in the struct
        if fields:
            self.define(fields)

    def define(self, fields):
        """mode: "" omitempty, "*" pointer, "!" always written."""
        for spec, t in fields.items():
            mode = spec[-1] if spec[-1] in "*!" else ""
            name = spec[:-1] if mode else spec
            if mode == "" and t.kind in ("struct", "time", "microtime"):
                mode = "!"  # omitempty has no effect on struct values
            self.fields[name] = (t, mode, _PY_CLASS.get(t.kind))
        self.always = tuple(n for n, f in self.fields.items() if f[1] == "!")
        self.index = {n: i for i, n in enumerate(self.fields)}
        return self


class Map(GoType):
    __slots__ = ("elem",)

    def __init__(self, elem):
        super().__init__("map", "map[string]" + elem.go)
        self.elem = elem


class Slice(GoType):
    __slots__ = ("elem",)

    def __init__(self, elem):
        super().__init__("slice", "[]" + elem.go)
        self.elem = elem


class Custom(GoType):
    """A type with its own UnmarshalJSON: `accepts` maps a JSON kind
    (object, array, bool, ...) to the GoType decoded (non-strictly) from it."""
    __slots__ = ("accepts", "error")

    def __init__(self, go, accepts, error):
        super().__init__("custom", go)
        self.accepts = accepts
        self.error = error


def named(go):
    """A named string type (v1.SecretType, types.UID, ...)."""
    return GoType("string", go)


STRING = GoType("string", "string")
BOOL = GoType("bool", "bool")
INT32 = GoType("int32", "int32")
INT64 = GoType("int64", "int64")
FLOAT64 = GoType("float64", "float64")
BYTES = GoType("bytes", "[]uint8")
TIME = GoType("time", "v1.Time")
MICROTIME = GoType("microtime", "v1.MicroTime")
ANY = GoType("any", "interface {}")   # runtime.RawExtension, apiextensions JSON, FieldsV1
STRINGS = Slice(STRING)
STRING_MAP = Map(STRING)


# ------------------------------------------------------------------ metav1

OWNER_REFERENCE = Struct("v1", "OwnerReference", {
    "apiVersion!": STRING, "kind!": STRING, "name!": STRING, "uid!": named("types.UID"),
    "controller*": BOOL, "blockOwnerDeletion*": BOOL})
MANAGED_FIELDS_ENTRY = Struct("v1", "ManagedFieldsEntry", {
    "manager": STRING, "operation": named("v1.ManagedFieldsOperationType"), "apiVersion": STRING,
    "time*": TIME, "fieldsType": STRING, "fieldsV1*": ANY, "subresource": STRING})
OBJECT_META = Struct("v1", "ObjectMeta", {
    "name": STRING, "generateName": STRING, "namespace": STRING, "selfLink": STRING, "uid": named("types.UID"),
    "resourceVersion": STRING, "generation": INT64, "creationTimestamp": TIME, "deletionTimestamp*": TIME,
    "deletionGracePeriodSeconds*": INT64, "labels": STRING_MAP, "annotations": STRING_MAP,
    "ownerReferences": Slice(OWNER_REFERENCE), "finalizers": STRINGS,
    "managedFields": Slice(MANAGED_FIELDS_ENTRY)})
LABEL_SELECTOR = Struct("v1", "LabelSelector", {
    "matchLabels": STRING_MAP,
    "matchExpressions": Slice(Struct("v1", "LabelSelectorRequirement", {
        "key!": STRING, "operator!": named("v1.LabelSelectorOperator"), "values": STRINGS}))})


def kind(pkg, name, fields):
    """A top-level kind: TypeMeta (inline) + metadata + its own fields."""
    f = {"kind": STRING, "apiVersion": STRING, "metadata": OBJECT_META}
    f.update(fields)
    return Struct(pkg, name, f)


# ------------------------------------------------------------------ core/v1

OBJECT_REFERENCE = Struct("v1", "ObjectReference", {
    "kind": STRING, "namespace": STRING, "name": STRING, "uid": named("types.UID"), "apiVersion": STRING,
    "resourceVersion": STRING, "fieldPath": STRING})

NAMESPACE = kind("v1", "Namespace", {
    "spec": Struct("v1", "NamespaceSpec", {"finalizers": Slice(named("v1.FinalizerName"))}),
    "status": Struct("v1", "NamespaceStatus", {
        "phase": named("v1.NamespacePhase"),
        "conditions": Slice(Struct("v1", "NamespaceCondition", {
            "type!": named("v1.NamespaceConditionType"), "status!": named("v1.ConditionStatus"),
            "lastTransitionTime": TIME, "reason": STRING, "message": STRING}))})})

SECRET = kind("v1", "Secret", {
    "immutable*": BOOL, "data": Map(BYTES), "stringData": STRING_MAP, "type": named("v1.SecretType")})

CONFIG_MAP = kind("v1", "ConfigMap", {"immutable*": BOOL, "data": STRING_MAP, "binaryData": Map(BYTES)})

EVENT = kind("v1", "Event", {
    "involvedObject": OBJECT_REFERENCE, "reason": STRING, "message": STRING,
    "source": Struct("v1", "EventSource", {"component": STRING, "host": STRING}),
    "firstTimestamp": TIME, "lastTimestamp": TIME, "count": INT32, "type": STRING, "eventTime": MICROTIME,
    "series*": Struct("v1", "EventSeries", {"count": INT32, "lastObservedTime": MICROTIME}),
    "action": STRING, "related*": OBJECT_REFERENCE, "reportingComponent!": STRING, "reportingInstance!": STRING})

SERVICE_ACCOUNT = kind("v1", "ServiceAccount", {
    "secrets": Slice(OBJECT_REFERENCE),
    "imagePullSecrets": Slice(Struct("v1", "LocalObjectReference", {"name": STRING})),
    "automountServiceAccountToken*": BOOL})

# ------------------------------------------------------------------ coordination/v1

LEASE = kind("v1", "Lease", {"spec": Struct("v1", "LeaseSpec", {
    "holderIdentity*": STRING, "leaseDurationSeconds*": INT32, "acquireTime*": MICROTIME,
    "renewTime*": MICROTIME, "leaseTransitions*": INT32, "strategy*": named("v1.CoordinatedLeaseStrategy"),
    "preferredHolder*": STRING})})

# ------------------------------------------------------------------ rbac/v1

POLICY_RULE = Struct("v1", "PolicyRule", {
    "verbs!": STRINGS, "apiGroups": STRINGS, "resources": STRINGS, "resourceNames": STRINGS,
    "nonResourceURLs": STRINGS})
SUBJECT = Struct("v1", "Subject", {"kind!": STRING, "apiGroup": STRING, "name!": STRING, "namespace": STRING})
ROLE_REF = Struct("v1", "RoleRef", {"apiGroup!": STRING, "kind!": STRING, "name!": STRING})

ROLE = kind("v1", "Role", {"rules!": Slice(POLICY_RULE)})
CLUSTER_ROLE = kind("v1", "ClusterRole", {
    "rules!": Slice(POLICY_RULE),
    "aggregationRule*": Struct("v1", "AggregationRule", {"clusterRoleSelectors": Slice(LABEL_SELECTOR)})})
ROLE_BINDING = kind("v1", "RoleBinding", {"subjects": Slice(SUBJECT), "roleRef!": ROLE_REF})
CLUSTER_ROLE_BINDING = kind("v1", "ClusterRoleBinding", {"subjects": Slice(SUBJECT), "roleRef!": ROLE_REF})

# ------------------------------------------------------------------ apiextensions/v1

JSON_SCHEMA_PROPS = Struct("v1", "JSONSchemaProps")
_SCHEMAS = Slice(JSON_SCHEMA_PROPS)
_SCHEMA_MAP = Map(JSON_SCHEMA_PROPS)
JSON_SCHEMA_PROPS.define({
    "id": STRING, "$schema": named("v1.JSONSchemaURL"), "$ref*": STRING, "description": STRING, "type": STRING,
    "format": STRING, "title": STRING, "default*": ANY, "maximum*": FLOAT64, "exclusiveMaximum": BOOL,
    "minimum*": FLOAT64, "exclusiveMinimum": BOOL, "maxLength*": INT64, "minLength*": INT64, "pattern": STRING,
    "maxItems*": INT64, "minItems*": INT64, "uniqueItems": BOOL, "multipleOf*": FLOAT64, "enum": Slice(ANY),
    "maxProperties*": INT64, "minProperties*": INT64, "required": STRINGS,
    "items*": Custom("v1.JSONSchemaPropsOrArray", {"object": JSON_SCHEMA_PROPS, "array": _SCHEMAS}, None),
    "allOf": _SCHEMAS, "oneOf": _SCHEMAS, "anyOf": _SCHEMAS, "not*": JSON_SCHEMA_PROPS,
    "properties": _SCHEMA_MAP,
    "additionalProperties*": Custom("v1.JSONSchemaPropsOrBool", {"object": JSON_SCHEMA_PROPS, "bool": BOOL},
                                    "boolean or JSON schema expected"),
    "patternProperties": _SCHEMA_MAP,
    "dependencies": Map(Custom("v1.JSONSchemaPropsOrStringArray",
                               {"object": JSON_SCHEMA_PROPS, "array": STRINGS}, None)),
    "additionalItems*": Custom("v1.JSONSchemaPropsOrBool", {"object": JSON_SCHEMA_PROPS, "bool": BOOL},
                               "boolean or JSON schema expected"),
    "definitions": _SCHEMA_MAP,
    "externalDocs*": Struct("v1", "ExternalDocumentation", {"description": STRING, "url": STRING}),
    "example*": ANY, "nullable": BOOL, "x-kubernetes-preserve-unknown-fields*": BOOL,
    "x-kubernetes-embedded-resource": BOOL, "x-kubernetes-int-or-string": BOOL,
    "x-kubernetes-list-map-keys": STRINGS, "x-kubernetes-list-type*": STRING, "x-kubernetes-map-type*": STRING,
    "x-kubernetes-validations": Slice(Struct("v1", "ValidationRule", {
        "rule!": STRING, "message": STRING, "messageExpression": STRING,
        "reason*": named("v1.FieldValueErrorReason"), "fieldPath": STRING, "optionalOldSelf*": BOOL})),
})

CRD_NAMES = Struct("v1", "CustomResourceDefinitionNames", {
    "plural!": STRING, "singular": STRING, "shortNames": STRINGS, "kind!": STRING, "listKind": STRING,
    "categories": STRINGS})
CUSTOM_RESOURCE_DEFINITION = kind("v1", "CustomResourceDefinition", {
    "spec": Struct("v1", "CustomResourceDefinitionSpec", {
        "group!": STRING, "names": CRD_NAMES, "scope!": named("v1.ResourceScope"),
        "versions!": Slice(Struct("v1", "CustomResourceDefinitionVersion", {
            "name!": STRING, "served!": BOOL, "storage!": BOOL, "deprecated": BOOL, "deprecationWarning*": STRING,
            "schema*": Struct("v1", "CustomResourceValidation", {"openAPIV3Schema*": JSON_SCHEMA_PROPS}),
            "subresources*": Struct("v1", "CustomResourceSubresources", {
                "status*": Struct("v1", "CustomResourceSubresourceStatus", {}),
                "scale*": Struct("v1", "CustomResourceSubresourceScale", {
                    "specReplicasPath!": STRING, "statusReplicasPath!": STRING, "labelSelectorPath*": STRING})}),
            "additionalPrinterColumns": Slice(Struct("v1", "CustomResourceColumnDefinition", {
                "name!": STRING, "type!": STRING, "format": STRING, "description": STRING, "priority": INT32,
                "jsonPath!": STRING})),
            "selectableFields": Slice(Struct("v1", "SelectableField", {"jsonPath!": STRING}))})),
        "conversion*": Struct("v1", "CustomResourceConversion", {
            "strategy!": named("v1.ConversionStrategyType"),
            "webhook*": Struct("v1", "WebhookConversion", {
                "clientConfig*": Struct("v1", "WebhookClientConfig", {
                    "url*": STRING,
                    "service*": Struct("v1", "ServiceReference", {
                        "namespace!": STRING, "name!": STRING, "path*": STRING, "port*": INT32}),
                    "caBundle": BYTES}),
                "conversionReviewVersions!": STRINGS})}),
        "preserveUnknownFields": BOOL}),
    "status": Struct("v1", "CustomResourceDefinitionStatus", {
        "conditions": Slice(Struct("v1", "CustomResourceDefinitionCondition", {
            "type!": named("v1.CustomResourceDefinitionConditionType"), "status!": named("v1.ConditionStatus"),
            "lastTransitionTime": TIME, "reason": STRING, "message": STRING})),
        "acceptedNames": CRD_NAMES, "storedVersions!": STRINGS})})


# ------------------------------------------------------------------ lookup

BY_RESOURCE = {
    ("", "namespaces"): NAMESPACE,
    ("", "secrets"): SECRET,
    ("", "configmaps"): CONFIG_MAP,
    ("", "events"): EVENT,
    ("", "serviceaccounts"): SERVICE_ACCOUNT,
    ("coordination.k8s.io", "leases"): LEASE,
    ("rbac.authorization.k8s.io", "roles"): ROLE,
    ("rbac.authorization.k8s.io", "clusterroles"): CLUSTER_ROLE,
    ("rbac.authorization.k8s.io", "rolebindings"): ROLE_BINDING,
    ("rbac.authorization.k8s.io", "clusterrolebindings"): CLUSTER_ROLE_BINDING,
    ("apiextensions.k8s.io", "customresourcedefinitions"): CUSTOM_RESOURCE_DEFINITION,
}

# The Go type name %T prints for what a built-in's storage returns (internal versions),
# used in the NotAcceptable messages of as=PartialObjectMetadata[List].
INTERNAL_TYPE = {
    ("", "namespaces"): "core.Namespace", ("", "secrets"): "core.Secret", ("", "configmaps"): "core.ConfigMap",
    ("", "events"): "core.Event", ("", "serviceaccounts"): "core.ServiceAccount",
    ("coordination.k8s.io", "leases"): "coordination.Lease",
    ("rbac.authorization.k8s.io", "roles"): "rbac.Role",
    ("rbac.authorization.k8s.io", "clusterroles"): "rbac.ClusterRole",
    ("rbac.authorization.k8s.io", "rolebindings"): "rbac.RoleBinding",
    ("rbac.authorization.k8s.io", "clusterrolebindings"): "rbac.ClusterRoleBinding",
    ("apiextensions.k8s.io", "customresourcedefinitions"): "apiextensions.CustomResourceDefinition",
}


def for_resource(key):
    """The GoType of a built-in resource (group, plural), or None (custom resources)."""
    return BY_RESOURCE.get(key)
