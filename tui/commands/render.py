"""`impact-review render FILE --out DIR`: write the payload files without running anything."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import UTC, datetime
from pathlib import Path

from core.plan import build_plan
from tui import exit_codes
from tui.commands._shared import BadInput, load_or_raise


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "render",
        help="write runbook.md, the SQL and request bodies, and replay.sh into a folder",
    )
    parser.add_argument("file", help="handoff JSON file")
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    parser.add_argument(
        "--approver", default=None, help="reviewed_by value to bind (default: your OS user)"
    )
    parser.add_argument(
        "--warehouse-id",
        default=None,
        help="warehouse_id in the request bodies (default: $DATABRICKS_SQL_WAREHOUSE_ID, "
        "else a placeholder that replay.sh replaces)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core.payloads import Approval, write_payloads

    plan = build_plan(load_or_raise(args.file))
    if not plan.is_valid:
        raise BadInput("\n".join(f"{args.file}: {issue}" for issue in plan.issues()))
    warehouse_id = (
        args.warehouse_id
        or os.environ.get("DATABRICKS_SQL_WAREHOUSE_ID")
        or os.environ.get("DATABRICKS_WAREHOUSE_ID")
        or "WAREHOUSE_ID"
    )
    approval = Approval(args.approver or getpass.getuser(), datetime.now(UTC), plan.digest)
    try:
        paths = write_payloads(plan, args.out, warehouse_id=warehouse_id, approval=approval)
    except OSError as problem:
        raise BadInput(f"cannot write to {args.out}: {problem.strerror}") from None
    for path in paths:
        print(path)
    print(f"digest sha256:{plan.digest}")
    return exit_codes.OK
