"""Adversarial cases for the piece-by-piece MERGE check of `core.sqlgen.policy`: whatever path
it takes, its verdict is the whole parse's, and a MERGE it passes holds exactly the rendered rows
as literals."""

from __future__ import annotations

import dataclasses
import gc
from datetime import UTC, datetime

import pytest
import sqlglot
from sqlglot import exp

from core.impact_table import COLUMNS, CONTENT_COLUMNS, ColumnType, ImpactRow
from core.sqlgen import policy, statements
from core.sqlgen.policy import check_statement, check_whole_statement, clear_caches

TABLE = "workspace.default.impact"
OTHER = "workspace.default.canary"
_TYPES = {column.name: column.type for column in COLUMNS}
HOSTILE = [
    "plain",
    "it's",
    "a\\",
    "\\",
    "a\\ b",
    "\\' ",
    "\\\\'",
    "x\\u0041 \\0 \\012 \\% \\_",
    "'), (SELECT secret FROM workspace.default.canary) --",
    "',\n    (NULL) /*",
    ",\n    ",
    "a\nb\r\tc",
    "; DROP TABLE workspace.default.canary; --",
    "*/ -- /*",
    '"double" `tick`',
    "\u00e9\U0001f680 \u2028 \ufeff",
    "  two  spaces  ",
    "",
]


def _row(number: int, text: str) -> ImpactRow:
    values: list[object] = []
    for name in CONTENT_COLUMNS:
        kind = _TYPES[name]
        if name == "service_name":
            values.append(f"svc-{number}-{text}")
        elif kind is ColumnType.STRING:
            values.append(text)
        elif kind is ColumnType.TIMESTAMP:
            values.append(datetime(2026, 5, 12, 16, 42, number % 60, tzinfo=UTC))
        else:
            values.append((text, text + "!") if number % 2 else ())
    return ImpactRow(tuple(values))  # type: ignore[arg-type]


def _copy(text: str) -> str:
    """An equal string that is a different object (so no identity shortcut applies)."""
    copied = "".join([text[:1], text[1:]])
    assert copied == text and copied is not text
    return copied


def _literal_rows(sql: str) -> list[list[exp.Expr]]:
    (tree,) = sqlglot.parse(sql, read="databricks")
    assert tree is not None
    (values,) = list(tree.find_all(exp.Values))
    return [list(row.expressions) for row in values.expressions]


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_caches()


def test_hostile_values_pass_on_every_path_and_mean_exactly_the_rendered_rows() -> None:
    rows = [_row(number, text) for number, text in enumerate(HOSTILE)]
    (statement,) = statements.upserts(TABLE, rows)
    for sql in (statement.sql, _copy(statement.sql)):
        assert policy._check_merge_by_pieces(sql, TABLE) == []  # not left to the whole parse
        assert check_statement(sql, TABLE) == check_whole_statement(sql, TABLE) == []
    parsed = _literal_rows(statement.sql)
    assert len(parsed) == len(rows)
    for cells, row in zip(parsed, rows, strict=True):
        assert len(cells) == len(CONTENT_COLUMNS) + 1
        by_name = dict(zip((*CONTENT_COLUMNS, "content_hash"), cells, strict=True))
        assert by_name["service_name"] == exp.Literal.string(row.service_name)
        assert by_name["content_hash"] == exp.Literal.string(row.content_hash)


@pytest.mark.parametrize(
    "cell",
    [
        f"(SELECT secret FROM {OTHER})",
        "upper('x')",
        "'a' 'b'",
        "'a' /* c */",
        f"'x'), ((SELECT 1 FROM {OTHER})",
    ],
)
def test_a_built_merge_with_one_cell_swapped_gets_the_whole_parse_verdict(cell: str) -> None:
    rows = [_row(number, text) for number, text in enumerate(HOSTILE[:4])]
    (statement,) = statements.upserts(TABLE, rows)
    hash_cell = statements.cell_sql(rows[1].content_hash, ColumnType.STRING)
    assert statement.sql.count(hash_cell) == 1
    tampered = statement.sql.replace(hash_cell, cell)
    assert check_statement(tampered, TABLE) == check_whole_statement(tampered, TABLE)
    if OTHER in cell:
        assert check_statement(tampered, TABLE)


def test_rendered_rows_joined_another_way_get_the_whole_parse_verdict() -> None:
    rows = [_row(number, text) for number, text in enumerate(HOSTILE[:3])]
    (statement,) = statements.upserts(TABLE, rows)
    before, after, separator = statements._merge_template(TABLE)
    texts = [statements.row_sql(row) for row in rows]
    for joined in (
        before + ", ".join(texts) + after,
        before + separator.join(texts) + separator + after,
        before + separator.join(texts) + f"{separator}(SELECT * FROM {OTHER})" + after,
        before + separator.join(texts[:1]) + " UNION SELECT * FROM " + OTHER + after,
        before.replace(TABLE, OTHER) + separator.join(texts) + after,
    ):
        assert check_statement(joined, TABLE) == check_whole_statement(joined, TABLE)
    assert check_statement(before + separator.join(texts) + after, TABLE) == []


def test_a_merge_kept_as_pieces_is_trusted_only_when_its_pieces_are_ours() -> None:
    """A MERGE kept as pieces gets the whole-parse verdict on its text as soon as one piece is
    not what `upserts` makes: a row that is not a literal row, or a template for another table."""
    rows = [_row(number, text) for number, text in enumerate(HOSTILE[:3])]
    (statement,) = statements.upserts(TABLE, rows)
    merge = statement.merge
    assert merge is not None and check_statement(merge, TABLE) == []
    hash_cell = statements.cell_sql(rows[0].content_hash, ColumnType.STRING)
    stray = merge.rows[0].replace(hash_cell, f"(SELECT secret FROM {OTHER})")
    other_before = merge.before.replace(TABLE, OTHER)
    for tampered in (
        dataclasses.replace(merge, rows=(stray, *merge.rows[1:])),
        dataclasses.replace(merge, before=other_before),
        dataclasses.replace(merge, table=OTHER, before=other_before),
    ):
        verdict = check_statement(tampered, TABLE)
        assert verdict == check_whole_statement(tampered.text(), TABLE)
        assert verdict


def test_texts_made_after_their_merges_are_freed_get_the_whole_parse_verdict() -> None:
    """Build, drop and rebuild MERGEs so that CPython hands their ids to new strings; a hostile
    text never inherits the trust of the MERGE whose id it now has."""
    rows = [_row(number, text) for number, text in enumerate(HOSTILE[:3])]
    refused = 0
    for round_ in range(30):
        (statement,) = statements.upserts(TABLE, rows[: 1 + round_ % 3])
        sql = statement.sql
        hash_cell = statements.cell_sql(rows[0].content_hash, ColumnType.STRING)
        del statement
        statements.upserts(TABLE, [])
        del sql
        gc.collect()
        (statement,) = statements.upserts(TABLE, rows[: 1 + round_ % 3])
        hostile = statement.sql.replace(hash_cell, f"(SELECT secret FROM {OTHER})")
        verdict = check_statement(hostile, TABLE)
        assert verdict == check_whole_statement(hostile, TABLE)
        refused += bool(verdict)
    assert refused == 30


@pytest.mark.parametrize("swap", ["reversed", "hostile"])
def test_array_records_are_hints_when_a_merge_is_checked(swap: str) -> None:
    """A MERGE's arrays are checked together from the renderer's records; a record that does not
    hold the cell's items, or holds items that are not string literals, sends the cells to the
    one-by-one check, and the verdict stays the whole parse's."""
    rows = [_row(number, text) for number, text in enumerate(HOSTILE)]
    (statement,) = statements.upserts(TABLE, rows)
    arrays = [cell for cell in statements.RENDERED_ARRAYS if cell in statement.sql]
    assert arrays
    saved = {cell: statements.RENDERED_ARRAYS[cell] for cell in arrays}
    for cell in arrays:
        items = saved[cell]
        statements.RENDERED_ARRAYS[cell] = (
            items[::-1] if swap == "reversed" else [f"(SELECT secret FROM {OTHER})"]
        )
    try:
        assert check_statement(statement.sql, TABLE) == check_whole_statement(statement.sql, TABLE)
        assert check_statement(statement.sql, TABLE) == []
    finally:
        statements.RENDERED_ARRAYS.update(saved)


def _long(number: int, text: str) -> str:
    """A text of this row only, longer than the cells the renderer keeps."""
    return f"{number} {text} " * (statements.KEPT_CELL_LENGTH // (len(text) + 4) + 2)


def test_long_unique_cells_are_not_kept_and_their_rows_still_pass_piece_by_piece() -> None:
    rows = [_row(number, _long(number, text)) for number, text in enumerate(HOSTILE)]
    (statement,) = statements.upserts(TABLE, rows)
    kept = statements.STRING_CELLS
    assert not any(_long(number, text) in kept for number, text in enumerate(HOSTILE))
    records = [statements.RENDERED_ROWS[statements.row_sql(row)] for row in rows]
    assert all(not whole and int in map(type, cells) for _, cells, whole in records)
    for sql in (statement.sql, _copy(statement.sql)):
        assert policy._check_merge_by_pieces(sql, TABLE) == []
        assert check_statement(sql, TABLE) == check_whole_statement(sql, TABLE) == []
    for cells, row in zip(_literal_rows(statement.sql), rows, strict=True):
        by_name = dict(zip((*CONTENT_COLUMNS, "content_hash"), cells, strict=True))
        assert by_name["service_name"] == exp.Literal.string(row.service_name)


@pytest.mark.parametrize("shift", [-1, 1, 3])
def test_a_recorded_cell_length_is_a_hint_when_a_merge_is_checked(shift: int) -> None:
    """A row's record gives a cell not kept by its length; a wrong length splits the row
    elsewhere, and the verdict stays the whole parse's."""
    rows = [_row(number, _long(number, text)) for number, text in enumerate(HOSTILE[:6])]
    (statement,) = statements.upserts(TABLE, rows)
    saved = dict(statements.RENDERED_ROWS)
    for text, (original, cells, whole) in saved.items():
        lengths = [cell for cell in cells if isinstance(cell, int)]
        assert lengths
        at = cells.index(lengths[0])
        moved = (*cells[:at], lengths[0] + shift, *cells[at + 1 :])
        statements.RENDERED_ROWS[text] = (original, moved, whole)
    try:
        assert policy._check_merge_by_pieces(statement.sql, TABLE) is None
        assert check_statement(statement.sql, TABLE) == check_whole_statement(statement.sql, TABLE)
        assert check_statement(statement.sql, TABLE) == []
    finally:
        statements.RENDERED_ROWS.update(saved)
