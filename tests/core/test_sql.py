"""SQL generation: deterministic, parsed back by sqlglot, held to the policy, split when large."""

from __future__ import annotations

import pytest
import sqlglot

from core.handoff import Handoff, RiskLevel
from core.loading import load_handoff
from core.plan import build_plan
from core.review import Review
from core.sqlgen import statements as sqlgen
from core.sqlgen.policy import check_statement
from core.steps import Step
from tests.conftest import DEMO

TABLE = "workspace.default.anyshift_production_impact_reports"


@pytest.fixture
def demo() -> Handoff:
    return load_handoff(DEMO)


def test_demo_plan_has_create_merge_select(demo: Handoff) -> None:
    plan = build_plan(demo)
    assert [s.step for s in plan.statements] == [
        Step.CREATE_TABLE,
        Step.UPSERT_ROWS,
        Step.VERIFY_ROWS,
        Step.VERIFY_ROWS,
    ]
    assert [s.name for s in plan.statements][2:] == ["verify-rows", "verify-rows-detail"]
    assert plan.is_valid, plan.issues()
    assert [row.service_name for row in plan.rows] == ["checkout-api", "risk-worker"]
    create, merge, fingerprints, select = (s.sql for s in plan.statements)
    assert create.startswith(f"CREATE TABLE IF NOT EXISTS {TABLE} (")
    assert "USING DELTA" in create and "COMMENT 'Impact report id" in create
    assert "ON t.report_id = s.report_id AND t.service_name = s.service_name" in merge
    assert "checkout-playground" not in merge
    assert "AS row_fingerprint" in fingerprints and "evidence" not in fingerprints.split("SHA2")[0]
    assert fingerprints.endswith("ORDER BY\n  service_name")
    assert select.endswith("ORDER BY\n  service_name")


def test_rendering_is_deterministic(demo: Handoff) -> None:
    sqlgen.row_sql.cache_clear()
    first = build_plan(demo)
    sqlgen.row_sql.cache_clear()
    second = build_plan(load_handoff(DEMO))
    assert [s.sql for s in first.statements] == [s.sql for s in second.statements]
    assert first.digest == second.digest


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.set_risk("risk-worker", RiskLevel.HIGH),
        lambda r: r.set_action("checkout-api", "pause"),
        lambda r: r.toggle_included("risk-worker"),
    ],
    ids=["risk", "action", "exclude"],
)
def test_digest_changes_when_a_reviewed_value_changes(demo: Handoff, edit: object) -> None:
    review = Review(demo)
    assert callable(edit)
    edited = edit(review)
    assert build_plan(edited.reviewed_handoff()).digest != build_plan(demo).digest


def test_every_statement_parses_in_the_databricks_dialect(demo: Handoff) -> None:
    for statement in build_plan(demo).statements:
        parsed = sqlglot.parse(statement.sql, read="databricks")
        assert len(parsed) == 1 and parsed[0] is not None


def test_upsert_binds_reviewer_as_parameters(demo: Handoff) -> None:
    merge = build_plan(demo).statements_for(Step.UPSERT_ROWS)[0]
    assert [(p.name, p.type) for p in merge.parameters] == [
        ("reviewed_by", "STRING"),
        ("reviewed_at", "TIMESTAMP"),
    ]
    assert ":reviewed_by" in merge.sql and ":reviewed_at" in merge.sql


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (f"DROP TABLE {TABLE}", "DROP is not allowed"),
        (f"DELETE FROM {TABLE} WHERE 1 = 1", "DELETE is not allowed"),
        (f"INSERT INTO {TABLE} (report_id) VALUES ('x')", "INSERT is not allowed"),
        (f"CREATE OR REPLACE TABLE {TABLE} (a STRING)", "only CREATE TABLE IF NOT EXISTS"),
        ("SELECT * FROM workspace.default.other", "touches workspace.default.other"),
        (f"SELECT 1; DROP TABLE {TABLE}", "exactly one statement"),
        (
            f"MERGE INTO {TABLE} AS t USING (SELECT 1 AS k) AS s ON t.k = s.k "
            "WHEN MATCHED THEN DELETE",
            "MERGE may only update or insert",
        ),
        (
            f"SELECT * FROM {TABLE} WHERE report_id IN (SELECT id FROM main.x.secrets)",
            "touches main.x.secrets",
        ),
        (f"SELECT * FROM {TABLE} WHERE (", "does not parse"),
    ],
)
def test_policy_refuses_anything_else(sql: str, message: str) -> None:
    issues = check_statement(sql, TABLE)
    assert any(message in str(issue) for issue in issues), issues


def test_policy_refuses_a_read_only_catalog(demo: Handoff) -> None:
    report = demo.report.model_copy(update={"target_table": "system.default.impact"})
    plan = build_plan(demo.model_copy(update={"report": report}))
    assert not plan.is_valid
    assert "read-only system catalog" in str(plan.issues()[0])


def test_nothing_to_write_is_not_runnable(demo: Handoff) -> None:
    review = Review(demo).toggle_included("checkout-api").toggle_included("risk-worker")
    plan = build_plan(review.reviewed_handoff())
    assert not plan.is_valid
    assert any("nothing to write" in str(issue) for issue in plan.issues())


def test_large_reports_are_split_into_several_merges(
    demo: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlgen, "MERGE_ROW_LIMIT", 7)
    template = demo.services[0]
    services = [template.model_copy(update={"name": f"svc-{i:03d}"}) for i in range(30)]
    plan = build_plan(demo.model_copy(update={"services": services}))
    upserts = plan.statements_for(Step.UPSERT_ROWS)
    assert [s.row_count for s in upserts] == [7, 7, 7, 7, 2]
    assert [s.name for s in upserts][0] == "upsert-rows-1-of-5"
    assert plan.is_valid, plan.issues()
    assert len({s.name for s in plan.statements}) == len(plan.statements)


def test_chunks_respect_the_byte_budget(demo: Handoff, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlgen, "MERGE_BYTE_BUDGET", 20_000)
    template = demo.services[0]
    services = [
        template.model_copy(update={"name": f"svc-{i}", "evidence": "é" * 3000}) for i in range(12)
    ]
    plan = build_plan(demo.model_copy(update={"services": services}))
    upserts = plan.statements_for(Step.UPSERT_ROWS)
    assert len(upserts) > 1
    assert sum(s.row_count for s in upserts) == 12
    for statement in upserts:
        rows_bytes = sum(
            len(sqlgen.row_sql(row).encode())
            for row in plan.rows
            if f"'{row.service_name}'" in statement.sql
        )
        assert rows_bytes <= 20_000 or statement.row_count == 1
