"""Every binding is remappable, described and in the palette; large reports stay lazy."""

from __future__ import annotations

import time
from collections import Counter

from textual.binding import Binding

from core.synth import synth_handoff
from tests.tui.conftest import MakeApp, main_of, settle, top, until
from tui.app import ImpactReviewApp
from tui.keymap import KEYS
from tui.screens.dialogs import EditActionDialog, ErrorDialog, ExportDialog, YesNoDialog
from tui.screens.help import HelpScreen, help_content
from tui.screens.main import MainScreen
from tui.screens.reports import ReportsScreen
from tui.widgets.impact_tree import PAGE_SIZE, ImpactTree

CLASSES = (
    ImpactReviewApp,
    MainScreen,
    ImpactTree,
    ReportsScreen,
    YesNoDialog,
    EditActionDialog,
    ExportDialog,
    ErrorDialog,
    HelpScreen,
)


class TestKeymap:
    """Ids, tooltips, palette commands, no clashes, help lists them all."""

    def test_every_binding_has_an_id_and_tooltip(self) -> None:
        for cls in CLASSES:
            for binding in cls.BINDINGS:
                assert isinstance(binding, Binding), cls
                if binding.system:
                    continue
                assert binding.id, (cls.__name__, binding.key)
                assert binding.tooltip, (cls.__name__, binding.id)

    def test_ids_are_unique_and_commands_exist(self) -> None:
        ids = Counter(spec.id for spec in KEYS)
        assert [key for key, count in ids.items() if count > 1] == []
        for spec in KEYS:
            if spec.scope in ("app", "main", "tree", "reports"):
                assert spec.command, spec.id

    def test_no_key_clashes_between_active_scopes(self) -> None:
        keys: Counter[str] = Counter()
        for spec in KEYS:
            if spec.scope in ("app", "main", "tree"):
                for key in spec.keys.split(","):
                    keys[key.strip()] += 1
        assert [key for key, count in keys.items() if count > 1] == []

    def test_help_lists_every_key(self) -> None:
        text = help_content().plain
        for spec in KEYS:
            if spec.scope not in ("dialog", "help"):
                assert spec.tooltip in text, spec.id

    async def test_palette_offers_every_command(self, make_app: MakeApp) -> None:
        from tui.commands_palette import ReviewCommands

        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            provider = ReviewCommands(top(app))
            titles = {text for text, _, _ in provider._binding_commands()}
            expected = {
                spec.command
                for spec in KEYS
                if spec.scope in ("app", "main", "tree") and spec.command
            }
            # cancel_run (no run in flight) and redo/undo (nothing to undo) are disabled now.
            disabled = {"Cancel the run", "Undo the last edit", "Redo"}
            assert expected - titles == disabled


class TestLargeReports:
    """A report with thousands of services opens lazily and stays responsive."""

    async def test_lazy_tree_and_background_plan(self, make_app: MakeApp) -> None:
        handoff = synth_handoff(1_200, seed=3)
        app = make_app(handoff)
        started = time.monotonic()
        async with app.run_test(size=(120, 36)) as pilot:
            main = main_of(app)
            tree = main.query_one(ImpactTree)
            await until(pilot, lambda: main.selected is not None)
            opened = time.monotonic() - started
            assert len(tree.service_nodes) == PAGE_SIZE
            await until(pilot, lambda: main.validated is not None, within=60)
            assert main.validated is True
            assert main.plan is not None and len(main.plan.rows) > 1_000
            last = handoff.services[-1].name
            main.select_service(last)
            await until(pilot, lambda: main.selected == last)
            assert len(tree.service_nodes) == len(handoff.services)
            assert not tree.service_nodes[handoff.services[0].name].children
            await pilot.press("r")
            await settle(pilot)
            assert main.review.is_edited
            assert opened < 10  # generous: the benchmark holds the real budget
