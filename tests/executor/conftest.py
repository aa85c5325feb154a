"""Helpers for executor tests: approve the demo, open an embedded-warehouse session."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from core.embedded import FaultProfile
from core.events import RunEvent
from core.executor import open_run_session
from core.loading import load_handoff
from core.payloads import Approval
from core.plan import Plan, build_plan
from core.warehouse.client import Parameter
from core.warehouse.config import local_connection
from core.warehouse.session import Session
from tests.conftest import DEMO

E = TypeVar("E")
OpenSession = Callable[..., AbstractAsyncContextManager[Session]]


@pytest.fixture
def demo_plan() -> Plan:
    return build_plan(load_handoff(DEMO))


def approve(plan: Plan, approver: str = "oncall@example.com") -> Approval:
    return Approval(approver, datetime(2026, 11, 26, 12, 0, tzinfo=UTC), plan.digest)


@pytest.fixture
def open_local(impact_home: Path) -> OpenSession:
    """Open a session on the embedded warehouse under the test's IMPACT_REVIEW_HOME."""

    def opener(faults: FaultProfile | None = None) -> AbstractAsyncContextManager[Session]:
        return open_run_session(local_connection(), faults=faults, home=impact_home)

    return opener


class Recorder:
    """Collects run events for assertions."""

    def __init__(self) -> None:
        self.events: list[RunEvent] = []

    def __call__(self, event: RunEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]


async def count_rows(session: Session, table: str, report_id: str) -> int:
    """Rows of a report in the table, read through the API with a bound parameter."""
    result = await session.client.execute(
        f"SELECT COUNT(*) FROM {table} WHERE report_id = :report_id",
        [Parameter("report_id", report_id)],
    )
    return int(result.rows[0][0] or 0)
