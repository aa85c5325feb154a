"""Parse every statement back with sqlglot and hold it to the write policy.

The policy is what makes "only what was reviewed runs" checkable: a statement is one of
CREATE TABLE IF NOT EXISTS, MERGE INTO (update or insert, never delete) or SELECT, and it touches
only the one target table. Anything else is refused with a message saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from core.sqlgen.statements import DIALECT, table_expression

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


def check_statement(sql: str, target_table: str) -> list[PolicyIssue]:
    """Every reason `sql` may not run against `target_table` (empty when it may)."""
    size = len(sql.encode("utf-8"))
    if size > STATEMENT_LIMIT_BYTES:
        return [PolicyIssue(f"statement is {size:,} bytes, over Databricks' 16 MiB limit")]
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
