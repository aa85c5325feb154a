"""Fixtures for the review app's tests: the demo handoff, a frozen context, app helpers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.worker import WorkerCancelled

from core.handoff import Handoff
from core.loading import load_handoff
from core.plan import Plan
from core.warehouse.config import local_connection
from tests.conftest import DEMO
from tui.app import ImpactReviewApp
from tui.context import AppContext
from tui.screens.main import MainScreen

FROZEN = datetime(2026, 5, 12, 17, 5, tzinfo=UTC)
"""The approval time every test uses."""


@pytest.fixture
def demo() -> Handoff:
    """The bundled demo handoff (annie-dbx-checkout-2044)."""
    return load_handoff(DEMO)


@pytest.fixture
def context(impact_home: Path, tmp_path: Path) -> AppContext:
    """The embedded warehouse without faults, a fixed approver and clock, no animation."""
    return AppContext(
        connection=local_connection(),
        approver="oncall@example.com",
        clock=lambda: FROZEN,
        home=impact_home,
        export_dir=tmp_path,
        live_ticks=False,
        cursor_blink=False,
    )


MakeApp = Callable[..., ImpactReviewApp]


@pytest.fixture
def make_app(demo: Handoff, context: AppContext) -> MakeApp:
    """Build the app on the demo (or another handoff) with the test context."""

    def build(handoff: Handoff | None = None, **changes: object) -> ImpactReviewApp:
        for name, value in changes.items():
            setattr(context, name, value)
        return ImpactReviewApp(handoff or demo, source="demo.json", context=context)

    return build


async def settle(pilot: Pilot[None]) -> None:
    """Let every worker finish (or end cancelled), every message be handled, and the review
    screen's plan be validated (its first preview waits for the first frame)."""
    with contextlib.suppress(WorkerCancelled):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    app = pilot.app
    if isinstance(app, ImpactReviewApp) and app.screen_stack:
        main = app.main_screen
        await until(pilot, lambda: main.validated is not None)


async def until(pilot: Pilot[None], condition: Callable[[], bool], within: float = 20) -> None:
    """Process messages until `condition` holds (fails the test after `within` seconds)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


def top(app: ImpactReviewApp) -> Screen[object]:
    """The screen on top (a function, so type checkers do not carry narrowing across awaits)."""
    return app.screen


def main_of(app: ImpactReviewApp) -> MainScreen:
    """The review screen."""
    return app.main_screen


def plan_of(screen: MainScreen) -> Plan:
    """The review screen's current plan (it exists once the screen is up)."""
    assert screen.plan is not None
    return screen.plan
