"""A MERGE source's big `VALUES` list of literals, scanned into columns instead of parsed.

A MERGE of thousands of rows is almost all `VALUES` list. Parsing it into a sqlglot tree,
generating it back as DuckDB SQL and having DuckDB parse that again costs seconds and hundreds of
MB per statement. When the list holds only literals of the shapes below, `split` reads it with
regular expressions into one Python list per column and puts a placeholder table name where the
list was; the translator plans the small remainder (the skeleton) and turns the placeholder into
a `SELECT unnest($list) ...` subquery, so DuckDB receives the rows as list parameters.

Recognised cells (keywords in any case, blanks between tokens):

- string literals, `'...'` or `"..."`, with Spark's rules as sqlglot's Databricks tokenizer
  applies them: backslash escapes, and adjacent literals (`'a' 'b'`, `'a''b'`) concatenated;
- `NULL`;
- `CAST(<string> AS TIMESTAMP)`;
- `ARRAY(<string>, ...)` and `CAST(ARRAY() AS ARRAY<STRING>)`.

Each column must hold one kind (besides NULL) and every row the same number of cells, and the
list must be followed by nothing but an alias and the closing parenthesis (or a join's `ON`): the
placeholder is a table name, and a table takes other clauses after it differently. Anything
else (comments, numbers, expressions, another shape, a syntax error) makes `split` return None,
and the statement takes the general path, so its result and its errors are the general path's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum
from operator import itemgetter
from typing import Any

from sqlglot import Dialect, TokenType
from sqlglot.errors import TokenError

__all__ = ["BULK_PREFIX", "PLACEHOLDER_TABLE", "BulkValues", "CellKind", "Column", "split"]

BULK_PREFIX = "__embedded_bulk_"
"""Names the fast path introduces start with this; a statement that contains it is not split."""
PLACEHOLDER_TABLE = BULK_PREFIX + "values"


class CellKind(Enum):
    """What a column of the list holds, which decides its DuckDB type."""

    NULL = "null"
    STRING = "string"
    TIMESTAMP = "timestamp"
    STRING_ARRAY = "string_array"


@dataclass(frozen=True)
class Column:
    kind: CellKind
    values: list[Any]
    """One value per row: str, list[str] or None."""


@dataclass(frozen=True)
class BulkValues:
    skeleton: str
    """The statement with the list replaced by `PLACEHOLDER_TABLE`."""
    columns: tuple[Column, ...]
    rows: int


_DIALECT = Dialect.get_or_raise("databricks")
_BLANK = r"[ \t\r\n]*+"
_GAP = r"[ \t\r\n]+"
_SINGLE = r"'[^'\\]*+(?:\\[\s\S][^'\\]*+)*'"
_DOUBLE = r'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*"'
_LITERALS = rf"(?:{_SINGLE}|{_DOUBLE})(?:{_BLANK}(?:{_SINGLE}|{_DOUBLE}))*"
"""One string value: a literal, or adjacent literals that Spark concatenates."""
_PLAIN = r"'[^']*+(?<!\\)'"
"""A single-quoted literal without a quote inside or a backslash before its closing quote, so
it surely ends there: the common case, whose text is its value unless it holds a backslash.
(Matching `[^']` is several times faster than `[^'\\]`; the backslashes are found after.)"""

_CELL = re.compile(
    rf"{_BLANK}(?P<open>(?:,{_BLANK})?\()?{_BLANK}(?:"
    rf"(?P<plain>{_PLAIN})"
    rf"|(?P<string>{_LITERALS})"
    r"|(?P<null>(?i:NULL))"
    rf"|(?i:CAST){_BLANK}\({_BLANK}(?:(?P<plain_timestamp>{_PLAIN})|(?P<timestamp>{_LITERALS}))"
    rf"{_BLANK}(?i:AS){_GAP}(?i:TIMESTAMP){_BLANK}\)"
    rf"|(?i:ARRAY){_BLANK}\({_BLANK}(?P<array>{_LITERALS}(?:{_BLANK},{_BLANK}{_LITERALS})*)"
    rf"{_BLANK}\)"
    rf"|(?P<empty>(?i:CAST){_BLANK}\({_BLANK}(?i:ARRAY){_BLANK}\({_BLANK}\){_BLANK}(?i:AS){_GAP}"
    rf"(?i:ARRAY){_BLANK}<{_BLANK}(?i:STRING){_BLANK}>{_BLANK}\))"
    rf"){_BLANK}(?P<end>[,)])"
    r"|(?P<other>[\s\S]+)"
)
"""One cell with what opens it (`(` for a row's first cell, `, (` between rows) and what ends
it (`,` or `)`). Where no cell starts, `other` takes the rest of the text: `findall` never
skips text, and its last match says where the cells end."""
_OPEN, _PLAIN_STRING, _STRING, _NULL, _PLAIN_TIMESTAMP, _TIMESTAMP, _ARRAY, _EMPTY, _END, _OTHER = (
    range(10)
)
_TEXT_KINDS = (
    (CellKind.STRING, _PLAIN_STRING, _STRING),
    (CellKind.TIMESTAMP, _PLAIN_TIMESTAMP, _TIMESTAMP),
)
"""Kinds whose cells are one string: (kind, group of a plain literal, group of any other)."""
_NEXT_ROW = re.compile(_BLANK + r",")
_ARRAY_ITEM = re.compile(rf"({_LITERALS}){_BLANK}(?:,{_BLANK})?")
_ESCAPE = re.compile(r"\\([01][0-7]{2}|[\s\S])")
"""One escape: a backslash and three octal digits (up to \\177), or a backslash and a char."""
_OCTAL_PAIR = re.compile(r"[0-7]{2}")
_PROBE_TAILS = (
    *("", " ", "a", "x", "F", "{", "9"),
    *("0", "00", "000", "0000", "00000000", "1", "7", "77", "777", "0041", "FFFF", "D800"),
)
"""Text put after each probed escape: an escape is decoded here only if what follows it
cannot change it (unlike `\\0` then octal digits, or `\\u` then hex digits)."""
_RESERVED = re.compile(re.escape(BULK_PREFIX), re.IGNORECASE)
_MERGE_WORD = re.compile(r"[ \t\r\n]*MERGE\b", re.IGNORECASE)
_VALUES_WORD = re.compile(r"\bVALUES\b", re.IGNORECASE)
_IDENTIFIER = r"(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)"
_ALIAS = (
    rf"(?:{_BLANK}(?i:AS){_GAP}{_IDENTIFIER}"
    rf"(?:{_BLANK}\({_BLANK}{_IDENTIFIER}(?:{_BLANK},{_BLANK}{_IDENTIFIER})*{_BLANK}\))?)?"
)
_CLOSE = re.compile(rf"{_BLANK}\)")
_ALIAS_THEN_CLOSE = re.compile(rf"{_ALIAS}{_BLANK}\)")
_ALIAS_THEN_CLOSE_OR_ON = re.compile(rf"{_ALIAS}{_BLANK}(?:\)|(?i:ON)\b)")
_STARTS = {
    TokenType.FROM: (" ", _ALIAS_THEN_CLOSE),
    TokenType.JOIN: (" ", _ALIAS_THEN_CLOSE_OR_ON),
    TokenType.L_PAREN: (" SELECT * FROM ", _CLOSE),
}
"""Token before `VALUES` -> what the placeholder table name is preceded by, and what must
follow the list. The placeholder is a table name, so whatever follows it is read as it would
be after a table: only an alias (`AS v(a, b)`) and then the end of the enclosing parentheses (or
a join's `ON`) read the same after both. Anything else (`WHERE`, `ORDER BY` or `LIMIT` inside
`(VALUES ...)`, which the general path rejects; `PIVOT` or `TABLESAMPLE`, which a table takes
differently from a VALUES list) is left to the general path."""


def split(statement: str) -> BulkValues | None:
    """The MERGE's VALUES list as columns and the statement without it, or None."""
    if not _MERGE_WORD.match(statement) or _RESERVED.search(statement):
        return None
    if not statement.isascii() and not _encodes(statement):
        return None  # lone surrogates: leave them to the general path's error
    found = _VALUES_WORD.search(statement)
    if found is None:
        return None
    start = _start(statement[: found.end()])
    if start is None:
        return None
    lead, follows = start
    scanned = _scan(statement, found.end())
    if scanned is None:
        return None
    columns, rows, end = scanned
    if not follows.match(statement, end):
        return None
    if all(column.kind is CellKind.NULL for column in columns):
        return None
    skeleton = statement[: found.start()] + lead + PLACEHOLDER_TABLE + " " + statement[end:]
    return BulkValues(skeleton, columns, rows)


def _encodes(text: str) -> bool:
    """Whether the text is valid Unicode (encoding is faster than searching for surrogates).
    A slice at a time: the whole text's UTF-8 would be megabytes at the start of the scan."""
    try:
        for start in range(0, len(text), _ENCODED_SLICE):
            text[start : start + _ENCODED_SLICE].encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_ENCODED_SLICE = 1 << 16


def _start(prefix: str) -> tuple[str, re.Pattern[str]] | None:
    """What replaces `VALUES` when the prefix opens a MERGE and ends in a VALUES table factor,
    and what the text after the list must start with."""
    try:
        tokens = _DIALECT.tokenize(prefix)
    except TokenError:
        return None  # the word is inside an unterminated string or comment
    if len(tokens) < 3 or tokens[0].token_type is not TokenType.MERGE:
        return None
    if tokens[-1].token_type is not TokenType.VALUES:
        return None
    return _STARTS.get(tokens[-2].token_type)


def _scan(statement: str, position: int) -> tuple[tuple[Column, ...], int, int] | None:
    """Read the rows from `position`: (columns, row count, end of the list) or None.

    `findall` (in C) cuts a window of the text into cells at a time, so no list of every cell
    of a 4 MB statement is ever held. A cell the window's end cuts through is read again at the
    start of the next window: every cell ends with `,` or `)` after a closed literal or
    parenthesis, so no cut-off cell reads as a complete one."""
    columns: list[Column] | None = None
    carried: list[tuple[str, ...]] = []
    rows = 0
    window = SCAN_WINDOW
    while True:
        limit = min(len(statement), position + window)
        cells = _CELL.findall(statement, position, limit)
        stop = limit - len(cells.pop()[_OTHER]) if cells and cells[-1][_OTHER] else limit
        if not cells:
            if limit == len(statement):
                break  # the list ends at `position`
            window = len(statement)  # the end, or a cell longer than a window: read the rest
            continue
        position, window = stop, SCAN_WINDOW
        cells = carried + cells
        ends = [cell[_END] for cell in cells]
        if ")" not in ends:
            carried = cells
            continue
        complete = len(ends) - ends[::-1].index(")")
        carried = cells[complete:]
        del cells[complete:]
        read = _read_rows(cells, first=columns is None)
        if read is None:
            return None
        columns = read if columns is None else _joined(columns, read)
        if columns is None:
            return None
        rows += complete // len(columns)
    if columns is None or carried or _NEXT_ROW.match(statement, position):
        return None  # no rows, a row cut short, or a row the fast path does not read
    return tuple(columns), rows, position


SCAN_WINDOW = 1 << 18
"""Characters of the list cut into cells at a time."""


def _read_rows(cells: list[tuple[str, ...]], *, first: bool) -> list[Column] | None:
    """The columns of whole rows of cells, or None when they are not rows of one width."""
    ends = [cell[_END] for cell in cells]
    width = ends.index(")") + 1
    rows, remainder = divmod(len(cells), width)
    if remainder or ends.count(")") != rows or ends[width - 1 :: width].count(")") != rows:
        return None
    del ends
    opens = [cell[_OPEN] for cell in cells]
    if len(opens) - opens.count("") != rows or opens[0] != ("(" if first else opens[0]):
        return None
    later_rows = opens[width::width] if first else opens[::width]
    if not all(text[:1] == "," for text in later_rows):
        return None
    del opens
    reader = _Reader()
    columns = []
    for index in range(width):
        column = reader.column(cells[index::width])
        if column is None:
            return None
        columns.append(column)
    if not reader.decode_pending():
        return None
    return columns


def _joined(columns: list[Column], more: list[Column]) -> list[Column] | None:
    """The columns of two runs of rows, or None when their widths or kinds differ."""
    if len(columns) != len(more):
        return None
    joined = []
    for column, addition in zip(columns, more, strict=True):
        if CellKind.NULL not in (column.kind, addition.kind) and column.kind is not addition.kind:
            return None
        kind = addition.kind if column.kind is CellKind.NULL else column.kind
        column.values.extend(addition.values)
        joined.append(Column(kind, column.values))
    return joined


class _Reader:
    """Turns cells into column values; literals with unusual escapes or adjacent literals are
    queued and decoded by sqlglot's tokenizer in one call at the end."""

    def __init__(self) -> None:
        self.pending: list[tuple[list[Any], int, str]] = []
        self.decoded: dict[str, str] = {}

    def column(self, cells: list[tuple[str, ...]]) -> Column | None:
        """One column's values and kind, or None when it mixes two kinds."""
        for kind, plain, escaped in _TEXT_KINDS:
            plains = list(map(itemgetter(plain), cells))
            if "" not in plains and "\\" not in "".join(plains):
                return Column(kind, [text[1:-1] for text in plains])
            values = self.text_column(cells, plains, escaped)
            if values is not None:
                return Column(kind, values)
        if all(cell[_NULL] for cell in cells):
            return Column(CellKind.NULL, [None] * len(cells))
        return self.mixed_column(cells)

    def text_column(
        self, cells: list[tuple[str, ...]], plains: list[str], escaped: int
    ) -> list[Any] | None:
        """The values of a column of literals of one kind and NULLs (not all NULL), or None."""
        values: list[Any] = []
        decoded = self.decoded
        for cell, text in zip(cells, plains, strict=True):
            if text and "\\" not in text:
                values.append(text[1:-1])
            elif literals := text or cell[escaped]:
                known = decoded.get(literals)  # a column's repeated text: no call
                values.append(
                    self.literal(literals, values, len(values)) if known is None else known
                )
            elif cell[_NULL]:
                values.append(None)
            else:
                self.pending = [queued for queued in self.pending if queued[0] is not values]
                return None
        if values.count(None) == len(values):
            return None
        return values

    def mixed_column(self, cells: list[tuple[str, ...]]) -> Column | None:
        """A column of arrays, or of cells of several shapes, one cell at a time."""
        kind = CellKind.NULL
        values: list[Any] = []
        for row, cell in enumerate(cells):
            value: Any
            if cell[_NULL]:
                values.append(None)
                continue
            if cell[_PLAIN_STRING] or cell[_STRING]:
                cell_kind = CellKind.STRING
                value = self.literal(cell[_PLAIN_STRING] or cell[_STRING], values, row)
            elif cell[_PLAIN_TIMESTAMP] or cell[_TIMESTAMP]:
                cell_kind = CellKind.TIMESTAMP
                value = self.literal(cell[_PLAIN_TIMESTAMP] or cell[_TIMESTAMP], values, row)
            elif cell[_EMPTY]:
                cell_kind, value = CellKind.STRING_ARRAY, []
            else:
                cell_kind = CellKind.STRING_ARRAY
                value = _ARRAY_ITEM.findall(cell[_ARRAY])
                for position, text in enumerate(value):
                    value[position] = self.literal(text, value, position)
            if kind is not cell_kind:
                if kind is not CellKind.NULL:
                    return None  # DuckDB's type rules decide that one, on the general path
                kind = cell_kind
            values.append(value)
        return Column(kind, values)

    def literal(self, text: str, owner: list[Any], position: int) -> str:
        """The value of a run of string literals, or the text itself, queued for decoding
        into `owner[position]`."""
        if (known := self.decoded.get(text)) is not None:
            return known
        quote, content = text[0], text[1:-1]
        if "\\" not in content:
            if quote not in content:
                return content  # one literal without escapes: its text is its value
        else:
            # Text and escapes alternate; a quote outside the escapes means adjacent literals.
            parts = _ESCAPE.split(content)
            escapes = parts[1::2]
            decoded = _escapes(quote).decoded
            if decoded.keys() >= set(escapes) and all(quote not in part for part in parts[::2]):
                parts[1::2] = [decoded[escape] for escape in escapes]
                value = "".join(parts)
                self.decoded[text] = value
                return value
        self.pending.append((owner, position, text))
        return text

    def decode_pending(self) -> bool:
        """Decode the queued literals with sqlglot's Databricks tokenizer; False when one does
        not decode to a string the fast path can bind."""
        if not self.pending:
            return True
        texts = list(dict.fromkeys(text for _, _, text in self.pending))
        try:
            tokens = _DIALECT.tokenize(" ,\n".join(texts))
        except TokenError:
            return False
        values: list[str] = []
        parts: list[str] = []
        for token in tokens:
            if token.token_type is TokenType.COMMA:
                values.append("".join(parts))
                parts = []
            elif token.token_type is TokenType.STRING:
                parts.append(token.text)
            else:
                return False
        values.append("".join(parts))
        if len(values) != len(texts):
            return False
        for value in values:
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return False  # a lone surrogate: the general path decides what it means
        decoded = dict(zip(texts, values, strict=True))
        for owner, position, text in self.pending:
            owner[position] = decoded[text]
        self.pending.clear()
        return True


@dataclass(frozen=True)
class _EscapeTable:
    """Backslash escapes whose decoding sqlglot's tokenizer shows to be one fixed text."""

    decoded: dict[str, str]


@functools.cache
def _escapes(quote: str) -> _EscapeTable:
    """Probe sqlglot's tokenizer once for what each escape `_ESCAPE` reads decodes to inside
    `quote`s, each followed by every probe tail it can be followed by (a `\\0` or `\\1` that
    `_ESCAPE` reads alone is not followed by two octal digits); only escapes that always decode
    to the same text are kept."""
    units = [chr(code) for code in range(32, 127)] + ["\t", "\n", "\r"]
    units += [f"{a}{b}{c}" for a in "01" for b in "01234567" for c in "01234567"]
    probed: list[tuple[str, str]] = [
        (unit, tail)
        for unit in units
        for tail in _PROBE_TAILS
        if not (unit in ("0", "1") and _OCTAL_PAIR.match(tail))
    ]
    probes = [quote + "\\" + unit + tail + quote for unit, tail in probed]
    tokens = _DIALECT.tokenize(" , ".join(probes))
    texts = [token.text for token in tokens if token.token_type is TokenType.STRING]
    if len(texts) != len(probes) or len(tokens) != 2 * len(probes) - 1:
        return _EscapeTable({})
    results: dict[str, set[str | None]] = {}
    for (unit, tail), text in zip(probed, texts, strict=True):
        value = text[: len(text) - len(tail)] if text.endswith(tail) else None
        results.setdefault(unit, set()).add(value)
    decoded: dict[str, str] = {}
    for unit, values in results.items():
        value = values.pop()
        if value is not None and not values:
            decoded[unit] = value
    return _EscapeTable(decoded)
