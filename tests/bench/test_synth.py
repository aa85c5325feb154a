"""The synthetic handoff generator: valid, deterministic, hostile, and the `synth` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.loading import load_handoff
from core.plan import build_plan
from core.synth import HOSTILE_FRAGMENTS, synth_document, synth_handoff, synth_json
from tui.cli import main


@pytest.mark.parametrize(("services", "seed"), [(1, 0), (7, 1), (300, 2)])
def test_synth_output_is_a_valid_handoff_with_a_valid_plan(services: int, seed: int) -> None:
    handoff = synth_handoff(services, seed=seed)
    assert len(handoff.services) == services
    plan = build_plan(handoff)
    if plan.rows:
        assert plan.is_valid, plan.issues()


def test_synth_is_deterministic_for_a_seed() -> None:
    assert synth_json(120, seed=9) == synth_json(120, seed=9)
    assert synth_json(120, seed=9) != synth_json(120, seed=10)


def test_synth_has_the_shape_of_a_real_report() -> None:
    handoff = synth_handoff(500, seed=4)
    services = handoff.services
    assert len({s.owner_team for s in services}) >= 20
    monitors = {m for s in services for m in s.active_monitors}
    assert len(monitors) >= 30
    skipped = [s for s in services if not s.production]
    assert 0 < len(skipped) < len(services) // 4
    assert all(s.skip_reason for s in skipped)
    assert max(len(s.evidence) for s in services) > 1_000
    text = synth_json(500, seed=4)
    found = [fragment for fragment in HOSTILE_FRAGMENTS if json.dumps(fragment)[1:-1] in text]
    assert len(found) >= len(HOSTILE_FRAGMENTS) // 2
    assert "'; DROP TABLE x; --" in handoff.report.investigation


def test_synth_refuses_an_empty_report() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        synth_document(0)


def test_synth_command_writes_a_loadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "big.json"
    assert main(["synth", "--services", "25", "--seed", "3", "--out", str(out)]) == 0
    assert load_handoff(out) == synth_handoff(25, seed=3)
    assert out.read_text(encoding="utf-8") == synth_json(25, seed=3)
    assert "25 services" in capsys.readouterr().out


def test_synth_command_rejects_a_bad_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["synth", "--services", "0", "--out", str(tmp_path / "x.json")])
    assert code == 2
    assert "at least 1" in capsys.readouterr().err
