"""The headless commands of the foundation: plan, render, validate, schema, --version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO, REPO
from tui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_prints_the_write_up_plan_and_runbook(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", str(DEMO))
    assert code == 0
    lines = out.splitlines()
    assert lines[:6] == [
        "Plan: Write 2 production-impact row(s) to Databricks for checkout feature pipeline "
        "remediation.",
        "  1. Check Databricks SQL API auth",
        "  2. Write Databricks SQL payload files",
        "  3. Create Databricks impact table",
        "  4. Upsert production impact rows",
        "  5. Verify Databricks impact rows",
    ]
    assert "# Databricks production impact: checkout feature pipeline remediation" in lines
    assert "#   - checkout-api (payments-platform) -> workspace.default.checkout_features" in lines
    assert "#       evidence: risk-worker env references CHECKOUT_FEATURE_TABLE" in lines
    assert "#   - checkout-playground (checkout-dev): non-production namespace" in lines


def test_plan_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", str(DEMO), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["rows"] == 2 and data["valid"] is True
    assert data["skipped"] == [
        {
            "service": "checkout-playground",
            "owner_team": "checkout-dev",
            "reason": "non-production namespace",
        }
    ]
    assert len(data["digest"]) == 64
    runs = {statement["name"]: statement["runs"] for statement in data["statements"]}
    assert runs["verify-rows"] == "always" and runs["create-table"] == "always"
    assert runs["verify-rows-detail"].startswith("runs only when")


def test_render_writes_exactly_what_would_be_posted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(
        capsys,
        "render",
        str(DEMO),
        "--out",
        str(tmp_path),
        "--approver",
        "oncall",
        "--warehouse-id",
        "abc123",
    )
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "03-create-table.json",
        "03-create-table.sql",
        "04-upsert-rows.json",
        "04-upsert-rows.sql",
        "05-verify-rows-detail.json",
        "05-verify-rows-detail.sql",
        "05-verify-rows.json",
        "05-verify-rows.sql",
        "replay.sh",
        "runbook.md",
    ]
    body = json.loads((tmp_path / "04-upsert-rows.json").read_text())
    assert body["warehouse_id"] == "abc123"
    assert body["statement"] + "\n" == (tmp_path / "04-upsert-rows.sql").read_text()
    assert body["parameters"][0] == {"name": "reviewed_by", "value": "oncall", "type": "STRING"}
    assert (tmp_path / "replay.sh").stat().st_mode & 0o111
    assert "DATABRICKS_TOKEN" in (tmp_path / "replay.sh").read_text()
    digest = json.loads(run(capsys, "plan", str(DEMO), "--json")[1])["digest"]
    assert f"digest sha256:{digest}" in out


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(DEMO))
    assert code == 0 and "ok: report annie-dbx-checkout-2044, 2 row(s)" in out


def test_schema_is_the_models_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["title"] == "Handoff"
    assert schema["additionalProperties"] is False
    assert "RiskLevel" in schema["$defs"]


def test_bad_file_exits_2_without_traceback() -> None:
    bad = REPO / "fixtures" / "invalid" / "bad_risk_level.json"
    result = subprocess.run(
        [sys.executable, "-m", "tui", "validate", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith(
        "services[1].risk_level: must be one of low, medium, high, critical"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("impact-review ")
