"""A statement's SQL text, held in one place so that it can shrink while the statement runs.

A MERGE of thousands of rows is megabytes of SQL, and CPython stores a text that holds one
character outside the Basic Multilingual Plane (an emoji) at four bytes per character: a
4 MB MERGE is a 16 MB `str`. Once its VALUES list has been scanned into columns, the text is read
again only if the statement fails and is rerun on the general path, so it is kept as UTF-8 (a
quarter of that) meanwhile, and dropped once the statement has run. That works only while this
object holds the sole reference to the `str`: the request handler and the statement store pass
the object, not the text.
"""

from __future__ import annotations

__all__ = ["SqlText"]


class SqlText:
    """The text of one statement: whole, compacted to UTF-8, or released."""

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._encoded: bytes | None = None

    def value(self) -> str:
        """The text (decoded again if compacted; empty once released)."""
        if self._text is not None:
            return self._text
        return self._encoded.decode("utf-8") if self._encoded is not None else ""

    def compact(self) -> None:
        """Keep the text as UTF-8 until it is read again (an ASCII text is one byte a
        character already, and stays as it is)."""
        text = self._text
        if text is None or text.isascii():
            return
        try:
            self._encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            return  # a lone surrogate: keep the text as it came
        self._text = None

    def release(self) -> None:
        """Forget the text: nothing reads it again."""
        self._text, self._encoded = "", None
