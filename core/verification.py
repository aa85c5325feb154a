"""Compare the rows read back from the table with what was approved, field by field.

Two independent checks: against the approved rows when we have them (missing, extra and changed
rows, naming each field), and each row against its own content hash, which catches a row edited
in the table after review even on a machine with no local record of the approval.

A run first reads back only each row's display columns, content hash and fingerprint (see
`core.row_fingerprint`): when every stored row is its approved row, `verify_fingerprints` gives
the whole verdict. Otherwise the run reads back every column and `verify` names what differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from operator import itemgetter

from core.impact_table import (
    COLUMNS,
    CONTENT_COLUMNS,
    CellValue,
    ColumnType,
    ImpactRow,
    canonical_timestamp,
    content_hash,
)
from core.row_fingerprint import approved_fingerprints, row_fingerprint

DISPLAY_COLUMNS = ("report_id", "service_name", "owner_team", "risk_level", "recommended_action")
"""The columns of the original write-up's verification table."""
FINGERPRINT_COLUMN = "row_fingerprint"
"""The column of the verification query holding each stored row's fingerprint."""

ReadBackRow = Mapping[str, str | None]
_SERVICE_NAME = CONTENT_COLUMNS.index("service_name")
_approved_shown = itemgetter(*(CONTENT_COLUMNS.index(name) for name in DISPLAY_COLUMNS))
"""An approved row's DISPLAY_COLUMNS, from its values (all of them are content columns)."""
"""One row as the Statement Execution API returns it: every value a string or None."""


class RowStatus(StrEnum):
    MATCH = "match"
    MISSING = "missing"
    EXTRA = "extra"
    CHANGED = "changed"
    TAMPERED = "tampered"
    """The row's content no longer matches its own content hash."""


@dataclass(frozen=True)
class FieldDifference:
    column: str
    expected: str
    actual: str


@dataclass(frozen=True)
class RowCheck:
    """The verdict on one service's row."""

    service_name: str
    status: RowStatus
    differences: tuple[FieldDifference, ...] = ()
    shown: tuple[str, ...] = ()
    """Values of DISPLAY_COLUMNS (read back, or expected for a missing row)."""

    def describe(self) -> str:
        if self.status is RowStatus.MATCH:
            return f"{self.service_name}: match"
        if not self.differences:
            return f"{self.service_name}: {self.status.value}"
        fields = "; ".join(
            f"{d.column}: expected {d.expected!r}, found {d.actual!r}" for d in self.differences
        )
        return f"{self.service_name}: {self.status.value} ({fields})"


@dataclass(frozen=True)
class Verification:
    """The verdict on a whole report."""

    report_id: str
    checks: tuple[RowCheck, ...]
    compared_with_approval: bool
    """False when only content hashes could be checked (no local record of the approval)."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.status is RowStatus.MATCH for c in self.checks)

    def count(self, status: RowStatus) -> int:
        return sum(1 for check in self.checks if check.status is status)

    def summary(self) -> str:
        if not self.checks:
            return f"{self.report_id}: no rows found"
        parts = [
            f"{self.count(status)} {status.value}" for status in RowStatus if self.count(status)
        ]
        basis = (
            "approved rows and content hashes" if self.compared_with_approval else "content hashes"
        )
        verdict = "verified" if self.ok else "MISMATCH"
        return f"{self.report_id}: {verdict}: {', '.join(parts)} (checked against {basis})"


_TYPES = {column.name: column.type for column in COLUMNS}


def text_of(value: CellValue) -> str:
    """A cell shown as text, the way the comparison sees it."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return canonical_timestamp(value)
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return value


def parse_cell(column: str, raw: str | None) -> CellValue:
    """A read-back string (JSON_ARRAY encoding) as the value it stands for."""
    if raw is None:
        return None
    kind = _TYPES.get(column, ColumnType.STRING)
    if kind is ColumnType.TIMESTAMP:
        return datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    if kind is ColumnType.STRING_ARRAY:
        items = json.loads(raw)
        return tuple(str(item) for item in items)
    return raw


def _row_hash_holds(row: ReadBackRow) -> bool:
    try:
        content = {name: parse_cell(name, row.get(name)) for name in CONTENT_COLUMNS}
    except (ValueError, TypeError):
        return False
    return content_hash(content) == row.get("content_hash")


def _shown(row: ReadBackRow) -> tuple[str, ...]:
    return tuple(row.get(name) or "" for name in DISPLAY_COLUMNS)


def _differences(expected: ImpactRow, row: ReadBackRow) -> tuple[FieldDifference, ...]:
    found = []
    for name in (*CONTENT_COLUMNS, "content_hash"):
        want = text_of(expected.get(name))
        try:
            have = text_of(parse_cell(name, row.get(name)))
        except (ValueError, TypeError):
            have = str(row.get(name))
        if want != have:
            found.append(FieldDifference(name, want, have))
    return tuple(found)


_STRING_POSITIONS = tuple(
    index for index, name in enumerate(CONTENT_COLUMNS) if _TYPES[name] is ColumnType.STRING
)
_expected_strings = itemgetter(*_STRING_POSITIONS)


_read_back_strings = itemgetter(*(CONTENT_COLUMNS[index] for index in _STRING_POSITIONS))


_OTHER_POSITIONS = tuple(
    index for index, name in enumerate(CONTENT_COLUMNS) if _TYPES[name] is not ColumnType.STRING
)


_UNPARSABLE = object()


class _ParsedCells(dict[tuple[str, str], object]):
    """(column, read-back string) -> `parse_cell(...)`, or _UNPARSABLE; filled on first use, for
    the few columns whose values repeat (timestamps, arrays)."""

    def __missing__(self, key: tuple[str, str]) -> object:
        try:
            value: object = parse_cell(*key)
        except (ValueError, TypeError):
            value = _UNPARSABLE
        self[key] = value
        return value


def _matches_exactly(expected: ImpactRow, row: ReadBackRow, parsed: _ParsedCells) -> bool:
    """Whether the row read back holds exactly the expected values and hash. Then it is a MATCH:
    equal values show the same text, and give the expected canonical JSON, so the row's own hash
    holds too. False only means "look closer": the full field-by-field check decides."""
    values = expected.values
    try:
        if _read_back_strings(row) != _expected_strings(values):
            return False
    except KeyError:  # a column missing from what was read back
        return False
    for index in _OTHER_POSITIONS:
        name = CONTENT_COLUMNS[index]
        want, raw = values[index], row.get(name)
        if want is None or raw is None:
            if want is not raw:
                return False
        elif parsed[(name, raw)] != want:
            # Aware timestamps are equal exactly when they are the same instant; arrays of
            # strings when they hold the same strings in the same order.
            return False
    return row.get("content_hash") == expected.content_hash


def verify(
    report_id: str,
    read_back: Sequence[ReadBackRow],
    approved: Sequence[ImpactRow] | None,
) -> Verification:
    """Judge every row read back, and every approved row that was not read back.

    A row equal to its approved row, value for value, is a match without parsing each cell and
    hashing it again (`_matches_exactly`); any other row gets the full check."""
    checks: list[RowCheck] = []
    by_service = {str(row.get("service_name")): row for row in read_back}
    expected = {row.service_name: row for row in approved} if approved is not None else {}
    parsed = _ParsedCells()
    for name in sorted(by_service.keys() | expected.keys()):
        row = by_service.get(name)
        want = expected.get(name)
        if row is None:
            assert want is not None
            shown = tuple(text_of(want.get(c)) for c in DISPLAY_COLUMNS)
            checks.append(RowCheck(name, RowStatus.MISSING, shown=shown))
            continue
        if approved is not None and want is None:
            checks.append(RowCheck(name, RowStatus.EXTRA, shown=_shown(row)))
            continue
        if want is not None and _matches_exactly(want, row, parsed):
            checks.append(RowCheck(name, RowStatus.MATCH, shown=_shown(row)))
            continue
        differences = _differences(want, row) if want is not None else ()
        if not _row_hash_holds(row):
            checks.append(RowCheck(name, RowStatus.TAMPERED, differences, _shown(row)))
        elif differences:
            checks.append(RowCheck(name, RowStatus.CHANGED, differences, _shown(row)))
        else:
            checks.append(RowCheck(name, RowStatus.MATCH, shown=_shown(row)))
    return Verification(report_id, tuple(checks), approved is not None)


def verify_fingerprints(
    report_id: str,
    read_back: Sequence[ReadBackRow],
    approved: Sequence[ImpactRow],
    fingerprints: Mapping[str, str] | None = None,
) -> Verification | None:
    """The verdict from the verification query's rows (display columns, content hash and
    fingerprint), when every row read back is its approved row and none is missing or extra:
    the same verdict `verify` gives on the full read-back of such a table. None when anything
    differs (a value, a row too many or too few, a duplicate): only the full read-back can say
    which field, so `verify` must judge it. `fingerprints` are the approved rows' own
    (`approved_fingerprints`), when computed beforehand."""
    if not approved or len(read_back) != len(approved):
        return None
    if fingerprints is None:
        fingerprints = approved_fingerprints(approved)
    expected = {row.values[_SERVICE_NAME]: row for row in approved}
    checks = []
    for row in read_back:
        name = str(row.get("service_name"))
        want = expected.pop(name, None)
        if want is None:
            return None
        shown = tuple(map(row.get, DISPLAY_COLUMNS))
        if shown != _approved_shown(want.values):
            return None
        if row.get("content_hash") != want.content_hash:
            return None
        if row.get(FINGERPRINT_COLUMN) != fingerprints.get(name):
            return None
        checks.append(RowCheck(name, RowStatus.MATCH, shown=tuple(v or "" for v in shown)))
    checks.sort(key=lambda check: check.service_name)
    return Verification(report_id, tuple(checks), True)


def verify_in_detail(
    report_id: str,
    fingerprint_rows: Sequence[ReadBackRow],
    read_back: Sequence[ReadBackRow],
    approved: Sequence[ImpactRow],
) -> Verification:
    """`verify` of the full read-back, after `verify_fingerprints` found a difference.

    A row that reads back equal to its approved row although its fingerprint disagreed is not a
    match: the difference is finer than the read-back shows (a timestamp's microseconds, where a
    warehouse shows milliseconds), or the row changed between the two reads. It is CHANGED, with
    both fingerprints as the difference."""
    verification = verify(report_id, read_back, approved)
    expected = {row.service_name: row for row in approved}
    stored = {str(row.get("service_name")): row.get(FINGERPRINT_COLUMN) for row in fingerprint_rows}
    checks = []
    for check in verification.checks:
        want = expected.get(check.service_name)
        name = check.service_name
        if check.status is RowStatus.MATCH and want is not None and name in stored:
            fingerprint = row_fingerprint(want)
            if stored[name] != fingerprint:
                difference = FieldDifference(FINGERPRINT_COLUMN, fingerprint, str(stored[name]))
                check = RowCheck(name, RowStatus.CHANGED, (difference,), check.shown)
        checks.append(check)
    return Verification(report_id, tuple(checks), verification.compared_with_approval)
