"""Cells rendered from pieces (strings from their characters, arrays item by item) are byte for
byte what sqlglot renders for the whole value, and the policy's piece-by-piece check of a cell
agrees with parsing the cell whole."""

from __future__ import annotations

import sqlglot
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from core.impact_table import CellValue, ColumnType
from core.sqlgen import escapes, policy
from core.sqlgen import statements as sqlgen
from core.sqlgen.literals import literal

PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "'",
        "\\",
        "\\'",
        "\\ ",
        " \\",
        "\x00",
        "\x001",
        "\x00 12",
        "\x01",
        "\x7f",
        "\n",
        "\r\n",
        "\t",
        "\\n",
        "\\u0041",
        "\\0",
        "0",
        "7",
        "%",
        "é",
        "😀",
        "\u2028",
        "--",
        "/*",
        "*/",
        "'; DROP TABLE x; --",
        '"',
    ]
)
TEXT = st.lists(
    st.one_of(PIECES, st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)),
    max_size=10,
).map("".join)


def _whole(value: CellValue, column_type: ColumnType) -> str:
    return literal(value, column_type).sql(dialect="databricks")


def _parses_whole_to_itself(cell: str, column_type: ColumnType) -> bool:
    """The plain check: one literal expression, no comments, rendered back to the same text."""
    try:
        trees = sqlglot.parse(cell, read="databricks")
    except sqlglot.errors.SqlglotError:
        return False
    if len(trees) != 1 or trees[0] is None:
        return False
    tree = trees[0]
    if any(node.comments for node in tree.walk()):
        return False
    if column_type is ColumnType.STRING:
        if not (isinstance(tree, exp.Literal) and tree.is_string):
            return False
        return _whole(str(tree.this), column_type) == cell
    if not isinstance(tree, exp.Array):
        return False
    items = tree.expressions
    if not all(isinstance(item, exp.Literal) and item.is_string for item in items):
        return False
    return _whole(tuple(str(item.this) for item in items), column_type) == cell


@given(TEXT)
def test_a_string_renders_as_sqlglot_renders_it_whole(value: str) -> None:
    cell = sqlgen.cell_sql(value, ColumnType.STRING)
    assert cell == _whole(value, ColumnType.STRING)
    assert policy._cell_is_literal(cell, ColumnType.STRING) == _parses_whole_to_itself(
        cell, ColumnType.STRING
    )
    if "\x00" not in value:
        assert policy._cell_is_literal(cell, ColumnType.STRING)


@given(st.lists(TEXT, min_size=1, max_size=4).map(tuple))
def test_an_array_renders_as_sqlglot_renders_it_whole(value: tuple[str, ...]) -> None:
    cell = sqlgen.cell_sql(value, ColumnType.STRING_ARRAY)
    assert cell == _whole(value, ColumnType.STRING_ARRAY)
    assert policy._cell_is_literal(cell, ColumnType.STRING_ARRAY) == _parses_whole_to_itself(
        cell, ColumnType.STRING_ARRAY
    )


@given(TEXT)
def test_a_rendered_string_parses_whole_to_the_same_literal(value: str) -> None:
    cell = sqlgen.cell_sql(value, ColumnType.STRING)
    if "\x00" not in value:
        # sqlglot writes NUL as `\0`, which a following octal digit would extend when parsed;
        # that is sqlglot's own rendering (the whole-value rendering is the same, above).
        assert sqlglot.parse_one(cell, read="databricks") == exp.Literal.string(value)


@given(st.lists(st.one_of(PIECES, st.sampled_from(["'a'", "'b c'", "ARRAY(", ")", ", "]))))
def test_the_piece_by_piece_verdict_on_any_cell_is_the_whole_parse_verdict(
    pieces: list[str],
) -> None:
    cell = "".join(pieces)
    for column_type in (ColumnType.STRING, ColumnType.STRING_ARRAY):
        policy.clear_caches()
        assert policy._cell_is_literal(cell, column_type) == _parses_whole_to_itself(
            cell, column_type
        ), (cell, column_type)


def test_cells_that_only_look_like_words_are_refused() -> None:
    for cell in [
        "'a' 'b'",
        "'a\\n' 'b'",
        "'a\\' 'b'",
        "'a\\n' || 'b'",
        "'a\\n' /* c */",
        "'a\\n'; DROP TABLE t",
        "'a\\",
        "'",
        "''''",
    ]:
        policy.clear_caches()
        assert not policy._cell_is_literal(cell, ColumnType.STRING), cell
    assert policy._cell_is_literal("'a\\n b \\\\ c'", ColumnType.STRING)


def test_a_recorded_array_is_a_hint_not_trusted() -> None:
    cell = "ARRAY('a', (SELECT secret FROM s.x.y))"
    sqlgen.RENDERED_ARRAYS[cell] = ["'a'", "(SELECT secret FROM s.x.y)"]
    try:
        assert not policy._cell_is_literal(cell, ColumnType.STRING_ARRAY)
    finally:
        del sqlgen.RENDERED_ARRAYS[cell]


@given(st.lists(st.one_of(PIECES, st.sampled_from(["\ud800", "\udfff", "a\udc80b"]))).map("".join))
def test_every_way_of_writing_a_text_is_its_characters_renderings_joined(value: str) -> None:
    """Plain texts, texts with escaped characters replaced one by one, and texts with a lone
    surrogate (joined character by character) all give each character's sqlglot rendering."""
    joined = "".join(escapes._RENDERED_CHARACTERS[char] for char in value)
    assert escapes.inside_literal(value) == joined
    assert sqlgen.cell_sql(value, ColumnType.STRING) == _whole(value, ColumnType.STRING)


def test_escapes_are_replaced_backslash_first_and_never_in_a_circle() -> None:
    order = escapes._replacement_order({"\\": "\\\\", "'": "\\'", "\n": "\\n"})
    assert order is not None and order["\\"][0] == 0
    assert escapes._replacement_order({"a": "b", "b": "a"}) is None
