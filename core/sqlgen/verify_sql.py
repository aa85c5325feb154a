"""The verification query: each stored row's display columns, content hash and fingerprint.

The fingerprint is computed by the warehouse from every content column and the content hash,
by the definition in `core.row_fingerprint` (which computes the same for each approved row), so
a verification reads back about 300 bytes a row in one response instead of every column (tens
of megabytes at scale, several result chunks, and past Databricks' 25 MiB INLINE limit at about
20,000 services). Only when a fingerprint disagrees does the run read back every column
(`core.sqlgen.statements.select_report`), to name each differing field.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp

from core.impact_table import ColumnType
from core.row_fingerprint import (
    FINGERPRINT_COLUMNS,
    FINGERPRINT_TYPES,
    HASH_BITS,
    NULL_TOKEN,
    SEPARATOR,
)
from core.sqlgen.statements import DIALECT, Statement, table_expression
from core.steps import Step
from core.verification import DISPLAY_COLUMNS, FINGERPRINT_COLUMN

VERIFY_NAME = "verify-rows"
DETAIL_NAME = "verify-rows-detail"
"""The full read-back's name in the plan (`core.sqlgen.statements.select_report`)."""
DETAIL_CONDITION = "runs only when a stored row's fingerprint disagrees with its approved row"
_ITEM = "item"
"""The lambda variable over an array's items."""


def _or_null(value: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=value, expressions=[exp.Literal.string(NULL_TOKEN)])


def _sha2(value: exp.Expression) -> exp.Expression:
    return exp.SHA2(this=value, length=exp.Literal.number(HASH_BITS))


def _string_token(value: exp.Expression) -> exp.Expression:
    """`coalesce(sha2(value, 256), 'null')`."""
    return _or_null(_sha2(value))


def _timestamp_token(value: exp.Expression) -> exp.Expression:
    """`coalesce(CAST(unix_micros(value) AS STRING), 'null')`."""
    micros = exp.UnixMicros(this=value)
    return _or_null(exp.cast(micros, exp.DataType.build("STRING", dialect=DIALECT)))


def _array_token(value: exp.Expression) -> exp.Expression:
    """`coalesce(sha2(array_join(transform(value, item -> <item's token>), ','), 256), 'null')`."""
    item = exp.to_identifier(_ITEM)
    tokens = exp.Transform(
        this=value,
        expression=exp.Lambda(this=_string_token(item.copy()), expressions=[item]),
    )
    joined = exp.ArrayToString(this=tokens, expression=exp.Literal.string(SEPARATOR))
    return _or_null(_sha2(joined))


_TOKENS = {
    ColumnType.STRING: _string_token,
    ColumnType.TIMESTAMP: _timestamp_token,
    ColumnType.STRING_ARRAY: _array_token,
}


def fingerprint_expression() -> exp.Expression:
    """`sha2(concat_ws(',', <token of each fingerprinted column>), 256)`."""
    tokens = [
        _TOKENS[column_type](exp.column(name))
        for name, column_type in zip(FINGERPRINT_COLUMNS, FINGERPRINT_TYPES, strict=True)
    ]
    # The flags say what Databricks CONCAT_WS does (it skips NULLs); without them sqlglot would
    # write a CASE making the whole text NULL when any argument is. No token is NULL anyway.
    separator = exp.Literal.string(SEPARATOR)
    joined = exp.ConcatWs(expressions=[separator, *tokens], safe=True, coalesce=True)
    return _sha2(joined)


@lru_cache(maxsize=32)
def select_fingerprints(table: str, report_id: str) -> Statement:
    """The plan's verification query: the display columns, content hash and fingerprint of each
    of the report's rows, ordered by service."""
    query = (
        exp.select(
            *(exp.column(name) for name in DISPLAY_COLUMNS),
            exp.column("content_hash"),
            exp.alias_(fingerprint_expression(), FINGERPRINT_COLUMN),
        )
        .from_(table_expression(table))
        .where(exp.column("report_id").eq(exp.Literal.string(report_id)))
        .order_by(exp.column("service_name"))
    )
    return Statement(Step.VERIFY_ROWS, VERIFY_NAME, query.sql(dialect=DIALECT, pretty=True))


def clear_caches() -> None:
    """Forget the rendered queries (benchmarks use it to measure a cold render)."""
    select_fingerprints.cache_clear()
