"""The baselines: the obvious way to do each job, measured in the same run as our way.

- Render + validate: every row rendered as a whole sqlglot `Tuple` (no cell cache), every
  statement parsed whole by sqlglot (`check_whole_statement`). This is how the SQL was produced
  and checked before the incremental work; it must produce byte-identical statements.
- Apply: one `INSERT` statement per row through the same statement client and warehouse.
"""

from __future__ import annotations

import hashlib
import json

from sqlglot import exp

from core.handoff import Handoff
from core.impact_table import CONTENT_COLUMNS, REVIEW_COLUMNS, ImpactRow, rows_for
from core.sqlgen import statements as sqlgen
from core.sqlgen import verify_sql
from core.sqlgen.literals import literal
from core.sqlgen.policy import PolicyIssue, check_whole_statement
from core.sqlgen.statements import (
    REVIEW_PARAMETERS,
    SOURCE_TYPES,
    Statement,
    _merge_template,
)
from core.steps import Step

SOURCE_COLUMNS = (*CONTENT_COLUMNS, "content_hash")


def tuple_sql(row: ImpactRow) -> str:
    """One row rendered as one sqlglot Tuple expression (no caching at all)."""
    values = (*row.values, row.content_hash)
    cells = [
        literal(value, column_type) for value, column_type in zip(values, SOURCE_TYPES, strict=True)
    ]
    return exp.Tuple(expressions=cells).sql(dialect=sqlgen.DIALECT)


def render_statements(handoff: Handoff) -> list[Statement]:
    """The plan's statements, rendered row by row the uncached way (same chunking rules)."""
    table = handoff.report.target_table
    before, after, separator = _merge_template(table)
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for row in rows_for(handoff):
        text = tuple_sql(row)
        text_bytes = len(text.encode("utf-8"))
        if current and (
            size + text_bytes > sqlgen.MERGE_BYTE_BUDGET or len(current) >= sqlgen.MERGE_ROW_LIMIT
        ):
            chunks.append(current)
            current, size = [], 0
        current.append(text)
        size += text_bytes
    if current:
        chunks.append(current)
    merges = [
        Statement(
            Step.UPSERT_ROWS,
            "upsert-rows" if len(chunks) == 1 else f"upsert-rows-{number}-of-{len(chunks)}",
            before + separator.join(chunk) + after,
            REVIEW_PARAMETERS,
            row_count=len(chunk),
        )
        for number, chunk in enumerate(chunks, start=1)
    ]
    return [
        sqlgen.create_table.__wrapped__(table),
        *merges,
        verify_sql.select_fingerprints.__wrapped__(table, handoff.report.id),
        sqlgen.select_report.__wrapped__(table, handoff.report.id),
    ]


def validate_statements(statements: list[Statement], table: str) -> list[PolicyIssue]:
    """Every statement parsed whole by sqlglot and held to the policy."""
    issues: list[PolicyIssue] = []
    for statement in statements:
        issues += check_whole_statement(statement.sql, table)
    return issues


def digest(statements: list[Statement]) -> str:
    """The plan digest by its plain definition: SHA-256 of the statements' JSON, in one piece."""
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


def insert_sql(table: str, row: ImpactRow) -> str:
    """`INSERT INTO table (columns) VALUES (row, :reviewed_by, :reviewed_at)` for one row."""
    columns = ", ".join((*SOURCE_COLUMNS, *REVIEW_COLUMNS))
    values = tuple_sql(row)[:-1] + ", :reviewed_by, :reviewed_at)"
    return f"INSERT INTO {table} ({columns}) VALUES {values}"
