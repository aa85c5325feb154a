"""Give the C heap's free pages back to the operating system once a statement has run.

DuckDB and the large Python objects of a statement (its text, the request, the scanned columns)
are allocated with `malloc`. glibc keeps what they free in its arenas, one per thread that
allocated, and the statement threads and DuckDB's own threads leave tens of megabytes free but
resident after a MERGE of thousands of rows. `malloc_trim` returns those pages (about a
millisecond); elsewhere (macOS, musl) there is nothing to call and nothing is done.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

__all__ = ["release_free_heap"]


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        process = ctypes.CDLL(None)
    except OSError:
        return None
    trim = getattr(process, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def release_free_heap() -> None:
    """Return the C heap's free memory to the operating system, where the C library can."""
    if _TRIM is not None:
        _TRIM(0)
