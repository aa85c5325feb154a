"""Loading shares what repeats: equal short strings are one object, and items that set the same
fields share one set of their names, without changing any value or any copy."""

from __future__ import annotations

from core.handoff import RiskLevel
from core.loading import load_handoff
from core.review import Review
from tests.conftest import DEMO


def test_equal_short_strings_are_one_object() -> None:
    handoff = load_handoff(DEMO)
    items = [*handoff.services, *handoff.graph.nodes, *handoff.graph.edges]
    first: dict[str, str] = {}
    repeats = 0
    for item in items:
        for value in item.__dict__.values():
            for text in value if isinstance(value, list) else [value]:
                if type(text) is str and len(text) <= 128:
                    repeats += text in first
                    assert first.setdefault(text, text) is text
    assert repeats > 10


def test_items_setting_the_same_fields_share_the_set_and_copies_stay_apart() -> None:
    handoff = load_handoff(DEMO)
    edges = handoff.graph.edges
    assert len(edges) > 1
    assert all(edge.model_fields_set is edges[0].model_fields_set for edge in edges)
    assert edges[0].model_fields_set == {"source", "kind", "target"}
    service = handoff.services[0]
    changed = service.model_copy(update={"skip_reason": "excluded by the reviewer"})
    assert "skip_reason" in changed.model_fields_set
    assert all("skip_reason" not in s.model_fields_set for s in handoff.services if s.production)


def test_a_review_edit_changes_only_its_service() -> None:
    handoff = load_handoff(DEMO)
    service = handoff.services[0]
    level = RiskLevel.LOW if service.risk_level is not RiskLevel.LOW else RiskLevel.HIGH
    edited = Review(handoff).set_risk(service.name, level).reviewed_handoff()
    assert edited.service(service.name).risk_level is level
    assert handoff.service(service.name).risk_level is not level
    assert edited.services[1:] == handoff.services[1:]
    assert edited.services[0].model_fields_set == service.model_fields_set
