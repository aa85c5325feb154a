"""`impact-review reports [--json]`: the reports in the impact table."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from typing import TYPE_CHECKING

from core.impact_table import DEFAULT_TABLE
from tui import exit_codes
from tui.commands._render import table
from tui.commands._shared import print_json, table_option
from tui.commands._warehouse_args import (
    add_warehouse_arguments,
    connection_from,
    faults_from,
    guarded,
)

if TYPE_CHECKING:  # the client (httpx) and sqlglot load when the command runs, not with --help
    from core.executor import ReportSummary


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("reports", help="list the reports in the impact table")
    parser.add_argument("--table", default=DEFAULT_TABLE, help=f"default: {DEFAULT_TABLE}")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    add_warehouse_arguments(parser)
    parser.set_defaults(handler=run)


def _verified(summary: ReportSummary) -> str:
    if summary.last_verified is None:
        return "never"
    verdict = "ok" if summary.last_verification_ok else "MISMATCH"
    return f"{summary.last_verified} {verdict}"


def run(args: argparse.Namespace) -> int:
    from core.executor import list_reports, open_run_session

    table_option(args.table)
    connection = connection_from(args)
    faults = faults_from(args)

    async def work() -> list[ReportSummary]:
        async with open_run_session(connection, faults=faults) as session:
            return await list_reports(args.table, session)

    summaries = asyncio.run(guarded(work))
    if args.json:
        print_json([dataclasses.asdict(summary) for summary in summaries])
        return exit_codes.OK
    if not summaries:
        print(f"no reports in {args.table}")
        return exit_codes.OK
    rows = [
        [
            s.report_id,
            str(s.rows),
            s.generated_at or "",
            s.reviewed_at or "",
            s.reviewed_by or "",
            _verified(s),
        ]
        for s in summaries
    ]
    print(
        table(["report_id", "rows", "generated_at", "reviewed_at", "reviewed_by", "verified"], rows)
    )
    return exit_codes.OK
