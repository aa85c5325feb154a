"""Reports already in the impact table: list them, read one's rows, and re-verify it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from core.verification import DISPLAY_COLUMNS, Verification
from tui.context import AppContext
from tui.keymap import bindings
from tui.messages import VerificationDone
from tui.session import app_session
from tui.text import line
from tui.widgets.run_panel import StatusTable, VerificationTable

if TYPE_CHECKING:
    from core.executor import ReportSummary


class ReportsListed(Message):
    """The reports in the table were read (or reading failed with `error`)."""

    def __init__(self, reports: list[ReportSummary] | None, error: str | None = None) -> None:
        super().__init__()
        self.reports = reports
        self.error = error


class RowsRead(Message):
    """A report's rows were read (or reading failed with `error`)."""

    def __init__(
        self, report_id: str, rows: list[dict[str, str | None]] | None, error: str | None = None
    ) -> None:
        super().__init__()
        self.report_id = report_id
        self.rows = rows
        self.error = error


class ReportsScreen(Screen[None]):
    """Every report in the impact table, with its rows and verification on demand."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("reports"))
    """enter rows, v verify, f5 refresh, escape back (ids `reports.*`)."""

    busy: reactive[bool] = reactive(False, bindings=True)
    """A warehouse call is in flight."""

    def __init__(self, table: str, context: AppContext, *, autoload: bool = True) -> None:
        super().__init__(id="reports")
        self.autoload = autoload
        """Read the reports on mount (snapshot tests post a fixed list instead)."""
        self.table = table
        self.context = context
        self.reports: list[ReportSummary] = []
        self.verifications: dict[str, Verification] = {}
        self.rows_shown: dict[str, list[dict[str, str | None]]] = {}

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(
                ("Reports", "bold $text-primary"),
                (f"  {self.table}", "bold"),
                (f"  on {self.context.warehouse_text}", "$text-muted"),
            ),
            id="title-bar",
        )
        yield StatusTable(id="reports-table")
        yield Static("Reading the reports…", id="reports-status")
        yield StatusTable(id="report-rows")
        yield VerificationTable(id="report-verification")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#reports-table", StatusTable)
        table.show_cursor = True
        table.border_title = "Reports in the table"
        for key, label in (
            ("report_id", "report id"),
            ("rows", "rows"),
            ("generated", "generated"),
            ("reviewed", "reviewed"),
            ("reviewed_by", "reviewed by"),
            ("verified", "last verified"),
        ):
            table.add_column(label, key=key)
        rows = self.query_one("#report-rows", StatusTable)
        for name in DISPLAY_COLUMNS:
            rows.add_column(name, key=name)
        rows.display = False
        self.query_one("#report-verification").display = False
        table.focus()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.autoload:
            self.action_refresh()

    def _theme_changed(self, theme: object) -> None:
        # The list's cells hold resolved colours: rebuild them in the new theme's.
        self.call_after_refresh(self._fill_reports)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("show_rows", "verify"):
            return None if self.busy or not self.reports else True
        if action == "refresh":
            return None if self.busy else True
        return True

    def _selected(self) -> str | None:
        table = self.query_one("#reports-table", StatusTable)
        if not self.reports or table.cursor_row < 0 or table.cursor_row >= len(self.reports):
            return None
        return self.reports[table.cursor_row].report_id

    def _say(self, content: Content | str) -> None:
        self.query_one("#reports-status", Static).update(content)

    # -- actions --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Read the reports from the table."""
        self.busy = True
        self._say(Content.styled("Reading the reports…", "$text-muted"))
        self._list()

    def action_show_rows(self) -> None:
        """Read and show the selected report's rows."""
        report_id = self._selected()
        if report_id is None:
            return
        self.busy = True
        self._say(Content.styled(f"Reading {report_id}…", "$text-muted"))
        self._read(report_id)

    def action_verify(self) -> None:
        """Re-verify the selected report."""
        report_id = self._selected()
        if report_id is None:
            return
        self.busy = True
        self._say(Content.styled(f"Verifying {report_id}…", "$text-muted"))
        self._verify(report_id)

    def action_close(self) -> None:
        """Back to the review."""
        self.dismiss(None)

    # -- workers --------------------------------------------------------------------------

    @work(group="reports", exclusive=True, exit_on_error=False, description="List reports")
    async def _list(self) -> None:
        from core.executor import list_reports
        from core.warehouse.errors import WarehouseError

        try:
            async with app_session(self.context) as session:
                reports = await list_reports(self.table, session, home=self.context.home)
        except (WarehouseError, OSError, ValueError) as error:
            self.post_message(ReportsListed(None, str(error)))
        else:
            self.post_message(ReportsListed(reports))

    @work(group="reports", exclusive=True, exit_on_error=False, description="Read report rows")
    async def _read(self, report_id: str) -> None:
        from core.executor import read_report_rows
        from core.warehouse.errors import WarehouseError

        try:
            async with app_session(self.context) as session:
                rows = await read_report_rows(report_id, self.table, session)
        except (WarehouseError, OSError, ValueError) as error:
            self.post_message(RowsRead(report_id, None, str(error)))
        else:
            self.post_message(RowsRead(report_id, [dict(row) for row in rows]))

    @work(group="reports", exclusive=True, exit_on_error=False, description="Verify report")
    async def _verify(self, report_id: str) -> None:
        from core.executor import verify_report
        from core.warehouse.errors import WarehouseError

        try:
            async with app_session(self.context) as session:
                verification = await verify_report(
                    report_id, self.table, session, home=self.context.home
                )
        except (WarehouseError, OSError, ValueError) as error:
            self.post_message(VerificationDone(report_id, None, str(error)))
        else:
            self.post_message(VerificationDone(report_id, verification))

    @on(StatusTable.RowSelected, "#reports-table")
    def _row_chosen(self, event: StatusTable.RowSelected) -> None:
        # The table owns enter while focused; choosing a row means "show its rows".
        event.stop()
        if self.check_action("show_rows", ()):
            self.action_show_rows()

    # -- results --------------------------------------------------------------------------

    @on(ReportsListed)
    def _listed(self, message: ReportsListed) -> None:
        self.busy = False
        if message.reports is None:
            self._say(Content.assemble(("✗ ", "bold $text-error"), message.error or ""))
            return
        selected = self._selected()
        self.reports = message.reports
        self._fill_reports()
        table = self.query_one("#reports-table", StatusTable)
        if not self.reports:
            self._say(
                Content.styled(
                    "No reports in this table yet: approve a review to write one.", "$text-muted"
                )
            )
            return
        if selected is not None:
            for index, report in enumerate(self.reports):
                if report.report_id == selected:
                    table.move_cursor(row=index)
        self._say(
            Content.styled(
                f"{len(self.reports)} report(s). enter shows rows · v re-verifies", "$text-muted"
            )
        )

    def _fill_reports(self) -> None:
        table = self.query_one("#reports-table", StatusTable)
        row = table.cursor_row
        table.clear()
        for report in self.reports:
            table.add_row(*self._report_cells(report), key=report.report_id)
        if self.reports:
            table.move_cursor(row=min(max(row, 0), len(self.reports) - 1))

    def _report_cells(self, report: ReportSummary) -> list[Text]:
        table = self.query_one("#reports-table", StatusTable)
        if report.last_verified is None:
            verified = table.styled("never", "status--muted")
        else:
            mark = "✓" if report.last_verification_ok else "✗"
            component = "status--ok" if report.last_verification_ok else "status--bad"
            verified = table.styled(f"{mark} {_short_time(report.last_verified)}", component)
        return [
            Text(line(report.report_id)),
            Text(str(report.rows), justify="right"),
            Text(_short_time(report.generated_at)),
            Text(_short_time(report.reviewed_at)),
            Text(line(report.reviewed_by or "")),
            verified,
        ]

    @on(RowsRead)
    def _rows_read(self, message: RowsRead) -> None:
        self.busy = False
        if message.rows is None:
            self._say(Content.assemble(("✗ ", "bold $text-error"), message.error or ""))
            return
        self.rows_shown[message.report_id] = message.rows
        table = self.query_one("#report-rows", StatusTable)
        table.clear()
        for row in message.rows:
            table.add_row(*(Text(line(row.get(name) or "")[:120]) for name in DISPLAY_COLUMNS))
        table.border_title = f"Rows of {message.report_id}"
        table.display = True
        self.query_one("#report-verification").display = False
        self._say(
            Content.styled(
                f"{len(message.rows)} row(s) of {message.report_id}. v re-verifies them.",
                "$text-muted",
            )
        )

    @on(VerificationDone)
    def _verified(self, message: VerificationDone) -> None:
        message.stop()
        self.busy = False
        verification = message.verification
        if verification is None:
            self._say(
                Content.assemble(("✗ Not verified: ", "bold $text-error"), message.error or "")
            )
            self.notify(message.error or "failed", title="Verification failed", severity="error")
            return
        self.verifications[message.report_id] = verification
        table = self.query_one("#report-verification", VerificationTable)
        table.show(verification)
        table.border_title = f"Verification of {message.report_id}"
        table.display = True
        self.query_one("#report-rows").display = False
        style = "bold $text-success" if verification.ok else "bold $text-error"
        self._say(Content.styled(verification.summary(), style))
        self.notify(
            verification.summary(),
            title="Verified" if verification.ok else "Mismatch",
            severity="information" if verification.ok else "error",
        )
        if self.autoload:
            self._list()  # the list shows when each report was last verified

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.busy = False
            if event.state is WorkerState.ERROR:
                self._say(Content.styled(f"✗ {event.worker.error}", "$text-error"))


def _short_time(value: str | None) -> str:
    """A timestamp from the table, trimmed to the minute."""
    if not value:
        return ""
    return value.replace("T", " ")[:16]
