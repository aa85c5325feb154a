"""The statement client over the real httpx stack against the embedded warehouse (in-process).

Faults are the embedded warehouse's own (cold start, latency, 429/503 every Nth request, lost
response, fail pattern), kept to fractions of a second; nothing here sleeps to wait for a
condition. Conditions the embedded warehouse cannot produce live in test_wire_conditions.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from core.embedded import IN_PROCESS_BASE_URL, EmbeddedWarehouse, FaultProfile
from core.warehouse.auth import OAuthM2M
from core.warehouse.client import Parameter, StatementClient, StatementState
from core.warehouse.config import Connection, OAuthM2MAuth, TokenAuth, local_connection
from core.warehouse.errors import (
    AuthError,
    RetryBudgetExhausted,
    StatementCanceled,
    StatementFailed,
    TransportFailure,
    WarehouseError,
)
from core.warehouse.httpclient import open_http_client
from core.warehouse.secret import Secret
from core.warehouse.session import Session, open_session
from tests.conftest import final_status

POLL_MIN_S = 0.01
POLL_MAX_S = 0.05


@asynccontextmanager
async def session(
    home: Path,
    faults: FaultProfile | None = None,
    *,
    wait_timeout_s: int = 10,
    retry_budget_s: float = 10.0,
) -> AsyncIterator[Session]:
    async with open_session(
        local_connection(),
        faults=faults,
        home=home,
        wait_timeout_s=wait_timeout_s,
        retry_budget_s=retry_budget_s,
        poll_min_s=POLL_MIN_S,
        poll_max_s=POLL_MAX_S,
    ) as opened:
        yield opened


@asynccontextmanager
async def direct_client(
    warehouse: EmbeddedWarehouse, auth: TokenAuth | OAuthM2MAuth
) -> AsyncIterator[StatementClient]:
    """A client built from parts, for what open_session does not expose (auth, chunk size)."""
    connection = Connection(
        kind="databricks", host=IN_PROCESS_BASE_URL, warehouse_id=warehouse.warehouse_id, auth=auth
    )
    http = await open_http_client(connection, transport=warehouse.transport())
    try:
        yield StatementClient(
            http, warehouse.warehouse_id, poll_min_s=POLL_MIN_S, poll_max_s=POLL_MAX_S
        )
    finally:
        await http.aclose()


def recorder() -> tuple[list[StatementState], Callable[[StatementState], None]]:
    seen: list[StatementState] = []
    return seen, seen.append


class TestFastPath:
    """A statement that finishes within the server-side wait costs exactly one request."""

    async def test_fast_statement_is_one_request(self, impact_home: Path) -> None:
        async with session(impact_home) as opened:
            seen, on_state = recorder()
            result = await opened.client.execute("SELECT 1 AS x, 'a' AS y", on_state=on_state)
            assert result.rows == [["1", "a"]]
            assert [(c.name, c.type_name) for c in result.columns] == [
                ("x", "INT"),
                ("y", "STRING"),
            ]
            assert (result.http_requests, result.attempts, opened.client.request_count) == (1, 1, 1)
            assert result.state == "SUCCEEDED" and not result.truncated
            assert [s.state for s in seen] == ["SUBMITTING", "SUCCEEDED"]
            assert seen[-1].statement_id == result.statement_id

    async def test_parameters_bind_values_types_and_null(self, impact_home: Path) -> None:
        async with session(impact_home) as opened:
            result = await opened.client.execute(
                "SELECT :n + 1 AS n, :s AS s, :maybe IS NULL AS missing",
                [Parameter("n", "41", "INT"), Parameter("s", "it's"), Parameter("maybe", None)],
            )
            assert result.rows == [["42", "it's", "true"]]

    async def test_a_statement_given_as_pieces_is_sent_as_its_text(self, impact_home: Path) -> None:
        """Pieces are escaped one by one and never joined: the request body is byte for byte
        the one the joined text gives, cuts inside escapes and surrogate pairs' characters
        included, and the warehouse runs the same statement."""
        text = "SELECT 'it''s 😀 \\ \"q\" \u2028 é\t' AS a, :n AS b -- ✓ 🚀"
        cuts = [[text], [text[:9], text[9:15], "", text[15:]], list(text)]
        bodies: list[bytes] = []

        async def keep(request: httpx.Request) -> None:
            bodies.append(request.read())

        async with session(impact_home) as opened:
            opened.http.event_hooks["request"].append(keep)
            results = [
                await opened.client.execute(pieces, [Parameter("n", "7", "INT")])
                for pieces in [text, *cuts]
            ]
        assert all(result.rows == results[0].rows for result in results)
        assert results[0].rows[0][1] == "7" and "😀" in str(results[0].rows[0][0])
        assert len(set(bodies)) == 1 and bodies[0].isascii()
        assert json.loads(bodies[0])["statement"] == text

    async def test_writes_report_affected_rows(self, impact_home: Path) -> None:
        async with session(impact_home) as opened:
            await opened.client.execute("CREATE TABLE t (a INT)")
            inserted = await opened.client.execute("INSERT INTO t VALUES (1), (2)")
            assert [c.name for c in inserted.columns] == ["num_affected_rows", "num_inserted_rows"]
            assert inserted.rows == [["2", "2"]]
            assert opened.client.request_count == 2

    async def test_body_is_ascii_json_and_every_character_arrives(self, impact_home: Path) -> None:
        text = "émoji 🚀, quote ', backslash \\, newline \n, CJK 漢字"
        bodies: list[bytes] = []

        async def keep(request: httpx.Request) -> None:
            if request.method == "POST":
                bodies.append(request.content)

        async with session(impact_home) as opened:
            opened.http.event_hooks["request"].append(keep)
            result = await opened.client.execute("SELECT :s AS s", [Parameter("s", text)])
        assert result.rows == [[text]]
        assert len(bodies) == 1 and bodies[0].isascii()
        assert json.loads(bodies[0])["parameters"][0]["value"] == text

    async def test_cold_start_within_the_wait_is_still_one_request(self, impact_home: Path) -> None:
        async with session(impact_home, FaultProfile(cold_start_s=0.2), wait_timeout_s=5) as opened:
            result = await opened.client.execute("SELECT 1")
            assert result.http_requests == 1 and result.rows == [["1"]]

    async def test_preflight_identity_and_warehouse(self, impact_home: Path) -> None:
        async with session(impact_home) as opened:
            user = await opened.client.me()
            assert user.user_name
            warehouse = await opened.client.get_warehouse()
            assert (warehouse.id, warehouse.state, warehouse.health) == (
                opened.connection.warehouse_id,
                "RUNNING",
                "HEALTHY",
            )
            assert opened.client.request_count == 2

    async def test_unknown_warehouse_is_a_clear_error(self, impact_home: Path) -> None:
        async with session(impact_home) as opened:
            stranger = StatementClient(opened.http, "doesnotexist0001")
            with pytest.raises(WarehouseError, match="was not found") as caught:
                await stranger.get_warehouse()
            assert caught.value.http_status == 404
            with pytest.raises(WarehouseError) as rejected:
                await stranger.execute("SELECT 1")
            assert rejected.value.http_status in (400, 403, 404)
            assert not rejected.value.may_have_run


class TestPolling:
    """Past the server-side wait the client polls with capped backoff and reports progress."""

    async def test_cold_start_polls_and_says_the_warehouse_is_starting(
        self, impact_home: Path
    ) -> None:
        async with session(impact_home, FaultProfile(cold_start_s=0.3), wait_timeout_s=0) as opened:
            opened.client.starting_hint_s = 0.05
            starting = await opened.client.get_warehouse()
            assert starting.state == "STARTING" and starting.starting
            seen, on_state = recorder()
            result = await opened.client.execute("SELECT 7", on_state=on_state)
            assert result.rows == [["7"]]
            states = [s.state for s in seen]
            assert states[0] == "SUBMITTING" and states[-1] == "SUCCEEDED"
            assert "PENDING" in states
            assert result.http_requests >= 2 and result.attempts == 1
            hints = [s for s in seen if s.warehouse_starting]
            assert hints and "probably starting" in hints[-1].message
            assert seen[-1].polls == result.http_requests - 1
            assert (await opened.client.get_warehouse()).state == "RUNNING"

    async def test_latency_polls_through_running(self, impact_home: Path) -> None:
        faults = FaultProfile(statement_latency_s=0.3)
        async with session(impact_home, faults, wait_timeout_s=0) as opened:
            seen, on_state = recorder()
            result = await opened.client.execute("SELECT 1", on_state=on_state)
            assert "RUNNING" in {s.state for s in seen}
            # Backoff doubles from 10 ms and is capped at 50 ms: never more polls than that allows.
            assert 2 <= result.http_requests <= 1 + 0.3 / POLL_MIN_S


class TestRetries:
    """429 and 503 are ridden out after Retry-After, within the budget; nothing else is resent."""

    @pytest.mark.parametrize(
        "faults",
        [
            FaultProfile(rate_limit_every=2, retry_after_s=0),
            FaultProfile(unavailable_every=2, retry_after_s=0),
            FaultProfile(rate_limit_every=3, unavailable_every=5, retry_after_s=0),
        ],
        ids=["429", "503", "mixed"],
    )
    async def test_storms_are_ridden_out(self, impact_home: Path, faults: FaultProfile) -> None:
        async with session(impact_home, faults) as opened:
            await opened.client.execute("CREATE TABLE storm (a INT)")
            seen, on_state = recorder()
            for value in range(5):
                await opened.client.execute(
                    "INSERT INTO storm VALUES (:v)",
                    [Parameter("v", str(value), "INT")],
                    on_state=on_state,
                )
            result = await opened.client.execute("SELECT count(*), sum(a) FROM storm")
            assert result.rows == [["5", "10"]]  # every insert exactly once
            assert opened.client.request_count > 7
            retries = [s for s in seen if s.retry_in_s is not None]
            assert retries and all("retrying" in s.message for s in retries)
            assert max(s.attempts for s in seen) >= 2

    async def test_retry_budget_exhausted(self, impact_home: Path) -> None:
        faults = FaultProfile(rate_limit_every=1, retry_after_s=1)
        async with session(impact_home, faults, retry_budget_s=0.5) as opened:
            with pytest.raises(RetryBudgetExhausted) as caught:
                await opened.client.execute("SELECT 1")
            error = caught.value
            assert error.http_status == 429 and error.error_code == "REQUEST_LIMIT_EXCEEDED"
            assert "retry budget" in error.message and not error.may_have_run
            # Retry-After (1 s) already exceeds the budget, so we give up without waiting.
            assert opened.client.request_count == 1

    async def test_budget_is_per_request_not_per_session(self, impact_home: Path) -> None:
        faults = FaultProfile(unavailable_every=2, retry_after_s=0)
        async with session(impact_home, faults, retry_budget_s=1.0) as opened:
            for _ in range(6):
                await opened.client.me()
            assert opened.client.request_count == 11

    async def test_lost_response_is_not_resubmitted(self, impact_home: Path) -> None:
        faults = FaultProfile(lose_response_pattern=r"^\s*INSERT")
        async with session(impact_home, faults) as opened:
            await opened.client.execute("CREATE TABLE landed (a INT)")
            before = opened.client.request_count
            with pytest.raises(TransportFailure) as caught:
                await opened.client.execute("INSERT INTO landed VALUES (1)")
            assert caught.value.may_have_run
            assert "may have run" in caught.value.message
            assert opened.client.request_count == before + 1  # no automatic re-POST
            # It did run, exactly once: the reason not to resend blindly.
            landed = await opened.client.execute("SELECT a FROM landed")
            assert landed.rows == [["1"]]


class TestFailures:
    """FAILED carries the server's words and codes; auth failures are AuthError."""

    async def test_failed_statement(self, impact_home: Path) -> None:
        async with session(impact_home) as opened:
            with pytest.raises(StatementFailed) as caught:
                await opened.client.execute("SELECT * FROM no_such_table")
            error = caught.value
            assert error.message.startswith("[TABLE_OR_VIEW_NOT_FOUND]")
            assert (error.error_code, error.sql_state) == ("BAD_REQUEST", "42P01")
            assert error.statement_id and error.http_status is None
            status = await opened.client.statement_status(error.statement_id)
            assert (status.state, status.sql_state) == ("FAILED", "42P01")

    async def test_injected_failure_after_polling(self, impact_home: Path) -> None:
        async with session(
            impact_home, FaultProfile(fail_pattern="doomed"), wait_timeout_s=0
        ) as opened:
            with pytest.raises(StatementFailed) as caught:
                await opened.client.execute("SELECT 'doomed'")
            assert (caught.value.error_code, caught.value.sql_state) == ("INTERNAL_ERROR", "XX000")
            assert caught.value.statement_id is not None

    async def test_wrong_token_is_an_auth_error(self, impact_home: Path) -> None:
        warehouse = EmbeddedWarehouse(impact_home)
        try:
            async with direct_client(warehouse, TokenAuth(Secret("not-the-token"))) as client:
                with pytest.raises(AuthError) as caught:
                    await client.me()
                assert caught.value.http_status in (401, 403)
                with pytest.raises(AuthError):
                    await client.execute("SELECT 1")
                assert "not-the-token" not in f"{caught.value} {caught.value!r}"
        finally:
            await warehouse.aclose()


class TestCancel:
    """Cancelling the awaiting task cancels the statement on the server."""

    async def test_cancelled_task_cancels_the_statement_server_side(
        self, impact_home: Path
    ) -> None:
        faults = FaultProfile(statement_latency_s=30.0)
        async with session(impact_home, faults, wait_timeout_s=0) as opened:
            running = asyncio.Event()
            seen: list[StatementState] = []

            def on_state(state: StatementState) -> None:
                seen.append(state)
                if state.statement_id is not None:
                    running.set()

            task = asyncio.create_task(opened.client.execute("SELECT 1", on_state=on_state))
            await running.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            statement_id = seen[-1].statement_id
            assert statement_id is not None
            status = await final_status(opened.client, statement_id)
            assert status.state == "CANCELED"

    async def test_explicit_cancel(self, impact_home: Path) -> None:
        async with session(
            impact_home, FaultProfile(statement_latency_s=30.0), wait_timeout_s=0
        ) as opened:
            ids: list[str] = []
            running = asyncio.Event()

            def on_state(state: StatementState) -> None:
                if state.statement_id is not None and not ids:
                    ids.append(state.statement_id)
                    running.set()

            task = asyncio.create_task(opened.client.execute("SELECT 1", on_state=on_state))
            await running.wait()
            await opened.client.cancel(ids[0])
            with pytest.raises(StatementCanceled) as caught:
                await task
            assert caught.value.statement_id == ids[0]


class TestChunks:
    """Big results arrive in chunks; the client follows every next_chunk_internal_link."""

    async def test_every_chunk_is_fetched_in_order(self, impact_home: Path) -> None:
        warehouse = EmbeddedWarehouse(impact_home, chunk_bytes=2048)
        try:
            async with direct_client(warehouse, TokenAuth(Secret(warehouse.token))) as client:
                result = await client.execute(
                    "SELECT range AS id, concat('row-', range) AS label FROM range(3000) "
                    "ORDER BY range"
                )
            assert len(result.rows) == result.total_row_count == 3000
            assert result.rows[0] == ["0", "row-0"] and result.rows[-1] == ["2999", "row-2999"]
            assert [row[0] for row in result.rows] == [str(i) for i in range(3000)]
            assert result.http_requests > 5  # one submission plus one GET per further chunk
            assert [c.type_text for c in result.columns] == ["BIGINT", "STRING"]
        finally:
            await warehouse.aclose()


class TestOAuth:
    """OAuth M2M against the embedded token endpoint: discovered once, token cached."""

    async def test_one_token_request_for_many_statements(self, impact_home: Path) -> None:
        warehouse = EmbeddedWarehouse(impact_home)
        try:
            auth = OAuthM2MAuth(warehouse.oauth_client_id, Secret(warehouse.oauth_client_secret))
            async with direct_client(warehouse, auth) as client:
                for value in range(4):
                    result = await client.execute("SELECT :v", [Parameter("v", str(value))])
                    assert result.rows == [[str(value)]]
                await client.me()
                oauth = client._http.auth
                assert isinstance(oauth, OAuthM2M)
                assert (oauth.discovery_requests, oauth.token_requests) == (1, 1)
                assert client.request_count == 5  # token requests are the auth's, not ours
                assert warehouse.oauth_client_secret not in repr(oauth)
        finally:
            await warehouse.aclose()

    async def test_concurrent_statements_share_one_token_request(self, impact_home: Path) -> None:
        warehouse = EmbeddedWarehouse(impact_home)
        try:
            auth = OAuthM2MAuth(warehouse.oauth_client_id, Secret(warehouse.oauth_client_secret))
            async with direct_client(warehouse, auth) as client:
                await asyncio.gather(*(client.execute(f"SELECT {n}") for n in range(5)))
                oauth = client._http.auth
                assert isinstance(oauth, OAuthM2M) and oauth.token_requests == 1
        finally:
            await warehouse.aclose()

    async def test_wrong_client_secret_is_an_auth_error(self, impact_home: Path) -> None:
        warehouse = EmbeddedWarehouse(impact_home)
        try:
            auth = OAuthM2MAuth(warehouse.oauth_client_id, Secret("wrong-secret"))
            async with direct_client(warehouse, auth) as client:
                with pytest.raises(AuthError, match="invalid_client") as caught:
                    await client.execute("SELECT 1")
                assert caught.value.http_status == 401 and not caught.value.may_have_run
                assert "wrong-secret" not in f"{caught.value} {caught.value!r}"
        finally:
            await warehouse.aclose()


class TestSecrecy:
    """The embedded token never shows in reprs, errors or logs of a session."""

    async def test_token_stays_out_of_everything_visible(
        self, impact_home: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        faults = FaultProfile(rate_limit_every=3, retry_after_s=0, lose_response_pattern="INSERT")
        errors: list[WarehouseError] = []
        async with session(impact_home, faults) as opened:
            assert opened.embedded is not None
            token = opened.embedded.token
            await opened.client.execute("CREATE TABLE s (a INT)")
            for sql in ("INSERT INTO s VALUES (1)", "SELECT * FROM missing"):
                try:
                    await opened.client.execute(sql)
                except WarehouseError as error:
                    errors.append(error)
            visible = [repr(opened), repr(opened.connection), opened.connection.describe()]
            visible += [f"{error} {error!r} {error.details()}" for error in errors]
        assert len(errors) == 2
        assert token and all(token not in text for text in visible)
        assert token not in caplog.text
