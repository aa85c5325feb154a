"""Two embedded engines running the same statements, one planning with the scanned-VALUES fast
path and one without, and the MERGE shapes the fast-path tests run on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.embedded.engine import Engine
from core.embedded.sql_errors import StatementError
from core.embedded.translate import Parameter

REVIEW = (
    Parameter("reviewed_by", "alice@example.com"),
    Parameter("reviewed_at", "2026-05-12T17:00:00Z", "TIMESTAMP"),
)
TABLE = (
    "CREATE TABLE t (k STRING NOT NULL, s STRING, ts TIMESTAMP, tags ARRAY<STRING>, "
    "reviewed_by STRING)"
)


def merge(rows: str, *, source: str = "FROM VALUES {rows} AS v(k, s, ts, tags)") -> str:
    """A MERGE shaped like the ones impact-review writes, over the given VALUES rows."""
    return merge_using(f"(SELECT * {source.format(rows=rows)})", alias="src")


def merge_using(source: str, *, alias: str = "src(k, s, ts, tags)") -> str:
    """A MERGE whose USING clause is `source` as given."""
    return (
        f"MERGE INTO t USING {source} AS {alias} ON t.k = src.k "
        "WHEN MATCHED THEN UPDATE SET s = src.s, ts = src.ts, tags = src.tags, "
        "reviewed_by = :reviewed_by "
        "WHEN NOT MATCHED THEN INSERT (k, s, ts, tags, reviewed_by) "
        "VALUES (src.k, src.s, src.ts, src.tags, :reviewed_by)"
    )


class Twins:
    """Two engines, the same statements: one plans with the fast path, one without."""

    def __init__(self, root: Path) -> None:
        self.fast = Engine(root / "fast")
        self.general = Engine(root / "general")

    def close(self) -> None:
        self.fast.close()
        self.general.close()

    def both(self, statement: str, parameters: tuple[Parameter, ...] = REVIEW) -> Any:
        """Run on both; assert the outcomes are equal and return it."""
        fast = _outcome(self.fast, statement, parameters, scan_values=True)
        general = _outcome(self.general, statement, parameters, scan_values=False)
        assert fast == general
        return fast

    def contents(self, query: str = "SELECT * FROM t ORDER BY k") -> Any:
        return self.both(query, ())


def _outcome(
    engine: Engine, statement: str, parameters: tuple[Parameter, ...], *, scan_values: bool
) -> Any:
    try:
        result = engine.run_statement(statement, parameters=parameters, scan_values=scan_values)
    except StatementError as error:
        return ("FAILED", error.error_class, error.sql_state, error.message)
    return ("SUCCEEDED", result.manifest(), [chunk.rows for chunk in result.chunks])
