"""Helpers every command shares: loading a handoff with clean errors, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from core.handoff import Handoff, TableName
from core.loading import HandoffError, load_handoff

BUNDLED_DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "checkout_features.json"
"""The bundled demo handoff (report annie-dbx-checkout-2044)."""


class BadInput(Exception):
    """Input the user must fix; the message is printed as is and the exit code is 2."""


def load_or_raise(path: str | Path) -> Handoff:
    """Load a handoff, turning every problem into a BadInput with one line per problem."""
    try:
        return load_handoff(path)
    except HandoffError as error:
        raise BadInput(error.render()) from None


def table_option(name: str) -> str:
    """A `--table` value, held to the rule the handoff's `target_table` follows (BadInput if
    it breaks it): the table name is SQL, so odd text is refused, not quoted and sent."""
    try:
        return _TABLE_NAME.validate_python(name)
    except ValidationError:
        raise BadInput(
            f"--table: {name!r} is not a three-part name catalog.schema.table of letters, "
            "digits and '_'"
        ) from None


_TABLE_NAME: TypeAdapter[str] = TypeAdapter(TableName)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def error(message: str) -> None:
    """Print a message for the user on stderr, prefixed with the program name."""
    for line in message.splitlines() or [""]:
        print(f"impact-review: {line}", file=sys.stderr)
