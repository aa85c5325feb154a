"""What the app was started with: the warehouse to write to, who approves, and a clock."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.warehouse.config import Connection

if TYPE_CHECKING:
    from core.embedded import FaultProfile
    from tui.session import SessionHolder


def _now() -> datetime:
    return datetime.now(UTC)


def default_approver() -> str:
    """The OS user, as `impact-review apply` uses by default."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "reviewer")


@dataclass
class AppContext:
    """Settings fixed for the app's lifetime (tests and screenshots inject their own)."""

    connection: Connection | None = None
    """Where writes go; None with `connection_error` set when it could not be resolved."""
    connection_error: str | None = None
    faults: FaultProfile | None = None
    """Fault profile for the embedded warehouse (the demo uses `demo`)."""
    approver: str = field(default_factory=default_approver)
    clock: Callable[[], datetime] = _now
    """Approval time source (frozen in snapshot tests)."""
    home: Path | None = None
    """IMPACT_REVIEW_HOME override (None: the usual home)."""
    export_dir: Path = field(default_factory=Path.cwd)
    """Where ctrl+e suggests writing the edited handoff."""
    live_ticks: bool = True
    """Tick the running step's elapsed time between events (off for snapshots)."""
    cursor_blink: bool = True
    """Blink text cursors (off for snapshots)."""
    sessions: SessionHolder | None = field(default=None, repr=False)
    """The app's shared warehouse session (opened on first use, closed when the app ends)."""

    @property
    def warehouse_text(self) -> str:
        """The warehouse in words, never a secret."""
        if self.connection is None:
            return "no warehouse configured"
        text = self.connection.describe()
        if self.connection.kind == "local" and self.faults is not None and self.faults.active:
            text += f" · faults {self.faults.describe()}"
        return text

    @property
    def warehouse_id(self) -> str:
        """The warehouse id shown in payload previews."""
        return self.connection.warehouse_id if self.connection is not None else "<warehouse id>"
