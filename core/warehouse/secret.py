"""A wrapper that keeps credentials out of reprs, f-strings, logs and tracebacks.

Tokens and client secrets are held as `Secret` from the moment they are read from the
environment or a config file. The only way to get the text back is `reveal()`, which is called
exactly where a credential goes on the wire; grepping for it finds every such place.
"""

from __future__ import annotations

import hmac
from typing import Final, NoReturn

REDACTED: Final = "********"


class Secret:
    """A credential whose text is shown as asterisks everywhere except `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds text")
        self._value = value

    def reveal(self) -> str:
        """The credential itself; only for putting on the wire."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, format_spec: str) -> str:
        return format(REDACTED, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> NoReturn:
        # Pickling would write the credential to wherever the pickle goes.
        raise TypeError("a Secret cannot be pickled")
