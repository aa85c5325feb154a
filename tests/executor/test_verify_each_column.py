"""Verification names the column of a stored row that differs from the reviewed one, for each
kind of column (text, timestamp, array, the hash itself), however the value was changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.executor import run_plan, verify_report
from core.plan import Plan
from core.verification import RowStatus
from core.warehouse.client import Parameter
from tests.executor.conftest import OpenSession, approve


@pytest.mark.parametrize(
    ("assignment", "value", "column"),
    [
        ("evidence = concat(evidence, :value)", " ", "evidence"),
        ("owner_team = NULL", None, "owner_team"),
        ("title = :value", "NULL", "title"),
        (
            "generated_at = CAST(:value AS TIMESTAMP)",
            "2026-05-12 16:42:00.001+00:00",
            "generated_at",
        ),
        ("active_monitors = ARRAY(:value)", "made-up-monitor", "active_monitors"),
        ("content_hash = :value", "feed", "content_hash"),
    ],
)
async def test_a_changed_column_is_named(
    demo_plan: Plan,
    open_local: OpenSession,
    impact_home: Path,
    assignment: str,
    value: str | None,
    column: str,
) -> None:
    parameters = [Parameter("value", value)] if value is not None else []
    async with open_local() as session:
        await run_plan(demo_plan, approve(demo_plan), session, home=impact_home)
        await session.client.execute(
            f"UPDATE {demo_plan.target_table} SET {assignment} WHERE service_name = 'checkout-api'",
            parameters,
        )
        verification = await verify_report(
            demo_plan.report_id, demo_plan.target_table, session, home=impact_home
        )
    by_service = {check.service_name: check for check in verification.checks}
    changed = by_service.pop("checkout-api")
    assert changed.status is RowStatus.TAMPERED
    assert [difference.column for difference in changed.differences] == [column]
    assert [check.status for check in by_service.values()] == [RowStatus.MATCH]


async def test_reversed_monitors_are_a_change(
    demo_plan: Plan, open_local: OpenSession, impact_home: Path
) -> None:
    (row,) = [row for row in demo_plan.rows if row.service_name == "checkout-api"]
    monitors = row.get("active_monitors")
    assert isinstance(monitors, tuple) and len(monitors) > 1
    reversed_sql = "ARRAY(" + ", ".join(f"'{name}'" for name in reversed(monitors)) + ")"
    async with open_local() as session:
        await run_plan(demo_plan, approve(demo_plan), session, home=impact_home)
        await session.client.execute(
            f"UPDATE {demo_plan.target_table} SET active_monitors = {reversed_sql} "
            "WHERE service_name = 'checkout-api'"
        )
        verification = await verify_report(
            demo_plan.report_id, demo_plan.target_table, session, home=impact_home
        )
    (check,) = [c for c in verification.checks if c.service_name == "checkout-api"]
    assert check.status is RowStatus.TAMPERED
    assert [d.column for d in check.differences] == ["active_monitors"]
