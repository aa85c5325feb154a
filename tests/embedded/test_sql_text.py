"""A statement's text reads the same whole, compacted or not, and is empty once released."""

from __future__ import annotations

import pytest

from core.embedded.sql_text import SqlText

TEXTS = [
    "SELECT 1",
    "MERGE INTO t USING (VALUES ('caf\u00e9', '\U0001f680 launch')) AS s(a, b) ON t.a = s.a",
    "SELECT '\ud800'",
]


@pytest.mark.parametrize("text", TEXTS)
def test_compacted_text_reads_the_same(text: str) -> None:
    held = SqlText(text)
    held.compact()
    assert held.value() == text
    held.compact()
    assert held.value() == text


@pytest.mark.parametrize("text", TEXTS)
def test_released_text_is_empty(text: str) -> None:
    held = SqlText(text)
    held.compact()
    held.release()
    assert held.value() == ""


@pytest.mark.parametrize("text", TEXTS)
def test_text_compressed_in_the_background_reads_the_same(text: str) -> None:
    held = SqlText(text)
    held.start_compacting()
    assert held.value() == text
    held.compact()
    assert held.value() == text


@pytest.mark.parametrize("text", TEXTS)
def test_text_kept_whole_after_starting_to_compact_reads_the_same(text: str) -> None:
    held = SqlText(text)
    held.start_compacting()
    held.keep_whole()
    assert held.value() == text
    held.compact()
    assert held.value() == text
