"""Fault injection: the spec parser, and each fault as a client sees it on the wire."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from core.embedded import DEFAULT_WAREHOUSE_ID, EmbeddedWarehouse, FaultProfile, parse_faults
from core.embedded.faults import DEMO
from tests.embedded.helpers import STATEMENTS, execute, ok, poll, rows, run, uvicorn_server


def test_fault_specs_parse() -> None:
    assert parse_faults("none") == FaultProfile()
    assert not parse_faults("none").active
    assert parse_faults("demo") == DEMO
    assert DEMO.cold_start_s > 0 and 0.5 <= DEMO.statement_latency_s <= 2
    assert parse_faults(
        "cold_start=2, latency=0.5,429_every=3,503_every=5,retry_after=4,lose=MERGE,fail=DROP"
    ) == FaultProfile(
        cold_start_s=2.0,
        statement_latency_s=0.5,
        rate_limit_every=3,
        unavailable_every=5,
        retry_after_s=4,
        lose_response_pattern="MERGE",
        fail_pattern="DROP",
    )
    assert parse_faults("demo,fail=^INSERT") == FaultProfile(
        cold_start_s=DEMO.cold_start_s,
        statement_latency_s=DEMO.statement_latency_s,
        fail_pattern="^INSERT",
    )
    # A comma inside a regex stays in the regex unless a known key follows it.
    assert parse_faults("fail=a{1,2},latency=1").fail_pattern == "a{1,2}"
    assert parse_faults("latency=1").describe() == "latency=1"


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("", "empty"),
        ("sometimes", "unknown fault"),
        ("latency=soon", "number of seconds"),
        ("429_every=1.5", "whole number"),
        ("latency=-1", "negative"),
        ("fail=(", "regular expression"),
        ("lose=", "regular expression"),
    ],
)
def test_junk_fault_specs_are_refused_clearly(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_faults(spec)


async def test_cold_start_keeps_statements_pending_and_the_warehouse_starting(
    impact_home: Path,
) -> None:
    warehouse = EmbeddedWarehouse(impact_home, faults=FaultProfile(cold_start_s=0.8))
    try:
        async with warehouse.client() as client:
            started = time.monotonic()
            submitted = await execute(client, "SELECT 1", wait_timeout="0s")
            assert submitted.json()["status"] == {"state": "PENDING"}
            state = await client.get(f"/api/2.0/sql/warehouses/{DEFAULT_WAREHOUSE_ID}")
            assert state.json()["state"] == "STARTING"
            done = await poll(client, submitted.json()["statement_id"], {"SUCCEEDED"})
            assert time.monotonic() - started >= 0.8
            assert done["result"]["data_array"] == [["1"]]
            state = await client.get(f"/api/2.0/sql/warehouses/{DEFAULT_WAREHOUSE_ID}")
            assert (state.json()["state"], state.json()["health"]) == (
                "RUNNING",
                {"status": "HEALTHY"},
            )
            # Once started, statements no longer wait.
            quick = await execute(client, "SELECT 2", wait_timeout="5s")
            assert quick.json()["status"]["state"] == "SUCCEEDED"
    finally:
        await warehouse.aclose()


async def test_latency_keeps_each_statement_running(impact_home: Path) -> None:
    warehouse = EmbeddedWarehouse(impact_home, faults=FaultProfile(statement_latency_s=0.2))
    try:
        async with warehouse.client() as client:
            started = time.monotonic()
            submitted = await execute(client, "SELECT 1", wait_timeout="0s")
            statement_id = submitted.json()["statement_id"]
            running = await poll(client, statement_id, {"RUNNING", "SUCCEEDED"})
            await poll(client, statement_id, {"SUCCEEDED"})
            assert time.monotonic() - started >= 0.2
            assert running["status"]["state"] in ("RUNNING", "SUCCEEDED")
            waited = await execute(client, "SELECT 2", wait_timeout="5s")
            assert waited.json()["status"]["state"] == "SUCCEEDED"
    finally:
        await warehouse.aclose()


async def test_every_nth_request_is_rate_limited_or_unavailable(impact_home: Path) -> None:
    faults = FaultProfile(rate_limit_every=3, unavailable_every=4, retry_after_s=7)
    warehouse = EmbeddedWarehouse(impact_home, faults=faults)
    try:
        async with warehouse.client() as client:
            statuses = []
            for _ in range(8):
                response = await client.get("/api/2.0/preview/scim/v2/Me")
                statuses.append(response.status_code)
                if response.status_code in (429, 503):
                    assert response.headers["retry-after"] == "7"
                    body = response.json()
                    expected = (
                        "REQUEST_LIMIT_EXCEEDED"
                        if response.status_code == 429
                        else ("TEMPORARILY_UNAVAILABLE")
                    )
                    assert body["error_code"] == expected
                    assert body["details"][-1]["request_id"] == response.headers["x-request-id"]
            assert statuses == [200, 200, 429, 503, 200, 429, 200, 503]
            # OAuth endpoints are not rate limited.
            assert (await client.get("/oidc/.well-known/oauth-authorization-server")).is_success
    finally:
        await warehouse.aclose()


async def test_a_lost_response_is_a_transport_error_after_the_commit(impact_home: Path) -> None:
    faults = FaultProfile(lose_response_pattern=r"^\s*INSERT")
    warehouse = EmbeddedWarehouse(impact_home, faults=faults)
    try:
        async with warehouse.client() as client:
            await ok(client, "CREATE TABLE landed (a INT)")
            with pytest.raises(httpx.RemoteProtocolError):
                await execute(client, "INSERT INTO landed VALUES (1)")
            with pytest.raises(httpx.TransportError):
                await execute(client, "insert into landed values (2)", wait_timeout="0s")
            assert await rows(client, "SELECT a FROM landed ORDER BY a") == [["1"], ["2"]]
    finally:
        await warehouse.aclose()


async def test_a_lost_response_over_the_network_drops_the_connection(impact_home: Path) -> None:
    warehouse = EmbeddedWarehouse(impact_home, faults=FaultProfile(lose_response_pattern="MERGE"))
    try:
        with uvicorn_server(warehouse.asgi_app()) as base_url:
            headers = {"Authorization": f"Bearer {warehouse.token}"}
            async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
                await ok(client, "CREATE TABLE m (k INT, v STRING)")
                with pytest.raises(httpx.RemoteProtocolError):
                    await execute(
                        client,
                        "MERGE INTO m USING (VALUES (1, 'x')) AS s(k, v) ON m.k = s.k "
                        "WHEN NOT MATCHED THEN INSERT (k, v) VALUES (s.k, s.v)",
                    )
                assert await rows(client, "SELECT k, v FROM m") == [["1", "x"]]
    finally:
        await warehouse.aclose()


async def test_statements_matching_the_fail_pattern_fail_without_running(
    impact_home: Path,
) -> None:
    warehouse = EmbeddedWarehouse(impact_home, faults=FaultProfile(fail_pattern="doomed"))
    try:
        async with warehouse.client() as client:
            await ok(client, "CREATE TABLE kept (a STRING)")
            failed = await run(client, "INSERT INTO kept VALUES ('doomed')")
            assert failed["status"]["state"] == "FAILED"
            assert failed["status"]["error"]["error_code"] == "INTERNAL_ERROR"
            assert failed["status"]["error"]["message"].startswith("[INTERNAL_ERROR]")
            assert failed["status"]["sql_state"] == "XX000"
            assert await rows(client, "SELECT count(*) FROM kept") == [["0"]]
            submitted = await execute(client, "SELECT 'DOOMED'", wait_timeout="0s")
            assert submitted.json()["status"]["state"] == "PENDING"
            final = await poll(client, submitted.json()["statement_id"], {"FAILED", "SUCCEEDED"})
            assert final["status"]["state"] == "FAILED"
            assert (await client.get(f"{STATEMENTS}/{final['statement_id']}")).json() == final
    finally:
        await warehouse.aclose()
