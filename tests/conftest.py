"""Fixtures every test gets: an isolated IMPACT_REVIEW_HOME, and paths to the fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "fixtures" / "checkout_features.json"


@pytest.fixture(autouse=True)
def impact_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its local state in a fresh folder, never the user's data dir."""
    home = tmp_path_factory.mktemp("impact-home")
    monkeypatch.setenv("IMPACT_REVIEW_HOME", str(home))
    for name in (
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
        "DATABRICKS_SQL_WAREHOUSE_ID",
        "DATABRICKS_WAREHOUSE_ID",
        "DATABRICKS_CONFIG_PROFILE",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(home / "no-databrickscfg"))
    return home
