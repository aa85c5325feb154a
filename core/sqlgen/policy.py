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

Why this is sound: a statement takes this path only if its text *is* skeleton-before + rows
joined by the separator + skeleton-after (checked on the text, or known because this very
string object was joined that way by `upserts`: strings are immutable), and each row *is*
`(` + cells + `)`. By (3) every cell
is the canonical sqlglot rendering of a single literal: it begins with a quote, `CAST(`, `ARRAY(`
or `NULL` and ends with a closing quote, `)` or `NULL`, everything else in it is inside string
literals that parse back to the same value, and no comment or statement separator survives a
round trip. Such a cell is self-delimiting: the tokenizer reads exactly its tokens whether it
stands alone or sits between `(`, `, ` and `)`. So the tokens of the whole statement are the
skeleton's tokens with each probe row's tokens replaced by a row of literals, and its tree is the
skeleton's tree with more literal tuples in the one VALUES list (2). Literal tuples contain no
table, no subquery and no forbidden node, so the whole statement gets the skeleton's verdict.
Anything that does not fit exactly (an unknown row, a cell that fails (3), another table, a
statement not shaped like our MERGE) is parsed whole, as before, so the result of
`check_statement` never depends on which path ran.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.parser import Parser
from sqlglot.tokens import Tokenizer

from core.impact_table import CellValue, ColumnType
from core.sqlgen import statements
from core.sqlgen.statements import (
    DIALECT,
    RENDERED_ROWS,
    ROW_CACHE_SIZE,
    SOURCE_TYPES,
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


def _too_large(sql: str) -> list[PolicyIssue]:
    size = len(sql) if sql.isascii() else len(sql.encode("utf-8"))
    if size > STATEMENT_LIMIT_BYTES:
        return [PolicyIssue(f"statement is {size:,} bytes, over Databricks' 16 MiB limit")]
    return []


def check_statement(sql: str, target_table: str) -> list[PolicyIssue]:
    """Every reason `sql` may not run against `target_table` (empty when it may)."""
    too_large = _too_large(sql)
    if too_large:
        return too_large
    by_pieces = _check_merge_by_pieces(sql, target_table)
    if by_pieces is not None:
        return by_pieces
    return check_whole_statement(sql, target_table)


def check_whole_statement(sql: str, target_table: str) -> list[PolicyIssue]:
    """`check_statement` by parsing the whole text at once, never piece by piece (the baseline
    the piece-by-piece path must always agree with)."""
    too_large = _too_large(sql)
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
    """The verdict on a MERGE built from validated pieces, or None to parse it whole."""
    skeleton = _merge_skeleton(target_table)
    if skeleton is None:
        return None
    before, after, separator, issues = skeleton
    built = statements.BUILT_MERGES.get(id(sql))
    rows: Sequence[str]
    if built is not None and built[0] is sql and built[1] == target_table:
        # This very object was joined by `upserts` from the same template around these rows.
        rows = built[2]
    elif len(sql) > len(before) + len(after) and sql.startswith(before) and sql.endswith(after):
        rows = sql[len(before) : len(sql) - len(after)].split(separator)
    else:
        return None
    if not all(_row_is_literals(row) for row in rows):
        return None
    return list(issues)


_LITERAL_ROWS: set[str] = set()
"""Rows found to be literal rows (only positive verdicts: a row unknown now may be known later)."""


def _row_is_literals(row: str) -> bool:
    """Whether `row` is `(` + canonical literal cells of the source columns joined by `, ` + `)`."""
    if row in _LITERAL_ROWS:
        return True
    rendered = RENDERED_ROWS.get(row)
    if rendered is None:
        return False
    original, cells = rendered
    if len(cells) != len(SOURCE_TYPES):
        return False
    if row != "(" + ", ".join(cells) + ")":
        return False
    if not all(
        _cell_is_literal(cell, column_type)
        for cell, column_type in zip(cells, SOURCE_TYPES, strict=True)
    ):
        return False
    if len(_LITERAL_ROWS) >= 2 * ROW_CACHE_SIZE:
        _LITERAL_ROWS.clear()
    _LITERAL_ROWS.add(original)  # the renderer's object (equal to `row`), not another copy
    return True


@lru_cache(maxsize=4 * ROW_CACHE_SIZE)
def _cell_is_literal(cell: str, column_type: ColumnType) -> bool:
    """Whether `cell` parses alone as one literal of the type and renders back to itself."""
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
    _cell_is_literal.cache_clear()
    _LITERAL_ROWS.clear()
    statements.clear_caches()
