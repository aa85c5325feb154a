"""Command-palette commands (ctrl+p): every key binding, plus jump to a service or an owner.

Binding commands are generated from the keymap table, so every key has a palette command, and
commands whose action is disabled right now (approve during a run, say) are not offered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widget import Widget

from tui.keymap import KEYS, KeySpec, Scope, display_keys
from tui.text import line

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

LARGE_REPORT = 2_000
"""Above this many services, only services whose name contains the query are fuzzy-matched."""
MAX_SERVICE_HITS = 50
"""Service matches offered at once in a large report; typing more narrows them."""


def _action_name(action: str) -> tuple[str, tuple[object, ...]]:
    name, _, rest = action.partition("(")
    if not rest:
        return name, ()
    argument = rest.rstrip(")").strip("'\"")
    return name, (argument,)


class ReviewCommands(Provider):
    """Commands for the review and reports screens."""

    def _main(self) -> MainScreen | None:
        from tui.screens.main import MainScreen

        screen = self.screen
        return screen if isinstance(screen, MainScreen) else None

    def _targets(self) -> dict[Scope, App[object] | Widget]:
        targets: dict[Scope, App[object] | Widget] = {"app": self.app}
        screen = self.screen
        main = self._main()
        if main is not None:
            from tui.widgets.impact_tree import ImpactTree

            targets["main"] = main
            targets["tree"] = main.query_one(ImpactTree)
        elif screen.id == "reports":
            targets["reports"] = screen
        return targets

    def _binding_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        keymap = getattr(self.app, "user_keymap", {})
        targets = self._targets()
        for spec in KEYS:
            target = targets.get(spec.scope)
            if spec.command is None or target is None:
                continue
            if not self._enabled(target, spec):
                continue
            help_text = f"{display_keys(spec, keymap)} · {spec.tooltip}"
            yield spec.command, help_text, partial(target.run_action, spec.action)

    @staticmethod
    def _enabled(target: App[object] | Widget, spec: KeySpec) -> bool:
        name, parameters = _action_name(spec.action)
        return bool(target.check_action(name, parameters))

    def _service_commands(self, query: str) -> Iterator[tuple[str, str, Callable[[], object]]]:
        main = self._main()
        if main is None:
            return
        review = main.review
        services = review.handoff.services
        large = len(services) > LARGE_REPORT
        needle = query.lower().removeprefix("jump to").strip()
        count = 0
        for service in services:
            if large and needle not in service.name.lower():
                continue
            reviewed = main.graph.index.service(review, service.name)
            state = reviewed.risk_level.value if reviewed.written else "skipped"
            help_text = f"{line(service.owner_team)} · {state}"
            yield (
                f"Jump to {line(service.name)}",
                help_text,
                partial(main.select_service, service.name),
            )
            count += 1
            if large and count >= MAX_SERVICE_HITS:
                break
        owners = sorted({service.owner_team for service in review.handoff.services})
        for owner in owners[:MAX_SERVICE_HITS]:
            yield (
                f"Filter by owner {line(owner)}",
                "Show only this team's services in the tree",
                partial(main.filter_tree, owner),
            )

    async def discover(self) -> Hits:
        for text, help_text, command in self._binding_commands():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, command in (
            *self._binding_commands(),
            *self._service_commands(query),
        ):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, text=text, help=help_text)
