"""Start-up: the tree paints first, the plan follows from a worker, and the layout fits the
terminal from the first frame and after every resize."""

from __future__ import annotations

import subprocess
import sys

from textual.app import App, ComposeResult
from textual.widgets import Static

from core.handoff import Handoff, RiskLevel
from core.plan import build_plan
from core.review import Review
from tests.conftest import REPO
from tests.tui.conftest import MakeApp, main_of, plan_of, settle, until
from tui.widgets.sql_preview import PreviewPane, ValidationBanner

LATER = (
    "sqlglot",
    "pygments",
    "httpx",
    "duckdb",
    "core.sqlgen",
    "core.payloads",
    "core.executor",
    "core.embedded.warehouse",
    "core.warehouse.client",
    "tui.widgets.run_panel",
    "tui.screens.dialogs",
    "tui.screens.reports",
    "tui.screens.help",
)
"""Modules the first frame does not need: loaded with the first plan, a run or a dialog."""


class TestFirstFrame:
    def test_opening_the_app_imports_only_what_the_tree_needs(self) -> None:
        # The command line builds its parser from every command module before it opens the app.
        program = (
            "import sys\n"
            "import core.loading, core.plan, core.warehouse.config, tui.app, tui.screens.main\n"
            "from tui.cli import build_parser\n"
            "build_parser()\n"
            f"print(','.join(sorted(m for m in sys.modules if m.startswith({LATER!r}))))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == ""

    async def test_the_plan_follows_the_tree(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            main = main_of(app)
            assert main.selected == "checkout-api"
            await settle(pilot)
            plan = plan_of(main)
            assert main.validated is True
            preview = main.query_one(PreviewPane)
            assert list(preview.statement_views()) == [s.name for s in plan.statements]
            banner = str(preview.query_one(ValidationBanner).render())
            assert f"sha256:{plan.short_digest}" in banner
            status = str(main.query_one("#status-bar", Static).render())
            assert f"sha256:{plan.short_digest}" in status and "2 row(s)" in status


class TestBreakpoints:
    async def test_layout_follows_the_terminal_size(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            main = main_of(app)
            assert main.has_class("-narrow", "-short")
            assert not main.has_class("-wide") and not main.has_class("-tall")
            await settle(pilot)
            tree, detail = main.query_one("#tree-pane"), main.query_one("#detail")
            # Narrow: the tree spans both rows, detail and preview stack beside it.
            assert tree.region.height > detail.region.height
            await pilot.resize_terminal(140, 40)
            await pilot.pause()
            assert main.has_class("-wide", "-tall")
            assert not main.has_class("-narrow") and not main.has_class("-short")
            # Wide: three columns of the same height.
            assert tree.region.height == detail.region.height
            assert detail.region.x >= tree.region.right
            # Within the same breakpoints, the panes still follow the size.
            width = tree.region.width
            await pilot.resize_terminal(160, 44)
            await pilot.pause()
            assert tree.region.width > width and tree.region.height == 44 - 3
            await pilot.resize_terminal(100, 30)
            await pilot.pause()
            assert main.has_class("-narrow", "-tall")
            assert tree.region.height > detail.region.height


class PreviewOnly(App[None]):
    """The preview pane alone, given a plan and a tab before its tabs are mounted."""

    def __init__(self, handoff: Handoff) -> None:
        super().__init__()
        self.review = Review(handoff).set_risk("risk-worker", RiskLevel.CRITICAL)
        self.tab_while_pending = ""
        self.tabs_while_pending: object = "unset"

    def compose(self) -> ComposeResult:
        yield PreviewPane("warehouse", "oncall@example.com", id="preview")

    def on_mount(self) -> None:
        preview = self.query_one(PreviewPane)
        self.tabs_while_pending = preview.tabs
        preview.active = "tab-changes"
        self.tab_while_pending = preview.active
        preview.show_plan(self.review, build_plan(self.review.reviewed_handoff()), None)


class TestPreviewTabs:
    async def test_tabs_follow_the_first_frame_with_what_was_asked_before(
        self, demo: Handoff
    ) -> None:
        app = PreviewOnly(demo)
        async with app.run_test(size=(100, 30)) as pilot:
            preview = app.query_one(PreviewPane)
            await until(pilot, lambda: preview.tabs is not None)
            assert app.tabs_while_pending is None
            assert app.tab_while_pending == "tab-changes"
            assert preview.active == "tab-changes"
            assert not preview.query("#preview-pending")
            changes = str(preview.query_one("#changes-text", Static).render())
            assert "risk-worker" in changes and "critical" in changes
            tabs = preview.tabs
            assert tabs is not None
            assert str(tabs.get_tab("tab-changes").label) == "Changes (1)"
            preview.active = "tab-sql"
            await pilot.pause()
            assert list(preview.statement_views())
