"""Hostile text in every field produces valid SQL whose literals decode, under Spark's rules,
to exactly the original text."""

from __future__ import annotations

import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from core.handoff import Handoff, Service
from core.impact_table import COLUMNS, CONTENT_COLUMNS, ColumnType
from core.loading import load_handoff
from core.plan import build_plan
from core.sqlgen.literals import literal
from core.steps import Step
from tests.conftest import DEMO
from tests.spark_literals import decode_string_literal

HOSTILE = st.sampled_from(
    [
        "'",
        "\\",
        "\\'",
        "''",
        "'; DROP TABLE x; --",
        "\n",
        "\r\n",
        "\t",
        "\\n",
        "%",
        "\\%",
        "\\_",
        "\\u0041",
        "é",
        "😀",
        "\u202e",
        "\x1a",
        "\x08",
        "$1",
        ":name",
        "`",
        '"',
        "${x}",
        "0",
    ]
)
TEXT = st.lists(
    st.one_of(
        HOSTILE,
        st.text(
            st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=20
        ),
    ),
    max_size=8,
).map("".join)
DEMO_HANDOFF = load_handoff(DEMO)


@given(TEXT)
def test_string_literal_decodes_to_the_original(text: str) -> None:
    rendered = literal(text, ColumnType.STRING).sql(dialect="databricks")
    assert decode_string_literal(rendered) == text


def _service(texts: list[str]) -> Service:
    name, owner, evidence, dependency, action, monitor = texts
    return DEMO_HANDOFF.services[0].model_copy(
        update={
            "name": "svc" + name,
            "owner_team": "o" + owner,
            "evidence": evidence,
            "dependency": dependency,
            "recommended_action": action,
            "active_monitors": [monitor],
        }
    )


def _string_values(tree: exp.Expression) -> list[str]:
    return [
        decode_string_literal(node.sql(dialect="databricks"))
        for node in tree.find_all(exp.Literal)
        if node.is_string
    ]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(TEXT, min_size=6, max_size=6), TEXT)
def test_every_field_survives_the_merge(texts: list[str], title: str) -> None:
    report = DEMO_HANDOFF.report.model_copy(update={"title": title or "t"})
    handoff: Handoff = DEMO_HANDOFF.model_copy(
        update={"report": report, "services": [_service(texts)]}
    )
    plan = build_plan(handoff)
    merge = plan.statements_for(Step.UPSERT_ROWS)[0]
    tree = sqlglot.parse_one(merge.sql, read="databricks")
    values = tree.find(exp.Values)
    assert values is not None
    row = values.expressions[0]
    assert isinstance(row, exp.Tuple)
    types = {column.name: column.type for column in COLUMNS}
    for name, cell in zip((*CONTENT_COLUMNS, "content_hash"), row.expressions, strict=True):
        expected = plan.rows[0].get(name)
        if name == "content_hash":
            assert _string_values(cell) == [expected]
        elif types.get(name) is ColumnType.STRING:
            assert _string_values(cell) == [expected], name
        elif types.get(name) is ColumnType.STRING_ARRAY:
            assert isinstance(expected, tuple)
            assert _string_values(cell) == list(expected), name
