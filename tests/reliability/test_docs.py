"""docs/reliability.md is backed by this suite: every test it names exists, the corpus table is
the expectations file, and each total is the count of what the suite checks."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from tests.reliability import test_hostile_input, test_sql_policy
from tests.reliability.conftest import REPO

DOC = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
HERE = Path(__file__).parent
REFERENCE = re.compile(r"`(test_\w+\.py)::(test_\w+)(\[[^\]`]*\])?`")


def _section(title: str) -> str:
    """The text of one `## title` section."""
    start = DOC.index(f"\n## {title}\n")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else len(DOC)]


def _table_rows(text: str) -> list[list[str]]:
    """Cells of every table row in `text` (header and separator rows left out)."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or set(line) <= {"|", "-", " "}:
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        rows.append(cells)
    return [row for row in rows if row and row[0] not in {"#", "file", "input", "measure"}]


def _total(measure: str) -> int:
    match = re.search(rf"^\| {re.escape(measure)} \| \*\*(\d+)\*\*", DOC, re.MULTILINE)
    assert match is not None, measure
    return int(match.group(1))


def _functions(module: str) -> set[str]:
    tree = ast.parse((HERE / module).read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)} | {
        node.name for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef)
    }


def test_every_test_the_document_names_exists(request: pytest.FixtureRequest) -> None:
    references = REFERENCE.findall(DOC)
    assert len(references) >= 60
    collected = {item.nodeid for item in request.session.items}
    for module, name, parameters in references:
        assert name in _functions(module), f"{module}::{name} is not a test of this suite"
        node = f"tests/reliability/{module}::{name}{parameters}"
        if parameters and any(n.startswith(f"tests/reliability/{module}::") for n in collected):
            assert node in collected, f"{node} was not collected"


def test_the_corpus_table_is_the_expectations_file() -> None:
    expected = json.loads((REPO / "fixtures" / "hostile" / "_expected.json").read_text())
    section = _section("Hostile input")
    corpus = section[: section.index("### Generated")]
    rows = {row[0].strip("`"): row[1].strip("`") for row in _table_rows(corpus)}
    assert rows == expected


def test_the_totals_are_the_counts_of_what_is_checked() -> None:
    faults = _table_rows(_section("Faults"))
    assert [int(row[0]) for row in faults] == list(range(1, len(faults) + 1))
    assert _total("faults survived") == len(faults)
    assert f"**{len(faults)}** of {len(faults)}" in DOC

    section = _section("Hostile input")
    generated = _table_rows(section[section.index("### Generated") : section.index("### Prop")])
    assert len(generated) == (
        len(test_hostile_input.GENERATED) + len(test_hostile_input.AMPLIFYING) + 1 + 2
    )
    table_options = 6 * 2  # values x commands in test_a_bad_table_option_is_bad_input
    bad_inputs = len(test_hostile_input.CORPUS) + len(generated) + table_options
    assert _total("bad inputs refused") == bad_inputs
    assert (
        f"({len(test_hostile_input.CORPUS)} committed files, {len(generated)} generated inputs, "
        f"{table_options} bad `--table` options)"
    ) in DOC

    assert _total("statements refused by the SQL policy and the executor") == len(
        test_sql_policy.FORBIDDEN
    )
    assert f"{len(test_sql_policy.FORBIDDEN)} other statements" in DOC
    assert _total("secret leaks found") == 0

    bugs = _section("Bugs found by this suite")
    fixed = re.findall(r"^\d+\. ", bugs, re.MULTILINE)
    reported = re.findall(r"^- ", bugs[bugs.index("### Reported") :], re.MULTILINE)
    assert _total("bugs found") == len(fixed) + len(reported)
    assert f"({len(fixed)} fixed, {len(reported)} reported as strict xfails)" in DOC
    xfails = [
        name
        for module in HERE.glob("test_*.py")
        for name in re.findall(
            r"xfail\(\s*strict=True.*?\)\n(?:async )?def (test_\w+)",
            module.read_text(encoding="utf-8"),
            re.DOTALL,
        )
    ]
    assert sorted(xfails) == sorted(
        name for _, name, _ in REFERENCE.findall(bugs[bugs.index("### Reported") :])
    )


def test_the_example_counts_are_the_settings() -> None:
    roundtrip = (HERE / "test_roundtrip_property.py").read_text(encoding="utf-8")
    policy = (HERE / "test_sql_policy.py").read_text(encoding="utf-8")
    for source, count, shown in [
        (roundtrip, 30, "| 30 handoffs of 1-3 services |"),
        (roundtrip, 60, "| 60 |"),
        (policy, 150, "(150 examples)"),
    ]:
        assert f"max_examples={count}," in source
        assert shown in DOC
