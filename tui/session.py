"""The app's warehouse session: opened once, on first use, and kept for the app's lifetime.

Runs, verifications and the reports screen share it, the way a reviewer's session to a real SQL
warehouse stays up between statements; opening one per operation would also restart the
embedded warehouse (and its simulated cold start) every time.

`core.executor.open_run_session` asks the warehouse to hold each statement for up to 10 s, which
is right for the CLI (one request for a fast statement) but leaves a status pane blank until
the statement ends. The app submits asynchronously (`wait_timeout` 0s) and polls with capped
backoff instead, so every PENDING and RUNNING state the warehouse reports reaches the screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from core.warehouse.errors import ConfigError, TransportFailure
from core.warehouse.session import Session, open_session
from tui.context import AppContext

LIVE_WAIT_TIMEOUT_S = 0
"""Submit without waiting; states then arrive through polls."""


class SessionHolder:
    """Opens the app's session on first use and closes it when the app ends."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self._stack: AsyncExitStack | None = None
        self._session: Session | None = None
        self._lock = asyncio.Lock()
        self.opened = 0
        """How many sessions were opened (tests check they are reused)."""

    async def get(self) -> Session:
        """The open session (opening it now if needed; ConfigError if there is no warehouse)."""
        async with self._lock:
            if self._session is not None:
                return self._session
            context = self.context
            if context.connection is None:
                raise ConfigError(context.connection_error or "no warehouse is configured")
            stack = AsyncExitStack()
            try:
                session = await stack.enter_async_context(
                    open_session(
                        context.connection,
                        faults=context.faults,
                        home=context.home,
                        wait_timeout_s=LIVE_WAIT_TIMEOUT_S,
                    )
                )
            except BaseException:
                await stack.aclose()
                raise
            self._stack, self._session = stack, session
            self.opened += 1
            return session

    async def reset(self) -> None:
        """Close the session (after a transport failure); the next `get` opens a new one."""
        async with self._lock:
            stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def close(self) -> None:
        """Close the session when the app ends."""
        await self.reset()


@asynccontextmanager
async def app_session(context: AppContext) -> AsyncIterator[Session]:
    """The app's shared session for one operation; a broken transport is reopened next time."""
    if context.sessions is None:
        context.sessions = SessionHolder(context)
    holder = context.sessions
    session = await holder.get()
    try:
        yield session
    except TransportFailure:
        await holder.reset()
        raise
