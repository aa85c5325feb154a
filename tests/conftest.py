"""Fixtures every test gets: an isolated IMPACT_REVIEW_HOME, and paths to the fixtures."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from core.warehouse.client import StatementClient
from core.warehouse.models import StatementStatus

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "fixtures" / "checkout_features.json"
DATABRICKS_VARIABLES = (
    "DATABRICKS_HOST",
    "DATABRICKS_TOKEN",
    "DATABRICKS_SQL_WAREHOUSE_ID",
    "DATABRICKS_WAREHOUSE_ID",
    "DATABRICKS_CONFIG_PROFILE",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_AUTH_TYPE",
)
"""Settings that would point a test at a real workspace; every test runs without them."""


@pytest.fixture(autouse=True)
def impact_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its local state in a fresh folder, never the user's data dir."""
    home = tmp_path_factory.mktemp("impact-home")
    monkeypatch.setenv("IMPACT_REVIEW_HOME", str(home))
    for name in DATABRICKS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(home / "no-databrickscfg"))
    return home


async def final_status(
    client: StatementClient, statement_id: str, within_s: float = 30.0
) -> StatementStatus:
    """The statement's status once it is final. A cancel is asynchronous on the API (callers
    poll for the outcome) and the embedded warehouse's worker stops on its own time, so a
    status read right after the cancel answer may still say RUNNING."""
    deadline = time.monotonic() + within_s
    while (status := await client.statement_status(statement_id)).state in {"PENDING", "RUNNING"}:
        assert time.monotonic() < deadline, f"statement {statement_id} never reached a final state"
        await asyncio.sleep(0.01)
    return status
