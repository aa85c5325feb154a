"""The values the statement client hands back: results, progress, identity, warehouse state.

Plain frozen dataclasses with no behaviour beyond small derived properties, so the executor, CLI
and TUI can pass them around, compare them in tests and show them without touching httpx.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """A `:name` parameter; `value=None` binds SQL NULL, `type` is a SQL type such as `INT`."""

    name: str
    value: str | None
    type: str | None = None

    def to_wire(self) -> dict[str, str]:
        """The API's `StatementParameterListItem` (values are always strings)."""
        item = {"name": self.name}
        if self.value is not None:
            item["value"] = self.value
        if self.type is not None:
            item["type"] = self.type
        return item


@dataclass(frozen=True)
class Column:
    """A result column as the manifest describes it (`type_name` is Spark's, e.g. `LONG`)."""

    name: str
    type_text: str
    type_name: str
    position: int = 0


@dataclass(frozen=True)
class StatementState:
    """Progress of one `execute()`, passed to its `on_state` callback on every observation.

    `state` is `SUBMITTING` until the server assigned an id, then the server's state. `message`
    is a ready-to-show line, e.g. that the warehouse is starting or that we were rate limited
    and retry in `retry_in_s` seconds.
    """

    statement_id: str | None
    state: str
    attempts: int
    """Submissions sent (more than one only after 429/503 or a request that provably never left)."""
    elapsed_s: float
    polls: int = 0
    http_requests: int = 0
    message: str = ""
    retry_in_s: float | None = None
    warehouse_starting: bool = False
    """PENDING for long enough (`starting_hint_s`) that the warehouse is most likely starting."""


@dataclass(frozen=True)
class StatementResult:
    """A statement that SUCCEEDED, with every row of every chunk (values as the API's strings)."""

    statement_id: str
    state: str
    columns: list[Column]
    rows: list[list[str | None]]
    truncated: bool
    http_requests: int
    """HTTP requests this statement took: 1 for a fast one, plus polls, chunks and retries."""
    attempts: int
    elapsed_s: float = 0.0
    total_row_count: int | None = None


@dataclass(frozen=True)
class StatementStatus:
    """A statement's state read once, without waiting (see `StatementClient.statement_status`)."""

    statement_id: str
    state: str
    error_code: str | None = None
    message: str | None = None
    sql_state: str | None = None


@dataclass(frozen=True)
class CurrentUser:
    """Who the credential belongs to (SCIM `Me`)."""

    user_name: str
    display_name: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class WarehouseInfo:
    """A SQL warehouse as `GET /api/2.0/sql/warehouses/{id}` shows it."""

    id: str
    name: str
    state: str
    """STARTING, RUNNING, STOPPING, STOPPED, DELETING or DELETED."""
    health: str | None = None
    """HEALTHY, DEGRADED or FAILED, when reported."""
    health_message: str | None = None

    @property
    def starting(self) -> bool:
        """Statements will sit in PENDING until it is up."""
        return self.state == "STARTING"
