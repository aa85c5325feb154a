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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

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


class _StringTokens(dict[str, str]):
    """String -> its token, filled on first use: the report's columns repeat on every row, and
    owners, namespaces, risks and monitors often. Cleared when it grows large."""

    def __missing__(self, text: str) -> str:
        token = _sha256_hex(text)
        if len(self) >= _CACHE_SIZE:
            self.clear()
        self[text] = token
        return token


_STRING_TOKENS = _StringTokens()


def string_token(value: str | None) -> str:
    """The token of a STRING cell (or of one array item)."""
    return NULL_TOKEN if value is None else _STRING_TOKENS[value]


def timestamp_token(value: datetime | None) -> str:
    """The token of a TIMESTAMP cell: whole microseconds since the epoch (an aware datetime)."""
    if value is None:
        return NULL_TOKEN
    return str((value - _EPOCH) // _MICROSECOND)


def array_token(value: Sequence[str | None] | None) -> str:
    """The token of an ARRAY<STRING> cell."""
    if value is None:
        return NULL_TOKEN
    return _sha256_hex(SEPARATOR.join(map(string_token, value)))


def cell_token(value: CellValue, column_type: ColumnType) -> str:
    """The token of one cell of a column of `column_type`."""
    if value is None:
        return NULL_TOKEN
    if column_type is ColumnType.TIMESTAMP:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime for a TIMESTAMP column, got {type(value)}")
        return timestamp_token(value)
    if column_type is ColumnType.STRING_ARRAY:
        if not isinstance(value, tuple):
            raise TypeError(f"expected a tuple for an ARRAY<STRING> column, got {type(value)}")
        return array_token(value)
    if not isinstance(value, str):
        raise TypeError(f"expected a str for a STRING column, got {type(value)}")
    return string_token(value)


def fingerprint_of(values: Sequence[CellValue]) -> str:
    """The fingerprint of the values of FINGERPRINT_COLUMNS, in order."""
    if len(values) != len(FINGERPRINT_COLUMNS):
        raise ValueError(f"expected {len(FINGERPRINT_COLUMNS)} values, got {len(values)}")
    tokens = map(cell_token, values, FINGERPRINT_TYPES)
    return _sha256_hex(SEPARATOR.join(tokens))


def row_fingerprint(row: ImpactRow) -> str:
    """The fingerprint the warehouse must compute for this row once it is stored."""
    return fingerprint_of((*row.values, row.content_hash))


def clear_caches() -> None:
    """Forget the remembered string tokens (for cold benchmarks)."""
    _STRING_TOKENS.clear()
