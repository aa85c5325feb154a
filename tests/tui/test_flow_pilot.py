"""The whole review flow on the demo, against the embedded warehouse, driven by the keyboard."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import TextArea

from core.embedded import parse_faults
from core.events import Outcome, RunFinished, StatementStateChanged, StepState
from core.handoff import RiskLevel
from core.steps import Step
from core.verification import RowStatus
from tests.tui.conftest import MakeApp, main_of, plan_of, settle, top, until
from tui.messages import ReviewEdited, RunEventReceived
from tui.screens.dialogs import EditActionDialog, YesNoDialog
from tui.screens.reports import ReportsScreen
from tui.widgets.run_panel import RunPanel, VerificationTable
from tui.widgets.sql_preview import PreviewPane

EXTRA = " and page the risk on-call"


class TestReviewApproveVerify:
    """Navigate, edit, watch the preview, approve, run, verify, re-verify from reports."""

    async def test_full_flow(self, make_app: MakeApp) -> None:
        seen: list[Message] = []
        app = make_app()
        async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
            await settle(pilot)
            main = main_of(app)
            assert main.selected == "checkout-api"
            original_digest = plan_of(main).digest
            preview = main.query_one(PreviewPane)
            renders = {name: view.renders for name, view in preview.statement_views().items()}

            # Navigate to risk-worker and raise its risk.
            await pilot.press("j")
            assert main.selected == "risk-worker"
            await pilot.press("r")
            await settle(pilot)
            assert main.review.service("risk-worker").risk_level is RiskLevel.HIGH
            raised_digest = plan_of(main).digest
            assert raised_digest != original_digest

            # Edit its recommended action in the multi-line editor; ctrl+s keeps it.
            await pilot.press("e")
            assert isinstance(top(app), EditActionDialog)
            assert top(app).query_one(TextArea).text.startswith("notify risk owner")
            await pilot.press(*EXTRA)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert top(app) is main
            action = main.review.service("risk-worker").recommended_action
            assert action == "notify risk owner before rerunning the backfill" + EXTRA
            assert main.review.edited_fields("risk-worker") == {"risk_level", "recommended_action"}

            # The preview changed with the digest; only the MERGE was re-rendered.
            assert plan_of(main).digest not in (original_digest, raised_digest)
            assert main.validated is True
            views = preview.statement_views()
            assert EXTRA.strip() in views["upsert-rows"].statement.sql
            assert views["upsert-rows"].renders > renders["upsert-rows"]
            assert views["create-table"].renders == renders["create-table"]
            assert views["verify-rows"].renders == renders["verify-rows"]
            edits = list({id(m): m for m in seen if isinstance(m, ReviewEdited)}.values())
            assert [m.services for m in edits] == [{"risk-worker"}, {"risk-worker"}]

            # Approve: the dialog starts on No; y approves this digest and runs it.
            approved_digest = plan_of(main).digest
            await pilot.press("a")
            dialog = top(app)
            assert isinstance(dialog, YesNoDialog)
            assert dialog.focused is not None and dialog.focused.id == "no"
            await pilot.press("y")
            await settle(pilot)
            assert not main.running

            panel = main.query_one(RunPanel)
            assert {step: row.state for step, row in panel.rows.items()} == {
                step: StepState.SUCCEEDED for step in Step
            }
            finished = panel.finished
            assert finished is not None and finished.outcome is Outcome.SUCCEEDED
            assert panel.started is not None and panel.started.digest == approved_digest
            verification = finished.verification
            assert verification is not None and verification.ok
            shown = {check.service_name: check.shown for check in verification.checks}
            assert set(shown) == {"checkout-api", "risk-worker"}
            assert shown["risk-worker"][3:] == ("high", action)
            assert all(check.status is RowStatus.MATCH for check in verification.checks)
            assert main.query_one(VerificationTable).row_count == 2
            assert main.quit_question() is None
            events = [m.event for m in seen if isinstance(m, RunEventReceived)]
            assert isinstance(events[-1], RunFinished)
            assert any(isinstance(e, StatementStateChanged) for e in events)

            # Re-verify from the reports screen.
            await pilot.press("R")
            await settle(pilot)
            reports = top(app)
            assert isinstance(reports, ReportsScreen)
            assert [r.report_id for r in reports.reports] == ["annie-dbx-checkout-2044"]
            assert reports.reports[0].rows == 2
            assert reports.reports[0].reviewed_by == "oncall@example.com"
            await pilot.press("enter")
            await settle(pilot)
            rows = reports.rows_shown["annie-dbx-checkout-2044"]
            assert [row["service_name"] for row in rows] == ["checkout-api", "risk-worker"]
            await pilot.press("v")
            await settle(pilot)
            again = reports.verifications["annie-dbx-checkout-2044"]
            assert again.ok and again.compared_with_approval
            assert reports.reports[0].last_verification_ok is True
            await pilot.press("escape")
            assert top(app) is main

            # And from the main screen.
            await pilot.press("v")
            await settle(pilot)
            assert not main.busy
            # One warehouse session served the run, the reports and both verifications.
            sessions = main.context.sessions
            assert sessions is not None and sessions.opened == 1
        assert sessions._session is None  # closed with the app


class TestRunFailures:
    """A cancelled run and a failed statement both leave the app usable and say why."""

    async def test_cancel_mid_run(self, make_app: MakeApp) -> None:
        app = make_app(faults=parse_faults("latency=30"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("a", "y")
            panel = main.query_one(RunPanel)
            await until(
                pilot,
                lambda: panel.rows[Step.CREATE_TABLE].statement_state == "RUNNING",
            )
            await pilot.press("ctrl+c")
            assert isinstance(top(app), YesNoDialog)
            assert top(app).id == "confirm-cancel"
            await pilot.press("y")
            await settle(pilot)
            assert not main.running
            finished = panel.finished
            assert finished is not None and finished.outcome is Outcome.CANCELED
            assert panel.rows[Step.CREATE_TABLE].state is StepState.CANCELED
            assert panel.rows[Step.UPSERT_ROWS].state is StepState.SKIPPED
            assert main.check_action("approve", ()) is True
            assert "Canceled" in str(panel.query_one("#run-summary").render())

    async def test_failed_statement(self, make_app: MakeApp) -> None:
        app = make_app(faults=parse_faults("fail=MERGE"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("a", "y")
            await settle(pilot)
            panel = main.query_one(RunPanel)
            finished = panel.finished
            assert finished is not None and finished.outcome is Outcome.FAILED
            failure = finished.failure
            assert failure is not None and failure.step is Step.UPSERT_ROWS
            assert failure.statement_id
            assert panel.rows[Step.CREATE_TABLE].state is StepState.SUCCEEDED
            assert panel.rows[Step.UPSERT_ROWS].state is StepState.FAILED
            assert panel.rows[Step.VERIFY_ROWS].state is StepState.SKIPPED
            summary = str(panel.query_one("#run-summary").render())
            assert "Failed" in summary and failure.statement_id in summary
            if failure.sql_state:
                assert failure.sql_state in summary
            # Still usable: edit, then approve again.
            assert not main.running
            await pilot.press("r")
            await settle(pilot)
            assert main.check_action("approve", ()) is True

    async def test_second_run_cannot_start(self, make_app: MakeApp) -> None:
        app = make_app(faults=parse_faults("latency=30"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("a", "y")
            assert main.running
            await pilot.press("a")
            assert top(app) is main
            assert main.check_action("approve", ()) is None
            assert main.check_action("cycle_risk", ()) is None
            await pilot.press("q")
            assert isinstance(top(app), YesNoDialog) and top(app).id == "confirm-quit"
            await pilot.press("n")
            main.workers.cancel_group(main, "run")
            await settle(pilot)
            assert not main.running


class TestReverifyDrift:
    """Rows changed in the table after review show up as tampered on re-verification."""

    async def test_tampered_row(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("a", "y")
            await settle(pilot)
            sessions = main.context.sessions
            assert sessions is not None
            session = await sessions.get()
            await session.client.execute(
                "UPDATE workspace.default.anyshift_production_impact_reports "
                "SET risk_level = 'low' WHERE service_name = 'risk-worker'"
            )
            await pilot.press("v")
            await settle(pilot)
            table = main.query_one(VerificationTable)
            verification = table.verification
            assert verification is not None and not verification.ok
            statuses = {check.service_name: check.status for check in verification.checks}
            assert statuses == {"checkout-api": RowStatus.MATCH, "risk-worker": RowStatus.TAMPERED}
            summary = str(main.query_one(RunPanel).query_one("#run-summary").render())
            assert "MISMATCH" in summary and "1 tampered" in summary
