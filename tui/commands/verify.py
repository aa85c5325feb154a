"""`impact-review verify REPORT_ID [--json]`: read a report back and check every row."""

from __future__ import annotations

import argparse
import asyncio

from core.impact_table import DEFAULT_TABLE
from core.verification import Verification
from tui import exit_codes
from tui.commands._render import verification_table
from tui.commands._shared import print_json, table_option
from tui.commands._warehouse_args import (
    add_warehouse_arguments,
    connection_from,
    faults_from,
    guarded,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify", help="re-verify a report in the impact table (exit 1 on any mismatch)"
    )
    parser.add_argument("report_id", help="report id, e.g. annie-dbx-checkout-2044")
    parser.add_argument(
        "--table",
        default=None,
        help=f"impact table (default: the one this report was applied to, else {DEFAULT_TABLE})",
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    add_warehouse_arguments(parser)
    parser.set_defaults(handler=run)


def verification_json(verification: Verification) -> dict[str, object]:
    return {
        "report_id": verification.report_id,
        "ok": verification.ok,
        "compared_with_approval": verification.compared_with_approval,
        "summary": verification.summary(),
        "rows": [
            {
                "service_name": check.service_name,
                "status": check.status.value,
                "differences": [vars(d) for d in check.differences],
            }
            for check in verification.checks
        ],
    }


def run(args: argparse.Namespace) -> int:
    from core.executor import open_run_session, verify_report
    from core.runs import approved_table

    if args.table is not None:
        table_option(args.table)
    table = args.table or approved_table(args.report_id) or DEFAULT_TABLE
    connection = connection_from(args)
    faults = faults_from(args)

    async def work() -> Verification:
        async with open_run_session(connection, faults=faults) as session:
            return await verify_report(args.report_id, table, session)

    verification = asyncio.run(guarded(work))
    if args.json:
        print_json(verification_json(verification))
    else:
        if verification.checks:
            print(verification_table(verification))
            print()
        for check in verification.checks:
            if check.differences or check.status.value != "match":
                print(f"  {check.describe()}")
        print(verification.summary())
    return exit_codes.OK if verification.ok else exit_codes.VERIFICATION_MISMATCH
