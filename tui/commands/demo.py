"""`impact-review demo`: the bundled demo (the review app once it lands; the plan until then)."""

from __future__ import annotations

import argparse

from tui.commands import plan as plan_command
from tui.commands._shared import BUNDLED_DEMO


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="open the bundled demo report")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return plan_command.run(argparse.Namespace(file=str(BUNDLED_DEMO), json=False))
