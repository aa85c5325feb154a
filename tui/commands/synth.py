"""`impact-review synth --services N [--seed S] --out FILE`: write a synthetic handoff."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.synth import write_synth
from tui import exit_codes
from tui.commands._shared import BadInput


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic handoff with N services (for benchmarks and scale tests)",
        description="Write a valid synthetic handoff: many owners and monitors, some skipped "
        "services, long evidence and hostile characters. The same seed gives the same file.",
    )
    parser.add_argument("--services", required=True, type=int, metavar="N", help="services")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (0)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="file to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.services < 1:
        raise BadInput("--services must be at least 1")
    try:
        size = write_synth(args.out, args.services, seed=args.seed)
    except OSError as problem:
        raise BadInput(f"cannot write {args.out}: {problem.strerror}") from None
    print(f"{args.out}: {args.services:,} services, seed {args.seed}, {size:,} bytes")
    return exit_codes.OK
