"""The statements a write runs: create the table, upsert the rows (MERGE), read them back.

Output is deterministic: the same rows give byte-identical SQL. Rows are rendered as tuples and
cached, so re-rendering after an edit only renders the edited row, and large reports are split
into several MERGE statements that each stay far below the 16 MiB limit.

Each distinct cell value is rendered once from sqlglot's Databricks renderings and cached: the
report-level columns (title, request, investigation, ...) repeat on every row and the owner,
namespace, risk and action columns repeat often, so a 10,000-row report renders a fraction of its
bytes. The rows not rendered yet are rendered together, a column at a time (`row_texts`). A row
is `(` + the cells joined by `, ` + `)`, which is exactly how sqlglot renders a tuple of those
literals without pretty printing (the tests compare both). Each rendered cell and row is also
recorded for the policy (see `core.sqlgen.policy`), which uses the record only to know where one
validated piece ends and the next begins. A long cell seen once (`KEPT_CELL_LENGTH`) is neither
kept nor recorded as text: the record gives its length, and the row text holds its characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from sqlglot import exp

from core.impact_table import (
    COLUMNS,
    CONTENT_COLUMNS,
    KEY_COLUMNS,
    REVIEW_COLUMNS,
    TABLE_COMMENT,
    CellValue,
    Column,
    ColumnType,
    ImpactRow,
    content_hashes,
)
from core.sqlgen.escapes import DIALECT as DIALECT
from core.sqlgen.escapes import QUOTE_END as QUOTE_END
from core.sqlgen.escapes import QUOTE_START as QUOTE_START
from core.sqlgen.escapes import clear_caches as _forget_characters
from core.sqlgen.escapes import generator as _generator
from core.sqlgen.escapes import inside_literal, inside_literals
from core.sqlgen.literals import literal
from core.steps import VERIFY_DETAIL_STATEMENT, Step

MERGE_BYTE_BUDGET = 4 * 1024 * 1024
"""Most row bytes per MERGE statement: a quarter of the 16 MiB statement limit."""
MERGE_ROW_LIMIT = 5_000
"""Most rows per MERGE statement, so each statement also stays quick to run."""
_ROWS_MARKER = "__impact_review_rows__"

_COLUMN_BY_NAME = {column.name: column for column in COLUMNS}
_SOURCE_COLUMNS = (*CONTENT_COLUMNS, "content_hash")
"""Columns of the MERGE source: the content, then its hash."""


@dataclass(frozen=True)
class ParameterSlot:
    """A `:name` marker in a statement, bound when the statement runs."""

    name: str
    type: str


REVIEW_PARAMETERS = (
    ParameterSlot("reviewed_by", "STRING"),
    ParameterSlot("reviewed_at", "TIMESTAMP"),
)


@dataclass(frozen=True, eq=False)
class MergeText:
    """The text of a MERGE built by `upserts`, kept as its pieces: the template's text before
    the rows, the row texts, the separator between two rows and the text after them.

    The row texts are held anyway (the renderer's cache, for incremental re-rendering), so a
    plan holding its MERGEs joined would hold their characters twice: at 10,000 services about
    50 MB more (Python keeps a text with one emoji at four bytes a character). The text is
    joined only where it is needed whole (copying it, `impact-review render`) and dropped after:
    the payload files, the preview and the request body are made from the pieces.

    The policy and the plan digest use the pieces themselves: `rows` is the very tuple
    `upserts` hands back while a chunk's rows are unchanged."""

    table: str
    before: str
    rows: tuple[str, ...]
    separator: str
    after: str
    utf8_size: int
    """Size of the joined text in UTF-8, from its pieces' sizes."""

    def text(self) -> str:
        """The whole statement (`before + separator.join(rows) + after`), joined now."""
        return _merge_text(self.before, self.rows, self.separator, self.after)

    def pieces(self) -> list[str]:
        """The pieces whose concatenation is `text()`, for writing or hashing it piece by piece
        without joining it."""
        if not self.rows:
            return [self.before, self.after]
        joints = [self.separator] * (len(self.rows) - 1)
        middle = [piece for pair in zip(self.rows, joints, strict=False) for piece in pair]
        return [self.before, *middle, self.rows[-1], self.after]

    def _key(self) -> tuple[str, str, tuple[str, ...], str, str]:
        return (self.table, self.before, self.rows, self.separator, self.after)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MergeText):
            return NotImplemented
        return self is other or self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass(frozen=True)
class Statement:
    """One SQL statement of the plan."""

    step: Step
    name: str
    """File-name-friendly id, unique in the plan, e.g. `upsert-rows-2-of-3`."""
    source: str | MergeText
    """The SQL text, or a MERGE's pieces (`MergeText`): use `sql` for the text itself."""
    parameters: tuple[ParameterSlot, ...] = ()
    row_count: int = 0
    """Rows this statement writes (upserts only)."""

    @property
    def sql(self) -> str:
        """The statement's text; a MERGE's is joined on each call (see `MergeText`)."""
        source = self.source
        return source if isinstance(source, str) else source.text()

    @property
    def merge(self) -> MergeText | None:
        """The pieces of a MERGE built by `upserts`, else None."""
        source = self.source
        return source if isinstance(source, MergeText) else None

    @property
    def utf8_size(self) -> int:
        """Size of the text in UTF-8."""
        source = self.source
        if isinstance(source, MergeText):
            return source.utf8_size
        return len(source) if source.isascii() else len(source.encode("utf-8"))

    def pieces(self) -> list[str]:
        """Texts whose concatenation is `sql`, for writing or encoding it without joining it."""
        source = self.source
        return [source] if isinstance(source, str) else source.pieces()


def table_expression(table: str) -> exp.Table:
    """A three-part table name as a sqlglot Table."""
    return exp.to_table(table, dialect=DIALECT)


def _column_type(column: Column) -> exp.DataType:
    return exp.DataType.build(column.type.value, dialect=DIALECT)


@lru_cache(maxsize=32)
def create_table(table: str) -> Statement:
    """`CREATE TABLE IF NOT EXISTS` for the impact table: Delta, with comments."""
    definitions = []
    for column in COLUMNS:
        constraints = []
        if column.required:
            constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
        constraints.append(
            exp.ColumnConstraint(
                kind=exp.CommentColumnConstraint(this=exp.Literal.string(column.comment))
            )
        )
        definitions.append(
            exp.ColumnDef(
                this=exp.to_identifier(column.name),
                kind=_column_type(column),
                constraints=constraints,
            )
        )
    create = exp.Create(
        this=exp.Schema(this=table_expression(table), expressions=definitions),
        kind="TABLE",
        exists=True,
        properties=exp.Properties(
            expressions=[
                exp.FileFormatProperty(this=exp.Var(this="DELTA")),
                exp.SchemaCommentProperty(this=exp.Literal.string(TABLE_COMMENT)),
            ]
        ),
    )
    return Statement(Step.CREATE_TABLE, "create-table", create.sql(dialect=DIALECT, pretty=True))


SOURCE_TYPES = (*(_COLUMN_BY_NAME[name].type for name in CONTENT_COLUMNS), ColumnType.STRING)
"""Column type of each cell of a MERGE source row, in order."""
ROW_CACHE_SIZE = 65_536
CELL_CACHE_SIZE = 262_144

RowCells = tuple[str | int, ...]
"""The cells a row was joined from: each cell's text, or the length of a cell not kept
(`KEPT_CELL_LENGTH`), which is the row text's slice at that place."""
RENDERED_ROWS: dict[str, tuple[str, RowCells, bool]] = {}
"""Row text -> (that same text object, the cells it was joined from, whether every cell is
there as text); written only by `row_texts`. Handing back the original object lets the policy
remember rows without copies."""
KEPT_CELL_LENGTH = 128
"""Longest string cell kept once rendered whatever it is; a longer one is kept only if it
repeats in the rows rendered together (a report-level text such as the investigation). A long
text seen once (e.g. a service's evidence) lives only inside its row's text: holding its cell
too would hold those characters twice (~12 MB at 10,000 services)."""
RENDERED_ARRAYS: dict[str, list[str]] = {}
"""Cell text of a non-empty array -> the item cells it was joined from; written only by
`cell_sql`, read by the policy as a hint (it checks the text)."""


def _array_parts() -> tuple[str, str, str]:
    """What sqlglot writes before, between and after the items of a non-empty ARRAY."""
    first, second = exp.Literal.string("a"), exp.Literal.string("b")
    text = _generator().generate(exp.Array(expressions=[first, second]), copy=False)
    opening, _, rest = text.partition("'a'")
    separator, _, closing = rest.partition("'b'")
    return opening, separator, closing


ARRAY_OPEN, ARRAY_SEPARATOR, ARRAY_CLOSE = _array_parts()
_CELL_TEXTS: dict[ColumnType, dict[CellValue, str]] = {kind: {} for kind in ColumnType}
"""Rendered cells by column type and value. Plain dicts rather than an LRU cache: a cold render
of a large report keeps tens of thousands of cells, and an LRU entry's key tuple is one more
object for the garbage collector to walk on every full collection."""
STRING_CELLS = _CELL_TEXTS[ColumnType.STRING]
"""Rendered string cells by value (read by the policy, which checks what it reads)."""


def cell_sql(value: CellValue, column_type: ColumnType) -> str:
    """One cell as a Databricks SQL literal, rendered by sqlglot (cached per distinct value).

    Strings and arrays are rendered from pieces that sqlglot rendered once each: sqlglot escapes
    a string literal one character at a time (`Generator.escape_str`: a per-character map, then
    replacing the quote character by its escape), so the literal of a string is the quote, the
    renderings of its characters (`inside_literal`), and the quote. A non-empty array of strings
    is written as `ARRAY(` + the string literals joined by `, ` + `)`. The tests compare every
    kind of cell with sqlglot rendering the whole value."""
    cache = _CELL_TEXTS[column_type]
    text = cache.get(value)
    if text is not None:
        return text
    if column_type is ColumnType.STRING and isinstance(value, str):
        text = QUOTE_START + inside_literal(value) + QUOTE_END
    elif column_type is ColumnType.STRING_ARRAY and isinstance(value, tuple) and value:
        items = [cell_sql(item, ColumnType.STRING) for item in value]
        text = ARRAY_OPEN + ARRAY_SEPARATOR.join(items) + ARRAY_CLOSE
        if len(RENDERED_ARRAYS) >= CELL_CACHE_SIZE:
            RENDERED_ARRAYS.clear()
        RENDERED_ARRAYS[text] = items
    else:
        text = _generator().generate(literal(value, column_type), copy=False)
    if column_type is ColumnType.STRING and len(text) > KEPT_CELL_LENGTH:
        return text
    if len(cache) >= CELL_CACHE_SIZE:
        cache.clear()
    cache[value] = text
    return text


def _forget_cells() -> None:
    for cache in _CELL_TEXTS.values():
        cache.clear()
    RENDERED_ARRAYS.clear()
    _forget_characters()


@lru_cache(maxsize=ROW_CACHE_SIZE)
def row_sql(row: ImpactRow) -> str:
    """One row of the MERGE source as a Databricks SQL tuple (cached: rows are immutable)."""
    return row_texts((row,))[0]


_ROW_TEXTS: dict[ImpactRow, str] = {}
"""Rendered rows (`row_texts`); cleared with RENDERED_ROWS when they grow large."""
_ROW_FORMAT = "({})".format
"""`(` + a row's joined cells + `)`."""
CELL_SEPARATOR = ", "


def row_texts(rows: Sequence[ImpactRow]) -> list[str]:
    """`row_sql` of each row. The rows not rendered yet are rendered together, column by column:
    each distinct value of a column is rendered once (`cell_sql`), and looking up the cells,
    joining them into rows and recording them is done in C, not once per cell in Python."""
    texts = list(map(_ROW_TEXTS.get, rows))
    missing = [index for index, text in enumerate(texts) if text is None]
    if missing:
        new_rows = [rows[index] for index in missing]
        columns = [*zip(*(row.values for row in new_rows), strict=True), content_hashes(new_rows)]
        rendered = [
            _rendered_column(column, column_type)
            for column, column_type in zip(columns, SOURCE_TYPES, strict=True)
        ]
        cell_rows = list(zip(*(cells for cells, _ in rendered), strict=True))
        new_texts = list(map(_ROW_FORMAT, map(CELL_SEPARATOR.join, cell_rows)))
        whole = all(recorded is cells for cells, recorded in rendered)
        if not whole:
            cell_rows = list(zip(*(recorded for _, recorded in rendered), strict=True))
        if len(RENDERED_ROWS) + len(new_texts) > 2 * ROW_CACHE_SIZE:
            RENDERED_ROWS.clear()
            _ROW_TEXTS.clear()
            row_sql.cache_clear()
        wholes = list(map(_is_whole, cell_rows)) if not whole else [True] * len(cell_rows)
        records = zip(new_texts, cell_rows, wholes, strict=True)
        RENDERED_ROWS.update(zip(new_texts, records, strict=True))
        _ROW_TEXTS.update(zip(new_rows, new_texts, strict=True))
        for index, text in zip(missing, new_texts, strict=True):
            texts[index] = text
    return cast(list[str], texts)


def _is_whole(cells: RowCells) -> bool:
    return int not in map(type, cells)


def _rendered_column(
    values: Sequence[CellValue], column_type: ColumnType
) -> tuple[list[str], Sequence[str | int]]:
    """`cell_sql` of each value of one column (a rendered cell is never empty), and what to
    record of each: the cell, or the length of a cell not kept (`KEPT_CELL_LENGTH`; the very
    list of cells when every cell is kept). The new strings of a string column are written
    together (`inside_literals`)."""
    cache = _CELL_TEXTS[column_type]
    cells = list(map(cache.get, values))
    if None not in cells:
        return cast(list[str], cells), cast(list[str], cells)
    new = set(values).difference(cache)
    rendered: dict[CellValue, str] = {}
    if column_type is ColumnType.STRING:
        strings = [value for value in new if isinstance(value, str)]
        rendered.update(zip(strings, map(_quoted, inside_literals(strings)), strict=True))
    for value in new.difference(rendered):
        rendered[value] = cell_sql(value, column_type)
    long = [value for value, text in rendered.items() if len(text) > KEPT_CELL_LENGTH]
    unkept: set[CellValue] = set()
    if long and column_type is ColumnType.STRING:
        counts = Counter(values)
        unkept = {value for value in long if counts[value] == 1}
    if len(cache) + len(rendered) - len(unkept) > CELL_CACHE_SIZE:
        cache.clear()
    cache.update(rendered if not unkept else {v: t for v, t in rendered.items() if v not in unkept})
    texts = [
        cell if cell is not None else rendered[value]
        for value, cell in zip(values, cells, strict=True)
    ]
    if not unkept:
        return texts, texts
    recorded = [
        len(text) if value in unkept else text for value, text in zip(values, texts, strict=True)
    ]
    return texts, recorded


_quoted = "{}".join(
    quote.replace("{", "{{").replace("}", "}}") for quote in (QUOTE_START, QUOTE_END)
).format
"""A string literal's text from its inside."""


@lru_cache(maxsize=ROW_CACHE_SIZE)
def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


@lru_cache(maxsize=8)
def _merge_template(table: str) -> tuple[str, str, str]:
    """The MERGE text before and after its rows, and the separator between two rows."""
    source_alias = exp.TableAlias(
        this=exp.to_identifier("v"),
        columns=[exp.to_identifier(name) for name in _SOURCE_COLUMNS],
    )
    values = exp.Values(
        expressions=[exp.Tuple(expressions=[exp.column(_ROWS_MARKER)])], alias=source_alias
    )
    source = exp.select("*").from_(values).subquery("s")
    key_match = exp.and_(*(exp.column(key, "t").eq(exp.column(key, "s")) for key in KEY_COLUMNS))
    written = [*_SOURCE_COLUMNS, *REVIEW_COLUMNS]
    source_values: list[exp.Expression] = [exp.column(name, "s") for name in _SOURCE_COLUMNS]
    source_values += [exp.Placeholder(this=slot.name) for slot in REVIEW_PARAMETERS]
    update = exp.Update(
        expressions=[
            exp.EQ(this=exp.column(name), expression=value)
            for name, value in zip(written, source_values, strict=True)
            if name not in KEY_COLUMNS
        ]
    )
    insert = exp.Insert(
        this=exp.Tuple(expressions=[exp.column(name) for name in written]),
        expression=exp.Tuple(expressions=source_values),
    )
    merge = exp.Merge(
        this=table_expression(table).as_("t"),
        using=source,
        on=key_match,
        whens=exp.Whens(
            expressions=[
                exp.When(matched=True, then=update),
                exp.When(matched=False, then=insert),
            ]
        ),
    )
    text = merge.sql(dialect=DIALECT, pretty=True)
    marker_line = next(line for line in text.splitlines() if _ROWS_MARKER in line)
    indent = marker_line[: len(marker_line) - len(marker_line.lstrip())]
    before, _, after = text.partition(f"({_ROWS_MARKER})")
    return before, after, ",\n" + indent


def _chunks(rows: Sequence[ImpactRow]) -> list[tuple[str, ...]]:
    """The row texts of each MERGE, split by MERGE_BYTE_BUDGET and MERGE_ROW_LIMIT."""
    chunks: list[tuple[str, ...]] = []
    current: list[str] = []
    size = 0
    budget, limit = MERGE_BYTE_BUDGET, MERGE_ROW_LIMIT
    texts = row_texts(rows)
    for text, text_bytes in zip(texts, map(_utf8_size, texts), strict=True):
        if current and (size + text_bytes > budget or len(current) >= limit):
            chunks.append(tuple(current))
            current, size = [], 0
        current.append(text)
        size += text_bytes
    if current:
        chunks.append(tuple(current))
    return chunks


def _merge_text(before: str, rows: tuple[str, ...], separator: str, after: str) -> str:
    """`before + separator.join(rows) + after`, with the statement's text written once: adding
    to a joined text of megabytes would copy it again, into a fresh allocation, for each `+`."""
    if len(rows) == 1:
        return before + rows[0] + after
    return separator.join([before + rows[0], *rows[1:-1], rows[-1] + after])


_previous_merges: dict[tuple[str, tuple[str, ...]], MergeText] = {}
"""(table, row texts) -> MergeText of each MERGE of the latest `upserts` call."""


def upserts(table: str, rows: Sequence[ImpactRow]) -> list[Statement]:
    """Idempotent MERGE statements keyed by (report_id, service_name), split by size.

    A chunk whose rows are the same as in the previous call gets the very same `MergeText`
    back (and its very rows tuple), so caches keyed by identity see an edit touch one MERGE."""
    global _previous_merges
    before, after, separator = _merge_template(table)
    chunks = _chunks(rows)
    built: dict[tuple[str, tuple[str, ...]], MergeText] = {}
    statements = []
    template_size = _utf8_size(before) + _utf8_size(after) - _utf8_size(separator)
    for number, chunk in enumerate(chunks, start=1):
        name = "upsert-rows" if len(chunks) == 1 else f"upsert-rows-{number}-of-{len(chunks)}"
        merge = _previous_merges.get((table, chunk))
        if merge is None or merge.rows != chunk or (merge.before, merge.after) != (before, after):
            size = template_size + len(chunk) * _utf8_size(separator) + sum(map(_utf8_size, chunk))
            merge = MergeText(table, before, chunk, separator, after, size)
        built[(table, merge.rows)] = merge
        statements.append(
            Statement(Step.UPSERT_ROWS, name, merge, REVIEW_PARAMETERS, row_count=len(chunk))
        )
    _previous_merges = built
    return statements


@lru_cache(maxsize=32)
def select_report(table: str, report_id: str) -> Statement:
    """The full read-back: every column of the report's rows, ordered by service. A run sends
    it only when a fingerprint disagrees (see `core.sqlgen.verify_sql`); re-verifying without a
    record of the approval, and reading a report's rows, always do."""
    query = (
        exp.select(*(exp.column(column.name) for column in COLUMNS))
        .from_(table_expression(table))
        .where(exp.column("report_id").eq(exp.Literal.string(report_id)))
        .order_by(exp.column("service_name"))
    )
    sql = query.sql(dialect=DIALECT, pretty=True)
    return Statement(Step.VERIFY_ROWS, VERIFY_DETAIL_STATEMENT, sql)


def clear_caches() -> None:
    """Forget every rendered cell and row (benchmarks use it to measure a cold render)."""
    _forget_cells()
    row_sql.cache_clear()
    _ROW_TEXTS.clear()
    _utf8_size.cache_clear()
    RENDERED_ROWS.clear()
    _previous_merges.clear()
    create_table.cache_clear()
    select_report.cache_clear()
