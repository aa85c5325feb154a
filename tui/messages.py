"""Messages that cross widget boundaries in the review app.

Widgets post these; the main screen handles them and owns every state change. Names are past
tense (what happened), so a handler reads as "when X happened, do Y".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from core.plan import Plan, StatementIssue
from core.review import Review

if TYPE_CHECKING:  # the run's modules are imported when a run or verification starts
    from core.drafts import Draft
    from core.events import RunEvent, RunFinished
    from core.verification import Verification


class ServiceSelected(Message):
    """The reviewer moved to a service (or to no service: None)."""

    def __init__(self, name: str | None) -> None:
        super().__init__()
        self.name = name


class ReviewEdited(Message):
    """The review changed (edit, undo, redo or a restored draft); the plan is its new plan."""

    def __init__(self, review: Review, plan: Plan, services: frozenset[str]) -> None:
        super().__init__()
        self.review = review
        self.plan = plan
        self.services = services
        """The services whose values changed (empty after a wholesale change)."""


class PlanBuilt(Message):
    """The first plan of a large report was built (off the event loop) for `review`."""

    def __init__(self, review: Review, plan: Plan) -> None:
        super().__init__()
        self.review = review
        self.plan = plan


class DraftFound(Message):
    """A saved draft exists for the handoff under review."""

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft


class PlanValidated(Message):
    """Validation of a plan finished; `issues` is empty when it may run."""

    def __init__(self, digest: str, issues: list[StatementIssue]) -> None:
        super().__init__()
        self.digest = digest
        self.issues = issues


class RunEventReceived(Message):
    """A run emitted an event. Consecutive state changes of one statement coalesce."""

    def __init__(self, event: RunEvent) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        from core.events import StatementStateChanged

        if not isinstance(message, RunEventReceived):
            return False
        mine, theirs = self.event, message.event
        return (
            isinstance(mine, StatementStateChanged)
            and isinstance(theirs, StatementStateChanged)
            and mine.statement == theirs.statement
            and mine.state == theirs.state
        )


class RunEnded(Message):
    """The run worker finished: with its final event, or None if it never started."""

    def __init__(self, finished: RunFinished | None, error: str | None = None) -> None:
        super().__init__()
        self.finished = finished
        self.error = error


class VerificationDone(Message):
    """A re-verification finished (or failed with `error`)."""

    def __init__(
        self, report_id: str, verification: Verification | None, error: str | None = None
    ) -> None:
        super().__init__()
        self.report_id = report_id
        self.verification = verification
        self.error = error
