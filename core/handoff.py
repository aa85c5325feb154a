"""The handoff format: what the upstream production graph hands us, validated with pydantic.

A handoff is one impact report: the request that triggered it, the production graph around the
Databricks object being changed, and the services that graph says are impacted. Every model
forbids unknown fields so a typo upstream is an error, not silently dropped data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

FORMAT_VERSION = 1
MAX_TEXT = 65_536
"""Longest accepted text field, in characters; longer text is almost certainly junk upstream."""


def _reject_unwritable(value: str) -> str:
    # Spark reads a NUL escape followed by digits as an octal escape; no real text needs NUL.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if value.isascii():  # constant time in CPython; most text is ASCII and needs no encoding
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (found a lone surrogate escape)") from None
    return value


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_reject_unwritable)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=512), AfterValidator(_reject_unwritable)
]
ReportId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"),
]


def _reject_timestamp_numbers(value: object) -> object:
    # pydantic reads a JSON number as Unix seconds; the format says an ISO-8601 string.
    if isinstance(value, (int, float)):
        raise ValueError("must be an ISO-8601 date-time string with a zone, not a number")
    return value


DateTime = Annotated[AwareDatetime, BeforeValidator(_reject_timestamp_numbers)]
TableName = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$"
    ),
]


class RiskLevel(StrEnum):
    """How much production harm the proposed action could do to a service."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position from least (0) to most (3) severe."""
        return list(RiskLevel).index(self)


class NodeKind(StrEnum):
    """Kinds of node in the production graph."""

    LAKEFLOW_PIPELINE = "lakeflow_pipeline"
    UC_TABLE = "uc_table"
    FEATURE_PATH = "feature_path"
    K8S_DEPLOYMENT = "k8s_deployment"
    CLOUD_RESOURCE = "cloud_resource"
    MONITOR = "monitor"
    TEAM = "team"
    CHANGE = "change"


class EdgeKind(StrEnum):
    """Kinds of relationship between graph nodes (read as `source <kind> target`)."""

    WRITES = "writes"
    FEEDS = "feeds"
    CONSUMES = "consumes"
    BACKED_BY = "backed_by"
    MONITORED_BY = "monitored_by"
    OWNED_BY = "owned_by"
    CHANGED_BY = "changed_by"


class MonitorStatus(StrEnum):
    """State of a monitor when the graph was captured."""

    FIRING = "firing"
    OK = "ok"
    UNKNOWN = "unknown"


def _reject_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


NonBlank = Annotated[Name, AfterValidator(_reject_blank)]


class HandoffModel(BaseModel):
    """Base for every handoff model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(HandoffModel):
    """The Databricks action about to run, and why."""

    pipeline: NonBlank = Field(description="Lakeflow pipeline the action targets.")
    failure: Text = Field(description="What is wrong with it, e.g. 'freshness failure'.")
    proposed_action: Text = Field(description="What the agent wants to do about it.")


class Report(HandoffModel):
    """The report's identity and the context a reviewer reads first."""

    id: ReportId = Field(description="Stable report id; one row per (id, service) in the table.")
    generated_at: DateTime = Field(description="When the graph was captured (with a zone).")
    request: Text = Field(description="The plain-English request that started the workflow.")
    title: NonBlank = Field(
        description="Short title, e.g. 'checkout feature pipeline remediation'."
    )
    databricks_surface: Text = Field(description="Databricks products involved.")
    source_pr: Text = Field(description="Pull request or change that carries the remediation.")
    investigation: Text = Field(description="One-sentence finding of the investigation.")
    trigger: Trigger
    target_table: TableName = Field(
        description="Three-part Unity Catalog name of the impact table."
    )


class Node(HandoffModel):
    """A production graph node."""

    id: NonBlank
    kind: NodeKind
    name: NonBlank
    detail: Text | None = Field(default=None, description="Free text shown under the node.")
    status: MonitorStatus | None = Field(default=None, description="Monitors only.")

    @model_validator(mode="after")
    def _status_only_on_monitors(self) -> Self:
        if self.status is not None and self.kind is not NodeKind.MONITOR:
            raise ValueError("status: only monitor nodes have a status")
        return self


class Edge(HandoffModel):
    """A typed relationship `source -[kind]-> target` between two node ids."""

    source: NonBlank
    kind: EdgeKind
    target: NonBlank


class Graph(HandoffModel):
    """The production graph around the trigger."""

    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)


class Service(HandoffModel):
    """A service the graph says the action may affect."""

    name: NonBlank
    owner_team: NonBlank
    namespace: NonBlank
    production: StrictBool
    depends_on: NonBlank = Field(description="The table or pipeline it depends on, as shown.")
    evidence: Text
    dependency: Text = Field(description="One sentence saying how it depends on the trigger.")
    active_monitors: list[Name] = Field(default_factory=list)
    risk_level: RiskLevel
    recommended_action: Text
    skip_reason: Text | None = Field(
        default=None,
        description="Why the service is not written: required for non-production services; "
        "set on a production service when a reviewer excluded it.",
    )
    node: Name | None = Field(default=None, description="Graph node id of its deployment.")

    @model_validator(mode="after")
    def _skip_reason_matches_production(self) -> Self:
        if not self.production and not (self.skip_reason or "").strip():
            raise ValueError("skip_reason: required when production is false")
        if self.skip_reason is not None and not self.skip_reason.strip():
            raise ValueError("skip_reason: must not be blank")
        return self

    @property
    def written(self) -> bool:
        """Whether this service becomes a row in the impact table."""
        return self.production and self.skip_reason is None


class Handoff(HandoffModel):
    """One production-impact report as handed to the reviewer."""

    format_version: Literal[1] = Field(description="Handoff format version; currently 1.")
    report: Report
    graph: Graph = Field(default_factory=Graph)
    services: list[Service]

    @model_validator(mode="after")
    def _graph_is_consistent(self) -> Self:
        problems: list[str] = []
        node_ids: set[str] = set()
        for index, node in enumerate(self.graph.nodes):
            if node.id in node_ids:
                problems.append(f"graph.nodes[{index}].id: duplicate node id {node.id!r}")
            node_ids.add(node.id)
        for index, edge in enumerate(self.graph.edges):
            for end in ("source", "target"):
                endpoint = getattr(edge, end)
                if endpoint not in node_ids:
                    problems.append(f"graph.edges[{index}].{end}: no node with id {endpoint!r}")
        names: set[str] = set()
        for index, service in enumerate(self.services):
            if service.name in names:
                problems.append(f"services[{index}].name: duplicate service {service.name!r}")
            names.add(service.name)
            if service.node is not None and service.node not in node_ids:
                problems.append(f"services[{index}].node: no node with id {service.node!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def service(self, name: str) -> Service:
        """The service called `name` (KeyError if there is none)."""
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)


def generated_at_utc(handoff: Handoff) -> datetime:
    """The report's capture time, as an aware UTC datetime."""
    from datetime import UTC

    return handoff.report.generated_at.astimezone(UTC)
