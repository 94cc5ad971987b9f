"""The OpenAPI schema documents every answer an operation can give, errors included.

Every error is the same JSON (`core.api.api_exception_handler`), so it is declared once as the
`Error` component and added to each operation for the statuses that operation can answer;
statuses a view declares itself are left as they are.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a sentence a person can act on, a code, and per-field problems.",
    "properties": {
        "message": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Field path (e.g. `ratings.delivery.rating`) to its problems.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "current": {
            "type": "object",
            "description": "On a 409/412 for a stale version: the object as it is now.",
        },
    },
    "required": ["message", "code"],
}

DESCRIPTIONS = {
    "400": "The input breaks a rule: `message` says which, `errors` names each field.",
    "401": "Not signed in: send a session cookie or `Authorization: Token …`.",
    "403": "Signed in, but this action is not yours to take on this object.",
    "404": "No such object, or one you may not see (both answer alike).",
    "409": "Valid, but not in the object's current state (wrong phase, locked, a duplicate).",
    "412": "`If-Match` named an older version; `current` holds the newest.",
    "413": "The request body is larger than Levelset accepts.",
    "415": "The request body is not in a media type this operation reads.",
}
UNSAFE = {"post", "put", "patch", "delete"}
METHODS = UNSAFE | {"get"}


def statuses_for(method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer: every operation can refuse its caller or
    its input; one that names an object (in its path, its body, or a page number) can miss it;
    one that writes can conflict."""
    codes = ["400", "401", "403"]
    if operation.get("parameters") or "requestBody" in operation:
        codes.append("404")
    if method in UNSAFE:
        codes += ["409", "412"]
    if "requestBody" in operation:
        codes += ["413", "415"]
    return codes


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> Any:
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in statuses_for(method, operation):
                responses.setdefault(code, {"description": DESCRIPTIONS[code], "content": error})
    _uri_as_iri(result)
    return result


def _uri_as_iri(node: Any) -> None:
    """Links may have international host names (which Levelset accepts and flags when they
    mix scripts), so a URL is an IRI, not an ASCII-only URI."""
    if isinstance(node, dict):
        if node.get("format") == "uri":
            node["format"] = "iri"
        for value in node.values():
            _uri_as_iri(value)
    elif isinstance(node, list):
        for value in node:
            _uri_as_iri(value)
