"""`impact-review demo` (and `impact-review` alone): the bundled demo in the review app.

It writes to the embedded warehouse with the `demo` fault profile, so the status panes visibly
move through PENDING and RUNNING without any credentials.
"""

from __future__ import annotations

import argparse

from tui.commands._shared import BUNDLED_DEMO, load_or_raise
from tui.commands.review import add_app_arguments, open_app


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="open the bundled demo in the review app (embedded warehouse, no credentials)"
    )
    add_app_arguments(parser)
    parser.add_argument(
        "--faults", default="demo", help="embedded warehouse fault profile (default: demo)"
    )
    parser.set_defaults(handler=run, warehouse="local", profile=None)


def run(args: argparse.Namespace) -> int:
    from tui.commands._warehouse_args import faults_from

    handoff = load_or_raise(BUNDLED_DEMO)
    return open_app(handoff, str(BUNDLED_DEMO), args, faults=faults_from(args))
