"""Regenerate the README's screenshots: `python -m tui.screenshots DIR` (`make screenshots`).

Each scene builds the app on the bundled demo with a frozen clock and approver, drives it with
the Pilot like a reviewer would, and saves an SVG. Run scenes are fed a fixed sequence of run
events, so the pictures (and the snapshot tests that reuse these scenes) do not depend on how
fast the machine is. Everything runs in a throwaway IMPACT_REVIEW_HOME.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from core.events import (
    Outcome,
    RunEvent,
    RunFinished,
    RunStarted,
    StatementStateChanged,
    StepFinished,
    StepStarted,
    StepState,
)
from core.handoff import Handoff
from core.loading import load_handoff
from core.plan import Plan
from core.steps import Step
from core.verification import DISPLAY_COLUMNS, RowCheck, RowStatus, Verification, text_of
from core.warehouse.config import local_connection
from tui.app import ImpactReviewApp
from tui.context import AppContext
from tui.screens.main import MainScreen

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "checkout_features.json"
FROZEN = datetime(2026, 5, 12, 17, 5, tzinfo=UTC)
APPROVER = "oncall@example.com"
RUN_DIR = Path("runs") / "annie-dbx-checkout-2044" / "20260512T170500Z"
STATEMENT_IDS = {
    Step.CREATE_TABLE: "01f0c3a2-7d41-1b6e-9a52-3f0e8c1d2b47",
    Step.UPSERT_ROWS: "01f0c3a2-7e9c-1d30-8f14-6b2a9e5c0d18",
    Step.VERIFY_ROWS: "01f0c3a2-8a07-1f22-b3c9-0e4d7a6f1c95",
}
"""Fixed statement ids for the run scenes (a real run shows the warehouse's)."""

Drive = Callable[[Pilot[None]], Awaitable[None]]


def scene_app(home: Path, handoff: Handoff | None = None) -> ImpactReviewApp:
    """The app as the scenes and snapshot tests see it: embedded warehouse, frozen clock."""
    context = AppContext(
        connection=local_connection(),
        approver=APPROVER,
        clock=lambda: FROZEN,
        home=home,
        export_dir=home,
        live_ticks=False,
        cursor_blink=False,
    )
    return ImpactReviewApp(handoff or load_handoff(DEMO), source=DEMO.name, context=context)


def invalid_handoff() -> Handoff:
    """The demo aimed at a read-only catalog: the plan fails the write policy."""
    demo = load_handoff(DEMO)
    report = demo.report.model_copy(update={"target_table": "system.default.impact_reports"})
    return demo.model_copy(update={"report": report})


async def settle(pilot: Pilot[None]) -> None:
    """Let workers finish and messages be handled, until the review screen's plan is built
    and validated (the first plan is built in a worker once the tree has painted)."""
    app = pilot.app
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not isinstance(app, ImpactReviewApp) or app.main_screen.validated is not None:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the review screen's plan was not validated within 30 s")


def _main(pilot: Pilot[None]) -> MainScreen:
    app = pilot.app
    assert isinstance(app, ImpactReviewApp)
    return app.main_screen


def verification_of(plan: Plan) -> Verification:
    """What verifying `plan` right after writing it finds: every row matches."""
    checks = tuple(
        RowCheck(
            row.service_name,
            RowStatus.MATCH,
            shown=tuple(text_of(row.get(column)) for column in DISPLAY_COLUMNS),
        )
        for row in sorted(plan.rows, key=lambda row: row.service_name)
    )
    return Verification(plan.report_id, checks, compared_with_approval=True)


def run_events(plan: Plan, *, finished: bool) -> list[RunEvent]:
    """A plausible run of `plan` on the embedded warehouse, stopped mid-upsert or complete."""
    events: list[RunEvent] = [
        RunStarted(0.0, plan.report_id, plan.digest, "embedded warehouse (DuckDB)", RUN_DIR),
        StepStarted(0.0, Step.CHECK_AUTH),
        StepFinished(
            0.02, Step.CHECK_AUTH, StepState.SUCCEEDED, 0.02, "as embedded-user on Embedded"
        ),
        StepStarted(0.02, Step.WRITE_PAYLOADS),
        StepFinished(0.03, Step.WRITE_PAYLOADS, StepState.SUCCEEDED, 0.01, "8 files"),
        StepStarted(0.03, Step.CREATE_TABLE),
    ]
    create = STATEMENT_IDS[Step.CREATE_TABLE]
    events += [
        StatementStateChanged(0.04, Step.CREATE_TABLE, "create-table", create, "PENDING", 1, 0.0),
        StatementStateChanged(3.05, Step.CREATE_TABLE, "create-table", create, "RUNNING", 1, 3.0),
        StatementStateChanged(4.1, Step.CREATE_TABLE, "create-table", create, "SUCCEEDED", 1, 4.1),
        StepFinished(
            4.1, Step.CREATE_TABLE, StepState.SUCCEEDED, 4.07, plan.target_table, (create,), None, 1
        ),
        StepStarted(4.1, Step.UPSERT_ROWS),
    ]
    upsert = STATEMENT_IDS[Step.UPSERT_ROWS]
    events += [
        StatementStateChanged(4.12, Step.UPSERT_ROWS, "upsert-rows", upsert, "PENDING", 1, 0.0),
        StatementStateChanged(4.25, Step.UPSERT_ROWS, "upsert-rows", upsert, "RUNNING", 1, 0.1),
    ]
    if not finished:
        return events
    rows = len(plan.rows)
    verify_id = STATEMENT_IDS[Step.VERIFY_ROWS]
    verification = verification_of(plan)
    events += [
        StatementStateChanged(5.3, Step.UPSERT_ROWS, "upsert-rows", upsert, "SUCCEEDED", 1, 1.2),
        StepFinished(
            5.3,
            Step.UPSERT_ROWS,
            StepState.SUCCEEDED,
            1.2,
            f"{rows} row(s) in 1 MERGE statement(s)",
            (upsert,),
            rows,
            1,
        ),
        StepStarted(5.3, Step.VERIFY_ROWS),
        StatementStateChanged(5.32, Step.VERIFY_ROWS, "verify-rows", verify_id, "RUNNING", 1, 0.0),
        StatementStateChanged(6.4, Step.VERIFY_ROWS, "verify-rows", verify_id, "SUCCEEDED", 1, 1.1),
        StepFinished(
            6.4,
            Step.VERIFY_ROWS,
            StepState.SUCCEEDED,
            1.1,
            verification.summary(),
            (verify_id,),
            rows,
            1,
        ),
        RunFinished(6.4, Outcome.SUCCEEDED, RUN_DIR, verification),
    ]
    return events


async def feed_run(pilot: Pilot[None], *, finished: bool) -> None:
    """Show a run in the status panes from fixed events, as the run worker would."""
    from tui.messages import RunEventReceived
    from tui.widgets.run_panel import RunPanel

    main = _main(pilot)
    assert main.plan is not None
    main.running = True
    panel = main.query_one(RunPanel)
    panel.add_class("-shown")
    panel.reset("Starting…")
    for event in run_events(main.plan, finished=finished):
        main.post_message(RunEventReceived(event))
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


async def edit_risk_worker(pilot: Pilot[None]) -> None:
    """Move to risk-worker and raise its risk to high."""
    await settle(pilot)
    await pilot.press("j", "r")
    await settle(pilot)


# -- scenes -------------------------------------------------------------------------------


async def overview(pilot: Pilot[None]) -> None:
    """The demo as it opens, with checkout-api expanded."""
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)


async def editing(pilot: Pilot[None]) -> None:
    """risk-worker raised to high, its action being edited."""
    await edit_risk_worker(pilot)
    await pilot.press("e")
    await pilot.press(*" and page the risk on-call")
    await pilot.pause()


async def sql_invalid(pilot: Pilot[None]) -> None:
    """A plan that fails the policy: the error is shown and run is disabled."""
    await settle(pilot)


async def confirm(pilot: Pilot[None]) -> None:
    """The approve dialog, focus on No."""
    await edit_risk_worker(pilot)
    await pilot.press("a")
    await pilot.pause()


async def running(pilot: Pilot[None]) -> None:
    """A run mid-upsert: the live status panes."""
    await edit_risk_worker(pilot)
    await feed_run(pilot, finished=False)


async def verified(pilot: Pilot[None]) -> None:
    """The run done, both rows verified."""
    await edit_risk_worker(pilot)
    await feed_run(pilot, finished=True)


async def reports(pilot: Pilot[None]) -> None:
    """The reports screen after a re-verification."""
    from core.executor import ReportSummary
    from tui.messages import VerificationDone
    from tui.screens.reports import ReportsListed, ReportsScreen

    await edit_risk_worker(pilot)
    main = _main(pilot)
    assert main.plan is not None
    screen = ReportsScreen(main.plan.target_table, main.context, autoload=False)
    await pilot.app.push_screen(screen)
    summary = ReportSummary(
        report_id=main.plan.report_id,
        rows=len(main.plan.rows),
        generated_at="2026-05-12T16:42:00.000Z",
        reviewed_at="2026-05-12T17:05:00.000Z",
        reviewed_by=APPROVER,
        last_verified="2026-05-12T17:05:07+00:00",
        last_verification_ok=True,
    )
    screen.post_message(ReportsListed([summary]))
    await pilot.pause()
    screen.post_message(VerificationDone(main.plan.report_id, verification_of(main.plan)))
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


async def narrow_light(pilot: Pilot[None]) -> None:
    """The overview in 80×24 with the light theme."""
    await settle(pilot)
    await pilot.press("f9", "j")
    await settle(pilot)


@dataclass(frozen=True)
class Scene:
    """One screenshot: a file name, a terminal size, how to get there."""

    name: str
    drive: Drive
    size: tuple[int, int] = (120, 36)
    invalid: bool = False


SCENES = (
    Scene("01-overview", overview),
    Scene("02-editing", editing),
    Scene("03-sql-preview-invalid", sql_invalid, invalid=True),
    Scene("04-confirm", confirm),
    Scene("05-run-in-progress", running),
    Scene("06-verified", verified),
    Scene("07-reports", reports),
    Scene("08-narrow-light", narrow_light, size=(80, 24)),
)


async def capture(scene: Scene, out_dir: Path, home: Path) -> Path:
    """Drive one scene and save its SVG."""
    app = scene_app(home, invalid_handoff() if scene.invalid else None)
    async with app.run_test(size=scene.size) as pilot:
        await scene.drive(pilot)
        app.clear_notifications()
        await pilot.pause()
        path = app.save_screenshot(filename=f"{scene.name}.svg", path=str(out_dir))
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """Write every scene's SVG into the directory given (default: screenshots/)."""
    arguments = sys.argv[1:] if argv is None else argv
    out_dir = Path(arguments[0] if arguments else "screenshots")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="impact-review-shots-") as scratch:
        os.environ["IMPACT_REVIEW_HOME"] = scratch
        for scene in SCENES:
            home = Path(scratch) / scene.name
            home.mkdir()
            path = asyncio.run(capture(scene, out_dir, home))
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
