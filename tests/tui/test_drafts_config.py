"""Drafts (autosaved edits) and the user config file."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from core.config_file import load_config
from core.drafts import DraftStore, draft_path, handoff_hash, load_draft, save_draft
from core.handoff import Handoff, RiskLevel
from core.review import Review
from core.synth import synth_handoff


class TestDrafts:
    """Save, restore, refuse drafts of other content, never leave half a file."""

    def test_round_trip(self, demo: Handoff, tmp_path: Path) -> None:
        review = (
            Review(demo)
            .set_risk("risk-worker", RiskLevel.HIGH)
            .set_action("checkout-api", "page the on-call\nthen wait")
        )
        review = review.set_included("checkout-api", False)
        path = save_draft(review, tmp_path, now=datetime(2026, 5, 12, tzinfo=UTC))
        assert path.exists()
        assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
        draft = load_draft(demo, tmp_path)
        assert draft is not None
        assert draft.review.edits == review.edits
        assert draft.edit_count == 3
        assert draft.saved_at == datetime(2026, 5, 12, tzinfo=UTC)

    def test_no_edits_removes_the_draft(self, demo: Handoff, tmp_path: Path) -> None:
        store = DraftStore(demo, tmp_path)
        store.save(Review(demo).set_risk("risk-worker", RiskLevel.LOW))
        assert store.path.exists()
        store.save(Review(demo))
        assert not store.path.exists()
        assert store.load() is None

    def test_other_content_gets_no_draft(self, demo: Handoff, tmp_path: Path) -> None:
        save_draft(Review(demo).set_risk("risk-worker", RiskLevel.LOW), tmp_path)
        report = demo.report.model_copy(update={"title": "another version"})
        changed = demo.model_copy(update={"report": report})
        assert handoff_hash(changed) != handoff_hash(demo)
        assert load_draft(changed, tmp_path) is None

    def test_hash_is_of_the_canonical_json(self, demo: Handoff) -> None:
        # Hashed in pieces; the value is the SHA-256 of the whole canonical JSON, so drafts
        # saved by earlier versions still match. The synthetic report has more services than
        # one dump batch, non-ASCII text and an emoji.
        for handoff in (demo, synth_handoff(600, seed=3)):
            canonical = json.dumps(
                handoff.model_dump(mode="json"),
                sort_keys=True,
                ensure_ascii=False,
                separators=(",", ":"),
            )
            expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            assert handoff_hash(handoff) == expected

    def test_broken_or_stale_files(self, demo: Handoff, tmp_path: Path) -> None:
        path = draft_path(demo, tmp_path)
        path.parent.mkdir(parents=True)
        path.write_text("{not json", encoding="utf-8")
        assert load_draft(demo, tmp_path) is None
        document = {
            "draft_version": 1,
            "report_id": demo.report.id,
            "handoff_sha256": handoff_hash(demo),
            "saved_at": "2026-05-12T00:00:00+00:00",
            "edits": {
                "risk-worker": {"risk_level": "critical"},
                "no-such-service": {"risk_level": "low"},
                "checkout-playground": {"included": True},
            },
        }
        path.write_text(json.dumps(document), encoding="utf-8")
        draft = load_draft(demo, tmp_path)
        assert draft is not None
        assert draft.review.service("risk-worker").risk_level is RiskLevel.CRITICAL
        assert sorted(draft.dropped) == ["checkout-playground", "no-such-service"]

    def test_hash_is_computed_once(self, demo: Handoff, tmp_path: Path) -> None:
        store = DraftStore(demo, tmp_path)
        first = store.handoff_sha256
        store.save(Review(demo).set_risk("risk-worker", RiskLevel.LOW))
        assert store.handoff_sha256 is first


class TestConfigFile:
    """The TOML config: defaults when missing, problems reported, never fatal."""

    def test_missing_file(self, tmp_path: Path) -> None:
        config = load_config(tmp_path / "config.toml")
        assert config.theme is None and config.keymap == {} and not config.problems

    def test_settings(self, tmp_path: Path) -> None:
        path = tmp_path / "config.toml"
        path.write_text(
            'theme = "textual-light"\napprover = "me@example.com"\n'
            '[keymap]\n"review.approve" = "ctrl+a"\n"tree.down" = ["j", "down"]\n',
            encoding="utf-8",
        )
        config = load_config(path)
        assert config.theme == "textual-light"
        assert config.approver == "me@example.com"
        assert config.keymap == {"review.approve": "ctrl+a", "tree.down": "j,down"}
        assert not config.problems

    def test_problems(self, tmp_path: Path) -> None:
        path = tmp_path / "config.toml"
        path.write_text('theme = 3\ncolour = "red"\n[keymap]\n"x" = ""\n', encoding="utf-8")
        config = load_config(path)
        assert config.theme is None
        assert len(config.problems) == 3
        path.write_text("theme = [", encoding="utf-8")
        assert "not valid TOML" in load_config(path).problems[0]

    def test_env_var_points_at_the_file(self, tmp_path: Path) -> None:
        from core.config_file import CONFIG_ENV, config_path

        os.environ[CONFIG_ENV] = str(tmp_path / "elsewhere.toml")
        try:
            assert config_path() == tmp_path / "elsewhere.toml"
        finally:
            del os.environ[CONFIG_ENV]
