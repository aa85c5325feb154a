"""DuckDB underneath: one database file per Unity Catalog catalog, and running a `Plan`.

An in-memory DuckDB "hub" attaches each catalog's file under its alias (`uc_main`) on first
use; a statement that writes creates the catalog file, with its `default` schema, if needed.
Each statement runs on its own cursor (so `interrupt()` cancels exactly that statement) in a
worker thread; statements that write are serialized, because Delta's optimistic commits would
not conflict where DuckDB's can. The hub is locked down: UTC session zone, no file access
outside the catalogs folder, no extension loading, and configuration frozen, so SQL sent over
the API cannot read the host's files or change the session.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from core.embedded import wire_types
from core.embedded.heap import map_large_blocks, return_duckdb_pages_at_once
from core.embedded.results import DEFAULT_CHUNK_BYTES, ResultBuilder, ResultSet, Row
from core.embedded.sql_errors import StatementError, from_duckdb, quote_name
from core.embedded.sql_text import SqlText
from core.embedded.translate import (
    DEFAULT_CATALOG,
    DEFAULT_SCHEMA,
    Kind,
    Parameter,
    Plan,
    Step,
    catalog_alias,
    catalog_from_alias,
    plan,
)

__all__ = ["Cancelled", "Engine"]

_FETCH_ROWS = 2048
_LONG = wire_types.ColumnType("BIGINT", "LONG")
_STRING = wire_types.ColumnType("STRING", "STRING")
_BOOLEAN = wire_types.ColumnType("BOOLEAN", "BOOLEAN")
_HIDDEN_SCHEMAS = ("main", "information_schema", "pg_catalog")
_SAME_ON_BOTH_PATHS = frozenset(
    {
        "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE",
        "DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
        "TABLE_OR_VIEW_NOT_FOUND",
        "INVALID_VALUE_FOR_DATA_TYPE",
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
    }
)
"""Failures a scanned VALUES list words exactly as the general path does (tests pin each);
any other failure of a scanned statement is run again on the general path for its wording."""


CHECKPOINT_THRESHOLD = "1MB"
"""Write-ahead log size past which the next commit checkpoints the catalog file (DuckDB's default
is 16 MB). Until a checkpoint, what a statement wrote stays in memory as well as in the log:
after a 10,000-service apply that was ~14 MB of the ~18 MB DuckDB held. Checkpointing after
every MERGE of megabytes measured 352 -> 343 MB peak RSS for that apply, in no more time."""


class Cancelled(Exception):
    """The statement was interrupted before it finished; nothing it did was committed."""


def _columns(*pairs: tuple[str, wire_types.ColumnType]) -> list[dict[str, Any]]:
    return [ctype.column_info(name, position) for position, (name, ctype) in enumerate(pairs)]


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Engine:
    """Owns the DuckDB hub and runs plans; every method is safe to call from any thread."""

    def __init__(self, catalogs_dir: Path, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        map_large_blocks()  # statements bring multi-megabyte texts: give them back when freed
        return_duckdb_pages_at_once()  # and DuckDB's working memory, once a statement is done
        catalogs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        spill = catalogs_dir / ".spill"
        spill.mkdir(mode=0o700, exist_ok=True)
        self._dir = catalogs_dir
        self._chunk_bytes = chunk_bytes
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._attached: set[str] = set()
        self._hub = duckdb.connect(
            ":memory:",
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
        for setting in (
            "SET GLOBAL TimeZone = 'UTC'",
            f"SET checkpoint_threshold = {_quote_literal(CHECKPOINT_THRESHOLD)}",
            f"SET temp_directory = {_quote_literal(str(spill))}",
            f"SET allowed_directories = [{_quote_literal(str(catalogs_dir) + '/')}]",
            "SET enable_external_access = false",
            "SET lock_configuration = true",
        ):
            self._hub.execute(setting)
        self.ensure_catalog(DEFAULT_CATALOG, create=True)  # a workspace always has its default

    # -- catalogs ------------------------------------------------------------------------------

    def _path(self, alias: str) -> Path:
        return self._dir / f"{alias}.duckdb"

    def catalog_names(self) -> list[str]:
        """UC names of every catalog that has a database file."""
        names = {catalog_from_alias(p.stem) for p in self._dir.glob("uc*.duckdb")}
        return sorted(name for name in names if name)

    def ensure_catalog(self, name: str, *, create: bool) -> bool:
        """Attach the catalog's file (creating it and its `default` schema if `create`).

        Returns False when the catalog does not exist and was not to be created.
        """
        alias = catalog_alias(name)
        with self._lock:
            if alias in self._attached:
                return True
            path = self._path(alias)
            if not path.exists() and not create:
                return False
            try:
                self._hub.execute(f"ATTACH {_quote_literal(str(path))} AS {alias}")
                self._hub.execute(f'CREATE SCHEMA IF NOT EXISTS {alias}."{DEFAULT_SCHEMA}"')
            except duckdb.IOException as error:
                raise StatementError(
                    "EMBEDDED_WAREHOUSE_BUSY",
                    "55006",
                    f"The data of catalog {quote_name(name)} is locked by another process (is "
                    f"`impact-review warehouse serve` running on the same data?): {error}",
                    error_code="TEMPORARILY_UNAVAILABLE",
                ) from None
            self._attached.add(alias)
            return True

    def _drop_catalog(self, name: str, if_exists: bool) -> None:
        alias = catalog_alias(name)
        with self._lock:
            path = self._path(alias)
            if not path.exists():
                if if_exists:
                    return
                raise _no_such_catalog(name)
            if alias in self._attached:
                self._hub.execute(f"DETACH {alias}")
                self._attached.discard(alias)
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)

    def close(self) -> None:
        """Checkpoint and detach every catalog, then close DuckDB."""
        with self._lock:
            for alias in sorted(self._attached):
                with contextlib.suppress(duckdb.Error):
                    self._hub.execute(f"DETACH {alias}")
            self._attached.clear()
            self._hub.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._hub.cursor()

    # -- running -------------------------------------------------------------------------------

    def run_statement(
        self,
        statement: str | SqlText,
        *,
        catalog: str | None = None,
        schema: str | None = None,
        parameters: tuple[Parameter, ...] = (),
        row_limit: int | None = None,
        byte_limit: int | None = None,
        cancelled: threading.Event | None = None,
        on_cursor: Callable[[duckdb.DuckDBPyConnection | None], None] = lambda _: None,
        scan_values: bool = True,
    ) -> ResultSet:
        """Translate and run one statement; raise `StatementError` or `Cancelled`.

        A MERGE whose VALUES list was scanned (see `core.embedded.bulk_values`) and failed is
        run again without scanning, unless its failure is one both paths word alike: DuckDB
        words some errors after the expression that failed, which differs between the paths,
        and nothing was committed. A `SqlText` is compacted once its VALUES list is scanned:
        the text is read again only for that rerun."""
        text = statement if isinstance(statement, SqlText) else SqlText(statement)
        del statement
        by_name = {p.name: p for p in parameters}
        if scan_values and _worth_compacting_early(text.value()):
            text.start_compacting()  # while the VALUES list is scanned
        planned = plan(
            text.value(),
            catalog=catalog,
            schema=schema,
            parameters=parameters,
            scan_values=scan_values,
        )
        if planned.bulk_parameters:
            text.compact()
        else:
            text.keep_whole()
        limits = {"row_limit": row_limit, "byte_limit": byte_limit}
        try:
            return self.run(planned, by_name, cancelled=cancelled, on_cursor=on_cursor, **limits)
        except StatementError as error:
            if not planned.bulk_parameters or error.error_class in _SAME_ON_BOTH_PATHS:
                raise
        del planned  # its columns can be large
        general = plan(
            text.value(), catalog=catalog, schema=schema, parameters=parameters, scan_values=False
        )
        return self.run(general, by_name, cancelled=cancelled, on_cursor=on_cursor, **limits)

    def run(
        self,
        plan: Plan,
        parameters: Mapping[str, Parameter],
        *,
        row_limit: int | None = None,
        byte_limit: int | None = None,
        cancelled: threading.Event | None = None,
        on_cursor: Callable[[duckdb.DuckDBPyConnection | None], None] = lambda _: None,
    ) -> ResultSet:
        """Run a plan to completion; raise `StatementError` or `Cancelled`."""
        cancelled = cancelled or threading.Event()
        kind = plan.kind
        if kind is Kind.NOOP:
            return ResultSet.empty()
        if kind is Kind.SET:
            if plan.set_row is None:
                return ResultSet.empty()
            columns = _columns(("key", _STRING), ("value", _STRING))
            return ResultSet.single(columns, [list(plan.set_row)])
        if kind is Kind.CREATE_CATALOG:
            assert plan.catalog_name is not None
            if self._path(catalog_alias(plan.catalog_name)).exists() and not plan.if_exists:
                raise StatementError(
                    "CATALOG_ALREADY_EXISTS",
                    "42P04",
                    f"Cannot create catalog {quote_name(plan.catalog_name)} because it already "
                    "exists.",
                )
            self.ensure_catalog(plan.catalog_name, create=True)
            return ResultSet.empty()
        if kind is Kind.DROP_CATALOG:
            assert plan.catalog_name is not None
            with self._serialized(cancelled):
                self._drop_catalog(plan.catalog_name, plan.if_exists)
            return ResultSet.empty()
        if kind is Kind.SHOW:
            return self._show(plan)

        for name in plan.catalogs:
            self.ensure_catalog(name, create=kind.writes)
        with self._serialized(cancelled) if kind.writes else _nothing():
            if cancelled.is_set():
                raise Cancelled
            cursor = self.cursor()
            on_cursor(cursor)
            try:
                return self._execute(cursor, plan, parameters, row_limit, byte_limit, cancelled)
            finally:
                on_cursor(None)
                cursor.close()

    def _serialized(self, cancelled: threading.Event) -> _WriteSlot:
        return _WriteSlot(self._write_lock, cancelled)

    def _execute(
        self,
        cursor: duckdb.DuckDBPyConnection,
        plan: Plan,
        parameters: Mapping[str, Parameter],
        row_limit: int | None,
        byte_limit: int | None,
        cancelled: threading.Event,
    ) -> ResultSet:
        assert plan.main is not None
        given = {name: parameters[name].value for name in plan.parameter_types}
        values: dict[str, object] = {**given, **plan.bulk_parameters}
        in_transaction = bool(plan.before or plan.merge_check)
        try:
            self._check_parameters(cursor, plan, given)
            if in_transaction:
                cursor.execute("BEGIN TRANSACTION")
            _run_before(cursor, plan, values)
            _release_bulk_columns(plan, values)
            if plan.merge_check is not None:
                _execute(cursor, plan.merge_check, values)
                if cursor.fetchone() is not None:
                    raise StatementError(
                        "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE",
                        "21506",
                        "Cannot perform Merge as multiple source rows matched and attempted to "
                        "modify the same target row in the Delta table in possibly conflicting "
                        "ways. Preprocess the source table to eliminate the possibility of "
                        "multiple matches.",
                    )
            if cancelled.is_set():
                raise Cancelled
            _execute(cursor, plan.main, values)
            result = self._shape(cursor, plan, row_limit, byte_limit)
            if in_transaction:
                cursor.execute("COMMIT")
            if cancelled.is_set() and plan.kind is Kind.QUERY:
                raise Cancelled  # nothing to undo; the caller asked not to have it
            return result
        except duckdb.InterruptException:
            _rollback(cursor, in_transaction)
            raise Cancelled from None
        except duckdb.Error as error:
            _rollback(cursor, in_transaction)
            if cancelled.is_set():
                raise Cancelled from None
            catalogs = {catalog_alias(name): name for name in plan.catalogs}
            raise from_duckdb(error, tables=plan.tables, catalogs=catalogs) from None
        except BaseException:
            _rollback(cursor, in_transaction)
            raise

    def _check_parameters(
        self, cursor: duckdb.DuckDBPyConnection, plan: Plan, values: Mapping[str, str | None]
    ) -> None:
        """Cast every bound value once, so a bad value is reported as the parameter's fault."""
        if not plan.parameter_types:
            return
        casts = ", ".join(f"CAST(${name} AS {kind})" for name, kind in plan.parameter_types.items())
        try:
            cursor.execute(f"SELECT {casts}", dict(values))
        except (
            duckdb.ConversionException,
            duckdb.OutOfRangeException,
            duckdb.InvalidInputException,
        ) as error:
            detail = str(error).split("\n", 1)[0]
            raise StatementError(
                "INVALID_VALUE_FOR_DATA_TYPE",
                "22023",
                f"A parameter value does not fit its declared type: {detail}.",
            ) from None

    def _shape(
        self,
        cursor: duckdb.DuckDBPyConnection,
        plan: Plan,
        row_limit: int | None,
        byte_limit: int | None,
    ) -> ResultSet:
        kind = plan.kind
        if kind is Kind.INSERT:
            count = _count(cursor)
            columns = _columns(("num_affected_rows", _LONG), ("num_inserted_rows", _LONG))
            return ResultSet.single(columns, [[str(count), str(count)]])
        if kind in (Kind.UPDATE, Kind.DELETE):
            return ResultSet.single(_columns(("num_affected_rows", _LONG)), [[str(_count(cursor))]])
        if kind is Kind.MERGE:
            actions = [str(row[0]).upper() for row in cursor.fetchall()]
            updated, deleted = actions.count("UPDATE"), actions.count("DELETE")
            inserted = actions.count("INSERT")
            columns = _columns(
                ("num_affected_rows", _LONG),
                ("num_updated_rows", _LONG),
                ("num_deleted_rows", _LONG),
                ("num_inserted_rows", _LONG),
            )
            row: Row = [
                str(updated + deleted + inserted),
                str(updated),
                str(deleted),
                str(inserted),
            ]
            return ResultSet.single(columns, [row])
        if kind is Kind.CTAS:
            columns = _columns(("num_affected_rows", _LONG), ("num_inserted_rows", _LONG))
            return ResultSet.single(columns, [])
        if kind is Kind.DDL:
            return ResultSet.empty()
        if kind is Kind.DESCRIBE:
            return self._describe(cursor)
        return self._rows(cursor, row_limit, byte_limit)

    def _rows(
        self, cursor: duckdb.DuckDBPyConnection, row_limit: int | None, byte_limit: int | None
    ) -> ResultSet:
        description = cursor.description or []
        types = [column[1] for column in description]
        columns = [
            wire_types.column_type(duck).column_info(str(column[0]), position)
            for position, (column, duck) in enumerate(zip(description, types, strict=True))
        ]
        encoders = [wire_types.column_encoder(duck) for duck in types]
        builder = ResultBuilder(
            columns, row_limit=row_limit, byte_limit=byte_limit, chunk_bytes=self._chunk_bytes
        )
        while True:
            batch = cursor.fetchmany(_FETCH_ROWS)
            if not batch:
                break
            # Column by column: each column's values are encoded by one call.
            encoded = [
                encode(values)
                for encode, values in zip(encoders, zip(*batch, strict=True), strict=True)
            ]
            builder.extend(list(row) for row in zip(*encoded, strict=True))
            if builder.truncated:
                break
        return builder.finish()

    def _describe(self, cursor: duckdb.DuckDBPyConnection) -> ResultSet:
        rows: list[Row] = []
        for name, duck_type, *_ in cursor.fetchall():
            text = wire_types.column_type(cursor.sqltype(duck_type)).type_text
            rows.append([str(name), text.lower().replace(": ", ":").replace(", ", ","), None])
        columns = _columns(("col_name", _STRING), ("data_type", _STRING), ("comment", _STRING))
        return ResultSet.single(columns, rows)

    def _show(self, plan: Plan) -> ResultSet:
        like = _like(plan.like)
        if plan.show == "catalogs":
            catalogs: list[Row] = [[name] for name in self.catalog_names() if like(name)]
            return ResultSet.single(_columns(("catalog", _STRING)), catalogs)
        catalog = plan.catalog_name or ""
        if not self.ensure_catalog(catalog, create=False):
            raise _no_such_catalog(catalog)
        alias = catalog_alias(catalog)
        cursor = self.cursor()
        try:
            schemas = [
                str(row[0])
                for row in cursor.execute(
                    "SELECT schema_name FROM duckdb_schemas() WHERE database_name = $1 "
                    "ORDER BY schema_name",
                    [alias],
                ).fetchall()
                if row[0] not in _HIDDEN_SCHEMAS
            ]
            if plan.show == "schemas":
                rows: list[Row] = [[name] for name in schemas if like(name)]
                return ResultSet.single(_columns(("databaseName", _STRING)), rows)
            schema = plan.show_schema or DEFAULT_SCHEMA
            if schema not in schemas:
                raise StatementError.schema_not_found(quote_name(catalog, schema))
            names = cursor.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = $1 AND "
                "schema_name = $2 UNION ALL SELECT view_name FROM duckdb_views() WHERE "
                "database_name = $1 AND schema_name = $2 AND NOT internal ORDER BY 1",
                [alias, schema],
            ).fetchall()
        finally:
            cursor.close()
        tables: list[Row] = [[schema, str(row[0]), "false"] for row in names if like(str(row[0]))]
        columns = _columns(("database", _STRING), ("tableName", _STRING), ("isTemporary", _BOOLEAN))
        return ResultSet.single(columns, tables)


class _WriteSlot:
    """Holds the write lock for one statement, giving up if the statement is cancelled."""

    def __init__(self, lock: threading.Lock, cancelled: threading.Event) -> None:
        self._lock = lock
        self._cancelled = cancelled

    def __enter__(self) -> None:
        while not self._lock.acquire(timeout=0.05):
            if self._cancelled.is_set():
                raise Cancelled

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _worth_compacting_early(statement: str) -> bool:
    """Whether the statement is a MERGE long enough that compressing its text (see
    `core.embedded.sql_text`) is worth starting before its VALUES list is scanned."""
    return len(statement) >= COMPACT_EARLY_CHARS and _MERGE_WORD.match(statement) is not None


COMPACT_EARLY_CHARS = 1 << 18
"""Characters from which a MERGE's text is compressed on a second thread during the scan."""
_MERGE_WORD = re.compile(r"[ \t\r\n]*MERGE\b", re.IGNORECASE)


def _execute(cursor: duckdb.DuckDBPyConnection, step: Step, values: Mapping[str, object]) -> None:
    if step.parameters:
        cursor.execute(step.sql, {name: values[name] for name in step.parameters})
    else:
        cursor.execute(step.sql)


def _run_before(
    cursor: duckdb.DuckDBPyConnection, plan: Plan, values: Mapping[str, object]
) -> None:
    """Run the plan's `before` steps; a MERGE source staged from scanned columns is staged
    STAGE_ROWS rows at a time. DuckDB turns a list parameter into one value object per cell and
    casts it whole before unnesting it: bound all at once, a 3,000-row MERGE's columns took
    ~25 MB of native memory for a 7 MB table; the staged rows are the same, in the same order."""
    rest = plan.stage_rest
    if rest is None:
        for step in plan.before:
            _execute(cursor, step, values)
        return
    (stage,) = plan.before
    columns = plan.bulk_parameters
    rows = max(len(column) for column in columns.values())
    for start in range(0, max(rows, 1), STAGE_ROWS):
        part = {name: column[start : start + STAGE_ROWS] for name, column in columns.items()}
        _execute(cursor, stage if start == 0 else rest, {**values, **part})


STAGE_ROWS = 512
"""Rows of a scanned VALUES list bound to DuckDB at a time when staging a MERGE source."""


def _release_bulk_columns(plan: Plan, values: dict[str, object]) -> None:
    """Empty the scanned VALUES list's columns once they are staged in DuckDB: the rest of the
    MERGE reads the staged table, and the columns are a Python object per cell (~13 MB for a
    MERGE of 3,000 rows), held otherwise until the statement ends. Columns a later step binds
    are kept."""
    later = [step for step in (plan.merge_check, plan.main) if step is not None]
    for name, column in plan.bulk_parameters.items():
        if not any(name in step.parameters for step in later):
            values.pop(name, None)
            column.clear()


def _rollback(cursor: duckdb.DuckDBPyConnection, in_transaction: bool) -> None:
    if in_transaction:
        with contextlib.suppress(duckdb.Error):
            cursor.execute("ROLLBACK")


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _no_such_catalog(name: str) -> StatementError:
    return StatementError(
        "NO_SUCH_CATALOG_EXCEPTION", "42704", f"Catalog {quote_name(name)} was not found."
    )


def _like(pattern: str | None) -> Callable[[str], bool]:
    """Spark's SHOW ... LIKE: `*` matches anything, `|` separates alternatives, any case."""
    if pattern is None:
        return lambda _: True
    alternatives = [re.escape(part.strip()).replace(r"\*", ".*") for part in pattern.split("|")]
    regex = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)
    return lambda name: regex.fullmatch(name) is not None
