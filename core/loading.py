"""Read a handoff file and turn every problem into one line naming its JSON path.

Reviewers meet these messages first when upstream sends something broken, so each one says
where (`services[1].risk_level`) and what (`must be one of low, medium, high, critical`), and
nothing ever surfaces as a traceback.
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from core.handoff import Edge, Handoff, Node, Service

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Files larger than this are refused before parsing (override: IMPACT_REVIEW_MAX_HANDOFF_BYTES)."""

MAX_NESTING = 64
"""The format nests five levels deep; anything far deeper is junk and is refused early."""

MAX_PROBLEMS = 100
"""Most problems reported for one file: junk must not cost memory in proportion to its errors."""

MAX_ITEM_ENTRIES = 4_000
"""Most fields plus list entries in one service, node or edge (a service has a dozen fields and
a few monitors); a larger item is refused unchecked, so its errors cannot pile up."""

MAX_NUMBER_DIGITS = 64
"""Longest integer literal parsed (the format's only number is `format_version`)."""


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
            # read(n) allocates n bytes up front: ask for the size stat gave, and only read on
            # (to the limit) if there is more (a file still growing, a pipe, a device).
            expected = min(size, limit) + 1
            raw = handle.read(expected)
            if len(raw) == expected:
                raw += handle.read(limit + 1 - len(raw))
    except FileNotFoundError:
        raise HandoffError(source, [Problem("", "no such file")]) from None
    except IsADirectoryError:
        raise HandoffError(source, [Problem("", "is a directory, not a handoff file")]) from None
    except PermissionError:
        raise HandoffError(source, [Problem("", "permission denied")]) from None
    if len(raw) > limit:
        raise HandoffError(source, [Problem("", f"file is over the {limit:,}-byte limit")])
    # Each stage drops the one before it: the bytes, the text (four bytes a character when
    # the file has one emoji) and the decoded document are never all held at once.
    text = _text_of(raw, source)
    del raw
    document = _decoded(text, source)
    del text
    return validate_document(document, source=source)


def parse_handoff(raw: bytes | str, *, source: str = "<handoff>") -> Handoff:
    """Validate handoff JSON text or bytes, raising HandoffError with every problem found."""
    return validate_document(_decoded(_text_of(raw, source), source), source=source)


def _text_of(raw: bytes | str, source: str) -> str:
    """The handoff's text, without a byte order mark."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"not UTF-8 text: byte 0x{raw[error.start]:02x} at offset {error.start}"
            raise HandoffError(source, [Problem("", message)]) from None
    else:
        text = raw
    return text.removeprefix("\ufeff")


def _decoded(text: str, source: str) -> Any:
    """The JSON document in `text` (duplicate keys and huge numbers refused)."""
    try:
        with _collector_paused():
            document = json.loads(text, object_pairs_hook=_ObjectReader(), parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        what = error.msg.removesuffix(" at")  # "Unterminated string starting at" + " at line"
        message = f"invalid JSON: {what} at line {error.lineno} column {error.colno}"
        raise HandoffError(source, [Problem("", message)]) from None
    except _DuplicateKey as error:
        raise HandoffError(source, [Problem("", f"duplicate key {_shown(error.key)}")]) from None
    except _NumberTooLong as error:
        message = (
            f"invalid JSON: a number has {error.digits:,} digits (at most {MAX_NUMBER_DIGITS})"
        )
        raise HandoffError(source, [Problem("", message)]) from None
    except RecursionError:
        raise HandoffError(source, [Problem("", "nesting is too deep")]) from None
    return document


def validate_document(document: Any, *, source: str = "<handoff>") -> Handoff:
    """Validate an already-decoded JSON document as a handoff."""
    with _collector_paused():
        return _validate_document(document, source)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document is decoded or validated.

    Both build hundreds of thousands of objects, none of them in cycles; the collector runs
    every few hundred allocations and its full passes walk every object made so far, which
    more than doubled the time to validate 10,000 services."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _validate_document(document: Any, source: str) -> Handoff:
    if _depth(document) > MAX_NESTING:
        raise HandoffError(source, [Problem("", f"nesting is deeper than {MAX_NESTING} levels")])
    if not isinstance(document, dict):
        raise HandoffError(source, [Problem("", "top level must be a JSON object")])
    # Validated in pieces, so that errors cannot pile up: pydantic keeps every error of a
    # document (a few hundred bytes each, several per `{}` of junk), and a 300 KB list of
    # empty objects took 1 GB and 9 s validated whole. So: the skeleton (everything but the
    # three lists), then each list item alone, stopping after MAX_PROBLEMS problems, then the
    # whole with the validated items in place (pydantic passes model instances through without
    # validating them again) for the checks across items.
    skeleton = dict(document)
    graph = document.get("graph")
    lists: list[tuple[tuple[str, ...], list[Any], type[BaseModel]]] = []
    if isinstance(graph, dict):
        skeleton["graph"] = dict(graph)
        for key, item_model in (("nodes", Node), ("edges", Edge)):
            if isinstance(graph.get(key), list):
                lists.append((("graph", key), graph[key], item_model))
                skeleton["graph"][key] = []
    if isinstance(document.get("services"), list):
        lists.append((("services",), document["services"], Service))
        skeleton["services"] = []
    report = skeleton.get("report")
    trigger = report.get("trigger") if isinstance(report, dict) else None
    parts = (skeleton, report, trigger, skeleton.get("graph"))
    if sum(_entries(part) for part in parts) > MAX_ITEM_ENTRIES:
        message = (
            f"holds more than {MAX_ITEM_ENTRIES:,} entries outside the services and the graph; "
            "refused without checking"
        )
        raise HandoffError(source, [Problem("", message)])
    problems = _validated(Handoff, skeleton, ())
    if not isinstance(problems, list):
        problems = []
    whole = dict(document)
    for location, values, model in lists:
        items = _validated_items(model, values, location, problems)
        if location[0] == "graph":
            whole["graph"] = {**whole["graph"], location[1]: items}
        else:
            whole["services"] = items
    if problems:
        raise HandoffError(source, _limited(sorted(problems, key=_document_order)))
    try:
        return Handoff.model_validate(whole)
    except ValidationError as error:
        raise HandoffError(source, _limited(problems_from(error))) from None


def _validated(model: type[BaseModel], value: Any, location: tuple[str, ...]) -> Any:
    """`value` validated as `model`, or the list of problems found in it."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        return problems_from(error, location)


def _validated_items(
    model: type[BaseModel], values: list[Any], location: tuple[str, ...], problems: list[Problem]
) -> list[BaseModel]:
    """The items validated as `model`, in runs of at most CHUNK_ENTRIES entries (so one run's
    errors are bounded); problems are added to `problems`, stopping after MAX_PROBLEMS."""
    adapter = _list_adapter(model)
    items: list[BaseModel] = []
    start = 0
    while start < len(values) and len(problems) <= MAX_PROBLEMS:
        end, budget = start, 0
        while end < len(values):
            entries = _entries(values[end])
            if entries > MAX_ITEM_ENTRIES:
                break
            size = entries + _FIELDS_PER_ITEM
            if budget + size > CHUNK_ENTRIES and end > start:
                break
            budget += size
            end += 1
        if end == start:  # one item too large to check
            message = f"holds more than {MAX_ITEM_ENTRIES:,} entries; refused without checking"
            problems.append(Problem(json_path((*location, start)), message))
            start += 1
            continue
        try:
            items.extend(adapter.validate_python(values[start:end]))
        except ValidationError as error:
            problems.extend(problems_from(error, location, index_offset=start))
        start = end
    _share_fields_sets(items)
    return items


def _share_fields_sets(items: list[BaseModel]) -> None:
    """Give items that set the same fields one shared set of their names.

    pydantic keeps a set of the fields given (`model_fields_set`) in every instance, its own
    even when equal: 200 to 700 bytes a service, node or edge, ~19 MB at 10,000 services. The
    models are frozen, and pydantic copies the set whenever it copies a model
    (`model_copy(update=...)` adds to the copy), so sharing it changes nothing else."""
    shared: list[set[str]] = []
    for item in items:
        fields = item.__pydantic_fields_set__
        for known in shared:
            if known == fields:
                object.__setattr__(item, "__pydantic_fields_set__", known)
                break
        else:
            shared.append(fields)


_FIELDS_PER_ITEM = 16
"""Errors a flat model can report beyond its entries (its missing required fields)."""
CHUNK_ENTRIES = 4_096
"""Most entries validated in one call (about 300 services): bounds one call's errors."""
_ADAPTERS: dict[type[BaseModel], TypeAdapter[list[Any]]] = {}


def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter


_TOP_ORDER = {"format_version": 0, "report": 1, "graph": 2, "services": 3}
_GRAPH_ORDER = {"nodes": 0, "edges": 1}


def _document_order(problem: Problem) -> tuple[int, int]:
    """Where pydantic would report a problem: declared fields in order, then unknown ones."""
    head, _, rest = problem.path.partition(".")
    top = head.split("[", 1)[0]
    graph_part = rest.split("[", 1)[0].split(".", 1)[0] if top == "graph" else ""
    return _TOP_ORDER.get(top, len(_TOP_ORDER)), _GRAPH_ORDER.get(graph_part, len(_GRAPH_ORDER))


def _limited(problems: list[Problem]) -> list[Problem]:
    """At most MAX_PROBLEMS problems, and a last line saying when there were more."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [
        *problems[:MAX_PROBLEMS],
        Problem("", f"more problems not shown (first {MAX_PROBLEMS})"),
    ]


def _entries(value: Any) -> int:
    """Fields plus the entries of the lists and objects in them, one level down: what bounds
    the number of errors validating a flat model (a service, node or edge) can report."""
    if isinstance(value, dict):
        # Exact types: what json.loads makes, and fast.
        return len(value) + sum(
            [len(field) for field in value.values() if type(field) in _CONTAINERS]
        )
    return len(value) if isinstance(value, list) else 0


_CONTAINERS = (dict, list)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


class _NumberTooLong(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _bounded_int(text: str) -> int:
    # Python refuses integers over 4,300 digits with a ValueError json does not expect.
    if len(text) > MAX_NUMBER_DIGITS:
        raise _NumberTooLong(len(text.lstrip("-")))
    return int(text)


def _shown(text: str, limit: int = 60) -> str:
    """`text` quoted on one line (control characters escaped), cut short when long."""
    if len(text) > limit:
        return repr(text[:limit]) + f"… ({len(text):,} characters)"
    return repr(text)


class _ObjectReader:
    """Builds each JSON object: refuses duplicate keys, and makes equal short string values one
    object. json.loads gives every occurrence of a value its own string, and the models keep
    them: a report's team names, namespaces, node ids and monitor names repeat thousands of
    times (at 10,000 services a third of the strings' memory)."""

    def __init__(self) -> None:
        self._strings = _Strings()

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _DuplicateKey(key)
                seen.add(key)
        strings = self._strings
        for key, value in pairs:
            if type(value) is str:
                if len(value) <= _SHARED_LENGTH:
                    result[key] = strings[value]
            elif type(value) is list:
                for index, item in enumerate(value):
                    if type(item) is str and len(item) <= _SHARED_LENGTH:
                        value[index] = strings[item]
        return result


class _Strings(dict[str, str]):
    """Each string value seen, by itself: `strings[text]` is the first string equal to it."""

    def __missing__(self, text: str) -> str:
        self[text] = text
        return text


_SHARED_LENGTH = 128
"""Longest string value made one object with its equals (longer text rarely repeats)."""


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, computed level by level without recursion: only the
    containers of one level are kept to find the next (the strings are most of a document)."""
    level = 1
    containers = [value] if isinstance(value, (dict, list)) else []
    while containers:
        children = [
            child
            for item in containers
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not children:
            break
        level += 1
        if level > MAX_NESTING:
            break
        containers = [child for child in children if isinstance(child, (dict, list))]
    return level


def json_path(location: Sequence[int | str]) -> str:
    """`('services', 1, 'risk_level')` → `services[1].risk_level`.

    A key that is not a plain name (an unknown field such as `"a\nb"` or a long one) is shown
    quoted and escaped, cut short when long, so a path is always one short line."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{_shown(part)}]"
    return path


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def problems_from(
    error: ValidationError, prefix: Sequence[int | str] = (), *, index_offset: int = 0
) -> list[Problem]:
    """Translate pydantic's errors into one Problem per issue, in document order. When the
    error came from validating a part of the document, paths start with `prefix`, and a
    leading list index is shifted by `index_offset` (the part was a slice of a list)."""
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        problems.extend(_problems_for(detail, prefix, index_offset))
    return problems


def _problems_for(
    detail: ErrorDetails, prefix: Sequence[int | str] = (), index_offset: int = 0
) -> list[Problem]:
    parts = [part for part in detail["loc"] if not _is_union_tag(part)]
    if index_offset and parts and isinstance(parts[0], int):
        parts[0] += index_offset
    location = [*prefix, *parts]
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
    "string_unicode": "must be valid Unicode (found a lone surrogate escape)",
    "timezone_aware": "must include a time zone (e.g. Z or +00:00)",
    "datetime_type": "must be an ISO-8601 date-time string",
    "datetime_parsing": "must be an ISO-8601 date-time, e.g. 2026-11-26T09:30:00Z",
    "datetime_from_date_parsing": "must be an ISO-8601 date-time, e.g. 2026-11-26T09:30:00Z",
}

_PATTERN_MESSAGES = {
    "id": "must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
    "target_table": "must be a three-part name catalog.schema.table of letters, digits and '_'",
}
