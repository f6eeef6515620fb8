"""The error answers of every operation in the OpenAPI document: problem+json bodies
(finance.api.problems) under the status codes the operation can give, so that a client
generated from the document, and schemathesis, know them."""

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "errors"],
}

_DESCRIPTIONS = {
    "400": "Malformed request",
    "401": "No or unknown credentials",
    "403": "The caller's role may not do this",
    "404": "Not found",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "State conflict (duplicate, already done, an idempotent twin still in flight)",
    "412": "If-Match does not name the current version",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "422": "Rule violation, or an Idempotency-Key reused with another request",
    "429": "Over the request budget",
    "503": "A dependency is not answering; retry",
}
_EVERY = ("400", "401", "403", "405", "406", "422", "429", "503")
_WITH_PATH_PARAMETERS = ("404",)
_WRITES = ("409", "412", "413", "415")
_HEADERS = {
    "401": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "429": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
    "503": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
}


def add_problem_responses(result, generator, request, public):
    """drf-spectacular post-processing hook."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = list(_EVERY)
            if "{" in path:
                codes += _WITH_PATH_PARAMETERS
            if method != "get":
                codes += _WRITES
            responses = operation.setdefault("responses", {})
            for code in codes:
                if code in responses:
                    continue
                responses[code] = {
                    "description": _DESCRIPTIONS[code],
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
                if code in _HEADERS:
                    responses[code]["headers"] = _HEADERS[code]
    return result
