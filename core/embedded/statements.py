"""Statement lifecycle: PENDING -> RUNNING -> SUCCEEDED / FAILED / CANCELED, then CLOSED.

Each statement runs on its own worker thread, so polling, cancel and close act on work that is
really in progress. The thread waits (cancellably) for the warehouse to finish starting (the
cold-start fault), is RUNNING for at least the injected latency, then translates and runs its
SQL. HTTP handlers never block a thread: they wait on an asyncio future that the worker
resolves through the handler's own event loop, so the store works under uvicorn and under the
in-process transport alike.

Retention follows the real service: a result is readable for `result_ttl_s` after the statement
finished (polling does not extend it), then the statement reads as CLOSED with no result; twelve
times that later it is forgotten and reads as 404 (one hour and twelve hours by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import duckdb

from core.embedded.engine import Cancelled, Engine
from core.embedded.faults import FaultProfile
from core.embedded.heap import release_free_heap
from core.embedded.results import ResultSet
from core.embedded.sql_errors import StatementError
from core.embedded.sql_text import SqlText
from core.embedded.translate import Parameter

__all__ = ["State", "Statement", "StatementStore", "Submission", "WarehouseStartup"]

_log = logging.getLogger(__name__)

FORGET_FACTOR = 12
"""Finished statements are forgotten (404) after this many result lifetimes."""


class State(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    CLOSED = "CLOSED"

    @property
    def terminal(self) -> bool:
        return self not in (State.PENDING, State.RUNNING)


@dataclass(frozen=True)
class Submission:
    """A validated execute request."""

    statement: SqlText
    """Held by this object alone, so that running it can shrink it (see `SqlText`)."""
    catalog: str | None = None
    schema: str | None = None
    parameters: tuple[Parameter, ...] = ()
    row_limit: int | None = None
    byte_limit: int | None = None


class WarehouseStartup:
    """The warehouse starts on first use and is STARTING for the cold-start fault's duration."""

    def __init__(self, cold_start_s: float) -> None:
        self._cold_start_s = cold_start_s
        self._started_at: float | None = None
        self._lock = threading.Lock()

    def touch(self) -> None:
        """Start the warehouse if it has not started yet (any API use starts it)."""
        with self._lock:
            if self._started_at is None:
                self._started_at = time.monotonic()

    @property
    def state(self) -> str:
        return "STARTING" if self.remaining() > 0 else "RUNNING"

    def remaining(self) -> float:
        with self._lock:
            started = self._started_at
        if started is None:
            return self._cold_start_s
        return max(0.0, started + self._cold_start_s - time.monotonic())

    def wait_ready(self, cancelled: threading.Event) -> bool:
        """Block until started; False if cancelled first."""
        self.touch()
        while (left := self.remaining()) > 0:
            if cancelled.wait(left):
                return False
        return True


def new_statement_id() -> str:
    """A time-ordered UUID shaped like the real ones (`01f1c46b-c6a4-1a9a-9f97-7eff37bf8459`)."""
    global _last_tick
    with _id_lock:
        # 1.6 microsecond ticks since 1582 (the unit that gives the real ids' `01f1...` prefix)
        tick = ((time.time_ns() // 100 + 0x01B21DD213814000) >> 4) & ((1 << 60) - 1)
        tick = max(tick, _last_tick + 1)
        _last_tick = tick
    digits = f"{tick:015x}"
    clock = 0x8000 | secrets.randbits(14)
    return f"{digits[:8]}-{digits[8:12]}-1{digits[12:]}-{clock:04x}-{_NODE:012x}"


_id_lock = threading.Lock()
_last_tick = 0
_NODE = secrets.randbits(48)


class Statement:
    """One submitted statement; all mutable state is guarded by `lock`."""

    def __init__(self, statement_id: str, submission: Submission) -> None:
        self.id = statement_id
        self.submission = submission
        self.state = State.PENDING
        self.error: StatementError | None = None
        self.result: ResultSet | None = None
        self.finished_at: float | None = None
        self.cancel_requested = threading.Event()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def release_text(self) -> None:
        """Forget the SQL text once it has run: nothing reads it again, and a MERGE's text can
        be megabytes (four bytes a character when it holds an emoji) kept for hours."""
        with self.lock:
            self.submission.statement.release()

    def set_cursor(self, cursor: duckdb.DuckDBPyConnection | None) -> None:
        with self.lock:
            self._cursor = cursor
            if cursor is not None and self.cancel_requested.is_set():
                cursor.interrupt()

    def interrupt(self) -> None:
        """Ask the running SQL to stop (called with `lock` held)."""
        if self._cursor is not None:
            self._cursor.interrupt()

    def response(self) -> dict[str, Any]:
        """The StatementResponse body as of now."""
        with self.lock:
            body: dict[str, Any] = {"statement_id": self.id, "status": {"state": self.state.value}}
            if self.state is State.FAILED and self.error is not None:
                body["status"].update(self.error.status_fields())
            if self.state is State.SUCCEEDED and self.result is not None:
                body["manifest"] = self.result.manifest()
                body["result"] = self.result.chunk(0, self.id)
            return body

    def add_waiter(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> bool:
        """Register a future to resolve when the statement ends; False if it already has."""
        with self.lock:
            if self.state.terminal:
                return False
            self._waiters.append((loop, future))
            return True

    def remove_waiter(self, future: asyncio.Future[None]) -> None:
        with self.lock:
            self._waiters = [(lp, fut) for lp, fut in self._waiters if fut is not future]

    def finish(
        self,
        state: State,
        *,
        result: ResultSet | None = None,
        error: StatementError | None = None,
    ) -> bool:
        """Move to a terminal state unless already in one; wake every waiter."""
        with self.lock:
            if self.state.terminal:
                return False
            self.state = state
            self.result = result
            self.error = error
            self.finished_at = time.monotonic()
            waiters, self._waiters = self._waiters, []
        self.done.set()
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that waiter's loop is gone
                loop.call_soon_threadsafe(_resolve, future)
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class StatementStore:
    """All statements of one warehouse, and the workers running them."""

    def __init__(
        self,
        engine: Engine,
        startup: WarehouseStartup,
        faults: FaultProfile,
        *,
        result_ttl_s: float,
    ) -> None:
        self._engine = engine
        self._startup = startup
        self._faults = faults
        self._ttl = result_ttl_s
        self._statements: dict[str, Statement] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------------

    def create(self, submission: Submission) -> Statement:
        """Register a new PENDING statement (not yet running: call `start`)."""
        self.sweep()
        statement = Statement(new_statement_id(), submission)
        with self._lock:
            if self._closed:
                raise RuntimeError("the embedded warehouse is closed")
            self._statements[statement.id] = statement
        return statement

    def start(self, statement: Statement) -> None:
        thread = threading.Thread(
            target=self._run, args=(statement,), name=f"statement-{statement.id}", daemon=True
        )
        statement.thread = thread
        thread.start()

    def _run(self, statement: Statement) -> None:
        try:
            self._run_submission(statement, statement.submission)
        finally:
            statement.release_text()
            release_free_heap()

    def _run_submission(self, statement: Statement, submission: Submission) -> None:
        cancelled = statement.cancel_requested
        try:
            if not self._startup.wait_ready(cancelled):
                statement.finish(State.CANCELED)
                return
            with statement.lock:
                if statement.state.terminal:
                    return
                statement.state = State.RUNNING
            if cancelled.wait(self._faults.statement_latency_s):
                statement.finish(State.CANCELED)
                return
            if self._faults.fails(submission.statement.value()):
                raise StatementError(
                    "INTERNAL_ERROR",
                    "XX000",
                    "Injected failure: the statement matches the embedded warehouse's fail "
                    "pattern.",
                    error_code="INTERNAL_ERROR",
                )
            result = self._engine.run_statement(
                submission.statement,
                catalog=submission.catalog,
                schema=submission.schema,
                parameters=submission.parameters,
                row_limit=submission.row_limit,
                byte_limit=submission.byte_limit,
                cancelled=cancelled,
                on_cursor=statement.set_cursor,
            )
            statement.finish(State.SUCCEEDED, result=result)
        except StatementError as error:
            statement.finish(State.FAILED, error=error)
        except Cancelled:
            statement.finish(State.CANCELED)
        except Exception:
            _log.exception("statement %s failed inside the embedded warehouse", statement.id)
            statement.finish(
                State.FAILED,
                error=StatementError(
                    "INTERNAL_ERROR",
                    "XX000",
                    "The embedded warehouse failed unexpectedly; see its log.",
                    error_code="INTERNAL_ERROR",
                ),
            )

    def get(self, statement_id: str) -> Statement | None:
        """The statement, with expiry applied; None if unknown or forgotten."""
        with self._lock:
            statement = self._statements.get(statement_id)
        if statement is None:
            return None
        if not self._expire(statement, time.monotonic()):
            return None
        return statement

    def cancel(self, statement_id: str) -> None:
        """Request cancellation; a no-op for unknown or finished statements (as on the API)."""
        statement = self.get(statement_id)
        if statement is not None:
            self._cancel(statement)

    def _cancel(self, statement: Statement) -> None:
        already = statement.cancel_requested.is_set()
        statement.cancel_requested.set()
        with statement.lock:
            pending = statement.state is State.PENDING
            statement.interrupt()
        if pending:
            statement.finish(State.CANCELED)
        elif not already and not statement.done.is_set():
            # DuckDB forgets an interrupt that lands just before a query starts, so keep asking
            # until the worker has stopped.
            threading.Thread(
                target=_keep_interrupting, args=(statement,), name="cancel", daemon=True
            ).start()

    def close(self, statement_id: str) -> None:
        """Close: cancel if still running, drop the result, and read as CLOSED from now on."""
        statement = self.get(statement_id)
        if statement is None:
            return
        self._cancel(statement)
        if not statement.finish(State.CLOSED):
            with statement.lock:
                statement.state = State.CLOSED
                statement.result = None
                statement.error = None

    async def wait(self, statement: Statement, wait_s: float | None) -> bool:
        """Wait until the statement is terminal or `wait_s` seconds pass; True if terminal."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not statement.add_waiter(loop, future):
            return True
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation that
            # arrives as the future completes, and a cancelled request must stay cancelled.
            async with asyncio.timeout(wait_s):
                await future
            return True
        except TimeoutError:
            return False
        finally:
            statement.remove_waiter(future)

    # -- retention -----------------------------------------------------------------------------

    def _expire(self, statement: Statement, now: float) -> bool:
        """Apply retention; False if the statement is now forgotten."""
        with statement.lock:
            finished = statement.finished_at
            if finished is None:
                return True
            age = now - finished
            if age >= self._ttl * FORGET_FACTOR:
                forget = True
            else:
                forget = False
                if statement.state is State.SUCCEEDED and age >= self._ttl:
                    statement.state = State.CLOSED
                    statement.result = None
        if forget:
            with self._lock:
                self._statements.pop(statement.id, None)
            return False
        return True

    def sweep(self) -> None:
        """Expire every statement now (frees the memory of results nobody will read)."""
        with self._lock:
            statements = list(self._statements.values())
        now = time.monotonic()
        for statement in statements:
            self._expire(statement, now)

    async def aclose(self, join_s: float = 10.0) -> None:
        """Cancel everything still running and wait (bounded) for the workers to stop."""
        with self._lock:
            self._closed = True
            statements = list(self._statements.values())
        for statement in statements:
            if not statement.state.terminal:
                self._cancel(statement)
        threads = [s.thread for s in statements if s.thread is not None]
        await asyncio.to_thread(_join_all, threads, join_s)


def _keep_interrupting(statement: Statement) -> None:
    while not statement.done.wait(0.05):
        with statement.lock:
            statement.interrupt()


def _join_all(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
