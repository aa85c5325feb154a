"""What was reviewed is what runs: changing the handoff, the draft or a statement after approval
makes execution refuse, showing both digests, before a single request is sent."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.drafts import draft_path, load_draft, save_draft
from core.executor import ApprovalMismatch, open_run_session, run_plan
from core.handoff import RiskLevel
from core.loading import load_handoff
from core.payloads import Approval, parameter_values
from core.plan import Plan, build_plan, statements_digest
from core.review import Review
from core.sqlgen.statements import ParameterSlot, Statement
from core.warehouse.client import Parameter
from core.warehouse.config import local_connection
from tests.reliability.conftest import DEMO, PostedStatements

APPROVED_AT = datetime(2026, 5, 12, 17, 5, tzinfo=UTC)


def _approve(plan: Plan) -> Approval:
    return Approval("oncall@example.com", APPROVED_AT, plan.digest)


async def _refused(plan: Plan, approval: Approval, home: Path) -> ApprovalMismatch:
    """Run `plan` under `approval`; assert it is refused before any request or run record."""
    async with open_run_session(local_connection(), home=home) as session:
        with pytest.raises(ApprovalMismatch) as refused:
            await run_plan(plan, approval, session, home=home)
        assert session.client.request_count == 0, "not one request was sent"
    assert not (home / "reports").exists(), "no run was recorded"
    message = str(refused.value)
    assert f"approved digest sha256:{approval.digest}" in message
    assert f"statements now sha256:{statements_digest(plan.statements)}" in message
    return refused.value


async def test_a_handoff_changed_after_approval_is_refused(
    impact_home: Path, tmp_path: Path
) -> None:
    approved = build_plan(load_handoff(DEMO))
    approval = _approve(approved)
    changed_file = tmp_path / "handoff.json"
    document = json.loads(DEMO.read_text(encoding="utf-8"))
    document["services"][0]["recommended_action"] = "nothing to see here"
    changed_file.write_text(json.dumps(document), encoding="utf-8")
    refused = await _refused(build_plan(load_handoff(changed_file)), approval, impact_home)
    assert refused.approved == approved.digest


async def test_a_draft_changed_on_disk_after_approval_is_refused(impact_home: Path) -> None:
    handoff = load_handoff(DEMO)
    review = Review(handoff).set_risk("risk-worker", RiskLevel.CRITICAL)
    save_draft(review, impact_home)
    approval = _approve(build_plan(review.reviewed_handoff()))
    path = draft_path(handoff, impact_home)
    draft = json.loads(path.read_text(encoding="utf-8"))
    draft["edits"]["risk-worker"]["risk_level"] = "low"
    path.write_text(json.dumps(draft), encoding="utf-8")
    restored = load_draft(handoff, impact_home)
    assert restored is not None
    await _refused(build_plan(restored.review.reviewed_handoff()), approval, impact_home)


async def test_an_edit_made_after_approval_is_refused(impact_home: Path) -> None:
    review = Review(load_handoff(DEMO)).set_action("checkout-api", "page the owner")
    approval = _approve(build_plan(review.reviewed_handoff()))
    later = review.set_included("risk-worker", False)
    await _refused(build_plan(later.reviewed_handoff()), approval, impact_home)


async def test_a_statement_changed_after_approval_is_refused(impact_home: Path) -> None:
    plan = build_plan(load_handoff(DEMO))
    approval = _approve(plan)
    merge = plan.statements[1]
    tampered_sql = merge.sql.replace("'high'", "'low'", 1)
    assert tampered_sql != merge.sql
    tampered = replace(plan, statements=(plan.statements[0], replace(merge, source=tampered_sql)))
    await _refused(tampered, approval, impact_home)


async def test_a_statement_changed_in_place_after_approval_is_refused(impact_home: Path) -> None:
    """Even when the plan object itself is altered after its digest and verdict were cached
    (the executor recomputes both from the statements it is about to send)."""
    plan = build_plan(load_handoff(DEMO))
    approval = _approve(plan)
    assert plan.is_valid and plan.digest == approval.digest  # cached now
    drop = replace(plan.statements[0], source=f"DROP TABLE {plan.target_table}")
    object.__setattr__(plan, "statements", (drop, *plan.statements[1:]))
    await _refused(plan, approval, impact_home)


async def test_a_merge_altered_in_place_after_approval_is_refused(impact_home: Path) -> None:
    """A MERGE is kept as its pieces (`MergeText`): replacing its rows inside the very object
    the plan holds changes the digest, and the policy judges the new rows, not the old verdict."""
    plan = build_plan(load_handoff(DEMO))
    approval = _approve(plan)
    assert plan.is_valid and plan.digest == approval.digest  # cached now
    merge = plan.statements[1].merge
    assert merge is not None
    stray = merge.rows[0].replace("'high'", f"(SELECT secret FROM {plan.target_table}_x)", 1)
    assert stray != merge.rows[0]
    object.__setattr__(merge, "rows", (stray, *merge.rows[1:]))
    assert build_plan(load_handoff(DEMO)).issues() == []  # a fresh build is untouched
    altered = Plan(plan.handoff, plan.rows, plan.statements)
    assert altered.issues(), "the altered rows are judged again"
    await _refused(plan, approval, impact_home)


async def test_parameter_slots_are_part_of_what_is_approved(impact_home: Path) -> None:
    plan = build_plan(load_handoff(DEMO))
    approval = _approve(plan)
    merge = plan.statements[1]
    extra = replace(merge, parameters=(*merge.parameters, ParameterSlot("extra", "STRING")))
    tampered = replace(plan, statements=(plan.statements[0], extra, *plan.statements[2:]))
    await _refused(tampered, approval, impact_home)


@pytest.mark.parametrize("stray_row", [False, True], ids=["verified", "stray-row"])
async def test_what_is_sent_is_byte_for_byte_what_was_approved(
    impact_home: Path, stray_row: bool
) -> None:
    """Every statement of the plan is sent, in order, byte for byte, except the full read-back
    when the fingerprints agree (a stray row of the report makes them disagree)."""
    plan = build_plan(load_handoff(DEMO))
    approval = _approve(plan)
    posted = PostedStatements()
    async with open_run_session(local_connection(), home=impact_home) as session:
        if stray_row:
            await session.client.execute(plan.statements[0].sql)
            await session.client.execute(
                f"INSERT INTO {plan.target_table} (report_id, service_name) "
                "VALUES (:report_id, 'stray-service')",
                [Parameter("report_id", plan.report_id)],
            )
        session.http.event_hooks["request"].append(posted)
        finished = await run_plan(plan, approval, session, home=impact_home)
    assert finished.verification is not None
    assert finished.verification.ok is not stray_row
    expected = [s for s in plan.statements if stray_row or s is not plan.verify_detail_statement]
    assert len(posted.bodies) == len(expected)
    sent = [
        replace(
            statement,
            source=body["statement"],
            parameters=tuple(
                ParameterSlot(p["name"], p["type"]) for p in body.get("parameters", [])
            ),
        )
        for statement, body in zip(expected, posted.bodies, strict=True)
    ]

    def shown(statements: list[Statement]) -> list[tuple[str, str, tuple[ParameterSlot, ...]]]:
        return [(s.name, s.sql, s.parameters) for s in statements]

    assert shown(sent) == shown(expected)
    if not stray_row:
        sent.append(plan.verify_detail_statement)
    assert statements_digest(sent) == approval.digest
    values = parameter_values(approval)
    for body in posted.bodies:
        for parameter in body.get("parameters", []):
            assert parameter["value"] == values[parameter["name"]]
    recorded = json.loads((finished.run_dir / "approval.json").read_text(encoding="utf-8"))
    assert recorded["digest"] == approval.digest
