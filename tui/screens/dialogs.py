"""Modal dialogs: yes/no confirmations (safe default: No), the action editor, export, errors."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static, TextArea

from tui.keymap import bindings


class YesNoDialog(ModalScreen[bool]):
    """A question answered with y or n; focus starts on No so enter alone never approves."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("confirm"),
    ]
    """y, n and escape (n and escape both answer no)."""

    def __init__(
        self,
        title: str,
        body: Content | str,
        *,
        yes: str = "Yes",
        no: str = "No",
        id: str | None = None,
        danger: bool = False,
    ) -> None:
        super().__init__(id=id, classes="dialog-screen")
        self.title_text = title
        self.body = body
        self.yes_label = yes
        self.no_label = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog" + (" -danger" if self.danger else "")) as dialog:
            dialog.border_title = self.title_text
            yield Static(self.body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    f"{self.yes_label} (y)",
                    id="yes",
                    variant="error" if self.danger else "primary",
                )
                yield Button(f"{self.no_label} (n)", id="no", variant="default")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        """Answer yes."""
        self.dismiss(True)

    def action_no(self) -> None:
        """Answer no."""
        self.dismiss(False)


class EditActionDialog(ModalScreen[str | None]):
    """Multi-line editor for a recommended action; ctrl+s or escape keeps the text."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("editor")]
    """ctrl+s / escape finish; ctrl+r restores the handoff's text."""

    def __init__(self, service: str, current: str, original: str, *, blink: bool = True) -> None:
        super().__init__(id="edit-action", classes="dialog-screen")
        self.blink = blink
        self.service = service
        self.current = current
        self.original = original

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog editor") as dialog:
            dialog.border_title = f"Recommended action · {self.service}"
            yield TextArea(
                self.current,
                id="action-text",
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="focus",
            )
            yield Static(
                Content.assemble(
                    ("Original: ", "bold $text-muted"), (self.original, "$text-muted")
                ),
                classes="dialog-note",
            )
            yield Footer()

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.cursor_blink = self.blink
        area.focus()
        area.move_cursor(area.document.end)

    def action_done(self) -> None:
        """Keep the text (an unchanged text changes nothing)."""
        text = self.query_one(TextArea).text.strip()
        self.dismiss(text if text else None)

    def action_revert(self) -> None:
        """Put the handoff's original text back in the editor."""
        area = self.query_one(TextArea)
        area.load_text(self.original)
        area.move_cursor(area.document.end)


class ExportDialog(ModalScreen[Path | None]):
    """Ask where to write the edited handoff."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("dialog")]
    """escape closes without writing."""

    def __init__(self, suggested: Path) -> None:
        super().__init__(id="export", classes="dialog-screen")
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Export the edited handoff"
            yield Label("File to write (impact-review apply accepts it):")
            yield Input(str(self.suggested), id="export-path")
            yield Static("enter writes the file · escape cancels", classes="dialog-note")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    def action_close(self) -> None:
        """Close without writing."""
        self.dismiss(None)


class ErrorDialog(ModalScreen[None]):
    """An error in full: what failed, and the warehouse's statement id, SQL state and code."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("dialog")]
    """escape closes."""

    def __init__(self, title: str, message: str, details: dict[str, str] | None = None) -> None:
        super().__init__(id="error", classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.details = details or {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -danger") as dialog:
            dialog.border_title = self.title_text
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(Content(self.message), classes="dialog-body")
                if self.details:
                    yield Static(
                        Content("\n").join(
                            Content.assemble((f"{name}: ", "bold $text-muted"), value)
                            for name, value in self.details.items()
                        ),
                        classes="dialog-note",
                    )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)
