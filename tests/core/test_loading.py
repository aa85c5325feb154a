"""Loading handoff files: the demo loads; every broken file gets one precise, path-named message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.handoff import RiskLevel
from core.loading import HandoffError, load_handoff, parse_handoff
from tests.conftest import DEMO, REPO

INVALID = sorted((REPO / "fixtures" / "invalid").glob("*.json"))
EXPECTED: dict[str, str] = json.loads((REPO / "fixtures" / "invalid_expected.json").read_text())


def test_demo_reproduces_the_write_up() -> None:
    handoff = load_handoff(DEMO)
    assert handoff.report.id == "annie-dbx-checkout-2044"
    assert handoff.report.target_table == "workspace.default.anyshift_production_impact_reports"
    written = {s.name: s for s in handoff.services if s.written}
    assert sorted(written) == ["checkout-api", "risk-worker"]
    assert written["checkout-api"].owner_team == "payments-platform"
    assert written["checkout-api"].risk_level is RiskLevel.HIGH
    assert written["risk-worker"].risk_level is RiskLevel.MEDIUM
    skipped = handoff.service("checkout-playground")
    assert not skipped.written and skipped.skip_reason == "non-production namespace"


def test_every_invalid_fixture_has_an_expectation() -> None:
    assert {path.name for path in INVALID} == set(EXPECTED)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_fails_with_its_message(path: Path) -> None:
    with pytest.raises(HandoffError) as caught:
        load_handoff(path)
    assert [str(problem) for problem in caught.value.problems] == [EXPECTED[path.name]]


def _demo_document() -> dict[str, object]:
    document: dict[str, object] = json.loads(DEMO.read_text())
    return document


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(DEMO.read_text())
    with pytest.raises(HandoffError, match="over the 100-byte limit"):
        load_handoff(path, max_bytes=100)


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(HandoffError, match="duplicate key 'a'"):
        parse_handoff('{"a": 1, "a": 2}')


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(HandoffError, match="nesting"):
        parse_handoff("[" * 5000 + "]" * 5000)


def test_nul_characters_are_refused() -> None:
    document = _demo_document()
    services = document["services"]
    assert isinstance(services, list)
    services[0]["evidence"] = "a\x00b"
    with pytest.raises(HandoffError) as caught:
        parse_handoff(json.dumps(document))
    assert [str(p) for p in caught.value.problems] == [
        "services[0].evidence: must not contain NUL characters"
    ]


def test_several_problems_are_all_reported() -> None:
    document = _demo_document()
    services = document["services"]
    assert isinstance(services, list)
    services[0]["risk_level"] = "severe"
    services[1]["colour"] = "blue"
    with pytest.raises(HandoffError) as caught:
        parse_handoff(json.dumps(document), source="x.json")
    assert caught.value.render().splitlines() == [
        "x.json: services[0].risk_level: must be one of low, medium, high, critical",
        "x.json: services[1].colour: unknown field",
    ]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HandoffError, match="no such file"):
        load_handoff(tmp_path / "absent.json")


@pytest.mark.parametrize(("depth", "refused"), [(64, False), (65, True)])
def test_nesting_limit_counts_every_level(depth: int, refused: bool) -> None:
    # A scalar inside depth - 1 lists is `depth` levels deep; only past MAX_NESTING (64) is
    # the file refused for its nesting (at 64 it fails later, as a handoff).
    deep = "[" * (depth - 2) + "1" + "]" * (depth - 2)
    with pytest.raises(HandoffError) as caught:
        parse_handoff('{"format_version": ' + deep + "}")
    nesting = [str(p) for p in caught.value.problems] == ["nesting is deeper than 64 levels"]
    assert nesting is refused


def test_duplicate_keys_are_found_in_nested_objects() -> None:
    document = json.dumps(_demo_document())
    duplicated = document.replace('"owner_team":', '"owner_team": "x", "owner_team":', 1)
    with pytest.raises(HandoffError) as caught:
        parse_handoff(duplicated)
    assert [str(p) for p in caught.value.problems] == ["duplicate key 'owner_team'"]


def test_a_loaded_file_equals_the_parsed_text(tmp_path: Path) -> None:
    path = tmp_path / "copy.json"
    path.write_bytes(b"\xef\xbb\xbf" + DEMO.read_bytes())
    assert load_handoff(path) == parse_handoff(DEMO.read_text())
