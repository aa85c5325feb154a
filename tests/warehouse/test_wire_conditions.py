"""Wire conditions the embedded warehouse cannot be made to produce, scripted with MockTransport.

Each test says which condition it needs: a connection refused before the request left, a
gateway 5xx, an HTTP-date Retry-After, a token revoked mid-session, a hostile discovery document
or chunk link. Everything else is tested against the embedded warehouse in test_client.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from core.warehouse.auth import OAuthM2M
from core.warehouse.client import StatementClient, _parse_retry_after
from core.warehouse.config import Connection, OAuthM2MAuth, TokenAuth
from core.warehouse.errors import AuthError, TransportFailure, WarehouseError
from core.warehouse.httpclient import open_http_client
from core.warehouse.secret import Secret

HOST = "https://dbc-1.cloud.databricks.com"
TOKEN = "dapi-wire-secret"

Handler = Callable[[httpx.Request], httpx.Response]


def succeeded(
    statement_id: str = "s-1", rows: list[list[str | None]] | None = None
) -> dict[str, Any]:
    return {
        "statement_id": statement_id,
        "status": {"state": "SUCCEEDED"},
        "manifest": {
            "schema": {
                "column_count": 1,
                "columns": [{"name": "x", "type_text": "INT", "type_name": "INT", "position": 0}],
            },
            "total_row_count": len(rows or []),
        },
        "result": {"data_array": rows or [["1"]]},
    }


async def client_for(handler: Handler, *, oauth: bool = False) -> StatementClient:
    auth = OAuthM2MAuth("c", Secret("client-secret")) if oauth else TokenAuth(Secret(TOKEN))
    connection = Connection(kind="databricks", host=HOST, warehouse_id="wh", auth=auth)
    http = await open_http_client(connection, transport=httpx.MockTransport(handler))
    return StatementClient(http, "wh", retry_budget_s=5.0, poll_min_s=0.01, poll_max_s=0.02)


async def test_submission_that_never_connected_is_retried() -> None:
    """Needs a connect failure (the request provably never left), which no in-process server
    can produce; the statement must then run exactly once."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=succeeded())

    client = await client_for(handler)
    result = await client.execute("SELECT 1")
    assert result.rows == [["1"]]
    assert calls == ["POST", "POST"]
    assert result.attempts == 2 and client.request_count == 2


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_submission_answered_by_a_gateway_error_is_not_resent(status: int) -> None:
    """Needs a 5xx other than 503 on the submission, which the embedded warehouse never sends."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, json={"error_code": "INTERNAL_ERROR", "message": "boom"})

    client = await client_for(handler)
    with pytest.raises(TransportFailure) as caught:
        await client.execute("INSERT INTO t VALUES (1)")
    assert calls == 1
    assert caught.value.may_have_run
    assert caught.value.http_status == status
    assert "may have run" in caught.value.message


@pytest.mark.parametrize("read_only", [True, False])
async def test_a_read_only_submission_is_resent_after_a_dropped_answer(read_only: bool) -> None:
    """Needs a connection dropped after the submission left, then a 502: a statement declared
    read-only (verification) is resent until it answers; any other is never resent."""
    script = iter(["drop", httpx.Response(502, text="bad gateway"), succeeded()])
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        step = next(script)
        if step == "drop":
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        return step if isinstance(step, httpx.Response) else httpx.Response(200, json=step)

    client = await client_for(handler)
    if read_only:
        result = await client.execute("SELECT 1", read_only=True)
        assert result.rows == [["1"]]
        assert calls == 3 and result.attempts == 3
    else:
        with pytest.raises(TransportFailure) as caught:
            await client.execute("SELECT 1")
        assert calls == 1 and caught.value.may_have_run


async def test_poll_survives_a_dropped_connection_and_a_gateway_error() -> None:
    """Needs transport errors and 502 on GET polls; reads are idempotent and are retried."""
    script = iter(
        [
            httpx.Response(200, json={"statement_id": "s-7", "status": {"state": "RUNNING"}}),
            "drop",
            httpx.Response(502, text="<html>bad gateway</html>"),
            httpx.Response(200, json=succeeded("s-7")),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(script)
        if step == "drop":
            raise httpx.ReadError("connection reset", request=request)
        assert isinstance(step, httpx.Response)
        return step

    client = await client_for(handler)
    result = await client.execute("SELECT 1")
    assert result.statement_id == "s-7"
    assert result.http_requests == 4


async def test_read_timeout_on_submission_may_have_run() -> None:
    """Needs a read timeout after the request was written, impossible to time in-process."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = await client_for(handler)
    with pytest.raises(TransportFailure) as caught:
        await client.execute("INSERT INTO t VALUES (1)")
    assert caught.value.may_have_run
    assert client.request_count == 1


async def test_revoked_cached_oauth_token_is_replaced_once() -> None:
    """Needs a token that the server stops accepting before it expires (revocation)."""
    tokens = iter(["tok-1", "tok-2"])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oidc/.well-known/oauth-authorization-server":
            return httpx.Response(200, json={"token_endpoint": f"{HOST}/oidc/v1/token"})
        if path == "/oidc/v1/token":
            form = dict(x.split("=") for x in request.content.decode().split("&"))
            assert form == {"grant_type": "client_credentials", "scope": "all-apis"}
            assert request.headers["authorization"].startswith("Basic ")
            return httpx.Response(
                200, json={"access_token": next(tokens), "token_type": "Bearer", "expires_in": 3600}
            )
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer tok-1" and len(seen) > 1:
            return httpx.Response(401, json={"error_code": 401, "message": "Token expired"})
        return httpx.Response(200, json=succeeded())

    client = await client_for(handler, oauth=True)
    await client.execute("SELECT 1")
    await client.execute("SELECT 1")
    assert seen == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]
    auth = client._http.auth
    assert isinstance(auth, OAuthM2M)
    assert (auth.discovery_requests, auth.token_requests) == (1, 2)


async def test_discovery_may_not_send_the_secret_over_plain_http_elsewhere() -> None:
    """Needs a hostile discovery document."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("oauth-authorization-server"):
            return httpx.Response(200, json={"token_endpoint": "http://evil.example.com/token"})
        raise AssertionError(f"unexpected request to {request.url}")

    client = await client_for(handler, oauth=True)
    with pytest.raises(AuthError, match="refusing to send the client secret"):
        await client.me()
    assert client.request_count == 1


async def test_chunk_links_must_stay_on_the_statements_api() -> None:
    """Needs a hostile next_chunk_internal_link (the credential would follow it)."""
    body = succeeded()
    body["result"]["next_chunk_internal_link"] = "https://evil.example.com/steal"

    client = await client_for(lambda request: httpx.Response(200, json=body))
    with pytest.raises(WarehouseError, match="outside the statements API"):
        await client.execute("SELECT 1")


async def test_statement_ids_from_the_server_are_not_trusted_in_paths() -> None:
    """Needs a malformed statement id."""
    body = {"statement_id": "../../scim", "status": {"state": "RUNNING"}}
    client = await client_for(lambda request: httpx.Response(200, json=body))
    with pytest.raises(WarehouseError, match="unusable statement id"):
        await client.execute("SELECT 1")


async def test_error_bodies_in_other_shapes() -> None:
    """Needs the SCIM and plain-text error bodies real workspaces send."""
    responses = {
        "/api/2.0/preview/scim/v2/Me": httpx.Response(
            403, json={"detail": "Invalid access token.", "status": "403"}
        ),
        "/api/2.0/sql/warehouses/wh": httpx.Response(
            404, text="RESOURCE_DOES_NOT_EXIST: no such warehouse"
        ),
    }
    client = await client_for(lambda request: responses[request.url.path])
    with pytest.raises(AuthError, match="Invalid access token") as denied:
        await client.me()
    assert denied.value.http_status == 403
    with pytest.raises(WarehouseError, match="was not found") as missing:
        await client.get_warehouse()
    assert missing.value.http_status == 404


def test_retry_after_forms() -> None:
    assert _parse_retry_after("3") == 3.0
    assert _parse_retry_after("0.25") == 0.25
    assert _parse_retry_after(None) == 1.0
    assert _parse_retry_after("soon") == 1.0
    assert _parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_wire_parameters() -> None:
    from core.warehouse.client import Parameter

    assert Parameter("n", "42", "INT").to_wire() == {"name": "n", "value": "42", "type": "INT"}
    assert Parameter("maybe", None).to_wire() == {"name": "maybe"}
    assert json.dumps(Parameter("s", "x").to_wire()) == '{"name": "s", "value": "x"}'
