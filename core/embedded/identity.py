"""How a connection names the embedded warehouse, importable without starting DuckDB."""

from __future__ import annotations

IN_PROCESS_BASE_URL = "http://embedded.impact-review.invalid"
"""The base URL of the in-process warehouse (`.invalid`: it can never resolve to a real host)."""
DEFAULT_WAREHOUSE_ID = "embedded0000000a"
