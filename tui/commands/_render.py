"""Text output of the headless commands: progress lines and the verification table."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.events import (
    RunEvent,
    RunFinished,
    RunLog,
    RunStarted,
    StatementStateChanged,
    StepFinished,
    StepStarted,
    StepState,
)
from core.runbook import one_line
from core.steps import Step
from core.verification import DISPLAY_COLUMNS, RowStatus, Verification

_MARKS = {
    StepState.SUCCEEDED: "ok",
    StepState.FAILED: "FAILED",
    StepState.CANCELED: "canceled",
    StepState.SKIPPED: "skipped",
}


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], gutter: int = 4) -> str:
    """Left-aligned columns, as the write-up's verification output is laid out."""
    cells = [list(headers), *[[one_line(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell.ljust(widths[i] + gutter) for i, cell in enumerate(row[:-1])]
        lines.append(("".join(padded) + row[-1]).rstrip())
    return "\n".join(lines)


def verification_table(verification: Verification) -> str:
    """The write-up's table: report_id, service_name, owner_team, risk_level, recommended_action,
    followed by a match column when anything did not match."""
    all_match = all(check.status is RowStatus.MATCH for check in verification.checks)
    headers = list(DISPLAY_COLUMNS) if all_match else [*DISPLAY_COLUMNS, "match"]
    rows = [
        list(check.shown) if all_match else [*check.shown, check.status.value]
        for check in verification.checks
    ]
    return table(headers, rows)


def print_event(event: RunEvent) -> None:
    """One progress line per event, flushed at once so piping shows progress live."""
    line: str | None = None
    if isinstance(event, RunStarted):
        line = f"Running {event.report_id} on {event.warehouse} (digest sha256:{event.digest[:12]})"
    elif isinstance(event, StepStarted):
        line = f"[{event.step.number}/{len(Step)}] {event.step.label}"
    elif isinstance(event, StatementStateChanged):
        ident = event.statement_id or "-"
        attempt = f", attempt {event.attempts}" if event.attempts > 1 else ""
        line = (
            f"      {event.statement} {ident} {event.state} "
            f"({event.statement_elapsed_s:.1f}s{attempt})"
        )
    elif isinstance(event, StepFinished):
        mark = _MARKS.get(event.state, event.state.value)
        rows = f", {event.rows_affected} row(s)" if event.rows_affected is not None else ""
        line = f"      {mark} in {event.step_elapsed_s:.2f}s{rows}: {one_line(event.detail)}"
    elif isinstance(event, RunLog):
        line = f"      {event.level}: {one_line(event.message)}"
    elif isinstance(event, RunFinished):
        outcome = event.outcome.value
        line = f"Finished: {outcome} in {event.elapsed_s:.2f}s (run folder {event.run_dir})"
    if line is not None:
        print(line, flush=True)


def print_failure(event: RunFinished) -> None:
    failure = event.failure
    if failure is None:
        return
    details = [
        f"step: {failure.step.label}" if failure.step else None,
        f"statement: {failure.statement}" if failure.statement else None,
        f"statement id: {failure.statement_id}" if failure.statement_id else None,
        f"SQL state: {failure.sql_state}" if failure.sql_state else None,
        f"error code: {failure.error_code}" if failure.error_code else None,
    ]
    print(f"impact-review: {one_line(failure.message)}", file=sys.stderr)
    for detail in details:
        if detail:
            print(f"impact-review:   {detail}", file=sys.stderr)
