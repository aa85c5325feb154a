"""How the handoff's graph is laid out as a tree: pure functions, no Textual.

The tree reads the way the original write-up tells it: the trigger (a Lakeflow pipeline) writes
a Unity Catalog table, which feeds a feature path, which the impacted services consume. Under
each service sit its runtime (Kubernetes deployment and the cloud resources behind it), its
monitors, its owner team and the recent changes that touched any of those.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from core.handoff import Edge, EdgeKind, Handoff, MonitorStatus, Node, NodeKind, Service
from tui.review_index import ReviewIndex

RefKind = Literal["chain", "context", "service", "group", "item", "more"]


@dataclass(frozen=True)
class NodeRef:
    """What a tree line stands for; the tree renders its label from this and the review."""

    kind: RefKind
    text: str
    """The main words of the line (a node or service name, a group title)."""
    detail: str = ""
    """Secondary words, shown dimmed (a node kind, an edge, a monitor state)."""
    service: str | None = None
    """The service this line belongs to, if any (selecting it selects the service)."""
    node_id: str | None = None
    firing: bool = False
    """A monitor that was firing when the graph was captured."""


KIND_WORDS = {
    NodeKind.LAKEFLOW_PIPELINE: "Lakeflow pipeline",
    NodeKind.UC_TABLE: "Unity Catalog table",
    NodeKind.FEATURE_PATH: "feature path",
    NodeKind.K8S_DEPLOYMENT: "Kubernetes deployment",
    NodeKind.CLOUD_RESOURCE: "cloud resource",
    NodeKind.MONITOR: "monitor",
    NodeKind.TEAM: "team",
    NodeKind.CHANGE: "change",
}

EDGE_WORDS = {
    EdgeKind.WRITES: "writes",
    EdgeKind.FEEDS: "feeds",
    EdgeKind.CONSUMES: "consumes",
    EdgeKind.BACKED_BY: "backed by",
    EdgeKind.MONITORED_BY: "monitored by",
    EdgeKind.OWNED_BY: "owned by",
    EdgeKind.CHANGED_BY: "changed by",
}


class ImpactGraph:
    """Indexes over one handoff's graph, built once (linear in nodes and edges)."""

    def __init__(self, handoff: Handoff) -> None:
        self.handoff = handoff
        self.index = ReviewIndex(handoff)
        """Constant-time service lookups for everything that renders per service."""
        self.nodes: dict[str, Node] = {node.id: node for node in handoff.graph.nodes}
        self._out: dict[str, list[Edge]] = defaultdict(list)
        for edge in handoff.graph.edges:
            self._out[edge.source].append(edge)
        self._monitors_by_name: dict[str, Node] = {
            node.name: node for node in handoff.graph.nodes if node.kind is NodeKind.MONITOR
        }
        self._search: dict[str, str] = {}

    def targets(self, source: str, *kinds: EdgeKind) -> list[Node]:
        """Nodes `source` points at through edges of the given kinds, in file order."""
        return [
            self.nodes[edge.target]
            for edge in self._out.get(source, ())
            if edge.kind in kinds and edge.target in self.nodes
        ]

    # -- the spine: trigger -> table -> feature path --------------------------------------

    def chain(self) -> list[NodeRef]:
        """The trigger, then the table it writes, then the feature path that table feeds."""
        trigger = self.handoff.report.trigger
        pipeline = next(
            (
                node
                for node in self.handoff.graph.nodes
                if node.kind is NodeKind.LAKEFLOW_PIPELINE and node.name == trigger.pipeline
            ),
            None,
        )
        if pipeline is None:
            spine = [NodeRef("chain", trigger.pipeline, f"Lakeflow pipeline · {trigger.failure}")]
            return spine
        spine = [self._chain_ref(pipeline)]
        table = next(iter(self.targets(pipeline.id, EdgeKind.WRITES)), None)
        if table is not None:
            spine.append(self._chain_ref(table))
            feature = next(iter(self.targets(table.id, EdgeKind.FEEDS)), None)
            if feature is not None:
                spine.append(self._chain_ref(feature))
        return spine

    def _chain_ref(self, node: Node) -> NodeRef:
        detail = KIND_WORDS[node.kind]
        if node.kind is NodeKind.LAKEFLOW_PIPELINE:
            detail += f" · {self.handoff.report.trigger.failure}"
        return NodeRef("chain", node.name, detail, node_id=node.id)

    def context(self, ref: NodeRef) -> list[NodeRef]:
        """What hangs off a spine node besides the next one: storage, monitors, changes."""
        if ref.node_id is None:
            return []
        found: list[NodeRef] = []
        for edge in self._out.get(ref.node_id, ()):
            if edge.kind in (EdgeKind.WRITES, EdgeKind.FEEDS):
                continue
            node = self.nodes.get(edge.target)
            if node is not None:
                found.append(self._item(node, EDGE_WORDS[edge.kind]))
                found += [
                    self._item(change, "changed by")
                    for change in self.targets(node.id, EdgeKind.CHANGED_BY)
                    if edge.kind is not EdgeKind.CHANGED_BY
                ]
        return found

    def _item(self, node: Node, relation: str, service: str | None = None) -> NodeRef:
        detail = relation
        firing = node.kind is NodeKind.MONITOR and node.status is MonitorStatus.FIRING
        if node.kind is NodeKind.MONITOR and node.status is not None:
            detail = f"{relation} · {node.status.value}"
        if node.detail:
            detail += f" · {node.detail}"
        return NodeRef("context", node.name, detail, service, node.id, firing)

    # -- one service ----------------------------------------------------------------------

    def monitor_firing(self, name: str) -> bool | None:
        """Whether the monitor called `name` was firing (None if the graph does not say)."""
        node = self._monitors_by_name.get(name)
        if node is None or node.status is None:
            return None
        return node.status is MonitorStatus.FIRING

    def service_groups(self, service: Service) -> list[tuple[NodeRef, list[NodeRef]]]:
        """The groups under a service (runtime, monitors, owner, changes) and their lines."""
        name = service.name
        deployment = self.nodes.get(service.node) if service.node else None
        groups: list[tuple[NodeRef, list[NodeRef]]] = []

        runtime: list[NodeRef] = []
        resources: list[Node] = []
        if deployment is not None:
            runtime.append(
                NodeRef(
                    "item",
                    deployment.name,
                    " · ".join(
                        part
                        for part in (KIND_WORDS[deployment.kind], deployment.detail or "")
                        if part
                    ),
                    name,
                    deployment.id,
                )
            )
            for edge in self._out.get(deployment.id, ()):
                target = self.nodes.get(edge.target)
                if edge.kind is EdgeKind.BACKED_BY and target is not None:
                    resources.append(target)
                    runtime.append(self._item(target, "backed by", name))
                elif edge.kind is EdgeKind.CONSUMES and target is not None:
                    runtime.append(self._item(target, "consumes", name))
        runtime.append(NodeRef("item", f"namespace {service.namespace}", "", name))
        groups.append((NodeRef("group", "Runtime", "", name), runtime))

        monitors: list[NodeRef] = []
        seen: set[str] = set()
        if deployment is not None:
            for monitor in self.targets(deployment.id, EdgeKind.MONITORED_BY):
                seen.add(monitor.name)
                monitors.append(self._item(monitor, "monitored by", name))
        for monitor_name in service.active_monitors:
            if monitor_name in seen:
                continue
            seen.add(monitor_name)
            node = self._monitors_by_name.get(monitor_name)
            if node is not None:
                monitors.append(self._item(node, "active monitor", name))
            else:
                monitors.append(NodeRef("item", monitor_name, "active monitor", name))
        if not monitors:
            monitors.append(NodeRef("item", "no active monitors", "", name))
        firing = sum(1 for ref in monitors if ref.firing)
        title = f"Monitors ({firing} firing)" if firing else "Monitors"
        groups.append((NodeRef("group", title, "", name, firing=bool(firing)), monitors))

        owners = self.targets(deployment.id, EdgeKind.OWNED_BY) if deployment else []
        owner_lines = [self._item(team, "owned by", name) for team in owners]
        if not any(team.name == service.owner_team for team in owners):
            owner_lines.insert(0, NodeRef("item", service.owner_team, "owner team", name))
        groups.append((NodeRef("group", "Owner", "", name), owner_lines))

        changes: list[NodeRef] = []
        for source in ([deployment] if deployment else []) + resources:
            for change in self.targets(source.id, EdgeKind.CHANGED_BY):
                changes.append(self._item(change, f"changed {source.name}", name))
        if changes:
            groups.append((NodeRef("group", "Recent changes", "", name), changes))
        return groups

    def search_text(self, service: Service) -> str:
        """Lower-case words a filter matches: service name, owner team and monitors."""
        cached = self._search.get(service.name)
        if cached is None:
            words = [service.name, service.owner_team, *service.active_monitors]
            deployment = self.nodes.get(service.node) if service.node else None
            if deployment is not None:
                words += [m.name for m in self.targets(deployment.id, EdgeKind.MONITORED_BY)]
            cached = "\n".join(words).lower()
            self._search[service.name] = cached
        return cached

    def matching(self, query: str) -> list[Service]:
        """Services whose name, owner or monitors contain every word of `query`."""
        words = query.lower().split()
        services = self.handoff.services
        if not words:
            return list(services)
        return [
            service
            for service in services
            if all(word in self.search_text(service) for word in words)
        ]
