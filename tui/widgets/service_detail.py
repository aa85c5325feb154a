"""The selected service in full: evidence, dependency, monitors, owner, and what was edited.

Everything is rendered from core values (the review and the graph); edited fields are marked
and show the handoff's original value beside the new one.
"""

from __future__ import annotations

from datetime import UTC

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from core.handoff import RiskLevel
from core.review import Review
from tui.impact_graph import ImpactGraph
from tui.text import block, line

RISK_STYLES = {
    RiskLevel.LOW: "bold $text-success on $success-muted",
    RiskLevel.MEDIUM: "bold $text-warning on $warning-muted",
    RiskLevel.HIGH: "bold $text-error on $error-muted",
    RiskLevel.CRITICAL: "bold $text on $error",
}
"""Risk badges, from theme variables only so they follow light and dark themes."""

LABEL = "bold $text-muted"
EDITED = "bold $text-accent"
WAS = "$text-muted italic"


def risk_badge(level: RiskLevel) -> Content:
    """A coloured risk badge, e.g. ` HIGH `."""
    return Content.styled(f" {level.value.upper()} ", RISK_STYLES[level])


def _field(label: str, value: str | Content) -> Content:
    # The label sits on its own line: values are long and often unbreakable (table names).
    shown = block(value) if isinstance(value, str) else value
    return Content.assemble((label, LABEL), "\n", shown, "\n")


class ServiceDetail(VerticalScroll, can_focus=True):
    """Detail of the selected service, or the report overview when no service is selected."""

    def __init__(self, review: Review, graph: ImpactGraph, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.review = review
        self.graph = graph
        self.service_name: str | None = None
        self._body = Static(id="detail-body")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def on_mount(self) -> None:
        self.border_title = "Report"
        self.render_detail()

    def show(self, review: Review, service_name: str | None) -> None:
        """Render `service_name` (None: the report overview) as it stands in `review`."""
        self.review = review
        if service_name != self.service_name:
            self.scroll_home(animate=False)
        self.service_name = service_name
        self.render_detail()

    def render_detail(self) -> None:
        """Re-render from the current review."""
        if self.service_name is None:
            self.border_title = "Report"
            self._body.update(self._overview())
        else:
            self.border_title = "Service"
            self._body.update(self._service(self.service_name))

    @property
    def text(self) -> str:
        """The detail as plain text (tests and the help screen read it)."""
        body = self._body.render()
        return body.plain if isinstance(body, Content) else str(body)

    def _overview(self) -> Content:
        handoff = self.review.handoff
        report = handoff.report
        services = handoff.services
        written = self.graph.index.written_count(self.review)
        generated = report.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        trigger = report.trigger
        return Content.assemble(
            (line(report.title), "bold $text-primary"),
            "\n",
            (f"{report.id} · generated {generated}", "$text-muted"),
            "\n\n",
            _field("Request", report.request),
            _field("Surface", report.databricks_surface),
            _field("Source PR", report.source_pr),
            _field("Investigation", report.investigation),
            _field(
                "Trigger",
                f"{line(trigger.pipeline)}: {line(trigger.failure)}; proposed: "
                f"{line(trigger.proposed_action)}",
            ),
            _field("Target table", report.target_table),
            _field("Services", f"{written} written, {len(services) - written} skipped"),
            "\n",
            ("Select a service in the tree to review and edit it.", "$text-muted italic"),
        )

    def _service(self, name: str) -> Content:
        review = self.review
        service = self.graph.index.service(review, name)
        original = self.graph.index.original(name)
        edited = review.edited_fields(name)
        heading: list[str | Content | tuple[str, str]] = [
            (line(service.name), "bold $text-primary")
        ]
        if service.written:
            heading += ["  ", risk_badge(service.risk_level)]
            if "risk_level" in edited:
                heading += [("  ✎ ", EDITED), (f"was {original.risk_level.value}", WAS)]
        status = "production" if service.production else "non-production"
        write = (
            "written to the table"
            if service.written
            else f"skipped: {line(service.skip_reason or '')}"
        )
        parts: list[str | Content | tuple[str, str]] = [
            *heading,
            "\n",
            (
                f"{line(service.owner_team)} · namespace {line(service.namespace)} · {status} · ",
                "$text-muted",
            ),
            (write, EDITED if "included" in edited else "$text-muted"),
            "\n\n",
            _field("Depends on", service.depends_on),
            _field("Evidence", service.evidence),
            _field("Dependency", service.dependency),
            _field("Monitors", self._monitors(service.active_monitors)),
            _field("Owner", service.owner_team),
            "\n",
            ("Recommended action", LABEL),
        ]
        if "recommended_action" in edited:
            parts += [("  ✎ edited", EDITED)]
        parts += ["\n", (block(service.recommended_action), "$text")]
        if "recommended_action" in edited:
            parts += ["\n", ("was: ", WAS), (block(original.recommended_action), WAS)]
        if not original.production:
            parts += ["\n\n", ("Non-production services are never written.", "$text-muted")]
        return Content.assemble(*parts)

    def _monitors(self, names: list[str]) -> Content:
        if not names:
            return Content.styled("none active", "$text-muted")
        pieces: list[Content] = []
        for name in names:
            firing = self.graph.monitor_firing(name)
            if firing:
                pieces.append(Content.styled(f"● {line(name)} (firing)", "bold $text-error"))
            else:
                pieces.append(Content(line(name)))
        return Content("\n").join(pieces)
