"""Giving the C heap's free pages back: safe to call at any time, from any thread, on any
platform (a no-op where the C library has no `malloc_trim`)."""

from __future__ import annotations

import ctypes
import importlib.util
import sys
import threading

import duckdb

from core.embedded.heap import map_large_blocks, release_free_heap, return_duckdb_pages_at_once


def test_releasing_the_free_heap_is_safe_from_several_threads_at_once() -> None:
    garbage = [bytearray(1 << 20) for _ in range(8)]
    del garbage
    threads = [threading.Thread(target=release_free_heap) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    release_free_heap()


def test_large_blocks_are_mapped_where_the_c_library_has_mallopt() -> None:
    has_mallopt = sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "mallopt")
    assert map_large_blocks() is has_mallopt
    assert map_large_blocks() is has_mallopt  # setting it again is harmless
    block = bytearray(1 << 20)
    del block


def test_duckdb_pages_are_returned_at_once_where_duckdb_has_jemalloc() -> None:
    spec = importlib.util.find_spec("_duckdb")
    assert spec is not None and spec.origin is not None
    has_jemalloc = sys.platform.startswith("linux") and hasattr(
        ctypes.CDLL(spec.origin), "duckdb_je_mallctl"
    )
    assert return_duckdb_pages_at_once() is has_jemalloc
    assert return_duckdb_pages_at_once() is has_jemalloc  # setting it again is harmless
    with duckdb.connect() as connection:
        total = connection.execute(
            "SELECT count(*), sum(length(s)) FROM (SELECT repeat('x', i % 100) AS s "
            "FROM range(200000) AS t(i) ORDER BY s DESC)"
        ).fetchone()
    assert total == (200000, 9900000)
