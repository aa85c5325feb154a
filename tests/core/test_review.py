"""Reviewer edits: applied, listed, undone and redone; edits back to the original vanish."""

from __future__ import annotations

import pytest

from core.handoff import RiskLevel
from core.loading import load_handoff
from core.review import EditHistory, Review, ReviewError
from tests.conftest import DEMO


@pytest.fixture
def review() -> Review:
    return Review(load_handoff(DEMO))


def test_edits_apply_to_the_reviewed_handoff(review: Review) -> None:
    edited = review.set_risk("risk-worker", RiskLevel.HIGH).set_action("risk-worker", "stop")
    service = edited.reviewed_handoff().service("risk-worker")
    assert service.risk_level is RiskLevel.HIGH
    assert service.recommended_action == "stop"
    assert review.reviewed_handoff().service("risk-worker").risk_level is RiskLevel.MEDIUM
    assert edited.edited_fields("risk-worker") == {"risk_level", "recommended_action"}


def test_an_edit_back_to_the_original_disappears(review: Review) -> None:
    edited = review.set_risk("risk-worker", RiskLevel.HIGH).set_risk(
        "risk-worker", RiskLevel.MEDIUM
    )
    assert not edited.is_edited
    assert edited.changes() == []


def test_cycle_risk_wraps(review: Review) -> None:
    levels = []
    current = review
    for _ in range(4):
        current = current.cycle_risk("checkout-api")
        levels.append(current.service("checkout-api").risk_level)
    assert levels == [RiskLevel.CRITICAL, RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH]


def test_excluding_a_production_service_skips_it(review: Review) -> None:
    edited = review.toggle_included("checkout-api")
    service = edited.reviewed_handoff().service("checkout-api")
    assert not service.written and service.skip_reason == "excluded by reviewer"
    assert [(c.service, c.field, c.before, c.after) for c in edited.changes()] == [
        ("checkout-api", "included", "written", "excluded")
    ]
    assert not edited.toggle_included("checkout-api").is_edited


def test_non_production_services_cannot_be_included(review: Review) -> None:
    with pytest.raises(ReviewError, match="not a production service"):
        review.set_included("checkout-playground", True)


def test_unknown_service_is_an_error(review: Review) -> None:
    with pytest.raises(ReviewError, match="no service named"):
        review.set_risk("nope", RiskLevel.LOW)


def test_history_undoes_and_redoes(review: Review) -> None:
    history = EditHistory(review)
    assert history.apply(review.set_risk("risk-worker", RiskLevel.HIGH))
    assert history.apply(history.current.set_action("risk-worker", "page the owner"))
    assert not history.apply(history.current)
    assert history.undo()
    assert history.current.service("risk-worker").recommended_action != "page the owner"
    assert history.current.service("risk-worker").risk_level is RiskLevel.HIGH
    assert history.redo()
    assert history.current.service("risk-worker").recommended_action == "page the owner"
    assert history.undo() and history.undo()
    assert not history.current.is_edited and not history.can_undo


def test_reviewed_handoff_applies_each_edit_once_in_order(review: Review) -> None:
    edited = (
        review.set_risk("risk-worker", RiskLevel.CRITICAL)
        .set_included("checkout-api", False)
        .set_action("checkout-playground", "leave it")
    )
    reviewed = edited.reviewed_handoff()
    assert [s.name for s in reviewed.services] == [s.name for s in review.handoff.services]
    assert list(reviewed.services) == [edited.service(s.name) for s in review.handoff.services]
    assert not reviewed.service("checkout-api").written
    # Unedited services are the handoff's own objects, and every derived review shares the
    # original's name index.
    untouched = [s for s in reviewed.services if s.name not in edited.edits]
    assert all(any(s is o for o in review.handoff.services) for s in untouched)
    assert edited.originals is review.originals
    assert edited.edit_count == len(edited.changes()) == 3
    assert edited == Review(review.handoff, dict(edited.edits))


def test_unknown_service_is_a_review_error(review: Review) -> None:
    with pytest.raises(ReviewError, match="no service named 'nope'"):
        review.service("nope")
