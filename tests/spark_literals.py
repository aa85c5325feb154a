"""A reference decoder for Spark SQL string literals, written from Spark's lexer rules.

Used to prove that every literal we generate decodes on Databricks to exactly the original text:
backslash escapes (`\\0 \\b \\n \\r \\t \\Z`, `\\uXXXX`, `\\UXXXXXXXX`, octal `\\NNN`), `\\%` and
`\\_` kept with their backslash, any other escaped character standing for itself; a doubled quote
is not an escape.
"""

from __future__ import annotations

_SIMPLE = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def decode_string_literal(literal: str) -> str:
    """The value of one single-quoted Spark string literal, quotes included in `literal`."""
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'":
        raise ValueError(f"not a single-quoted literal: {literal!r}")
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "'":
            raise ValueError(f"unescaped quote at {i} in {literal!r}")
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError(f"dangling backslash in {literal!r}")
        nxt = body[i + 1]
        if nxt == "u" and _is_hex(body[i + 2 : i + 6], 4):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif nxt == "U" and _is_hex(body[i + 2 : i + 10], 8):
            out.append(chr(int(body[i + 2 : i + 10], 16)))
            i += 10
        elif nxt in "0123" and _is_octal(body[i + 1 : i + 4]):
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        elif nxt in _SIMPLE:
            out.append(_SIMPLE[nxt])
            i += 2
        elif nxt in "%_":
            out.append("\\" + nxt)
            i += 2
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdefABCDEF" for c in text)


def _is_octal(text: str) -> bool:
    return len(text) == 3 and text[0] in "0123" and all(c in "01234567" for c in text)
