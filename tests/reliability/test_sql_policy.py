"""The SQL policy: no statement other than CREATE TABLE IF NOT EXISTS, MERGE (update/insert) and
SELECT on the target table can ever be sent, whatever the handoff holds.

Statements are judged twice: by the policy (`core.sqlgen.policy`) and by an independent check
in this suite (`assert_only_allowed_statements`), and what reaches the wire is captured from the
real httpx client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.executor import PlanRefused, list_reports, open_run_session, run_plan, verify_report
from core.loading import load_handoff, validate_document
from core.payloads import Approval
from core.plan import Plan, build_plan, statements_digest
from core.sqlgen.policy import check_statement, check_whole_statement
from core.sqlgen.statements import Statement
from core.steps import Step
from core.warehouse.config import local_connection
from tests.reliability.conftest import (
    DEMO,
    DEMO_TABLE,
    PostedStatements,
    assert_only_allowed_statements,
    local_sql,
)
from tui.cli import main

T = DEMO_TABLE
OTHER = "workspace.default.canary"
INJECTIONS = (
    "'; DROP TABLE workspace.default.canary; --",
    "\\'; DELETE FROM workspace.default.canary; --",
    "*/ DROP TABLE workspace.default.canary /*",
    "'); UPDATE workspace.default.canary SET a = 'x'; --",
    "' || (SELECT a FROM workspace.default.canary) || '",
    "＇; DROP TABLE canary; --",
    "$$; DROP TABLE canary; $$",
    "\\\\'; TRUNCATE TABLE workspace.default.canary; --",
    ":reviewed_by'); DROP TABLE canary; --",
    "\n;\nDROP TABLE workspace.default.canary\n",
)


def _injected_handoff(injection: str) -> dict[str, Any]:
    """The demo with `injection` in every free-text field, name and monitor."""
    document: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    report = document["report"]
    for key in ("request", "title", "databricks_surface", "source_pr", "investigation"):
        report[key] = f"{key} {injection}"
    for key in ("pipeline", "failure", "proposed_action"):
        report["trigger"][key] = f"{key} {injection}"
    for number, service in enumerate(document["services"]):
        for key in ("owner_team", "namespace", "depends_on", "evidence", "dependency"):
            service[key] = f"{key} {injection}"
        service["recommended_action"] = f"action {injection}"
        service["active_monitors"] = [f"monitor {injection}", injection]
        service["name"] = f"svc{number} {injection}"
        service.pop("node", None)
    return document


@pytest.mark.parametrize("injection", INJECTIONS)
async def test_injection_in_every_field_sends_only_the_approved_kinds(
    injection: str, impact_home: Path
) -> None:
    plan = build_plan(validate_document(_injected_handoff(injection)))
    assert plan.is_valid, plan.issues()
    assert_only_allowed_statements([s.sql for s in plan.statements], T)
    posted = PostedStatements()
    async with open_run_session(local_connection(), home=impact_home) as session:
        await session.client.execute(f"CREATE TABLE {OTHER} (a STRING)")
        await session.client.execute(f"INSERT INTO {OTHER} VALUES ('still here')")
        session.http.event_hooks["request"].append(posted)
        approval = Approval(injection, plan.handoff.report.generated_at, plan.digest)
        finished = await run_plan(plan, approval, session, home=impact_home)
        session.http.event_hooks["request"].remove(posted)
        assert finished.verification is not None and finished.verification.ok
        canary = await session.client.execute(f"SELECT a FROM {OTHER}")
        tables = await session.client.execute("SHOW TABLES IN workspace.default")
    assert canary.rows == [["still here"]]
    assert sorted(str(row[1]) for row in tables.rows) == [
        "anyshift_production_impact_reports",
        "canary",
    ]
    sent = [s.sql for s in plan.statements if s is not plan.verify_detail_statement]
    assert posted.statements == sent, "the fingerprints agree: no full read-back"
    assert_only_allowed_statements(posted.statements, T)


MERGE_DELETE = (
    f"MERGE INTO {T} AS t USING (SELECT 'r' AS report_id) AS s ON t.report_id = s.report_id "
    "WHEN MATCHED THEN DELETE"
)
FORBIDDEN = {
    "drop": (f"DROP TABLE {T}", "DROP is not allowed"),
    "delete": (f"DELETE FROM {T} WHERE TRUE", "DELETE is not allowed"),
    "update": (f"UPDATE {T} SET risk_level = 'low'", "UPDATE is not allowed"),
    "insert": (f"INSERT INTO {T} (report_id) VALUES ('x')", "INSERT is not allowed"),
    "insert_overwrite": (f"INSERT OVERWRITE {T} SELECT * FROM {T}", "INSERT is not allowed"),
    "truncate": (f"TRUNCATE TABLE {T}", "is not allowed"),
    "alter": (f"ALTER TABLE {T} ADD COLUMN x STRING", "ALTER is not allowed"),
    "create_or_replace": (
        f"CREATE OR REPLACE TABLE {T} (a STRING)",
        "only CREATE TABLE IF NOT EXISTS",
    ),
    "create_without_if_not_exists": (
        f"CREATE TABLE {T} (a STRING)",
        "only CREATE TABLE IF NOT EXISTS",
    ),
    "create_as_select": (
        f"CREATE TABLE IF NOT EXISTS {T} AS SELECT 1 AS a",
        "CREATE TABLE ... AS SELECT is not allowed",
    ),
    "create_another_table": (
        f"CREATE TABLE IF NOT EXISTS {OTHER} (a STRING)",
        f"touches {OTHER}",
    ),
    "create_view": (f"CREATE VIEW workspace.default.v AS SELECT * FROM {T}", "only CREATE TABLE"),
    "merge_delete": (MERGE_DELETE, "MERGE may only update or insert rows"),
    "merge_into_another_table": (
        MERGE_DELETE.replace(f"INTO {T}", f"INTO {OTHER}").replace("DELETE", "UPDATE SET a = 1"),
        f"touches {OTHER}",
    ),
    "merge_from_another_table": (
        f"MERGE INTO {T} AS t USING {OTHER} AS s ON t.report_id = s.a "
        "WHEN MATCHED THEN UPDATE SET title = s.a",
        f"touches {OTHER}",
    ),
    "two_statements": (f"SELECT * FROM {T}; DROP TABLE {T}", "exactly one statement, found 2"),
    "comment_then_statement": (f"SELECT 1 FROM {T} -- x\n; DROP TABLE {T}", "exactly one"),
    "select_another_table": (f"SELECT * FROM {OTHER}", f"touches {OTHER}"),
    "select_subquery_elsewhere": (
        f"SELECT * FROM {T} WHERE report_id IN (SELECT a FROM {OTHER})",
        f"touches {OTHER}",
    ),
    "select_into": (f"SELECT * INTO {OTHER} FROM {T}", "not allowed"),
    "grant": (f"GRANT SELECT ON TABLE {T} TO `users`", "is not allowed"),
    "copy_into": (f"COPY INTO {T} FROM 's3://bucket/x'", "is not allowed"),
    "set": ("SET spark.sql.ansi.enabled = false", "is not allowed"),
    "use": ("USE CATALOG system", "is not allowed"),
    "optimize": (f"OPTIMIZE {T}", "is not allowed"),
    "vacuum": (f"VACUUM {T}", "is not allowed"),
    "empty": ("", "exactly one statement, found 0"),
    "unparsable": (f"SELEC * FROM {T}", "does not parse"),
    "unterminated_comment": (f"/* SELECT * FROM {T}", "does not parse"),
}


@pytest.mark.parametrize(("sql", "reason"), FORBIDDEN.values(), ids=list(FORBIDDEN))
def test_the_policy_refuses_every_other_statement(sql: str, reason: str) -> None:
    issues = check_statement(sql, T)
    assert issues, f"accepted: {sql}"
    assert reason in "; ".join(str(issue) for issue in issues)
    assert check_whole_statement(sql, T), "the whole-statement path agrees"


def _forged(plan: Plan, sql: str) -> Plan:
    """The plan with its CREATE TABLE replaced by `sql` (a tampered plan whose new digest an
    attacker also managed to get approved)."""
    statements = (Statement(Step.CREATE_TABLE, "create-table", sql), *plan.statements[1:])
    return Plan(plan.handoff, plan.rows, statements)


@pytest.mark.parametrize(("sql", "reason"), FORBIDDEN.values(), ids=list(FORBIDDEN))
async def test_the_executor_sends_nothing_for_a_plan_failing_the_policy(
    sql: str, reason: str, impact_home: Path
) -> None:
    forged = _forged(build_plan(load_handoff(DEMO)), sql)
    approval = Approval("attacker", forged.handoff.report.generated_at, forged.digest)
    assert approval.digest == statements_digest(forged.statements)
    async with open_run_session(local_connection(), home=impact_home) as session:
        with pytest.raises(PlanRefused) as refused:
            await run_plan(forged, approval, session, home=impact_home)
        assert session.client.request_count == 0, "not one request was sent"
    assert reason in str(refused.value)
    assert not (impact_home / "reports").exists(), "no run was even recorded"


PIECES = st.sampled_from(
    [
        ";",
        "; DROP TABLE x",
        " DELETE ",
        "WHEN MATCHED THEN DELETE ",
        f" UNION SELECT * FROM {OTHER} ",
        f", {OTHER} ",
        " -- ",
        "\n",
        "/*",
        "*/",
        "'",
        ")",
        "(",
        f" JOIN {OTHER} ON TRUE ",
        " INTO x ",
        "workspace.default.other",
    ]
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_whatever_the_policy_accepts_is_only_an_approved_kind_on_the_target(
    data: st.DataObject,
) -> None:
    """Mutate the real statements at random places; every mutant the policy lets through must
    pass the independent check (most are refused)."""
    plan = _DEMO_PLAN
    statement = data.draw(st.sampled_from([s.sql for s in plan.statements]))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        at = data.draw(st.integers(min_value=0, max_value=len(statement)))
        statement = statement[:at] + data.draw(PIECES) + statement[at:]
    if not check_statement(statement, T):
        assert_only_allowed_statements([statement], T)


_DEMO_PLAN = build_plan(load_handoff(DEMO))


async def test_read_paths_hold_to_the_policy_too(impact_home: Path) -> None:
    posted = PostedStatements()
    async with open_run_session(local_connection(), home=impact_home) as session:
        session.http.event_hooks["request"].append(posted)
        await run_plan(_DEMO_PLAN, _approval(_DEMO_PLAN), session, home=impact_home)
        hostile_id = "x'; DROP TABLE workspace.default.anyshift_production_impact_reports; --"
        verification = await verify_report(hostile_id, T, session, home=impact_home)
        reports = await list_reports(T, session, home=impact_home)
    assert verification.checks == ()
    assert [r.report_id for r in reports] == ["annie-dbx-checkout-2044"]
    assert_only_allowed_statements(posted.statements, T)


def _approval(plan: Plan) -> Approval:
    return Approval("oncall", plan.handoff.report.generated_at, plan.digest)


@pytest.mark.parametrize("command", ["verify", "reports"])
@pytest.mark.parametrize(
    "table",
    ["", "a.b", "a.b.c.d", "workspace.default.t; DROP TABLE x", "(SELECT 1)", "a..b"],
    ids=["empty", "two_parts", "four_parts", "injection", "subquery", "empty_part"],
)
def test_a_bad_table_option_is_bad_input(
    command: str, table: str, capsys: pytest.CaptureFixture[str], impact_home: Path
) -> None:
    argv = ["verify", "annie-dbx-checkout-2044"] if command == "verify" else ["reports"]
    code = main([*argv, "--table", table, "--warehouse", "local"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        f"impact-review: --table: {table!r} is not a three-part name catalog.schema.table of "
        "letters, digits and '_'"
    ]
    assert not (impact_home / "warehouse").exists(), "refused before opening a warehouse"


def test_reads_of_another_table_through_the_cli_stay_reads(
    capsys: pytest.CaptureFixture[str], impact_home: Path
) -> None:
    local_sql(impact_home, f"CREATE TABLE {OTHER} (a STRING)")
    assert main(["reports", "--table", OTHER, "--warehouse", "local"]) == 3
    capsys.readouterr()
    assert local_sql(impact_home, f"SELECT COUNT(*) FROM {OTHER}") == [["0"]]
