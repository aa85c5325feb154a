"""Parse every statement back with sqlglot and hold it to the write policy.

The policy is what makes "only what was reviewed runs" checkable: a statement is one of
CREATE TABLE IF NOT EXISTS, MERGE INTO (update or insert, never delete) or SELECT, and it touches
only the one target table. Anything else is refused with a message saying why.

Large MERGE statements are checked piece by piece
-------------------------------------------------
Parsing a 10,000-row MERGE whole costs seconds, and the preview re-checks a MERGE on every edit.
So a MERGE produced by `core.sqlgen.statements.upserts` is checked as the pieces it is made of,
each parsed by sqlglot in the Databricks dialect once and remembered:

1. The skeleton: the MERGE text before and after its rows, for this target table. It is parsed
   with two probe rows of NULLs joined by the row separator; it must parse as exactly one
   statement whose only VALUES list holds exactly those two probe rows, and that tree is held to
   the policy below. Its verdict is the verdict of every statement built on it.
2. Each distinct row: the text must equal `(` + its cells joined by `, ` + `)`, with as many
   cells as the MERGE source has columns. Which cells a row was joined from is looked up in the
   renderer's record, but the record is only a hint: the equality is checked on the text.
3. Each distinct cell: parsed alone it must be exactly one expression that is a literal of its
   column's type (a string, NULL, CAST of a string AS a timestamp type, an ARRAY of strings or
   the typed empty array), with no comments, and rendering that literal again through sqlglot
   must give the cell text back byte for byte.
4. A string cell must be exactly one string token, without comments, whose text sqlglot
   renders back to the cell byte for byte. A cell with a backslash in it (where the tokenizer
   reads character by character) is instead checked as its words: between its quotes, the text is
   split at every space; each distinct word, quoted, must tokenize alone as exactly one string
   token with no comment and no space in it or in its text, and sqlglot must render that text
   back to the quoted word byte for byte. (The renderer escapes character by character, so a
   string cell is exactly its words' renderings joined by spaces, between quotes; see
   `core.sqlgen.escapes`.) The tokenizer reads a string left to right in units: a character, or
   an escape (a backslash and the few characters it covers, never a space). A quoted word
   reading as one token means its units end exactly where the word does (a trailing lone
   backslash would have escaped the closing quote), and no unit of it looks far enough ahead to
   tell a closing quote from a space. So the spaces are plain characters of the string, and the
   whole cell reads as one string token whose text is the words' texts joined by spaces: the
   value the cell parsed whole stands for (the tests compare).
5. A non-empty array cell the renderer recorded must be `ARRAY(` + its item cells joined by
   `, ` + `)` as sqlglot writes them, each item a string cell as in (4), and an array of that
   many string literals must parse alone as one Array of exactly those strings that renders back
   to itself. The parser does not look inside a string token's text, so every array of that
   many strings parses the same way. Any other cell is parsed alone, as in (3).

Why this is sound: a statement takes this path only if its text *is* skeleton-before + rows
joined by the separator + skeleton-after (checked on the text, or, for a MERGE kept as its
pieces (`core.sqlgen.statements.MergeText`), because its text is by definition those pieces
joined: its template is compared with the skeleton's), and each row *is*
`(` + cells + `)`. By (3), (4) or (5) every cell is the canonical sqlglot rendering of a single
literal: it begins with a quote, `CAST(`, `ARRAY(` or `NULL` and ends with a closing quote, `)`
or `NULL`, everything else in it is inside string literals that parse back to the same value,
and no comment or statement separator survives a round trip. Such a cell is self-delimiting: the
tokenizer reads exactly its tokens whether it stands alone or sits between `(`, `, ` and `)`. So
the tokens of the whole statement are the skeleton's tokens with each probe row's tokens
replaced by a row of literals, and its tree is the skeleton's tree with more literal tuples in
the one VALUES list (2). Literal tuples contain no
table, no subquery and no forbidden node, so the whole statement gets the skeleton's verdict.
Anything that does not fit exactly (an unknown row, a cell that fails (3), another table, a
statement not shaped like our MERGE) is parsed whole, as before, so the result of
`check_statement` never depends on which path ran.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import chain
from operator import eq, itemgetter
from typing import cast

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.parser import Parser
from sqlglot.tokens import Tokenizer

from core.impact_table import CellValue, ColumnType
from core.sqlgen import statements
from core.sqlgen.escapes import inside_literal
from core.sqlgen.statements import (
    ARRAY_CLOSE,
    ARRAY_OPEN,
    ARRAY_SEPARATOR,
    DIALECT,
    KEPT_CELL_LENGTH,
    QUOTE_END,
    QUOTE_START,
    RENDERED_ARRAYS,
    RENDERED_ROWS,
    ROW_CACHE_SIZE,
    SOURCE_TYPES,
    STRING_CELLS,
    MergeText,
    RowCells,
    _merge_template,
    cell_sql,
    table_expression,
)

STATEMENT_LIMIT_BYTES = 16 * 1024 * 1024
READ_ONLY_CATALOGS = frozenset({"system", "samples"})
"""Unity Catalog catalogs no one can write to."""


@dataclass(frozen=True)
class PolicyIssue:
    """Why a statement may not run; line/column are 1-based where the parser knows them."""

    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        return where + self.message


def _table_key(table: exp.Table) -> tuple[str, str, str]:
    return (table.catalog.lower(), table.db.lower(), table.name.lower())


def check_target(target_table: str) -> list[PolicyIssue]:
    """Problems with the target table itself (before any statement is looked at)."""
    catalog = target_table.split(".", 1)[0].lower()
    if catalog in READ_ONLY_CATALOGS:
        return [PolicyIssue(f"target table {target_table} is in the read-only {catalog} catalog")]
    return []


def _too_large(size: int) -> list[PolicyIssue]:
    if size > STATEMENT_LIMIT_BYTES:
        return [PolicyIssue(f"statement is {size:,} bytes, over Databricks' 16 MiB limit")]
    return []


def _utf8_size(sql: str) -> int:
    return len(sql) if sql.isascii() else len(sql.encode("utf-8"))


def check_statement(sql: str | MergeText, target_table: str) -> list[PolicyIssue]:
    """Every reason `sql` may not run against `target_table` (empty when it may). A MERGE built
    by `upserts` is checked by its pieces, never joined."""
    if isinstance(sql, MergeText):
        too_large = _too_large(sql.utf8_size)
        if too_large:
            return too_large
        checked = _check_built_merge(sql, target_table)
        return checked if checked is not None else check_whole_statement(sql.text(), target_table)
    too_large = _too_large(_utf8_size(sql))
    if too_large:
        return too_large
    by_pieces = _check_merge_by_pieces(sql, target_table)
    if by_pieces is not None:
        return by_pieces
    return check_whole_statement(sql, target_table)


def check_whole_statement(sql: str, target_table: str) -> list[PolicyIssue]:
    """`check_statement` by parsing the whole text at once, never piece by piece (the baseline
    the piece-by-piece path must always agree with)."""
    too_large = _too_large(_utf8_size(sql))
    if too_large:
        return too_large
    try:
        parsed = [tree for tree in sqlglot.parse(sql, read=DIALECT) if tree is not None]
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        return [
            PolicyIssue(
                f"does not parse: {first.get('description') or error}",
                first.get("line"),
                first.get("col"),
            )
        ]
    except SqlglotError as error:  # e.g. TokenError: an unterminated comment or string
        return [PolicyIssue(f"does not parse: {str(error)[:200]}")]
    if len(parsed) != 1:
        return [PolicyIssue(f"must be exactly one statement, found {len(parsed)}")]
    return _check_tree(parsed[0], target_table)


def _check_tree(tree: exp.Expr, target_table: str) -> list[PolicyIssue]:
    target = _table_key(table_expression(target_table))
    issues: list[PolicyIssue] = []
    if isinstance(tree, exp.Create):
        if tree.kind != "TABLE" or not tree.args.get("exists") or tree.args.get("replace"):
            issues.append(PolicyIssue("only CREATE TABLE IF NOT EXISTS is allowed"))
        if tree.expression is not None:
            issues.append(PolicyIssue("CREATE TABLE ... AS SELECT is not allowed"))
    elif isinstance(tree, exp.Merge):
        for when in tree.find_all(exp.When):
            if not isinstance(when.args.get("then"), exp.Update | exp.Insert):
                issues.append(PolicyIssue("MERGE may only update or insert rows"))
    elif isinstance(tree, exp.Select):
        if tree.find(exp.Into) is not None:
            issues.append(PolicyIssue("SELECT ... INTO is not allowed"))
    else:
        kind = tree.key.upper()
        issues.append(PolicyIssue(f"{kind} is not allowed: only CREATE TABLE, MERGE and SELECT"))
    forbidden = (exp.Drop, exp.Delete, exp.Command, exp.Alter, exp.TruncateTable)
    for node in tree.find_all(*forbidden):
        issues.append(PolicyIssue(f"{node.key.upper()} is not allowed inside a statement"))
    for table in tree.find_all(exp.Table):
        if _table_key(table) != target:
            shown = table.sql(dialect=DIALECT) or "a derived table"
            issues.append(PolicyIssue(f"touches {shown}; only {target_table} is allowed"))
    return issues


_PROBE_ROW = "(" + ", ".join(["NULL"] * len(SOURCE_TYPES)) + ")"


@lru_cache(maxsize=32)
def _merge_skeleton(target_table: str) -> tuple[str, str, str, tuple[PolicyIssue, ...]] | None:
    """Before-rows text, after-rows text, row separator and verdict of our MERGE for a table.

    None when the skeleton does not check out as described in the module docstring (then every
    MERGE for that table is parsed whole)."""
    before, after, separator = _merge_template(target_table)
    try:
        trees = [
            tree
            for tree in sqlglot.parse(
                before + _PROBE_ROW + separator + _PROBE_ROW + after, read=DIALECT
            )
            if tree is not None
        ]
    except Exception:
        return None
    if len(trees) != 1 or not isinstance(trees[0], exp.Merge):
        return None
    values = list(trees[0].find_all(exp.Values))
    if len(values) != 1 or len(values[0].expressions) != 2:
        return None
    for row in values[0].expressions:
        cells = row.expressions if isinstance(row, exp.Tuple) else []
        if len(cells) != len(SOURCE_TYPES) or not all(isinstance(c, exp.Null) for c in cells):
            return None
    return before, after, separator, tuple(_check_tree(trees[0], target_table))


def _check_merge_by_pieces(sql: str, target_table: str) -> list[PolicyIssue] | None:
    """The verdict on a MERGE text made of validated pieces, or None to parse it whole."""
    skeleton = _merge_skeleton(target_table)
    if skeleton is None:
        return None
    before, after, separator, issues = skeleton
    if len(sql) <= len(before) + len(after) or not sql.startswith(before):
        return None
    if not sql.endswith(after):
        return None
    if not _rows_are_literals(sql[len(before) : len(sql) - len(after)].split(separator)):
        return None
    return list(issues)


def _check_built_merge(merge: MergeText, target_table: str) -> list[PolicyIssue] | None:
    """The verdict on a MERGE kept as pieces, or None to parse its text whole: its template
    must be the checked skeleton of `target_table`, and each row a literal row."""
    skeleton = _merge_skeleton(target_table)
    if skeleton is None:
        return None
    before, after, separator, issues = skeleton
    template = (merge.before, merge.after, merge.separator)
    if not merge.rows or template != (before, after, separator):
        return None
    if not _rows_are_literals(merge.rows):
        return None
    return list(issues)


_LITERAL_ROWS: set[str] = set()
"""Rows found to be literal rows (only positive verdicts: a row unknown now may be known later)."""


def _rows_are_literals(rows: Sequence[str]) -> bool:
    """Whether every row is `(` + canonical literal cells of the source columns joined by `, `
    + `)`. The rows not known yet are checked together, column by column, so that each distinct
    cell is looked at once and the work per row and per cell known already is done in C."""
    unknown = list(set(rows).difference(_LITERAL_ROWS))
    if not unknown:
        return True
    records = list(map(RENDERED_ROWS.get, unknown))
    if None in records:
        return False
    originals, recorded, whole = zip(*records, strict=True)
    cell_rows: Sequence[Sequence[str]] = recorded
    if not all(whole):
        cell_rows = list(map(_cells_of, originals, recorded))
    if set(map(len, cell_rows)) != {len(SOURCE_TYPES)}:
        return False
    if not all(map(eq, unknown, map(_ROW_FORMAT, map(_CELL_SEPARATOR.join, cell_rows)))):
        return False
    known = _LITERAL_CELLS[ColumnType.STRING]
    strings = set(chain.from_iterable(map(_string_cells, cell_rows))).difference(known)
    if not _are_string_literals(strings, known):
        return False
    for position in _OTHER_POSITIONS:
        column_type = SOURCE_TYPES[position]
        cells = set(map(itemgetter(position), cell_rows))
        new = cells.difference(_LITERAL_CELLS[column_type])
        if column_type is ColumnType.STRING_ARRAY and _are_recorded_arrays(new):
            continue
        if not all(_cell_is_literal(cell, column_type) for cell in new):
            return False
    if len(_LITERAL_ROWS) + len(originals) > 2 * ROW_CACHE_SIZE:
        _LITERAL_ROWS.clear()
    _LITERAL_ROWS.update(originals)  # the renderer's objects (equal to the rows), not copies
    return True


def _cells_of(row: str, recorded: RowCells) -> Sequence[str]:
    """A row's cells from the renderer's record: a cell it did not keep is the row text's slice
    of the recorded length at that place (only a hint: the caller checks the row is exactly
    its cells joined)."""
    if int not in map(type, recorded):
        return cast(tuple[str, ...], recorded)
    cells = []
    start = _ROW_FORMAT("").index(")")  # after "("
    for cell in recorded:
        length = cell if isinstance(cell, int) else len(cell)
        cells.append(row[start : start + length] if isinstance(cell, int) else cell)
        start += length + len(_CELL_SEPARATOR)
    return cells


_ROW_FORMAT = "({})".format
"""`(` + the joined cells + `)`."""
_CELL_SEPARATOR = ", "


def _are_string_literals(cells: Iterable[str], known: set[str]) -> bool:
    """`_cell_is_literal(cell, STRING)` for every cell, with `_is_one_string` written inline
    for the cells without a backslash (most cells of a report, each seen once)."""
    tokenize = _tokenizer_and_parser()[0].tokenize
    rendered = STRING_CELLS
    found = []
    for cell in cells:
        if cell in known:
            continue
        if "\\" not in cell:
            try:
                (token,) = tokenize(cell)
            except Exception:  # not exactly one token, or no token at all
                token = None
            if (
                token is not None
                and token.token_type is TokenType.STRING
                and not token.comments
                and (rendered.get(token.text) or cell_sql(token.text, ColumnType.STRING)) == cell
            ):
                found.append(cell)
                continue
        if not _cell_is_literal(cell, ColumnType.STRING):
            return False
    if len(known) + len(found) > 4 * ROW_CACHE_SIZE:
        known.clear()
    known.update(cell for cell in found if _worth_remembering(cell))
    return True


def _worth_remembering(cell: str) -> bool:
    """Whether to remember a string cell as a literal: not a long one (`KEPT_CELL_LENGTH`),
    which may be a row's slice (holding it would hold its text twice) and is seldom seen again:
    a row known to be literal is not looked at again, and a long cell that repeats is checked
    once per set of rows."""
    return len(cell) <= KEPT_CELL_LENGTH


_LITERAL_CELLS: dict[ColumnType, set[str]] = {kind: set() for kind in ColumnType}
"""Cells found to be literals of each type (only positive verdicts)."""
_STRING_POSITIONS = [i for i, kind in enumerate(SOURCE_TYPES) if kind is ColumnType.STRING]
_OTHER_POSITIONS = [i for i, kind in enumerate(SOURCE_TYPES) if kind is not ColumnType.STRING]
_string_cells = itemgetter(*_STRING_POSITIONS)
"""The cells of a row's string columns (known string cells are checked as one set, in C)."""


def _cell_is_literal(cell: str, column_type: ColumnType) -> bool:
    """Whether `cell` is one literal of the type that sqlglot renders exactly so (remembered)."""
    known = _LITERAL_CELLS[column_type]
    if cell in known:
        return True
    if not _check_cell(cell, column_type):
        return False
    if column_type is ColumnType.STRING and not _worth_remembering(cell):
        return True
    if len(known) >= 4 * ROW_CACHE_SIZE:
        known.clear()
    known.add(cell)
    return True


def _check_cell(cell: str, column_type: ColumnType) -> bool:
    """`_cell_is_literal`, computed: from its pieces for a quoted string or an array the renderer
    recorded ((4) and (5) in the module docstring), otherwise by parsing the cell alone and
    rendering the literal again."""
    if column_type is ColumnType.STRING:
        if "\\" not in cell:
            # Without a backslash the tokenizer finds the closing quote with `str.find`, so the
            # whole cell is read at once; with one, it reads character by character, so the
            # cell is checked as its words, each read once per report.
            if _is_one_string(cell):
                return True
        elif _is_quoted_words(cell):
            return True
    if column_type is ColumnType.STRING_ARRAY:
        items = RENDERED_ARRAYS.get(cell)
        if items is not None and _is_joined_items(cell, items):
            return True
    try:
        tokenizer, parser = _tokenizer_and_parser()
        trees = parser.parse(tokenizer.tokenize(cell), cell)
        if len(trees) != 1 or trees[0] is None:
            return False
        tree = trees[0]
        if any(node.comments for node in tree.walk()):
            return False
        return cell_sql(_literal_value(tree, column_type), column_type) == cell
    except Exception:
        # Whatever went wrong, the statement is parsed whole and that parse gives the verdict.
        return False


def _is_quoted_words(cell: str) -> bool:
    """Whether `cell` is the quote, words joined by single spaces, and the quote, where each
    word, quoted, is a string literal as (4) checks it."""
    if len(cell) < len(QUOTE_START) + len(QUOTE_END):
        return False
    if not (cell.startswith(QUOTE_START) and cell.endswith(QUOTE_END)):
        return False
    words = cell[len(QUOTE_START) : len(cell) - len(QUOTE_END)].split(" ")
    for word in set(words).difference(_LITERAL_WORDS):
        if not _word_is_literal(word):
            return False
        if len(_LITERAL_WORDS) >= 4 * ROW_CACHE_SIZE:
            _LITERAL_WORDS.clear()
        _LITERAL_WORDS.add(word)
    return True


_LITERAL_WORDS: set[str] = set()
"""Words found to be string literals once quoted (only positive verdicts)."""


def _word_is_literal(word: str) -> bool:
    """Whether the quoted word is exactly one string token, without comments, with no space in
    the word or in the token's text, whose text sqlglot renders back to the word byte for byte."""
    if " " in word:
        return False
    text = _string_token_text(QUOTE_START + word + QUOTE_END)
    return text is not None and " " not in text and inside_literal(text) == word


def _is_one_string(cell: str) -> bool:
    """Whether the cell is exactly one string token, without comments, whose text sqlglot
    renders back to the cell byte for byte."""
    text = _string_token_text(cell)
    return text is not None and cell_sql(text, ColumnType.STRING) == cell


def _string_token_text(sql: str) -> str | None:
    """The text of the one string token `sql` is, or None when it is anything else."""
    try:
        tokenizer, _ = _tokenizer_and_parser()
        tokens = tokenizer.tokenize(sql)
    except Exception:
        return None
    if len(tokens) != 1:
        return None
    (token,) = tokens
    if token.token_type is not TokenType.STRING or token.comments:
        return None
    return token.text


def _is_joined_items(cell: str, items: Sequence[str]) -> bool:
    """Whether `cell` is ARRAY( + `items` joined by `, ` + ), where each item is a string cell
    as `_cell_is_literal` checks it, and an array of that many strings parses as (5) says."""
    if cell != ARRAY_OPEN + ARRAY_SEPARATOR.join(items) + ARRAY_CLOSE:
        return False
    if not _array_of_strings_parses(len(items)):
        return False
    return all(_cell_is_literal(item, ColumnType.STRING) for item in items)


def _are_recorded_arrays(cells: set[str]) -> bool:
    """Whether every cell is an array the renderer recorded and `_is_joined_items` holds for
    it with its recorded items, checked together (and then remembered); False leaves the cells
    to `_cell_is_literal` one by one."""
    records = list(map(RENDERED_ARRAYS.get, cells))
    if None in records:
        return False
    items = cast(list[list[str]], records)
    if not all(map(eq, cells, map(_ARRAY_FORMAT, map(ARRAY_SEPARATOR.join, items)))):
        return False
    if not all(map(_array_of_strings_parses, set(map(len, items)))):
        return False
    known = _LITERAL_CELLS[ColumnType.STRING]
    if not _are_string_literals(set(chain.from_iterable(items)).difference(known), known):
        return False
    arrays = _LITERAL_CELLS[ColumnType.STRING_ARRAY]
    if len(arrays) + len(cells) > 4 * ROW_CACHE_SIZE:
        arrays.clear()
    arrays.update(cells)
    return True


_ARRAY_FORMAT = "{}".join(
    part.replace("{", "{{").replace("}", "}}") for part in (ARRAY_OPEN, ARRAY_CLOSE)
).format
"""ARRAY( + the joined items + )."""


@lru_cache(maxsize=256)
def _array_of_strings_parses(count: int) -> bool:
    """Whether an ARRAY of `count` string literals, as the renderer writes it, parses alone as
    one Array of exactly those literals, without comments, that renders back to itself."""
    items = [QUOTE_START + str(number) + QUOTE_END for number in range(count)]
    probe = ARRAY_OPEN + ARRAY_SEPARATOR.join(items) + ARRAY_CLOSE
    try:
        tokenizer, parser = _tokenizer_and_parser()
        trees = parser.parse(tokenizer.tokenize(probe), probe)
    except Exception:
        return False
    if len(trees) != 1 or not isinstance(trees[0], exp.Array):
        return False
    tree = trees[0]
    if any(node.comments for node in tree.walk()):
        return False
    values = [_string(item) for item in tree.expressions if isinstance(item, exp.Literal)]
    return values == [str(number) for number in range(count)] and (
        cell_sql(tuple(values), ColumnType.STRING_ARRAY) == probe
    )


_DATABRICKS = Dialect.get_or_raise(DIALECT)
_parsers = threading.local()


def _tokenizer_and_parser() -> tuple[Tokenizer, Parser]:
    """This thread's Databricks tokenizer and parser: each resets itself on every call, and
    building them costs more than parsing a short cell, so they are reused (not shared)."""
    pair: tuple[Tokenizer, Parser] | None = getattr(_parsers, "pair", None)
    if pair is None:
        pair = (_DATABRICKS.tokenizer(), _DATABRICKS.parser())
        _parsers.pair = pair
    return pair


class _NotALiteral(ValueError):
    pass


def _string(node: exp.Expr | None) -> str:
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    raise _NotALiteral


def _literal_value(tree: exp.Expr, column_type: ColumnType) -> CellValue:
    """The value a literal tree of `column_type` stands for (_NotALiteral if it is none)."""
    if isinstance(tree, exp.Null):
        return None
    if column_type is ColumnType.STRING:
        return _string(tree)
    if column_type is ColumnType.TIMESTAMP:
        if not isinstance(tree, exp.Cast):
            raise _NotALiteral
        value = datetime.fromisoformat(_string(tree.this))
        if value.tzinfo is None:
            raise _NotALiteral
        return value
    array = tree.this if isinstance(tree, exp.Cast) else tree
    if not isinstance(array, exp.Array):
        raise _NotALiteral
    return tuple(_string(item) for item in array.expressions)


def clear_caches() -> None:
    """Forget every validated piece and every rendered one (for cold benchmarks)."""
    _merge_skeleton.cache_clear()
    _array_of_strings_parses.cache_clear()
    for known in _LITERAL_CELLS.values():
        known.clear()
    _LITERAL_ROWS.clear()
    _LITERAL_WORDS.clear()
    statements.clear_caches()
