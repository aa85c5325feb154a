"""A reviewer's edits on top of a handoff, as immutable values.

`Review` pairs the original handoff with the edits made so far. Every edit returns a new Review,
which makes undo/redo a list of values and lets the SQL preview compare before and after. Edits
that restore the original value disappear, so "edited" always means "differs from the handoff".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.handoff import Handoff, RiskLevel, Service

EXCLUDED_BY_REVIEWER = "excluded by reviewer"
EditableField = Literal["risk_level", "recommended_action", "included"]


class ServiceEdit(BaseModel):
    """What a reviewer changed on one service; None means unchanged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk_level: RiskLevel | None = None
    recommended_action: str | None = None
    included: bool | None = None

    @property
    def is_empty(self) -> bool:
        return self.risk_level is None and self.recommended_action is None and self.included is None


@dataclass(frozen=True)
class Change:
    """One line of the change list: a field of a service, before and after."""

    service: str
    field: EditableField
    before: str
    after: str


class ReviewError(ValueError):
    """An edit that does not apply (unknown service, or including a non-production one)."""


@dataclass(frozen=True)
class Review:
    """The original handoff plus the reviewer's edits (only those that differ from it)."""

    handoff: Handoff
    edits: dict[str, ServiceEdit] = field(default_factory=dict)
    originals: Mapping[str, Service] | None = field(default=None, compare=False, repr=False)
    """The handoff's services by name; built when omitted, and passed on to every review
    derived from this one, so a lookup is constant time whatever the size of the report."""

    def __post_init__(self) -> None:
        if self.originals is None:
            # Reversed: the first service of a name wins, as in `Handoff.service`.
            index = {service.name: service for service in reversed(self.handoff.services)}
            object.__setattr__(self, "originals", index)

    def _original(self, name: str) -> Service:
        assert self.originals is not None
        try:
            return self.originals[name]
        except KeyError:
            raise ReviewError(f"no service named {name!r}") from None

    def _with(self, name: str, **changes: object) -> Review:
        original = self._original(name)
        current = self.edits.get(name, ServiceEdit()).model_dump()
        current.update(changes)
        if current["risk_level"] == original.risk_level:
            current["risk_level"] = None
        if current["recommended_action"] == original.recommended_action:
            current["recommended_action"] = None
        if current["included"] is not None and current["included"] == original.written:
            current["included"] = None
        edit = ServiceEdit(**current)
        edits = {key: value for key, value in self.edits.items() if key != name}
        if not edit.is_empty:
            edits[name] = edit
        return Review(self.handoff, edits, self.originals)

    def set_risk(self, name: str, level: RiskLevel) -> Review:
        """A review with `name`'s risk level set to `level`."""
        return self._with(name, risk_level=RiskLevel(level))

    def cycle_risk(self, name: str) -> Review:
        """A review with `name`'s risk moved to the next level (critical wraps to low)."""
        levels = list(RiskLevel)
        current = self.service(name).risk_level
        return self.set_risk(name, levels[(levels.index(current) + 1) % len(levels)])

    def set_action(self, name: str, action: str) -> Review:
        """A review with `name`'s recommended action replaced."""
        return self._with(name, recommended_action=action)

    def set_included(self, name: str, included: bool) -> Review:
        """A review with a production service included in or excluded from the write."""
        if included and not self._original(name).production:
            raise ReviewError(f"{name} is not a production service and is never written")
        return self._with(name, included=included)

    def toggle_included(self, name: str) -> Review:
        """Flip whether a production service is written."""
        return self.set_included(name, not self.service(name).written)

    def service(self, name: str) -> Service:
        """The service as reviewed (edits applied)."""
        original = self._original(name)
        edit = self.edits.get(name)
        if edit is None:
            return original
        return _edited(original, edit)

    def edited_fields(self, name: str) -> frozenset[EditableField]:
        """Which fields of `name` differ from the handoff."""
        edit = self.edits.get(name)
        if edit is None:
            return frozenset()
        fields: set[EditableField] = set()
        if edit.risk_level is not None:
            fields.add("risk_level")
        if edit.recommended_action is not None:
            fields.add("recommended_action")
        if edit.included is not None:
            fields.add("included")
        return frozenset(fields)

    @property
    def is_edited(self) -> bool:
        return bool(self.edits)

    @property
    def edit_count(self) -> int:
        """How many fields differ from the handoff: `len(self.changes())`, without walking
        every service of the handoff."""
        return sum(
            (edit.risk_level is not None)
            + (edit.recommended_action is not None)
            + (edit.included is not None)
            for edit in self.edits.values()
        )

    def reviewed_handoff(self) -> Handoff:
        """The handoff with every edit applied: what gets written."""
        if not self.edits:
            return self.handoff
        edits = self.edits
        services = [
            _edited(service, edits[service.name]) if service.name in edits else service
            for service in self.handoff.services
        ]
        return self.handoff.model_copy(update={"services": services})

    def changes(self) -> list[Change]:
        """Every edit, in handoff service order."""
        result: list[Change] = []
        for service in self.handoff.services:
            edit = self.edits.get(service.name)
            if edit is None:
                continue
            if edit.risk_level is not None:
                result.append(
                    Change(service.name, "risk_level", service.risk_level, edit.risk_level)
                )
            if edit.recommended_action is not None:
                result.append(
                    Change(
                        service.name,
                        "recommended_action",
                        service.recommended_action,
                        edit.recommended_action,
                    )
                )
            if edit.included is not None:
                result.append(
                    Change(
                        service.name,
                        "included",
                        _included_word(service.written),
                        _included_word(edit.included),
                    )
                )
        return result


def _edited(original: Service, edit: ServiceEdit) -> Service:
    """`original` with `edit` applied."""
    update: dict[str, object] = {}
    if edit.risk_level is not None:
        update["risk_level"] = edit.risk_level
    if edit.recommended_action is not None:
        update["recommended_action"] = edit.recommended_action
    if edit.included is False:
        update["skip_reason"] = EXCLUDED_BY_REVIEWER
    elif edit.included is True:
        update["skip_reason"] = None
    return original.model_copy(update=update)


def _included_word(included: bool) -> str:
    return "written" if included else "excluded"


@dataclass
class EditHistory:
    """Undo/redo over Review values: the reviewer's session of edits."""

    current: Review
    _undo: list[Review] = field(default_factory=list)
    _redo: list[Review] = field(default_factory=list)

    def apply(self, review: Review) -> bool:
        """Make `review` current; False (and nothing recorded) when it changes nothing."""
        if review.edits == self.current.edits:
            return False
        self._undo.append(self.current)
        self._redo.clear()
        self.current = review
        return True

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.current)
        self.current = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.current)
        self.current = self._redo.pop()
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)
