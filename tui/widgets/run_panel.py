"""The live status panes of a run: the five steps, the event log and the verification table.

The panel is fed `core.events` run events one at a time and renders them; it keeps no state
that the events do not carry, so a snapshot test can drive it with a fixed list of events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, RichLog, Static

from core.events import (
    Outcome,
    RunEvent,
    RunFinished,
    RunLog,
    RunStarted,
    StatementStateChanged,
    StepFinished,
    StepStarted,
    StepState,
)
from core.steps import Step
from core.verification import DISPLAY_COLUMNS, RowStatus, Verification
from tui.text import line

STATE_CLASSES = {
    StepState.WAITING: "status--muted",
    StepState.RUNNING: "status--running",
    StepState.SUCCEEDED: "status--ok",
    StepState.FAILED: "status--bad",
    StepState.CANCELED: "status--warn",
    StepState.SKIPPED: "status--muted",
}
ROW_CLASSES = {
    RowStatus.MATCH: "status--ok",
    RowStatus.MISSING: "status--bad",
    RowStatus.EXTRA: "status--warn",
    RowStatus.CHANGED: "status--warn",
    RowStatus.TAMPERED: "status--bad",
}
STATEMENT_STATE_CLASSES = {
    "SUBMITTING": "status--running",
    "PENDING": "status--warn",
    "RUNNING": "status--running",
    "SUCCEEDED": "status--ok",
    "FAILED": "status--bad",
    "CANCELED": "status--warn",
    "CLOSED": "status--bad",
}


class StatusTable(DataTable[Text]):
    """A read-only table whose state cells are coloured from the theme."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status--ok",
        "status--running",
        "status--warn",
        "status--bad",
        "status--muted",
    }
    """Cell colours for states (styled with theme variables in TCSS)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=False)

    def styled(self, text: str, component: str) -> Text:
        """`text` in a state colour."""
        return Text(text, self.get_component_rich_style(component, partial=True))

    def on_mount(self) -> None:
        # Cells hold resolved colours: paint them again when the theme changes.
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: object) -> None:
        self.call_after_refresh(self.restyle)

    def restyle(self) -> None:
        """Re-create the coloured cells from the data they show (after a theme change)."""


@dataclass(frozen=True)
class StepRow:
    """What the steps table shows for one step."""

    state: StepState = StepState.WAITING
    statement: str = ""
    statement_id: str = ""
    statement_state: str = ""
    elapsed_s: float | None = None
    attempts: int = 0
    rows: int | None = None


class StepsTable(StatusTable):
    """The five steps with state, statement id, elapsed time, attempts and rows affected."""

    def on_mount(self) -> None:
        super().on_mount()
        self._shown: dict[Step, StepRow] = {}
        self.add_column("Step", key="step", width=36)
        self.add_column("State", key="state", width=10)
        self.add_column("Time", key="elapsed", width=6)
        self.add_column("Tries", key="attempts", width=5)
        self.add_column("Rows", key="rows", width=4)
        self.add_column("Statement id", key="statement")
        for step in Step:
            self.add_row(*self._cells(step, StepRow()), key=step.value)

    def _cells(self, step: Step, row: StepRow) -> list[Text]:
        state = row.state.value
        state_class = STATE_CLASSES[row.state]
        if row.state is StepState.RUNNING and row.statement_state:
            # While a statement runs, show the warehouse's own word for it.
            state = row.statement_state
            state_class = STATEMENT_STATE_CLASSES.get(row.statement_state, state_class)
        return [
            Text(f"{step.number} {step.label}"),
            self.styled(state, state_class),
            Text("" if row.elapsed_s is None else f"{row.elapsed_s:.1f}s", justify="right"),
            Text(str(row.attempts) if row.attempts else "", justify="right"),
            Text("" if row.rows is None else str(row.rows), justify="right"),
            self.styled(row.statement_id, "status--muted"),
        ]

    def show(self, step: Step, row: StepRow) -> None:
        """Update one step's line."""
        if not self.row_count:
            return
        self._shown[step] = row
        for column, cell in zip(self.columns, self._cells(step, row), strict=True):
            self.update_cell(step.value, column, cell, update_width=True)

    def restyle(self) -> None:
        for step, row in list(self._shown.items()):
            self.show(step, row)


class VerificationTable(StatusTable):
    """The verification table of the original write-up, plus each row's verdict."""

    def on_mount(self) -> None:
        super().on_mount()
        self.verification: Verification | None = None
        for name in DISPLAY_COLUMNS:
            self.add_column(name, key=name)
        self.add_column("match", key="match")

    def show(self, verification: Verification | None) -> None:
        """Show the verdict on every row (clears the table for None)."""
        self.verification = verification
        self.clear()
        if verification is None:
            return
        for check in verification.checks:
            verdict = check.status.value
            if check.differences:
                verdict += ": " + ", ".join(d.column for d in check.differences)
            cells = [Text(_clip(line(value))) for value in check.shown]
            cells.append(self.styled(verdict, ROW_CLASSES[check.status]))
            self.add_row(*cells, key=check.service_name)

    def restyle(self) -> None:
        self.show(self.verification)


def _clip(value: str, width: int = 32) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


class RunPanel(Vertical):
    """Summary line, steps table, verification table and the event log of the latest run."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[Step, StepRow] = {step: StepRow() for step in Step}
        self.finished: RunFinished | None = None
        self.started: RunStarted | None = None
        self.current: Step | None = None
        self.events: list[RunEvent] = []
        """Every event shown so far (tests read it)."""
        self._updated_at = time.monotonic()

    def compose(self) -> ComposeResult:
        yield Static("No run yet. a approves and runs the write.", id="run-summary")
        yield StepsTable(id="run-steps")
        yield VerificationTable(id="run-verification")
        yield RichLog(id="run-log", markup=False, wrap=True, max_lines=2000)

    def on_mount(self) -> None:
        self.border_title = "Run"
        self.query_one("#run-verification").display = False

    def reset(self, description: str) -> None:
        """Clear the panel for a new run."""
        self.rows = {step: StepRow() for step in Step}
        self.finished = None
        self.started = None
        self.current = None
        self.events = []
        steps = self.query_one(StepsTable)
        for step in Step:
            steps.show(step, StepRow())
        self.query_one(RichLog).clear()
        verification = self.query_one(VerificationTable)
        verification.show(None)
        verification.display = False
        self._summary(Content.styled(description, "$text-muted"))

    def _summary(self, content: Content) -> None:
        self.query_one("#run-summary", Static).update(content)

    def _set(self, step: Step, row: StepRow) -> None:
        self._updated_at = time.monotonic()
        self.rows[step] = row
        self.query_one(StepsTable).show(step, row)

    def _log(self, elapsed_s: float, message: str, component: str = "") -> None:
        entry = Text(f"{elapsed_s:6.2f}s  ", style="dim")
        if component:
            entry.append(
                line(message), self.query_one(StepsTable).get_component_rich_style(component)
            )
        else:
            entry.append(line(message))
        self.query_one(RichLog).write(entry)

    def tick(self) -> None:
        """Advance the running step's elapsed time between events (display only)."""
        if self.current is None or self.finished is not None:
            return
        row = self.rows[self.current]
        if row.state is StepState.RUNNING and row.elapsed_s is not None:
            since = time.monotonic() - self._updated_at
            self.query_one(StepsTable).show(
                self.current, replace(row, elapsed_s=row.elapsed_s + since)
            )

    def apply(self, event: RunEvent) -> None:
        """Render one run event."""
        self.events.append(event)
        if isinstance(event, RunStarted):
            self.started = event
            self._summary(
                Content.assemble(
                    ("Running", "bold $text-accent"),
                    f" {event.report_id} on {event.warehouse} · sha256:{event.digest[:12]}",
                    ("  ctrl+c cancels", "$text-muted"),
                )
            )
            self._log(event.elapsed_s, f"run started on {event.warehouse}")
        elif isinstance(event, StepStarted):
            self.current = event.step
            self._set(event.step, StepRow(state=StepState.RUNNING, elapsed_s=0.0))
            self._log(event.elapsed_s, f"step {event.step.number}: {event.step.label}")
        elif isinstance(event, StatementStateChanged):
            row = self.rows[event.step]
            self._set(
                event.step,
                replace(
                    row,
                    statement=event.statement,
                    statement_id=event.statement_id or row.statement_id,
                    statement_state=event.state,
                    attempts=event.attempts,
                    elapsed_s=max(row.elapsed_s or 0.0, event.statement_elapsed_s),
                ),
            )
            where = f" ({event.statement_id})" if event.statement_id else ""
            self._log(
                event.elapsed_s, f"  {event.statement}: {event.state}{where}", "status--muted"
            )
        elif isinstance(event, StepFinished):
            row = self.rows[event.step]
            statement_id = event.statement_ids[-1] if event.statement_ids else row.statement_id
            self._set(
                event.step,
                replace(
                    row,
                    state=event.state,
                    statement_id=statement_id,
                    elapsed_s=event.step_elapsed_s if event.step_elapsed_s else row.elapsed_s,
                    attempts=event.attempts or row.attempts,
                    rows=event.rows_affected,
                ),
            )
            if event.state is not StepState.SKIPPED:
                self._log(
                    event.elapsed_s,
                    f"step {event.step.number} {event.state.value}: {event.detail}",
                    STATE_CLASSES[event.state] if event.state is not StepState.SUCCEEDED else "",
                )
        elif isinstance(event, RunLog):
            component = {"warning": "status--warn", "error": "status--bad"}.get(event.level, "")
            self._log(event.elapsed_s, event.message, component)
        elif isinstance(event, RunFinished):
            self.finished = event
            self._finish(event)

    def _finish(self, event: RunFinished) -> None:
        verification = event.verification
        if verification is not None:
            table = self.query_one(VerificationTable)
            table.display = True
            table.show(verification)
        self._summary(outcome_content(event))
        self._log(event.elapsed_s, f"run {event.outcome.value} in {event.elapsed_s:.1f}s")

    def show_verification(self, verification: Verification) -> None:
        """Show a re-verification's verdict under the steps."""
        table = self.query_one(VerificationTable)
        table.display = True
        table.show(verification)
        style = "bold $text-success" if verification.ok else "bold $text-error"
        self._summary(Content.styled(f"Re-verified: {verification.summary()}", style))


def outcome_content(event: RunFinished) -> Content:
    """The one-line outcome of a finished run."""
    if event.outcome is Outcome.SUCCEEDED and event.verification is not None:
        rows = len(event.verification.checks)
        return Content.assemble(
            ("✓ Succeeded", "bold $text-success"),
            f": {rows} row(s) written and verified in {event.elapsed_s:.1f}s",
        )
    if event.outcome is Outcome.MISMATCH and event.verification is not None:
        return Content.assemble(
            ("✗ Verification mismatch", "bold $text-error"), f": {event.verification.summary()}"
        )
    if event.outcome is Outcome.CANCELED:
        return Content.assemble(
            ("■ Canceled", "bold $text-warning"),
            ": a cancel was sent for the statement in flight and no further step ran; "
            "approve again to finish (the write is idempotent)",
        )
    failure = event.failure
    if failure is None:
        return Content.styled(f"Run {event.outcome.value}", "bold $text-error")
    where = f" at step {failure.step.number} ({failure.step.label})" if failure.step else ""
    extras = [
        f"statement id {failure.statement_id}" if failure.statement_id else "",
        f"SQL state {failure.sql_state}" if failure.sql_state else "",
        f"error {failure.error_code}" if failure.error_code else "",
    ]
    detail = " · ".join(extra for extra in extras if extra)
    return Content.assemble(
        ("✗ Failed", "bold $text-error"),
        f"{where}: {failure.message}",
        ("\n" + detail if detail else "", "$text-muted"),
        ("\nNothing else ran; fix the cause and approve again (the write is idempotent).", ""),
    )
