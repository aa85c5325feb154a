"""The write plan: what a reviewer approves and what then runs, byte for byte.

A Plan is derived from a reviewed handoff only. Its digest is the SHA-256 of the statements (SQL
text and parameter slots); approving a plan means approving that digest, and execution refuses a
plan whose digest differs from the approved one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property

from core.handoff import Handoff, RiskLevel, Service
from core.impact_table import ImpactRow, rows_for
from core.sqlgen.policy import PolicyIssue, check_statement, check_target
from core.sqlgen.statements import Statement, create_table, select_report, upserts
from core.steps import Step


@dataclass(frozen=True)
class StatementIssue:
    """A policy problem in one statement of the plan."""

    statement: str
    issue: PolicyIssue

    def __str__(self) -> str:
        return f"{self.statement}: {self.issue}"


@dataclass(frozen=True)
class Plan:
    """Everything a write will do, derived from one reviewed handoff."""

    handoff: Handoff
    rows: tuple[ImpactRow, ...]
    statements: tuple[Statement, ...]
    _validated: dict[str, list[StatementIssue]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def report_id(self) -> str:
        return self.handoff.report.id

    @property
    def target_table(self) -> str:
        return self.handoff.report.target_table

    @property
    def written_services(self) -> list[Service]:
        return sorted((s for s in self.handoff.services if s.written), key=lambda s: s.name)

    @property
    def skipped_services(self) -> list[Service]:
        return [s for s in self.handoff.services if not s.written]

    @property
    def highest_risk(self) -> RiskLevel | None:
        written = self.written_services
        return max((s.risk_level for s in written), key=lambda r: r.rank) if written else None

    @cached_property
    def digest(self) -> str:
        """SHA-256 over every statement's name, SQL and parameter slots."""
        return statements_digest(self.statements)

    @property
    def short_digest(self) -> str:
        return self.digest[:12]

    def statements_for(self, step: Step) -> list[Statement]:
        return [statement for statement in self.statements if statement.step is step]

    @property
    def verify_statement(self) -> Statement:
        return self.statements_for(Step.VERIFY_ROWS)[0]

    def issues(self) -> list[StatementIssue]:
        """Every policy problem in the plan; empty when it may run. Computed once."""
        if "all" not in self._validated:
            found = [StatementIssue("plan", issue) for issue in check_target(self.target_table)]
            if not self.rows:
                found.append(
                    StatementIssue(
                        "plan", PolicyIssue("nothing to write: every service is skipped")
                    )
                )
            for statement in self.statements:
                found.extend(
                    StatementIssue(statement.name, issue)
                    for issue in check_statement(statement.sql, self.target_table)
                )
            self._validated["all"] = found
        return self._validated["all"]

    @property
    def is_valid(self) -> bool:
        return not self.issues()


def statements_digest(statements: tuple[Statement, ...] | list[Statement]) -> str:
    """The digest a reviewer approves: stable across runs and machines."""
    canonical = [
        {
            "name": statement.name,
            "sql": statement.sql,
            "parameters": [[slot.name, slot.type] for slot in statement.parameters],
        }
        for statement in statements
    ]
    encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def build_plan(handoff: Handoff) -> Plan:
    """The plan for a reviewed handoff (apply a Review first to include edits)."""
    table = handoff.report.target_table
    rows = rows_for(handoff)
    statements = (
        create_table(table),
        *upserts(table, rows),
        select_report(table, handoff.report.id),
    )
    return Plan(handoff, rows, statements)
