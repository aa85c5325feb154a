"""A scanned MERGE source longer than `STAGE_ROWS` is staged a slice of rows at a time: the
outcome and the table are the general path's, whatever slice a row, a duplicate key or a bad
value falls in."""

from __future__ import annotations

from core.embedded.engine import COMPACT_EARLY_CHARS, STAGE_ROWS
from core.embedded.translate import plan
from tests.embedded.twins import REVIEW, Twins, merge

ROWS = 2 * STAGE_ROWS + 7
"""Three slices, the last one short."""


def _rows(count: int, *, first: int = 0) -> list[str]:
    return [
        f"('k{number:05d}', 'text {number} 🚀', "
        + ("NULL" if number % 2 else "CAST('2026-05-12 16:42:00+00:00' AS TIMESTAMP)")
        + (", NULL)" if number % 3 else f", ARRAY('a{number}', 'b'))")
        for number in range(first, first + count)
    ]


def test_a_long_list_is_staged_in_slices_with_the_general_paths_outcome(twins: Twins) -> None:
    statement = merge(",\n".join(_rows(ROWS)))
    planned = plan(statement, parameters=REVIEW)
    assert planned.stage_rest is not None
    assert all(len(column) == ROWS for column in planned.bulk_parameters.values())
    assert twins.both(statement)[2] == [[[str(ROWS), "0", "0", str(ROWS)]]]
    assert len(twins.contents()[2][0]) == ROWS
    # Again, with every row matched: updated in place, in every slice.
    assert twins.both(statement)[2] == [[[str(ROWS), str(ROWS), "0", "0"]]]
    twins.contents()


def test_a_duplicate_key_in_another_slice_fails_like_delta(twins: Twins) -> None:
    twins.both(merge(",\n".join(_rows(1))))
    rows = _rows(ROWS)
    rows[-1] = rows[0].replace("text 0", "text again")
    outcome = twins.both(merge(",\n".join(rows)))
    assert outcome[1] == "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE"
    assert len(twins.contents()[2][0]) == 1


def test_a_bad_value_in_the_last_slice_fails_the_same_way_and_writes_nothing(
    twins: Twins,
) -> None:
    rows = _rows(ROWS)
    rows[-1] = "('last', 'x', CAST('not a time' AS TIMESTAMP), NULL)"
    assert twins.both(merge(",\n".join(rows)))[0] == "FAILED"
    assert twins.contents()[2] == []


def test_a_merge_long_enough_to_compress_while_scanned_has_the_general_paths_outcome(
    twins: Twins,
) -> None:
    rows = _rows(ROWS)
    while len(",\n".join(rows)) < COMPACT_EARLY_CHARS:
        rows += _rows(ROWS, first=len(rows))
    assert twins.both(merge(",\n".join(rows)))[2] == [[[str(len(rows)), "0", "0", str(len(rows))]]]
    rows[-1] = "('last', 'x', CAST('not a time' AS TIMESTAMP), NULL)"
    assert twins.both(merge(",\n".join(rows)))[0] == "FAILED"
    assert len(twins.contents()[2][0]) == len(rows)
