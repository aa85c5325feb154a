"""`impact-review warehouse serve`: the embedded warehouse over HTTP, for any Databricks client.

Binds loopback unless `--allow-remote` is given (plain HTTP with a bearer token must not face a
network by accident), prints the DATABRICKS_* settings to use, and keeps its data under
IMPACT_REVIEW_HOME so it survives restarts.
"""

from __future__ import annotations

import argparse

from tui import exit_codes
from tui.commands._shared import error

DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "warehouse",
        help="the embedded warehouse (Databricks SQL API over DuckDB)",
        description="The embedded warehouse: the Databricks SQL Statement Execution API over "
        "DuckDB, with its data under IMPACT_REVIEW_HOME.",
    )
    commands = parser.add_subparsers(dest="warehouse_command", metavar="SUBCOMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve it over HTTP and print the DATABRICKS_* settings to use",
        description="Serve the embedded warehouse over HTTP for any Databricks client (SDK, "
        "curl, ...). Prints DATABRICKS_HOST, DATABRICKS_TOKEN and DATABRICKS_SQL_WAREHOUSE_ID.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}; 0: any free)",
    )
    serve.add_argument(
        "--faults",
        default="none",
        help="faults to inject: 'none', 'demo', or items such as "
        "'cold_start=2,latency=1,429_every=3,503_every=5,retry_after=1,lose=MERGE,fail=DROP'",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding an address other than loopback (plain HTTP: trusted networks only)",
    )
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from core.embedded import parse_faults
    from core.embedded.serve import is_loopback, serve
    from core.home import impact_home

    try:
        faults = parse_faults(args.faults)
    except ValueError as problem:
        error(f"--faults: {problem}")
        return exit_codes.BAD_INPUT
    if not 0 <= args.port <= 65535:
        error(f"--port: {args.port} is not a port number (0-65535)")
        return exit_codes.BAD_INPUT
    if not is_loopback(args.host) and not args.allow_remote:
        error(
            f"--host {args.host} is not a loopback address; the warehouse speaks plain HTTP with "
            "a bearer token, so add --allow-remote if you really mean to expose it"
        )
        return exit_codes.BAD_INPUT
    try:
        serve(home=impact_home(), host=args.host, port=args.port, faults=faults)
    except OSError as problem:
        error(f"warehouse serve: {problem}")
        return exit_codes.WAREHOUSE
    except RuntimeError as problem:
        error(f"warehouse serve: {problem}")
        return exit_codes.WAREHOUSE
    return exit_codes.OK
