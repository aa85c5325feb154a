"""Row values as sqlglot expressions: the only way a value ever enters SQL text.

sqlglot's Databricks dialect escapes string literals under Spark's rules (backslash escapes; a
doubled quote is *not* an escape), so the text a literal decodes to on the warehouse is exactly
the value given here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlglot import exp

from core.impact_table import CellValue, ColumnType


def timestamp_text(value: datetime) -> str:
    """The literal text of a UTC timestamp, with an explicit zone both Spark and DuckDB read."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


def literal(value: CellValue, column_type: ColumnType) -> exp.Expression:
    """A sqlglot expression for one cell."""
    if value is None:
        return exp.Null()
    if column_type is ColumnType.TIMESTAMP:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime for a TIMESTAMP column, got {type(value)}")
        return exp.cast(exp.Literal.string(timestamp_text(value)), exp.DataType.build("TIMESTAMP"))
    if column_type is ColumnType.STRING_ARRAY:
        if not isinstance(value, tuple):
            raise TypeError(f"expected a tuple for an ARRAY<STRING> column, got {type(value)}")
        array = exp.Array(expressions=[exp.Literal.string(item) for item in value])
        if not value:
            # An empty ARRAY() is ARRAY<VOID> in Spark; say which array it is.
            return exp.cast(array, exp.DataType.build("ARRAY<STRING>", dialect="databricks"))
        return array
    if not isinstance(value, str):
        raise TypeError(f"expected a str for a STRING column, got {type(value)}")
    return exp.Literal.string(value)
