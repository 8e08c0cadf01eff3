"""The project's OpenAPI schema class: every operation documents its error responses.

Errors are JSON: `{"detail": "..."}` for authentication, permission, not-found, size and rate-limit errors, and
a message per field (or per row, for bulk endpoints) for validation errors.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

DETAIL_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "A list of messages per field; bulk endpoints answer `errors`: one entry per failing row with "
    "its `index` and messages per field; `detail` for a malformed body.",
    "additionalProperties": True,
}


def _error(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema plus the documented error responses of every endpoint."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {
            "400": _error("Invalid input: malformed body, wrong types, missing fields, bad filters.", VALIDATION_ERROR),
            "401": _error("Missing or invalid credentials (API key or session).", DETAIL_ERROR),
            "403": _error("Authenticated, but the role or the API key's scopes do not allow this.", DETAIL_ERROR),
            "429": _error(
                "Too many requests for this API key.",
                DETAIL_ERROR,
                {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}},
            ),
        }
        if "{" in self.path:
            errors["404"] = _error("No such object.", DETAIL_ERROR)
        elif self.method == "GET" and self._is_list_view():
            errors["404"] = _error("Page out of range.", DETAIL_ERROR)
        if self.method in ("POST", "PUT", "PATCH"):
            errors["413"] = _error("Request body over the documented size limit.", DETAIL_ERROR)
            errors["415"] = _error("Unsupported content type or content encoding.", DETAIL_ERROR)
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses
