"""Run an approved plan: check auth, write payload files, create, upsert, verify, with events.

This is the one engine behind `impact-review apply` and the TUI's approve-and-run. It refuses a
plan whose digest is not the approved one or that fails the SQL policy, and it never retries a
write blindly: the MERGE is idempotent, so the recovery from any failure is to run again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from core.events import (
    Outcome,
    RunEvent,
    RunFailure,
    RunFinished,
    RunLog,
    RunStarted,
    StatementStateChanged,
    StepFinished,
    StepStarted,
    StepState,
)
from core.payloads import WAIT_TIMEOUT_S, Approval, parameter_values, write_payloads
from core.plan import Plan
from core.row_fingerprint import approved_fingerprints
from core.runs import (
    approved_rows,
    event_json,
    last_verification,
    new_run_dir,
    record_verification,
    save_approval,
    write_json_atomic,
)
from core.sqlgen.policy import check_statement
from core.sqlgen.statements import DIALECT, Statement, select_report, table_expression
from core.steps import Step
from core.verification import (
    ReadBackRow,
    Verification,
    verify,
    verify_fingerprints,
    verify_in_detail,
)
from core.warehouse.client import Parameter, StatementResult, StatementState
from core.warehouse.config import Connection, resolve_connection
from core.warehouse.errors import WarehouseError
from core.warehouse.session import Session, open_session

if TYPE_CHECKING:
    from core.embedded import FaultProfile

EventSink = Callable[[RunEvent], None]


class ApprovalMismatch(Exception):
    """The statements differ from what was approved."""

    def __init__(self, approved: str, actual: str) -> None:
        self.approved = approved
        self.actual = actual
        super().__init__(
            "the statements differ from what was approved: approved digest "
            f"sha256:{approved}, statements now sha256:{actual}. Review and approve again."
        )


class PlanRefused(Exception):
    """The plan fails validation (policy) and must not run."""


@asynccontextmanager
async def open_run_session(
    connection: Connection | None = None,
    *,
    faults: FaultProfile | None = None,
    home: Path | None = None,
) -> AsyncIterator[Session]:
    """A warehouse session configured for runs (resolving the connection if none is given)."""
    async with open_session(
        connection or resolve_connection(),
        faults=faults,
        home=home,
        wait_timeout_s=WAIT_TIMEOUT_S,
    ) as session:
        yield session


@dataclass
class _Clock:
    started: float

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _failure(error: BaseException, step: Step, statement: str | None) -> RunFailure:
    if isinstance(error, WarehouseError):
        return RunFailure(
            message=str(error),
            step=step,
            statement=statement,
            statement_id=error.statement_id,
            sql_state=error.sql_state,
            error_code=error.error_code,
            http_status=error.http_status,
        )
    return RunFailure(message=f"{type(error).__name__}: {error}", step=step, statement=statement)


def _affected(result: StatementResult) -> int | None:
    names = [column.name for column in result.columns]
    if "num_affected_rows" not in names or not result.rows:
        return None
    value = result.rows[0][names.index("num_affected_rows")]
    return int(value) if value is not None and value.isdigit() else None


def rows_as_dicts(result: StatementResult) -> list[dict[str, str | None]]:
    names = [column.name for column in result.columns]
    return [dict(zip(names, row, strict=True)) for row in result.rows]


class _Run:
    """One execution of a plan: state shared by its steps."""

    def __init__(
        self,
        plan: Plan,
        approval: Approval,
        session: Session,
        sink: EventSink,
        run_dir: Path,
        home: Path | None,
    ) -> None:
        self.plan = plan
        self.home = home
        self.approval = approval
        self.session = session
        self.run_dir = run_dir
        self.clock = _Clock(time.monotonic())
        self.current: Step = Step.CHECK_AUTH
        self.current_statement: str | None = None
        self.in_flight: tuple[str, str | None] | None = None
        """(name, statement id if known) of a write that was sent and whose outcome is not
        known: not answered yet, or its answer lost. Recorded as `may_have_run`."""
        self.upserted = False
        self.fingerprints: asyncio.Future[dict[str, str]] | None = None
        """The approved rows' fingerprints, computed in a thread while the MERGEs run."""
        self._log = open(run_dir / "run.log", "a", encoding="utf-8")  # noqa: SIM115
        self._sink = sink

    def emit(self, event: RunEvent) -> None:
        self._log.write(event_json(event) + "\n")
        self._log.flush()
        self._sink(event)

    def close(self) -> None:
        self._log.close()

    def log(self, message: str, level: str = "info") -> None:
        self.emit(RunLog(self.clock.elapsed(), message, level))

    async def statement(self, statement: Statement) -> StatementResult:
        self.current_statement = statement.name
        values = parameter_values(self.approval)
        parameters = [Parameter(s.name, values[s.name], s.type) for s in statement.parameters]
        started = time.monotonic()
        last: list[str] = []

        def on_state(state: StatementState) -> None:
            key = f"{state.statement_id}:{state.state}:{state.attempts}:{state.message}"
            if last and last[-1] == key:
                return
            last.append(key)
            if self.in_flight is not None and state.statement_id:
                self.in_flight = (statement.name, state.statement_id)
            self.emit(
                StatementStateChanged(
                    self.clock.elapsed(),
                    statement.step,
                    statement.name,
                    state.statement_id,
                    state.state,
                    state.attempts,
                    time.monotonic() - started,
                )
            )
            if state.message and state.state in {"PENDING", "SUBMITTING"} and state.retry_in_s:
                self.log(f"{statement.name}: {state.message}", "warning")

        if statement.step in (Step.CREATE_TABLE, Step.UPSERT_ROWS):
            self.in_flight = (statement.name, None)
        try:
            result = await self.session.client.execute(
                statement.pieces(),
                parameters,
                on_state=on_state,
                read_only=statement.step is Step.VERIFY_ROWS,
            )
        except WarehouseError as error:
            if not error.may_have_run:
                self.in_flight = None
            raise
        self.in_flight = None
        return result

    def finish_step(
        self,
        step: Step,
        started: float,
        detail: str,
        results: Sequence[StatementResult] = (),
        rows_affected: int | None = None,
        state: StepState = StepState.SUCCEEDED,
    ) -> None:
        self.emit(
            StepFinished(
                self.clock.elapsed(),
                step,
                state,
                time.monotonic() - started,
                detail,
                tuple(result.statement_id for result in results),
                rows_affected,
                sum(result.attempts for result in results),
            )
        )

    def start_step(self, step: Step) -> float:
        self.current = step
        self.current_statement = None
        self.emit(StepStarted(self.clock.elapsed(), step))
        return time.monotonic()

    async def check_auth(self) -> None:
        started = self.start_step(Step.CHECK_AUTH)
        client = self.session.client
        user = await client.me()
        warehouse = await client.get_warehouse()
        if warehouse.state in {"STOPPED", "STARTING"}:
            self.log(
                f"warehouse {warehouse.name} is {warehouse.state}: statements wait in PENDING "
                "until it is running",
                "warning",
            )
        self.finish_step(
            Step.CHECK_AUTH,
            started,
            f"as {user.user_name} on {warehouse.name} ({warehouse.state})",
        )

    async def write_payload_files(self) -> None:
        started = self.start_step(Step.WRITE_PAYLOADS)
        written = write_payloads(
            self.plan,
            self.run_dir,
            warehouse_id=self.session.client.warehouse_id,
            approval=self.approval,
            wait_timeout_s=self.session.client.wait_timeout_s,
        )
        self.finish_step(Step.WRITE_PAYLOADS, started, f"{len(written)} files in {self.run_dir}")

    async def create_table(self) -> None:
        started = self.start_step(Step.CREATE_TABLE)
        results = [await self.statement(s) for s in self.plan.statements_for(Step.CREATE_TABLE)]
        self.finish_step(Step.CREATE_TABLE, started, self.plan.target_table, results)

    async def upsert_rows(self) -> None:
        started = self.start_step(Step.UPSERT_ROWS)
        self.fingerprints = asyncio.ensure_future(
            asyncio.to_thread(approved_fingerprints, self.plan.rows)
        )
        results = []
        affected = 0
        for statement in self.plan.statements_for(Step.UPSERT_ROWS):
            result = await self.statement(statement)
            results.append(result)
            affected += _affected(result) or 0
            self.upserted = True
        count = len(self.plan.rows)
        self.finish_step(
            Step.UPSERT_ROWS,
            started,
            f"{count} row(s) in {len(results)} MERGE statement(s)",
            results,
            affected,
        )

    async def verify_rows(self) -> Verification:
        """Compare each stored row's fingerprint with its approved row's; only when one
        disagrees (or a row is missing or extra), read back every column to say what differs."""
        started = self.start_step(Step.VERIFY_ROWS)
        plan = self.plan
        result = await self.statement(plan.verify_statement)
        results = [result]
        fingerprints = rows_as_dicts(result)
        expected = await self.fingerprints if self.fingerprints is not None else None
        verification = verify_fingerprints(plan.report_id, fingerprints, plan.rows, expected)
        if verification is None:
            self.log(
                f"{plan.verify_statement.name}: the stored rows differ from the approved rows; "
                f"reading back every column ({plan.verify_detail_statement.name}) to name the "
                "differences",
                "warning",
            )
            result = await self.statement(plan.verify_detail_statement)
            results.append(result)
            read_back = rows_as_dicts(result)
            verification = verify_in_detail(plan.report_id, fingerprints, read_back, plan.rows)
        record_verification(verification, self.home)
        state = StepState.SUCCEEDED if verification.ok else StepState.FAILED
        self.finish_step(
            Step.VERIFY_ROWS,
            started,
            verification.summary(),
            results,
            len(result.rows),
            state,
        )
        return verification

    def finish(
        self,
        outcome: Outcome,
        verification: Verification | None = None,
        failure: RunFailure | None = None,
    ) -> RunFinished:
        event = RunFinished(self.clock.elapsed(), outcome, self.run_dir, verification, failure)
        write_json_atomic(
            self.run_dir / "result.json",
            {
                "outcome": outcome.value,
                "upserted": self.upserted,
                "may_have_run": self.in_flight[0] if self.in_flight else None,
                "elapsed_s": round(event.elapsed_s, 3),
                "verification": verification.summary() if verification else None,
                "failure": failure,
                "http_requests": self.session.client.request_count,
            },
        )
        self.emit(event)
        return event

    def skip_rest(self, after: Step) -> None:
        for step in list(Step)[after.number :]:
            self.emit(StepFinished(self.clock.elapsed(), step, StepState.SKIPPED, 0.0, "not run"))


def check_approval(plan: Plan, approval: Approval) -> Plan:
    """Raise unless the plan is the approved one and passes the policy; return the plan to run.

    The digest and the verdict are computed again, on a private copy of the statements, never
    taken from what the plan cached earlier: statements changed after approval (even in place)
    are refused, and what was checked here is exactly what runs."""
    checked = Plan(plan.handoff, plan.rows, tuple(replace(s) for s in plan.statements))
    if approval.digest != checked.digest:
        raise ApprovalMismatch(approval.digest, checked.digest)
    if not checked.is_valid:
        raise PlanRefused("; ".join(str(issue) for issue in checked.issues()))
    return checked


async def run_plan(
    plan: Plan,
    approval: Approval,
    session: Session,
    *,
    on_event: EventSink | None = None,
    home: Path | None = None,
) -> RunFinished:
    """Execute an approved plan step by step (see module doc); never raises for warehouse
    errors, which end the run as FAILED. Cancelling the awaiting task cancels the in-flight
    statement server-side, records the run as CANCELED and re-raises."""
    plan = check_approval(plan, approval)
    run_dir = new_run_dir(plan.report_id, home)
    run = _Run(plan, approval, session, on_event or (lambda event: None), run_dir, home)
    try:
        save_approval(run_dir, approval, plan.handoff, session.connection.describe())
        run.emit(
            RunStarted(0.0, plan.report_id, plan.digest, session.connection.describe(), run_dir)
        )
        await run.check_auth()
        await run.write_payload_files()
        await run.create_table()
        await run.upsert_rows()
        verification = await run.verify_rows()
        outcome = Outcome.SUCCEEDED if verification.ok else Outcome.MISMATCH
        return run.finish(outcome, verification)
    except asyncio.CancelledError:
        run.emit(
            StepFinished(run.clock.elapsed(), run.current, StepState.CANCELED, 0.0, "canceled")
        )
        run.skip_rest(run.current)
        if run.in_flight is not None:
            run.log(_may_still_run(*run.in_flight, plan.report_id), "warning")
        run.finish(Outcome.CANCELED)
        raise
    except (WarehouseError, OSError) as error:
        failure = _failure(error, run.current, run.current_statement)
        run.emit(
            StepFinished(run.clock.elapsed(), run.current, StepState.FAILED, 0.0, failure.message)
        )
        run.skip_rest(run.current)
        return run.finish(Outcome.FAILED, failure=failure)
    finally:
        run.close()


def _may_still_run(statement: str, statement_id: str | None, report_id: str) -> str:
    """What a canceled run tells the user about the write it was waiting for."""
    if statement_id is None:
        what = (
            f"{statement} was sent, but the warehouse had not yet given it an id, so it could "
            "not be cancelled: it may still run"
        )
    else:
        what = (
            f"{statement} ({statement_id}) was asked to cancel, but it may still finish on the "
            "warehouse"
        )
    return (
        f"{what}; `impact-review verify {report_id}` shows what the table holds, and running "
        "the same approval again is safe (the MERGE is idempotent)"
    )


async def read_report_rows(report_id: str, table: str, session: Session) -> list[ReadBackRow]:
    """Every row of a report, every column, as read back from the table (the full read-back:
    without the approved rows there is no fingerprint to compare with)."""
    statement = select_report(table, report_id)
    _require_policy(statement.sql, table)
    result = await session.client.execute(statement.sql, read_only=True)
    return list(rows_as_dicts(result))


async def verify_report(
    report_id: str, table: str, session: Session, *, home: Path | None = None
) -> Verification:
    """Re-verify a report: against the local approval record when there is one, and always
    against each row's content hash. The verdict is recorded in the report's history."""
    rows = await read_report_rows(report_id, table, session)
    verification = verify(report_id, rows, approved_rows(report_id, home))
    record_verification(verification, home)
    return verification


@dataclass(frozen=True)
class ReportSummary:
    """One report in the impact table."""

    report_id: str
    rows: int
    generated_at: str | None
    reviewed_at: str | None
    reviewed_by: str | None
    last_verified: str | None
    last_verification_ok: bool | None


def reports_query(table: str) -> str:
    """Reports in the table with their row counts and review times, newest review first."""
    query = (
        exp.select(
            exp.column("report_id"),
            exp.alias_(exp.Count(this=exp.Star()), "row_count"),
            exp.alias_(exp.Min(this=exp.column("generated_at")), "generated_at"),
            exp.alias_(exp.Max(this=exp.column("reviewed_at")), "reviewed_at"),
            exp.alias_(exp.Max(this=exp.column("reviewed_by")), "reviewed_by"),
        )
        .from_(table_expression(table))
        .group_by(exp.column("report_id"))
        .order_by(exp.column("report_id"))
    )
    return query.sql(dialect=DIALECT, pretty=True)


def _require_policy(sql: str, table: str) -> None:
    issues = check_statement(sql, table)
    if issues:
        raise PlanRefused("; ".join(str(issue) for issue in issues))


async def list_reports(
    table: str, session: Session, *, home: Path | None = None
) -> list[ReportSummary]:
    """Reports in the table; an absent table means no reports yet."""
    sql = reports_query(table)
    _require_policy(sql, table)
    try:
        result = await session.client.execute(sql)
    except WarehouseError as error:
        if "TABLE_OR_VIEW_NOT_FOUND" in str(error) or error.sql_state == "42P01":
            return []
        raise
    summaries = []
    for row in rows_as_dicts(result):
        report_id = row["report_id"] or ""
        last = last_verification(report_id, home)
        summaries.append(
            ReportSummary(
                report_id=report_id,
                rows=int(row["row_count"] or 0),
                generated_at=row["generated_at"],
                reviewed_at=row["reviewed_at"],
                reviewed_by=row["reviewed_by"],
                last_verified=str(last["at"]) if last else None,
                last_verification_ok=bool(last["ok"]) if last else None,
            )
        )
    return summaries
