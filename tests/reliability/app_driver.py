"""Drive the review app headless in a child process, for test_app_crash.py.

    python -m tests.reliability.app_driver FAULTS

On the demo, in IMPACT_REVIEW_HOME: raise risk-worker's risk and rewrite checkout-api's
recommended action (each edit autosaves the draft), then approve and run, and wait to be killed.
Prints `edited` once the draft holds both edits and `approved` once the run has started.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from core.drafts import load_draft
from core.embedded import parse_faults
from core.home import impact_home
from core.loading import load_handoff
from core.warehouse.config import local_connection
from tests.conftest import DEMO
from tui.app import ImpactReviewApp
from tui.context import AppContext
from tui.screens.main import MainScreen
from tui.widgets.impact_tree import ImpactTree

ACTION_SUFFIX = " and page payments-platform"


async def _until(pilot: Pilot[None], condition: Callable[[], bool], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("app_driver: condition not met in time")
        await pilot.pause(0.02)


async def _settle(pilot: Pilot[None]) -> None:
    with contextlib.suppress(WorkerCancelled):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _cursor_on(tree: ImpactTree) -> str | None:
    node = tree.cursor_node
    return node.data.service if node is not None and node.data is not None else None


async def _select(pilot: Pilot[None], main: MainScreen, name: str) -> None:
    main.select_service(name)
    tree = main.query_one(ImpactTree)
    await _until(pilot, lambda: main.selected == name and _cursor_on(tree) == name)


async def drive(faults: str) -> None:
    home = impact_home()
    handoff = load_handoff(DEMO)
    context = AppContext(
        connection=local_connection(),
        faults=parse_faults(faults),
        approver="oncall@example.com",
        home=home,
        export_dir=home,
        live_ticks=False,
        cursor_blink=False,
    )
    app = ImpactReviewApp(handoff, source="demo.json", context=context)
    async with app.run_test(size=(120, 36)) as pilot:
        await _settle(pilot)
        main = app.screen_stack[0]
        assert isinstance(main, MainScreen)
        # The tree places its cursor on the first service once it has its lines; wait for
        # that, so a selection made here is not moved back by it.
        tree = main.query_one(ImpactTree)
        await _until(pilot, lambda: _cursor_on(tree) == "checkout-api")
        await _select(pilot, main, "risk-worker")
        await pilot.press("r")
        await _until(pilot, lambda: main.review.service("risk-worker").risk_level.value == "high")
        await _select(pilot, main, "checkout-api")
        await pilot.press("e")
        await pilot.press(*ACTION_SUFFIX)
        await pilot.press("ctrl+s")
        await _settle(pilot)

        def saved() -> bool:
            draft = load_draft(handoff, home)
            return draft is not None and draft.edit_count == 2

        await _until(pilot, saved)
        print("edited", flush=True)
        await pilot.press("a")
        await pilot.press("y")
        await _until(pilot, lambda: main.running)
        print("approved", flush=True)
        await asyncio.Event().wait()  # the test kills this process


if __name__ == "__main__":
    asyncio.run(drive(sys.argv[1]))
