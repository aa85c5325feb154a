"""A text as sqlglot writes it inside a Databricks string literal, computed fast.

sqlglot escapes a string literal one character at a time (`Generator.escape_str`: a per-character
map, then replacing the quote character by its escape), so the inside of the literal of a text is
its characters' renderings, joined. Each character is rendered once by sqlglot itself and
remembered; a text is then written from those renderings without asking sqlglot again:

- a text of only ASCII characters that sqlglot renders as themselves (most texts of a report) is
  its own rendering: one regex search finds that out;
- otherwise the few distinct characters that need looking at are found in C (by deleting the
  plain bytes from the text's UTF-8), every non-ASCII one among them must render as itself, and
  each escaped ASCII one is replaced by its rendering with `str.replace`, in an order in which no
  replacement writes a character that a later one replaces (so the result is the same as
  replacing every character at once);
- anything else (a non-ASCII character sqlglot escapes, a lone surrogate, or escapes with no such
  order) is joined character by character.

The tests compare every kind of text with sqlglot rendering the whole literal.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator

DIALECT = "databricks"
QUOTE_START = Dialect.get_or_raise(DIALECT).QUOTE_START
QUOTE_END = Dialect.get_or_raise(DIALECT).QUOTE_END
CHARACTER_CACHE_SIZE = 262_144

_generators = threading.local()


def generator() -> Generator:
    """This thread's Databricks generator (a generator is not safe to share between threads)."""
    found: Generator | None = getattr(_generators, "generator", None)
    if found is None:
        found = Dialect.get_or_raise(DIALECT).generator()
        _generators.generator = found
    return found


class _RenderedCharacters(dict[str, str]):
    """Character -> sqlglot's rendering of it as a string literal, without the quotes; filled
    on first use."""

    def __missing__(self, char: str) -> str:
        cell = generator().generate(exp.Literal.string(char), copy=False)
        if not (cell.startswith(QUOTE_START) and cell.endswith(QUOTE_END)):
            raise ValueError(f"sqlglot rendered a string literal as {cell!r}")
        inner = cell[len(QUOTE_START) : len(cell) - len(QUOTE_END)]
        if len(self) >= CHARACTER_CACHE_SIZE:
            self.clear()
        self[char] = inner
        return inner


_RENDERED_CHARACTERS = _RenderedCharacters()


def _joined_characters(text: str) -> str:
    return "".join(map(_RENDERED_CHARACTERS.__getitem__, text))


@dataclass(frozen=True)
class _AsciiRenderings:
    """What sqlglot does to each of the 128 ASCII characters, found once."""

    not_plain: re.Pattern[str]
    """Matches any character but an ASCII one that renders as itself."""
    plain_bytes: bytes
    """The ASCII characters that render as themselves, as bytes."""
    replacements: dict[str, tuple[int, str]] | None
    """Each ASCII character that does not render as itself -> its rank in an order in which no
    rendering holds a character replaced after it, and its rendering; None when there is no
    such order."""

    @classmethod
    def found(cls) -> _AsciiRenderings:
        characters = [chr(code) for code in range(128)]
        plain = [char for char in characters if _RENDERED_CHARACTERS[char] == char]
        escaped = {char: _RENDERED_CHARACTERS[char] for char in characters if char not in plain}
        pattern = re.compile("[" + "".join(map(re.escape, escaped)) + "\\x80-\\U0010ffff]")
        return cls(pattern, "".join(plain).encode("ascii"), _replacement_order(escaped))


def _replacement_order(escaped: dict[str, str]) -> dict[str, tuple[int, str]] | None:
    """The escaped characters with their rank and rendering: those that occur in another's
    rendering first (the backslash), when that order has no character replaced after a
    rendering that holds it."""
    first = [c for c in escaped if any(c in r for d, r in escaped.items() if d != c)]
    order = first + [c for c in escaped if c not in first]
    for position, char in enumerate(order):
        if any(later in escaped[char] for later in order[position + 1 :]):
            return None
    return {char: (rank, escaped[char]) for rank, char in enumerate(order)}


_ASCII: list[_AsciiRenderings] = []
_SELF_RENDERED: set[str] = set()
"""Non-ASCII characters sqlglot renders as themselves (checked one by one, on first sight)."""


def _ascii() -> _AsciiRenderings:
    if not _ASCII:
        _ASCII.append(_AsciiRenderings.found())
    return _ASCII[0]


def inside_literal(text: str) -> str:
    """`text` as sqlglot renders it inside a string literal: its characters' renderings."""
    ascii_ = _ASCII[0] if _ASCII else _ascii()
    if ascii_.not_plain.search(text) is None:
        return text
    return _escaped(text, ascii_)


def inside_literals(texts: Sequence[str]) -> list[str]:
    """`inside_literal` of each text; the plain ones are found together, in C."""
    ascii_ = _ASCII[0] if _ASCII else _ascii()
    found = list(map(ascii_.not_plain.search, texts))
    return [
        text if match is None else _escaped(text, ascii_)
        for text, match in zip(texts, found, strict=True)
    ]


def _escaped(text: str, ascii_: _AsciiRenderings) -> str:
    replaced = _by_replacing(text, ascii_)
    return replaced if replaced is not None else _joined_characters(text)


def _by_replacing(text: str, ascii_: _AsciiRenderings) -> str | None:
    """`inside_literal` by replacing each escaped ASCII character of `text`, or None when some
    character of it needs more (see the module docstring)."""
    replacements = ascii_.replacements
    if replacements is None:
        return None
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    others = set(encoded.translate(None, ascii_.plain_bytes).decode("utf-8"))
    for char in others.difference(_SELF_RENDERED, replacements):
        if _RENDERED_CHARACTERS[char] != char:
            return None
        if len(_SELF_RENDERED) >= CHARACTER_CACHE_SIZE:
            _SELF_RENDERED.clear()
        _SELF_RENDERED.add(char)
    for char in sorted(others.intersection(replacements), key=lambda c: replacements[c][0]):
        text = text.replace(char, replacements[char][1])
    return text


def clear_caches() -> None:
    """Forget every rendered character."""
    _RENDERED_CHARACTERS.clear()
    _SELF_RENDERED.clear()
    _ASCII.clear()
