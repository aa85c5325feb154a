"""The scanned-VALUES fast path of a MERGE against the general (whole-parse) path.

Each case runs the same statements on two embedded engines, one planning with the fast path and
one without, and expects the same outcome (result manifest and rows, or error class, SQLSTATE and
message) and then the same table contents. Each case also says whether the fast path engages.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import httpx
import pytest
from sqlglot import Dialect
from sqlglot.errors import TokenError

from core.embedded import bulk_values
from core.embedded.engine import Cancelled, Engine
from core.embedded.translate import Parameter, plan
from core.plan import build_plan
from core.steps import Step
from core.synth import synth_handoff
from tests.embedded.helpers import ok, rows, run
from tests.embedded.twins import REVIEW, TABLE, Twins, merge


def scanned(statement: str, parameters: tuple[Parameter, ...] = REVIEW) -> bool:
    """Whether the statement takes the fast path."""
    return bool(plan(statement, parameters=parameters).bulk_parameters)


def test_the_statements_impact_review_writes_take_the_fast_path_with_the_same_result(
    tmp_path: Path,
) -> None:
    handoff = synth_handoff(300, seed=5)
    statements = [s for s in build_plan(handoff).statements]
    pair = Twins(tmp_path)
    try:
        for statement in statements:
            if statement.step is Step.UPSERT_ROWS:
                assert scanned(statement.sql)
                assert pair.both(statement.sql)[0] == "SUCCEEDED"
            else:
                pair.both(statement.sql)
        # Again: every row is matched and updated in place.
        for statement in statements:
            if statement.step is Step.UPSERT_ROWS:
                outcome = pair.both(statement.sql)
                assert outcome[2][0][0][1] == str(statement.row_count)
        table = handoff.report.target_table
        contents = pair.contents(f"SELECT * FROM {table} ORDER BY service_name")
        assert len(contents[2][0]) == sum(
            s.row_count for s in statements if s.step is Step.UPSERT_ROWS
        )
    finally:
        pair.close()


ESCAPES = [
    r"'it\'s'",
    r"'a\\b'",
    r"'x''y'",
    "'a' 'b'",
    "'a'\n  \"b\"  'c'",
    r"'one\ntwo\tthree\rfour'",
    r"'bell \007 escape \033[31m'",
    r"'\u00e9 \U0001F600 \x41'",
    r"'\0 then \01 and \012 and \1234'",
    r"'\177 \200 \0777 \08 \1a \19'",
    r"'\uD83D\uDE00 and \uD800 alone'",
    r"'\% and \_ stay, \q is q'",
    r'"double \" quoted"',
    "'héllo 🚀 ünïcode'",
    "'/* not a comment */ -- nor this'",
    "''",
    r"'tab\there, no quote inside'",
    r"'ends in an escaped backslash \\'",
    r"'\\'",
    r"'it\'s' 'adjacent'",
    r"'new\nline''doubled'",
    r"""'one\'' "two\"" 'three\\'""",
    r"""'\"' "\'" """,
]


@pytest.mark.parametrize("literal", ESCAPES)
def test_string_literals_decode_as_on_the_general_path(twins: Twins, literal: str) -> None:
    statement = merge(f"('k1', {literal}, NULL, NULL), ('k2', 'plain', NULL, NULL)")
    assert scanned(statement)
    assert twins.both(statement)[0] == "SUCCEEDED"
    twins.contents()


@pytest.mark.parametrize("literal", ESCAPES)
def test_a_column_whose_every_literal_is_escaped_decodes_as_on_the_general_path(
    twins: Twins, literal: str
) -> None:
    statement = merge(f"('k1', {literal}, NULL, NULL), ('k2', 'back\\\\slash', NULL, NULL)")
    assert scanned(statement)
    assert twins.both(statement)[0] == "SUCCEEDED"
    twins.contents()


def test_nulls_typed_literals_and_keyword_case(twins: Twins) -> None:
    statement = merge(
        "('k1', NULL, CAST('2026-01-02 03:04:05+02:00' AS TIMESTAMP), ARRAY('x', 'y')),\n"
        "('k2', 's', cast( '2026-01-02' as timestamp ), array('only')),\n"
        "('k3', 's', null, CAST(ARRAY() AS ARRAY<STRING>)),\n"
        "('k4', NULL, NULL, NULL),\n"
        "('k5', 's', NULL, Array ( 'a' 'b', \"c\" ))"
    )
    assert scanned(statement)
    assert twins.both(statement)[2] == [[["5", "0", "0", "5"]]]
    twins.contents()


def test_a_column_of_nulls_only(twins: Twins) -> None:
    statement = merge("('k1', NULL, NULL, NULL), ('k2', NULL, NULL, NULL)")
    assert scanned(statement)
    twins.both(statement)
    twins.contents()


def test_a_parenthesized_values_source(twins: Twins) -> None:
    rows = "('k1', 'a', NULL, NULL), ('k2', 'b', NULL, NULL)"
    statement = merge(rows, source="FROM (VALUES {rows})")
    statement = statement.replace(") AS src", ") AS src(k, s, ts, tags)", 1)
    assert scanned(statement)
    twins.both(statement)
    twins.contents()


def test_duplicate_source_keys_fail_like_delta_on_both_paths(twins: Twins) -> None:
    twins.both(merge("('k1', 'a', NULL, NULL)"))
    statement = merge("('k1', 'x', NULL, NULL), ('k1', 'y', NULL, NULL)")
    assert scanned(statement)
    outcome = twins.both(statement)
    assert outcome[:3] == (
        "FAILED",
        "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE",
        "21506",
    )
    assert twins.contents()[2] == [[["k1", "a", None, None, "alice@example.com"]]]


@pytest.mark.parametrize(
    "rows",
    [
        "('k1', 'a', NULL, NULL),",
        "('k1', 'a', NULL, NULL), ('k2', 'b' NULL, NULL)",
        "('k1', 'a', NULL, NULL), ('k2', 'b', NULL)",
        "('k1', 'a', NULL, NULL), ('k2', 'b, NULL, NULL)",
        "('k1', 'a', NULL, NULL) ('k2', 'b', NULL, NULL)",
        "('k1', 'a', NULL NULL, NULL)",
        "('k1', 'a', CAST('x' AS), NULL)",
        "()",
        "('k1', 'a', NULL, NULL)) AS v(k, s, ts, tags)) AS src ON t.k = src.k; SELECT (1",
        "('k1', 'a', NULL, NULL) AS v(k, s, ts, tags)) AS src ON t.k = src.k AND (1",
    ],
)
def test_syntax_errors_inside_the_values_list_are_the_general_paths(
    twins: Twins, rows: str
) -> None:
    outcome = twins.both(merge(rows))
    assert outcome[0] == "FAILED"
    twins.contents()


def test_a_bad_timestamp_fails_the_same_way(twins: Twins) -> None:
    statement = merge("('k1', 'a', CAST('not a time' AS TIMESTAMP), NULL)")
    assert scanned(statement)
    assert twins.both(statement)[0] == "FAILED"
    assert twins.contents()[2] == []


def test_a_null_key_violates_not_null_on_both_paths(twins: Twins) -> None:
    statement = merge("(NULL, 'a', NULL, NULL), ('k2', 'b', NULL, NULL)")
    assert scanned(statement)
    assert twins.both(statement)[1] == "DELTA_NOT_NULL_CONSTRAINT_VIOLATED"
    assert twins.contents()[2] == []


def test_parameters_are_still_checked_and_bound(twins: Twins) -> None:
    statement = merge("('k1', 'a', NULL, NULL)")
    assert twins.both(statement, ())[1] == "UNBOUND_SQL_PARAMETER"
    bad_time = (Parameter("reviewed_by", "bob", "TIMESTAMP"),)
    assert twins.both(statement, bad_time)[1] == "INVALID_VALUE_FOR_DATA_TYPE"
    assert twins.both(statement)[0] == "SUCCEEDED"
    assert twins.contents()[2] == [[["k1", "a", None, None, "alice@example.com"]]]


@pytest.mark.parametrize(
    "statement",
    [
        merge("('k1', 1, NULL, NULL)"),  # a number
        merge("('k1', 'a', NULL, NULL), ('k2', ARRAY('x'), NULL, NULL)"),  # two kinds
        merge("('k1', 'a' /* comment */, NULL, NULL)"),
        merge("('k1', r'raw\\n', NULL, NULL)"),
        merge("('k1', upper('a'), NULL, NULL)"),
        merge("('k1', 'lone \ud800 surrogate', NULL, NULL)"),
        merge("('k1', 'a', NULL, ARRAY())"),
        "INSERT INTO t (k, s) VALUES ('k1', 'a'), ('k2', 'b')",
        "SELECT * FROM VALUES ('a', 'b') AS v(x, y)",
    ],
)
def test_anything_else_takes_the_general_path(twins: Twins, statement: str) -> None:
    assert not scanned(statement)
    twins.both(statement)
    twins.contents()


def test_names_the_fast_path_uses_are_left_to_the_general_path(twins: Twins) -> None:
    statement = merge("('k1', 'a', NULL, NULL)").replace(
        "UPDATE SET s = src.s", f"UPDATE SET s = '{bulk_values.BULK_PREFIX}0'"
    )
    assert bulk_values.split(statement) is None
    twins.both(statement)
    twins.contents()


def test_a_cancelled_merge_writes_nothing(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    try:
        engine.run(plan(TABLE), {})
        statement = merge("('k1', 'a', NULL, NULL), ('k2', 'b', NULL, NULL)")
        cancelled = threading.Event()
        cancelled.set()
        with pytest.raises(Cancelled):
            engine.run(
                plan(statement, parameters=REVIEW),
                {p.name: p for p in REVIEW},
                cancelled=cancelled,
            )
        result = engine.run(plan("SELECT count(*) FROM t"), {})
        assert result.chunks[0].rows == [["0"]]
    finally:
        engine.close()


def test_split_reads_columns_and_leaves_a_small_skeleton() -> None:
    statement = merge(
        "('k1', 'it\\'s', NULL, ARRAY('x')), ('k2', NULL, CAST('t' AS TIMESTAMP), NULL)"
    )
    found = bulk_values.split(statement)
    assert found is not None
    assert found.rows == 2
    assert [column.kind for column in found.columns] == [
        bulk_values.CellKind.STRING,
        bulk_values.CellKind.STRING,
        bulk_values.CellKind.TIMESTAMP,
        bulk_values.CellKind.STRING_ARRAY,
    ]
    assert [column.values for column in found.columns] == [
        ["k1", "k2"],
        ["it's", None],
        [None, "t"],
        [["x"], None],
    ]
    assert "'k1'" not in found.skeleton
    assert bulk_values.PLACEHOLDER_TABLE in found.skeleton


@pytest.mark.parametrize(
    ("statement", "error_class"),
    [
        (
            merge("('k1', 'a', NULL, NULL)").replace("INTO t ", "INTO nope "),
            "TABLE_OR_VIEW_NOT_FOUND",
        ),
        (
            merge("('k1', 'a', NULL, NULL)").replace("s = src.s", "s = src.nope"),
            "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        ),
    ],
)
def test_failures_worded_alike_on_both_paths(
    twins: Twins, statement: str, error_class: str
) -> None:
    assert scanned(statement)
    assert twins.both(statement)[1] == error_class


def test_scanned_literals_decode_exactly_as_sqlglots_tokenizer() -> None:
    """Random literals full of escapes: each value the fast path reads is the text sqlglot's
    Databricks tokenizer (the general path) gives the same literal."""
    escapes = ["\\\\", "\\'", '\\"', "\\0", "\\1", "\\7", "\\8", "\\u", "\\U", "\\n", "\\%", "\\z"]
    plain = ["0", "1", "7", "8", "D83D", "DE00", "0041", "x", "n", "%", "é", "🚀", " ", "\n", "a"]
    generator = random.Random(6)
    literals = []
    for _ in range(3000):
        parts = [generator.choice(escapes + plain) for _ in range(generator.randint(0, 12))]
        quote = generator.choice("'\"")
        literal = quote + "".join(parts) + quote
        if generator.random() < 0.1:
            literal += " " + quote + "tail" + quote
        literals.append(literal)
    tokenizer = Dialect.get_or_raise("databricks")
    expected: list[str | None] = []
    for literal in literals:
        try:
            tokens = tokenizer.tokenize(literal)
        except TokenError:  # a literal sqlglot rejects is not part of the check
            expected.append(None)
            continue
        expected.append("".join(token.text for token in tokens))
    kept = [(lit, text) for lit, text in zip(literals, expected, strict=True) if text is not None]
    rows = ", ".join(f"('k{number}', {lit}, NULL, NULL)" for number, (lit, _) in enumerate(kept))
    found = bulk_values.split(merge(rows))
    assert found is not None
    values = found.columns[1].values
    mismatches = [
        (lit, text, value) for (lit, text), value in zip(kept, values, strict=True) if value != text
    ]
    assert mismatches == []


def test_a_list_longer_than_a_scan_window_with_a_cell_longer_than_one(twins: Twins) -> None:
    """The list is cut into cells a window at a time; cuts land inside literals, arrays and
    between rows, and one literal is longer than a window."""
    generator = random.Random(7)
    words = ["plain", "it\\'s", "a\\\\b", "bell\\007", "é🚀", "(x, y)", "'', ''", "\\n"]
    rows = []
    for number in range(120):
        text = " ".join(generator.choice(words) for _ in range(generator.randint(0, 2500)))
        tags = ", ".join(f"'{generator.choice(words)}'" for _ in range(generator.randint(1, 40)))
        time = "NULL" if number % 3 else "CAST('2026-05-12 16:42:00+00:00' AS TIMESTAMP)"
        rows.append(f"('k{number:03d}', '{text}', {time}, ARRAY({tags}))")
    rows.append(f"('long', '{'x' * (bulk_values.SCAN_WINDOW + 1000)}', NULL, NULL)")
    statement = merge(",\n".join(rows))
    assert len(statement) > 3 * bulk_values.SCAN_WINDOW
    assert scanned(statement)
    assert twins.both(statement)[2] == [[["121", "0", "0", "121"]]]
    twins.contents()


async def test_the_api_runs_a_scanned_merge_and_reports_its_failures(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, TABLE)
    parameters = [{"name": "reviewed_by", "value": "Zoë \\ ops", "type": "STRING"}]
    statement = merge("('k1', 'it\\'s', NULL, ARRAY('x')), ('k2', NULL, NULL, NULL)")
    assert scanned(statement, (Parameter("reviewed_by", "Zoë \\ ops"),))
    merged = await ok(client, statement, parameters=parameters)
    assert merged["manifest"]["schema"]["columns"][0]["name"] == "num_affected_rows"
    assert merged["result"]["data_array"] == [["2", "0", "0", "2"]]
    assert await rows(client, "SELECT k, s, tags, reviewed_by FROM t ORDER BY k") == [
        ["k1", "it's", '["x"]', "Zoë \\ ops"],
        ["k2", None, None, "Zoë \\ ops"],
    ]
    duplicate = merge("('k1', 'a', NULL, NULL), ('k1', 'b', NULL, NULL)")
    failed = await run(client, duplicate, parameters=parameters)
    assert failed["status"]["state"] == "FAILED"
    assert failed["status"]["sql_state"] == "21506"
    bad_time = merge("('k3', 'a', CAST('not a time' AS TIMESTAMP), NULL)")
    failed = await run(client, bad_time, parameters=parameters)
    assert failed["status"]["state"] == "FAILED"
    assert "when casting from source column" not in failed["status"]["error"]["message"]
