"""Autosaved review drafts: a reviewer's edits survive a crash, a closed terminal or a reboot.

A draft is keyed by the report id and a hash of the handoff's content, so edits made on one
version of a report are never offered for a different version of it. Writes are atomic (a
temporary file, then `os.replace`), so a crash leaves either the previous draft or the new one,
never half of one. Drafts hold only the edits, never the handoff itself.

    drafts/<report id>/<handoff hash>.json
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from core.handoff import Handoff
from core.review import Review, ReviewError, ServiceEdit

DRAFT_VERSION = 1
_SAFE = re.compile(r"[^A-Za-z0-9._:-]")


def handoff_hash(handoff: Handoff) -> str:
    """SHA-256 of the handoff's canonical JSON: same content, same hash, on any machine.

    The canonical JSON is `json.dumps(handoff.model_dump(mode="json"), sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))`, hashed as UTF-8. It is produced and hashed
    a list item at a time: dumping a 10,000-service report whole held a copy of it as
    dicts, then as one string (four bytes a character with one emoji in it), then as bytes.
    """
    digest = hashlib.sha256()
    pending: list[str] = []
    size = 0
    for piece in _canonical_pieces(handoff):
        pending.append(piece)
        size += len(piece)
        if size >= _HASH_BATCH:
            digest.update("".join(pending).encode("utf-8"))
            pending.clear()
            size = 0
    digest.update("".join(pending).encode("utf-8"))
    return digest.hexdigest()


_HASH_BATCH = 1 << 20
"""Characters of canonical JSON hashed at a time."""
_DUMP_BATCH = 256
"""List items dumped and encoded at a time."""
_ADAPTERS: dict[type[BaseModel], TypeAdapter[list[Any]]] = {}
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _canonical_pieces(model: BaseModel) -> Iterator[str]:
    """The canonical JSON of `model` in pieces: its model fields each on their own, and its
    lists of models a few hundred items at a time."""
    lists = {
        name: value
        for name, value in model
        if isinstance(value, list) and value and isinstance(value[0], BaseModel)
    }
    nested = {name: value for name, value in model if isinstance(value, BaseModel)}
    document = model.model_dump(mode="json", exclude={*lists, *nested})
    yield "{"
    for index, key in enumerate(sorted([*document, *lists, *nested])):
        if index:
            yield ","
        yield _CANONICAL.encode(key) + ":"
        if key in lists:
            items = lists[key]
            adapter = _list_adapter(type(items[0]))
            yield "["
            for start in range(0, len(items), _DUMP_BATCH):
                if start:
                    yield ","
                dumped = adapter.dump_python(items[start : start + _DUMP_BATCH], mode="json")
                yield _CANONICAL.encode(dumped)[1:-1]
            yield "]"
        elif key in nested:
            yield from _canonical_pieces(nested[key])
        else:
            yield _CANONICAL.encode(document[key])
    yield "}"


def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter


def drafts_dir(home: Path | None = None) -> Path:
    """The folder holding every draft."""
    if home is None:
        from core.home import impact_home

        home = impact_home()
    return home / "drafts"


def draft_path(handoff: Handoff, home: Path | None = None) -> Path:
    """Where the draft for this exact handoff lives."""
    return DraftStore(handoff, home).path


class DraftStore:
    """The draft of one handoff; hashes the handoff once, however often it saves.

    Hashing serialises the whole handoff, which for a large report costs far more than writing
    a few edits, so an app saving on every keystroke keeps one store per handoff.
    """

    def __init__(self, handoff: Handoff, home: Path | None = None) -> None:
        self.handoff = handoff
        self.home = home
        self._hash: str | None = None

    @property
    def handoff_sha256(self) -> str:
        """The handoff's content hash (computed on first use)."""
        if self._hash is None:
            self._hash = handoff_hash(self.handoff)
        return self._hash

    @property
    def path(self) -> Path:
        """Where the draft lives."""
        report = _SAFE.sub("_", self.handoff.report.id)
        return drafts_dir(self.home) / report / f"{self.handoff_sha256[:32]}.json"

    def save(self, review: Review, now: datetime | None = None) -> Path:
        """Save the review's edits atomically; with no edits left the draft is removed."""
        return _save(self, review, now)

    def load(self) -> Draft | None:
        """The saved draft, or None (no draft, unreadable, or for other content)."""
        return _load(self)

    def discard(self) -> None:
        """Remove the draft, if there is one."""
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Draft:
    """Edits saved for one handoff."""

    review: Review
    saved_at: datetime
    dropped: tuple[str, ...] = ()
    """Edits in the file that no longer apply (unknown service, not includable) and were dropped."""

    @property
    def edit_count(self) -> int:
        """How many field edits the draft restores."""
        return len(self.review.changes())


def save_draft(review: Review, home: Path | None = None, now: datetime | None = None) -> Path:
    """Save the review's edits (atomically); with no edits left the draft is removed."""
    return DraftStore(review.handoff, home).save(review, now)


def _save(store: DraftStore, review: Review, now: datetime | None) -> Path:
    if review.handoff is not store.handoff and review.handoff != store.handoff:
        raise ValueError("the review is of a different handoff than this draft store's")
    path = store.path
    if not review.is_edited:
        store.discard()
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "draft_version": DRAFT_VERSION,
        "report_id": review.handoff.report.id,
        "handoff_sha256": store.handoff_sha256,
        "saved_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "edits": {
            name: edit.model_dump(mode="json", exclude_none=True)
            for name, edit in sorted(review.edits.items())
        },
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def load_draft(handoff: Handoff, home: Path | None = None) -> Draft | None:
    """The saved draft for this handoff, or None (no draft, unreadable, or for other content)."""
    return DraftStore(handoff, home).load()


def _load(store: DraftStore) -> Draft | None:
    handoff = store.handoff
    path = store.path
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("draft_version") != DRAFT_VERSION:
        return None
    if document.get("handoff_sha256") != store.handoff_sha256:
        return None
    edits = document.get("edits")
    if not isinstance(edits, dict):
        return None
    review = Review(handoff)
    dropped: list[str] = []
    for name, raw in edits.items():
        try:
            edit = ServiceEdit.model_validate(raw)
            if edit.risk_level is not None:
                review = review.set_risk(name, edit.risk_level)
            if edit.recommended_action is not None:
                review = review.set_action(name, edit.recommended_action)
            if edit.included is not None:
                review = review.set_included(name, edit.included)
        except (ValidationError, ReviewError):
            dropped.append(str(name))
    if not review.is_edited:
        return None
    try:
        saved_at = datetime.fromisoformat(str(document.get("saved_at")))
    except ValueError:
        saved_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return Draft(review, saved_at, tuple(dropped))


def discard_draft(handoff: Handoff, home: Path | None = None) -> None:
    """Remove the draft for this handoff, if there is one."""
    DraftStore(handoff, home).discard()
