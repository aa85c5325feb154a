"""Databricks SQL semantics over DuckDB: names, parameters, literals, types, MERGE, round trips."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.embedded.helpers import ok, rows, run

TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS workspace.default.impact ("
    "report_id STRING NOT NULL COMMENT 'the report, as \\'upstream\\' names it', "
    "service_name STRING NOT NULL COMMENT 'service', "
    "generated_at TIMESTAMP, "
    "risk_score DECIMAL(5,2), "
    "blast_radius BIGINT, "
    "is_critical BOOLEAN, "
    "active_monitors ARRAY<STRING>, "
    "note STRING, "
    "reviewed_by STRING, "
    "reviewed_at TIMESTAMP"
    ") USING DELTA COMMENT 'production impact, one row per service'"
)


def spark_literal(value: str | None) -> str:
    """How a writer quotes a value for Spark: backslash first, then the quote."""
    if value is None:
        return "NULL"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def merge_statement(rows_: list[dict[str, Any]]) -> str:
    values = ", ".join(
        "("
        + ", ".join(
            [
                spark_literal(row["report_id"]),
                spark_literal(row["service_name"]),
                f"TIMESTAMP {spark_literal(row['generated_at'])}",
                f"CAST({spark_literal(row['risk_score'])} AS DECIMAL(5,2))",
                str(row["blast_radius"]),
                "true" if row["is_critical"] else "false",
                "ARRAY(" + ", ".join(spark_literal(m) for m in row["active_monitors"]) + ")",
                spark_literal(row["note"]),
            ]
        )
        + ")"
        for row in rows_
    )
    return (
        "MERGE INTO workspace.default.impact AS t USING (VALUES "
        + values
        + ") AS s(report_id, service_name, generated_at, risk_score, blast_radius, is_critical, "
        "active_monitors, note) "
        "ON t.report_id = s.report_id AND t.service_name = s.service_name "
        "WHEN MATCHED THEN UPDATE SET generated_at = s.generated_at, risk_score = s.risk_score, "
        "blast_radius = s.blast_radius, is_critical = s.is_critical, "
        "active_monitors = s.active_monitors, note = s.note, reviewed_by = :reviewed_by, "
        "reviewed_at = :reviewed_at "
        "WHEN NOT MATCHED THEN INSERT (report_id, service_name, generated_at, risk_score, "
        "blast_radius, is_critical, active_monitors, note, reviewed_by, reviewed_at) VALUES "
        "(s.report_id, s.service_name, s.generated_at, s.risk_score, s.blast_radius, "
        "s.is_critical, s.active_monitors, s.note, :reviewed_by, :reviewed_at)"
    )


REVIEW = [
    {"name": "reviewed_by", "value": "Zoë O'Brien \\ ops", "type": "STRING"},
    {"name": "reviewed_at", "value": "2026-05-12T16:42:00Z", "type": "TIMESTAMP"},
]

TRICKY = [
    {
        "report_id": "rep-1",
        "service_name": "checkout",
        "generated_at": "2026-05-12 16:42:00",
        "risk_score": "87.50",
        "blast_radius": 12,
        "is_critical": True,
        "active_monitors": ['latency "p99"', "it's up", "back\\slash"],
        "note": "line one\nline two\ttabbed, 'quoted', \"double\", \\n literal, ünïcödé ✓ 😀",
    },
    {
        "report_id": "rep-1",
        "service_name": "ledger",
        "generated_at": "2026-05-12 16:42:00.123",
        "risk_score": "0.00",
        "blast_radius": 0,
        "is_critical": False,
        "active_monitors": [],
        "note": None,
    },
]


async def test_a_row_round_trips_exactly_from_merge_to_select(client: httpx.AsyncClient) -> None:
    await ok(client, TABLE_DDL)
    merged = await ok(client, merge_statement(TRICKY), parameters=REVIEW)
    assert merged["result"]["data_array"] == [["2", "0", "0", "2"]]
    data = await ok(
        client,
        "SELECT report_id, service_name, generated_at, risk_score, blast_radius, is_critical, "
        "active_monitors, note, reviewed_by, reviewed_at FROM workspace.default.impact "
        "WHERE report_id = :id ORDER BY service_name",
        parameters=[{"name": "id", "value": "rep-1"}],
    )
    assert [
        (c["name"], c["type_text"], c["type_name"]) for c in data["manifest"]["schema"]["columns"]
    ] == [
        ("report_id", "STRING", "STRING"),
        ("service_name", "STRING", "STRING"),
        ("generated_at", "TIMESTAMP", "TIMESTAMP"),
        ("risk_score", "DECIMAL(5,2)", "DECIMAL"),
        ("blast_radius", "BIGINT", "LONG"),
        ("is_critical", "BOOLEAN", "BOOLEAN"),
        ("active_monitors", "ARRAY<STRING>", "ARRAY"),
        ("note", "STRING", "STRING"),
        ("reviewed_by", "STRING", "STRING"),
        ("reviewed_at", "TIMESTAMP", "TIMESTAMP"),
    ]
    decimal = data["manifest"]["schema"]["columns"][3]
    assert (decimal["type_precision"], decimal["type_scale"]) == (5, 2)
    checkout, ledger = data["result"]["data_array"]
    assert checkout == [
        "rep-1",
        "checkout",
        "2026-05-12T16:42:00.000Z",
        "87.50",
        "12",
        "true",
        json.dumps(TRICKY[0]["active_monitors"], ensure_ascii=False, separators=(",", ":")),
        TRICKY[0]["note"],
        "Zoë O'Brien \\ ops",
        "2026-05-12T16:42:00.000Z",
    ]
    assert json.loads(checkout[6] or "") == TRICKY[0]["active_monitors"]
    assert ledger == [
        "rep-1",
        "ledger",
        "2026-05-12T16:42:00.123Z",
        "0.00",
        "0",
        "false",
        "[]",
        None,
        "Zoë O'Brien \\ ops",
        "2026-05-12T16:42:00.000Z",
    ]
    # The same MERGE again updates both rows in place.
    again = await ok(client, merge_statement(TRICKY), parameters=REVIEW)
    assert again["result"]["data_array"] == [["2", "2", "0", "0"]]


async def test_a_merge_of_thousands_of_rows(client: httpx.AsyncClient) -> None:
    await ok(client, TABLE_DDL)
    batch = [
        {
            "report_id": "bulk",
            "service_name": f"service-{i:05d}",
            "generated_at": "2026-05-12 16:42:00",
            "risk_score": f"{i % 100}.25",
            "blast_radius": i,
            "is_critical": i % 2 == 0,
            "active_monitors": [f"m{i}", "shared"],
            "note": f"row {i} with 'quotes' and \\ backslash",
        }
        for i in range(3000)
    ]
    merged = await ok(client, merge_statement(batch), parameters=REVIEW)
    assert merged["result"]["data_array"] == [["3000", "0", "0", "3000"]]
    count = await rows(
        client,
        "SELECT count(*), sum(blast_radius) FROM workspace.default.impact WHERE report_id = 'bulk'",
    )
    assert count == [["3000", str(sum(range(3000)))]]
    # Updating a slice of them in place (sqlglot parses ~100k tokens a second, so keep it small).
    batch[7]["note"] = "changed"
    merged = await ok(client, merge_statement(batch[:50]), parameters=REVIEW)
    assert merged["result"]["data_array"] == [["50", "50", "0", "0"]]
    note = await rows(
        client,
        "SELECT note FROM workspace.default.impact WHERE service_name = 'service-00007'",
    )
    assert note == [["changed"]]


async def test_a_merge_with_duplicate_source_rows_fails_like_delta(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, "CREATE TABLE t (k INT, v STRING)")
    await ok(client, "INSERT INTO t VALUES (1, 'a')")
    data = await run(
        client,
        "MERGE INTO t USING (VALUES (1, 'x'), (1, 'y')) AS s(k, v) ON t.k = s.k "
        "WHEN MATCHED THEN UPDATE SET v = s.v",
    )
    assert data["status"]["state"] == "FAILED"
    assert data["status"]["sql_state"] == "21506"
    assert data["status"]["error"]["message"].startswith(
        "[DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE]"
    )
    assert await rows(client, "SELECT v FROM t") == [["a"]]


async def test_uc_catalog_names_duckdb_reserves_work(client: httpx.AsyncClient) -> None:
    for catalog in ("main", "system", "temp", "memory", "workspace", "hive_metastore"):
        await ok(client, f"CREATE TABLE {catalog}.default.t (c STRING)")
        await ok(client, f"INSERT INTO {catalog}.default.t VALUES ('{catalog}')")
    for catalog in ("main", "system", "temp", "memory", "workspace", "hive_metastore"):
        assert await rows(client, f"SELECT c FROM `{catalog}`.`default`.`t`") == [[catalog]]
    catalogs = await rows(client, "SHOW CATALOGS")
    assert ["main"] in catalogs and ["system"] in catalogs and ["temp"] in catalogs


async def test_names_resolve_against_the_request_catalog_and_schema(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, "CREATE SCHEMA IF NOT EXISTS main.sales")
    await ok(client, "CREATE TABLE main.sales.orders (id INT)")
    await ok(client, "INSERT INTO orders VALUES (1)", catalog="main", schema="sales")
    await ok(client, "INSERT INTO sales.orders VALUES (2)", catalog="main")
    await ok(client, "INSERT INTO MAIN.Sales.ORDERS VALUES (3)")
    assert await rows(client, "SELECT id FROM main.sales.orders ORDER BY id") == [
        ["1"],
        ["2"],
        ["3"],
    ]
    assert await rows(client, "SELECT current_catalog(), current_schema()") == [
        ["workspace", "default"]
    ]
    assert await rows(
        client, "SELECT current_catalog(), current_schema()", catalog="main", schema="sales"
    ) == [["main", "sales"]]
    assert await rows(client, "SHOW SCHEMAS IN main") == [["default"], ["sales"]]
    assert await rows(client, "SHOW TABLES IN main.sales") == [["sales", "orders", "false"]]
    described = await rows(client, "DESCRIBE TABLE main.sales.orders")
    assert described == [["id", "int", None]]
    # USE and SET succeed but, as on the API, do not outlive their own statement.
    await ok(client, "USE CATALOG main")
    assert await rows(client, "SET ansi_mode = false") == [["ansi_mode", "false"]]
    assert await rows(client, "SELECT current_catalog()") == [["workspace"]]


async def test_parameters_bind_with_their_declared_types(client: httpx.AsyncClient) -> None:
    data = await ok(
        client,
        "SELECT :s AS s, :i AS i, :b AS b, :d AS d, :ts AS ts, :day AS day, :dec AS dec, "
        ":none IS NULL AS none_is_null, :s || '!' AS twice, :i + 1 AS next",
        parameters=[
            {"name": "s", "value": "it's; -- not a comment"},
            {"name": "i", "value": "41", "type": "INT"},
            {"name": "b", "value": "true", "type": "BOOLEAN"},
            {"name": "d", "value": "9007199254740993", "type": "BIGINT"},
            {"name": "ts", "value": "2026-05-12 18:42:00+02:00", "type": "TIMESTAMP"},
            {"name": "day", "value": "2026-05-12", "type": "DATE"},
            {"name": "dec", "value": "1.50", "type": "DECIMAL(10,2)"},
            {"name": "none", "type": "STRING"},
            {"name": "unused", "value": "x"},
        ],
    )
    types = [c["type_text"] for c in data["manifest"]["schema"]["columns"]]
    assert types[:7] == ["STRING", "INT", "BOOLEAN", "BIGINT", "TIMESTAMP", "DATE", "DECIMAL(10,2)"]
    assert data["result"]["data_array"] == [
        [
            "it's; -- not a comment",
            "41",
            "true",
            "9007199254740993",
            "2026-05-12T16:42:00.000Z",
            "2026-05-12",
            "1.50",
            "true",
            "it's; -- not a comment!",
            "42",
        ]
    ]
    unbound = (await run(client, "SELECT :missing"))["status"]
    assert unbound["sql_state"] == "42P02"
    assert unbound["error"]["message"].startswith("[UNBOUND_SQL_PARAMETER]")
    misfit = await run(client, "SELECT :n", parameters=[{"name": "n", "value": "x", "type": "INT"}])
    assert misfit["status"]["error"]["message"].startswith("[INVALID_VALUE_FOR_DATA_TYPE]")
    complex_type = await run(
        client, "SELECT :a", parameters=[{"name": "a", "value": "[1]", "type": "ARRAY<INT>"}]
    )
    assert complex_type["status"]["error"]["message"].startswith(
        "[INVALID_PARAMETER_MARKER_VALUE.INVALID_DATA_TYPE]"
    )
    duplicate = await run(
        client, "SELECT :a", parameters=[{"name": "a", "value": "1"}, {"name": "a", "value": "2"}]
    )
    assert duplicate["status"]["error"]["message"].startswith(
        "[INVALID_PARAMETER_MARKER_VALUE.DUPLICATE_NAME]"
    )


async def test_spark_string_literal_rules(client: httpx.AsyncClient) -> None:
    data = await rows(
        client,
        "SELECT 'it\\'s' AS a, 'a\\\\b' AS b, 'x''y' AS c, 'one\\ntwo' AS d, \"dq\" AS e, "
        "'\\u00e9\\t|' AS f, 'a\\%b' AS g, 'q\\q' AS h",
    )
    assert data == [["it's", "a\\b", "xy", "one\ntwo", "dq", "é\t|", "a\\%b", "qq"]]


async def test_values_are_text_with_databricks_formatting(client: httpx.AsyncClient) -> None:
    data = await ok(
        client,
        "SELECT CAST(1 AS TINYINT) AS ti, CAST(2 AS SMALLINT) AS si, 3 AS i, "
        "9223372036854775807 AS bi, CAST(1.5 AS FLOAT) AS f, CAST(0.1 AS DOUBLE) AS d, "
        "CAST(1e20 AS DOUBLE) AS big, CAST(0.00001 AS DOUBLE) AS small, "
        "CAST(0 AS DECIMAL(10,5)) AS dz, true AS t, DATE'0001-01-01' AS dmin, "
        "TIMESTAMP'2024-01-02 03:04:05.123456' AS ts, "
        "TIMESTAMP'2024-01-02 03:04:05.123456+05:30' AS tz, "
        "TIMESTAMP_NTZ'2024-01-02 03:04:05' AS ntz, X'DEADBEEF' AS bin, "
        "MAP('a', 1) AS m, NAMED_STRUCT('a', 1, 'b', 'x') AS st, "
        "ARRAY(ARRAY(1, 2), ARRAY(3)) AS nested, ARRAY(NULL, 'x') AS with_null, "
        "ARRAY(TIMESTAMP'2024-01-02 03:04:05') AS ts_list, CAST(NULL AS ARRAY<INT>) AS no_list, "
        "NULL AS nothing",
    )
    names = {
        c["name"]: (c["type_text"], c["type_name"]) for c in data["manifest"]["schema"]["columns"]
    }
    assert names == {
        "ti": ("TINYINT", "BYTE"),
        "si": ("SMALLINT", "SHORT"),
        "i": ("INT", "INT"),
        "bi": ("BIGINT", "LONG"),
        "f": ("FLOAT", "FLOAT"),
        "d": ("DOUBLE", "DOUBLE"),
        "big": ("DOUBLE", "DOUBLE"),
        "small": ("DOUBLE", "DOUBLE"),
        "dz": ("DECIMAL(10,5)", "DECIMAL"),
        "t": ("BOOLEAN", "BOOLEAN"),
        "dmin": ("DATE", "DATE"),
        "ts": ("TIMESTAMP", "TIMESTAMP"),
        "tz": ("TIMESTAMP", "TIMESTAMP"),
        "ntz": ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ"),
        "bin": ("BINARY", "BINARY"),
        "m": ("MAP<STRING, INT>", "MAP"),
        "st": ("STRUCT<a: INT, b: STRING>", "STRUCT"),
        "nested": ("ARRAY<ARRAY<INT>>", "ARRAY"),
        "with_null": ("ARRAY<STRING>", "ARRAY"),
        "ts_list": ("ARRAY<TIMESTAMP>", "ARRAY"),
        "no_list": ("ARRAY<INT>", "ARRAY"),
        "nothing": ("VOID", "NULL"),
    }
    assert data["result"]["data_array"] == [
        [
            "1",
            "2",
            "3",
            "9223372036854775807",
            "1.5",
            "0.1",
            "1.0E20",
            "1.0E-5",
            "0.00000",
            "true",
            "0001-01-01",
            "2024-01-02T03:04:05.123Z",
            "2024-01-01T21:34:05.123Z",
            "2024-01-02T03:04:05.000",
            "3q2+7w==",
            '{"a":"1"}',
            '{"a":"1","b":"x"}',
            '[["1","2"],["3"]]',
            '[null,"x"]',
            '["2024-01-02T03:04:05.000Z"]',
            None,
            None,
        ]
    ]


async def test_unaliased_columns_are_named_like_spark(client: httpx.AsyncClient) -> None:
    data = await ok(client, "SELECT 1, 'x', 2.5, count(1) FROM range(2)")
    names = [c["name"] for c in data["manifest"]["schema"]["columns"]]
    assert names[:3] == ["1", "x", "2.5"]
    assert names[3].lower() == "count(1)"


async def test_nulls_sort_first_ascending_like_spark(client: httpx.AsyncClient) -> None:
    assert await rows(client, "SELECT v FROM (VALUES (2), (NULL), (1)) AS t(v) ORDER BY v") == [
        [None],
        ["1"],
        ["2"],
    ]


async def test_constraints_delta_does_not_enforce_are_not_enforced(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, "CREATE TABLE keyed (id INT NOT NULL, CONSTRAINT pk PRIMARY KEY (id))")
    await ok(client, "INSERT INTO keyed VALUES (1)")
    await ok(client, "INSERT INTO keyed VALUES (1)")
    failed = await run(client, "INSERT INTO keyed VALUES (NULL)")
    assert failed["status"]["error"]["message"].startswith("[DELTA_NOT_NULL_CONSTRAINT_VIOLATED]")


async def test_sql_cannot_reach_the_host(client: httpx.AsyncClient) -> None:
    for statement in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/embedded-warehouse-escape.csv'",
        "ATTACH '/tmp/embedded-warehouse-escape.duckdb' AS x",
        "INSTALL httpfs",
        "SET TimeZone = 'Europe/Paris'",
    ):
        data = await run(client, statement)
        if data["status"]["state"] == "SUCCEEDED":
            assert statement.startswith("SET")  # Spark SET: answered, never applied
            continue
        assert data["status"]["state"] == "FAILED", statement
    assert await rows(client, "SELECT hour(TIMESTAMP'2026-05-12 16:42:00')") == [["16"]]


async def test_ddl_and_insert_mistakes_fail_with_spark_classes(client: httpx.AsyncClient) -> None:
    await ok(client, "CREATE SCHEMA s1")
    await ok(client, "CREATE TABLE s1.t (a INT)")
    for statement, error_class in [
        ("CREATE TABLE s1.t (a INT)", "TABLE_OR_VIEW_ALREADY_EXISTS"),
        ("CREATE SCHEMA s1", "SCHEMA_ALREADY_EXISTS"),
        ("DROP SCHEMA s1", "SCHEMA_NOT_EMPTY"),
        ("DROP TABLE s1.nope", "TABLE_OR_VIEW_NOT_FOUND"),
        ("INSERT INTO s1.t VALUES (1, 2)", "INSERT_COLUMN_ARITY_MISMATCH.TOO_MANY_DATA_COLUMNS"),
        ("INSERT INTO s1.t (a, b) VALUES (1, 2)", "UNRESOLVED_COLUMN.WITH_SUGGESTION"),
        ("INSERT INTO s1.t VALUES ('x')", "CAST_INVALID_INPUT"),
        ("SHOW TABLES IN s2", "SCHEMA_NOT_FOUND"),
        ("EXPLAIN SELECT 1", "UNSUPPORTED_FEATURE"),
        ("COMMIT", "NO_ACTIVE_TRANSACTION"),
    ]:
        failed = await run(client, statement)
        assert failed["status"]["state"] == "FAILED", statement
        assert failed["status"]["error"]["message"].startswith(f"[{error_class}]"), failed
    await ok(client, "DROP SCHEMA s1 CASCADE")
    await ok(client, "DROP SCHEMA IF EXISTS s1")
    await ok(client, "BEGIN TRANSACTION")
    await ok(client, "ROLLBACK")
