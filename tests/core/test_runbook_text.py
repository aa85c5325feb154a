"""`one_line` shows every control character as its escape, whatever the mix of text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.runbook import one_line


def _char_by_char(text: str) -> str:
    return "".join(char if char.isprintable() or char == " " else repr(char)[1:-1] for char in text)


@given(
    st.lists(
        st.text(max_size=80)
        | st.sampled_from(["\n", "\r\n", "\t", "\x00", "\x1b[31m", "\u2028", "\u202e", "😀", " "]),
        max_size=12,
    ).map("".join)
)
def test_one_line_escapes_exactly_the_unprintable_characters(text: str) -> None:
    assert one_line(text) == _char_by_char(text)


def test_one_line_keeps_a_forged_line_on_the_same_line() -> None:
    assert one_line("ok\n#   - forged (team)") == "ok\\n#   - forged (team)"
    assert one_line("a" * 200 + "\x07" + "b" * 10) == "a" * 200 + "\\x07" + "b" * 10
