"""The content hash is the SHA-256 of the canonical JSON defined by `canonical_json`, however it
is computed: row by row, for hostile text, timestamps, arrays and NULLs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from core.impact_table import (
    COLUMNS,
    CONTENT_COLUMNS,
    CellValue,
    ColumnType,
    ImpactRow,
    canonical_json,
    content_hash,
    content_hashes,
    rows_for,
)
from core.loading import load_handoff
from tests.conftest import DEMO

TYPES = {column.name: column.type for column in COLUMNS}
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30) | st.sampled_from(
    ["", "\\", '"', "\n", "\x00", "\u2028", "😀", "é", "</script>", "\x7f", "%", "%s", "%%"]
)
TIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
) | st.datetimes(timezones=st.just(timezone(timedelta(hours=-7))))


def _value(column: str) -> st.SearchStrategy[CellValue]:
    kind = TYPES[column]
    if kind is ColumnType.TIMESTAMP:
        return st.none() | TIMES
    if kind is ColumnType.STRING_ARRAY:
        return st.lists(TEXT, max_size=4).map(tuple)
    return st.none() | TEXT


ROW_VALUES = st.tuples(*(_value(column) for column in CONTENT_COLUMNS))


@given(ROW_VALUES)
def test_the_hash_is_the_sha256_of_the_canonical_json(values: tuple[CellValue, ...]) -> None:
    content = dict(zip(CONTENT_COLUMNS, values, strict=True))
    expected = hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
    assert content_hash(content) == expected
    assert ImpactRow(values).content_hash == expected


def test_a_known_row_keeps_its_hash() -> None:
    """Saved tables hold these hashes: the canonical form must never drift."""
    row = rows_for(load_handoff(DEMO))[0]
    content = {name: row.get(name) for name in CONTENT_COLUMNS}
    assert canonical_json(content).startswith('{"active_monitors":[')
    assert row.content_hash == hashlib.sha256(canonical_json(content).encode()).hexdigest()


@given(ROW_VALUES, st.lists(ROW_VALUES, min_size=1, max_size=6))
def test_rows_hashed_together_get_each_its_own_hash(
    shared: tuple[CellValue, ...], rows: list[tuple[CellValue, ...]]
) -> None:
    """Rows of one report (the report's columns shared, `%` and all) and of other reports,
    hashed in one call, get the hash of their own canonical JSON."""
    report = CONTENT_COLUMNS.index("service_name")  # the report's columns come first
    values = [shared[:report] + row[report:] for row in rows] + rows
    expected = [
        hashlib.sha256(
            canonical_json(dict(zip(CONTENT_COLUMNS, row, strict=True))).encode()
        ).hexdigest()
        for row in values
    ]
    impact_rows = [ImpactRow(row) for row in values]
    assert content_hashes(impact_rows) == expected
    assert [row.content_hash for row in impact_rows] == expected


def test_a_large_batch_forgets_its_encodings_and_hashes_as_row_by_row() -> None:
    from core import impact_table

    demo = rows_for(load_handoff(DEMO))[0].values
    report = CONTENT_COLUMNS.index("service_name")
    batch = [
        ImpactRow(demo[:report] + (f"svc-{n} ' \\ 😀 %s",) + demo[report + 1 :])
        for n in range(impact_table._LARGE_BATCH)
    ]
    hashes = content_hashes(batch)
    assert not impact_table._JSON_VALUES
    expected = [
        hashlib.sha256(
            canonical_json(dict(zip(CONTENT_COLUMNS, row.values, strict=True))).encode()
        ).hexdigest()
        for row in batch[:50]
    ]
    assert hashes[:50] == expected
    assert len(set(hashes)) == len(batch)
