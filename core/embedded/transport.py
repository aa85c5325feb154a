"""An httpx transport that hands requests straight to the ASGI app: no sockets, no ports.

httpx's own `ASGITransport` turns an unfinished answer into an `AssertionError`; a real server
closes the connection instead, which httpx users see as `httpx.RemoteProtocolError`. This
transport reproduces that, so the "lost response" fault exercises the same error path in
process as over the network.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

__all__ = ["InProcessTransport"]


class InProcessTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._app = app
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "client": self._client,
            "server": (url.host, port),
            "state": {},
        }
        request_sent = False
        finished = False
        response_done = asyncio.Event()
        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        parts: list[bytes] = []

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await response_done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, headers, finished
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                parts.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    finished = True
                    response_done.set()

        try:
            await self._app(scope, receive, send)
        except Exception as error:
            if status is None or not finished:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                ) from error
            # The app already answered (Starlette sends its 500 page, then re-raises).
        finally:
            response_done.set()
        if status is None:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if not finished or not _complete(parts, headers):
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            )
        return httpx.Response(status, headers=headers, content=b"".join(parts), request=request)


def _complete(parts: list[bytes], headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the body was finished (and, when a length was announced, that long)."""
    for key, value in headers:
        if key.lower() == b"content-length":
            return sum(len(p) for p in parts) == int(value)
    return True
