"""The write plan: what a reviewer approves and what then runs, byte for byte.

A Plan is derived from a reviewed handoff only. Its digest is the SHA-256 of the statements (SQL
text and parameter slots); approving a plan means approving that digest, and execution refuses a
plan whose digest differs from the approved one.

Building, validating and digesting a plan again after a one-service edit re-does only what the
edit changed: rows of unchanged services, MERGE chunks whose rows are unchanged, and the policy
verdicts and JSON encodings of unchanged statements are taken from the previous call. Each of
these remembers only the previous call (never a growing history), and every shortcut returns
exactly what the direct computation would.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from json.encoder import encode_basestring
from typing import TYPE_CHECKING

from core import impact_table, row_fingerprint
from core.handoff import Handoff, Report, RiskLevel, Service
from core.impact_table import ImpactRow, row_for
from core.steps import VERIFY_DETAIL_STATEMENT, VERIFY_STATEMENT, Step

if TYPE_CHECKING:  # core.sqlgen loads sqlglot: imported where a plan is built or checked, so
    # the review app shows its tree before sqlglot is loaded
    from core.sqlgen.policy import PolicyIssue
    from core.sqlgen.statements import MergeText, ParameterSlot, Statement


@dataclass(frozen=True)
class StatementIssue:
    """A policy problem in one statement of the plan."""

    statement: str
    issue: PolicyIssue

    def __str__(self) -> str:
        return f"{self.statement}: {self.issue}"


@dataclass(frozen=True, repr=False)
class Plan:
    """Everything a write will do, derived from one reviewed handoff."""

    handoff: Handoff
    rows: tuple[ImpactRow, ...]
    statements: tuple[Statement, ...]
    _validated: dict[str, list[StatementIssue]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __repr__(self) -> str:
        # Short on purpose: the default would print the whole handoff and every statement
        # (megabytes at 10,000 services), and Textual's @work builds a worker's description
        # from repr() of its arguments on every call.
        return (
            f"Plan(report_id={self.report_id!r}, target_table={self.target_table!r}, "
            f"rows={len(self.rows)}, statements={len(self.statements)})"
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
        """The verification query every run sends: each stored row's fingerprint."""
        return self._named(VERIFY_STATEMENT)

    @property
    def verify_detail_statement(self) -> Statement:
        """The full read-back, sent only when a fingerprint disagrees with its approved row."""
        return self._named(VERIFY_DETAIL_STATEMENT)

    def _named(self, name: str) -> Statement:
        return next(statement for statement in self.statements if statement.name == name)

    def issues(self) -> list[StatementIssue]:
        """Every policy problem in the plan; empty when it may run. Computed once."""
        if "all" not in self._validated:
            from core.sqlgen.policy import PolicyIssue, check_target

            found = [StatementIssue("plan", issue) for issue in check_target(self.target_table)]
            if not self.rows:
                found.append(
                    StatementIssue(
                        "plan", PolicyIssue("nothing to write: every service is skipped")
                    )
                )
            verdicts = _verdicts(self.statements, self.target_table)
            for statement, issues in zip(self.statements, verdicts, strict=True):
                found.extend(StatementIssue(statement.name, issue) for issue in issues)
            self._validated["all"] = found
        return self._validated["all"]

    @property
    def is_valid(self) -> bool:
        return not self.issues()


def statements_digest(statements: tuple[Statement, ...] | list[Statement]) -> str:
    """The digest a reviewer approves: stable across runs and machines.

    It is the SHA-256 of the UTF-8 JSON `[{"name": ..., "sql": ..., "parameters": [[name, type],
    ...]}, ...]` written with `ensure_ascii=False` and separators `,` `:`. The JSON is fed to the
    hash piece by piece: a JSON string's escaping is character by character, so the encodings of
    the pieces of a text join to exactly the encoding of the text. A MERGE built by `upserts` is
    fed as its template and the encoding of each row; other statements are encoded whole, and
    reused by identity from the previous call.

    The hash state after each statement is remembered: the statements the previous call began
    with, unchanged (the same texts, or MERGEs of the same rows), are not fed again. So after an
    edit only the MERGE it touched and those after it are, and the encodings of the rows of the
    first MERGEs (`UNCACHED_DIGEST_ROWS`) are made again when needed rather than held."""
    global _previous_sql_json, _previous_states
    fed = [(statement, *_anchor(statement)) for statement in statements]
    resumed = 0
    for state, (statement, anchor, _built) in zip(_previous_states, fed, strict=False):
        if not _unchanged(state, statement, anchor):
            break
        resumed += 1
    states = _previous_states[:resumed]
    hasher = states[-1].hasher.copy() if states else hashlib.sha256(b"[")
    rows_before = sum(len(built.rows) for _, _, built in fed[:resumed] if built is not None)
    remembered: dict[int, tuple[str, bytes]] = {}
    for index, (statement, anchor, built) in enumerate(fed[resumed:], start=resumed):
        hasher.update(f'{"," if index else ""}{{"name":{_json(statement.name)},"sql":"'.encode())
        if built is not None:
            hasher.update(_json_text(built.before))
            joint = _json_text(built.separator)
            for number, row in enumerate(built.rows):
                if number:
                    hasher.update(joint)
                if rows_before + number < UNCACHED_DIGEST_ROWS:
                    hasher.update(_json_text_uncached(row))
                else:
                    hasher.update(_json_text(row))
            hasher.update(_json_text(built.after))
            rows_before += len(built.rows)
        else:
            sql = statement.sql
            known = _previous_sql_json.get(id(sql))
            if known is not None and known[0] is sql:
                encoded = known[1]
            else:
                encoded = _json_text_uncached(sql)
            remembered[id(sql)] = (sql, encoded)
            hasher.update(encoded)
        parameters = [[slot.name, slot.type] for slot in statement.parameters]
        hasher.update(f'","parameters":{_json(parameters)}}}'.encode())
        states.append(_DigestState(statement.name, statement.parameters, anchor, hasher.copy()))
    hasher.update(b"]")
    _previous_sql_json = remembered
    _previous_states = states
    return hasher.hexdigest()


def _anchor(statement: Statement) -> tuple[object, MergeText | None]:
    """What identifies the statement's SQL for `_DigestState.anchor`, and its pieces when it is
    a MERGE built by `upserts`."""
    merge = statement.merge
    if merge is not None:
        return (merge.table, merge.rows, merge.before, merge.separator, merge.after), merge
    return statement.sql, None


UNCACHED_DIGEST_ROWS = 5_000
"""The first MERGE rows of a plan whose JSON encodings are made on each digest that needs them
rather than cached (~7 MB less held at 10,000 services): an edit re-feeds only the MERGE it
touched and those after it, so at most this many rows are encoded again (~40 ms)."""


@dataclass(frozen=True)
class _DigestState:
    """What one statement was, and the hash state after feeding it."""

    name: str
    parameters: tuple[ParameterSlot, ...]
    anchor: object
    """The statement's SQL text, or for a MERGE built by `upserts` its (table, row texts,
    template pieces): the rows tuple is the very object `upserts` hands back while the rows are
    unchanged."""
    hasher: hashlib._Hash


def _unchanged(
    state: _DigestState,
    statement: Statement,
    anchor: object,
) -> bool:
    """Whether `statement` feeds the hash exactly what the remembered one did."""
    if state.name != statement.name or state.parameters != statement.parameters:
        return False
    return _same_anchor(state.anchor, anchor)


def _same_anchor(remembered: object, anchor: object) -> bool:
    """Whether two `_anchor`s stand for the same text: the very same SQL object, or a MERGE of
    the very same rows tuple (tuples are immutable) in an equal template. Comparing the rows
    object, not the `MergeText` holding it, means a MergeText altered in place is not taken for
    the one it was."""
    if isinstance(remembered, tuple) and isinstance(anchor, tuple):
        (table, rows, *template), (other_table, other_rows, *other_template) = remembered, anchor
        return rows is other_rows and table == other_table and template == other_template
    return remembered is anchor


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_text_uncached(text: str) -> bytes:
    """A text's JSON string encoding (`ensure_ascii=False`), without the quotes, as UTF-8."""
    return encode_basestring(text)[1:-1].encode("utf-8")


@lru_cache(maxsize=65_536)  # core.sqlgen.statements.ROW_CACHE_SIZE
def _json_text(text: str) -> bytes:
    """`_json_text_uncached`, cached: rows repeat."""
    return _json_text_uncached(text)


_previous_states: list[_DigestState] = []
"""The statements of the previous digest, each with the hash state after it."""
_previous_sql_json: dict[int, tuple[str, bytes]] = {}
"""id(SQL) -> (that SQL, its JSON encoding), from the previous digest (statements not built by
`upserts`); holding the SQL keeps the id from being reused."""
_previous_verdicts: dict[int, tuple[object, str, list[PolicyIssue]]] = {}
"""id(statement source) -> (its `_anchor`, target table, policy issues), from the previous
validation (a source is a SQL text or a MERGE's pieces, `Statement.source`)."""
_previous_rows: tuple[Report | None, dict[int, Service], dict[int, ImpactRow]] = (None, {}, {})
"""The previous build's report, and its services and their rows by id(service): holding the
services keeps their ids from being reused while they are remembered."""


def _verdicts(statements: tuple[Statement, ...], target_table: str) -> list[list[PolicyIssue]]:
    """`check_statement` of each statement, reusing the previous plan's verdict on the very same
    SQL object or MERGE rows (`_same_anchor`; the verdict depends on nothing else)."""
    from core.sqlgen.policy import check_statement

    global _previous_verdicts
    verdicts: dict[int, tuple[object, str, list[PolicyIssue]]] = {}
    result = []
    for statement in statements:
        source = statement.source
        anchor = _anchor(statement)[0]
        previous = verdicts.get(id(source)) or _previous_verdicts.get(id(source))
        if (
            previous is not None
            and _same_anchor(previous[0], anchor)
            and previous[1] == target_table
        ):
            issues = previous[2]
        else:
            issues = check_statement(source, target_table)
        verdicts[id(source)] = (anchor, target_table, issues)
        result.append(list(issues))
    _previous_verdicts = verdicts
    return result


def _rows(handoff: Handoff) -> tuple[ImpactRow, ...]:
    """`core.impact_table.rows_for`, reusing the row of every service unchanged since the previous
    call (same report and service objects): models are frozen, so they give the same row."""
    global _previous_rows
    report = handoff.report
    previous_report, previous_services, previous_rows = _previous_rows
    if report is not previous_report:
        previous_services, previous_rows = {}, {}
    services: dict[int, Service] = {}
    rows_by_id: dict[int, ImpactRow] = {}
    rows = []
    for service in sorted((s for s in handoff.services if s.written), key=lambda s: s.name):
        key = id(service)
        row = previous_rows.get(key)
        if row is None or previous_services.get(key) is not service:
            row = row_for(handoff, service)
        services[key] = service
        rows_by_id[key] = row
        rows.append(row)
    _previous_rows = (report, services, rows_by_id)
    return tuple(rows)


def build_plan(handoff: Handoff) -> Plan:
    """The plan for a reviewed handoff (apply a Review first to include edits)."""
    from core.sqlgen.statements import create_table, select_report, upserts
    from core.sqlgen.verify_sql import select_fingerprints

    table = handoff.report.target_table
    rows = _rows(handoff)
    statements = (
        create_table(table),
        *upserts(table, rows),
        select_fingerprints(table, handoff.report.id),
        select_report(table, handoff.report.id),
    )
    return Plan(handoff, rows, statements)


def clear_caches() -> None:
    """Forget everything remembered between builds (benchmarks use it to measure cold work)."""
    from core.sqlgen import policy, verify_sql

    global _previous_sql_json, _previous_verdicts, _previous_rows, _previous_states
    _previous_sql_json, _previous_verdicts, _previous_rows = {}, {}, (None, {}, {})
    _previous_states = []
    _json_text.cache_clear()
    policy.clear_caches()
    impact_table.clear_caches()
    verify_sql.clear_caches()
    row_fingerprint.clear_caches()
