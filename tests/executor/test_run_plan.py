"""The five-step run against the embedded warehouse, through the real httpx client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from core.embedded import FaultProfile
from core.events import (
    Outcome,
    RunEvent,
    RunFinished,
    RunLog,
    StatementStateChanged,
    StepFinished,
    StepStarted,
    StepState,
)
from core.executor import ApprovalMismatch, list_reports, run_plan, verify_report
from core.handoff import RiskLevel
from core.payloads import statement_file_stem
from core.plan import Plan, build_plan
from core.review import Review
from core.steps import Step
from core.verification import RowStatus
from core.warehouse.client import Parameter
from tests.conftest import final_status
from tests.executor.conftest import OpenSession, Recorder, approve, count_rows


async def test_demo_run_writes_and_verifies_two_rows(
    demo_plan: Plan, open_local: OpenSession, impact_home: Path
) -> None:
    recorder = Recorder()
    async with open_local() as session:
        finished = await run_plan(
            demo_plan, approve(demo_plan), session, on_event=recorder, home=impact_home
        )
        requests = session.client.request_count
    assert finished.outcome is Outcome.SUCCEEDED
    assert finished.verification is not None and finished.verification.ok
    assert [c.shown for c in finished.verification.checks] == [
        (
            "annie-dbx-checkout-2044",
            "checkout-api",
            "payments-platform",
            "high",
            "pause autonomous pipeline remediation, route to payments-platform, and require owner "
            "approval",
        ),
        (
            "annie-dbx-checkout-2044",
            "risk-worker",
            "risk",
            "medium",
            "notify risk owner before rerunning the backfill",
        ),
    ]
    started = [e.step for e in recorder.of(StepStarted)]
    assert started == list(Step)
    finished_steps = recorder.of(StepFinished)
    assert all(e.state is StepState.SUCCEEDED for e in finished_steps)
    sent = [s for s in demo_plan.statements if s is not demo_plan.verify_detail_statement]
    assert requests == len(sent) + 2, "one request per statement sent, no polls"
    run_dir = finished.run_dir
    assert (run_dir / "04-upsert-rows.json").is_file() and (run_dir / "runbook.md").is_file()
    approval = json.loads((run_dir / "approval.json").read_text())
    assert approval["digest"] == demo_plan.digest
    log_lines = (run_dir / "run.log").read_text().splitlines()
    assert json.loads(log_lines[-1])["event"] == "RunFinished"


async def test_rerun_is_idempotent(demo_plan: Plan, open_local: OpenSession) -> None:
    async with open_local() as session:
        for _ in range(2):
            finished = await run_plan(demo_plan, approve(demo_plan), session)
            assert finished.outcome is Outcome.SUCCEEDED
        assert await count_rows(session, demo_plan.target_table, demo_plan.report_id) == 2


async def test_reviewed_values_are_written(demo_plan: Plan, open_local: OpenSession) -> None:
    review = (
        Review(demo_plan.handoff)
        .set_risk("risk-worker", RiskLevel.CRITICAL)
        .set_action("risk-worker", "stop the backfill;\n page 'risk'")
    )
    plan = build_plan(review.reviewed_handoff())
    async with open_local() as session:
        finished = await run_plan(plan, approve(plan, "rev'iewer"), session)
        rows = await session.client.execute(
            "SELECT risk_level, recommended_action, reviewed_by FROM "
            f"{plan.target_table} WHERE service_name = :name",
            [Parameter("name", "risk-worker")],
        )
    assert finished.outcome is Outcome.SUCCEEDED
    assert rows.rows == [["critical", "stop the backfill;\n page 'risk'", "rev'iewer"]]


async def test_changed_statements_are_refused(demo_plan: Plan, open_local: OpenSession) -> None:
    edited = build_plan(Review(demo_plan.handoff).set_action("risk-worker", "x").reviewed_handoff())
    async with open_local() as session:
        with pytest.raises(ApprovalMismatch) as refused:
            await run_plan(edited, approve(demo_plan), session)
    assert demo_plan.digest in str(refused.value) and edited.digest in str(refused.value)


async def test_tampered_row_is_caught(
    demo_plan: Plan, open_local: OpenSession, impact_home: Path
) -> None:
    async with open_local() as session:
        await run_plan(demo_plan, approve(demo_plan), session, home=impact_home)
        await session.client.execute(
            f"UPDATE {demo_plan.target_table} SET risk_level = 'low' WHERE service_name = :name",
            [Parameter("name", "risk-worker")],
        )
        verification = await verify_report(
            demo_plan.report_id, demo_plan.target_table, session, home=impact_home
        )
        reports = await list_reports(demo_plan.target_table, session, home=impact_home)
    assert not verification.ok
    (check,) = [c for c in verification.checks if c.service_name == "risk-worker"]
    assert check.status is RowStatus.TAMPERED
    assert [(d.column, d.expected, d.actual) for d in check.differences] == [
        ("risk_level", "medium", "low")
    ]
    assert [(r.report_id, r.rows, r.last_verification_ok) for r in reports] == [
        ("annie-dbx-checkout-2044", 2, False)
    ]


async def test_without_a_local_record_hashes_still_catch_tampering(
    demo_plan: Plan, open_local: OpenSession, impact_home: Path, tmp_path: Path
) -> None:
    async with open_local() as session:
        await run_plan(demo_plan, approve(demo_plan), session, home=impact_home)
        clean = await verify_report(
            demo_plan.report_id, demo_plan.target_table, session, home=tmp_path
        )
        await session.client.execute(
            f"UPDATE {demo_plan.target_table} SET owner_team = 'nobody' WHERE service_name = :name",
            [Parameter("name", "checkout-api")],
        )
        tampered = await verify_report(
            demo_plan.report_id, demo_plan.target_table, session, home=tmp_path
        )
    assert clean.ok and not clean.compared_with_approval
    assert [c.status for c in tampered.checks] == [RowStatus.TAMPERED, RowStatus.MATCH]


async def test_rate_limit_and_unavailable_storms_are_ridden_out(
    demo_plan: Plan, open_local: OpenSession
) -> None:
    recorder = Recorder()
    faults = FaultProfile(rate_limit_every=2, unavailable_every=3, retry_after_s=0)
    async with open_local(faults) as session:
        finished = await run_plan(demo_plan, approve(demo_plan), session, on_event=recorder)
    assert finished.outcome is Outcome.SUCCEEDED
    assert finished.verification is not None and finished.verification.ok
    attempts = sum(e.attempts for e in recorder.of(StepFinished))
    sent = len(demo_plan.statements) - 1  # not the full read-back: the fingerprints agree
    assert attempts > sent, "some submissions were answered 429/503"


async def test_failed_statement_stops_the_run_at_that_step(
    demo_plan: Plan, open_local: OpenSession
) -> None:
    recorder = Recorder()
    async with open_local(FaultProfile(fail_pattern="^MERGE")) as session:
        finished = await run_plan(demo_plan, approve(demo_plan), session, on_event=recorder)
    assert finished.outcome is Outcome.FAILED
    assert finished.failure is not None
    assert finished.failure.step is Step.UPSERT_ROWS
    assert finished.failure.statement == "upsert-rows"
    assert finished.failure.statement_id
    states = {e.step: e.state for e in recorder.of(StepFinished)}
    assert states[Step.UPSERT_ROWS] is StepState.FAILED
    assert states[Step.VERIFY_ROWS] is StepState.SKIPPED


async def test_lost_response_is_recovered_by_rerunning(
    demo_plan: Plan, open_local: OpenSession, impact_home: Path
) -> None:
    async with open_local(FaultProfile(lose_response_pattern="^MERGE")) as session:
        lost = await run_plan(demo_plan, approve(demo_plan), session, home=impact_home)
    assert lost.outcome is Outcome.FAILED
    assert lost.failure is not None and lost.failure.step is Step.UPSERT_ROWS
    async with open_local() as session:
        assert await count_rows(session, demo_plan.target_table, demo_plan.report_id) == 2
        again = await run_plan(demo_plan, approve(demo_plan), session, home=impact_home)
        assert await count_rows(session, demo_plan.target_table, demo_plan.report_id) == 2
    assert again.outcome is Outcome.SUCCEEDED


async def test_cancel_during_a_long_statement_cancels_it_server_side(
    demo_plan: Plan, open_local: OpenSession
) -> None:
    recorder = Recorder()
    upsert_running = asyncio.Event()

    def watch(event: RunEvent) -> None:
        recorder(event)
        if (
            isinstance(event, StatementStateChanged)
            and event.step is Step.UPSERT_ROWS
            and event.state == "RUNNING"
        ):
            upsert_running.set()

    async with open_local(FaultProfile(statement_latency_s=3.0)) as session:
        session.client.wait_timeout_s = 0
        task = asyncio.create_task(run_plan(demo_plan, approve(demo_plan), session, on_event=watch))
        await asyncio.wait_for(upsert_running.wait(), timeout=60)
        statement_id = [
            e.statement_id
            for e in recorder.of(StatementStateChanged)
            if e.step is Step.UPSERT_ROWS and e.statement_id
        ][-1]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        status = await final_status(session.client, statement_id)
        assert status.state == "CANCELED"
        assert await count_rows(session, demo_plan.target_table, demo_plan.report_id) == 0
    finished = recorder.of(RunFinished)
    assert [e.outcome for e in finished] == [Outcome.CANCELED]


async def test_payload_files_are_exactly_what_was_posted(
    demo_plan: Plan, open_local: OpenSession
) -> None:
    posted: list[dict[str, object]] = []

    async def capture(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.rstrip("/").endswith("/statements"):
            posted.append(json.loads(request.content))

    async with open_local() as session:
        session.http.event_hooks["request"].append(capture)
        finished = await run_plan(demo_plan, approve(demo_plan), session)
    stems = [statement_file_stem(i, s) for i, s in enumerate(demo_plan.statements)]
    files = [finished.run_dir / f"{stem}.json" for stem in stems]
    assert [json.loads(path.read_text()) for path in files[:-1]] == posted
    assert len(posted) == len(demo_plan.statements) - 1, "the full read-back is not needed"
    assert json.loads(files[-1].read_text())["statement"] == demo_plan.verify_detail_statement.sql


async def test_a_stray_row_makes_the_run_read_back_every_column_and_name_it(
    demo_plan: Plan, open_local: OpenSession, impact_home: Path
) -> None:
    recorder = Recorder()
    async with open_local() as session:
        await session.client.execute(demo_plan.statements[0].sql)
        await session.client.execute(
            f"INSERT INTO {demo_plan.target_table} (report_id, service_name) "
            "VALUES (:report_id, 'stray-service')",
            [Parameter("report_id", demo_plan.report_id)],
        )
        before = session.client.request_count
        finished = await run_plan(
            demo_plan, approve(demo_plan), session, on_event=recorder, home=impact_home
        )
        requests = session.client.request_count - before
    assert finished.outcome is Outcome.MISMATCH
    assert finished.verification is not None
    assert [(c.service_name, c.status) for c in finished.verification.checks] == [
        ("checkout-api", RowStatus.MATCH),
        ("risk-worker", RowStatus.MATCH),
        ("stray-service", RowStatus.EXTRA),
    ]
    assert requests == len(demo_plan.statements) + 2, "the full read-back was sent too"
    (verify_step,) = [e for e in recorder.of(StepFinished) if e.step is Step.VERIFY_ROWS]
    assert verify_step.state is StepState.FAILED and len(verify_step.statement_ids) == 2
    assert "1 extra" in verify_step.detail
    warnings = [e.message for e in recorder.of(RunLog) if e.level == "warning"]
    assert any("verify-rows-detail" in message for message in warnings), warnings
    sent = [e.statement for e in recorder.of(StatementStateChanged) if e.step is Step.VERIFY_ROWS]
    assert list(dict.fromkeys(sent)) == ["verify-rows", "verify-rows-detail"]
