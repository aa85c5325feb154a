"""Warehouse sessions for the app: the executor's session, tuned for live status panes.

`core.executor.open_run_session` asks the warehouse to hold each statement for up to 30 s, which
is right for the CLI (one request for a fast statement) but leaves a status pane blank until
the statement ends. The app submits asynchronously (`wait_timeout` 0s) and polls with capped
backoff instead, so every PENDING and RUNNING state the warehouse reports reaches the screen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.warehouse.errors import ConfigError
from core.warehouse.session import Session, open_session
from tui.context import AppContext

LIVE_WAIT_TIMEOUT_S = 0
"""Submit without waiting; states then arrive through polls."""


@asynccontextmanager
async def open_app_session(context: AppContext) -> AsyncIterator[Session]:
    """A session on the app's warehouse (ConfigError if none could be resolved)."""
    if context.connection is None:
        raise ConfigError(context.connection_error or "no warehouse is configured")
    async with open_session(
        context.connection,
        faults=context.faults,
        home=context.home,
        wait_timeout_s=LIVE_WAIT_TIMEOUT_S,
    ) as session:
        yield session
