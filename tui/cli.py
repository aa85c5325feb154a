"""The `impact-review` command line: argument parsing and dispatch to one module per command.

Each command lives in `tui/commands/<name>.py` and exposes `register(subparsers)`, which adds its
parser and sets `handler`, a function taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol

from tui import exit_codes
from tui.commands._shared import BadInput, error
from tui.commands._warehouse_args import WarehouseUnavailable

COMMAND_MODULES = (
    "review",
    "demo",
    "plan",
    "render",
    "validate",
    "schema",
    "apply",
    "verify",
    "reports",
    "warehouse",
    "web",
    "synth",
)
"""Command modules under tui.commands, in the order `--help` lists them."""


class Handler(Protocol):
    def __call__(self, args: argparse.Namespace) -> int: ...


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The full parser, with every command that is installed, and the command names."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("impact-review")
    except PackageNotFoundError:
        installed = "unknown"
    parser = argparse.ArgumentParser(
        prog="impact-review",
        description="Review a production-impact report, write it to Databricks exactly as "
        "reviewed, and verify it landed.",
    )
    parser.add_argument("--version", action="version", version=f"impact-review {installed}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"tui.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"tui.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser, set(subparsers.choices)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser, known = build_parser()
    if not arguments:
        arguments = ["demo"]
    elif arguments[0] not in known and not arguments[0].startswith("-"):
        arguments = ["review", *arguments]
    args = parser.parse_args(arguments)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BadInput as problem:
        error(str(problem))
        return exit_codes.BAD_INPUT
    except WarehouseUnavailable as problem:
        error(str(problem))
        return exit_codes.WAREHOUSE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exit_codes.INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
