"""`impact-review schema`: the JSON Schema of the handoff format."""

from __future__ import annotations

import argparse

from core.handoff import Handoff
from tui import exit_codes
from tui.commands._shared import print_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schema", help="print the handoff format's JSON Schema")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print_json(Handoff.model_json_schema())
    return exit_codes.OK
