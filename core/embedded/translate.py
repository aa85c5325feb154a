"""Databricks SQL to DuckDB SQL, with sqlglot, plus what the rewrite needs to know to run it.

One statement in, one `Plan` out: the DuckDB SQL to run, what kind of statement it is (which
decides the result shape: rows, DML counts, or nothing), which Unity Catalog catalogs it touches
and the parameters it binds. The rewrite works on the AST, never on text:

- every table name becomes three-part; the UC catalog becomes a DuckDB-safe attached database
  alias (`main` -> `uc_main`, so `main`, `system`, `temp` and `memory` all work as UC names), the
  request's `catalog`/`schema` (default `workspace`.`default`) fill in missing parts, and names
  are lower-cased as Unity Catalog stores them;
- `:name` markers become `CAST($name AS <declared type>)` (STRING when no type is given);
- Spark string-literal rules (backslash escapes, `'a' 'b'` concatenation) are sqlglot's
  Databricks dialect; `TIMESTAMP` is `TIMESTAMPTZ` and the session zone is UTC, as on the API;
- PRIMARY KEY / FOREIGN KEY / UNIQUE constraints are dropped: Delta records but never enforces
  them, DuckDB would;
- the functions of the verification fingerprint (`core.sqlgen.verify_sql`) are sqlglot's
  transpilation, which keeps their Databricks meaning: `sha2(x, 256)` is DuckDB's `sha256` (the
  lowercase hex of the UTF-8 bytes), `unix_micros` is `epoch_us`, `transform` with a one-parameter
  lambda is `list_transform`, `array_join` is `array_to_string` (both skip NULL items), and
  `concat_ws` skips NULL arguments in both. The argument of `unix_micros` is cast to TIMESTAMP
  as Databricks would (DuckDB cannot type a bare NULL there), and `concat_ws` of a separator
  alone is the empty string (DuckDB refuses it). Where sqlglot would silently change the meaning,
  the statement is refused instead: `sha2` with any bit length but 0 or 256 (DuckDB has SHA-256
  only, and sqlglot writes it for every length), and `transform` with an index parameter
  (Databricks counts from 0, DuckDB from 1).

A MERGE whose source is a big VALUES list of plain literals is not parsed whole: see
`core.embedded.bulk_values`; its rows reach DuckDB as list parameters (`Plan.bulk_parameters`).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from core.embedded import bulk_values
from core.embedded.sql_errors import StatementError, quote_name

__all__ = [
    "DEFAULT_CATALOG",
    "DEFAULT_SCHEMA",
    "Kind",
    "Parameter",
    "Plan",
    "Step",
    "catalog_alias",
    "catalog_from_alias",
    "plan",
]

DEFAULT_CATALOG = "workspace"
"""The catalog a statement runs in when the request names none (as on current workspaces)."""
DEFAULT_SCHEMA = "default"


class Kind(Enum):
    """What a statement returns, which decides the shape of its result."""

    QUERY = "query"  # rows
    INSERT = "insert"  # num_affected_rows, num_inserted_rows
    UPDATE = "update"  # num_affected_rows
    DELETE = "delete"  # num_affected_rows
    MERGE = "merge"  # num_affected/updated/deleted/inserted_rows
    CTAS = "ctas"  # the INSERT columns, no row
    DDL = "ddl"  # no columns, no rows
    NOOP = "noop"  # accepted, nothing to run (USE, BEGIN, ROLLBACK, OPTIMIZE, ...)
    SET = "set"  # one row: key, value
    SHOW = "show"  # rows from a catalog query, already shaped
    DESCRIBE = "describe"  # col_name, data_type, comment (types mapped by the engine)
    CREATE_CATALOG = "create_catalog"
    DROP_CATALOG = "drop_catalog"

    @property
    def writes(self) -> bool:
        """Whether the statement changes data or metadata (serialized, may create catalogs)."""
        return self not in (Kind.QUERY, Kind.NOOP, Kind.SET, Kind.SHOW, Kind.DESCRIBE)


@dataclass(frozen=True)
class Parameter:
    """One request parameter: `value` None binds SQL NULL; `type` None means STRING."""

    name: str
    value: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class Step:
    """One DuckDB statement and the names of the parameters it binds."""

    sql: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    kind: Kind
    main: Step | None
    catalogs: tuple[str, ...] = ()
    """UC catalog names the statement references (the engine attaches them)."""
    before: tuple[Step, ...] = ()
    """Run first, in the same transaction (the DELETE of an INSERT OVERWRITE, a staged MERGE
    source)."""
    merge_check: Step | None = None
    """Run after `before`: a query returning a row when a target row matches several source
    rows."""
    parameter_types: Mapping[str, str] = field(default_factory=dict)
    """Parameter name -> DuckDB type it is cast to."""
    tables: Mapping[str, str] = field(default_factory=dict)
    """Lower-cased names as DuckDB reports them -> UC display names, for error messages."""
    set_row: tuple[str, str] | None = None
    catalog_name: str | None = None
    """For CREATE/DROP CATALOG and SHOW statements: the catalog concerned."""
    show: str | None = None
    """For SHOW: `catalogs`, `schemas` or `tables`."""
    show_schema: str | None = None
    like: str | None = None
    if_exists: bool = False
    bulk_parameters: Mapping[str, list[Any]] = field(default_factory=dict)
    """Parameters holding the columns of a scanned VALUES list (bound as DuckDB lists)."""
    stage_rest: Step | None = None
    """When `before` stages a MERGE source from `bulk_parameters`: the same rows appended to the
    staged table, so the engine can stage the columns a slice of rows at a time."""


_SIMPLE_NAME = re.compile(r"^[a-z0-9_]+$")


def catalog_alias(name: str) -> str:
    """The DuckDB database alias (and file stem) for a UC catalog name."""
    lowered = name.lower()
    if _SIMPLE_NAME.match(lowered):
        return f"uc_{lowered}"
    return "ucx_" + lowered.encode("utf-8").hex()


def catalog_from_alias(alias: str) -> str | None:
    """The UC catalog name for an alias made by `catalog_alias`, or None."""
    if alias.startswith("uc_"):
        return alias[3:]
    if alias.startswith("ucx_"):
        try:
            return bytes.fromhex(alias[4:]).decode("utf-8")
        except ValueError:
            return None
    return None


# sqlglot warns (via logging) about every Databricks clause DuckDB lacks (USING DELTA, COMMENT,
# TBLPROPERTIES, ...). Those are expected here, so they are silenced for our calls only.
_quiet = threading.local()


class _QuietFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_quiet, "on", False)


logging.getLogger("sqlglot").addFilter(_QuietFilter())


@contextmanager
def _quietly() -> Iterator[None]:
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = False


_PARAMETER_TYPES = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
    exp.DataType.Type.FLOAT,
    exp.DataType.Type.DOUBLE,
    exp.DataType.Type.DECIMAL,
    exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.TEXT,
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.DATE,
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.TIMESTAMPLTZ,
    exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.INTERVAL,
    exp.DataType.Type.NULL,
}


def parameter_type(declared: str | None) -> exp.DataType:
    """The DuckDB type a parameter of this declared Databricks type is cast to."""
    if declared is None or not declared.strip():
        return exp.DataType.build("VARCHAR")
    text = declared.strip()
    if text.upper().startswith("INTERVAL"):
        return exp.DataType.build("INTERVAL")
    try:
        with _quietly():
            built = exp.DataType.build(text, dialect="databricks")
    except (ParseError, TokenError, ValueError):
        built = None
    if built is None or built.this not in _PARAMETER_TYPES:
        raise StatementError(
            "INVALID_PARAMETER_MARKER_VALUE.INVALID_DATA_TYPE",
            "22023",
            f"The parameter type {text!r} is not supported. Parameters take scalar types such "
            "as STRING, INT, BIGINT, DECIMAL(p,s), BOOLEAN, DATE and TIMESTAMP.",
        )
    if built.this in (exp.DataType.Type.CHAR, exp.DataType.Type.VARCHAR):
        return exp.DataType.build("VARCHAR")
    return built


def plan(
    statement: str,
    *,
    catalog: str | None = None,
    schema: str | None = None,
    parameters: tuple[Parameter, ...] = (),
    scan_values: bool = True,
) -> Plan:
    """Translate one Databricks SQL statement; raise `StatementError` when it would fail.

    `scan_values` False always parses the whole statement (the general path the fast path of
    `core.embedded.bulk_values` is tested against)."""
    names = [p.name for p in parameters]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise StatementError(
            "INVALID_PARAMETER_MARKER_VALUE.DUPLICATE_NAME",
            "22023",
            f"The parameter {duplicates[0]!r} is given more than once.",
        )
    current_catalog = (catalog or DEFAULT_CATALOG).strip() or DEFAULT_CATALOG
    current_schema = (schema or DEFAULT_SCHEMA).strip() or DEFAULT_SCHEMA
    by_name = {p.name: p for p in parameters}
    if scan_values and (scanned := bulk_values.split(statement)) is not None:
        try:
            planner = _Planner(current_catalog, current_schema, by_name, scanned)
            return planner.plan(_parse(scanned.skeleton))
        except (StatementError, _NotScannable):
            pass  # the general path decides, and words any error about the whole statement
    tree = _parse(statement)
    if isinstance(tree, exp.Command):
        return _plan_command(tree, current_catalog, current_schema)
    return _Planner(current_catalog, current_schema, by_name).plan(tree)


class _NotScannable(Exception):
    """The skeleton of a scanned statement is not a MERGE reading the list as its source."""


def _parse(statement: str) -> exp.Expression:
    try:
        with _quietly():
            trees = [t for t in sqlglot.parse(statement, read="databricks") if t is not None]
    except ParseError as error:
        raise _syntax_error(statement, error) from None
    except TokenError:
        raise StatementError.syntax(_first_word(statement), 1, 0, statement) from None
    if not trees:
        raise StatementError.empty()
    if len(trees) > 1:
        second = trees[1].sql(dialect="databricks").split(None, 1)[0]
        raise StatementError.syntax(second, 1, 0, statement, extra=True)
    tree = trees[0]
    assert isinstance(tree, exp.Expression)
    return tree


def _syntax_error(statement: str, error: ParseError) -> StatementError:
    detail = error.errors[0] if error.errors else {}
    line = int(detail.get("line") or 1)
    col = int(detail.get("col") or 0)
    near = str(detail.get("highlight") or "")
    # Spark reports the first token it cannot start a statement with (`SELEC`), where sqlglot
    # often stumbles a token later; prefer the opening word when it is not a keyword.
    try:
        tokens = sqlglot.Dialect.get_or_raise("databricks").tokenize(statement)
    except TokenError:
        tokens = []
    if tokens and tokens[0].token_type == TokenType.VAR:
        near, line, col = tokens[0].text, tokens[0].line, tokens[0].col - len(tokens[0].text)
    return StatementError.syntax(near or _first_word(statement), line, max(col, 0), statement)


def _first_word(statement: str) -> str:
    words = statement.split()
    return words[0] if words else ""


class _Planner:
    def __init__(
        self,
        catalog: str,
        schema: str,
        parameters: Mapping[str, Parameter],
        scanned: bulk_values.BulkValues | None = None,
    ) -> None:
        self.catalog = catalog
        self.schema = schema
        self.parameters = parameters
        self.scanned = scanned
        self.catalogs: dict[str, None] = {}
        self.tables: dict[str, str] = {}
        self.parameter_types: dict[str, str] = {}
        self.bulk_parameters: dict[str, list[Any]] = {}

    def plan(self, tree: exp.Expression) -> Plan:
        kind = self._kind(tree)
        if kind in (Kind.NOOP,):
            return Plan(kind, None)
        if kind is Kind.SET:
            return Plan(kind, None, set_row=_set_row(tree))
        if isinstance(tree, exp.Commit):
            raise StatementError(
                "NO_ACTIVE_TRANSACTION",
                "25000",
                "There is no active transaction to COMMIT: each statement of this API runs in "
                "its own session.",
            )
        _name_projections(tree)
        if self.scanned is not None:
            self._bind_scanned_values(tree, self.scanned)
        nodes = _Nodes(tree)  # one walk: statements can hold hundreds of thousands of nodes
        self._qualify(tree, nodes)
        self._drop_unenforced_constraints(tree)
        self._replace_session_functions(nodes)
        _keep_function_meanings(nodes)
        _guard_division(nodes)
        self._bind_parameters(nodes)
        before: tuple[Step, ...] = ()
        merge_check = stage_rest = None
        if kind is Kind.INSERT and tree.args.get("overwrite"):
            target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
            before = (self._step(exp.Delete(this=target.copy())),)
            tree.set("overwrite", False)
        if isinstance(tree, exp.Merge):
            before, merge_check, stage_rest = self._stage_merge_source(tree)
            tree.set("returning", exp.Returning(expressions=[exp.column("merge_action")]))
        return Plan(
            kind,
            self._step(tree),
            catalogs=tuple(self.catalogs),
            before=before,
            merge_check=merge_check,
            parameter_types=dict(self.parameter_types),
            tables=dict(self.tables),
            bulk_parameters=self.bulk_parameters,
            stage_rest=stage_rest,
        )

    def _kind(self, tree: exp.Expression) -> Kind:
        if isinstance(tree, exp.Query):
            return Kind.QUERY
        if isinstance(tree, exp.Insert):
            return Kind.INSERT
        if isinstance(tree, exp.Update):
            return Kind.UPDATE
        if isinstance(tree, exp.Delete):
            return Kind.DELETE
        if isinstance(tree, exp.Merge):
            return Kind.MERGE
        if isinstance(tree, exp.Create):
            if tree.args.get("kind") == "TABLE" and tree.expression is not None:
                return Kind.CTAS
            return Kind.DDL
        if isinstance(tree, (exp.Drop, exp.Alter, exp.TruncateTable, exp.Comment)):
            return Kind.DDL
        if isinstance(tree, exp.Describe):
            return Kind.DESCRIBE
        if isinstance(tree, (exp.Use, exp.Transaction, exp.Rollback)):
            return Kind.NOOP
        if isinstance(tree, exp.Commit):
            return Kind.DDL
        if isinstance(tree, exp.Set):
            return Kind.SET
        raise StatementError.unsupported(f"{type(tree).__name__.upper()} statements")

    # -- names -------------------------------------------------------------------------------

    def _alias(self, catalog: str) -> str:
        name = catalog.lower()
        self.catalogs.setdefault(name, None)
        return catalog_alias(name)

    def _qualify(self, tree: exp.Expression, nodes: _Nodes) -> None:
        schema_statement = isinstance(tree, (exp.Create, exp.Drop)) and tree.args.get("kind") in (
            "SCHEMA",
            "DATABASE",
        )
        ctes = {cte.alias_or_name.lower() for cte in nodes.of(exp.CTE)}
        for table in nodes.of(exp.Table):
            if isinstance(table.parent, exp.AlterRename):
                table.set("this", exp.to_identifier(table.name.lower()))
                table.set("db", None)
                table.set("catalog", None)
                continue
            if schema_statement:
                parts = [p for p in (table.catalog, table.db, table.name) if p]
                catalog, schema = (self.catalog, parts[0]) if len(parts) == 1 else parts[-2:]
                table.set("this", None)
                table.set("db", exp.to_identifier(schema.lower()))
                table.set("catalog", exp.to_identifier(self._alias(catalog)))
                continue
            if not isinstance(table.this, exp.Identifier):
                continue  # a table function such as range(3)
            if not table.db and table.name.lower() in ctes:
                continue
            catalog = table.catalog or self.catalog
            schema = table.db or self.schema
            name = table.name.lower()
            table.set("this", exp.to_identifier(name))
            table.set("db", exp.to_identifier(schema.lower()))
            table.set("catalog", exp.to_identifier(self._alias(catalog)))
            display = quote_name(catalog.lower(), schema.lower(), name)
            self.tables[f"{catalog.lower()}.{schema.lower()}.{name}"] = display
            self.tables.setdefault(name, display)
        for column in nodes.of(exp.Column):
            if column.args.get("catalog") is not None:
                column.set("catalog", exp.to_identifier(self._alias(column.args["catalog"].name)))

    @staticmethod
    def _drop_unenforced_constraints(tree: exp.Expression) -> None:
        if not isinstance(tree, exp.Create):
            return
        unenforced = (exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint, exp.Reference)
        for node in list(tree.find_all(exp.ColumnConstraint)):
            if isinstance(node.args.get("kind"), unenforced):
                node.pop()
        for key in list(tree.find_all(exp.PrimaryKey, exp.ForeignKey, exp.UniqueColumnConstraint)):
            parent = key.parent
            (parent if isinstance(parent, exp.Constraint) else key).pop()

    def _replace_session_functions(self, nodes: _Nodes) -> None:
        for node in nodes.of(exp.CurrentCatalog):
            node.replace(exp.Literal.string(self.catalog.lower()))
        for node in nodes.of(exp.CurrentSchema, exp.CurrentDatabase):
            node.replace(exp.Literal.string(self.schema.lower()))

    # -- parameters ----------------------------------------------------------------------------

    def _bind_scanned_values(self, tree: exp.Expression, scanned: bulk_values.BulkValues) -> None:
        """Put a subquery unnesting one list parameter per column where the VALUES list was."""
        using = tree.args.get("using") if isinstance(tree, exp.Merge) else None
        found = [
            table
            for table in tree.find_all(exp.Table)
            if table.name == bulk_values.PLACEHOLDER_TABLE and not table.args.get("db")
        ]
        if using is None or len(found) != 1 or not any(node is found[0] for node in using.walk()):
            raise _NotScannable
        table = found[0]
        if {key for key, value in table.args.items() if value} - {"this", "alias"}:
            # A PIVOT, sample, hint... on the list: only the general path keeps its meaning.
            raise _NotScannable
        projections: list[exp.Expr] = []
        for number, column in enumerate(scanned.columns):
            projection = _unnested(column.kind, f"{bulk_values.BULK_PREFIX}{number}")
            projections.append(exp.alias_(projection, f"col{number}"))
            if column.kind is not bulk_values.CellKind.NULL:
                self.bulk_parameters[f"{bulk_values.BULK_PREFIX}{number}"] = column.values
        rows = exp.Subquery(this=exp.Select(expressions=projections), alias=table.args.get("alias"))
        table.replace(rows)

    def _bind_parameters(self, nodes: _Nodes) -> None:
        for marker in nodes.of(exp.Placeholder):
            name = marker.name
            if name in self.bulk_parameters:
                continue
            if not name or name == "?":
                raise StatementError.unbound_parameter("?")
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                raise StatementError(
                    "INVALID_PARAMETER_MARKER_VALUE.INVALID_NAME",
                    "22023",
                    f"The parameter name {name!r} is not supported by the embedded warehouse.",
                )
            if name not in self.parameters:
                raise StatementError.unbound_parameter(name)
            data_type = parameter_type(self.parameters[name].type)
            self.parameter_types[name] = data_type.sql(dialect="duckdb")
            marker.replace(exp.Cast(this=exp.Placeholder(this=name), to=data_type.copy()))

    def _step(self, tree: exp.Expression) -> Step:
        used = tuple(dict.fromkeys(p.name for p in tree.find_all(exp.Placeholder)))
        # copy=False: statements can be large (a MERGE of thousands of VALUES rows), and each
        # tree is generated once.
        sql = tree.sql(dialect="duckdb", copy=False, unsupported_level=ErrorLevel.IGNORE)
        return Step(sql, used)

    # -- MERGE ---------------------------------------------------------------------------------

    def _stage_merge_source(
        self, merge: exp.Merge
    ) -> tuple[tuple[Step, ...], Step | None, Step | None]:
        """Materialize the MERGE source once, in a temporary table, so the duplicate check and
        the MERGE itself read it without evaluating (or generating) it twice.

        Delta fails a MERGE whose UPDATE/DELETE target row matches several source rows, where
        DuckDB would silently apply them all; the check query finds such a row first.
        """
        target, source, on = merge.this, merge.args.get("using"), merge.args.get("on")
        whens = merge.args.get("whens")
        modifies = whens is not None and any(
            when.args.get("matched") and not isinstance(when.args.get("then"), exp.Insert)
            for when in whens.expressions
        )
        if not modifies or not isinstance(target, exp.Table) or source is None or on is None:
            return (), None, None
        source_name = source.alias_or_name
        staged = self._step(exp.select("*").from_(source, copy=False))
        stage = Step(f"CREATE TEMP TABLE {_MERGE_SOURCE} AS {staged.sql}", staged.parameters)
        rest = None
        if self.bulk_parameters:
            rest = Step(f"INSERT INTO temp.main.{_MERGE_SOURCE} {staged.sql}", staged.parameters)
        replacement = exp.Table(
            this=exp.to_identifier(_MERGE_SOURCE),
            db=exp.to_identifier("main"),
            catalog=exp.to_identifier("temp"),
            alias=exp.TableAlias(this=exp.to_identifier(source_name, quoted=True)),
        )
        merge.set("using", replacement)
        target_name = target.alias_or_name
        check = (
            exp.select("1")
            .from_(target.copy(), copy=False)
            .join(replacement.copy(), on=on.copy(), copy=False)
            .group_by(exp.column("rowid", table=target_name), copy=False)
            .having("COUNT(*) > 1", copy=False)
            .limit(1, copy=False)
        )
        return (stage,), self._step(check), rest


_MERGE_SOURCE = "merge_source"


_UNNESTED_TYPES = {
    bulk_values.CellKind.STRING: ("VARCHAR[]", None),
    bulk_values.CellKind.TIMESTAMP: ("VARCHAR[]", "TIMESTAMPTZ"),
    bulk_values.CellKind.STRING_ARRAY: ("VARCHAR[][]", None),
}


def _unnested(kind: bulk_values.CellKind, parameter: str) -> exp.Expression:
    """One column of a scanned VALUES list, as VALUES would type it: `NULL` for a column of
    NULLs, else the list parameter unnested (and cast from text as its literals were)."""
    if kind is bulk_values.CellKind.NULL:
        return exp.Null()
    list_type, cast = _UNNESTED_TYPES[kind]
    bound = exp.Cast(this=exp.Placeholder(this=parameter), to=_duckdb_type(list_type))
    unnest: exp.Expression = exp.Anonymous(this="unnest", expressions=[bound])
    if cast is not None:
        unnest = exp.Cast(this=unnest, to=_duckdb_type(cast))
    return unnest


def _duckdb_type(name: str) -> exp.DataType:
    """A fresh copy of a DuckDB type (building one from text makes a parser every time)."""
    return _built_type(name).copy()


@functools.cache
def _built_type(name: str) -> exp.DataType:
    return exp.DataType.build(name, dialect="duckdb")


class _Nodes:
    """Every node of a tree, by class, from a single walk."""

    def __init__(self, tree: exp.Expression) -> None:
        self._by_class: dict[type, list[Any]] = {}
        for node in tree.walk(bfs=False):
            self._by_class.setdefault(type(node), []).append(node)

    def of(self, *classes: type) -> list[Any]:
        return [
            node
            for cls, nodes in self._by_class.items()
            if issubclass(cls, classes)
            for node in nodes
        ]


_SHA256_LENGTHS = frozenset({"0", "256"})
"""`sha2` bit lengths that mean SHA-256 on Databricks (0 is 256)."""


def _keep_function_meanings(nodes: _Nodes) -> None:
    """Adjust the calls DuckDB would not take as Databricks does, and refuse those that sqlglot
    would translate into DuckDB calls of another meaning."""
    for node in nodes.of(exp.UnixMicros):
        argument = node.this
        node.set("this", exp.cast(argument, exp.DataType.build("TIMESTAMP", dialect="databricks")))
    for node in nodes.of(exp.ConcatWs):
        if len(node.expressions) == 1:
            is_null = exp.Is(this=node.expressions[0].copy(), expression=exp.Null())
            node.replace(
                exp.Case(
                    ifs=[exp.If(this=is_null, true=exp.Null())], default=exp.Literal.string("")
                )
            )
    for node in nodes.of(exp.SHA2):
        length = node.args.get("length")
        if not (isinstance(length, exp.Literal) and length.name in _SHA256_LENGTHS):
            shown = length.sql(dialect="databricks") if length is not None else "none"
            raise StatementError.unsupported(
                f"sha2 with a bit length of {shown} (only 256, or 0 meaning 256)"
            )
    for node in nodes.of(exp.Transform):
        function = node.expression
        if isinstance(function, exp.Lambda) and len(function.expressions) > 1:
            raise StatementError.unsupported("transform with an index parameter")


def _guard_division(nodes: _Nodes) -> None:
    """Databricks SQL runs with ANSI mode on: `x / 0` and `x % 0` fail with DIVIDE_BY_ZERO,
    where DuckDB answers Infinity or NULL. Each division is wrapped in place (no copy), so
    nested divisions are all guarded whatever the order."""
    for node in nodes.of(exp.Div, exp.Mod):
        if node.args.get("safe"):
            continue
        raise_error = exp.Anonymous(
            this="error", expressions=[exp.Literal.string("Division by zero")]
        )
        zero = exp.EQ(this=node.expression.copy(), expression=exp.Literal.number(0))
        guard = exp.Case(ifs=[exp.If(this=zero, true=raise_error)])
        node.replace(guard)
        guard.set("default", node)


def _name_projections(tree: exp.Expression) -> None:
    """Name unaliased result columns as Spark does (`1`, `x` for 'x', `count(1)`), not DuckDB."""
    select: exp.Expression | None = tree
    while isinstance(select, (exp.SetOperation, exp.Subquery)):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for projection in list(select.expressions):
        if isinstance(projection, (exp.Alias, exp.Star, exp.Column)):
            continue
        if isinstance(projection, exp.Literal) and projection.is_string:
            name = projection.name
        else:
            name = projection.sql(dialect="databricks")
        projection.replace(exp.alias_(projection.copy(), name, quoted=True))


def _set_row(tree: exp.Expression) -> tuple[str, str] | None:
    items = tree.expressions
    if not items or not isinstance(items[0].this, exp.EQ):
        return None
    assignment = items[0].this
    key = assignment.this.sql(dialect="databricks")
    value = assignment.expression
    text = value.name if isinstance(value, exp.Literal) else value.sql(dialect="databricks")
    return key, text.lower() if text in ("TRUE", "FALSE") else text


_SHOW = re.compile(
    r"^\s*SHOW\s+(?P<what>CATALOGS|SCHEMAS|DATABASES|TABLES)"
    r"(?:\s+(?:IN|FROM)\s+(?P<target>[`\w.\-]+))?"
    r"(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?\s*;?\s*$",
    re.IGNORECASE,
)
_CATALOG_DDL = re.compile(
    r"^\s*(?P<verb>CREATE|DROP)\s+CATALOG\s+(?P<exists>IF\s+(?:NOT\s+)?EXISTS\s+)?"
    r"(?P<name>`[^`]+`|[\w\-]+)(?:\s+CASCADE)?\s*;?\s*$",
    re.IGNORECASE,
)
_IGNORED_COMMANDS = {
    "OPTIMIZE",
    "VACUUM",
    "ANALYZE",
    "REFRESH",
    "CACHE",
    "UNCACHE",
    "CLEAR",
    "RESET",
}


def _plan_command(tree: exp.Command, catalog: str, schema: str) -> Plan:
    text = tree.sql(dialect="databricks")
    verb = str(tree.this).upper()
    if verb in _IGNORED_COMMANDS:
        return Plan(Kind.NOOP, None)
    if verb == "SET":
        return Plan(Kind.SET, None)
    if match := _SHOW.match(text):
        what = match.group("what").lower()
        what = "schemas" if what == "databases" else what
        parts = [p.strip("`") for p in (match.group("target") or "").split(".") if p]
        show_catalog, show_schema = catalog, schema
        if what == "schemas" and parts:
            show_catalog = parts[-1]
        elif what == "tables" and parts:
            show_schema = parts[-1]
            show_catalog = parts[-2] if len(parts) > 1 else catalog
        return Plan(
            Kind.SHOW,
            None,
            catalogs=(show_catalog.lower(),),
            catalog_name=show_catalog.lower(),
            show=what,
            show_schema=show_schema.lower(),
            like=match.group("like"),
        )
    if match := _CATALOG_DDL.match(text):
        name = match.group("name").strip("`").lower()
        kind = Kind.CREATE_CATALOG if match.group("verb").upper() == "CREATE" else Kind.DROP_CATALOG
        return Plan(kind, None, catalog_name=name, if_exists=bool(match.group("exists")))
    raise StatementError.unsupported(f"{verb} statements")
