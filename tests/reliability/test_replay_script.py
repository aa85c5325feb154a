"""replay.sh replays the approved statements with curl against a real server (`warehouse serve`):
every statement that always runs, in order; the full read-back, which a run sends only when a
fingerprint disagrees, only when asked for by name."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.loading import load_handoff
from core.payloads import Approval, write_payloads
from core.plan import build_plan
from core.row_fingerprint import row_fingerprint
from tests.reliability.conftest import DEMO, Served

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="replay.sh needs curl")


def _replay(folder: Path, served: Served, *files: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABRICKS_HOST": served.host,
        "DATABRICKS_TOKEN": served.token,
        "DATABRICKS_SQL_WAREHOUSE_ID": served.warehouse_id,
    }
    return subprocess.run(
        ["sh", str(folder / "replay.sh"), *files],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_replay_sends_what_always_runs_and_the_read_back_only_by_name(
    serve_factory: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve_factory()
    plan = build_plan(load_handoff(DEMO))
    approval = Approval(
        "oncall@example.com", datetime(2026, 11, 26, 12, 0, tzinfo=UTC), plan.digest
    )
    write_payloads(plan, tmp_path, warehouse_id="placeholder", approval=approval)
    script = (tmp_path / "replay.sh").read_text(encoding="utf-8")
    assert "# Not sent: 05-verify-rows-detail.json runs only when" in script

    replayed = _replay(tmp_path, served)
    assert replayed.returncode == 0, replayed.stderr
    responses = sorted(path.name for path in tmp_path.glob("*.response"))
    assert responses == [
        "03-create-table.json.response",
        "04-upsert-rows.json.response",
        "05-verify-rows.json.response",
    ]
    answer = json.loads((tmp_path / "05-verify-rows.json.response").read_text(encoding="utf-8"))
    fingerprints = [row[-1] for row in answer["result"]["data_array"]]
    assert fingerprints == [row_fingerprint(row) for row in plan.rows]

    asked = _replay(tmp_path, served, "05-verify-rows-detail.json")
    assert asked.returncode == 0, asked.stderr
    detail = json.loads(
        (tmp_path / "05-verify-rows-detail.json.response").read_text(encoding="utf-8")
    )
    assert [row[9] for row in detail["result"]["data_array"]] == ["checkout-api", "risk-worker"]
