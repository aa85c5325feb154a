"""Run statements through the Databricks SQL Statement Execution API and read their results.

One `StatementClient` wraps one `httpx.AsyncClient` (one connection pool) and speaks the wire
protocol: submit with a server-side `wait_timeout` and `on_wait_timeout=CONTINUE` so a fast
statement costs exactly one HTTP request; otherwise poll with capped exponential backoff; walk
every result chunk through `next_chunk_internal_link`; cancel the statement server-side when the
awaiting task is cancelled.

Retries are deliberately asymmetric, because the statements we send are writes:

- 429 and 503 mean "not accepted, come back later" for every request, so they are retried after
  `Retry-After` for as long as the retry budget allows, then `RetryBudgetExhausted`.
- A submission (POST) that fails any other way after it may have reached the server (connection
  dropped, read timeout, 500/502/504) is never resent: `TransportFailure(may_have_run=True)`.
  Only failures that prove the request never left (could not connect, pool timeout, the OAuth
  token fetch failed) are retried.
- Reads (polls, chunks, identity, warehouse), cancels and the submission of a statement the
  caller declares read-only are idempotent, so they are retried on transport errors and 502/504
  as well.

`request_count` counts every HTTP request this client sent (attempts, polls, chunks, cancels;
OAuth token requests are counted by the auth object instead), so benchmarks can assert that an
apply costs statements + preflight requests and no polls.

Refinements of the brief's contract: `StatementState` also carries `polls`, `http_requests`,
`message` and `retry_in_s`, and its `state` is `SUBMITTING` before the server has assigned an
id; `StatementResult` also carries `elapsed_s` and `total_row_count`; `WarehouseInfo` adds
`health_message`; `statement_status()` reads a statement's state without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json as jsonlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from core.warehouse.errors import (
    AuthError,
    RetryBudgetExhausted,
    StatementCanceled,
    StatementFailed,
    TransportFailure,
    WarehouseError,
)
from core.warehouse.models import (
    Column,
    CurrentUser,
    Parameter,
    StatementResult,
    StatementState,
    StatementStatus,
    WarehouseInfo,
)

__all__ = [
    "Column",
    "CurrentUser",
    "Parameter",
    "StatementClient",
    "StatementResult",
    "StatementState",
    "StatementStatus",
    "WarehouseInfo",
]

log = logging.getLogger(__name__)

STATEMENTS_PATH: Final = "/api/2.0/sql/statements"
ME_PATH: Final = "/api/2.0/preview/scim/v2/Me"
WAREHOUSES_PATH: Final = "/api/2.0/sql/warehouses"

TERMINAL_STATES: Final = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"})
DEFAULT_RETRY_AFTER_S: Final = 1.0
"""Wait when a 429/503 carries no usable `Retry-After` (what the SDK does)."""
CANCEL_TIMEOUT_S: Final = 10.0
"""Longest we hold up a cancelled task to tell the server to cancel its statement."""

STARTING_HINT_AFTER_S: Final = 5.0
"""After this long in PENDING, progress says the warehouse is probably starting."""

_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
"""Ids from the server go into URL paths; anything else is refused rather than escaped."""


@dataclass
class _Tally:
    """Counters for one operation (one statement, one preflight call)."""

    requests: int = 0
    attempts: int = 0
    polls: int = 0


@dataclass
class _Operation:
    """What a request is part of, for error messages, counting and retry notifications."""

    what: str
    tally: _Tally = field(default_factory=_Tally)
    statement_id: str | None = None
    on_retry: Callable[[float, str], None] | None = None


def _parse_retry_after(value: str | None) -> float:
    if value is None:
        return DEFAULT_RETRY_AFTER_S
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S
    return max(0.0, when.timestamp() - time.time())


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """(error_code, message) from the many error body shapes the API and SCIM use."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    code: Any = None
    message: Any = None
    if isinstance(body, dict):
        code = body.get("error_code") or body.get("error") or body.get("scimType")
        message = body.get("message") or body.get("error_description") or body.get("detail")
    if not message:
        message = (
            response.headers.get("x-databricks-reason-phrase")
            or " ".join(response.text.split())[:300]
        )
    return (None if code is None else str(code)), str(message or response.reason_phrase)


def _failing_request(error: httpx.TransportError) -> httpx.Request | None:
    try:
        return error.request
    except RuntimeError:
        return None


def _never_left(error: httpx.TransportError, request: httpx.Request) -> bool:
    """True when the failure proves `request` was not delivered, so resending cannot double it."""
    if _failing_request(error) is not request:
        return True  # a side request (OAuth discovery or token) failed before ours was sent
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        raise WarehouseError(f"the server returned an unusable {what}: {str(value)[:80]!r}")
    return value


def _rows(data: Any) -> list[list[str | None]]:
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        raise WarehouseError("the server returned a result whose data_array is not a list of rows")
    # Rows of strings and nulls (what the API sends) are kept as decoded; the check runs in C.
    return [
        row
        if _CELL_TYPES.issuperset(map(type, row))
        else [None if value is None else str(value) for value in row]
        for row in data
    ]


_CELL_TYPES = frozenset({str, type(None)})


class StatementClient:
    """Statement Execution API client over one shared `httpx.AsyncClient` (see module doc)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        warehouse_id: str,
        *,
        retry_budget_s: float = 60.0,
        wait_timeout_s: int = 10,
        poll_min_s: float = 0.1,
        poll_max_s: float = 2.0,
        catalog: str | None = None,
        schema: str | None = None,
        starting_hint_s: float = STARTING_HINT_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if wait_timeout_s != 0 and not 5 <= wait_timeout_s <= 50:
            raise ValueError("wait_timeout_s must be 0 (asynchronous) or between 5 and 50")
        if retry_budget_s < 0 or poll_min_s <= 0 or poll_max_s < poll_min_s:
            raise ValueError("retry budget must be >= 0 and 0 < poll_min_s <= poll_max_s")
        self._http = http
        self.warehouse_id = warehouse_id
        self.retry_budget_s = retry_budget_s
        self.wait_timeout_s = wait_timeout_s
        self.poll_min_s = poll_min_s
        self.poll_max_s = poll_max_s
        self.catalog = catalog
        self.schema = schema
        self.starting_hint_s = starting_hint_s
        self._clock = clock
        self._background: set[asyncio.Task[None]] = set()
        self.request_count = 0
        """Every HTTP request sent through this client so far."""

    # -- statements ------------------------------------------------------------------------

    async def execute(
        self,
        sql: str | Sequence[str],
        parameters: Sequence[Parameter] = (),
        *,
        on_state: Callable[[StatementState], None] | None = None,
        read_only: bool = False,
    ) -> StatementResult:
        """Run one statement to completion and return all of its rows.

        `sql` is the statement's text, or pieces whose concatenation is the text (a MERGE of
        megabytes, sent without being joined: see `_statement_body`).

        `read_only=True` says the statement changes nothing (a verification SELECT): running it
        twice is harmless, so its submission is retried like a read after a dropped connection
        or a 502/504, where a write's is never resent.

        Raises `StatementFailed` (server message, error code, SQL state, statement id),
        `StatementCanceled`, `AuthError`, `TransportFailure`, `RetryBudgetExhausted` or
        `WarehouseError`. If the awaiting task is cancelled while the statement runs, the
        statement is cancelled server-side before `CancelledError` propagates.
        """
        started = self._clock()
        operation = _Operation(what="submitting the statement")
        tally = operation.tally
        statement_id: str | None = None
        state = "SUBMITTING"

        def report(message: str, retry_in_s: float | None = None) -> None:
            if on_state is not None:
                elapsed_s = self._clock() - started
                on_state(
                    StatementState(
                        statement_id=statement_id,
                        state=state,
                        attempts=tally.attempts,
                        elapsed_s=elapsed_s,
                        polls=tally.polls,
                        http_requests=tally.requests,
                        message=message,
                        retry_in_s=retry_in_s,
                        warehouse_starting=state == "PENDING" and elapsed_s >= self.starting_hint_s,
                    )
                )

        operation.on_retry = lambda delay, why: report(why, delay)
        fields: dict[str, Any] = {
            "warehouse_id": self.warehouse_id,
            "wait_timeout": f"{self.wait_timeout_s}s",
            "on_wait_timeout": "CONTINUE",
            "disposition": "INLINE",
            "format": "JSON_ARRAY",
        }
        if parameters:
            fields["parameters"] = [parameter.to_wire() for parameter in parameters]
        if self.catalog is not None:
            fields["catalog"] = self.catalog
        if self.schema is not None:
            fields["schema"] = self.schema
        content = _statement_body([sql] if isinstance(sql, str) else sql, fields)
        del sql  # the request's bytes are all that is needed from here on

        try:
            report("submitting")
            response = await self._send(
                "POST",
                STATEMENTS_PATH,
                operation,
                content=content,
                idempotent=read_only,
                request_timeout=httpx.Timeout(30.0, connect=10.0, read=self.wait_timeout_s + 30.0),
            )
            payload = self._json_object(response, operation, may_have_run=True)
            statement_id = _check_id(payload.get("statement_id"), "statement id")
            operation.statement_id = statement_id
            state = self._state_of(payload, operation)
            delay = self.poll_min_s
            while state not in TERMINAL_STATES:
                report(self._progress_message(state, self._clock() - started))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.poll_max_s)
                operation.what = f"polling statement {statement_id}"
                tally.polls += 1
                response = await self._send(
                    "GET", f"{STATEMENTS_PATH}/{statement_id}", operation, idempotent=True
                )
                payload = self._json_object(response, operation)
                state = self._state_of(payload, operation)
            report(state.lower())
            if state != "SUCCEEDED":
                raise self._terminal_error(state, payload, statement_id)
            columns, truncated, total = self._manifest(payload.get("manifest"))
            rows = await self._collect_rows(statement_id, payload.get("result"), operation)
        except asyncio.CancelledError:
            if statement_id is not None and state not in TERMINAL_STATES:
                await self._cancel_after_abort(statement_id)
            elif statement_id is None:
                log.warning("statement aborted before the server returned its id; not cancelled")
            raise
        return StatementResult(
            statement_id=statement_id,
            state=state,
            columns=columns,
            rows=rows,
            truncated=truncated,
            http_requests=tally.requests,
            attempts=tally.attempts,
            elapsed_s=self._clock() - started,
            total_row_count=total,
        )

    async def cancel(self, statement_id: str) -> None:
        """Ask the server to cancel a statement; it may still finish (poll to learn the outcome)."""
        statement_id = _check_id(statement_id, "statement id")
        operation = _Operation(what=f"cancelling statement {statement_id}")
        operation.statement_id = statement_id
        await self._send(
            "POST", f"{STATEMENTS_PATH}/{statement_id}/cancel", operation, json={}, idempotent=True
        )

    async def statement_status(self, statement_id: str) -> StatementStatus:
        """One GET of a statement's state (e.g. to confirm a cancel or check a lost submission)."""
        statement_id = _check_id(statement_id, "statement id")
        operation = _Operation(what=f"reading statement {statement_id}")
        operation.statement_id = statement_id
        response = await self._send(
            "GET", f"{STATEMENTS_PATH}/{statement_id}", operation, idempotent=True
        )
        payload = self._json_object(response, operation)
        status = payload.get("status") if isinstance(payload.get("status"), dict) else {}
        assert isinstance(status, dict)
        error = status.get("error") if isinstance(status.get("error"), dict) else {}
        assert isinstance(error, dict)
        return StatementStatus(
            statement_id=statement_id,
            state=self._state_of(payload, operation),
            error_code=None if error.get("error_code") is None else str(error["error_code"]),
            message=None if error.get("message") is None else str(error["message"]),
            sql_state=None if status.get("sql_state") is None else str(status["sql_state"]),
        )

    # -- preflight -------------------------------------------------------------------------

    async def me(self) -> CurrentUser:
        """Who the credential belongs to; the cheapest proof that authentication works."""
        operation = _Operation(what="reading the current user")
        response = await self._send("GET", ME_PATH, operation, idempotent=True)
        payload = self._json_object(response, operation)
        user_name = payload.get("userName")
        if not isinstance(user_name, str):
            raise WarehouseError("the current-user response carried no userName")
        display = payload.get("displayName")
        user_id = payload.get("id")
        return CurrentUser(
            user_name=user_name,
            display_name=display if isinstance(display, str) else None,
            id=None if user_id is None else str(user_id),
        )

    async def get_warehouse(self) -> WarehouseInfo:
        """The configured warehouse's name, state and health (404: wrong id or no permission)."""
        warehouse_id = _check_id(self.warehouse_id, "warehouse id")
        operation = _Operation(what=f"reading SQL warehouse {warehouse_id}")
        try:
            response = await self._send(
                "GET", f"{WAREHOUSES_PATH}/{warehouse_id}", operation, idempotent=True
            )
        except WarehouseError as error:
            if error.http_status == 404:
                raise WarehouseError(
                    f"SQL warehouse {warehouse_id} was not found (wrong id, or no permission "
                    f"to see it): {error.message}",
                    http_status=404,
                    error_code=error.error_code,
                ) from None
            raise
        payload = self._json_object(response, operation)
        health = payload.get("health") if isinstance(payload.get("health"), dict) else {}
        assert isinstance(health, dict)
        message = health.get("summary") or health.get("message")
        return WarehouseInfo(
            id=str(payload.get("id", warehouse_id)),
            name=str(payload.get("name", "")),
            state=str(payload.get("state", "UNKNOWN")),
            health=None if health.get("status") is None else str(health["status"]),
            health_message=None if message is None else str(message),
        )

    # -- internals -------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        operation: _Operation,
        *,
        idempotent: bool,
        json: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        request_timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send with the retry policy of the module doc; returns a 2xx response or raises.
        A JSON body is given as `json`, or already encoded (`_json_body`) as `content`."""
        deadline = self._clock() + self.retry_budget_s
        transport_backoff = self.poll_min_s
        if json is not None:
            content = _json_body(json)  # encoded once, for every retry
        while True:
            request = self._http.build_request(
                method,
                url,
                content=content,
                headers=None if content is None else _JSON_HEADERS,
                timeout=request_timeout
                if request_timeout is not None
                else httpx.USE_CLIENT_DEFAULT,
            )
            self.request_count += 1
            operation.tally.requests += 1
            if method == "POST" and url == STATEMENTS_PATH:
                operation.tally.attempts += 1
            try:
                response = await self._http.send(request)
            except httpx.TransportError as error:
                kind = type(error).__name__
                if idempotent or _never_left(error, request):
                    delay = transport_backoff
                    transport_backoff = min(transport_backoff * 2, self.poll_max_s)
                    if self._clock() + delay <= deadline:
                        log.info("%s: %s, retrying in %.1f s", operation.what, kind, delay)
                        self._notify_retry(operation, delay, f"connection problem ({kind})")
                        await asyncio.sleep(delay)
                        continue
                    raise TransportFailure(
                        f"{operation.what} failed: the network kept failing ({kind}) for longer "
                        f"than the {self.retry_budget_s:g} s retry budget",
                        statement_id=operation.statement_id,
                    ) from error
                raise TransportFailure(
                    f"{operation.what} failed: the connection broke ({kind}) after the statement "
                    "was sent, so it may have run; it was not resubmitted. Check the target "
                    "table before running it again",
                    may_have_run=True,
                ) from error
            log.debug("%s %s -> %d", method, request.url.path, response.status_code)
            if response.is_success:
                return response
            status = response.status_code
            if status in (429, 503) or (idempotent and status in (502, 504)):
                # A floor keeps "Retry-After: 0" from turning into a tight request loop.
                delay = max(
                    self.poll_min_s, _parse_retry_after(response.headers.get("retry-after"))
                )
                error_code, message = _error_fields(response)
                why = "rate limited" if status == 429 else "temporarily unavailable"
                if self._clock() + delay > deadline:
                    raise RetryBudgetExhausted(
                        f"{operation.what} failed: the warehouse stayed {why} (HTTP {status}) "
                        f"beyond the {self.retry_budget_s:g} s retry budget: {message}",
                        http_status=status,
                        error_code=error_code,
                        statement_id=operation.statement_id,
                    )
                log.info("%s: HTTP %d, retrying in %.1f s", operation.what, status, delay)
                self._notify_retry(operation, delay, f"warehouse {why} (HTTP {status})")
                await asyncio.sleep(delay)
                continue
            raise self._http_error(response, operation, submission=not idempotent)

    @staticmethod
    def _notify_retry(operation: _Operation, delay: float, why: str) -> None:
        if operation.on_retry is not None:
            operation.on_retry(delay, f"{why}; retrying in {delay:.1f} s")

    @staticmethod
    def _http_error(
        response: httpx.Response, operation: _Operation, *, submission: bool
    ) -> WarehouseError:
        status = response.status_code
        error_code, message = _error_fields(response)
        text = f"{operation.what} failed: HTTP {status}"
        if error_code is not None:
            text += f" {error_code}"
        text += f": {message}"
        fields: dict[str, Any] = {
            "http_status": status,
            "error_code": error_code,
            "statement_id": operation.statement_id,
        }
        if status in (401, 403):
            return AuthError(
                f"{text} (check the token or OAuth client and its permissions)", **fields
            )
        if submission and status >= 500:
            return TransportFailure(
                f"{text}; the statement may have run and was not resubmitted",
                may_have_run=True,
                **fields,
            )
        return WarehouseError(text, **fields)

    @staticmethod
    def _json_object(
        response: httpx.Response, operation: _Operation, *, may_have_run: bool = False
    ) -> dict[str, Any]:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise WarehouseError(
                f"{operation.what}: the server answered with something other than a JSON object",
                http_status=response.status_code,
                statement_id=operation.statement_id,
                may_have_run=may_have_run,
            )
        return payload

    @staticmethod
    def _state_of(payload: Mapping[str, Any], operation: _Operation) -> str:
        status = payload.get("status")
        state = status.get("state") if isinstance(status, dict) else None
        if not isinstance(state, str) or not state:
            raise WarehouseError(
                f"{operation.what}: the response carried no statement state",
                statement_id=operation.statement_id,
                may_have_run=operation.statement_id is None,
            )
        return state

    def _progress_message(self, state: str, elapsed_s: float) -> str:
        if state == "PENDING":
            if elapsed_s >= self.starting_hint_s:
                return (
                    f"queued for {elapsed_s:.0f} s: the SQL warehouse is probably starting, "
                    "which can take a few minutes"
                )
            return "queued"
        return state.lower()

    @staticmethod
    def _terminal_error(
        state: str, payload: Mapping[str, Any], statement_id: str
    ) -> WarehouseError:
        status = payload.get("status")
        status = status if isinstance(status, dict) else {}
        error = status.get("error")
        error = error if isinstance(error, dict) else {}
        error_code = None if error.get("error_code") is None else str(error["error_code"])
        sql_state = None if status.get("sql_state") is None else str(status["sql_state"])
        message = error.get("message")
        fields: dict[str, Any] = {
            "error_code": error_code,
            "sql_state": sql_state,
            "statement_id": statement_id,
        }
        if state == "CANCELED":
            return StatementCanceled(str(message or "the statement was canceled"), **fields)
        if state == "CLOSED":
            return StatementFailed(
                str(message or "the statement was closed before its result was read"), **fields
            )
        if state == "FAILED":
            return StatementFailed(str(message or "the statement failed"), **fields)
        return WarehouseError(f"the statement ended in unknown state {state!r}", **fields)

    @staticmethod
    def _manifest(manifest: Any) -> tuple[list[Column], bool, int | None]:
        if not isinstance(manifest, dict):
            return [], False, None
        schema = manifest.get("schema")
        raw_columns = schema.get("columns") if isinstance(schema, dict) else None
        columns = [
            Column(
                name=str(column.get("name", "")),
                type_text=str(column.get("type_text", "")),
                type_name=str(column.get("type_name", "")),
                position=int(column.get("position", index)),
            )
            for index, column in enumerate(raw_columns or [])
            if isinstance(column, dict)
        ]
        total = manifest.get("total_row_count")
        return (
            columns,
            bool(manifest.get("truncated", False)),
            total if isinstance(total, int) else None,
        )

    async def _collect_rows(
        self, statement_id: str, first: Any, operation: _Operation
    ) -> list[list[str | None]]:
        """Rows of the first chunk plus every chunk after it, in order."""
        chunk: Any = first if isinstance(first, dict) else {}
        rows: list[list[str | None]] = []
        visited: set[str] = set()
        while True:
            if chunk.get("external_links"):
                raise WarehouseError(
                    "the server returned EXTERNAL_LINKS, which this client never asks for",
                    statement_id=statement_id,
                )
            rows.extend(_rows(chunk.get("data_array")))
            path = self._next_chunk_path(statement_id, chunk)
            if path is None:
                return rows
            if path in visited:
                raise WarehouseError(
                    f"the server's result chunks loop back to {path}", statement_id=statement_id
                )
            visited.add(path)
            operation.what = f"fetching a result chunk of statement {statement_id}"
            response = await self._send("GET", path, operation, idempotent=True)
            chunk = self._json_object(response, operation)

    @staticmethod
    def _next_chunk_path(statement_id: str, chunk: Mapping[str, Any]) -> str | None:
        link = chunk.get("next_chunk_internal_link")
        if isinstance(link, str) and link:
            parts = urlsplit(link)
            # The link is joined to our host and carries our credential, so it must stay a path.
            if parts.scheme or parts.netloc or not parts.path.startswith(f"{STATEMENTS_PATH}/"):
                raise WarehouseError(
                    "the server returned a next_chunk_internal_link outside the statements API",
                    statement_id=statement_id,
                )
            return link
        index = chunk.get("next_chunk_index")
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            return f"{STATEMENTS_PATH}/{statement_id}/result/chunks/{index}"
        return None

    async def _cancel_after_abort(self, statement_id: str) -> None:
        """Cancel server-side for an aborted `execute`; shielded, bounded, never raises."""

        async def cancel_quietly() -> None:
            try:
                async with asyncio.timeout(CANCEL_TIMEOUT_S):
                    await self.cancel(statement_id)
                log.info("cancelled statement %s after the caller aborted", statement_id)
            except (WarehouseError, TimeoutError) as error:
                log.warning("could not cancel statement %s: %s", statement_id, error)

        task = asyncio.ensure_future(cancel_quietly())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        # Aborted again while cancelling: the cancel request carries on in the background.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)


_JSON_HEADERS: Final = {"Content-Type": "application/json"}


def _statement_body(pieces: Sequence[str], fields: Mapping[str, Any]) -> bytes:
    """`_json_body({"statement": "".join(pieces), **fields})` (`fields` never empty: it holds
    the warehouse id at least), without joining the pieces: JSON
    escapes a text character by character, so the escaped pieces join to the escaped text, and
    a MERGE kept as pieces is never built as one `str` (four bytes a character with an emoji)."""
    escaped = b"".join(_escaped_ascii(piece) for piece in pieces)
    return b'{"statement":"' + escaped + b'",' + _json_body(fields)[1:]


def _escaped_ascii(text: str) -> bytes:
    """A text as the inside of a JSON string with every non-ASCII character escaped."""
    return encode_basestring_ascii(text)[1:-1].encode("ascii")


def _json_body(body: Mapping[str, Any]) -> bytes:
    """The request body, JSON with every non-ASCII character escaped: the text being encoded
    is then ASCII, one byte a character, where httpx's own encoding first builds a `str` of the
    whole statement at four bytes a character as soon as one emoji is in it (a MERGE of
    thousands of rows is megabytes)."""
    return jsonlib.dumps(body, separators=(",", ":"), allow_nan=False).encode("ascii")
