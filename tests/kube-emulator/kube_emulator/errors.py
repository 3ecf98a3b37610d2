"""metav1.Status errors as the apiserver builds them (apimachinery api/errors).

ApiError carries an HTTP code and a ready Status body; constructors mirror
the Go helpers (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid, ...).
"""


def qualified(group, resource):
    """GroupResource.String(): 'secrets' or 'widgets.example.com'."""
    return "%s.%s" % (resource, group) if group else resource


def status_success(details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None, metadata=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": dict(self.metadata),
                "status": "Failure", "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(group, resource, name):
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = resource
    return d


def not_found(group, resource, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(group, resource), name),
                    _details(group, resource, name))


def path_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(group, resource, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified(group, resource), name),
                    _details(group, resource, name))


def conflict(group, resource, name, msg=None):
    msg = msg or ("the object has been modified; please apply your changes to the latest "
                  "version and try again")
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified(group, resource), name, msg), _details(group, resource, name))


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def forbidden(group, resource, name, msg):
    return ApiError(403, "Forbidden", '%s "%s" is forbidden: %s' % (qualified(group, resource), name, msg),
                    _details(group, resource, name))


def method_not_allowed(verb, group, resource):
    return ApiError(405, "MethodNotAllowed", 'the server does not allow this method on the requested resource',
                    _details(group, resource, None))


def expired(msg, metadata=None):
    return ApiError(410, "Expired", msg, None, metadata=metadata)


def unsupported_media_type(ctype, builtin):
    accepted = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
    if builtin:
        accepted.insert(2, "application/strategic-merge-patch+json")
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted))


def not_acceptable():
    return ApiError(406, "NotAcceptable",
                    "only the following media types are accepted: application/json")


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def too_many_requests(retry_after):
    return ApiError(429, "TooManyRequests", "Too many requests, please try again later.",
                    {"retryAfterSeconds": int(retry_after)},
                    headers={"Retry-After": str(int(retry_after))})


def internal_error(msg):
    return ApiError(500, "InternalError", "Internal error occurred: %s" % msg, {"causes": [{"message": msg}]})


def service_unavailable(msg="the server is currently unable to handle the request"):
    return ApiError(503, "ServiceUnavailable", msg)


def timeout_too_large_rv(requested, current):
    """storage.NewTooLargeResourceVersionError(requested, current, 1)."""
    return ApiError(504, "Timeout", "Timeout: Too large resource version: %d, current: %d" % (requested, current),
                    {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


def not_acceptable_transform(message):
    """handlers' errNotAcceptable (as=PartialObjectMetadata on a list and the converse): no details."""
    return ApiError(406, "NotAcceptable", message)


def unknown_error(code, message):
    """A plain Go error that reached the handler (ErrorToAPIStatus): no reason, no details."""
    return ApiError(code, "", message)


class Cause:
    """One field.Error: reason + message + field path."""
    REQUIRED = "FieldValueRequired"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    TYPE_INVALID = "FieldValueTypeInvalid"
    DUPLICATE = "FieldValueDuplicate"

    def __init__(self, reason, field, message):
        self.reason = reason
        self.field = field
        self.message = message

    def as_dict(self):
        d = {"reason": self.reason, "message": self.message}
        if self.field:
            d["field"] = self.field
        return d

    def text(self):
        """field.Error.Error(): "<field>: <body>" (also when the path is empty)."""
        return "%s: %s" % (self.field, self.message)


class GoValue:
    """A value already rendered the way Go's field errors print it (e.g. %#v of a []string)."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


def go_string_slice(items):
    """%#v of a []string."""
    import json
    return GoValue("[]string{%s}" % ", ".join(json.dumps(x) for x in items))


def go_quote(v):
    """Approximate Go %q / %#v rendering of a JSON value in field errors."""
    import json
    if isinstance(v, GoValue):
        return v.text
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, separators=(",", ":"))


def required(field, msg=""):
    return Cause(Cause.REQUIRED, field, "Required value" + (": " + msg if msg else ""))


def invalid_value(field, value, msg):
    return Cause(Cause.INVALID, field, "Invalid value: %s: %s" % (go_quote(value), msg))


def forbidden_field(field, msg):
    return Cause(Cause.FORBIDDEN, field, "Forbidden: " + msg)


def not_supported(field, value, allowed):
    return Cause(Cause.NOT_SUPPORTED, field, "Unsupported value: %s: supported values: %s"
                 % (go_quote(value), ", ".join(go_quote(a) for a in allowed)))


def invalid(kind_or_resource, group, name, causes, message=None):
    """NewInvalid(GroupKind, name, errs): 422 with details.causes. The message
    aggregates the causes as ErrorList.ToAggregate does (duplicates once)."""
    causes = list(causes)
    qual = "%s.%s" % (kind_or_resource, group) if group else kind_or_resource
    if message is None:
        texts = []
        for c in causes:
            t = c.text()
            if t not in texts:
                texts.append(t)
        if len(texts) == 1:
            agg = texts[0]
        else:
            agg = "[" + ", ".join(texts) + "]"
        message = '%s "%s" is invalid: %s' % (qual, name, agg)
    details = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind_or_resource:
        details["kind"] = kind_or_resource
    details["causes"] = [c.as_dict() for c in causes]
    return ApiError(422, "Invalid", message, details)


def patch_rejected(detail):
    """A JSON patch that cannot be applied: NewGenericServerResponse(422, ...) with the
    patch library's error as an UnexpectedServerResponse cause."""
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": detail}]})


def too_long(field, max_bytes):
    """field.TooLong(path, value, max) as 1.29+ words it."""
    return Cause(Cause.TOO_LONG, field, "Too long: may not be more than %d bytes" % max_bytes)
