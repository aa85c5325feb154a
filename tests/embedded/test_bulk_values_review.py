"""Adversarial cases for the scanned-VALUES fast path: each runs on both paths (see
`tests.embedded.twins`) and must give the same outcome and table contents."""

from __future__ import annotations

import random

import pytest

from core.embedded import bulk_values
from tests.embedded.test_bulk_values import scanned
from tests.embedded.twins import REVIEW, Twins, merge, merge_using

ROWS = "('k1', 'a', NULL, NULL), ('k2', 'b', NULL, NULL)"


@pytest.mark.parametrize(
    "statement",
    [
        # A parenthesized VALUES list takes no clauses; a `SELECT * FROM` the list would.
        merge_using(f"(VALUES {ROWS} WHERE col0 = 'k1')"),
        merge_using(f"(VALUES {ROWS} ORDER BY 1 LIMIT 1)"),
        merge_using(f"(VALUES {ROWS} LIMIT 1)"),
        merge_using(f"(VALUES {ROWS} GROUP BY 1, 2, 3, 4)"),
        merge_using(f"(VALUES {ROWS} AS v(k, s, ts, tags))", alias="src"),
        merge_using(f"(VALUES {ROWS} UNION ALL SELECT 'k3', 'c', NULL, NULL)"),
        # A table name takes a PIVOT differently from a VALUES list.
        merge_using(
            f"(SELECT * FROM VALUES {ROWS} AS v(k, s, ts, tags) PIVOT (count(*) FOR s IN ('a')))",
            alias="src",
        ),
    ],
)
def test_what_follows_the_list_is_read_as_after_a_values_list(twins: Twins, statement: str) -> None:
    assert bulk_values.split(statement) is None
    twins.both(statement)
    twins.contents()


@pytest.mark.parametrize(
    "rows",
    [
        "('k1', ('a')'b', NULL)",  # a row opened without the comma between rows
        "('k1', 'a', NULL, NULL), ('k2', ('b')'c', NULL, NULL)",
        "(('k1'), 'a', NULL, NULL)",
    ],
)
def test_misplaced_parentheses_leave_the_list_to_the_general_path(twins: Twins, rows: str) -> None:
    statement = merge(rows)
    assert bulk_values.split(statement) is None
    twins.both(statement)
    twins.contents()


@pytest.mark.parametrize(
    "statement",
    [
        merge_using(f"(VALUES {ROWS})"),
        merge_using(f"(VALUES {ROWS}\n)"),
        merge(ROWS),
        merge(ROWS, source="FROM VALUES {rows} AS `v`(`k`, s, ts, `tags`)"),
        merge(ROWS, source="FROM VALUES {rows}")
        .replace("src.k", "src.col0")
        .replace("src.s,", "src.col1,")
        .replace("src.ts", "src.col2")
        .replace("src.tags", "src.col3"),
    ],
)
def test_the_shapes_that_keep_the_fast_path(twins: Twins, statement: str) -> None:
    assert scanned(statement, REVIEW)
    twins.both(statement)
    twins.contents()


@pytest.mark.parametrize(
    "rows",
    [
        "('k1', 'a)', NULL, NULL), ('k2', '), (', NULL, NULL)",
        "('k1', 'a;', NULL, NULL), ('k2', ';DROP TABLE t', NULL, NULL)",
        "('k1', 'VALUES (', NULL, NULL), ('k2', '/* -- */', NULL, NULL)",
        "('k1', 'a' \"')\" 'b', NULL, NULL), ('k2', '\\'), (\\'', NULL, NULL)",
        "('k1', 'x', NULL, NULL), ('k1', 'y', CAST('bad' AS TIMESTAMP), NULL)",
        "(NULL, 'x', CAST('bad' AS TIMESTAMP), NULL)",
    ],
)
def test_strings_that_look_like_list_syntax_and_errors_in_either_order(
    twins: Twins, rows: str
) -> None:
    twins.both(merge("('k1', 'a', NULL, NULL)"))
    twins.both(merge(rows))
    twins.contents()


_PIECES = [
    "'a'",
    "'b c'",
    '"d"',
    "'it\\'s'",
    "'x''y'",
    "'\\0'",
    "'\\u0041'",
    "NULL",
    "null",
    "CAST('2026-05-12 16:42:00+00:00' AS TIMESTAMP)",
    "CAST('bad' AS TIMESTAMP)",
    "ARRAY('p', 'q')",
    "CAST(ARRAY() AS ARRAY<STRING>)",
    "1",
    "(",
    ")",
    ", ",
    ",\n",
    " ",
    "'",
    "/* c */",
    "-- c\n",
    "'), ('",
    " AS w(z)",
    " WHERE TRUE",
    ";",
]


def test_random_lists_built_from_list_syntax_get_the_general_paths_outcome(twins: Twins) -> None:
    """Rows of well-formed cells, with now and then a piece of list syntax put somewhere."""
    generator = random.Random(11)
    keys = iter(range(10_000))
    for _ in range(120):
        rows = []
        for _ in range(generator.randint(1, 4)):
            cells = [f"'k{next(keys)}'"] + [generator.choice(_PIECES[:13]) for _ in range(3)]
            rows.append("(" + ", ".join(cells) + ")")
        text = ", ".join(rows)
        for _ in range(generator.choice([0, 0, 1, 2])):
            at = generator.randint(0, len(text))
            text = text[:at] + generator.choice(_PIECES) + text[at:]
        source = generator.choice(
            ["FROM VALUES {rows} AS v(k, s, ts, tags)", "FROM (VALUES {rows}) AS v(k, s, ts, tags)"]
        )
        twins.both(merge(text, source=source))
        twins.contents()
