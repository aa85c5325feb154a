"""Value text and manifest types, unit by unit (the HTTP-level checks are in test_sql.py)."""

from __future__ import annotations

import datetime as dt
import struct

import duckdb
import pytest

from core.embedded.wire_types import (
    column_type,
    encoder,
    format_interval,
    format_timestamp,
    java_double,
    java_float,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5"),
        (0.1, "0.1"),
        (-2.25, "-2.25"),
        (100.0, "100.0"),
        (1234567.0, "1234567.0"),
        (1e7, "1.0E7"),
        (1.6777216e7, "1.6777216E7"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (-0.0, "0.0"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_doubles_print_as_java_does(value: float, text: str) -> None:
    assert java_double(value) == text


def test_floats_print_their_shortest_32_bit_text() -> None:
    widened = struct.unpack("f", struct.pack("f", 0.1))[0]
    assert widened != 0.1
    assert java_float(widened) == "0.1"
    assert java_float(16777216.0) == "1.6777216E7"
    assert java_float(3.0) == "3.0"


def test_timestamps_are_utc_with_three_truncated_fraction_digits() -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    value = dt.datetime(2026, 5, 12, 18, 42, 0, 999_999, tzinfo=paris)
    assert format_timestamp(value) == "2026-05-12T16:42:00.999Z"
    assert format_timestamp(dt.datetime(1, 1, 1, tzinfo=dt.UTC)) == "0001-01-01T00:00:00.000Z"


def test_day_time_intervals_use_the_spark_literal() -> None:
    value = dt.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500_000)
    assert format_interval(value) == "INTERVAL '1 02:03:04.5' DAY TO SECOND"
    assert format_interval(-value) == "INTERVAL '-1 02:03:04.5' DAY TO SECOND"
    assert format_interval(dt.timedelta(0)) == "INTERVAL '0 00:00:00' DAY TO SECOND"


def test_complex_types_nest_their_text() -> None:
    connection = duckdb.connect()
    declared = "STRUCT(a INTEGER[], m MAP(VARCHAR, DECIMAL(4,2)), b BLOB)"
    kind = connection.sqltype(declared)
    assert (
        column_type(kind).type_text
        == "STRUCT<a: ARRAY<INT>, m: MAP<STRING, DECIMAL(4,2)>, b: BINARY>"
    )
    assert column_type(kind).type_name == "STRUCT"
    value = connection.execute(
        f"SELECT CAST({{'a': [1, NULL], 'm': MAP {{'k': 1.5}}, 'b': '\\xDE\\xAD'::BLOB}} "
        f"AS {declared})"
    ).fetchone()
    assert value is not None
    assert encoder(kind)(value[0]) == '{"a":["1",null],"m":{"k":"1.50"},"b":"3q0="}'
    assert encoder(kind)(None) is None
    decimal = column_type(connection.sqltype("DECIMAL(38,18)"))
    assert decimal.column_info("d", 3) == {
        "name": "d",
        "type_text": "DECIMAL(38,18)",
        "type_name": "DECIMAL",
        "position": 3,
        "type_precision": 38,
        "type_scale": 18,
    }
