"""DuckDB result types to the Databricks manifest, and values to JSON_ARRAY text.

The manifest names each column twice: `type_text` in Databricks SQL spelling (`BIGINT`,
`DECIMAL(10,2)`, `ARRAY<STRING>`, `MAP<STRING, INT>`, `STRUCT<a: INT, b: STRING>`) and
`type_name` from the Spark vocabulary (`LONG` for BIGINT, `SHORT` for SMALLINT, `BYTE` for
TINYINT). Every value is JSON text, NULL is JSON null. The encodings follow recorded Databricks
answers:

- integers and decimals as plain digits, decimals keeping their scale (`"1.50"`);
- FLOAT/DOUBLE as Java prints them (`"1.5"`, `"1.0E20"`, `"NaN"`, `"Infinity"`);
- booleans `"true"` / `"false"`; dates `"2024-01-02"`; BINARY as padded base64;
- TIMESTAMP as the UTC instant with exactly three fraction digits, truncated, and `Z`:
  `"2026-05-12T16:42:00.000Z"`; TIMESTAMP_NTZ the same without `Z`;
- ARRAY / MAP / STRUCT as one JSON text whose every leaf is itself text (`["1","2"]`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from duckdb.sqltypes import DuckDBPyType

__all__ = ["ColumnType", "column_type", "encoder"]

Encoder = Callable[[Any], "str | None"]
Tree = Callable[[Any], Any]
"""Turns a non-null value into its JSON tree (leaves are text) for nesting in complex values."""


@dataclass(frozen=True)
class ColumnType:
    """How one result column is described in the manifest."""

    type_text: str
    type_name: str
    precision: int | None = None
    scale: int | None = None
    interval_type: str | None = None

    def column_info(self, name: str, position: int) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": name,
            "type_text": self.type_text,
            "type_name": self.type_name,
            "position": position,
        }
        if self.precision is not None:
            info["type_precision"] = self.precision
            info["type_scale"] = self.scale
        if self.interval_type is not None:
            info["type_interval_type"] = self.interval_type
        return info


_SIMPLE: dict[str, tuple[str, str]] = {
    "boolean": ("BOOLEAN", "BOOLEAN"),
    "tinyint": ("TINYINT", "BYTE"),
    "smallint": ("SMALLINT", "SHORT"),
    "integer": ("INT", "INT"),
    "bigint": ("BIGINT", "LONG"),
    # DuckDB widens SUM(BIGINT) to HUGEINT where Spark keeps BIGINT; report what Spark would.
    "hugeint": ("BIGINT", "LONG"),
    "utinyint": ("SMALLINT", "SHORT"),
    "usmallint": ("INT", "INT"),
    "uinteger": ("BIGINT", "LONG"),
    "float": ("FLOAT", "FLOAT"),
    "double": ("DOUBLE", "DOUBLE"),
    "varchar": ("STRING", "STRING"),
    "blob": ("BINARY", "BINARY"),
    "date": ("DATE", "DATE"),
    "timestamp with time zone": ("TIMESTAMP", "TIMESTAMP"),
    "timestamp": ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ"),
    "timestamp_ms": ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ"),
    "timestamp_s": ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ"),
    "timestamp_ns": ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ"),
    '"null"': ("VOID", "NULL"),
    "null": ("VOID", "NULL"),
}


def _children(duck: DuckDBPyType) -> list[tuple[str, Any]]:
    return list(duck.children)


def column_type(duck: DuckDBPyType) -> ColumnType:
    """The manifest description of a DuckDB result type."""
    kind = duck.id
    if kind in _SIMPLE:
        text, name = _SIMPLE[kind]
        return ColumnType(text, name)
    if kind == "decimal":
        params = dict(_children(duck))
        precision, scale = int(params["precision"]), int(params["scale"])
        return ColumnType(f"DECIMAL({precision},{scale})", "DECIMAL", precision, scale)
    if kind in ("ubigint", "uhugeint"):
        precision = 20 if kind == "ubigint" else 38
        return ColumnType(f"DECIMAL({precision},0)", "DECIMAL", precision, 0)
    if kind == "interval":
        return ColumnType("INTERVAL DAY TO SECOND", "INTERVAL", interval_type="DAY TO SECOND")
    if kind in ("list", "array"):
        element = column_type(dict(_children(duck))["child"])
        return ColumnType(f"ARRAY<{element.type_text}>", "ARRAY")
    if kind == "map":
        params = dict(_children(duck))
        key, value = column_type(params["key"]), column_type(params["value"])
        return ColumnType(f"MAP<{key.type_text}, {value.type_text}>", "MAP")
    if kind == "struct":
        members = ", ".join(
            f"{name}: {column_type(child).type_text}" for name, child in _children(duck)
        )
        return ColumnType(f"STRUCT<{members}>", "STRUCT")
    # uuid, enum, json, time, bit, union, ...: text is the honest Databricks equivalent.
    return ColumnType("STRING", "STRING")


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""One encoder for every complex value (`json.dumps` with options builds a new one per call)."""

ColumnEncoder = Callable[[Sequence[Any]], Sequence[str | None]]


def column_encoder(duck: DuckDBPyType) -> ColumnEncoder:
    """A function turning one column of a batch of rows into JSON_ARRAY cells.

    VARCHAR values already are their text (DuckDB hands them over as `str`); dates and
    timestamps repeat a lot (a report's `generated_at` is on every row), so each distinct one
    is formatted once per batch."""
    kind = duck.id
    if kind == "varchar":
        return _as_is
    one = encoder(duck)
    if kind == "date" or kind.startswith("timestamp"):

        def encode_repeated(values: Sequence[Any]) -> list[str | None]:
            texts = {value: one(value) for value in set(values)}
            return [texts[value] for value in values]

        return encode_repeated
    return lambda values: [one(value) for value in values]


def _as_is(values: Sequence[Any]) -> Sequence[str | None]:
    return values


def encoder(duck: DuckDBPyType) -> Encoder:
    """A function turning one value of this type into its JSON_ARRAY cell (text or None)."""
    if duck.id in ("list", "array", "map", "struct"):
        tree = _tree(duck)

        def encode_complex(value: Any) -> str | None:
            if value is None:
                return None
            return _JSON.encode(tree(value))

        return encode_complex
    scalar = _scalar(duck)

    def encode_scalar(value: Any) -> str | None:
        return None if value is None else scalar(value)

    return encode_scalar


def _tree(duck: DuckDBPyType) -> Tree:
    kind = duck.id
    if kind in ("list", "array"):
        element = _nullable(_tree(dict(_children(duck))["child"]))
        return lambda value: [element(item) for item in value]
    if kind == "map":
        params = dict(_children(duck))
        key, value_tree = _tree(params["key"]), _nullable(_tree(params["value"]))

        def map_tree(value: Any) -> Any:
            items = (
                value.items()
                if isinstance(value, dict)
                else zip(value["key"], value["value"], strict=True)
            )
            return {_key_text(key(k)): value_tree(v) for k, v in items}

        return map_tree
    if kind == "struct":
        members = [(name, _nullable(_tree(child))) for name, child in _children(duck)]
        return lambda value: {name: tree(value.get(name)) for name, tree in members}
    return _scalar(duck)


def _nullable(tree: Tree) -> Tree:
    return lambda value: None if value is None else tree(value)


def _key_text(key: Any) -> str:
    return (
        key if isinstance(key, str) else json.dumps(key, ensure_ascii=False, separators=(",", ":"))
    )


def _scalar(duck: DuckDBPyType) -> Callable[[Any], str]:
    kind = duck.id
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind == "double":
        return java_double
    if kind == "float":
        return java_float
    if kind == "decimal":
        return lambda value: format(value, "f")
    if kind == "blob":
        return lambda value: base64.b64encode(bytes(value)).decode("ascii")
    if kind == "date":
        return format_date
    if kind == "timestamp with time zone":
        return format_timestamp
    if kind.startswith("timestamp"):
        return format_timestamp_ntz
    if kind == "interval":
        return format_interval
    return str


def format_date(value: dt.date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def format_timestamp(value: dt.datetime) -> str:
    """The instant in UTC: `YYYY-MM-DDTHH:MM:SS.mmmZ`, milliseconds truncated like Databricks."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return format_timestamp_ntz(value) + "Z"


def format_timestamp_ntz(value: dt.datetime) -> str:
    return (
        f"{format_date(value)}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        f".{value.microsecond // 1000:03d}"
    )


def format_interval(value: dt.timedelta) -> str:
    """Spark's day-time interval literal, e.g. `INTERVAL '1 02:03:04.5' DAY TO SECOND`."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    days, rest = divmod(micros, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    text = f"{sign}{days} {hours:02d}:{minutes:02d}:{seconds:02d}"
    if fraction:
        text += f".{fraction:06d}".rstrip("0")
    return f"INTERVAL '{text}' DAY TO SECOND"


def java_double(value: float) -> str:
    """Java's `Double.toString`: shortest round-trip digits, scientific outside [1e-3, 1e7)."""
    return _java_text(repr(value), value)


def java_float(value: float) -> str:
    """Java's `Float.toString` for a value DuckDB widened from 32 bits."""
    if math.isfinite(value) and value != 0.0:
        single = struct.unpack("f", struct.pack("f", value))[0]
        for digits in range(1, 10):
            shortest = f"{single:.{digits}g}"
            if struct.unpack("f", struct.pack("f", float(shortest)))[0] == single:
                return _java_text(shortest, single)
    return _java_text(repr(value), value)


def _java_text(shortest: str, value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "0.0"  # recorded: Databricks prints negative zero as 0.0 too
    number = Decimal(shortest)
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent += len(digit_tuple) - len(digits)  # account for the stripped trailing zeros
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        text = format(number.normalize(), "f").lstrip("-")
        return prefix + (text if "." in text else text + ".0")
    scientific = len(digits) - 1 + exponent
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{prefix}{mantissa}E{scientific}"
