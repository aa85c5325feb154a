"""The one entry point the executor, CLI and TUI use to reach a warehouse.

    connection = resolve_connection(warehouse=args.warehouse, profile=args.profile)
    async with open_session(connection) as session:
        await session.client.me()
        result = await session.client.execute("SELECT 1")

For a Databricks connection the session owns a real httpx client. For the embedded warehouse it
also starts the warehouse in-process (under `impact_home()` unless `home` is given), takes the
token the warehouse issued, and stops the warehouse on exit, so callers never handle either
side's lifecycle or credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from core.warehouse.client import StatementClient
from core.warehouse.config import Connection, EmbeddedAuth, TokenAuth
from core.warehouse.errors import ConfigError, WarehouseError
from core.warehouse.httpclient import open_http_client
from core.warehouse.secret import Secret

if TYPE_CHECKING:
    from core.embedded import EmbeddedWarehouse, FaultProfile


@dataclass(frozen=True)
class Session:
    """An open connection: the statement client, what it is connected to, and its parts."""

    connection: Connection
    client: StatementClient
    http: httpx.AsyncClient
    embedded: EmbeddedWarehouse | None = None
    """The in-process warehouse for a local connection (tests inspect it), else None."""


@asynccontextmanager
async def open_session(
    connection: Connection,
    *,
    faults: FaultProfile | None = None,
    home: Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry_budget_s: float = 60.0,
    wait_timeout_s: int = 10,
    poll_min_s: float = 0.1,
    poll_max_s: float = 2.0,
) -> AsyncIterator[Session]:
    """Open `connection` for the duration of the block (see module doc).

    `faults` injects failures into the embedded warehouse (local only); `transport` replaces the
    network for a Databricks connection (tests).
    """
    async with AsyncExitStack() as stack:
        embedded: EmbeddedWarehouse | None = None
        effective = connection
        if connection.kind == "local":
            from core.home import impact_home

            embedded = _start_embedded(home if home is not None else impact_home(), faults)
            stack.push_async_callback(embedded.aclose)
            if isinstance(connection.auth, EmbeddedAuth):
                effective = replace(connection, auth=TokenAuth(Secret(embedded.token)))
            transport = embedded.transport()
        elif faults is not None:
            raise ConfigError("fault injection is only available with the embedded warehouse")
        http = await open_http_client(effective, transport=transport)
        stack.push_async_callback(http.aclose)
        client = StatementClient(
            http,
            connection.warehouse_id,
            retry_budget_s=retry_budget_s,
            wait_timeout_s=wait_timeout_s,
            poll_min_s=poll_min_s,
            poll_max_s=poll_max_s,
        )
        yield Session(connection=connection, client=client, http=http, embedded=embedded)


def _start_embedded(home: Path, faults: FaultProfile | None) -> EmbeddedWarehouse:
    """Start the in-process warehouse; one that cannot (another process holds its data) is a
    WarehouseError like any unavailable warehouse, not the engine's own exception."""
    from core.embedded import EmbeddedWarehouse
    from core.embedded.sql_errors import StatementError

    try:
        return EmbeddedWarehouse(home, faults=faults)
    except StatementError as error:
        raise WarehouseError(
            error.message, error_code=error.error_code, sql_state=error.sql_state
        ) from None
