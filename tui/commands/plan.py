"""`impact-review plan FILE [--json]`: what a write would do, without doing it."""

from __future__ import annotations

import argparse
from typing import Any

from core.plan import Plan, build_plan
from core.runbook import plan_summary, plan_text
from core.steps import CONDITIONS
from tui import exit_codes
from tui.commands._shared import load_or_raise, print_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("plan", help="show the write plan and runbook for a handoff")
    parser.add_argument("file", help="handoff JSON file")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.set_defaults(handler=run)


def plan_as_json(plan: Plan) -> dict[str, Any]:
    """The plan as data: what scripts read from `plan --json`."""
    return {
        "report_id": plan.report_id,
        "target_table": plan.target_table,
        "plan": plan_text(plan).splitlines(),
        "rows": len(plan.rows),
        "written": [
            {"service": s.name, "owner_team": s.owner_team, "risk_level": s.risk_level.value}
            for s in plan.written_services
        ],
        "skipped": [
            {"service": s.name, "owner_team": s.owner_team, "reason": s.skip_reason}
            for s in plan.skipped_services
        ],
        "highest_risk": plan.highest_risk.value if plan.highest_risk else None,
        "statements": [
            {
                "name": s.name,
                "step": s.step.value,
                "rows": s.row_count,
                "runs": CONDITIONS.get(s.name, "always"),
            }
            for s in plan.statements
        ],
        "digest": plan.digest,
        "valid": plan.is_valid,
        "issues": [str(issue) for issue in plan.issues()],
    }


def run(args: argparse.Namespace) -> int:
    plan = build_plan(load_or_raise(args.file))
    if args.json:
        print_json(plan_as_json(plan))
    else:
        print(plan_summary(plan))
    return exit_codes.OK if plan.is_valid else exit_codes.BAD_INPUT
