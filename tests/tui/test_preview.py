"""The SQL preview's rendering: error lines marked, long statements capped, copy is complete."""

from __future__ import annotations

from core.handoff import Handoff
from core.plan import StatementIssue, build_plan
from core.sqlgen.policy import PolicyIssue
from core.sqlgen.statements import Statement, upserts
from core.steps import Step
from core.synth import synth_handoff
from tui.validation import IncrementalValidator
from tui.widgets.sql_preview import (
    MAX_PREVIEW_CHARS,
    _capped,
    _capped_pieces,
    render_statement,
    sql_script,
)


def test_error_line_is_marked() -> None:
    statement = Statement(Step.CREATE_TABLE, "broken", "SELECT 1\nFROM (\nWHERE")
    issue = StatementIssue("broken", PolicyIssue("does not parse", line=2, column=6))
    content = render_statement(statement, [issue])
    text = content.plain
    start = text.index("FROM (")
    marked = [(span.start, span.end) for span in content.spans if "error-muted" in str(span.style)]
    assert marked == [(start, start + len("FROM ("))]


def test_long_statements_are_capped_but_copy_is_complete(demo: Handoff) -> None:
    long_line = "x" * (MAX_PREVIEW_CHARS * 2)
    shown, hidden = _capped(long_line)
    assert len(shown) <= MAX_PREVIEW_CHARS + 2 and hidden == 1
    lines = "\n".join(f"row {n}" for n in range(1_000))
    shown, hidden = _capped(lines, 400)
    assert shown.count("\n") == 399 and hidden == 600
    plan = build_plan(demo)
    script = sql_script(plan)
    assert all(statement.sql in script for statement in plan.statements)


def test_incremental_validation_matches_the_plan(demo: Handoff) -> None:
    validator = IncrementalValidator()
    plan = build_plan(demo)
    assert validator.issues(plan) == []
    parsed = validator.parsed
    service = demo.services[1].model_copy(update={"recommended_action": "changed"})
    edited = demo.model_copy(update={"services": [demo.services[0], service, demo.services[2]]})
    edited_plan = build_plan(edited)
    assert validator.issues(edited_plan) == build_plan(edited).issues() == []
    assert validator.parsed == parsed + 1  # only the MERGE changed


def test_a_statement_kept_as_pieces_is_capped_as_its_whole_text() -> None:
    rows = build_plan(synth_handoff(300, seed=3)).rows
    (merge,) = upserts("main.impact.reports", rows)
    pieces = merge.pieces()
    for limit, chars in ((400, MAX_PREVIEW_CHARS), (3, 50), (10_000, 1_000_000), (1, 5)):
        assert _capped_pieces(pieces, limit, chars) == _capped(merge.sql, limit, chars)
