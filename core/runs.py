"""Run records under IMPACT_REVIEW_HOME: what was approved, what ran, and every verification.

Layout, one folder per run so nothing is ever overwritten:

    reports/<report_id>/<run timestamp>/approval.json         who approved which digest, when
    reports/<report_id>/<run timestamp>/approved-handoff.json  the reviewed handoff (rebuilds rows)
    reports/<report_id>/<run timestamp>/run.log               one JSON event per line
    reports/<report_id>/<run timestamp>/result.json           outcome, written when the run ends
    reports/<report_id>/<run timestamp>/<payload files>       as `impact-review render` writes
    reports/<report_id>/verifications.jsonl                   every verification of the report
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from core.handoff import Handoff
from core.home import impact_home
from core.impact_table import ImpactRow, rows_for
from core.payloads import Approval
from core.verification import Verification

_SAFE = re.compile(r"[^A-Za-z0-9._:-]")


def reports_dir(home: Path | None = None) -> Path:
    return (home or impact_home()) / "reports"


def report_dir(report_id: str, home: Path | None = None) -> Path:
    """The folder of one report's runs (report ids are validated, but stay defensive)."""
    return reports_dir(home) / _SAFE.sub("_", report_id)


def new_run_dir(report_id: str, home: Path | None = None, now: datetime | None = None) -> Path:
    """A fresh folder for a run, named by its UTC start time (unique even within a second)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    base = report_dir(report_id, home)
    stem = moment.strftime("%Y%m%dT%H%M%S.%fZ")
    candidate = base / stem
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = base / f"{stem}-{suffix}"
    candidate.mkdir(parents=True)
    return candidate


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so a crash leaves either the old file or the new one, never half of one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))
    os.replace(temporary, path)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def event_json(event: object) -> str:
    """One run event as a JSON line (type name plus fields)."""
    # One encoding pass: the type name is spliced in front of the fields (a verification's
    # rows make the last event of a large run megabytes long).
    fields = json.dumps(event, ensure_ascii=False, default=_json_default)
    head = '{"event": ' + json.dumps(type(event).__name__)
    return head + ("}" if fields == "{}" else ", " + fields[1:])


def save_approval(run_dir: Path, approval: Approval, handoff: Handoff, warehouse: str) -> None:
    write_json_atomic(
        run_dir / "approval.json",
        {
            "approver": approval.approver,
            "approved_at": approval.approved_at.astimezone(UTC).isoformat(),
            "digest": approval.digest,
            "warehouse": warehouse,
        },
    )
    temporary = run_dir / ".approved-handoff.json.tmp"
    # The serializer's bytes, not `model_dump_json`'s text: one copy of a large report, not two.
    temporary.write_bytes(Handoff.__pydantic_serializer__.to_json(handoff, indent=2))
    os.replace(temporary, run_dir / "approved-handoff.json")


def approved_rows(report_id: str, home: Path | None = None) -> tuple[ImpactRow, ...] | None:
    """Rows of the newest run of this report whose upsert ran, or None if there is none."""
    base = report_dir(report_id, home)
    if not base.is_dir():
        return None
    for run in sorted((p for p in base.iterdir() if p.is_dir()), reverse=True):
        result = _read_json(run / "result.json")
        if not result or not result.get("upserted"):
            continue
        document = _read_json(run / "approved-handoff.json")
        if document is None:
            continue
        try:
            return rows_for(Handoff.model_validate(document))
        except ValueError:
            continue
    return None


def approved_table(report_id: str, home: Path | None = None) -> str | None:
    """The target table of the newest approval recorded for this report, if any."""
    base = report_dir(report_id, home)
    if not base.is_dir():
        return None
    for run in sorted((p for p in base.iterdir() if p.is_dir()), reverse=True):
        document = _read_json(run / "approved-handoff.json")
        if isinstance(document, dict):
            table = document.get("report", {}).get("target_table")
            if isinstance(table, str):
                return table
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_verification(
    verification: Verification, home: Path | None = None, now: datetime | None = None
) -> None:
    """Append a verification to the report's history (one JSON object per line)."""
    base = report_dir(verification.report_id, home)
    base.mkdir(parents=True, exist_ok=True)
    line = {
        "at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "ok": verification.ok,
        "summary": verification.summary(),
    }
    with open(base / "verifications.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def last_verification(report_id: str, home: Path | None = None) -> dict[str, Any] | None:
    """The newest recorded verification of a report, if any."""
    path = report_dir(report_id, home) / "verifications.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return record
    return None
