"""apply / verify / reports from the command line, on the embedded warehouse."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core.executor import open_run_session
from core.warehouse.client import Parameter
from core.warehouse.config import local_connection
from tests.conftest import DEMO
from tui.cli import main

TABLE = "workspace.default.anyshift_production_impact_reports"
WRITE_UP_TABLE = [
    "report_id                  service_name    owner_team           risk_level    "
    "recommended_action",
    "annie-dbx-checkout-2044    checkout-api    payments-platform    high          "
    "pause autonomous pipeline remediation, route to payments-platform, and require owner "
    "approval",
    "annie-dbx-checkout-2044    risk-worker     risk                 medium        "
    "notify risk owner before rerunning the backfill",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sql(home: Path, statement: str, *parameters: Parameter) -> list[list[str | None]]:
    async def work() -> list[list[str | None]]:
        async with open_run_session(local_connection(), home=home) as session:
            return (await session.client.execute(statement, parameters)).rows

    return asyncio.run(work())


def test_apply_prints_the_write_up_table_and_reruns_idempotently(
    capsys: pytest.CaptureFixture[str], impact_home: Path
) -> None:
    code, out, _ = run(capsys, "apply", str(DEMO), "--yes", "--approver", "oncall")
    assert code == 0
    lines = out.splitlines()
    start = lines.index(WRITE_UP_TABLE[0])
    assert lines[start : start + 3] == WRITE_UP_TABLE
    assert "[5/5] Verify Databricks impact rows" in lines
    code, _, _ = run(capsys, "apply", str(DEMO), "--yes")
    assert code == 0
    assert sql(impact_home, f"SELECT COUNT(*) FROM {TABLE}") == [["2"]]


def test_verify_passes_then_names_a_tampered_row_and_field(
    capsys: pytest.CaptureFixture[str], impact_home: Path
) -> None:
    assert run(capsys, "apply", str(DEMO), "--yes")[0] == 0
    code, out, _ = run(capsys, "verify", "annie-dbx-checkout-2044")
    assert code == 0 and "verified: 2 match" in out
    sql(
        impact_home,
        f"UPDATE {TABLE} SET risk_level = 'low' WHERE service_name = :name",
        Parameter("name", "checkout-api"),
    )
    code, out, _ = run(capsys, "verify", "annie-dbx-checkout-2044")
    assert code == 1
    assert "checkout-api: tampered (risk_level: expected 'high', found 'low')" in out
    code, out, _ = run(capsys, "verify", "annie-dbx-checkout-2044", "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["rows"][0]["differences"] == [
        {"column": "risk_level", "expected": "high", "actual": "low"}
    ]


def test_reports_lists_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "reports")[1].startswith("no reports in ")
    run(capsys, "apply", str(DEMO), "--yes", "--approver", "oncall")
    code, out, _ = run(capsys, "reports", "--json")
    (report,) = json.loads(out)
    assert code == 0
    assert report["report_id"] == "annie-dbx-checkout-2044"
    assert report["rows"] == 2 and report["reviewed_by"] == "oncall"
    assert report["last_verification_ok"] is True


def test_apply_without_a_terminal_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "apply", str(DEMO))
    assert code == 2
    assert "refusing to write without approval" in err


def test_failed_statement_exits_3_with_the_servers_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "apply", str(DEMO), "--yes", "--faults", "fail=^MERGE")
    assert code == 3
    assert "[4/5] Upsert production impact rows" in out
    assert "statement: upsert-rows" in err and "statement id: " in err


def test_bad_faults_are_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "apply", str(DEMO), "--yes", "--faults", "sideways=3")
    assert code == 2 and "--faults" in err


def test_databricks_without_credentials_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "apply", str(DEMO), "--yes", "--warehouse", "databricks")
    assert code == 3
    assert "DATABRICKS_HOST" in err and "Traceback" not in err
