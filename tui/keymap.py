"""Every key binding of the review app, in one table.

Each binding has a stable id (what a user remaps in the config file's `[keymap]` table), a
tooltip, and a command-palette title, so the Footer, the key panel, the help screen and the
command palette are all generated from the same rows and cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding

Scope = Literal["app", "main", "tree", "reports", "confirm", "editor", "dialog", "help"]


@dataclass(frozen=True)
class KeySpec:
    """One binding: where it applies, its default keys, and how it is described."""

    id: str
    scope: Scope
    keys: str
    action: str
    description: str
    """Short label for the Footer and key panel."""
    tooltip: str
    command: str | None = None
    """Command-palette title; None for bindings that only make sense inside a dialog."""
    show: bool = False
    """Shown in the Footer (secondary bindings appear in the key panel and help)."""
    key_display: str | None = None
    priority: bool = False


KEYS: tuple[KeySpec, ...] = (
    # -- everywhere ------------------------------------------------------------------------
    KeySpec(
        "app.help",
        "app",
        "question_mark,f1",
        "help",
        "Help",
        "Show every key and what it does",
        "Help: show keys",
        show=True,
        key_display="?",
    ),
    KeySpec(
        "app.quit",
        "app",
        "q",
        "quit_app",
        "Quit",
        "Quit (asks first if edits are unapplied or a run is in flight)",
        "Quit",
        show=True,
    ),
    KeySpec(
        "app.screenshot",
        "app",
        "f8",
        "save_screenshot",
        "Screenshot",
        "Save an SVG screenshot of the screen",
        "Save screenshot (SVG)",
    ),
    KeySpec(
        "app.toggle-dark",
        "app",
        "f9",
        "toggle_dark",
        "Light/dark",
        "Switch between the light and dark theme",
        "Switch light/dark theme",
    ),
    KeySpec(
        "app.keys",
        "app",
        "f2",
        "toggle_key_panel",
        "Keys panel",
        "Show or hide the key panel",
        "Show/hide the key panel",
    ),
    # -- the review screen -----------------------------------------------------------------
    KeySpec(
        "review.cycle-risk",
        "main",
        "r",
        "cycle_risk",
        "Risk",
        "Cycle the selected service's risk: low, medium, high, critical",
        "Risk: cycle the selected service's level",
        show=True,
    ),
    KeySpec(
        "review.risk-low",
        "main",
        "1",
        "set_risk('low')",
        "Low",
        "Set the selected service's risk to low",
        "Risk: set to low",
    ),
    KeySpec(
        "review.risk-medium",
        "main",
        "2",
        "set_risk('medium')",
        "Medium",
        "Set the selected service's risk to medium",
        "Risk: set to medium",
    ),
    KeySpec(
        "review.risk-high",
        "main",
        "3",
        "set_risk('high')",
        "High",
        "Set the selected service's risk to high",
        "Risk: set to high",
    ),
    KeySpec(
        "review.risk-critical",
        "main",
        "4",
        "set_risk('critical')",
        "Critical",
        "Set the selected service's risk to critical",
        "Risk: set to critical",
    ),
    KeySpec(
        "review.edit-action",
        "main",
        "e",
        "edit_action",
        "Edit",
        "Edit the selected service's recommended action",
        "Edit the recommended action",
        show=True,
    ),
    KeySpec(
        "review.toggle-included",
        "main",
        "x",
        "toggle_included",
        "Include",
        "Include or exclude the selected production service from the write",
        "Include/exclude the selected service",
    ),
    KeySpec("review.undo", "main", "u", "undo", "Undo", "Undo the last edit", "Undo the last edit"),
    KeySpec("review.redo", "main", "U", "redo", "Redo", "Redo the edit just undone", "Redo"),
    KeySpec(
        "review.filter",
        "main",
        "slash",
        "filter",
        "Filter",
        "Filter the tree by service, owner or monitor",
        "Filter services by name, owner or monitor",
        key_display="/",
    ),
    KeySpec(
        "review.copy-sql",
        "main",
        "c",
        "copy_sql",
        "Copy SQL",
        "Copy the statements that would run now",
        "Copy the SQL to the clipboard",
        show=True,
    ),
    KeySpec(
        "review.approve",
        "main",
        "a",
        "approve",
        "Approve",
        "Review the write and approve it (a confirm dialog opens first)",
        "Approve and run the write",
        show=True,
    ),
    KeySpec(
        "review.cancel-run",
        "main",
        "ctrl+c,escape",
        "cancel_run",
        "Cancel run",
        "Cancel the running write (asks first; the warehouse statement is cancelled)",
        "Cancel the run",
        show=True,
        priority=True,
    ),
    KeySpec(
        "review.verify",
        "main",
        "v",
        "verify",
        "Verify",
        "Re-verify this report's rows in the table",
        "Verify this report in the table",
        show=True,
    ),
    KeySpec(
        "review.reports",
        "main",
        "R",
        "reports",
        "Reports",
        "Open the reports already in the table",
        "Reports in the table",
        show=True,
    ),
    KeySpec(
        "review.export",
        "main",
        "ctrl+e",
        "export",
        "Export",
        "Export the edited handoff to a file `impact-review apply` accepts",
        "Export the edited handoff",
    ),
    KeySpec(
        "review.toggle-run",
        "main",
        "f6",
        "toggle_run_panel",
        "Run panel",
        "Show or hide the run status panel",
        "Show/hide the run panel",
    ),
    KeySpec(
        "review.next-tab",
        "main",
        "right_square_bracket",
        "next_tab",
        "Next tab",
        "Show the next preview tab (SQL, runbook, plan, payloads, changes)",
        "Preview: next tab",
        key_display="]",
    ),
    KeySpec(
        "review.previous-tab",
        "main",
        "left_square_bracket",
        "previous_tab",
        "Previous tab",
        "Show the previous preview tab",
        "Preview: previous tab",
        key_display="[",
    ),
    # -- the impact tree -------------------------------------------------------------------
    KeySpec(
        "tree.down", "tree", "j", "cursor_down", "Down", "Move down the tree", "Tree: move down"
    ),
    KeySpec("tree.up", "tree", "k", "cursor_up", "Up", "Move up the tree", "Tree: move up"),
    KeySpec(
        "tree.top",
        "tree",
        "g",
        "scroll_home",
        "Top",
        "Jump to the top of the tree",
        "Tree: jump to the top",
    ),
    KeySpec(
        "tree.bottom",
        "tree",
        "G",
        "scroll_end",
        "Bottom",
        "Jump to the bottom of the tree",
        "Tree: jump to the bottom",
    ),
    KeySpec(
        "tree.collapse",
        "tree",
        "h",
        "collapse_or_parent",
        "Collapse",
        "Collapse the node, or go to its parent",
        "Tree: collapse / go to parent",
    ),
    KeySpec(
        "tree.expand",
        "tree",
        "l",
        "expand_or_child",
        "Expand",
        "Expand the node, or go to its first child",
        "Tree: expand / go to first child",
    ),
    # -- the reports screen ----------------------------------------------------------------
    KeySpec(
        "reports.rows",
        "reports",
        "enter",
        "show_rows",
        "Rows",
        "Show the selected report's rows",
        "Reports: show rows",
        show=True,
    ),
    KeySpec(
        "reports.verify",
        "reports",
        "v",
        "verify",
        "Verify",
        "Re-verify the selected report",
        "Reports: verify the selected report",
        show=True,
    ),
    KeySpec(
        "reports.refresh",
        "reports",
        "f5",
        "refresh",
        "Refresh",
        "Read the reports from the table again",
        "Reports: refresh",
        show=True,
    ),
    KeySpec(
        "reports.close",
        "reports",
        "escape",
        "close",
        "Back",
        "Back to the review",
        "Reports: back to the review",
        show=True,
    ),
    # -- dialogs ---------------------------------------------------------------------------
    KeySpec("confirm.yes", "confirm", "y", "yes", "Yes", "Answer yes", show=True),
    KeySpec(
        "confirm.no", "confirm", "n,escape", "no", "No", "Answer no (the safe default)", show=True
    ),
    KeySpec(
        "editor.done",
        "editor",
        "ctrl+s,escape",
        "done",
        "Done",
        "Keep the text and close the editor",
        show=True,
    ),
    KeySpec(
        "editor.revert",
        "editor",
        "ctrl+r",
        "revert",
        "Revert",
        "Put back the handoff's original text",
        show=True,
    ),
    KeySpec(
        "dialog.close",
        "dialog",
        "escape",
        "close",
        "Close",
        "Close this dialog without doing anything",
        show=True,
    ),
    KeySpec(
        "help.close",
        "help",
        "escape,q,question_mark,f1",
        "close",
        "Close",
        "Close the help",
        show=True,
        key_display="esc",
    ),
)
"""Every binding, in the order the help screen lists them."""

KEYS_BY_ID = {spec.id: spec for spec in KEYS}


def bindings(scope: Scope) -> list[Binding]:
    """The Textual bindings for one scope (a class's BINDINGS)."""
    return [
        Binding(
            spec.keys,
            spec.action,
            spec.description,
            show=spec.show,
            key_display=spec.key_display,
            tooltip=spec.tooltip,
            id=spec.id,
            priority=spec.priority,
        )
        for spec in KEYS
        if spec.scope == scope
    ]


def specs(scopes: Iterable[Scope]) -> list[KeySpec]:
    """The bindings of some scopes, in table order."""
    wanted = set(scopes)
    return [spec for spec in KEYS if spec.scope in wanted]


def check_keymap(keymap: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The usable part of a user keymap, and a problem line for each unknown binding id."""
    usable: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in KEYS_BY_ID:
            problems.append(f"keymap: no binding with id {binding_id!r}")
            continue
        usable[binding_id] = keys
    return usable, problems


def display_keys(spec: KeySpec, keymap: Mapping[str, str] | None = None) -> str:
    """The keys of a binding as the help screen shows them (with the user's remapping)."""
    keys = (keymap or {}).get(spec.id, spec.keys)
    names = {
        "question_mark": "?",
        "slash": "/",
        "right_square_bracket": "]",
        "left_square_bracket": "[",
        "escape": "esc",
        "enter": "enter",
    }
    return " ".join(names.get(key.strip(), key.strip()) for key in keys.split(","))
