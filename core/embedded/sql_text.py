"""A statement's SQL text, held in one place so that it can shrink while the statement runs.

A MERGE of thousands of rows is megabytes of SQL, and CPython stores a text that holds one
character outside the Basic Multilingual Plane (an emoji) at four bytes per character: a
4 MB MERGE is a 16 MB `str`. Once its VALUES list has been scanned into columns, the text is read
again only if the statement fails and is rerun on the general path, so meanwhile it is kept as
UTF-8 compressed with zlib's fastest level (a MERGE's rows are alike: 4 MB -> ~0.15 MB), and
dropped once the statement has run. That works only while this object holds the sole reference
to the `str`: the request handler and the statement store pass the object, not the text.

Compressing a 4 MB MERGE takes ~25 ms. `start_compacting` does it on a thread of its own while
the VALUES list is scanned: zlib releases the GIL, so on a second core it takes nothing from the
statement's time. The price is the text's UTF-8 (a quarter of a `str` with an emoji), held until
it is compressed.
"""

from __future__ import annotations

import threading
import zlib

__all__ = ["SqlText"]


class SqlText:
    """The text of one statement: whole, compacted, or released."""

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._compressed: bytes | None = None
        self._compressing: _Compression | None = None

    def value(self) -> str:
        """The text (decompressed again if compacted; empty once released)."""
        if self._text is not None:
            return self._text
        if self._compressed is None:
            return ""
        return zlib.decompress(self._compressed).decode("utf-8")

    def start_compacting(self) -> None:
        """Start compressing the text in the background, for a `compact` to come."""
        if self._text is not None and self._compressing is None:
            self._compressing = _Compression(self._text)

    def keep_whole(self) -> None:
        """Drop a compression `start_compacting` began: the text stays whole."""
        self._compressing = None

    def compact(self) -> None:
        """Keep the text compressed until it is read again."""
        if self._text is None:
            return
        self.start_compacting()
        assert self._compressing is not None
        compressed = self._compressing.result()
        self._compressing = None
        if compressed is None:
            return  # a lone surrogate: keep the text as it came
        self._compressed = compressed
        self._text = None

    def release(self) -> None:
        """Forget the text: nothing reads it again."""
        self._text, self._compressed, self._compressing = "", None, None


class _Compression:
    """A text's UTF-8 compressed by zlib's fastest level on a thread of its own, or None when
    the text has a lone surrogate and so no UTF-8. The text is encoded here, before the thread
    starts, so that the thread needs the GIL only to start and to end."""

    def __init__(self, text: str) -> None:
        self._result: bytes | None = None
        self._thread: threading.Thread | None = None
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            return
        self._thread = threading.Thread(
            target=self._compress, args=(encoded,), name="sql-text-compress", daemon=True
        )
        self._thread.start()

    def _compress(self, encoded: bytes) -> None:
        self._result = zlib.compress(encoded, 1)

    def result(self) -> bytes | None:
        """The compressed UTF-8, once the thread has made it."""
        if self._thread is not None:
            self._thread.join()
        return self._result
