"""`impact-review warehouse serve` in a subprocess, driven by the official SDK and by curl."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.embedded.helpers import REPO, Served, start_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_serve(tmp_path_factory.mktemp("serve-home"))
    yield server
    server.stop()


def test_the_databricks_sdk_creates_inserts_merges_and_reads(served: Served) -> None:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.sql import (
        ColumnInfoTypeName,
        StatementParameterListItem,
        StatementState,
    )

    w = WorkspaceClient(host=served.host, token=served.token, auth_type="pat")
    assert w.current_user.me().user_name == "embedded-user@localhost"
    warehouse = w.warehouses.get(served.warehouse_id)
    assert warehouse.name == "Embedded DuckDB warehouse"
    assert warehouse.state is not None and warehouse.state.value == "RUNNING"

    def execute(statement: str, **kwargs: Any) -> Any:
        response = w.statement_execution.execute_statement(
            statement=statement, warehouse_id=served.warehouse_id, wait_timeout="30s", **kwargs
        )
        assert response.status is not None
        assert response.status.state == StatementState.SUCCEEDED, response.status
        return response

    created = execute(
        "CREATE TABLE IF NOT EXISTS workspace.default.sdk_reports (report_id STRING NOT NULL, "
        "service_name STRING, generated_at TIMESTAMP, monitors ARRAY<STRING>) USING DELTA"
    )
    assert created.manifest.schema.column_count == 0
    inserted = execute(
        "INSERT INTO workspace.default.sdk_reports VALUES "
        "('r1', 'checkout', TIMESTAMP '2026-05-12 16:42:00', ARRAY('a', 'b'))"
    )
    assert inserted.result.data_array == [["1", "1"]]
    merged = execute(
        "MERGE INTO workspace.default.sdk_reports AS t USING (VALUES ('r1', 'checkout', "
        ":at), ('r1', 'ledger', :at)) AS s(report_id, service_name, generated_at) "
        "ON t.report_id = s.report_id AND t.service_name = s.service_name "
        "WHEN MATCHED THEN UPDATE SET generated_at = s.generated_at "
        "WHEN NOT MATCHED THEN INSERT (report_id, service_name, generated_at, monitors) "
        "VALUES (s.report_id, s.service_name, s.generated_at, ARRAY())",
        parameters=[
            StatementParameterListItem(name="at", value="2026-05-13 09:00:00", type="TIMESTAMP")
        ],
    )
    assert merged.result.data_array == [["2", "1", "0", "1"]]
    selected = execute(
        "SELECT report_id, service_name, generated_at, monitors "
        "FROM workspace.default.sdk_reports WHERE report_id = :id ORDER BY service_name",
        parameters=[StatementParameterListItem(name="id", value="r1")],
    )
    columns = selected.manifest.schema.columns
    assert [c.type_name for c in columns] == [
        ColumnInfoTypeName.STRING,
        ColumnInfoTypeName.STRING,
        ColumnInfoTypeName.TIMESTAMP,
        ColumnInfoTypeName.ARRAY,
    ]
    assert [c.type_text for c in columns] == ["STRING", "STRING", "TIMESTAMP", "ARRAY<STRING>"]
    assert selected.result.data_array == [
        ["r1", "checkout", "2026-05-13T09:00:00.000Z", '["a","b"]'],
        ["r1", "ledger", "2026-05-13T09:00:00.000Z", "[]"],
    ]
    # Polling through the SDK: submit without waiting, then get the statement.
    pending = w.statement_execution.execute_statement(
        statement="SELECT 1", warehouse_id=served.warehouse_id, wait_timeout="0s"
    )
    assert pending.status is not None and pending.status.state == StatementState.PENDING
    assert pending.statement_id is not None
    for _ in range(1000):
        polled = w.statement_execution.get_statement(pending.statement_id)
        if polled.status is not None and polled.status.state == StatementState.SUCCEEDED:
            break
        time.sleep(0.01)
    assert polled.result is not None and polled.result.data_array == [["1"]]


def test_the_sdk_signs_in_with_oauth_m2m(served: Served) -> None:
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient(
        host=served.host,
        client_id=served.client_id,
        client_secret=served.client_secret,
        auth_type="oauth-m2m",
    )
    assert w.current_user.me().user_name == served.client_id


def test_sql_errors_reach_the_sdk_as_failed_statements(served: Served) -> None:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotFound, PermissionDenied
    from databricks.sdk.service.sql import StatementState

    w = WorkspaceClient(host=served.host, token=served.token, auth_type="pat")
    failed = w.statement_execution.execute_statement(
        statement="SELECT * FROM workspace.default.absent", warehouse_id=served.warehouse_id
    )
    assert failed.status is not None and failed.status.state == StatementState.FAILED
    assert failed.status.error is not None and failed.status.error.message is not None
    assert failed.status.error.message.startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    with pytest.raises(NotFound):
        w.statement_execution.get_statement("01f1c46b-c6a4-1a9a-9f97-7eff37bf8459")
    bad = WorkspaceClient(host=served.host, token="dapi-not-the-token", auth_type="pat")
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        bad.current_user.me()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_creates_inserts_and_selects(served: Served) -> None:
    def curl(statement: str) -> dict[str, Any]:
        body = json.dumps(
            {
                "warehouse_id": served.warehouse_id,
                "catalog": "workspace",
                "schema": "default",
                "statement": statement,
                "wait_timeout": "30s",
            }
        )
        completed = subprocess.run(
            [
                "curl",
                "--silent",
                "--show-error",
                "--fail-with-body",
                "--request",
                "POST",
                f"{served.host}/api/2.0/sql/statements/",
                "--header",
                f"Authorization: Bearer {served.token}",
                "--header",
                "Content-Type: application/json",
                "--data",
                "@-",
            ],
            input=body,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        answer: dict[str, Any] = json.loads(completed.stdout)
        assert answer["status"]["state"] == "SUCCEEDED", answer
        return answer

    curl("CREATE TABLE IF NOT EXISTS curl_demo (id BIGINT, name STRING, seen TIMESTAMP)")
    inserted = curl(
        "INSERT INTO curl_demo VALUES (1, 'it\\'s curl', TIMESTAMP '2026-05-12 16:42:00'), "
        "(2, NULL, NULL)"
    )
    assert inserted["result"]["data_array"] == [["2", "2"]]
    selected = curl("SELECT id, name, seen FROM curl_demo ORDER BY id")
    assert selected["manifest"]["schema"]["columns"][0]["type_name"] == "LONG"
    assert selected["result"]["data_array"] == [
        ["1", "it's curl", "2026-05-12T16:42:00.000Z"],
        ["2", None, None],
    ]


def test_a_restart_keeps_the_data_and_the_token(tmp_path: Path) -> None:
    first = start_serve(tmp_path)
    try:
        headers = {"Authorization": f"Bearer {first.token}"}
        body = {"warehouse_id": first.warehouse_id, "wait_timeout": "30s"}
        with httpx.Client(base_url=first.host, headers=headers) as client:
            for statement in ("CREATE TABLE kept (a STRING)", "INSERT INTO kept VALUES ('x')"):
                answer = client.post(
                    "/api/2.0/sql/statements", json={**body, "statement": statement}
                )
                assert answer.json()["status"]["state"] == "SUCCEEDED"
    finally:
        assert first.stop() == 0
    second = start_serve(tmp_path)
    try:
        assert second.token == first.token
        headers = {"Authorization": f"Bearer {second.token}"}
        with httpx.Client(base_url=second.host, headers=headers) as client:
            answer = client.post(
                "/api/2.0/sql/statements", json={**body, "statement": "SELECT a FROM kept"}
            )
            assert answer.json()["result"]["data_array"] == [["x"]]
    finally:
        second.stop()


def test_serve_refuses_a_non_loopback_bind_and_junk_faults(tmp_path: Path) -> None:
    def serve(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui", "warehouse", "serve", *args],
            cwd=REPO,
            env={"IMPACT_REVIEW_HOME": str(tmp_path), "PATH": ""},
            capture_output=True,
            text=True,
            timeout=60,
        )

    remote = serve("--host", "0.0.0.0", "--port", "0")
    assert remote.returncode == 2
    assert "--allow-remote" in remote.stderr and remote.stdout == ""
    junk = serve("--faults", "sometimes", "--port", "0")
    assert junk.returncode == 2
    assert "unknown fault" in junk.stderr
