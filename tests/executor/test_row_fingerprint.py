"""A stored row's fingerprint, computed by the warehouse, is the one `core.row_fingerprint`
computes for the approved row: for hostile values of every kind, and after a change to any one
column, which always changes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlglot import exp

from core import row_fingerprint as row_fingerprint_module
from core.executor import rows_as_dicts
from core.impact_table import CONTENT_COLUMNS, CellValue, ColumnType, ImpactRow
from core.row_fingerprint import (
    FINGERPRINT_COLUMNS,
    FINGERPRINT_TYPES,
    approved_fingerprints,
    fingerprint_of,
)
from core.row_fingerprint import row_fingerprint as python_fingerprint
from core.sqlgen.literals import literal
from core.sqlgen.statements import DIALECT, create_table, select_report, table_expression, upserts
from core.sqlgen.verify_sql import fingerprint_expression, select_fingerprints
from core.verification import (
    FINGERPRINT_COLUMN,
    RowStatus,
    verify,
    verify_fingerprints,
    verify_in_detail,
)
from core.warehouse.client import Parameter
from core.warehouse.session import Session
from tests.executor.conftest import OpenSession

TABLE = "workspace.default.fingerprints"
REPORT = "report-ünïcode-'quoted'"
HOSTILE = "emoji 😀🏳️‍🌈, quote ' and \" and `, backslash \\ and \\', newline\nand\r\n tab\t end\\"


def row(**values: CellValue) -> ImpactRow:
    """A content row: every column hostile unless given (timestamps in whole milliseconds, as
    `core.impact_table.to_milliseconds` writes them)."""
    base: dict[str, CellValue] = {name: f"{name}: {HOSTILE}" for name in CONTENT_COLUMNS}
    base["report_id"] = REPORT
    base["generated_at"] = datetime(2026, 5, 12, 16, 42, 0, 123000, tzinfo=UTC)
    base["active_monitors"] = ("", HOSTILE, "null", ",", "a,b")
    base.update(values)
    return ImpactRow(tuple(base[name] for name in CONTENT_COLUMNS))


NULLABLE = [name for name in CONTENT_COLUMNS if name not in ("report_id", "service_name")]
ROWS = [
    row(service_name="hostile"),
    row(service_name="nulls", **dict.fromkeys(NULLABLE)),
    row(
        service_name="",
        **{name: "" for name in NULLABLE if name not in ("generated_at", "active_monitors")},
        generated_at=datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        active_monitors=(),
    ),
    row(
        service_name="null",
        owner_team="null",
        generated_at=datetime(1900, 1, 1, tzinfo=UTC),
        active_monitors=("",),
    ),
    row(service_name="😀 'one'\n", active_monitors=("null",), evidence=","),
]


def approve_at() -> list[Parameter]:
    return [
        Parameter("reviewed_by", "oncall@example.com", "STRING"),
        Parameter("reviewed_at", "2026-11-26 12:00:00+00:00", "TIMESTAMP"),
    ]


async def write(session: Session, rows: list[ImpactRow]) -> None:
    await session.client.execute(create_table(TABLE).sql)
    for statement in upserts(TABLE, rows):
        await session.client.execute(statement.sql, approve_at())


async def stored_fingerprints(session: Session) -> list[str | None]:
    """The fingerprint of every row of the table, whatever its report."""
    query = exp.select(fingerprint_expression()).from_(table_expression(TABLE))
    result = await session.client.execute(query.sql(dialect=DIALECT))
    return [cells[0] for cells in result.rows]


async def test_the_warehouse_and_python_agree_on_hostile_rows(open_local: OpenSession) -> None:
    async with open_local() as session:
        await write(session, ROWS)
        fingerprints = await session.client.execute(select_fingerprints(TABLE, REPORT).sql)
        detail = await session.client.execute(select_report(TABLE, REPORT).sql)
    read_back = rows_as_dicts(fingerprints)
    expected = {r.service_name: python_fingerprint(r) for r in ROWS}
    assert {r["service_name"]: r[FINGERPRINT_COLUMN] for r in read_back} == expected
    assert len(set(expected.values())) == len(ROWS)
    by_fingerprint = verify_fingerprints(REPORT, read_back, ROWS)
    assert by_fingerprint is not None and by_fingerprint.ok
    assert by_fingerprint == verify(REPORT, rows_as_dicts(detail), ROWS)
    precomputed = approved_fingerprints(ROWS)
    assert precomputed == expected
    assert verify_fingerprints(REPORT, read_back, ROWS, precomputed) == by_fingerprint


def changed(value: CellValue, column_type: ColumnType) -> list[CellValue]:
    """Values that differ from `value` as little as possible (and NULL)."""
    if column_type is ColumnType.TIMESTAMP:
        assert value is None or isinstance(value, datetime)
        moved = (value or datetime(1970, 1, 1, tzinfo=UTC)) + timedelta(microseconds=1)
        return [moved, None]
    if column_type is ColumnType.STRING_ARRAY:
        assert value is None or isinstance(value, tuple)
        items = value or ()
        return [(*items, ""), items[1:], tuple(reversed(items)), None]
    assert value is None or isinstance(value, str)
    return [(value or "") + " ", (value or "")[:-1], None]


@pytest.mark.parametrize(
    ("column", "column_type"), list(zip(FINGERPRINT_COLUMNS, FINGERPRINT_TYPES, strict=True))
)
async def test_a_change_in_any_one_column_changes_the_fingerprint(
    open_local: OpenSession, column: str, column_type: ColumnType
) -> None:
    original = ROWS[0]
    values = [*original.values, original.content_hash]
    position = FINGERPRINT_COLUMNS.index(column)
    candidates = [
        value
        for value in changed(values[position], column_type)
        if value != values[position] and (value is not None or column in NULLABLE_OR_HASH)
    ]
    assert candidates
    async with open_local() as session:
        await write(session, [original])
        assert await stored_fingerprints(session) == [fingerprint_of(values)]
        for value in candidates:
            cell = literal(value, column_type).sql(dialect=DIALECT)
            await session.client.execute(f"UPDATE {TABLE} SET {column} = {cell}")
            now = [*values]
            now[position] = value
            (stored,) = await stored_fingerprints(session)
            assert stored == fingerprint_of(now) != fingerprint_of(values), (column, value)
            fingerprints = await session.client.execute(select_fingerprints(TABLE, str(now[0])).sql)
            read_back = rows_as_dicts(fingerprints)
            assert verify_fingerprints(str(now[0]), read_back, [original]) is None
            precomputed = approved_fingerprints([original])
            assert verify_fingerprints(str(now[0]), read_back, [original], precomputed) is None
            await session.client.execute(f"DELETE FROM {TABLE}")
            await write(session, [original])


NULLABLE_OR_HASH = {*NULLABLE, "content_hash"}


async def test_a_difference_finer_than_the_read_back_shows_is_still_a_change(
    open_local: OpenSession,
) -> None:
    original = ROWS[0]
    moment = original.get("generated_at")
    assert isinstance(moment, datetime)
    moved = literal(moment + timedelta(microseconds=1), ColumnType.TIMESTAMP).sql(dialect=DIALECT)
    async with open_local() as session:
        await write(session, [original])
        await session.client.execute(f"UPDATE {TABLE} SET generated_at = {moved}")
        fingerprints = rows_as_dicts(
            await session.client.execute(select_fingerprints(TABLE, REPORT).sql)
        )
        read_back = rows_as_dicts(await session.client.execute(select_report(TABLE, REPORT).sql))
    assert verify_fingerprints(REPORT, fingerprints, [original]) is None
    # The embedded warehouse shows whole milliseconds, so every column reads back as approved.
    assert verify(REPORT, read_back, [original]).ok
    verification = verify_in_detail(REPORT, fingerprints, read_back, [original])
    (check,) = verification.checks
    assert check.status is RowStatus.CHANGED and not verification.ok
    assert [(d.column, d.expected, d.actual) for d in check.differences] == [
        (FINGERPRINT_COLUMN, python_fingerprint(original), fingerprints[0][FINGERPRINT_COLUMN])
    ]


def test_approved_fingerprints_forget_their_tokens_and_agree_with_each_row() -> None:
    """A run asks for the approved fingerprints once: the tokens remembered on the way are
    let go (they are megabytes at scale), and asking again gives the same fingerprints."""
    first = approved_fingerprints(ROWS)
    assert all(not table for table in row_fingerprint_module._TABLES.values())
    assert first == {r.service_name: python_fingerprint(r) for r in ROWS}
    assert approved_fingerprints(ROWS) == first
