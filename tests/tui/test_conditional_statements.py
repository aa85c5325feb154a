"""The preview says which statement runs only on a condition: the full read-back."""

from __future__ import annotations

from core.loading import load_handoff
from core.plan import build_plan
from tests.conftest import DEMO
from tui.widgets.sql_preview import render_statement


def test_the_full_read_backs_heading_says_when_it_runs() -> None:
    plan = build_plan(load_handoff(DEMO))
    detail = render_statement(plan.verify_detail_statement).plain.splitlines()[0]
    assert detail == (
        "-- 5. Verify Databricks impact rows: verify-rows-detail (runs only when a stored "
        "row's fingerprint disagrees with the approved row)"
    )
    always = render_statement(plan.verify_statement).plain.splitlines()[0]
    assert always == "-- 5. Verify Databricks impact rows: verify-rows"
