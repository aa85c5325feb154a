"""Warehouse options shared by the commands that talk to a warehouse, and their errors."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from core.warehouse.config import Connection, resolve_connection
from core.warehouse.errors import ConfigError

if TYPE_CHECKING:
    from core.embedded import FaultProfile

T = TypeVar("T")


class WarehouseUnavailable(Exception):
    """Auth, warehouse or network failure: the message is printed and the exit code is 3."""


def add_warehouse_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("warehouse")
    group.add_argument(
        "--warehouse",
        choices=("auto", "local", "databricks"),
        default="auto",
        help="local: the embedded DuckDB warehouse; databricks: the configured workspace; "
        "auto (default): Databricks when credentials are configured, else local",
    )
    group.add_argument("--profile", default=None, help="profile in ~/.databrickscfg")
    group.add_argument(
        "--faults",
        default=None,
        help="fault profile for the embedded warehouse, e.g. 'demo' or 'latency=1,503_every=3'",
    )


def connection_from(args: argparse.Namespace) -> Connection:
    try:
        return resolve_connection(warehouse=args.warehouse, profile=args.profile)
    except ConfigError as error:
        raise WarehouseUnavailable(str(error)) from None


def faults_from(args: argparse.Namespace) -> FaultProfile | None:
    if not args.faults:
        return None
    from core.embedded import parse_faults

    try:
        return parse_faults(args.faults)
    except ValueError as error:
        from tui.commands._shared import BadInput

        raise BadInput(f"--faults: {error}") from None


async def guarded(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work`, turning warehouse errors into WarehouseUnavailable."""
    from core.warehouse.errors import WarehouseError

    try:
        return await work()
    except WarehouseError as error:
        raise WarehouseUnavailable(str(error)) from None
