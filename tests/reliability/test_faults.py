"""Faults injected by the embedded warehouse, through the real httpx client: after each, the
table holds exactly the approved rows or its previous state, never a duplicate, and the run log
says what happened.

Process kills, cancels from the terminal and server restarts are in test_process_faults.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.embedded import FaultProfile
from core.events import Outcome, RunFinished, StatementStateChanged
from core.executor import run_plan, verify_report
from core.loading import load_handoff
from core.payloads import Approval
from core.plan import Plan, build_plan
from core.review import Review
from core.sqlgen import statements as sqlgen
from core.steps import Step
from core.verification import RowStatus
from core.warehouse.config import local_connection
from core.warehouse.session import Session, open_session
from tests.conftest import final_status
from tests.reliability.conftest import (
    DEMO,
    DEMO_REPORT,
    DEMO_SERVICES,
    PostedStatements,
    assert_only_allowed_statements,
    log_events,
)

DEMO_HANDOFF = load_handoff(DEMO)


@asynccontextmanager
async def _session(
    home: Path, faults: FaultProfile | None = None, **options: Any
) -> AsyncIterator[Session]:
    options.setdefault("wait_timeout_s", 10)
    async with open_session(local_connection(), faults=faults, home=home, **options) as session:
        yield session


def _approve(plan: Plan) -> Approval:
    return Approval("oncall@example.com", datetime(2026, 5, 12, 17, 5, tzinfo=UTC), plan.digest)


async def _keys(session: Session, table: str) -> list[tuple[str | None, str | None]]:
    """(report_id, service_name) of every row, duplicates kept; [] when there is no table."""
    tables = await session.client.execute("SHOW TABLES IN workspace.default")
    if table.rsplit(".", 1)[1] not in {row[1] for row in tables.rows}:
        return []
    result = await session.client.execute(f"SELECT report_id, service_name FROM {table}")
    return sorted((row[0], row[1]) for row in result.rows)


def _events(finished: RunFinished) -> list[dict[str, Any]]:
    return log_events(finished.run_dir)


def _result(finished: RunFinished) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((finished.run_dir / "result.json").read_text())
    return result


APPROVED = [(DEMO_REPORT, name) for name in DEMO_SERVICES]


@pytest.mark.parametrize(
    "faults",
    [
        FaultProfile(rate_limit_every=2, retry_after_s=0),
        FaultProfile(unavailable_every=2, retry_after_s=0),
        FaultProfile(rate_limit_every=2, unavailable_every=3, retry_after_s=0),
    ],
    ids=["429_storm", "503_storm", "429_and_503_storm"],
)
async def test_rate_limit_and_unavailable_storms_are_ridden_out(
    faults: FaultProfile, impact_home: Path
) -> None:
    plan = build_plan(DEMO_HANDOFF)
    posted = PostedStatements()
    async with _session(impact_home, faults, poll_min_s=0.02) as session:
        session.http.event_hooks["request"].append(posted)
        finished = await run_plan(plan, _approve(plan), session, home=impact_home)
        session.http.event_hooks["request"].remove(posted)
        assert await _keys(session, plan.target_table) == APPROVED
    assert finished.outcome is Outcome.SUCCEEDED
    assert finished.verification is not None and finished.verification.ok
    # Refused submissions were sent again (a 429/503 means "not accepted"), and only those.
    assert len(posted.statements) > len(plan.statements) - 1, "the full read-back is not sent"
    assert_only_allowed_statements(posted.statements, plan.target_table)
    warnings = [e["message"] for e in _events(finished) if e.get("level") == "warning"]
    assert any("(HTTP 429)" in w or "(HTTP 503)" in w for w in warnings), warnings
    assert _result(finished)["outcome"] == "succeeded"


async def test_a_storm_outlasting_the_retry_budget_fails_cleanly_writing_nothing(
    impact_home: Path,
) -> None:
    plan = build_plan(DEMO_HANDOFF)
    faults = FaultProfile(unavailable_every=1, retry_after_s=0)
    async with _session(impact_home, faults, retry_budget_s=0.3, poll_min_s=0.05) as session:
        finished = await run_plan(plan, _approve(plan), session, home=impact_home)
    async with _session(impact_home) as session:
        assert await _keys(session, plan.target_table) == []
    assert finished.outcome is Outcome.FAILED
    assert finished.failure is not None
    assert finished.failure.step is Step.CHECK_AUTH
    assert finished.failure.http_status == 503
    assert "retry budget" in finished.failure.message
    result = _result(finished)
    assert result["outcome"] == "failed" and result["upserted"] is False
    steps = [(e["step"], e["state"]) for e in _events(finished) if e["event"] == "StepFinished"]
    assert steps == [
        ("check-auth", "failed"),
        ("write-payloads", "skipped"),
        ("create-table", "skipped"),
        ("upsert-rows", "skipped"),
        ("verify-rows", "skipped"),
    ]


async def test_a_warehouse_pending_longer_than_the_wait_timeout_is_polled_not_resubmitted(
    impact_home: Path,
) -> None:
    """The server holds each submission for the shortest real wait (5 s); the warehouse stays
    STARTING (statements PENDING) half a second longer, so the client must poll."""
    plan = build_plan(DEMO_HANDOFF)
    posted = PostedStatements()
    async with _session(impact_home, FaultProfile(cold_start_s=5.5), wait_timeout_s=5) as session:
        session.http.event_hooks["request"].append(posted)
        finished = await run_plan(plan, _approve(plan), session, home=impact_home)
        session.http.event_hooks["request"].remove(posted)
        assert await _keys(session, plan.target_table) == APPROVED
    assert finished.outcome is Outcome.SUCCEEDED
    sent = [s.sql for s in plan.statements if s is not plan.verify_detail_statement]
    assert posted.statements == sent, "each sent exactly once"
    events = _events(finished)
    create_states = [
        e["state"]
        for e in events
        if e["event"] == "StatementStateChanged" and e["step"] == "create-table"
    ]
    assert create_states[:2] == ["SUBMITTING", "PENDING"] and create_states[-1] == "SUCCEEDED"
    warnings = [e["message"] for e in events if e.get("level") == "warning"]
    assert any("STARTING" in w for w in warnings), warnings


async def test_a_statement_failed_mid_plan_leaves_the_previous_rows(impact_home: Path) -> None:
    first = build_plan(DEMO_HANDOFF)
    second = build_plan(
        Review(DEMO_HANDOFF).set_action("checkout-api", "stop everything").reviewed_handoff()
    )
    async with _session(impact_home) as session:
        applied = await run_plan(first, _approve(first), session, home=impact_home)
        assert applied.outcome is Outcome.SUCCEEDED
    async with _session(impact_home, FaultProfile(fail_pattern="^MERGE")) as session:
        failed = await run_plan(second, _approve(second), session, home=impact_home)
    async with _session(impact_home) as session:
        assert await _keys(session, first.target_table) == APPROVED
        rows = await session.client.execute(
            f"SELECT recommended_action FROM {first.target_table} ORDER BY service_name"
        )
        previous = await verify_report(DEMO_REPORT, first.target_table, session)
    assert failed.outcome is Outcome.FAILED
    assert failed.failure is not None and failed.failure.step is Step.UPSERT_ROWS
    assert failed.failure.statement_id and failed.failure.error_code == "INTERNAL_ERROR"
    assert rows.rows[0][0] != "stop everything", "the first approval's rows are untouched"
    assert previous.ok, "the table still verifies against the last upsert that ran"
    result = _result(failed)
    assert result["outcome"] == "failed" and result["upserted"] is False
    finished_event = _events(failed)[-1]
    assert finished_event["event"] == "RunFinished"
    assert finished_event["failure"]["statement"] == "upsert-rows"


async def test_a_failure_between_merge_chunks_is_completed_by_running_again(
    impact_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large plans are several MERGEs (5,000 rows each); one row per MERGE here. The rows of
    the chunks before the failure stay (each an approved row), verification names the missing
    one, and running the same approval again completes the write without duplicates."""
    monkeypatch.setattr(sqlgen, "MERGE_ROW_LIMIT", 1)
    plan = build_plan(DEMO_HANDOFF)
    assert [s.name for s in plan.statements_for(Step.UPSERT_ROWS)] == [
        "upsert-rows-1-of-2",
        "upsert-rows-2-of-2",
    ]
    approval = _approve(plan)
    second_chunk = FaultProfile(fail_pattern=r"^MERGE[\s\S]*'risk-worker'")
    async with _session(impact_home, second_chunk) as session:
        failed = await run_plan(plan, approval, session, home=impact_home)
    async with _session(impact_home) as session:
        assert await _keys(session, plan.target_table) == [(DEMO_REPORT, "checkout-api")]
        partial = await verify_report(DEMO_REPORT, plan.target_table, session, home=impact_home)
        again = await run_plan(plan, approval, session, home=impact_home)
        assert await _keys(session, plan.target_table) == APPROVED
    assert failed.outcome is Outcome.FAILED
    assert failed.failure is not None and failed.failure.statement == "upsert-rows-2-of-2"
    assert _result(failed)["upserted"] is True
    assert [(c.service_name, c.status) for c in partial.checks] == [
        ("checkout-api", RowStatus.MATCH),
        ("risk-worker", RowStatus.MISSING),
    ]
    assert again.outcome is Outcome.SUCCEEDED


async def test_a_response_lost_after_the_merge_committed_is_safe_to_run_again(
    impact_home: Path,
) -> None:
    plan = build_plan(DEMO_HANDOFF)
    approval = _approve(plan)
    async with _session(impact_home, FaultProfile(lose_response_pattern="^MERGE")) as session:
        lost = await run_plan(plan, approval, session, home=impact_home)
    async with _session(impact_home) as session:
        committed = await _keys(session, plan.target_table)
        again = await run_plan(plan, approval, session, home=impact_home)
        assert await _keys(session, plan.target_table) == APPROVED
    assert committed == APPROVED, "the MERGE committed although its answer was lost"
    assert lost.outcome is Outcome.FAILED
    assert lost.failure is not None and lost.failure.step is Step.UPSERT_ROWS
    assert "may have run" in lost.failure.message and "not resubmitted" in lost.failure.message
    assert again.outcome is Outcome.SUCCEEDED


async def test_cancel_during_a_long_statement_cancels_it_and_writes_nothing(
    impact_home: Path,
) -> None:
    plan = build_plan(DEMO_HANDOFF)
    running = asyncio.Event()
    seen: list[StatementStateChanged] = []

    def watch(event: object) -> None:
        if isinstance(event, StatementStateChanged) and event.step is Step.UPSERT_ROWS:
            seen.append(event)
            if event.state == "RUNNING":
                running.set()

    faults = FaultProfile(statement_latency_s=1.0)
    async with _session(impact_home, faults, wait_timeout_s=0, poll_min_s=0.02) as session:
        task = asyncio.create_task(
            run_plan(plan, _approve(plan), session, on_event=watch, home=impact_home)
        )
        await asyncio.wait_for(running.wait(), timeout=30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        statement_id = seen[-1].statement_id
        assert statement_id is not None
        status = await final_status(session.client, statement_id)
    async with _session(impact_home) as session:
        keys = await _keys(session, plan.target_table)
    assert status.state == "CANCELED"
    assert keys == [], "the table exists and holds nothing"
    run_dir = sorted((impact_home / "reports" / DEMO_REPORT).iterdir())[0]
    events = log_events(run_dir)
    assert events[-1]["event"] == "RunFinished" and events[-1]["outcome"] == "canceled"
    assert ("upsert-rows", "canceled") in [
        (e["step"], e["state"]) for e in events if e["event"] == "StepFinished"
    ]
