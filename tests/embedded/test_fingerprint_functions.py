"""The functions of the verification fingerprint keep their Databricks meaning on DuckDB: each is
checked against the Databricks documentation's own examples and against values computed here
independently (hashlib, datetime arithmetic); calls DuckDB would answer differently are refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.embedded.helpers import rows, run


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


HOSTILE = ["Spark", "", "é😀", "it's", "back\\slash", "two\nlines", "tab\there", "null", ","]


def spark_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


async def test_sha2_is_the_hex_sha256_of_the_utf8_bytes(client: httpx.AsyncClient) -> None:
    # The documented example: sha2('Spark', 256).
    assert await rows(client, "SELECT sha2('Spark', 256)") == [
        ["529bc3b07127ecb7e53a4dcf1991d9152c24537d919178022b2c42657f79a26b"]
    ]
    for text in HOSTILE:
        got = await rows(client, f"SELECT sha2({spark_string(text)}, 256), sha2(NULL, 256)")
        assert got == [[sha256_hex(text), None]], text
    # bitLength 0 is 256.
    assert await rows(client, "SELECT sha2('Spark', 0)") == [[sha256_hex("Spark")]]


@pytest.mark.parametrize("length", ["224", "384", "512", "1", "n", "NULL"])
async def test_sha2_of_another_length_is_refused_not_answered_with_sha256(
    client: httpx.AsyncClient, length: str
) -> None:
    data = await run(client, f"SELECT sha2(a, {length}) FROM (SELECT 'x' AS a, 512 AS n)")
    assert data["status"]["state"] == "FAILED"
    assert "UNSUPPORTED_FEATURE" in data["status"]["error"]["message"]
    assert "sha2 with a bit length of" in data["status"]["error"]["message"]


@pytest.mark.parametrize(
    "literal",
    [
        "1970-01-01 00:00:01Z",
        "2026-05-12 16:42:00.123+00:00",
        "2026-05-12 18:42:00.123456+02:00",
        "1969-12-31 23:59:59.999999+00:00",
        "1900-01-01 00:00:00+00:00",
        "9999-12-31 23:59:59.999999+00:00",
    ],
)
async def test_unix_micros_counts_microseconds_from_the_utc_epoch(
    client: httpx.AsyncClient, literal: str
) -> None:
    moment = datetime.fromisoformat(literal.replace("Z", "+00:00"))
    got = await rows(
        client,
        f"SELECT CAST(unix_micros(TIMESTAMP '{literal}') AS STRING), unix_micros(NULL)",
    )
    assert got == [[str(micros(moment)), None]]


async def test_unix_micros_as_documented(client: httpx.AsyncClient) -> None:
    assert await rows(client, "SELECT unix_micros(TIMESTAMP('1970-01-01 00:00:01Z'))") == [
        ["1000000"]
    ]


async def test_transform_and_array_join_as_documented(client: httpx.AsyncClient) -> None:
    assert await rows(client, "SELECT transform(array('a', 'b'), x -> concat(x, '!'))") == [
        ['["a!","b!"]']
    ]
    assert await rows(
        client,
        "SELECT array_join(array('hello', 'world'), ','), "
        "array_join(array('hello', NULL ,'world'), ','), "
        "array_join(array('hello', NULL ,'world'), ',', '*')",
    ) == [["hello,world", "hello,world", "hello,*,world"]]


async def test_transform_with_an_index_is_refused(client: httpx.AsyncClient) -> None:
    # Databricks counts the index from 0, DuckDB's list_transform from 1.
    data = await run(client, "SELECT transform(array(1, 2, 3), (x, i) -> x + i)")
    assert data["status"]["state"] == "FAILED"
    assert "transform with an index parameter" in data["status"]["error"]["message"]


@pytest.mark.parametrize(
    "items",
    [[], [""], [None], ["a", None, ""], HOSTILE],
)
async def test_the_array_token_joins_each_items_token(
    client: httpx.AsyncClient, items: list[str | None]
) -> None:
    array = (
        "CAST(ARRAY() AS ARRAY<STRING>)"
        if not items
        else "ARRAY(" + ", ".join("NULL" if i is None else spark_string(i) for i in items) + ")"
    )
    got = await rows(
        client,
        f"SELECT array_join(transform({array}, item -> coalesce(sha2(item, 256), 'null')), ',')",
    )
    expected = ",".join("null" if i is None else sha256_hex(i) for i in items)
    assert got == [[expected]]
    empty = await rows(
        client, "SELECT array_join(transform(CAST(NULL AS ARRAY<STRING>), x -> x), ',')"
    )
    assert empty == [[None]]


async def test_concat_ws_and_coalesce_as_documented(client: httpx.AsyncClient) -> None:
    assert await rows(
        client,
        "SELECT concat_ws(' ', 'Spark', 'SQL'), concat_ws('s'), concat_ws(',', 'a', NULL, 'b'), "
        "coalesce(NULL, 'null'), coalesce('', 'null'), concat_ws(NULL, 'a')",
    ) == [["Spark SQL", "", "a,b", "null", "", None]]
