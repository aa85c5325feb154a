"""The help screen: every key, generated from the keymap (with the user's remapping)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keymap import KEYS, Scope, bindings, display_keys

SECTIONS: tuple[tuple[Scope, str], ...] = (
    ("main", "Review"),
    ("tree", "Impact tree (also arrows, enter, space)"),
    ("app", "Everywhere (ctrl+p opens the command palette)"),
    ("reports", "Reports screen"),
    ("confirm", "Confirm dialogs"),
    ("editor", "Action editor"),
)

INTRO = (
    "Review the services the graph says a Databricks action may affect, adjust risk and "
    "recommended actions, check the SQL that would run, then approve: the statements run on the "
    "warehouse shown in the confirm dialog and the rows are read back and verified."
)


REMAP_NOTE = (
    "Remap any key by the id shown after it, in the config file's [keymap] table, e.g. "
    '"review.approve" = "ctrl+a" (config.toml under IMPACT_REVIEW_HOME, or $IMPACT_REVIEW_CONFIG).'
)


def help_content(keymap: Mapping[str, str] | None = None) -> Content:
    """The help text: an introduction, then each section's keys."""
    parts: list[Content] = [Content.styled(INTRO, "$text-muted"), Content("")]
    for scope, title in SECTIONS:
        parts.append(Content.styled(title, "bold $text-primary"))
        for spec in KEYS:
            if spec.scope != scope:
                continue
            keys = display_keys(spec, keymap)
            parts.append(
                Content.assemble(
                    (f"  {keys:<14}", "bold $text-accent"),
                    (f"{spec.description:<14}", "bold"),
                    (spec.tooltip, "$text-muted"),
                    (f"  {spec.id}", "$text-muted italic"),
                )
            )
        parts.append(Content(""))
    parts.append(Content.styled(REMAP_NOTE, "$text-muted"))
    return Content("\n").join(parts)


class HelpScreen(ModalScreen[None]):
    """Keys and what they do; escape, q, ? or f1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("help")]
    """Close keys."""

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        super().__init__(id="help", classes="dialog-screen")
        self.keymap = dict(keymap or {})

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help") as dialog:
            dialog.border_title = "impact-review · keys"
            dialog.border_subtitle = "esc closes"
            with VerticalScroll(can_focus=True, id="help-scroll"):
                yield Static(Content.styled(INTRO, "$text-muted"), classes="help-intro")
                for scope, title in SECTIONS:
                    yield Static(
                        Content.styled(title, "bold $text-primary"), classes="help-section"
                    )
                    with Grid(classes="help-keys"):
                        for spec in KEYS:
                            if spec.scope != scope:
                                continue
                            yield Static(
                                Content.styled(display_keys(spec, self.keymap), "bold $text-accent")
                            )
                            yield Static(Content.styled(spec.description, "bold"))
                            yield Static(
                                Content.assemble(
                                    spec.tooltip, (f"  {spec.id}", "$text-muted italic")
                                )
                            )
                yield Static(Content.styled(REMAP_NOTE, "$text-muted"), classes="help-intro")

    @property
    def text(self) -> str:
        """Everything the help shows, as plain text (tests read it)."""
        return help_content(self.keymap).plain

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
