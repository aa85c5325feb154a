"""Constant-time lookups into a review, so nothing the app does per service is quadratic.

`Review.service(name)` finds the original service by scanning the handoff, which is fine once
but quadratic when done for every service of a 10,000-service report. The app asks through this
index instead: an unedited service is the handoff's own, found in a dict; only edited services
(a handful) go through the Review.
"""

from __future__ import annotations

from core.handoff import Handoff, Service
from core.review import Review


class ReviewIndex:
    """Name-to-service index over one handoff (built once, linear)."""

    def __init__(self, handoff: Handoff) -> None:
        self.handoff = handoff
        self.originals: dict[str, Service] = {s.name: s for s in handoff.services}

    def original(self, name: str) -> Service:
        """The service as the handoff has it (KeyError if there is none)."""
        return self.originals[name]

    def service(self, review: Review, name: str) -> Service:
        """The service as reviewed: the same value `review.service(name)` returns."""
        if name in review.edits:
            return review.service(name)
        return self.originals[name]

    def reviewed_handoff(self, review: Review) -> Handoff:
        """The same value as `review.reviewed_handoff()`, in linear time."""
        if not review.edits:
            return review.handoff
        services = [
            review.service(s.name) if s.name in review.edits else s for s in self.handoff.services
        ]
        return self.handoff.model_copy(update={"services": services})

    def written_count(self, review: Review) -> int:
        """How many services the review writes."""
        return sum(1 for s in self.handoff.services if self.service(review, s.name).written)
