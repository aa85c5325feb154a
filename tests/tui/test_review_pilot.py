"""Editing, navigation, drafts, export, palette, keys and quitting, driven by the keyboard."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Input, TextArea

from core.config_file import UserConfig
from core.drafts import draft_path, load_draft
from core.handoff import Handoff, RiskLevel
from core.loading import load_handoff
from core.plan import build_plan
from core.warehouse.config import Connection, TokenAuth
from core.warehouse.secret import Secret
from tests.tui.conftest import MakeApp, main_of, plan_of, settle, top
from tui.app import ImpactReviewApp
from tui.context import AppContext
from tui.screens.dialogs import EditActionDialog, ErrorDialog, ExportDialog, YesNoDialog
from tui.screens.help import HelpScreen
from tui.widgets.impact_tree import ImpactTree
from tui.widgets.service_detail import ServiceDetail
from tui.widgets.sql_preview import PreviewPane, ValidationBanner, sql_script


class TestEditing:
    """Risk keys, include/exclude, the action editor, undo/redo and the change list."""

    async def test_risk_keys_and_undo(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            assert main.selected == "checkout-api"
            await pilot.press("4")
            assert main.review.service("checkout-api").risk_level is RiskLevel.CRITICAL
            await pilot.press("1")
            assert main.review.service("checkout-api").risk_level is RiskLevel.LOW
            await pilot.press("r")
            assert main.review.service("checkout-api").risk_level is RiskLevel.MEDIUM
            await pilot.press("3")
            assert not main.review.is_edited  # back to the handoff's value: no edit left
            await pilot.press("2")
            await pilot.press("u")
            assert not main.review.is_edited
            await pilot.press("U")
            assert main.review.service("checkout-api").risk_level is RiskLevel.MEDIUM
            await settle(pilot)
            detail = main.query_one(ServiceDetail)
            assert "✎ was high" in detail.text
            await pilot.press("right_square_bracket")
            await pilot.press("right_square_bracket")
            await pilot.press("right_square_bracket")
            await pilot.press("right_square_bracket")
            preview = main.query_one(PreviewPane)
            assert preview.active == "tab-changes"
            changes = str(preview.query_one("#changes-text").render())
            assert "checkout-api" in changes and "high" in changes and "medium" in changes

    async def test_include_exclude(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("x")
            await settle(pilot)
            assert not main.review.service("checkout-api").written
            assert [row.service_name for row in plan_of(main).rows] == ["risk-worker"]
            assert "excluded" in main.query_one(ServiceDetail).text
            await pilot.press("j", "j")
            assert main.selected == "checkout-playground"
            assert main.check_action("toggle_included", ()) is None
            await pilot.press("x")
            assert not main.review.service("checkout-playground").written
            # Excluding every production service leaves nothing to write: run is disabled.
            await pilot.press("k")
            await pilot.press("x")
            await settle(pilot)
            assert plan_of(main).rows == ()
            assert main.validated is False
            assert main.check_action("approve", ()) is None
            banner = str(main.query_one(ValidationBanner).render())
            assert "nothing to write" in banner

    async def test_action_editor(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("e")
            dialog = top(app)
            assert isinstance(dialog, EditActionDialog)
            await pilot.press("enter", *"second line")
            await pilot.press("escape")
            assert top(app) is main
            action = main.review.service("checkout-api").recommended_action
            assert action.endswith("owner approval\nsecond line")
            # ctrl+r in the editor puts the original text back: the edit disappears.
            await pilot.press("e")
            assert top(app).query_one(TextArea).text == action
            await pilot.press("ctrl+r", "ctrl+s")
            assert not main.review.is_edited


class TestNavigation:
    """Vim keys, lazy service children, filtering and jumping."""

    async def test_tree_keys(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            tree = main.query_one(ImpactTree)
            node = tree.service_nodes["checkout-api"]
            assert not node.children  # built lazily
            await pilot.press("l")
            groups = [child.data.text for child in node.children if child.data]
            assert groups == ["Runtime", "Monitors (2 firing)", "Owner", "Recent changes"]
            await pilot.press("l")
            assert tree.cursor_node is node.children[0]
            await pilot.press("h")
            assert tree.cursor_node is node.children[0] and not node.children[0].is_expanded
            await pilot.press("h")
            assert tree.cursor_node is node
            await pilot.press("h")
            assert not node.is_expanded
            await pilot.press("g")
            assert tree.cursor_line == 0 and main.selected is None
            assert "checkout feature pipeline remediation" in main.query_one(ServiceDetail).text
            await pilot.press("G")
            assert main.selected == "checkout-playground"
            await pilot.press("k")
            assert main.selected == "risk-worker"
            assert main.check_action("edit_action", ()) is True
            await pilot.press("g")
            assert main.check_action("edit_action", ()) is None

    async def test_filter(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            tree = main.query_one(ImpactTree)
            await pilot.press("slash")
            box = main.query_one("#filter", Input)
            assert box.has_focus and box.display
            await pilot.press(*"pay")
            assert list(tree.service_nodes) == ["checkout-api"]
            await pilot.press("ctrl+u", *"fresh")
            assert list(tree.service_nodes) == ["checkout-api", "risk-worker"]
            await pilot.press("ctrl+u", *"risk")
            assert list(tree.service_nodes) == ["risk-worker"]
            await pilot.press("enter")
            assert tree.has_focus and main.selected == "risk-worker"
            await pilot.press("slash", "escape")
            assert not box.display
            assert list(tree.service_nodes) == [s.name for s in main.review.handoff.services]

    async def test_command_palette_jump(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("ctrl+p")
            await pilot.press(*"jump to risk-worker")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert top(app) is main
            assert main.selected == "risk-worker"

    async def test_command_palette_runs_bindings(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("ctrl+p")
            await pilot.press(*"risk: set to critical")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert main.review.service("checkout-api").risk_level is RiskLevel.CRITICAL


class TestNothingLost:
    """Drafts, export, quitting."""

    async def test_draft_autosave_and_restore(
        self, make_app: MakeApp, demo: Handoff, context: AppContext
    ) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("j", "4")
            await settle(pilot)
            assert draft_path(demo, context.home).exists()
            draft = load_draft(demo, context.home)
            assert draft is not None and draft.edit_count == 1

        again = ImpactReviewApp(demo, context=context)
        async with again.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            dialog = top(again)
            assert isinstance(dialog, YesNoDialog) and dialog.id == "restore"
            await pilot.press("y")
            await settle(pilot)
            restored = main_of(again).review
            assert restored.service("risk-worker").risk_level is RiskLevel.CRITICAL

        declined = ImpactReviewApp(demo, context=context)
        async with declined.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("n")
            assert not main_of(declined).review.is_edited

    async def test_quitting_right_after_an_edit_keeps_the_draft_current(
        self, make_app: MakeApp, demo: Handoff, context: AppContext
    ) -> None:
        # The draft is saved when the edit's preview is shown; quitting before that still
        # leaves the draft as the review stands (an undone edit is not offered again).
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main_of(app).action_cycle_risk()
            app.exit()
        draft = load_draft(demo, context.home)
        assert draft is not None
        assert draft.review.service("checkout-api").risk_level is RiskLevel.CRITICAL

        again = make_app()
        async with again.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("n")  # start fresh: the draft stays until the next edit
            await settle(pilot)
            main = main_of(again)
            main.action_cycle_risk()
            await settle(pilot)
            main.action_undo()
            again.exit()
        assert load_draft(demo, context.home) is None

    async def test_export_is_accepted_by_apply(self, make_app: MakeApp, tmp_path: Path) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("j", "3", "ctrl+e")
            dialog = top(app)
            assert isinstance(dialog, ExportDialog)
            await pilot.press("enter")
            await settle(pilot)
            exported = tmp_path / "annie-dbx-checkout-2044.reviewed.json"
            reloaded = load_handoff(exported)
            assert reloaded == main.review.reviewed_handoff()
            assert build_plan(reloaded).digest == plan_of(main).digest

    async def test_quit_asks_with_unapplied_edits(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("4")
            await pilot.press("q")
            dialog = top(app)
            assert isinstance(dialog, YesNoDialog) and dialog.id == "confirm-quit"
            await pilot.press("n")
            assert top(app) is main_of(app)
            await pilot.press("ctrl+q")
            assert top(app).id == "confirm-quit"
            await pilot.press("y")
            await pilot.pause()
        assert app.return_code == 0

    async def test_quit_right_away_without_edits(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
            assert not app.is_running


class TestConveniences:
    """Copy, help, themes, screenshots, the keymap and secrets."""

    async def test_copy_sql(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            assert app.clipboard == sql_script(plan_of(main_of(app)))
            assert any(n.title == "SQL copied" for n in app._notifications)

    async def test_help_screen(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            assert isinstance(top(app), HelpScreen)
            help_screen = top(app)
            assert isinstance(help_screen, HelpScreen)
            text = help_screen.text
            assert "Approve" in text and "Cycle the selected service's risk" in text
            await pilot.press("escape")
            await pilot.press("f1")
            assert isinstance(top(app), HelpScreen)
            await pilot.press("q")
            assert top(app) is main_of(app)

    async def test_theme_and_screenshot(self, make_app: MakeApp, tmp_path: Path) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert app.current_theme.dark
            await pilot.press("f9")
            assert not app.current_theme.dark
            await pilot.press("f8")
            assert any(name.endswith(".svg") for name in os.listdir(tmp_path))

    async def test_user_keymap(self, demo: Handoff, context: AppContext) -> None:
        config = UserConfig(keymap={"review.cycle-risk": "z", "no.such-binding": "y"})
        app = ImpactReviewApp(demo, context=context, config=config)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            await pilot.press("r")
            assert not main.review.is_edited
            await pilot.press("z")
            assert main.review.service("checkout-api").risk_level is RiskLevel.CRITICAL
            assert any("no.such-binding" in str(n.message) for n in app._notifications)

    async def test_no_token_on_screen(self, demo: Handoff, context: AppContext) -> None:
        token = "dapi-0123456789abcdef-SECRET"
        context.connection = Connection(
            kind="databricks",
            host="https://dbc-1234.cloud.databricks.com",
            warehouse_id="abc123",
            auth=TokenAuth(Secret(token)),
        )
        app = ImpactReviewApp(demo, context=context)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("a")
            screenshot = app.export_screenshot()
            assert "dbc-1234.cloud.databricks.com" in screenshot
            assert token not in screenshot
            await pilot.press("n", "right_square_bracket", "right_square_bracket")
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert token not in app.export_screenshot()


class TestValidationErrors:
    """A plan that fails the policy is shown with its error and cannot run."""

    async def test_read_only_catalog(self, make_app: MakeApp, demo: Handoff) -> None:
        report = demo.report.model_copy(update={"target_table": "system.default.impact"})
        app = make_app(demo.model_copy(update={"report": report}))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            main = main_of(app)
            assert main.validated is False
            assert main.check_action("approve", ()) is None
            banner = str(main.query_one(ValidationBanner).render())
            assert "not valid" in banner and "read-only system catalog" in banner
            await pilot.press("a")
            assert top(app) is main


class TestEarlyJump:
    """A jump requested before the tree's first cursor placement is not undone by it."""

    async def test_jump_before_first_placement(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            main_of(app).select_service("checkout-playground")
            await settle(pilot)
            assert main_of(app).selected == "checkout-playground"


class TestNoWarehouse:
    """Without a usable warehouse the review still works and approve explains why it cannot."""

    async def test_approve_explains_the_configuration_problem(self, make_app: MakeApp) -> None:
        app = make_app(connection=None, connection_error="no SQL warehouse id configured")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("4")
            await pilot.press("a")
            dialog = top(app)
            assert isinstance(dialog, ErrorDialog)
            assert dialog.message == "no SQL warehouse id configured"
            await pilot.press("escape")
            assert top(app) is main_of(app)
            await pilot.press("v")
            assert isinstance(top(app), ErrorDialog)
