"""Once the write-ahead log holds more than CHECKPOINT_THRESHOLD, the next commit checkpoints
the catalog file, so rows written are kept in the file rather than in memory as well; they read
back the same, also from a new engine on the same files."""

from __future__ import annotations

from pathlib import Path

from core.embedded.engine import Engine

ROWS = 3000
WIDTH = 1000
"""About 3 MB written by each statement: more than the threshold."""


def _wal_bytes(catalogs: Path) -> int:
    return sum(path.stat().st_size for path in catalogs.glob("*.wal"))


def test_a_large_write_is_checkpointed_and_reads_back(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    try:
        engine.run_statement("CREATE TABLE t (k BIGINT, v STRING)")
        for _ in range(2):
            engine.run_statement(
                f"INSERT INTO t SELECT id, repeat('x', {WIDTH}) FROM range({ROWS}) AS r(id)"
            )
        assert _wal_bytes(tmp_path) < 1024 * 1024
        total = engine.run_statement("SELECT count(*), sum(length(v)) FROM t")
        assert total.chunks[0].rows == [[str(2 * ROWS), str(2 * ROWS * WIDTH)]]
    finally:
        engine.close()
    reopened = Engine(tmp_path)
    try:
        total = reopened.run_statement("SELECT count(*), sum(length(v)) FROM t")
        assert total.chunks[0].rows == [[str(2 * ROWS), str(2 * ROWS * WIDTH)]]
    finally:
        reopened.close()
