"""Request-level errors: the non-2xx answers, with the JSON bodies the real service sends.

Shapes follow recorded Databricks traffic: `{"error_code": "...", "message": "...", "details":
[...]}` where `details` holds google.rpc-style objects (a `BadRequest` naming the field, and a
`RequestInfo` carrying the request id that is also sent as `X-Request-Id`). Authentication
failures are the odd ones out: a numeric `error_code`, the request id inside the message, and
no `details`. Statement failures are not here: those are HTTP 200 with state FAILED (see
`sql_errors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ApiError"]

_REQUEST_INFO = "type.googleapis.com/google.rpc.RequestInfo"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_RESOURCE_INFO = "type.googleapis.com/google.rpc.ResourceInfo"


class ApiError(Exception):
    """An answer other than 2xx. Never put a credential in `message`."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        field: str | None = None,
        field_description: str | None = None,
        resource: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.field = field
        self.field_description = field_description
        self.resource = resource
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body for this error, stamped with the request id."""
        details: list[dict[str, Any]] = []
        if self.field is not None:
            details.append(
                {
                    "@type": _BAD_REQUEST,
                    "field_violations": [
                        {"field": self.field, "description": self.field_description or self.message}
                    ],
                }
            )
        if self.resource is not None:
            kind, name = self.resource
            details.append({"@type": _RESOURCE_INFO, "resource_type": kind, "resource_name": name})
        details.append({"@type": _REQUEST_INFO, "request_id": request_id, "serving_data": ""})
        return {"error_code": self.error_code, "message": self.message, "details": details}

    # Constructors for the errors the API answers with, worded as the real service words them.

    @classmethod
    def missing_field(cls, field: str) -> ApiError:
        return cls(
            400,
            "BAD_REQUEST",
            f"Required field is not specified: {field}.",
            field=field,
            field_description="field is not specified",
        )

    @classmethod
    def invalid(cls, field: str, message: str) -> ApiError:
        return cls(400, "INVALID_PARAMETER_VALUE", message, field=field)

    @classmethod
    def unparsable(cls, field: str) -> ApiError:
        """A value of the wrong type or form, e.g. `wait_timeout: "soon"`."""
        kind = "duration" if field == "wait_timeout" else field
        return cls(400, "INVALID_PARAMETER_VALUE", f"Error while parsing type: {kind}.")

    @classmethod
    def malformed_body(cls) -> ApiError:
        return cls(
            400,
            "MALFORMED_REQUEST",
            "Invalid JSON given in the body of the request - failed to parse given JSON",
        )

    @classmethod
    def statement_not_found(cls, statement_id: str) -> ApiError:
        return cls(
            404,
            "NOT_FOUND",
            f"The statement {statement_id} was not found.",
            resource=("statement", statement_id),
        )

    @classmethod
    def endpoint_not_found(cls, method: str, path: str) -> ApiError:
        shown = path.removeprefix("/api/2.0") or "/"
        return cls(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {shown}'")


class AuthError(Exception):
    """401 (no usable credential) or 403 (a credential that is not valid)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers)

    def body(self, request_id: str) -> dict[str, Any]:
        return {"error_code": self.status, "message": f"{self.message} [ReqId: {request_id}]"}

    @classmethod
    def missing(cls) -> AuthError:
        return cls(
            401,
            "Credential was not sent or was of an unsupported type for this API.",
            {"WWW-Authenticate": 'Bearer realm="DatabricksRealm"'},
        )

    @classmethod
    def invalid(cls) -> AuthError:
        return cls(
            403, "Invalid access token.", {"X-Databricks-Reason-Phrase": "Invalid access token."}
        )
