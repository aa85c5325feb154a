"""Making untrusted text safe to show: no markup, no control or bidi characters acting.

Handoff text comes from upstream and may hold anything (the synthetic reports deliberately
carry newlines, bidi overrides and zero-width characters). The app never parses it as markup,
and shows control and format characters as escapes so a field cannot reorder or forge lines.
"""

from __future__ import annotations

from core.runbook import one_line


def line(text: str) -> str:
    """`text` on one line, control and format characters shown as escapes (tree, tables)."""
    return one_line(text)


def block(text: str) -> str:
    """`text` keeping its line breaks, other control and format characters shown as escapes."""
    return "\n".join(one_line(part) for part in text.split("\n"))
