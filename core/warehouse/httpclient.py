"""Build the one `httpx.AsyncClient` a session uses: base URL, credential, timeouts, no redirects.

`open_http_client` is a coroutine returning an open client; the caller owns it and closes it
with `await client.aclose()` (or `async with`). Most code should use `open_session` instead,
which also manages the embedded warehouse.

Redirects are not followed: the API never redirects, and following one would hand a request
carrying our credential to whatever the `Location` names. When no transport is injected the
request leaves the process, so the host must be https (or loopback), whatever built the
`Connection`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Final

import httpx

from core.warehouse.auth import BearerToken, OAuthM2M
from core.warehouse.config import (
    Connection,
    EmbeddedAuth,
    OAuthM2MAuth,
    TokenAuth,
    normalize_host,
)
from core.warehouse.errors import ConfigError

DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0)
"""Per-request default; statement submissions widen the read timeout to cover `wait_timeout`."""


def _user_agent() -> str:
    try:
        installed = version("impact-review")
    except PackageNotFoundError:
        installed = "unknown"
    return f"impact-review/{installed} httpx/{httpx.__version__}"


def auth_for(connection: Connection) -> httpx.Auth:
    """The httpx auth for a connection's credential."""
    credential = connection.auth
    if isinstance(credential, TokenAuth):
        return BearerToken(credential.token)
    if isinstance(credential, OAuthM2MAuth):
        return OAuthM2M(
            connection.host,
            credential.client_id,
            credential.client_secret,
            scope=credential.scope,
        )
    assert isinstance(credential, EmbeddedAuth)
    raise ConfigError(
        "the embedded warehouse issues its credentials when it starts: open it with open_session"
    )


async def open_http_client(
    connection: Connection,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    http_timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> httpx.AsyncClient:
    """An open client for `connection`; close it with `aclose()`.

    `transport` replaces the network (the embedded warehouse's in-process transport, or a
    test's); without one, the host must pass the https/loopback check.
    """
    auth = auth_for(connection)
    if transport is None:
        normalize_host(connection.host)
        transport = httpx.AsyncHTTPTransport(retries=0)
    return httpx.AsyncClient(
        base_url=connection.host,
        auth=auth,
        transport=transport,
        timeout=http_timeout,
        follow_redirects=False,
        headers={"User-Agent": _user_agent(), "Accept": "application/json"},
    )
