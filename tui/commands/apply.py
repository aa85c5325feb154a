"""`impact-review apply FILE [--yes] [--approver NAME]`: approve the plan and write it.

Without `--yes` the plan is shown and a y/N question asked on the terminal; with no terminal the
command refuses rather than write unapproved rows.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.events import Outcome, RunFinished
from core.plan import Plan, build_plan
from core.runbook import plan_summary
from tui import exit_codes
from tui.commands._render import print_event, print_failure, verification_table
from tui.commands._shared import BadInput, load_or_raise, print_json
from tui.commands._warehouse_args import (
    WarehouseUnavailable,
    add_warehouse_arguments,
    connection_from,
    faults_from,
    guarded,
)

if TYPE_CHECKING:  # the client (httpx) and sqlglot load when the command runs, not with --help
    from core.payloads import Approval

OUTCOME_EXIT = {
    Outcome.SUCCEEDED: exit_codes.OK,
    Outcome.MISMATCH: exit_codes.VERIFICATION_MISMATCH,
    Outcome.FAILED: exit_codes.WAREHOUSE,
    Outcome.CANCELED: exit_codes.INTERRUPTED,
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "apply", help="approve a handoff's plan and write it to the impact table, then verify"
    )
    parser.add_argument("file", help="handoff JSON file (or one exported from the review app)")
    parser.add_argument("--yes", "-y", action="store_true", help="approve without asking")
    parser.add_argument("--approver", default=None, help="who approves (default: your OS user)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_warehouse_arguments(parser)
    parser.set_defaults(handler=run)


def _approve(plan: Plan, args: argparse.Namespace, warehouse: str) -> Approval:
    approver = args.approver or getpass.getuser()
    if not args.yes:
        if not sys.stdin.isatty():
            raise BadInput("refusing to write without approval: pass --yes, or run in a terminal")
        risk = plan.highest_risk.value if plan.highest_risk else "none"
        question = (
            f"Write {len(plan.rows)} row(s) (highest risk {risk}) to {plan.target_table} "
            f"on {warehouse} as {approver}? [y/N] "
        )
        answer = input(question).strip().lower()
        if answer not in {"y", "yes"}:
            raise BadInput("not approved: nothing was written")
    from core.payloads import Approval

    return Approval(approver, datetime.now(UTC), plan.digest)


def result_json(event: RunFinished) -> dict[str, Any]:
    verification = event.verification
    return {
        "outcome": event.outcome.value,
        "run_dir": str(event.run_dir),
        "elapsed_s": round(event.elapsed_s, 3),
        "verification": None
        if verification is None
        else {
            "ok": verification.ok,
            "summary": verification.summary(),
            "rows": [
                {
                    "service_name": check.service_name,
                    "status": check.status.value,
                    "differences": [vars(d) for d in check.differences],
                }
                for check in verification.checks
            ],
        },
        "failure": None if event.failure is None else vars(event.failure),
    }


def run(args: argparse.Namespace) -> int:
    from core.executor import ApprovalMismatch, PlanRefused, open_run_session, run_plan

    plan = build_plan(load_or_raise(args.file))
    if not plan.is_valid:
        raise BadInput("\n".join(f"{args.file}: {issue}" for issue in plan.issues()))
    connection = connection_from(args)
    faults = faults_from(args)
    if not args.json:
        print(plan_summary(plan), flush=True)
        print(flush=True)
    approval = _approve(plan, args, connection.describe())

    async def execute() -> RunFinished:
        async with open_run_session(connection, faults=faults) as session:
            return await run_plan(
                plan, approval, session, on_event=None if args.json else print_event
            )

    try:
        finished = asyncio.run(guarded(execute))
    except (ApprovalMismatch, PlanRefused) as refused:
        raise BadInput(str(refused)) from None
    except WarehouseUnavailable:
        raise
    if args.json:
        print_json(result_json(finished))
    else:
        if finished.verification is not None:
            print()
            print(verification_table(finished.verification))
            print()
            print(finished.verification.summary())
        print_failure(finished)
    return OUTCOME_EXIT[finished.outcome]
