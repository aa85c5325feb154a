"""A Footer that rebuilds once per refresh, however many bindings changed in between.

Textual's Footer recomposes on every bindings update; the review screen updates several
binding-bound reactives at once (selection, validation, run state), and each recompose restyles
every key. Coalescing them keeps startup and navigation snappy.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class CalmFooter(Footer):
    """Footer whose recomposes are coalesced."""

    def __init__(self) -> None:
        super().__init__()
        self._rebuild_scheduled = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._rebuild_scheduled:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_scheduled = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_scheduled = False
        await self.recompose()
