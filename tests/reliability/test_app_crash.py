"""The review app killed (SIGKILL) while its approved run is upserting: the reviewer's draft
survives intact and is offered again, and running the restored review writes exactly the
reviewed rows."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from core.drafts import load_draft
from core.events import Outcome, RunFinished
from core.executor import open_run_session, run_plan
from core.handoff import Handoff, RiskLevel
from core.loading import load_handoff
from core.payloads import Approval
from core.plan import Plan, build_plan
from core.review import ServiceEdit
from core.warehouse.config import local_connection
from tests.reliability.app_driver import ACTION_SUFFIX
from tests.reliability.conftest import (
    DEMO,
    DEMO_REPORT,
    DEMO_SERVICES,
    REPO,
    cli_env,
    kill_group,
    local_sql,
    log_events,
    report_keys,
    run_dirs,
    upsert_in_flight,
    wait_for,
)
from tui.app import ImpactReviewApp
from tui.context import AppContext
from tui.screens.dialogs import YesNoDialog
from tui.screens.main import MainScreen

APPROVED = [(DEMO_REPORT, name) for name in DEMO_SERVICES]


def test_app_killed_mid_upsert_keeps_the_draft_and_a_rerun_writes_the_review(
    impact_home: Path,
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.app_driver", "latency=0.3"],
        cwd=REPO,
        env=cli_env(impact_home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: upsert_in_flight(impact_home, "RUNNING")() or process.poll() is not None,
            "the app's upsert to be RUNNING",
            within_s=60,
        )
        assert process.poll() is None, process.communicate()
        kill_group(process, signal.SIGKILL)
        process.wait(30)
    finally:
        kill_group(process)
    (killed,) = run_dirs(impact_home)
    events = log_events(killed)
    assert events[-1]["event"] == "StatementStateChanged" and events[-1]["step"] == "upsert-rows"
    assert not (killed / "result.json").exists()

    handoff = load_handoff(DEMO)
    draft = load_draft(handoff, impact_home)
    assert draft is not None and draft.dropped == ()
    reviewed = draft.review
    assert reviewed.service("risk-worker").risk_level is RiskLevel.HIGH
    original = handoff.service("checkout-api").recommended_action
    assert reviewed.service("checkout-api").recommended_action == original + ACTION_SUFFIX
    assert [change.field for change in reviewed.changes()] == ["recommended_action", "risk_level"]

    rows_of = lambda sql: local_sql(impact_home, sql)  # noqa: E731
    assert report_keys(rows_of) in ([], APPROVED)

    # Reopen: the app offers the draft, and restoring it gives back exactly the edits.
    assert asyncio.run(_reopen_and_restore(handoff, impact_home)) == reviewed.edits

    plan = build_plan(reviewed.reviewed_handoff())
    finished, rows = asyncio.run(_run(plan, impact_home))
    assert finished.outcome is Outcome.SUCCEEDED
    assert rows == [
        ["checkout-api", "high", original + ACTION_SUFFIX],
        ["risk-worker", "high", handoff.service("risk-worker").recommended_action],
    ]
    assert report_keys(rows_of) == APPROVED


async def _reopen_and_restore(handoff: Handoff, home: Path) -> dict[str, ServiceEdit]:
    """Open the app again on the same home, answer its restore question, return the edits."""
    context = AppContext(
        connection=local_connection(),
        approver="oncall@example.com",
        home=home,
        export_dir=home,
        live_ticks=False,
        cursor_blink=False,
    )
    app = ImpactReviewApp(handoff, source="demo.json", context=context)
    async with app.run_test(size=(120, 36)) as pilot:
        await _settle(pilot)
        await _until(pilot, lambda: isinstance(app.screen, YesNoDialog))
        assert app.screen.id == "restore"
        await pilot.press("y")
        await _settle(pilot)
        main = app.screen_stack[0]
        assert isinstance(main, MainScreen)
        return dict(main.review.edits)


async def _run(plan: Plan, home: Path) -> tuple[RunFinished, list[list[str | None]]]:
    """Run the plan (approved now) and read back the reviewed columns."""
    approval = Approval("oncall@example.com", plan.handoff.report.generated_at, plan.digest)
    async with open_run_session(local_connection(), home=home) as session:
        finished = await run_plan(plan, approval, session, home=home)
        result = await session.client.execute(
            f"SELECT service_name, risk_level, recommended_action FROM {plan.target_table} "
            "ORDER BY service_name"
        )
    return finished, result.rows


async def _settle(pilot: Pilot[None]) -> None:
    with contextlib.suppress(WorkerCancelled):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _until(pilot: Pilot[None], condition: Callable[[], bool], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.02)
