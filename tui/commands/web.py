"""`impact-review web [FILE] [--port N]`: serve the review app in a browser (textual-serve).

It listens on loopback unless `--host` says otherwise: the app can write to a warehouse with
your credentials, so exposing it on a network is an explicit choice.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from tui.commands._shared import load_or_raise


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("web", help="serve the review app in a browser (loopback)")
    parser.add_argument("file", nargs="?", default=None, help="handoff file (default: the demo)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.set_defaults(handler=run)


def app_command(file: str | None) -> str:
    """The command textual-serve runs for each browser session."""
    parts = [sys.executable, "-m", "tui"]
    parts += ["review", file] if file else ["demo"]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    if args.file:
        load_or_raise(args.file)  # fail here, not in every browser session
    from textual_serve.server import Server

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"impact-review: serving on {args.host}: anyone who can reach it can approve writes",
            file=sys.stderr,
        )
    Server(app_command(args.file), host=args.host, port=args.port, title="impact-review").serve()
    return 0
