"""Serve the embedded warehouse over HTTP with uvicorn (`impact-review warehouse serve`).

Loopback by default: the API holds data and a token, and plain HTTP must not face a network
unless the user says so. Once the socket is bound (so `--port 0` works), it prints the
environment a Databricks client needs. The token is printed there, once, on purpose; it is
never logged (uvicorn's access log has no headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import uvicorn
from uvicorn.server import HANDLED_SIGNALS

from core.embedded.faults import FaultProfile
from core.embedded.warehouse import EmbeddedWarehouse

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _DroppedResponseFilter(logging.Filter):
    """The lost-response fault drops answers on purpose; uvicorn need not report each one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, banner: _Banner) -> None:
        super().__init__(config)
        self._banner = banner

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Shut down gracefully on SIGINT/SIGTERM, without uvicorn re-raising the signal
        afterwards (which would kill the process before the warehouse closes its files)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            port = self.servers[0].sockets[0].getsockname()[1] if self.servers else self.config.port
            self._banner.show(port)


class _Banner:
    def __init__(self, warehouse: EmbeddedWarehouse, host: str, out: TextIO) -> None:
        self._warehouse = warehouse
        self._host = host
        self._out = out

    def show(self, port: int) -> None:
        host = self._host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        w = self._warehouse
        lines = [
            f"export DATABRICKS_HOST=http://{host}:{port}",
            f"export DATABRICKS_TOKEN={w.token}",
            f"export DATABRICKS_SQL_WAREHOUSE_ID={w.warehouse_id}",
            f"# OAuth M2M instead of the token: DATABRICKS_CLIENT_ID={w.oauth_client_id} "
            f"DATABRICKS_CLIENT_SECRET={w.oauth_client_secret}",
            f"# data: {w.data_dir}",
            f"# faults: {w.faults.describe()}",
        ]
        print("\n".join(lines), file=self._out, flush=True)


def serve(
    *,
    home: Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    faults: FaultProfile | None = None,
    out: TextIO | None = None,
    log_level: str = "info",
) -> None:
    """Run until interrupted (Ctrl-C / SIGTERM). Raises OSError if the port cannot be bound."""
    asyncio.run(_serve(home, host, port, faults or FaultProfile(), out or sys.stdout, log_level))


async def _serve(
    home: Path, host: str, port: int, faults: FaultProfile, out: TextIO, log_level: str
) -> None:
    warehouse = EmbeddedWarehouse(home, faults=faults)
    try:
        config = uvicorn.Config(
            warehouse.asgi_app(),
            host=host,
            port=port,
            log_level=log_level,
            lifespan="off",
            server_header=False,
        )
        server = _Server(config, _Banner(warehouse, host, out))
        logging.getLogger("uvicorn.error").addFilter(_DroppedResponseFilter())
        try:
            await server.serve()
        except SystemExit as exit_:  # uvicorn exits when it cannot bind
            raise OSError(f"cannot listen on {host}:{port}") from exit_
        if not server.started:
            raise OSError(f"cannot listen on {host}:{port}")
    finally:
        await warehouse.aclose()
