"""Snapshot tests of the key screens (pytest-textual-snapshot), reusing the screenshot scenes.

The scenes freeze the clock, the approver and the run (fixed events), and turn off cursor
blinking, so each SVG is the same on every run. Update with `pytest --snapshot-update` after a
deliberate visual change, and look at the diff report before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tui.screenshots import SCENES, Scene, invalid_handoff, scene_app

SnapCompare = Callable[..., bool]


@pytest.mark.parametrize("scene", SCENES, ids=[scene.name for scene in SCENES])
def test_scene(scene: Scene, snap_compare: SnapCompare, impact_home: Path) -> None:
    """Every README screenshot, as a regression snapshot."""
    app = scene_app(impact_home, invalid_handoff() if scene.invalid else None)

    async def run_before(pilot: Any) -> None:
        await scene.drive(pilot)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=scene.size, run_before=run_before)


def test_help_screen(snap_compare: SnapCompare, impact_home: Path) -> None:
    """The help screen lists every key from the keymap."""

    async def run_before(pilot: Any) -> None:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(scene_app(impact_home), terminal_size=(120, 36), run_before=run_before)
