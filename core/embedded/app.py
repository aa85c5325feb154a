"""The HTTP surface: the Databricks routes, as a Starlette application.

Routes: statements (execute, get, result chunks, cancel, close), warehouses (get, start), SCIM
`Me`, and OAuth M2M (discovery document and token endpoint). Anything else is a clean 404
`ENDPOINT_NOT_FOUND`. Every API request is counted for the 429/503 faults first, then
authenticated, and answers carry `X-Request-Id`, which error bodies repeat. Request validation
and its error wording follow recorded Databricks answers; see `errors`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from core.embedded.auth import Credentials, Principal, basic_credentials
from core.embedded.errors import ApiError, AuthError
from core.embedded.faults import FaultProfile, RequestFaults
from core.embedded.sql_text import SqlText
from core.embedded.statements import State, StatementStore, Submission, WarehouseStartup
from core.embedded.translate import Parameter

__all__ = ["ApiContext", "build_app"]

MAX_STATEMENT_BYTES = 16 * 1024 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_BYTE_LIMIT = 26_214_400
MAX_ROW_LIMIT = 2_147_483_647
WAREHOUSE_NAME = "Embedded DuckDB warehouse"
USER_NAME = "embedded-user@localhost"
WORKSPACE_ID = "1000000000000001"

_STATEMENT_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_WAREHOUSE_ID = re.compile(r"^[0-9a-zA-Z]{16}$")
_WAIT_TIMEOUT = re.compile(r"^(\d+(?:\.\d+)?)s$")
_PENDING_GRACE_S = 5.0
"""How long a CANCEL-on-timeout answer waits for the cancellation to land."""
_LOST_RESPONSE_WAIT_S = 600.0


@dataclass(frozen=True)
class ApiContext:
    """What the routes need from the warehouse."""

    warehouse_id: str
    credentials: Credentials
    store: StatementStore
    startup: WarehouseStartup
    faults: FaultProfile


Handler = Callable[[Request, Principal | None], Awaitable[Response]]


class _DroppedResponse(Response):
    """Starts an answer and never finishes it: the server then closes the connection, and the
    client sees a transport error after the statement already committed."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )


def build_app(context: ApiContext) -> Starlette:
    api = _Api(context)
    routes = [
        Route("/api/2.0/sql/statements", api.wrap(api.execute), methods=["POST"]),
        Route("/api/2.0/sql/statements/", api.wrap(api.execute), methods=["POST"]),
        Route("/api/2.0/sql/statements/{statement_id}", api.wrap(api.get), methods=["GET"]),
        Route("/api/2.0/sql/statements/{statement_id}", api.wrap(api.close), methods=["DELETE"]),
        Route(
            "/api/2.0/sql/statements/{statement_id}/result/chunks/{chunk_index}",
            api.wrap(api.chunk),
            methods=["GET"],
        ),
        Route(
            "/api/2.0/sql/statements/{statement_id}/cancel", api.wrap(api.cancel), methods=["POST"]
        ),
        Route("/api/2.0/sql/warehouses/{warehouse_id}", api.wrap(api.warehouse), methods=["GET"]),
        Route(
            "/api/2.0/sql/warehouses/{warehouse_id}/start", api.wrap(api.start), methods=["POST"]
        ),
        Route("/api/2.0/preview/scim/v2/Me", api.wrap(api.me), methods=["GET"]),
        Route(
            "/oidc/.well-known/oauth-authorization-server",
            api.wrap(api.discovery, authenticated=False),
            methods=["GET"],
        ),
        Route("/oidc/v1/token", api.token, methods=["POST"]),
        Route(
            "/.well-known/databricks-config",
            api.wrap(api.host_metadata, authenticated=False),
            methods=["GET"],
        ),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    if status not in (404, 405):
        return JSONResponse({"error_code": "INTERNAL_ERROR", "message": "Unexpected error."}, 500)
    error = ApiError.endpoint_not_found(request.method, request.url.path)
    request_id = str(uuid.uuid4())
    return JSONResponse(error.body(request_id), 404, headers={"X-Request-Id": request_id})


class _Api:
    def __init__(self, context: ApiContext) -> None:
        self.context = context
        self.request_faults = RequestFaults(context.faults)

    def wrap(
        self, handler: Handler, *, authenticated: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        """Request id, injected 429/503, authentication, and error bodies around a handler."""

        async def endpoint(request: Request) -> Response:
            request_id = str(uuid.uuid4())
            try:
                if authenticated:
                    self._inject_unavailability()
                    principal = self.context.credentials.authenticate(
                        request.headers.get("authorization")
                    )
                    self.context.startup.touch()
                else:
                    principal = None
                response = await handler(request, principal)
            except ApiError as error:
                response = JSONResponse(error.body(request_id), error.status, headers=error.headers)
            except AuthError as error:
                response = JSONResponse(error.body(request_id), error.status, headers=error.headers)
            if not isinstance(response, _DroppedResponse):
                response.headers["X-Request-Id"] = request_id
            return response

        return endpoint

    def _inject_unavailability(self) -> None:
        status = self.request_faults.next_request()
        if status is None:
            return
        retry = {"Retry-After": str(self.context.faults.retry_after_s)}
        if status == 429:
            raise ApiError(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                "Too many requests. Please wait a moment and try again.",
                headers=retry,
            )
        raise ApiError(
            503,
            "TEMPORARILY_UNAVAILABLE",
            "The service is temporarily unavailable. Please try again later.",
            headers=retry,
        )

    # -- statements ----------------------------------------------------------------------------

    async def execute(self, request: Request, principal: Principal | None) -> Response:
        body = await _json_object(request)
        submission, wait_s, cancel_on_timeout = self._submission(body)
        store = self.context.store
        try:
            statement = store.create(submission)
        except RuntimeError:  # the warehouse is shutting down
            raise ApiError(
                503, "TEMPORARILY_UNAVAILABLE", "The warehouse is shutting down."
            ) from None
        if self.context.faults.loses_response(submission.statement.value()):
            store.start(statement)
            await store.wait(statement, _LOST_RESPONSE_WAIT_S)
            return _DroppedResponse()
        if wait_s == 0:
            snapshot = statement.response()  # PENDING, as the real service answers at once
            store.start(statement)
            return JSONResponse(snapshot)
        store.start(statement)
        if not await store.wait(statement, wait_s) and cancel_on_timeout:
            store.cancel(statement.id)
            await store.wait(statement, _PENDING_GRACE_S)
        return JSONResponse(statement.response())

    def _submission(self, body: dict[str, Any]) -> tuple[Submission, float, bool]:
        warehouse_id = body.get("warehouse_id")
        if not isinstance(warehouse_id, str) or not warehouse_id:
            raise ApiError.missing_field("warehouse_id")
        statement = body.pop("statement", None)  # the submission alone holds it (see SqlText)
        if statement is None:
            raise ApiError.missing_field("statement")
        if not isinstance(statement, str):
            raise ApiError.unparsable("statement")
        self._check_warehouse(warehouse_id, for_execution=True)
        if _utf8_size(statement) > MAX_STATEMENT_BYTES:
            raise ApiError.invalid(
                "statement", "The statement text exceeds the maximum size of 16 MiB."
            )
        wait_s = _wait_timeout(body.get("wait_timeout", "10s"))
        disposition = body.get("disposition")
        if disposition == "EXTERNAL_LINKS":
            raise ApiError.invalid(
                "disposition",
                "The embedded warehouse supports only the INLINE disposition (results up to "
                "25 MiB).",
            )
        if body.get("format") in ("ARROW_STREAM", "CSV"):
            raise ApiError.invalid(
                "format",
                "Incompatible parameters: The format field must be JSON_ARRAY when the "
                "disposition field is INLINE.",
            )
        row_limit = _limit(body.get("row_limit"), "row_limit", 0, MAX_ROW_LIMIT)
        byte_limit = _limit(body.get("byte_limit"), "byte_limit", 1, MAX_BYTE_LIMIT)
        submission = Submission(
            statement=SqlText(statement),
            catalog=_optional_text(body.get("catalog"), "catalog"),
            schema=_optional_text(body.get("schema"), "schema"),
            parameters=_parameters(body.get("parameters")),
            row_limit=row_limit,
            byte_limit=byte_limit,
        )
        return submission, wait_s, body.get("on_wait_timeout") == "CANCEL"

    def _check_warehouse(self, warehouse_id: str, *, for_execution: bool) -> None:
        if not _WAREHOUSE_ID.match(warehouse_id):
            raise ApiError.invalid("warehouse_id", f"{warehouse_id} is not a valid endpoint id.")
        if warehouse_id == self.context.warehouse_id:
            return
        if for_execution:
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                "You do not have permission to use the SQL Warehouse. Please contact your "
                "administrator.",
            )
        raise ApiError(
            404,
            "RESOURCE_DOES_NOT_EXIST",
            f"SQL warehouse {warehouse_id} does not exist.",
            resource=("warehouse", warehouse_id),
        )

    def _statement(self, request: Request) -> str:
        statement_id = request.path_params["statement_id"]
        if not _STATEMENT_ID.match(statement_id):
            raise ApiError.unparsable("statement_id")
        return str(statement_id)

    async def get(self, request: Request, principal: Principal | None) -> Response:
        statement_id = self._statement(request)
        statement = self.context.store.get(statement_id)
        if statement is None:
            raise ApiError.statement_not_found(statement_id)
        return JSONResponse(statement.response())

    async def chunk(self, request: Request, principal: Principal | None) -> Response:
        statement_id = self._statement(request)
        raw_index = request.path_params["chunk_index"]
        if not raw_index.isdigit():
            raise ApiError.unparsable("chunk_index")
        index = int(raw_index)
        statement = self.context.store.get(statement_id)
        if statement is None:
            raise ApiError.statement_not_found(statement_id)
        with statement.lock:
            state, result = statement.state, statement.result
        if state is not State.SUCCEEDED or result is None:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"The statement is {state.value}: the statement state should be SUCCEEDED "
                "before you can start fetching the result.",
                resource=("statement", statement_id),
            )
        if index >= len(result.chunks):
            raise ApiError.invalid("chunk_index", f"The chunk_index {index} is out of bounds.")
        return JSONResponse(result.chunk(index, statement_id))

    async def cancel(self, request: Request, principal: Principal | None) -> Response:
        self.context.store.cancel(self._statement(request))
        return JSONResponse({})

    async def close(self, request: Request, principal: Principal | None) -> Response:
        self.context.store.close(self._statement(request))
        return JSONResponse({})

    # -- warehouse and identity ----------------------------------------------------------------

    async def warehouse(self, request: Request, principal: Principal | None) -> Response:
        warehouse_id = request.path_params["warehouse_id"]
        self._check_warehouse(warehouse_id, for_execution=False)
        host = request.url.hostname or "localhost"
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        path = f"/sql/1.0/warehouses/{warehouse_id}"
        return JSONResponse(
            {
                "id": warehouse_id,
                "name": WAREHOUSE_NAME,
                "state": self.context.startup.state,
                "health": {"status": "HEALTHY"},
                "cluster_size": "2X-Small",
                "min_num_clusters": 1,
                "max_num_clusters": 1,
                "num_clusters": 1,
                "num_active_sessions": 0,
                "auto_stop_mins": 10,
                "auto_resume": True,
                "creator_name": USER_NAME,
                "warehouse_type": "PRO",
                "enable_serverless_compute": True,
                "enable_photon": True,
                "spot_instance_policy": "COST_OPTIMIZED",
                "channel": {"name": "CHANNEL_NAME_CURRENT"},
                "odbc_params": {
                    "hostname": host,
                    "path": path,
                    "protocol": request.url.scheme,
                    "port": port,
                },
                "jdbc_url": f"jdbc:databricks://{host}:{port}/default;transportMode=http;"
                f"ssl={1 if request.url.scheme == 'https' else 0};AuthMech=3;httpPath={path};",
            }
        )

    async def start(self, request: Request, principal: Principal | None) -> Response:
        self._check_warehouse(request.path_params["warehouse_id"], for_execution=False)
        self.context.startup.touch()
        return JSONResponse({})

    async def me(self, request: Request, principal: Principal | None) -> Response:
        service = principal is not None and principal.kind == "service_principal"
        name = principal.name if principal is not None else USER_NAME
        user: dict[str, Any] = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "7000000000000002" if service else "7000000000000001",
            "userName": name,
            "displayName": "Embedded service principal" if service else "Embedded User",
            "active": True,
            "groups": [{"display": "users", "type": "direct", "value": "1000000000000001"}],
        }
        if not service:
            user["name"] = {"givenName": "Embedded", "familyName": "User"}
            user["emails"] = [{"value": name, "type": "work", "primary": True}]
        return JSONResponse(user)

    # -- OAuth M2M -----------------------------------------------------------------------------

    async def discovery(self, request: Request, principal: Principal | None) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "issuer": f"{base}/oidc",
                "authorization_endpoint": f"{base}/oidc/v1/authorize",
                "token_endpoint": f"{base}/oidc/v1/token",
                "jwks_uri": f"{base}/oidc/jwks.json",
                "grant_types_supported": ["client_credentials"],
                "response_types_supported": ["code"],
                "scopes_supported": ["all-apis", "sql", "offline_access"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    async def host_metadata(self, request: Request, principal: Principal | None) -> Response:
        """Host metadata newer SDKs read first; `oidc_endpoint` is how they find OAuth M2M."""
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"oidc_endpoint": f"{base}/oidc", "workspace_id": WORKSPACE_ID})

    async def token(self, request: Request) -> Response:
        form = {
            k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        client = basic_credentials(request.headers.get("authorization"))
        if client is None and "client_id" in form:
            client = (form["client_id"], form.get("client_secret", ""))
        if client is None or not self.context.credentials.client_matches(*client):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
                headers={"WWW-Authenticate": 'Basic realm="oidc"'},
            )
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Only the client_credentials grant is supported.",
                },
                400,
            )
        return JSONResponse(
            {
                "access_token": self.context.credentials.issue_access_token(),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": form.get("scope", "all-apis"),
            },
            headers={"Cache-Control": "no-store"},
        )


async def _json_object(request: Request) -> dict[str, Any]:
    pieces: list[bytes] = []
    size = 0
    async for piece in request.stream():
        pieces.append(piece)
        size += len(piece)
        if size > MAX_BODY_BYTES:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The request body is too large.")
    # A body that arrived in one piece is parsed as it is: a MERGE's body is megabytes.
    raw = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    del pieces
    if not raw or raw.isspace():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError.malformed_body() from None
    if not isinstance(body, dict):
        raise ApiError.malformed_body()
    return body


def _utf8_size(text: str) -> int:
    """The UTF-8 size of a text, without encoding a copy of an ASCII one."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _wait_timeout(value: object) -> float:
    match = _WAIT_TIMEOUT.match(value) if isinstance(value, str) else None
    if match is None:
        raise ApiError.unparsable("wait_timeout")
    seconds = float(match.group(1))
    if seconds != 0 and not 5 <= seconds <= 50:
        raise ApiError.invalid(
            "wait_timeout",
            "The wait_timeout field must be 0 seconds (disables wait), or between 5 seconds and "
            "50 seconds.",
        )
    return seconds


def _limit(value: object, field: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # int64 fields arrive as JSON strings from some clients
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError.unparsable(field)
    if not low <= value <= high:
        raise ApiError.invalid(field, f"The {field} field must be between {low} and {high}.")
    return value


def _optional_text(value: object, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise ApiError.unparsable(field)


def _parameters(value: object) -> tuple[Parameter, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ApiError.unparsable("parameters")
    parameters = []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError.unparsable("parameters")
        name, raw, kind = item.get("name"), item.get("value"), item.get("type")
        if not isinstance(name, str) or not name:
            raise ApiError.missing_field("parameters.name")
        if raw is not None and not isinstance(raw, str):
            raise ApiError.unparsable("parameters.value")
        if kind is not None and not isinstance(kind, str):
            raise ApiError.unparsable("parameters.type")
        parameters.append(Parameter(name, raw, kind or None))
    return tuple(parameters)
