"""The fast paths behind the benchmarks keep SQL and verdicts exactly as before.

Rows are rendered cell by cell and large MERGEs are checked piece by piece; these tests pin both
to the slow, obvious way: sqlglot rendering the whole tuple, and sqlglot parsing the whole text.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from core.handoff import Handoff
from core.impact_table import COLUMNS, CONTENT_COLUMNS, CellValue, ColumnType, ImpactRow
from core.loading import load_handoff
from core.plan import build_plan
from core.sqlgen import policy
from core.sqlgen import statements as sqlgen
from core.sqlgen.literals import literal
from core.steps import Step
from core.synth import synth_handoff
from tests.conftest import DEMO

TYPES = {column.name: column.type for column in COLUMNS}
TABLE = "workspace.default.anyshift_production_impact_reports"


@pytest.fixture(scope="module")
def synth() -> Handoff:
    return synth_handoff(150, seed=11)


def tuple_the_slow_way(values: tuple[CellValue, ...], content_hash: str) -> str:
    cells = [literal(v, TYPES[n]) for n, v in zip(CONTENT_COLUMNS, values, strict=True)]
    cells.append(exp.Literal.string(content_hash))
    return exp.Tuple(expressions=cells).sql(dialect="databricks")


@pytest.mark.parametrize("source", ["demo", "synth"])
def test_rows_render_exactly_as_a_sqlglot_tuple(source: str, synth: Handoff) -> None:
    handoff = load_handoff(DEMO) if source == "demo" else synth
    sqlgen.clear_caches()
    for row in build_plan(handoff).rows:
        assert sqlgen.row_sql(row) == tuple_the_slow_way(row.values, row.content_hash)


def test_empty_monitor_list_and_null_cells_render_as_sqlglot_does(synth: Handoff) -> None:
    for value, column_type in [
        ((), ColumnType.STRING_ARRAY),
        (None, ColumnType.STRING),
        (None, ColumnType.STRING_ARRAY),
        ("it's \\ \n 'x'", ColumnType.STRING),
    ]:
        assert sqlgen.cell_sql(value, column_type) == literal(value, column_type).sql(
            dialect="databricks"
        )


def test_piece_by_piece_check_agrees_with_parsing_whole(synth: Handoff) -> None:
    policy.clear_caches()
    plan = build_plan(synth)
    for statement in plan.statements:
        assert policy.check_statement(statement.sql, plan.target_table) == (
            policy.check_whole_statement(statement.sql, plan.target_table)
        )


def test_generated_merges_are_checked_piece_by_piece(
    synth: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(synth)
    merges = plan.statements_for(Step.UPSERT_ROWS)

    def refuse(sql: str, table: str) -> list[policy.PolicyIssue]:
        raise AssertionError("a generated MERGE was parsed whole")

    monkeypatch.setattr(policy, "check_whole_statement", refuse)
    for merge in merges:
        assert policy.check_statement(merge.sql, plan.target_table) == []


def test_the_whole_merge_parses_to_exactly_the_validated_rows(synth: Handoff) -> None:
    plan = build_plan(synth)
    merge = plan.statements_for(Step.UPSERT_ROWS)[0]
    tree = sqlglot.parse_one(merge.sql, read="databricks")
    (values,) = list(tree.find_all(exp.Values))
    assert len(values.expressions) == merge.row_count == len(plan.rows)
    for parsed, row in zip(values.expressions, plan.rows, strict=True):
        expected = sqlglot.parse_one(sqlgen.row_sql(row), read="databricks")
        assert parsed == expected


def tamper(sql: str, old: str, new: str) -> str:
    assert old in sql
    return sql.replace(old, new, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda sql, row: sql + f"; DROP TABLE {TABLE}", "exactly one statement"),
        (
            lambda sql, row: tamper(
                sql, row, row.replace("(", "((SELECT secret FROM main.x.secrets), ", 1)
            ),
            "touches main.x.secrets",
        ),
        (
            lambda sql, row: tamper(sql, row, row[:-1] + " -- " + ")"),
            "does not parse",
        ),
        (
            lambda sql, row: tamper(sql, "WHEN MATCHED THEN", "WHEN MATCHED THEN DELETE WHEN x"),
            "",
        ),
    ],
    ids=["appended-statement", "subquery-cell", "comment", "skeleton"],
)
def test_tampered_merges_are_parsed_whole_and_refused(
    synth: Handoff, change: object, message: str
) -> None:
    plan = build_plan(synth)
    merge = plan.statements_for(Step.UPSERT_ROWS)[0]
    row = sqlgen.row_sql(plan.rows[3])
    assert callable(change)
    tampered = change(merge.sql, row)
    issues = policy.check_statement(tampered, plan.target_table)
    assert issues, "a tampered MERGE passed the policy"
    assert issues == policy.check_whole_statement(tampered, plan.target_table)
    assert any(message in str(issue) for issue in issues), issues


def test_a_cell_that_only_looks_rendered_is_not_trusted() -> None:
    # `'a';` parses alone as the literal 'a', but it is not what sqlglot renders for 'a'.
    assert not policy._cell_is_literal("'a';", ColumnType.STRING)
    assert not policy._cell_is_literal("'a' /* c */", ColumnType.STRING)
    assert policy._cell_is_literal("NULL", ColumnType.STRING)
    assert policy._cell_is_literal(sqlgen.cell_sql("it's", ColumnType.STRING), ColumnType.STRING)


def test_a_merge_is_checked_the_same_by_its_pieces_or_by_its_text(
    synth: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(synth)
    statement = plan.statements_for(Step.UPSERT_ROWS)[0]
    assert isinstance(statement.source, sqlgen.MergeText)
    text = statement.sql
    assert text == "".join(statement.pieces()) and text is not statement.sql

    def refuse(sql: str, table: str) -> list[policy.PolicyIssue]:
        raise AssertionError("parsed whole")

    monkeypatch.setattr(policy, "check_whole_statement", refuse)
    assert policy.check_statement(statement.source, TABLE) == []
    assert policy.check_statement(text, TABLE) == []


@pytest.mark.parametrize("budget", [4 * 1024 * 1024, 60_000])
def test_a_built_merge_knows_its_utf8_size(
    synth: Handoff, budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy's 16 MiB check reads a built MERGE's size from its pieces (rows and
    template), which is exactly the length of its UTF-8 encoding, reused MERGEs included."""
    monkeypatch.setattr(sqlgen, "MERGE_BYTE_BUDGET", budget)
    emoji = synth.model_copy(
        update={
            "services": [
                s.model_copy(update={"evidence": "é😀 " + s.evidence}) for s in synth.services
            ]
        }
    )
    for handoff in (synth, emoji, emoji):
        merges = build_plan(handoff).statements_for(Step.UPSERT_ROWS)
        assert len(merges) > 1 or budget > 60_000
        for merge in merges:
            assert merge.utf8_size == len(merge.sql.encode("utf-8"))


def test_rows_rendered_together_match_sqlglot_with_nulls_and_repeats(synth: Handoff) -> None:
    """Rows rendered in one go (`row_texts`), with NULL cells, repeated rows and values already
    rendered by an earlier call, are each exactly sqlglot's tuple."""
    rows = list(build_plan(synth).rows[:20])
    nulls = [
        ImpactRow(
            tuple(
                value if name in ("report_id", "service_name") else None
                for name, value in zip(CONTENT_COLUMNS, row.values, strict=True)
            )
        )
        for row in rows[:5]
    ]
    sqlgen.clear_caches()
    sqlgen.row_texts(rows[10:])
    batch = [*rows, *nulls, rows[3], nulls[0]]
    for row, text in zip(batch, sqlgen.row_texts(batch), strict=True):
        assert text == tuple_the_slow_way(row.values, row.content_hash)
        assert text == sqlgen.row_sql(row)
