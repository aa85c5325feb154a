"""A statement's SQL text, held in one place so that it can shrink while the statement runs.

A MERGE of thousands of rows is megabytes of SQL, and CPython stores a text that holds one
character outside the Basic Multilingual Plane (an emoji) at four bytes per character: a
4 MB MERGE is a 16 MB `str`. Once its VALUES list has been scanned into columns, the text is read
again only if the statement fails and is rerun on the general path, so meanwhile it is kept as
UTF-8 compressed with zlib's fastest level (a MERGE's rows are alike: 4 MB -> ~0.15 MB, in ~7 ms),
and dropped once the statement has run. That works only while this
object holds the sole reference to the `str`: the request handler and the statement store pass
the object, not the text.
"""

from __future__ import annotations

import zlib

__all__ = ["SqlText"]


class SqlText:
    """The text of one statement: whole, compacted, or released."""

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._compressed: bytes | None = None

    def value(self) -> str:
        """The text (decompressed again if compacted; empty once released)."""
        if self._text is not None:
            return self._text
        if self._compressed is None:
            return ""
        return zlib.decompress(self._compressed).decode("utf-8")

    def compact(self) -> None:
        """Keep the text compressed until it is read again."""
        text = self._text
        if text is None:
            return
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            return  # a lone surrogate: keep the text as it came
        self._compressed = zlib.compress(encoded, 1)
        self._text = None

    def release(self) -> None:
        """Forget the text: nothing reads it again."""
        self._text, self._compressed = "", None
