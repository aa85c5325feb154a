"""`impact-review review FILE` (or `impact-review FILE`): open the review app on a handoff."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands._shared import load_or_raise
from tui.commands._warehouse_args import add_warehouse_arguments, faults_from


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("review", help="open the review app on a handoff file")
    parser.add_argument("file", help="handoff JSON file")
    add_app_arguments(parser)
    add_warehouse_arguments(parser)
    parser.set_defaults(handler=run)


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every command that opens the app shares."""
    parser.add_argument("--approver", default=None, help="who approves (default: your OS user)")
    parser.add_argument("--theme", default=None, help="Textual theme, e.g. textual-light")


def run(args: argparse.Namespace) -> int:
    handoff = load_or_raise(args.file)
    return open_app(handoff, str(args.file), args, faults=faults_from(args))


def open_app(
    handoff: object, source: str, args: argparse.Namespace, *, faults: object = None
) -> int:
    """Resolve the warehouse (a bad configuration is shown in the app), then run the app."""
    from dataclasses import replace

    from core.config_file import load_config
    from core.handoff import Handoff
    from core.warehouse.config import resolve_connection
    from core.warehouse.errors import ConfigError
    from tui.app import ImpactReviewApp
    from tui.context import AppContext

    assert isinstance(handoff, Handoff)
    config = load_config()
    if getattr(args, "theme", None):
        config = replace(config, theme=args.theme)
    context = AppContext(faults=faults)  # type: ignore[arg-type]
    try:
        context.connection = resolve_connection(
            warehouse=getattr(args, "warehouse", "auto"), profile=getattr(args, "profile", None)
        )
    except ConfigError as error:
        context.connection_error = str(error)
    context.approver = getattr(args, "approver", None) or config.approver or context.approver
    context.export_dir = Path.cwd()
    ImpactReviewApp(handoff, source=source, context=context, config=config).run()
    return 0
