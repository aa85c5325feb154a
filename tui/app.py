"""The review app: a thin shell around the review screen (keys, theme, palette, quitting)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen

from core.config_file import UserConfig
from core.handoff import Handoff
from tui.commands_palette import ReviewCommands
from tui.context import AppContext
from tui.keymap import bindings, check_keymap
from tui.screens.main import MainScreen, freeze_long_lived

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"


class ImpactReviewApp(App[None]):
    """Review a production-impact handoff, approve it, write it, verify it."""

    CSS_PATH = "app.tcss"
    TITLE = "impact-review"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings("app"))
    """Help, quit, screenshot, light/dark and the key panel (ids `app.*`)."""
    COMMANDS = App.COMMANDS | {ReviewCommands}
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    """Dialogs tighten their padding on short terminals (24 rows)."""

    def __init__(
        self,
        handoff: Handoff,
        *,
        source: str = "<handoff>",
        context: AppContext | None = None,
        config: UserConfig | None = None,
    ) -> None:
        freeze_long_lived(handoff)
        super().__init__()
        self.handoff = handoff
        self.source = source
        self.context = context or AppContext()
        self.config = config or UserConfig()
        if self.config.approver and context is None:
            self.context.approver = self.config.approver
        self.user_keymap, self.config_problems = check_keymap(self.config.keymap)
        self.config_problems = [*self.config.problems, *self.config_problems]
        self.theme = DARK_THEME

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(self.handoff, self.source, self.context)

    @property
    def main_screen(self) -> MainScreen:
        """The review screen (always at the bottom of the stack)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        theme = self.config.theme
        if theme:
            if theme in self.available_themes:
                self.theme = theme
            else:
                self.config_problems.append(f"theme {theme!r} is not available")
        for problem in self.config_problems:
            self.notify(problem, title="Config file", severity="warning", timeout=8)

    async def on_unmount(self) -> None:
        if self.context.sessions is not None:
            await self.context.sessions.close()

    def action_help(self) -> None:
        """Show every key (from the keymap, with the user's remapping)."""
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.user_keymap))

    def action_toggle_dark(self) -> None:
        """Switch between the light and dark theme."""
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME

    def action_toggle_key_panel(self) -> None:
        """Show or hide Textual's key panel (every active binding with its tooltip)."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_save_screenshot(self) -> None:
        """Save an SVG of the screen where ctrl+e exports go."""
        directory = self.context.export_dir
        try:
            path = self.save_screenshot(path=str(directory))
        except OSError as error:
            self.notify(f"Could not save the screenshot: {error}", severity="error")
            return
        self.notify(f"Saved {path}", title="Screenshot")

    async def action_quit(self) -> None:
        """ctrl+q goes through the same questions as q."""
        self.action_quit_app()

    def action_quit_app(self) -> None:
        """Quit, asking first if edits are unapplied or a run is in flight."""
        from tui.screens.dialogs import YesNoDialog

        question = self.main_screen.quit_question()
        if question is None:
            self.exit()
            return
        if any(screen.id == "confirm-quit" for screen in self.screen_stack):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.workers.cancel_all()
                self.exit()

        self.push_screen(
            YesNoDialog("Quit?", question, yes="Quit", no="Stay", id="confirm-quit"), answered
        )


def run_app(app: ImpactReviewApp, *, web_dir: Path | None = None) -> int:
    """Run the app in the terminal; returns the exit code."""
    app.run()
    return 0
