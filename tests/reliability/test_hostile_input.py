"""Hostile handoff files: every one refused with one line naming the problem, exit 2, nothing
written, in bounded time and memory.

The committed corpus is `fixtures/hostile/*.json`, with the exact message for each in
`fixtures/hostile/_expected.json`. Inputs that would make a big file (huge strings, deep nesting,
amplifying junk, a file over the size limit) are generated here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.loading import MAX_PROBLEMS, HandoffError, load_handoff, validate_document
from tests.reliability.conftest import REPO, cli_env
from tui.cli import main

HOSTILE = REPO / "fixtures" / "hostile"
EXPECTED: dict[str, str] = json.loads((HOSTILE / "_expected.json").read_text(encoding="utf-8"))
CORPUS = sorted(p for p in HOSTILE.glob("*.json") if not p.name.startswith("_"))
BASE = json.loads((HOSTILE / "risk_level_unknown.json").read_text(encoding="utf-8"))
BASE["services"][0]["risk_level"] = "high"
"""A valid handoff (the corpus base) to build generated cases from."""

MAX_SECONDS = 5.0
"""Bound on refusing any one hostile input (typically milliseconds)."""
MAX_TRACED_MB = 64.0
"""Bound on Python memory allocated while refusing one generated input."""
MAX_RSS_MB = 200.0
"""Bound on a whole `impact-review validate` process refusing an amplifying input (it was
over 1 GB for a 300 KB file before validation was done in pieces)."""


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _measured_cli(
    capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str, float, float]:
    """`_cli`, plus seconds taken and peak MB of Python memory allocated (measured on a second
    run, so that importing the commands' modules is not counted)."""
    _cli(capsys, *argv)
    tracemalloc.start()
    started = time.monotonic()
    try:
        code, out, err = _cli(capsys, *argv)
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return code, out, err, seconds, peak / 1e6


def _one_line(err: str, path: Path | str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, lines
    prefix = f"impact-review: {path}: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0][len(prefix) :]


def test_the_corpus_has_at_least_30_files_each_with_its_expected_message() -> None:
    assert len(CORPUS) >= 30
    assert {path.name for path in CORPUS} == set(EXPECTED)
    assert len(set(EXPECTED.values())) >= 30, "distinct problems, not one problem 30 times"
    assert validate_document(BASE).services[0].name == "svc", "the generated cases' base is valid"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_validate_refuses_with_one_line_naming_the_problem(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, seconds, traced_mb = _measured_cli(capsys, "validate", str(path))
    assert code == 2
    assert out == ""
    assert _one_line(err, path) == EXPECTED[path.name]
    assert "Traceback" not in err
    assert seconds < MAX_SECONDS
    assert traced_mb < MAX_TRACED_MB


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_apply_refuses_before_touching_any_warehouse(
    path: Path, capsys: pytest.CaptureFixture[str], impact_home: Path
) -> None:
    code, out, err = _cli(capsys, "apply", str(path), "--yes", "--warehouse", "local")
    assert code == 2
    assert _one_line(err, path) == EXPECTED[path.name]
    assert out == ""
    assert not (impact_home / "warehouse").exists(), "no warehouse was opened"
    assert not (impact_home / "reports").exists(), "no run was recorded"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_render_writes_no_payload_files(
    path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "payloads"
    code, _, err = _cli(capsys, "render", str(path), "--out", str(out_dir))
    assert code == 2
    assert _one_line(err, path) == EXPECTED[path.name]
    assert not out_dir.exists()


@pytest.mark.parametrize("name", ["huge_integer.json"])
def test_a_real_process_exits_2_with_one_line(name: str, tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tui", "validate", name],
        cwd=HOSTILE,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == f"impact-review: {name}: {EXPECTED[name]}\n"


# -- generated inputs -------------------------------------------------------------------------


def _document(change: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(json.dumps(BASE))
    change(document)
    return json.dumps(document).encode()


def _with_services(raw: str) -> bytes:
    text = json.dumps(BASE)
    head, _, _ = text.partition('"services": ')
    return (head + '"services": ' + raw + "}").encode()


@dataclass(frozen=True)
class Generated:
    """A hostile input built at test time, and the lines `validate` must print for it."""

    name: str
    content: Callable[[], bytes]
    expected: Callable[[str], list[str]]
    max_bytes: int | None = None


def _lines(*messages: str) -> Callable[[str], list[str]]:
    return lambda path: [f"impact-review: {path}: {message}" for message in messages]


def _many_missing(path: str) -> list[str]:
    first = f"impact-review: {path}: services[0].name: required field is missing"
    last = f"impact-review: {path}: more problems not shown (first {MAX_PROBLEMS})"
    return [first, "...", last]


GENERATED = [
    Generated(
        "huge_text_field",
        lambda: _document(lambda d: d["services"][0].update(evidence="x" * 70_000)),
        _lines("services[0].evidence: is longer than 65536 characters"),
    ),
    Generated(
        "four_megabyte_unknown_field",
        lambda: _document(lambda d: d.update(blob="y" * 4_000_000)),
        _lines("blob: unknown field"),
    ),
    Generated(
        "four_megabyte_key_duplicated",
        lambda: b'{"' + b"k" * 4_000_000 + b'": 1, "' + b"k" * 4_000_000 + b'": 2}',
        _lines(f"duplicate key '{'k' * 60}'… (4,000,000 characters)"),
    ),
    Generated(
        "lists_nested_100000_deep",
        lambda: b"[" * 100_000 + b"]" * 100_000,
        _lines("nesting is too deep"),
    ),
    Generated(
        "objects_nested_5000_deep",
        lambda: b'{"a": ' * 5_000 + b"1" + b"}" * 5_000,
        _lines("nesting is too deep"),
    ),
    Generated(
        "junk_nested_65_deep_in_a_service",
        lambda: _document(lambda d: d["services"][0].update(x=json.loads("[" * 62 + "]" * 62))),
        _lines("nesting is deeper than 64 levels"),
    ),
    Generated(
        "20000_empty_services",
        lambda: _with_services("[" + ",".join(["{}"] * 20_000) + "]"),
        _many_missing,
    ),
    Generated(
        "service_with_20000_monitors",
        lambda: _document(lambda d: d["services"][0].update(active_monitors=[0] * 20_000)),
        _lines("services[0]: holds more than 4,000 entries; refused without checking"),
    ),
    Generated(
        "report_with_10000_unknown_fields",
        lambda: _document(lambda d: d["report"].update({f"k{i}": i for i in range(10_000)})),
        _lines(
            "holds more than 4,000 entries outside the services and the graph; "
            "refused without checking"
        ),
    ),
    Generated(
        "1000_dangling_edges",
        lambda: _document(
            lambda d: d["graph"]["edges"].extend(
                {"source": "deploy:svc", "kind": "feeds", "target": f"ghost:{i}"}
                for i in range(1_000)
            )
        ),
        lambda path: [
            f"impact-review: {path}: graph.edges[1].target: no node with id 'ghost:0'",
            "...",
            f"impact-review: {path}: more problems not shown (first {MAX_PROBLEMS})",
        ],
    ),
    Generated(
        "number_with_100000_digits",
        lambda: b'{"format_version": ' + b"9" * 100_000 + b"}",
        _lines("invalid JSON: a number has 100,000 digits (at most 64)"),
    ),
    Generated(
        "over_the_configured_size_limit_and_not_json",
        lambda: b"\xff\xfe not json at all " * 64,
        _lines("file is 1,216 bytes, over the 512-byte limit"),
        max_bytes=512,
    ),
]


def _matches(expected: list[str], actual: list[str]) -> bool:
    """`...` in `expected` stands for any number of lines."""
    if "..." not in expected:
        return expected == actual
    cut = expected.index("...")
    head, tail = expected[:cut], expected[cut + 1 :]
    return actual[: len(head)] == head and actual[len(actual) - len(tail) :] == tail


@pytest.mark.parametrize("case", GENERATED, ids=lambda c: c.name)
def test_generated_input_is_refused_in_bounded_time_and_memory(
    case: Generated,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / f"{case.name}.json"
    path.write_bytes(case.content())
    if case.max_bytes is not None:
        monkeypatch.setenv("IMPACT_REVIEW_MAX_HANDOFF_BYTES", str(case.max_bytes))
    code, out, err, seconds, traced_mb = _measured_cli(capsys, "validate", str(path))
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert _matches(case.expected(str(path)), lines), lines[:3] + ["…"] + lines[-2:]
    assert len(lines) <= MAX_PROBLEMS + 1
    assert all(len(line) < 400 for line in lines), "every message is one short line"
    assert seconds < MAX_SECONDS
    text_mb = path.stat().st_size * 5 / 1e6  # the bytes, and the text decoded from them
    assert traced_mb < MAX_TRACED_MB + text_mb


PEAK_RSS_WRAPPER = """
import os, sys
from tui.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line for line in status if line.startswith("VmHWM:")).split()[1]
with open(os.environ["PEAK_RSS_FILE"], "w") as out:
    out.write(peak)
sys.exit(code)
"""
"""`impact-review ARGS`, then the process's own peak RSS (VmHWM, in kB) written to a file.
(A parent's rusage would count the forked pytest worker's pages from before the exec.)"""


def _measured(args: list[str], home: Path) -> tuple[int, str, float]:
    """Run a child to the end; its exit code, stderr and peak resident memory in MB."""
    peak_file = home / "peak-rss"
    completed = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_WRAPPER, *args],
        cwd=REPO,
        env=cli_env(home, PEAK_RSS_FILE=str(peak_file)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    return completed.returncode, completed.stderr, int(peak_file.read_text()) / 1024


AMPLIFYING = {
    "100000_empty_services": lambda: _with_services("[" + ",".join(["{}"] * 100_000) + "]"),
    "service_with_200000_monitors": lambda: _document(
        lambda d: d["services"][0].update(active_monitors=[0] * 200_000)
    ),
    "report_with_100000_unknown_fields": lambda: _document(
        lambda d: d["report"].update({f"k{i}": i for i in range(100_000)})
    ),
}


@pytest.mark.parametrize("name", sorted(AMPLIFYING))
def test_amplifying_junk_keeps_the_whole_process_small(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(AMPLIFYING[name]())
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read a process's peak RSS")
    code, err, rss_mb = _measured(["validate", str(path)], tmp_path)
    assert code == 2
    assert "Traceback" not in err
    assert len(err.splitlines()) <= MAX_PROBLEMS + 1
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"


def test_the_size_limit_is_checked_before_reading_a_device(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    monkeypatch.setenv("IMPACT_REVIEW_MAX_HANDOFF_BYTES", "4096")
    code, _, err = _cli(capsys, "validate", "/dev/zero")
    assert code == 2
    assert _one_line(err, "/dev/zero") == "file is over the 4,096-byte limit"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "absent.json", "no such file"),
        (lambda tmp: tmp, "is a directory, not a handoff file"),
    ],
    ids=["missing_file", "directory"],
)
def test_paths_that_are_not_handoff_files(
    make: Callable[[Path], Path], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    code, _, err = _cli(capsys, "validate", str(path))
    assert code == 2
    assert _one_line(err, path) == message


def test_library_callers_get_a_handoff_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "digits.json"
    path.write_bytes(b'{"format_version": ' + b"1" * 10_000 + b"}")
    with pytest.raises(HandoffError) as refused:
        load_handoff(path)
    assert [str(p) for p in refused.value.problems] == [
        "invalid JSON: a number has 10,000 digits (at most 64)"
    ]


def test_a_number_is_not_a_date_time(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "numeric_time.json"
    path.write_bytes(_document(lambda d: d["report"].update(generated_at=12345)))
    code, _, err = _cli(capsys, "validate", str(path))
    assert code == 2
    assert "report.generated_at" in err
