"""`impact-review validate FILE`: check a handoff and the SQL it would produce."""

from __future__ import annotations

import argparse

from core.plan import build_plan
from tui import exit_codes
from tui.commands._shared import BadInput, load_or_raise


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate", help="check a handoff file and the SQL it would produce"
    )
    parser.add_argument("file", help="handoff JSON file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    plan = build_plan(load_or_raise(args.file))
    if not plan.is_valid:
        raise BadInput("\n".join(f"{args.file}: {issue}" for issue in plan.issues()))
    print(
        f"{args.file}: ok: report {plan.report_id}, {len(plan.rows)} row(s) to write, "
        f"{len(plan.skipped_services)} skipped, {len(plan.statements)} statements, "
        f"digest sha256:{plan.digest}"
    )
    return exit_codes.OK
