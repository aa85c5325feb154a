"""Giving the C heap's free pages back: safe to call at any time, from any thread, on any
platform (a no-op where the C library has no `malloc_trim`)."""

from __future__ import annotations

import ctypes
import sys
import threading

from core.embedded.heap import map_large_blocks, release_free_heap


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
