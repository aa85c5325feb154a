"""The impact graph as a lazily built tree, with vim keys and risk badges.

Only what is visible is built: a service's runtime, monitors, owner and changes are added when
it is first expanded, and services appear in pages so a report with 10,000 services opens at
once. Labels are rendered from the current review on every paint, so an edit shows up in the
tree without rebuilding it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from core.handoff import RiskLevel
from core.review import Review
from tui.impact_graph import ImpactGraph, NodeRef
from tui.keymap import bindings
from tui.messages import ServiceSelected
from tui.text import line

PAGE_SIZE = 500
"""Services added per page; the rest wait behind a 'show more' line."""

RISK_CLASSES = {level: f"impact-tree--risk-{level.value}" for level in RiskLevel}


class ImpactTree(Tree[NodeRef]):
    """Trigger → table → feature path → services, each with its runtime, monitors and owner."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("tree"))
    """j/k/g/G/h/l on top of Tree's arrows, enter and space."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "impact-tree--detail",
        "impact-tree--dim",
        "impact-tree--edited",
        "impact-tree--firing",
        "impact-tree--group",
        *RISK_CLASSES.values(),
    }
    """Risk badges, dimmed skipped services, firing monitors and edit marks (styled in TCSS)."""

    def __init__(self, review: Review, graph: ImpactGraph, *, id: str | None = None) -> None:
        chain = graph.chain()
        super().__init__(chain[0].text, chain[0], id=id)
        self.guide_depth = 2
        self.review = review
        """The review the labels are rendered from (the screen replaces it after each edit)."""
        self.graph = graph
        self.query_text = ""
        """The current filter ('' shows every service)."""
        self.services_parent: TreeNode[NodeRef] = self.root
        """The node whose children are the services."""
        self.service_nodes: dict[str, TreeNode[NodeRef]] = {}
        """Service name to its tree node, for the services added so far."""
        self._pending: list[str] = []
        """Services matching the filter that are not in the tree yet (behind 'show more')."""
        self._more: TreeNode[NodeRef] | None = None
        self._last_service: str | None = None
        self._starting_at: str | None = None
        self._moves = 0
        """Cursor moves requested so far (a queued move runs only if it is the latest)."""
        self._build_spine(chain)
        self.initial_service: str | None = next(iter(self.service_nodes), None)
        """Where the cursor starts. The screen shows it from the first frame, so highlights on
        the way there (the root is highlighted first) are not announced."""
        self._starting_at = self.initial_service
        self._last_service = self.initial_service

    # -- building -------------------------------------------------------------------------

    def _build_spine(self, chain: list[NodeRef]) -> None:
        node = self.root
        node.expand()
        for ref in self.graph.context(chain[0]):
            node.add_leaf(ref.text, ref)
        for ref in chain[1:]:
            node = node.add(ref.text, ref, expand=True)
            for context in self.graph.context(ref):
                node.add_leaf(context.text, context)
        self.services_parent = node
        self._fill_services()

    def _fill_services(self) -> None:
        """(Re)populate the services under the spine for the current filter."""
        for name in list(self.service_nodes):
            self.service_nodes.pop(name).remove()
        if self._more is not None:
            self._more.remove()
            self._more = None
        self._pending = [service.name for service in self.graph.matching(self.query_text)]
        self._add_page()

    def _add_page(self, size: int = PAGE_SIZE) -> None:
        page, self._pending = self._pending[:size], self._pending[size:]
        parent = self.services_parent
        if self._more is not None:
            self._more.remove()
            self._more = None
        for name in page:
            self.service_nodes[name] = parent.add(name, NodeRef("service", name, service=name))
        if self._pending:
            label = f"… {len(self._pending):,} more services (enter to show)"
            self._more = parent.add_leaf(label, NodeRef("more", label))

    def _add_service_children(self, node: TreeNode[NodeRef]) -> None:
        ref = node.data
        if ref is None or ref.kind != "service" or node.children:
            return
        service = self.graph.index.service(self.review, ref.text)
        for group, items in self.graph.service_groups(service):
            branch = node.add(group.text, group, expand=True)
            for item in items:
                branch.add_leaf(item.text, item)

    # -- filtering and jumping ------------------------------------------------------------

    def apply_filter(self, query: str) -> int:
        """Show only services matching `query`; returns how many match."""
        self.query_text = query.strip()
        self._fill_services()
        count = len(self.service_nodes) + len(self._pending)
        first = next(iter(self.service_nodes.values()), None)
        if first is not None:
            self.move_to(first)
        return count

    def move_to(self, node: TreeNode[NodeRef]) -> None:
        """Move the cursor to a node that may have been added just now.

        A new node has no line until the tree rebuilds its lines on the next refresh. Only the
        latest request counts: a jump made before the first placement is not undone by it.
        """
        self._moves += 1
        self.call_after_refresh(self._move_now, node, self._moves)

    def _move_now(self, node: TreeNode[NodeRef], request: int) -> None:
        if request != self._moves:
            return
        self.move_cursor(node)
        self.scroll_to_node(node, animate=False)
        # The line may not have changed while the node on it did (after filtering).
        self._starting_at = None
        self._announce(node)

    def on_mount(self) -> None:
        if self.initial_service is not None:
            self.move_to(self.service_nodes[self.initial_service])

    def _announce(self, node: TreeNode[NodeRef]) -> None:
        name = node.data.service if node.data else None
        if name != self._last_service:
            self._last_service = name
            self.post_message(ServiceSelected(name))

    def select_service(self, name: str) -> bool:
        """Move the cursor to a service, clearing a filter that hides it."""
        if name not in self.service_nodes and name not in self._pending:
            if name not in self.graph.index.originals:
                return False
            self.apply_filter("")
        if name not in self.service_nodes and name in self._pending:
            # Add every page up to and including the one holding the service.
            position = self._pending.index(name)
            self._add_page(PAGE_SIZE * (position // PAGE_SIZE + 1))
        node = self.service_nodes.get(name)
        if node is None:
            return False
        self.services_parent.expand()
        self.move_to(node)
        return True

    def refresh_services(self, names: frozenset[str] | None = None) -> None:
        """Repaint the lines of some services (all when None) after an edit."""
        if names is None:
            self.refresh()
            return
        for name in names:
            node = self.service_nodes.get(name)
            if node is not None:
                node.refresh()

    @property
    def current_service(self) -> str | None:
        """The service under the cursor (its own line or any line below it)."""
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data.service

    # -- events ---------------------------------------------------------------------------

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        self._add_service_children(event.node)

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        # Announce where the cursor is now: a highlight may arrive after the cursor moved on.
        node = self.cursor_node
        if node is None:
            return
        if self._starting_at is not None:
            if node.data is None or node.data.service != self._starting_at:
                return
            self._starting_at = None
        self._announce(node)

    def _on_tree_node_selected(self, event: Tree.NodeSelected[NodeRef]) -> None:
        if event.node.data is not None and event.node.data.kind == "more":
            line = event.node.line
            self._add_page()
            self.move_cursor_to_line(line)

    # -- vim keys -------------------------------------------------------------------------

    def action_collapse_or_parent(self) -> None:
        """h: collapse an open node, else go to its parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.allow_expand:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    def action_expand_or_child(self) -> None:
        """l: expand a closed node, else go to its first child."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])

    # -- labels ---------------------------------------------------------------------------

    def process_label(self, label: str | Text) -> Text:
        # Names come from the handoff: never parse them as markup.
        return Text(line(label)) if isinstance(label, str) else label

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def render_label(self, node: TreeNode[NodeRef], base_style: Style, style: Style) -> Text:
        ref = node.data
        if ref is None:
            return super().render_label(node, base_style, style)
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
            prefix = Text(icon, base_style + Style(bold=True))
        else:
            prefix = Text("", base_style)
        if ref.kind == "service":
            label = self._service_label(ref.text)
        elif ref.kind == "group":
            label = Text(ref.text, self._style("impact-tree--group"))
            if ref.firing:
                label.stylize(self._style("impact-tree--firing"))
        elif ref.kind == "more":
            label = Text(ref.text, self._style("impact-tree--dim"))
        else:
            label = Text(line(ref.text))
            if ref.firing:
                label = Text.assemble(("● ", self._style("impact-tree--firing")), label)
                label.stylize(self._style("impact-tree--firing"))
            if ref.detail:
                label.append(f"  {line(ref.detail)}", self._style("impact-tree--detail"))
        label.stylize(style)
        return Text.assemble(prefix, label)

    def _service_label(self, name: str) -> Text:
        service = self.graph.index.service(self.review, name)
        edited = self.review.edited_fields(name)
        if not service.written:
            label = Text(line(name), self._style("impact-tree--dim"))
            reason = line(service.skip_reason or "")
            label.append(f"  skipped: {reason}", self._style("impact-tree--dim"))
            if edited:
                label.append(" ✎", self._style("impact-tree--edited"))
            return label
        level = service.risk_level
        label = Text(line(name))
        label.append("  ")
        label.append(f" {level.value.upper()} ", self._style(RISK_CLASSES[level]))
        label.append(f"  {line(service.owner_team)}", self._style("impact-tree--detail"))
        if edited:
            label.append(" ✎", self._style("impact-tree--edited"))
        return label

    def get_label_width(self, node: TreeNode[NodeRef]) -> int:
        ref = node.data
        if ref is None or ref.kind != "service":
            extra = len(ref.detail) + 4 if ref is not None and ref.detail else 2
            return len(str(node.label)) + extra
        return len(ref.text) + 40
