"""A row's fingerprint: one SHA-256 over every content column and the content hash.

The warehouse computes it for each stored row (`core.sqlgen.verify_sql`), and this module for
each approved row, by the same definition, so a verification can compare 64 characters per row
instead of reading back every column of every row.

Definition. Each column of FINGERPRINT_COLUMNS, in that order, becomes one token:

- STRING: the lowercase hex SHA-256 of its UTF-8 bytes (Databricks `sha2(col, 256)`);
- TIMESTAMP: the microseconds since 1970-01-01 00:00:00 UTC as a decimal integer, `-` before
  1970 (`CAST(unix_micros(col) AS STRING)`);
- ARRAY<STRING>: the hex SHA-256 of its items' STRING tokens joined by `,`
  (`sha2(array_join(transform(col, item -> <STRING token of item>), ','), 256)`);
- and any NULL (a NULL item of an array too) is the word `null`.

The fingerprint is the hex SHA-256 of the tokens joined by `,`.

Why equal fingerprints mean equal rows (short of a SHA-256 collision): no token contains a `,`
(a token is 64 hex digits, an optional `-` and decimal digits, or `null`), and there is always
the same number of tokens, so the joined text splits back into exactly its tokens: two rows have
the same joined text only if every token is the same. A token determines its value: `null` is
never a hash or a number, so NULL is told from every value (the empty string and the empty
array included: theirs are hashes); a hash determines the string it was taken of, a number the
instant (TIMESTAMP holds microseconds, so microseconds lose nothing); and an array's joined item
tokens split back into its items the same way, so the empty array (no item), the array of one
empty string and the array of one NULL all differ.

Every function used is documented, deterministic and independent of session settings: `sha2`
hashes a string's UTF-8 bytes, `unix_micros` counts from the UTC epoch whatever the session time
zone, and a BIGINT cast to STRING is plain decimal digits. (`unix_millis` would truncate a
stored value's microseconds, and so miss an edit within a millisecond that the content hash,
which covers microseconds, sees.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from core.impact_table import COLUMNS, CONTENT_COLUMNS, CellValue, ColumnType, ImpactRow

FINGERPRINT_COLUMNS = (*CONTENT_COLUMNS, "content_hash")
"""What a fingerprint covers, in token order: the content columns, then the content hash."""
FINGERPRINT_TYPES = tuple(
    next(column.type for column in COLUMNS if column.name == name) for name in FINGERPRINT_COLUMNS
)
NULL_TOKEN = "null"
SEPARATOR = ","
HASH_BITS = 256

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CACHE_SIZE = 65_536


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _string_token(text: str) -> str:
    return _sha256_hex(text)


def _timestamp_token(moment: datetime) -> str:
    return str((moment - _EPOCH) // _MICROSECOND)


def _array_token(items: tuple[str | None, ...]) -> str:
    if not isinstance(items, tuple):
        raise TypeError(f"expected a tuple for an ARRAY<STRING> column, got {type(items)}")
    return _sha256_hex(SEPARATOR.join(map(_STRINGS.__getitem__, items)))


class _Tokens(dict[Any, str]):
    """Cell value -> its token, for one column type, filled on first use (None is `null`): the
    report's columns repeat on every row, and owners, namespaces, risks and monitors often.
    Cleared when it grows large."""

    def __init__(self, token: Callable[[Any], str]) -> None:
        super().__init__()
        self._token = token

    def __missing__(self, value: Any) -> str:
        token = NULL_TOKEN if value is None else self._token(value)
        if len(self) >= _CACHE_SIZE:
            self.clear()
        self[value] = token
        return token


_STRINGS = _Tokens(_string_token)
_TABLES = {
    ColumnType.STRING: _STRINGS,
    ColumnType.TIMESTAMP: _Tokens(_timestamp_token),
    ColumnType.STRING_ARRAY: _Tokens(_array_token),
}
_COLUMN_TABLES = tuple(_TABLES[column_type] for column_type in FINGERPRINT_TYPES)
_token_in = dict.__getitem__
"""`table[value]` as a function of both (a dict subclass's `__missing__` still applies)."""


def string_token(value: str | None) -> str:
    """The token of a STRING cell (or of one array item)."""
    return _STRINGS[value]


def timestamp_token(value: datetime | None) -> str:
    """The token of a TIMESTAMP cell: whole microseconds since the epoch (an aware datetime)."""
    return _TABLES[ColumnType.TIMESTAMP][value]


def array_token(value: tuple[str | None, ...] | None) -> str:
    """The token of an ARRAY<STRING> cell."""
    return _TABLES[ColumnType.STRING_ARRAY][value]


def cell_token(value: CellValue, column_type: ColumnType) -> str:
    """The token of one cell of a column of `column_type`."""
    expected = _PYTHON_TYPES[column_type]
    if value is not None and not isinstance(value, expected):
        raise TypeError(f"expected a {expected.__name__} for a {column_type} column, got {value!r}")
    return _TABLES[column_type][value]


_PYTHON_TYPES = {
    ColumnType.STRING: str,
    ColumnType.TIMESTAMP: datetime,
    ColumnType.STRING_ARRAY: tuple,
}


def fingerprint_of(values: Sequence[CellValue]) -> str:
    """The fingerprint of the values of FINGERPRINT_COLUMNS, in order (each of its column's
    type; a value of another type raises)."""
    if len(values) != len(FINGERPRINT_COLUMNS):
        raise ValueError(f"expected {len(FINGERPRINT_COLUMNS)} values, got {len(values)}")
    return _sha256_hex(SEPARATOR.join(map(_token_in, _COLUMN_TABLES, values)))


def row_fingerprint(row: ImpactRow) -> str:
    """The fingerprint the warehouse must compute for this row once it is stored."""
    return fingerprint_of((*row.values, row.content_hash))


def approved_fingerprints(rows: Sequence[ImpactRow]) -> dict[str, str]:
    """Service name -> `row_fingerprint`, for every approved row (a run computes them while
    its MERGEs are in the warehouse, so the verification has them when the answer comes).

    The remembered tokens are forgotten after: a run asks once, and at 10,000 services the
    token of every distinct cell is about 5 MB otherwise held while the MERGEs run."""
    fingerprints = {row.service_name: row_fingerprint(row) for row in rows}
    clear_caches()
    return fingerprints


def clear_caches() -> None:
    """Forget the remembered tokens (for cold benchmarks)."""
    for table in _TABLES.values():
        table.clear()
