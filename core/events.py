"""Typed events a run emits as it goes: the CLI prints them, the TUI renders them, the run log
records them. Every event is immutable and carries the time since the run started."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from core.steps import Step
from core.verification import Verification


class StepState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    SKIPPED = "skipped"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    """Every step ran and every row verified."""
    MISMATCH = "mismatch"
    """Every statement ran but verification found missing, extra, changed or tampered rows."""
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class RunStarted:
    elapsed_s: float
    report_id: str
    digest: str
    warehouse: str
    """Where it runs, without secrets (e.g. 'embedded warehouse (DuckDB)')."""
    run_dir: Path


@dataclass(frozen=True)
class StepStarted:
    elapsed_s: float
    step: Step


@dataclass(frozen=True)
class StatementStateChanged:
    """A statement moved (PENDING → RUNNING → SUCCEEDED …) or was retried."""

    elapsed_s: float
    step: Step
    statement: str
    """The plan's statement name, e.g. 'upsert-rows-2-of-3'."""
    statement_id: str | None
    state: str
    attempts: int
    statement_elapsed_s: float


@dataclass(frozen=True)
class StepFinished:
    elapsed_s: float
    step: Step
    state: StepState
    step_elapsed_s: float
    detail: str
    """One line for the status pane, e.g. 'as oncall@example.com on Embedded (RUNNING)'."""
    statement_ids: tuple[str, ...] = ()
    rows_affected: int | None = None
    attempts: int = 0


@dataclass(frozen=True)
class RunLog:
    """A line for the run's event log that is not a state change."""

    elapsed_s: float
    message: str
    level: str = "info"


@dataclass(frozen=True)
class RunFailure:
    """What went wrong, with what the warehouse said (never a secret)."""

    message: str
    step: Step | None
    statement: str | None = None
    statement_id: str | None = None
    sql_state: str | None = None
    error_code: str | None = None
    http_status: int | None = None


@dataclass(frozen=True)
class RunFinished:
    elapsed_s: float
    outcome: Outcome
    run_dir: Path
    verification: Verification | None = None
    failure: RunFailure | None = None


RunEvent = RunStarted | StepStarted | StatementStateChanged | StepFinished | RunLog | RunFinished
