"""Read a handoff file and turn every problem into one line naming its JSON path.

Reviewers meet these messages first when upstream sends something broken, so each one says
where (`services[1].risk_level`) and what (`must be one of low, medium, high, critical`), and
nothing ever surfaces as a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from core.handoff import Handoff

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Files larger than this are refused before parsing (override: IMPACT_REVIEW_MAX_HANDOFF_BYTES)."""

MAX_NESTING = 64
"""The format nests five levels deep; anything far deeper is junk and is refused early."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a handoff: where (a JSON path, '' for the whole file) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class HandoffError(Exception):
    """A handoff file that cannot be used, with every problem found in it."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """One line per problem, prefixed with the file name."""
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)


def max_handoff_bytes() -> int:
    """The configured size limit for handoff files."""
    configured = os.environ.get("IMPACT_REVIEW_MAX_HANDOFF_BYTES", "")
    return int(configured) if configured.isdigit() else DEFAULT_MAX_BYTES


def load_handoff(path: str | Path, *, max_bytes: int | None = None) -> Handoff:
    """Read and validate a handoff file, raising HandoffError with every problem found."""
    source = str(path)
    limit = max_handoff_bytes() if max_bytes is None else max_bytes
    try:
        size = os.stat(path).st_size
        if size > limit:
            raise HandoffError(
                source, [Problem("", f"file is {size:,} bytes, over the {limit:,}-byte limit")]
            )
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise HandoffError(source, [Problem("", "no such file")]) from None
    except IsADirectoryError:
        raise HandoffError(source, [Problem("", "is a directory, not a handoff file")]) from None
    except PermissionError:
        raise HandoffError(source, [Problem("", "permission denied")]) from None
    if len(raw) > limit:
        raise HandoffError(source, [Problem("", f"file is over the {limit:,}-byte limit")])
    return parse_handoff(raw, source=source)


def parse_handoff(raw: bytes | str, *, source: str = "<handoff>") -> Handoff:
    """Validate handoff JSON text or bytes, raising HandoffError with every problem found."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"not UTF-8 text: byte 0x{raw[error.start]:02x} at offset {error.start}"
            raise HandoffError(source, [Problem("", message)]) from None
    else:
        text = raw
    text = text.removeprefix("\ufeff")
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as error:
        message = f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        raise HandoffError(source, [Problem("", message)]) from None
    except _DuplicateKey as error:
        raise HandoffError(source, [Problem("", f"duplicate key {error.key!r}")]) from None
    except RecursionError:
        raise HandoffError(source, [Problem("", "nesting is too deep")]) from None
    return validate_document(document, source=source)


def validate_document(document: Any, *, source: str = "<handoff>") -> Handoff:
    """Validate an already-decoded JSON document as a handoff."""
    if _depth(document) > MAX_NESTING:
        raise HandoffError(source, [Problem("", f"nesting is deeper than {MAX_NESTING} levels")])
    if not isinstance(document, dict):
        raise HandoffError(source, [Problem("", "top level must be a JSON object")])
    try:
        return Handoff.model_validate(document)
    except ValidationError as error:
        raise HandoffError(source, problems_from(error)) from None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, computed without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_NESTING:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def json_path(location: Sequence[int | str]) -> str:
    """`('services', 1, 'risk_level')` → `services[1].risk_level`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def problems_from(error: ValidationError) -> list[Problem]:
    """Translate pydantic's errors into one Problem per issue, in document order."""
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        problems.extend(_problems_for(detail))
    return problems


def _problems_for(detail: ErrorDetails) -> list[Problem]:
    location = [part for part in detail["loc"] if not _is_union_tag(part)]
    path = json_path(location)
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind == "value_error":
        return _custom_problems(path, str(context.get("error", detail["msg"])))
    message = _MESSAGES.get(kind)
    if message is None:
        if kind == "enum":
            expected = str(context.get("expected", "")).replace("'", "").replace(" or ", ", ")
            message = f"must be one of {expected}"
        elif kind == "literal_error":
            message = f"must be {str(context.get('expected', '')).replace(chr(39), '')}"
        elif kind == "string_too_long":
            message = f"is longer than {context.get('max_length')} characters"
        elif kind == "string_pattern_mismatch":
            message = _PATTERN_MESSAGES.get(
                str(location[-1]) if location else "", "has a bad format"
            )
        else:
            message = detail["msg"][:1].lower() + detail["msg"][1:]
    return [Problem(path, message)]


def _custom_problems(path: str, text: str) -> list[Problem]:
    """Model validators report 'field: message' lines relative to the model they check."""
    problems = []
    for line in text.removeprefix("Value error, ").splitlines():
        field, sep, message = line.partition(": ")
        if sep and " " not in field:
            problems.append(Problem(f"{path}.{field}" if path else field, message))
        else:
            problems.append(Problem(path, line))
    return problems


def _is_union_tag(part: int | str) -> bool:
    return isinstance(part, str) and (part.startswith(("function-", "nullable[")) or part in _TAGS)


_TAGS = {"str", "int", "bool", "list[str]", "constrained-str"}

_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_too_short": "must not be empty",
    "timezone_aware": "must include a time zone (e.g. Z or +00:00)",
    "datetime_type": "must be an ISO-8601 date-time string",
    "datetime_parsing": "must be an ISO-8601 date-time, e.g. 2026-11-26T09:30:00Z",
    "datetime_from_date_parsing": "must be an ISO-8601 date-time, e.g. 2026-11-26T09:30:00Z",
}

_PATTERN_MESSAGES = {
    "id": "must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
    "target_table": "must be a three-part name catalog.schema.table of letters, digits and '_'",
}
