"""The benchmark harness runs end to end at a tiny size, so `make bench` cannot rot.

No timing is asserted: only that every group ran, wrote both result files, and that the
figures are consistent (same SQL as the baseline, valid plans, successful applies).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.harness import Figure, Results, comparison, fmt
from bench.suite import main


def test_tiny_bench_writes_results(tmp_path: Path) -> None:
    assert main(["--tiny", "--out", str(tmp_path)]) == 0
    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    groups = {figure["group"] for figure in data["figures"]}
    assert groups == {"render", "preview", "apply", "tti", "memory"}
    for figure in data["figures"]:
        assert figure["value"] >= 0 and figure["samples"], figure
        assert figure["size"]
    for size in data["details"]["render"].values():
        assert {run["digest"] for run in size["ours"]} == {
            run["digest"] for run in size["baseline"]
        }
        assert all(run["issues"] == 0 for run in size["ours"] + size["baseline"])
    for size in data["details"]["apply"].values():
        assert {run["outcome"] for run in size["ours"] + size["baseline"]} == {"succeeded"}
        assert all("poll" not in run["requests_by_kind"] for run in size["ours"])
    assert "| Time to interactive" in markdown and "demo (3 services)" in markdown
    assert "/tmp" not in markdown and str(Path.home()) not in markdown


def test_a_missed_target_says_by_how_much() -> None:
    slow = Figure("x", "Render", "10 services", 2.5, "s", [2.5], 5.0, "old way", 1.0)
    assert slow.met is False and "over by 1.50 s (2.5× the target)" in slow.miss_text
    fast = Figure("x", "Speed-up", "10 services", 20.0, "x", [20.0], None, "", 50.0, "min")
    assert fast.met is False and "short by 30.0×" in fast.miss_text
    assert comparison(slow) == "2.0× faster" and fmt(0.0123, "s") == "12 ms"
    results = Results({}, [slow, fast])
    assert results.to_json()["figures"][0]["miss"] == slow.miss_text


def test_profiled_keystroke_names_project_functions() -> None:
    from bench.child import profile
    from tests.conftest import DEMO

    summary = profile(str(DEMO), "keystroke")
    functions = [entry["function"] for entry in summary["project_by_total"]]
    assert any(name.startswith("tui/screens/main.py:") for name in functions), functions
    assert all(not name.startswith("/") for name in functions)
