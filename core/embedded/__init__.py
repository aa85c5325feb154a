"""The embedded warehouse: the Databricks SQL Statement Execution API, faithfully, over DuckDB.

The default when no Databricks credentials are configured: new users, demos, tests and CI get a
warehouse that behaves like the real one on the wire (HTTP 200 + FAILED for SQL errors, every
value a string, a manifest with Databricks types, a real PENDING/RUNNING lifecycle, chunked
results, the real error bodies) with no setup. Use it in process through `transport()`, or over
the network with `impact-review warehouse serve`.

Modules, one job each: `app` (routes), `statements` (lifecycle and retention), `engine`
(DuckDB, one file per catalog), `translate` (Databricks SQL to DuckDB with sqlglot),
`bulk_values` (a MERGE's big VALUES list read as columns, not parsed), `wire_types` (manifest
types and value text), `results` (chunks and limits), `sql_errors` and `errors` (failure
wording), `auth`, `faults`, `identity` (the names a connection uses), `transport`
(in-process httpx), `serve` (uvicorn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.embedded.faults import FaultProfile, parse_faults
from core.embedded.identity import DEFAULT_WAREHOUSE_ID, IN_PROCESS_BASE_URL

if TYPE_CHECKING:
    from core.embedded.warehouse import EmbeddedWarehouse

__all__ = [
    "DEFAULT_WAREHOUSE_ID",
    "IN_PROCESS_BASE_URL",
    "EmbeddedWarehouse",
    "FaultProfile",
    "parse_faults",
]


def __getattr__(name: str) -> Any:
    # DuckDB, Starlette and sqlglot load when a warehouse is first needed, not with the names a
    # connection uses (the review app shows its first frame without them).
    if name == "EmbeddedWarehouse":
        from core.embedded.warehouse import EmbeddedWarehouse

        return EmbeddedWarehouse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
