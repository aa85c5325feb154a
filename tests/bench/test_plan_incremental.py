"""Rebuilding a plan after an edit reuses what did not change and gives exactly the same plan."""

from __future__ import annotations

import hashlib
import json

import pytest

from core import plan as plan_module
from core.handoff import Handoff, RiskLevel
from core.impact_table import rows_for
from core.loading import load_handoff
from core.plan import Plan, StatementIssue, build_plan, statements_digest
from core.review import Review
from core.sqlgen import policy
from core.sqlgen import statements as sqlgen
from core.sqlgen.statements import ParameterSlot, Statement
from core.steps import Step
from core.synth import synth_handoff
from tests.conftest import DEMO


def reference_digest(statements: list[Statement] | tuple[Statement, ...]) -> str:
    canonical = [
        {
            "name": s.name,
            "sql": s.sql,
            "parameters": [[slot.name, slot.type] for slot in s.parameters],
        }
        for s in statements
    ]
    encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def reference_issues(plan: Plan) -> list[StatementIssue]:
    found = [StatementIssue("plan", issue) for issue in policy.check_target(plan.target_table)]
    if not plan.rows:
        found.append(
            StatementIssue("plan", policy.PolicyIssue("nothing to write: every service is skipped"))
        )
    for statement in plan.statements:
        found += [
            StatementIssue(statement.name, issue)
            for issue in policy.check_whole_statement(statement.sql, plan.target_table)
        ]
    return found


@pytest.fixture(scope="module")
def synth() -> Handoff:
    return synth_handoff(120, seed=5)


def edits(handoff: Handoff) -> list[Handoff]:
    review = Review(handoff)
    written = sorted(s.name for s in handoff.services if s.written)
    first, middle, last = written[0], written[len(written) // 2], written[-1]
    steps = [
        review.cycle_risk(middle),
        review.cycle_risk(middle).set_action(first, "pause ' \\ \n 🚀"),
        review.toggle_included(last),
        review.set_risk(first, RiskLevel.CRITICAL),
        review,
    ]
    return [step.reviewed_handoff() for step in steps]


def test_rebuilt_plans_equal_plans_built_from_scratch(synth: Handoff) -> None:
    for handoff in [synth, *edits(synth), load_handoff(DEMO), synth]:
        plan = build_plan(handoff)
        assert plan.rows == rows_for(handoff)
        assert plan.digest == reference_digest(plan.statements)
        assert plan.issues() == reference_issues(plan)
        sqlgen.clear_caches()
        policy.clear_caches()
        fresh = build_plan(handoff)
        assert fresh.statements == plan.statements and fresh.digest == plan.digest


def test_digest_matches_the_plain_json_formula_for_odd_statements() -> None:
    slot = ParameterSlot("reviewed_by", "STRING")
    odd = [
        Statement(Step.CREATE_TABLE, 'naïve "name" \\', "SELECT '\\n' -- é 🚀\n\t\x01"),
        Statement(Step.UPSERT_ROWS, "", "", (slot,), row_count=3),
        Statement(Step.VERIFY_ROWS, "line\u2028sep", "x" * 70_000 + "\n" + "ü" * 10, (slot, slot)),
    ]
    for statements in (odd, odd[::-1], odd[:1], []):
        assert statements_digest(statements) == reference_digest(statements)
        assert statements_digest(tuple(statements)) == reference_digest(statements)


def test_an_edit_re_joins_only_the_chunk_it_touches(
    synth: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlgen, "MERGE_ROW_LIMIT", 30)
    before = build_plan(synth)
    name = before.rows[5].service_name
    after = build_plan(Review(synth).set_action(name, "hold").reviewed_handoff())
    merges = zip(
        before.statements_for(Step.UPSERT_ROWS), after.statements_for(Step.UPSERT_ROWS), strict=True
    )
    same = [old.source is new.source for old, new in merges]
    assert same[0] is False and all(same[1:])
    assert after.digest == reference_digest(after.statements)


def test_digests_after_edits_in_any_merge_match_the_plain_json_formula(
    synth: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest resumes from the hash state after the statements the previous call began with
    and encodes the first rows again rather than holding them: whichever MERGE an edit touches,
    it is the formula's."""
    monkeypatch.setattr(sqlgen, "MERGE_ROW_LIMIT", 30)
    monkeypatch.setattr(plan_module, "UNCACHED_DIGEST_ROWS", 45)
    names = [row.service_name for row in build_plan(synth).rows]
    review = Review(synth)
    for name in [names[-1], names[0], names[40], names[40], names[70], names[10]]:
        review = review.set_action(name, f"hold {name} ' \\ 🚀")
        plan = build_plan(review.reviewed_handoff())
        assert len(plan.statements_for(Step.UPSERT_ROWS)) == 4
        assert plan.digest == reference_digest(plan.statements)
        shuffled = [plan.statements[0], *plan.statements[:0:-1]]
        assert statements_digest(shuffled) == reference_digest(shuffled)
        assert statements_digest(plan.statements) == reference_digest(plan.statements)


def test_an_edit_in_the_last_merge_feeds_only_what_follows_it(
    synth: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlgen, "MERGE_ROW_LIMIT", 30)
    before = build_plan(synth)
    assert before.digest == reference_digest(before.statements)
    kept = list(plan_module._previous_states)
    edited = Review(synth).set_action(before.rows[-1].service_name, "hold").reviewed_handoff()
    after = build_plan(edited)
    assert after.digest == reference_digest(after.statements)
    merges = len(after.statements_for(Step.UPSERT_ROWS))
    now = plan_module._previous_states
    assert all(old is new for old, new in zip(kept[:merges], now[:merges], strict=True))
    assert all(old is not new for old, new in zip(kept[merges:], now[merges:], strict=True))
