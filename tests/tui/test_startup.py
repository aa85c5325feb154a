"""Start-up: the tree paints first, the plan follows from a worker, and the layout fits the
terminal from the first frame and after every resize."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import Static

from tests.conftest import REPO
from tests.tui.conftest import MakeApp, main_of, plan_of, settle
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
        program = (
            "import sys\n"
            "import core.loading, core.plan, core.warehouse.config, tui.app, tui.screens.main\n"
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
