"""A finished statement's result: manifest, chunks, and the limits that shape them.

Rows arrive already encoded as JSON_ARRAY cells. They are cut into chunks of about
`chunk_bytes` of JSON each; `row_limit` keeps the first N rows, `byte_limit` keeps whole chunks
while they fit (recorded behaviour: a limit smaller than the first chunk yields no rows), and
either sets `manifest.truncated`. The whole inline result is capped at 25 MiB like the real
service; exceeding it fails the statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.embedded.sql_errors import StatementError

__all__ = ["INLINE_LIMIT_BYTES", "ResultBuilder", "ResultSet"]

INLINE_LIMIT_BYTES = 25 * 1024 * 1024
DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024

Row = list[str | None]


@dataclass(frozen=True)
class Chunk:
    index: int
    row_offset: int
    rows: list[Row]
    byte_count: int


@dataclass(frozen=True)
class ResultSet:
    """Everything a SUCCEEDED statement answers with; `columns` None means no result schema."""

    columns: list[dict[str, Any]] | None
    chunks: list[Chunk]
    truncated: bool = False

    @property
    def total_row_count(self) -> int:
        return sum(len(chunk.rows) for chunk in self.chunks)

    def manifest(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"column_count": len(self.columns or [])}
        if self.columns:
            schema["columns"] = self.columns
        manifest: dict[str, Any] = {
            "format": "JSON_ARRAY",
            "schema": schema,
            "total_chunk_count": len(self.chunks),
        }
        if self.chunks:
            manifest["chunks"] = [
                {"chunk_index": c.index, "row_offset": c.row_offset, "row_count": len(c.rows)}
                for c in self.chunks
            ]
        manifest["total_row_count"] = self.total_row_count
        manifest["truncated"] = self.truncated
        return manifest

    def chunk(self, index: int, statement_id: str) -> dict[str, Any]:
        """The `result` object for one chunk, linking to the next one when there is one."""
        if not self.chunks:
            return {}
        chunk = self.chunks[index]
        data: dict[str, Any] = {
            "chunk_index": chunk.index,
            "row_offset": chunk.row_offset,
            "row_count": len(chunk.rows),
            "data_array": chunk.rows,
        }
        if index + 1 < len(self.chunks):
            data["next_chunk_index"] = index + 1
            data["next_chunk_internal_link"] = (
                f"/api/2.0/sql/statements/{statement_id}/result/chunks/{index + 1}"
            )
        return data

    @classmethod
    def empty(cls) -> ResultSet:
        """DDL and friends: `column_count` 0, no chunks, `result: {}`."""
        return cls(None, [])

    @classmethod
    def single(cls, columns: list[dict[str, Any]], rows: list[Row]) -> ResultSet:
        builder = ResultBuilder(columns)
        builder.extend(rows)
        return builder.finish()


_ROW_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Sizes each row as its JSON text (one encoder: `json.dumps` with options builds one per call)."""


class ResultBuilder:
    """Accumulates encoded rows into chunks while applying the limits."""

    def __init__(
        self,
        columns: list[dict[str, Any]],
        *,
        row_limit: int | None = None,
        byte_limit: int | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        self.columns = columns
        self.row_limit = row_limit
        self.byte_limit = byte_limit
        self.chunk_bytes = max(1, chunk_bytes)
        self._chunks: list[Chunk] = []
        self._rows: list[Row] = []
        self._bytes = 0
        self._total_rows = 0
        self._total_bytes = 0
        self.truncated = False

    @property
    def full(self) -> bool:
        """True once `row_limit` rows are in: stop fetching (one more row marks truncation)."""
        return self.row_limit is not None and self._total_rows >= self.row_limit

    def extend(self, rows: Iterable[Row]) -> None:
        for row in rows:
            if self.full:
                self.truncated = True
                return
            text = _ROW_JSON.encode(row)
            size = (len(text) if text.isascii() else len(text.encode())) + 1
            self._total_bytes += size
            if self._total_bytes > INLINE_LIMIT_BYTES:
                raise StatementError(
                    "INLINE_RESULT_TOO_LARGE",
                    "54000",
                    "The result exceeds the 25 MiB limit of the INLINE disposition. Use "
                    "EXTERNAL_LINKS (not available on the embedded warehouse), a row_limit, "
                    "or a narrower query.",
                )
            if self._rows and self._bytes + size > self.chunk_bytes:
                self._close_chunk()
            self._rows.append(row)
            self._bytes += size
            self._total_rows += 1

    def _close_chunk(self) -> None:
        offset = self._total_rows - len(self._rows)
        self._chunks.append(Chunk(len(self._chunks), offset, self._rows, self._bytes))
        self._rows, self._bytes = [], 0

    def finish(self) -> ResultSet:
        if self._rows:
            self._close_chunk()
        chunks = self._chunks
        if self.byte_limit is not None:
            kept, used = [], 0
            for chunk in chunks:
                if used + chunk.byte_count > self.byte_limit:
                    self.truncated = True
                    break
                kept.append(chunk)
                used += chunk.byte_count
            chunks = kept
        return ResultSet(self.columns, chunks, self.truncated)
