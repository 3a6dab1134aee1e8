"""OpenAPI details drf-spectacular cannot infer: the error responses every operation can give."""

from __future__ import annotations

from typing import Any

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Each invalid parameter with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
ERRORS = {
    "400": ("A query parameter is invalid.", FIELD_ERRORS),
    "401": ("No credentials, or a token that is unknown, revoked or expired.", DETAIL),
    "403": ("Not a lead, or the token lacks the endpoint's scope.", DETAIL),
    "404": ("No such study, item or transcript, or an invalid page cursor.", DETAIL),
    "429": ("Too many requests for this token; retry after the Retry-After seconds.", DETAIL),
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Document the errors DRF gives, so clients (and schemathesis) know every status code to expect."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, (description, schema) in ERRORS.items():
                if status == "400" and not operation.get("parameters"):
                    continue
                if status in {"401", "403"} and path.endswith(("/schema/", "/docs/")):
                    continue
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": schema}}}
                )
    return result
