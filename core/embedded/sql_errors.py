"""Statement failures, worded as Databricks words them: `[ERROR_CLASS] text. SQLSTATE: xxxxx`.

A statement that fails in the warehouse is HTTP 200 with state FAILED, `status.error` =
`{error_code, message}` and `status.sql_state`. Real traffic shows `error_code` BAD_REQUEST for
every SQL failure, and clients classify on the bracketed Spark error class in the message
(`TABLE_OR_VIEW_NOT_FOUND`, `PARSE_SYNTAX_ERROR`, ...) and on `sql_state`. DuckDB's own errors
are translated into those classes here, with UC names (not our DuckDB aliases) in the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import duckdb

__all__ = ["StatementError", "from_duckdb"]


class StatementError(Exception):
    """A statement that ends FAILED."""

    def __init__(
        self, error_class: str, sql_state: str, text: str, *, error_code: str = "BAD_REQUEST"
    ) -> None:
        self.error_class = error_class
        self.sql_state = sql_state
        self.error_code = error_code
        self.message = f"[{error_class}] {text} SQLSTATE: {sql_state}"
        super().__init__(self.message)

    def status_fields(self) -> dict[str, Any]:
        """The `error` and `sql_state` members of `status`."""
        return {
            "error": {"error_code": self.error_code, "message": self.message},
            "sql_state": self.sql_state,
        }

    # Constructors for the classes the engine raises itself.

    @classmethod
    def syntax(
        cls, near: str, line: int, pos: int, statement: str, *, extra: bool = False
    ) -> StatementError:
        tail = f": extra input '{near}'" if extra else ""
        return cls(
            "PARSE_SYNTAX_ERROR",
            "42601",
            f"Syntax error at or near '{near}'{tail}.",
        )._with_context(f" (line {line}, pos {pos})\n\n== SQL ==\n{statement}\n")

    @classmethod
    def empty(cls) -> StatementError:
        return cls("PARSE_EMPTY_STATEMENT", "42617", "Syntax error, unexpected empty statement.")

    @classmethod
    def table_not_found(cls, name: str) -> StatementError:
        return cls(
            "TABLE_OR_VIEW_NOT_FOUND",
            "42P01",
            f"The table or view {name} cannot be found. Verify the spelling and correctness of "
            "the schema and catalog.\nIf you did not qualify the name with a schema, verify the "
            "current_schema() output, or qualify the name with the correct schema and catalog.\n"
            "To tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS.",
        )

    @classmethod
    def schema_not_found(cls, name: str) -> StatementError:
        return cls(
            "SCHEMA_NOT_FOUND",
            "42704",
            f"The schema {name} cannot be found. Verify the spelling and correctness of the "
            "schema and catalog.\nIf you did not qualify the name with a catalog, verify the "
            "current_schema() output, or qualify the name with the correct catalog.\n"
            "To tolerate the error on drop use DROP SCHEMA IF EXISTS.",
        )

    @classmethod
    def unbound_parameter(cls, name: str) -> StatementError:
        return cls(
            "UNBOUND_SQL_PARAMETER",
            "42P02",
            f"Found the unbound parameter: {name}. Please, fix `args` and provide a mapping of "
            "the parameter to either a SQL literal or collection constructor functions such as "
            "`map()`, `array()`, `struct()`.",
        )

    @classmethod
    def unsupported(cls, what: str) -> StatementError:
        return cls(
            "UNSUPPORTED_FEATURE", "0A000", f"The embedded warehouse does not support {what}."
        )

    def _with_context(self, suffix: str) -> StatementError:
        self.message += suffix
        self.args = (self.message,)
        return self


def quote_name(*parts: str) -> str:
    """`catalog`.`schema`.`table`, each part backtick-quoted the Spark way."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


_DUCK_TYPES = {
    "INT8": "TINYINT",
    "INT16": "SMALLINT",
    "INT32": "INT",
    "INT64": "BIGINT",
    "INT128": "BIGINT",
    "VARCHAR": "STRING",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
}


def from_duckdb(
    error: duckdb.Error,
    *,
    tables: Mapping[str, str],
    catalogs: Mapping[str, str],
) -> StatementError:
    """Translate a DuckDB error into the Spark error class a Databricks client expects.

    `tables` maps lower-cased DuckDB table names (bare and qualified) to UC display names;
    `catalogs` maps our DuckDB aliases (`uc_main`) back to UC catalog names (`main`).
    """
    text = _unalias(str(error), catalogs)
    first = text.split("\n", 1)[0]
    detail = first.split(": ", 1)[1] if ": " in first else first

    if isinstance(error, duckdb.CatalogException):
        if match := re.search(r'Table with name "?([^"!]+?)"? does not exist', detail):
            return StatementError.table_not_found(_table_display(match.group(1), tables))
        if match := re.search(r'Schema with name "?([^"!]+?)"? does not exist', detail):
            return StatementError.schema_not_found(_dotted_display(match.group(1)))
        if match := re.search(r'Catalog "?([^"!]+?)"? does not exist', detail):
            return StatementError(
                "NO_SUCH_CATALOG_EXCEPTION", "42704", f"Catalog '{match.group(1)}' was not found."
            )
        if match := re.search(r'(?:Table|View) with name "?([^"!]+?)"? already exists', detail):
            return StatementError(
                "TABLE_OR_VIEW_ALREADY_EXISTS",
                "42P07",
                f"Cannot create table or view {_table_display(match.group(1), tables)} because "
                "it already exists.\nChoose a different name, drop or replace the existing "
                "object, or add the IF NOT EXISTS clause to tolerate pre-existing objects.",
            )
        if match := re.search(r'Schema with name "?([^"!]+?)"? already exists', detail):
            return StatementError(
                "SCHEMA_ALREADY_EXISTS",
                "42P06",
                f"Cannot create schema {quote_name(match.group(1))} because it already exists.\n"
                "Choose a different name, drop the existing schema, or add the IF NOT EXISTS "
                "clause to tolerate pre-existing schema.",
            )
        if match := re.search(r"Function with name (\S+) does not exist", detail):
            return StatementError(
                "UNRESOLVED_ROUTINE",
                "42883",
                f"Cannot resolve routine {quote_name(match.group(1))} on search path "
                "[`system`.`builtin`, `system`.`session`].",
            )
    if isinstance(error, duckdb.BinderException):
        match = re.search(r'Referenced column "([^"]+)" not found', detail) or re.search(
            r'does not have a column (?:named|with name) "([^"]+)"', detail
        )
        if match:
            listed = re.search(r"Candidate bindings:([^\n]*)", text)
            candidates = re.findall(r'"([^"]+)"', listed.group(1)) if listed else []
            suggestion = ", ".join(quote_name(c.split(".")[-1]) for c in candidates[:5])
            return StatementError(
                "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                "42703",
                f"A column, variable, or function parameter with name {quote_name(match.group(1))}"
                f" cannot be resolved. Did you mean one of the following? [{suggestion}].",
            )
    arity = re.search(r'table "?([^" ]+)"? has (\d+) columns but (\d+) values', detail)
    if isinstance(error, duckdb.BinderException) and arity:
        expected, supplied = int(arity.group(2)), int(arity.group(3))
        reason = "too many" if supplied > expected else "not enough"
        subclass = "TOO_MANY_DATA_COLUMNS" if supplied > expected else "NOT_ENOUGH_DATA_COLUMNS"
        return StatementError(
            f"INSERT_COLUMN_ARITY_MISMATCH.{subclass}",
            "21S01",
            f"Cannot write to {_table_display(arity.group(1), tables)}, the reason is {reason} "
            f"data columns: the table has {expected} columns, the data {supplied}.",
        )
    if isinstance(error, duckdb.DependencyException) and "Cannot drop entry" in detail:
        name = re.search(r'Cannot drop entry "([^"]+)"', detail)
        return StatementError(
            "SCHEMA_NOT_EMPTY",
            "2BP01",
            f"Cannot drop a schema {quote_name(name.group(1) if name else '')} because it "
            "contains objects.\nUse DROP SCHEMA ... CASCADE to drop the schema and all its "
            "objects.",
        )
    cast = re.search(r"Could not convert string '(.*)' to (\w+)", detail)
    if isinstance(error, duckdb.ConversionException) and cast:
        target = _DUCK_TYPES.get(cast.group(2), cast.group(2))
        return StatementError(
            "CAST_INVALID_INPUT",
            "22018",
            f"The value '{cast.group(1)}' of the type \"STRING\" cannot be cast to "
            f'"{target}" because it is malformed. Correct the value as per the syntax, or '
            "change its target type. Use `try_cast` to tolerate malformed input and return "
            "NULL instead.",
        )
    if isinstance(error, duckdb.OutOfRangeException) and "Overflow" in detail:
        return StatementError(
            "ARITHMETIC_OVERFLOW",
            "22003",
            f"{detail} Use 'try_add' to tolerate overflow and return NULL instead.",
        )
    if "Division by zero" in detail:
        return StatementError(
            "DIVIDE_BY_ZERO",
            "22012",
            "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL "
            "instead.",
        )
    if isinstance(error, duckdb.ConstraintException) and "NOT NULL" in detail:
        column = detail.rsplit(":", 1)[-1].strip().split(".")[-1]
        return StatementError(
            "DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
            "23502",
            f"NOT NULL constraint violated for column: {column}.",
        )
    if isinstance(error, duckdb.ParserException):
        return StatementError("PARSE_SYNTAX_ERROR", "42601", f"Syntax error: {detail}.")
    if isinstance(error, duckdb.PermissionException):
        return StatementError(
            "INSUFFICIENT_PERMISSIONS",
            "42501",
            "The embedded warehouse does not allow access to files or extensions.",
        )
    return StatementError("EMBEDDED_ENGINE_ERROR", _family_state(error), first)


def _unalias(text: str, catalogs: Mapping[str, str]) -> str:
    for alias, name in sorted(catalogs.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"\b{re.escape(alias)}\b", name, text)
    return text


def _table_display(raw: str, tables: Mapping[str, str]) -> str:
    key = raw.lower()
    if key in tables:
        return tables[key]
    last = key.rsplit(".", 1)[-1]
    return tables.get(last, _dotted_display(raw))


def _dotted_display(raw: str) -> str:
    return quote_name(*raw.split("."))


def _family_state(error: duckdb.Error) -> str:
    if isinstance(error, duckdb.DataError):
        return "22000"
    if isinstance(error, duckdb.IntegrityError):
        return "23000"
    if isinstance(error, duckdb.ProgrammingError):
        return "42000"
    return "XX000"
