"""httpx authentication for the two credentials we support: a bearer token and OAuth M2M.

OAuth M2M follows the Databricks flow: discover the token endpoint at
`{host}/oidc/.well-known/oauth-authorization-server`, then POST
`grant_type=client_credentials&scope=all-apis` with the client id and secret as HTTP Basic. The
token is cached until shortly before it expires, so a run of many statements costs one token
request, and concurrent requests share one refresh (a lock) instead of stampeding the endpoint.

Token and discovery requests are yielded from the auth flow, so they travel through the same
client and connection pool as the API calls. When a cached token is refused with 401 it is
dropped and the request is sent once more with a fresh one; a 401 means the request was not
executed, so this is safe even for a statement submission.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from core.warehouse.errors import AuthError
from core.warehouse.secret import Secret

DISCOVERY_PATH: Final = "/oidc/.well-known/oauth-authorization-server"
TOKEN_REQUEST_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
EXPIRY_MARGIN_S: Final = 60.0
"""Refresh this long before expiry (at most; short-lived tokens refresh at 90% of their life)."""


class BearerToken(httpx.Auth):
    """`Authorization: Bearer <token>` on every request."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerToken(********)"


def _same_origin(first: str, second: str) -> bool:
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme.lower(), a.netloc.lower()) == (b.scheme.lower(), b.netloc.lower())


def _oauth_error(response: httpx.Response, what: str) -> AuthError:
    detail = ""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("error") or body.get("error_code")
        description = body.get("error_description") or body.get("message")
        detail = ": ".join(str(part) for part in (code, description) if part)
    suffix = f" ({detail})" if detail else ""
    return AuthError(
        f"OAuth {what} failed with HTTP {response.status_code}{suffix}",
        http_status=response.status_code,
        error_code=None
        if not isinstance(body, dict) or not body.get("error")
        else str(body["error"]),
    )


class OAuthM2M(httpx.Auth):
    """Client-credentials OAuth for a Databricks service principal, with a cached token."""

    def __init__(
        self,
        host: str,
        client_id: str,
        client_secret: Secret,
        *,
        scope: str = "all-apis",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._host = host.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token_endpoint: str | None = None
        self._token: Secret | None = None
        self._refresh_at = 0.0
        self.token_requests = 0
        """Token requests sent so far (tests and benchmarks assert caching with it)."""
        self.discovery_requests = 0

    def __repr__(self) -> str:
        return f"OAuthM2M(client_id={self._client_id!r}, client_secret=********)"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OAuthM2M works with httpx.AsyncClient only")
        yield request  # pragma: no cover - makes this a generator, as httpx expects

    def invalidate(self) -> None:
        """Forget the cached token (the next request fetches a new one)."""
        self._token = None

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        retried = False
        while True:
            async with self._lock:
                fetched_now = not self._is_fresh()
                if fetched_now:
                    if self._token_endpoint is None:
                        self.discovery_requests += 1
                        response = yield self._discovery_request()
                        await response.aread()
                        self._token_endpoint = self._parse_discovery(response)
                    self.token_requests += 1
                    requested_at = self._clock()
                    response = yield self._token_request(self._token_endpoint)
                    await response.aread()
                    self._store_token(response, requested_at)
                token = self._token
            assert token is not None
            request.headers["Authorization"] = f"Bearer {token.reveal()}"
            response = yield request
            if response.status_code != 401 or fetched_now or retried:
                return
            # The cached token was revoked or expired early: one fresh token, one more try.
            retried = True
            async with self._lock:
                if self._token is token:
                    self._token = None

    def _is_fresh(self) -> bool:
        return self._token is not None and self._clock() < self._refresh_at

    def _discovery_request(self) -> httpx.Request:
        return httpx.Request(
            "GET",
            f"{self._host}{DISCOVERY_PATH}",
            headers={"Accept": "application/json"},
            extensions={"timeout": TOKEN_REQUEST_TIMEOUT.as_dict()},
        )

    def _token_request(self, endpoint: str) -> httpx.Request:
        pair = f"{self._client_id}:{self._client_secret.reveal()}".encode()
        return httpx.Request(
            "POST",
            endpoint,
            data={"grant_type": "client_credentials", "scope": self._scope},
            headers={
                "Accept": "application/json",
                "Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}",
            },
            extensions={"timeout": TOKEN_REQUEST_TIMEOUT.as_dict()},
        )

    def _store_token(self, response: httpx.Response, requested_at: float) -> None:
        token, lifetime = self._parse_token(response)
        self._token = token
        self._refresh_at = requested_at + lifetime - min(EXPIRY_MARGIN_S, lifetime * 0.1)

    def _parse_discovery(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise _oauth_error(response, f"discovery at {DISCOVERY_PATH}")
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        endpoint = body.get("token_endpoint") if isinstance(body, dict) else None
        if not isinstance(endpoint, str) or not endpoint:
            raise AuthError(f"OAuth discovery at {DISCOVERY_PATH} returned no token_endpoint")
        if endpoint.startswith("/"):
            endpoint = f"{self._host}{endpoint}"
        # The client secret goes to this URL: only over TLS, or to the host we already trust.
        if not (endpoint.lower().startswith("https://") or _same_origin(endpoint, self._host)):
            raise AuthError(
                "OAuth discovery pointed the token endpoint at a plain-http URL on another host; "
                "refusing to send the client secret there"
            )
        return endpoint

    def _parse_token(self, response: httpx.Response) -> tuple[Secret, float]:
        if response.status_code != 200:
            raise _oauth_error(response, "token request")
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise AuthError("OAuth token response carried no access_token")
        token_type = str(body.get("token_type", "Bearer"))
        if token_type.lower() != "bearer":
            raise AuthError(f"OAuth token response has unsupported token_type {token_type!r}")
        expires_in = body.get("expires_in", 3600)
        try:
            lifetime = max(0.0, float(expires_in))
        except (TypeError, ValueError):
            lifetime = 0.0
        return Secret(body["access_token"]), lifetime
