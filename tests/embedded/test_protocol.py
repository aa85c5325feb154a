"""The Statement Execution API on the wire: shapes, lifecycle, limits and request errors.

Every test goes through the real httpx client and the in-process transport; expected bodies are
the ones recorded from real Databricks traffic where one exists.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from core.embedded import DEFAULT_WAREHOUSE_ID, EmbeddedWarehouse, FaultProfile
from tests.embedded.helpers import STATEMENTS, execute, ok, poll, rows, run

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
LONG = {"type_text": "BIGINT", "type_name": "LONG"}


def columns(data: dict[str, object]) -> list[tuple[str, str, str]]:
    manifest = data["manifest"]
    assert isinstance(manifest, dict)
    return [(c["name"], c["type_text"], c["type_name"]) for c in manifest["schema"]["columns"]]


async def test_select_answers_the_recorded_shape(client: httpx.AsyncClient) -> None:
    response = await execute(client, "SELECT 1 AS a, 'x' AS b")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    data = response.json()
    assert list(data) == ["statement_id", "status", "manifest", "result"]
    assert UUID.match(data["statement_id"])
    assert data["status"] == {"state": "SUCCEEDED"}
    assert data["manifest"] == {
        "format": "JSON_ARRAY",
        "schema": {
            "column_count": 2,
            "columns": [
                {"name": "a", "type_text": "INT", "type_name": "INT", "position": 0},
                {"name": "b", "type_text": "STRING", "type_name": "STRING", "position": 1},
            ],
        },
        "total_chunk_count": 1,
        "chunks": [{"chunk_index": 0, "row_offset": 0, "row_count": 1}],
        "total_row_count": 1,
        "truncated": False,
    }
    assert data["result"] == {
        "chunk_index": 0,
        "row_offset": 0,
        "row_count": 1,
        "data_array": [["1", "x"]],
    }


async def test_trailing_slash_and_query_string_are_the_same_endpoint(
    client: httpx.AsyncClient,
) -> None:
    body = {"warehouse_id": DEFAULT_WAREHOUSE_ID, "statement": "SELECT 2", "wait_timeout": "5s"}
    for path in (STATEMENTS + "/", STATEMENTS + "?x=1"):
        response = await client.post(path, json=body)
        assert response.status_code == 200
        assert response.json()["result"]["data_array"] == [["2"]]


async def test_ddl_and_dml_answer_their_databricks_shapes(client: httpx.AsyncClient) -> None:
    ddl = await ok(client, "CREATE TABLE t (id INT, name STRING)")
    assert ddl["manifest"] == {
        "format": "JSON_ARRAY",
        "schema": {"column_count": 0},
        "total_chunk_count": 0,
        "total_row_count": 0,
        "truncated": False,
    }
    assert ddl["result"] == {}

    insert = await ok(client, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    assert columns(insert) == [
        ("num_affected_rows", "BIGINT", "LONG"),
        ("num_inserted_rows", "BIGINT", "LONG"),
    ]
    assert insert["result"]["data_array"] == [["3", "3"]]

    update = await ok(client, "UPDATE t SET name = 'z' WHERE id >= 2")
    assert columns(update) == [("num_affected_rows", "BIGINT", "LONG")]
    assert update["result"]["data_array"] == [["2"]]

    delete = await ok(client, "DELETE FROM t WHERE id = 3")
    assert update["manifest"]["schema"] == delete["manifest"]["schema"]
    assert delete["result"]["data_array"] == [["1"]]

    merge = await ok(
        client,
        "MERGE INTO t USING (VALUES (1, 'one'), (9, 'nine')) AS s(id, name) ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET name = s.name "
        "WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)",
    )
    assert columns(merge) == [
        ("num_affected_rows", "BIGINT", "LONG"),
        ("num_updated_rows", "BIGINT", "LONG"),
        ("num_deleted_rows", "BIGINT", "LONG"),
        ("num_inserted_rows", "BIGINT", "LONG"),
    ]
    assert merge["result"]["data_array"] == [["2", "1", "0", "1"]]

    merge_delete = await ok(
        client,
        "MERGE INTO t USING (VALUES (2)) AS s(id) ON t.id = s.id WHEN MATCHED THEN DELETE",
    )
    assert merge_delete["result"]["data_array"] == [["1", "0", "1", "0"]]

    ctas = await ok(client, "CREATE TABLE t2 AS SELECT * FROM t")
    assert columns(ctas) == [
        ("num_affected_rows", "BIGINT", "LONG"),
        ("num_inserted_rows", "BIGINT", "LONG"),
    ]
    assert ctas["manifest"]["total_row_count"] == 0 and ctas["result"] == {}
    assert await rows(client, "SELECT id, name FROM t2 ORDER BY id") == [
        ["1", "one"],
        ["9", "nine"],
    ]


async def test_an_empty_result_keeps_its_columns(client: httpx.AsyncClient) -> None:
    data = await ok(client, "SELECT 1 AS a WHERE 1 = 0")
    assert data["manifest"]["schema"]["columns"][0]["name"] == "a"
    assert data["manifest"]["total_chunk_count"] == 0
    assert "chunks" not in data["manifest"]
    assert data["result"] == {}


async def test_wait_timeout_zero_answers_pending_then_polls_to_the_result(
    client: httpx.AsyncClient,
) -> None:
    response = await execute(client, "SELECT 42 AS answer", wait_timeout="0s")
    assert response.json() == {
        "statement_id": response.json()["statement_id"],
        "status": {"state": "PENDING"},
    }
    done = await poll(client, response.json()["statement_id"], {"SUCCEEDED"})
    assert done["result"]["data_array"] == [["42"]]
    again = await client.get(f"{STATEMENTS}/{done['statement_id']}")
    assert again.json() == done


async def test_a_failed_statement_is_http_200_with_the_spark_error(
    client: httpx.AsyncClient,
) -> None:
    response = await execute(client, "SELECT * FROM workspace.default.missing")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"statement_id", "status"}
    status = data["status"]
    assert status["state"] == "FAILED"
    assert status["sql_state"] == "42P01"
    assert status["error"]["error_code"] == "BAD_REQUEST"
    assert status["error"]["message"].startswith(
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `workspace`.`default`.`missing` cannot be "
        "found."
    )
    assert "SQLSTATE: 42P01" in status["error"]["message"]
    assert "uc_" not in status["error"]["message"]

    syntax = (await run(client, "SELEC 1"))["status"]
    assert syntax["sql_state"] == "42601"
    assert syntax["error"]["message"].startswith(
        "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601"
    )
    for statement, error_class, state in [
        ("", "PARSE_EMPTY_STATEMENT", "42617"),
        ("SELECT 1; SELECT 2", "PARSE_SYNTAX_ERROR", "42601"),
        ("SELECT nope FROM (SELECT 1 AS yes)", "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"),
        ("SELECT no_such_function(1)", "UNRESOLVED_ROUTINE", "42883"),
        ("SELECT CAST('abc' AS INT)", "CAST_INVALID_INPUT", "22018"),
        ("SELECT 1 / 0", "DIVIDE_BY_ZERO", "22012"),
        ("SELECT 2147483647 + 1", "ARITHMETIC_OVERFLOW", "22003"),
        ("SELECT * FROM workspace.nope.t", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
        ("SELECT * FROM nosuchcatalog.default.t", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    ]:
        failed = (await run(client, statement))["status"]
        assert failed["state"] == "FAILED", statement
        assert failed["error"]["message"].startswith(f"[{error_class}]"), failed
        assert failed["sql_state"] == state, statement
    # A failed statement reads back the same.
    again = await client.get(f"{STATEMENTS}/{data['statement_id']}")
    assert again.json() == data


async def test_request_errors_have_the_recorded_bodies(client: httpx.AsyncClient) -> None:
    async def post(body: object) -> httpx.Response:
        return await client.post(STATEMENTS, json=body)

    too_long = await execute(client, "SELECT 1", wait_timeout="51s")
    assert too_long.status_code == 400
    body = too_long.json()
    message = (
        "The wait_timeout field must be 0 seconds (disables wait), or between 5 seconds and "
        "50 seconds."
    )
    request_id = too_long.headers["x-request-id"]
    assert body == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": message,
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "field_violations": [{"field": "wait_timeout", "description": message}],
            },
            {
                "@type": "type.googleapis.com/google.rpc.RequestInfo",
                "request_id": request_id,
                "serving_data": "",
            },
        ],
    }
    assert (await execute(client, "SELECT 1", wait_timeout="4s")).status_code == 400
    text = await execute(client, "SELECT 1", wait_timeout="soon")
    assert (text.status_code, text.json()["message"]) == (
        400,
        "Error while parsing type: duration.",
    )

    for payload in ({}, {"statement": "SELECT 1"}):
        missing = await post(payload)
        assert missing.status_code == 400
        assert missing.json()["error_code"] == "BAD_REQUEST"
        assert missing.json()["message"] == "Required field is not specified: warehouse_id."
    no_statement = await post({"warehouse_id": DEFAULT_WAREHOUSE_ID})
    assert no_statement.json()["message"] == "Required field is not specified: statement."
    empty_body = await client.post(STATEMENTS, content=b"")
    assert empty_body.json()["message"] == "Required field is not specified: warehouse_id."

    malformed = await client.post(STATEMENTS, content=b"{not json")
    assert malformed.status_code == 400
    assert malformed.json()["error_code"] == "MALFORMED_REQUEST"

    bad_id = await post({"warehouse_id": "nosuch", "statement": "SELECT 1"})
    assert (bad_id.status_code, bad_id.json()["error_code"], bad_id.json()["message"]) == (
        400,
        "INVALID_PARAMETER_VALUE",
        "nosuch is not a valid endpoint id.",
    )
    other = await post({"warehouse_id": "1111222233334444", "statement": "SELECT 1"})
    assert (other.status_code, other.json()["error_code"]) == (403, "PERMISSION_DENIED")

    csv = await execute(client, "SELECT 1", format="CSV", disposition="INLINE")
    assert csv.status_code == 400
    assert csv.json()["message"] == (
        "Incompatible parameters: The format field must be JSON_ARRAY when the disposition "
        "field is INLINE."
    )
    assert (await execute(client, "SELECT 1", disposition="EXTERNAL_LINKS")).status_code == 400
    for field, value in (("row_limit", -1), ("byte_limit", 0), ("byte_limit", 26_214_401)):
        limited = await execute(client, "SELECT 1", **{field: value})
        assert (limited.status_code, limited.json()["error_code"]) == (
            400,
            "INVALID_PARAMETER_VALUE",
        )
    huge = await execute(client, "SELECT '" + "x" * (16 * 1024 * 1024) + "'")
    assert (huge.status_code, huge.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    # Unknown values of optional enums are ignored, as the service does.
    assert (await execute(client, "SELECT 1", on_wait_timeout="LATER")).status_code == 200


async def test_statement_ids_are_checked_and_unknown_ones_are_404(
    client: httpx.AsyncClient,
) -> None:
    malformed = await client.get(f"{STATEMENTS}/not-an-id")
    assert (malformed.status_code, malformed.json()["message"]) == (
        400,
        "Error while parsing type: statement_id.",
    )
    unknown = "01f1c46b-c6a4-1a9a-9f97-7eff37bf8459"
    for response in (
        await client.get(f"{STATEMENTS}/{unknown}"),
        await client.get(f"{STATEMENTS}/{unknown}/result/chunks/0"),
    ):
        assert response.status_code == 404
        assert response.json()["error_code"] == "NOT_FOUND"
    cancel = await client.post(f"{STATEMENTS}/{unknown}/cancel", json={})
    assert (cancel.status_code, cancel.json()) == (200, {})


async def test_unknown_routes_are_a_clean_404(client: httpx.AsyncClient) -> None:
    for method, path, shown in [
        ("PUT", STATEMENTS, "PUT /sql/statements"),
        ("GET", STATEMENTS, "GET /sql/statements"),
        ("POST", "/api/2.0/sql/statements/execute", "POST /sql/statements/execute"),
        ("GET", "/.well-known/other", "GET /.well-known/other"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 404
        assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
        assert response.json()["message"] == f"No API found for '{shown}'"


async def test_row_and_byte_limits_truncate(client: httpx.AsyncClient) -> None:
    limited = await ok(client, "SELECT id FROM range(100) AS r(id) ORDER BY id", row_limit=10)
    assert limited["manifest"]["truncated"] is True
    assert limited["manifest"]["total_row_count"] == 10
    assert limited["result"]["data_array"][-1] == ["9"]
    exact = await ok(client, "SELECT id FROM range(10) AS r(id)", row_limit=10)
    assert exact["manifest"]["truncated"] is False
    none = await ok(client, "SELECT id FROM range(3) AS r(id)", row_limit=0)
    assert (none["manifest"]["truncated"], none["manifest"]["total_row_count"]) == (True, 0)
    assert none["result"] == {}
    # As recorded: a byte limit smaller than the first chunk yields no rows at all.
    small = await ok(client, "SELECT id FROM range(3000) AS r(id)", byte_limit=1000)
    assert (small["manifest"]["truncated"], small["manifest"]["total_row_count"]) == (True, 0)
    fits = await ok(client, "SELECT id FROM range(3) AS r(id)", byte_limit=1000)
    assert (fits["manifest"]["truncated"], fits["manifest"]["total_row_count"]) == (False, 3)


async def test_the_inline_cap_fails_a_result_over_25_mib(client: httpx.AsyncClient) -> None:
    data = await run(client, "SELECT repeat('x', 1048576) AS blob FROM range(26)")
    assert data["status"]["state"] == "FAILED"
    assert data["status"]["error"]["message"].startswith("[INLINE_RESULT_TOO_LARGE]")
    assert "manifest" not in data


async def test_chunks_are_walked_by_their_internal_links(impact_home: Path) -> None:
    warehouse = EmbeddedWarehouse(impact_home, chunk_bytes=2048)
    try:
        async with warehouse.client() as client:
            data = await ok(
                client, "SELECT id, 'row ' || id AS label FROM range(500) AS r(id) ORDER BY id"
            )
            manifest = data["manifest"]
            assert manifest["total_chunk_count"] > 3
            assert manifest["total_row_count"] == 500
            assert len(manifest["chunks"]) == manifest["total_chunk_count"]
            seen: list[list[str | None]] = []
            chunk = data["result"]
            while True:
                position = chunk["chunk_index"]
                assert chunk["row_offset"] == len(seen)
                assert chunk["row_count"] == manifest["chunks"][position]["row_count"]
                seen.extend(chunk["data_array"])
                link = chunk.get("next_chunk_internal_link")
                if link is None:
                    assert "next_chunk_index" not in chunk
                    break
                assert chunk["next_chunk_index"] == position + 1
                assert link == f"{STATEMENTS}/{data['statement_id']}/result/chunks/{position + 1}"
                response = await client.get(link)
                assert response.status_code == 200
                chunk = response.json()
            assert position == manifest["total_chunk_count"] - 1
            assert seen == [[str(i), f"row {i}"] for i in range(500)]
            # Chunks can be read in any order, and the first one again.
            last = await client.get(f"{STATEMENTS}/{data['statement_id']}/result/chunks/{position}")
            assert last.json() == chunk
            first = await client.get(f"{STATEMENTS}/{data['statement_id']}/result/chunks/0")
            assert first.json() == data["result"]
            beyond = await client.get(
                f"{STATEMENTS}/{data['statement_id']}/result/chunks/{position + 1}"
            )
            assert (beyond.status_code, beyond.json()["message"]) == (
                400,
                f"The chunk_index {position + 1} is out of bounds.",
            )
    finally:
        await warehouse.aclose()


async def test_result_chunks_of_a_failed_statement_are_404(client: httpx.AsyncClient) -> None:
    failed = await run(client, "SELECT * FROM missing_table")
    response = await client.get(f"{STATEMENTS}/{failed['statement_id']}/result/chunks/0")
    assert (response.status_code, response.json()["error_code"]) == (404, "NOT_FOUND")
    assert "should be SUCCEEDED" in response.json()["message"]


async def test_cancel_during_running_discards_the_statement(impact_home: Path) -> None:
    warehouse = EmbeddedWarehouse(impact_home, faults=FaultProfile(statement_latency_s=60))
    try:
        async with warehouse.client() as client:
            submitted = await execute(client, "CREATE TABLE never (a INT)", wait_timeout="0s")
            statement_id = submitted.json()["statement_id"]
            await poll(client, statement_id, {"RUNNING"})
            cancel = await client.post(f"{STATEMENTS}/{statement_id}/cancel", json={})
            assert (cancel.status_code, cancel.json()) == (200, {})
            done = await poll(client, statement_id, {"CANCELED", "SUCCEEDED", "FAILED"})
            assert done == {"statement_id": statement_id, "status": {"state": "CANCELED"}}
        assert warehouse.run_sql("SHOW TABLES IN workspace.default").total_row_count == 0
    finally:
        await warehouse.aclose()


async def test_cancel_interrupts_sql_that_is_really_running(client: httpx.AsyncClient) -> None:
    heavy = "SELECT sum(a.id * b.id) FROM range(100000000) AS a(id), range(100000) AS b(id)"
    submitted = await execute(client, heavy, wait_timeout="0s")
    statement_id = submitted.json()["statement_id"]
    await poll(client, statement_id, {"RUNNING"})
    await client.post(f"{STATEMENTS}/{statement_id}/cancel", json={})
    done = await poll(client, statement_id, {"CANCELED", "SUCCEEDED", "FAILED"}, within_s=10)
    assert done["status"] == {"state": "CANCELED"}


async def test_cancel_of_a_finished_statement_leaves_it_alone(client: httpx.AsyncClient) -> None:
    data = await ok(client, "SELECT 1")
    await client.post(f"{STATEMENTS}/{data['statement_id']}/cancel", json={})
    assert (await client.get(f"{STATEMENTS}/{data['statement_id']}")).json() == data


async def test_on_wait_timeout_cancel_and_continue(impact_home: Path) -> None:
    warehouse = EmbeddedWarehouse(impact_home, faults=FaultProfile(statement_latency_s=60))
    try:
        async with warehouse.client() as client:
            cancelled, continued = await asyncio.gather(
                execute(client, "SELECT 1", wait_timeout="5s", on_wait_timeout="CANCEL"),
                execute(client, "SELECT 2", wait_timeout="5s"),
            )
            assert cancelled.json()["status"] == {"state": "CANCELED"}
            assert continued.json()["status"] == {"state": "RUNNING"}
            assert set(continued.json()) == {"statement_id", "status"}
    finally:
        await warehouse.aclose()


async def test_close_drops_the_result(client: httpx.AsyncClient) -> None:
    data = await ok(client, "SELECT 1")
    statement_id = data["statement_id"]
    closed = await client.delete(f"{STATEMENTS}/{statement_id}")
    assert (closed.status_code, closed.json()) == (200, {})
    after = await client.get(f"{STATEMENTS}/{statement_id}")
    assert after.json() == {"statement_id": statement_id, "status": {"state": "CLOSED"}}
    chunk = await client.get(f"{STATEMENTS}/{statement_id}/result/chunks/0")
    assert chunk.status_code == 404


async def test_results_expire_then_the_statement_is_forgotten(impact_home: Path) -> None:
    warehouse = EmbeddedWarehouse(impact_home, result_ttl_s=0.05)
    try:
        async with warehouse.client() as client:
            data = await ok(client, "SELECT 1")
            statement_id = data["statement_id"]
            closed = await poll(client, statement_id, {"CLOSED"}, within_s=5)
            assert closed == {"statement_id": statement_id, "status": {"state": "CLOSED"}}
            chunk = await client.get(f"{STATEMENTS}/{statement_id}/result/chunks/0")
            assert chunk.status_code == 404
            for _ in range(1000):
                response = await client.get(f"{STATEMENTS}/{statement_id}")
                if response.status_code == 404:
                    break
                assert response.json()["status"]["state"] == "CLOSED"
                await asyncio.sleep(0.01)
            assert response.status_code == 404
            assert response.json()["error_code"] == "NOT_FOUND"
    finally:
        await warehouse.aclose()


async def test_authentication_failures_have_the_real_bodies(
    client: httpx.AsyncClient, warehouse: EmbeddedWarehouse
) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Basic dXNlcjpwdw=="}):
        missing = await client.get("/api/2.0/preview/scim/v2/Me", headers=headers)
        assert missing.status_code == 401
        body = missing.json()
        assert body["error_code"] == 401
        assert re.fullmatch(
            r"Credential was not sent or was of an unsupported type for this API\. "
            r"\[ReqId: [0-9a-f-]{36}\]",
            body["message"],
        )
    wrong = await execute(client, "SELECT 1", wait_timeout="0s")
    assert wrong.status_code == 200
    denied = await client.post(
        STATEMENTS,
        json={"warehouse_id": DEFAULT_WAREHOUSE_ID, "statement": "SELECT 1"},
        headers={"Authorization": "Bearer dapi-wrong"},
    )
    assert denied.status_code == 403
    assert denied.headers["x-databricks-reason-phrase"] == "Invalid access token."
    assert denied.json() == {
        "error_code": 403,
        "message": f"Invalid access token. [ReqId: {denied.headers['x-request-id']}]",
    }
    assert warehouse.token not in denied.text
    assert "dapi-wrong" not in denied.text


async def test_token_is_persisted_privately_and_stable(impact_home: Path) -> None:
    first = EmbeddedWarehouse(impact_home)
    await first.aclose()
    second = EmbeddedWarehouse(impact_home)
    await second.aclose()
    assert first.token == second.token and first.token.startswith("dapi")
    assert first.oauth_client_secret == second.oauth_client_secret
    for name in ("token", "oauth-client.json"):
        assert (impact_home / "warehouse" / name).stat().st_mode & 0o777 == 0o600


async def test_a_second_instance_on_the_same_data_is_refused(
    warehouse: EmbeddedWarehouse, impact_home: Path
) -> None:
    try:
        EmbeddedWarehouse(impact_home)
    except RuntimeError as error:
        assert "already open" in str(error)
    else:
        raise AssertionError("a second instance on the same data folder was allowed")


async def test_data_survives_a_restart(impact_home: Path) -> None:
    first = EmbeddedWarehouse(impact_home)
    async with first.client() as client:
        await ok(client, "CREATE TABLE main.default.kept (a STRING)")
        await ok(client, "INSERT INTO main.default.kept VALUES ('still here')")
    await first.aclose()
    second = EmbeddedWarehouse(impact_home)
    try:
        async with second.client() as client:
            assert await rows(client, "SELECT a FROM main.default.kept") == [["still here"]]
    finally:
        await second.aclose()
