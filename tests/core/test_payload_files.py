"""The payload files hold exactly the texts they stand for, however they are written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import core.sqlgen.statements as sqlgen
from core.payloads import Approval, request_body, statement_file_stem, write_payloads
from core.plan import build_plan
from core.runbook import plan_summary, runbook_markdown, statement_count
from core.steps import Step
from core.synth import synth_handoff


def test_files_hold_the_runbook_the_statements_and_their_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MERGEs are written piece by piece (never joined): each file is byte for byte the text
    it stands for, hostile characters and several MERGEs included."""
    monkeypatch.setattr(sqlgen, "MERGE_ROW_LIMIT", 7)
    plan = build_plan(synth_handoff(40, seed=5))
    assert len(plan.statements_for(Step.UPSERT_ROWS)) > 1
    approval = Approval("oncall", datetime(2026, 11, 26, 12, 0, tzinfo=UTC), plan.digest)
    write_payloads(plan, tmp_path, warehouse_id="w1", approval=approval)
    stems = [statement_file_stem(i, s) for i, s in enumerate(plan.statements)]
    runbook = (tmp_path / "runbook.md").read_text("utf-8")
    assert runbook == runbook_markdown(plan, [f"{stem}.sql" for stem in stems])
    assert runbook.endswith("```\n") and not runbook.endswith("\n\n")
    values = {"reviewed_by": "oncall", "reviewed_at": "2026-11-26 12:00:00.000000+00:00"}
    for stem, statement in zip(stems, plan.statements, strict=True):
        assert f"```sql\n{statement.sql}\n```\n" in runbook
        assert (tmp_path / f"{stem}.sql").read_bytes() == (statement.sql + "\n").encode("utf-8")
        body = (tmp_path / f"{stem}.json").read_text("utf-8")
        whole = json.dumps(request_body(statement, "w1", values), indent=2, ensure_ascii=False)
        assert body == whole + "\n"
        assert json.loads(body)["statement"] == statement.sql


def test_the_conditional_read_back_is_said_to_be_conditional_wherever_statements_are_listed(
    tmp_path: Path,
) -> None:
    plan = build_plan(synth_handoff(40, seed=5))
    detail = plan.verify_detail_statement
    count = len(plan.statements)
    assert statement_count(plan) == f"{count} (1 only if verification finds a difference)"
    assert f"  {detail.name} runs only when a stored row's fingerprint disagrees" in plan_summary(
        plan
    )
    markdown = runbook_markdown(plan)
    after = markdown.split(f"## 5. Verify Databricks impact rows: {detail.name}", 1)[1]
    assert after.splitlines()[2].startswith("This statement runs only when a stored row's")
    assert markdown.count("This statement runs only") == 1
    approval = Approval("oncall", datetime(2026, 11, 26, 12, 0, tzinfo=UTC), plan.digest)
    write_payloads(plan, tmp_path, warehouse_id="w1", approval=approval)
    posts = [
        line.split()[1]
        for line in (tmp_path / "replay.sh").read_text("utf-8").splitlines()
        if line.startswith("post ")
    ]
    stems = [statement_file_stem(i, s) for i, s in enumerate(plan.statements)]
    assert posts == [f"{stem}.json" for stem in stems if stem != f"05-{detail.name}"]
