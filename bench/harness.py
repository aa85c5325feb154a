"""Running children, taking medians, and writing results.md / results.json."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class ChildFailed(RuntimeError):
    """A measurement's child process exited with an error."""


@dataclass
class ChildRun:
    """What one child reported, and (for TTI) when the parent read its READY line."""

    result: dict[str, Any]
    ready_s: float | None
    """Seconds from starting the process to reading READY (None if it never said it)."""
    wall_s: float


def run_child(workload: str, arguments: dict[str, Any], *, timeout_s: float = 1800) -> ChildRun:
    """Run `python -m bench.child WORKLOAD ARGS` in a fresh interpreter with its own home."""
    home = tempfile.mkdtemp(prefix="impact-bench-home-")
    env = {**os.environ, "IMPACT_REVIEW_HOME": home, "PYTHONPATH": str(REPO)}
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_SQL_WAREHOUSE_ID"):
        env.pop(name, None)
    command = [sys.executable, "-m", "bench.child", workload, json.dumps(arguments)]
    started = time.perf_counter()
    ready: float | None = None
    try:
        with subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            last = ""
            for line in process.stdout:
                if line.strip() == "READY" and ready is None:
                    ready = time.perf_counter() - started
                elif line.strip():
                    last = line
            errors = process.stderr.read()
            code = process.wait(timeout=timeout_s)
        wall = time.perf_counter() - started
        if code != 0 or not last.startswith("{"):
            tail = "\n".join(errors.strip().splitlines()[-15:])
            raise ChildFailed(f"{workload} {arguments} exited {code}:\n{tail}")
        return ChildRun(json.loads(last), ready, wall)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


@dataclass
class Figure:
    """One reported number: a median over repetitions, with its baseline and target."""

    group: str
    title: str
    size: str
    value: float
    unit: str
    samples: list[float]
    baseline: float | None = None
    baseline_label: str = ""
    target: float | None = None
    target_kind: str = "max"
    """`max`: the value must be at most the target; `min`: at least."""
    note: str = ""
    why: str = ""
    """Why a missed target is missed (filled in by the suite from its measurements)."""
    profile: str = ""
    """Which profiled run (bench.child.profile) explains this figure, if any."""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.target_kind == "max":
            return self.value <= self.target
        return self.value >= self.target

    @property
    def miss_text(self) -> str:
        if self.target is None or self.met:
            return ""
        if self.target_kind == "max":
            over = self.value - self.target
            return (
                f"over by {fmt(over, self.unit)} ({self.value / self.target:.1f}× the target)"
                if self.target
                else f"over by {fmt(over, self.unit)}"
            )
        short = self.target - self.value
        return f"short by {fmt(short, self.unit)} ({self.value / self.target:.0%} of the target)"


def fmt(value: float, unit: str) -> str:
    """A value in its unit, rounded for reading."""
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "x":
        return f"{value:.1f}×"
    if unit == "requests":
        return f"{value:.0f}"
    return f"{value:g} {unit}"


def comparison(figure: Figure) -> str:
    """How the value compares with its baseline, in words that fit the unit."""
    base, value = figure.baseline, figure.value
    if base is None or figure.unit == "x":
        return "—"
    if figure.unit == "s":
        if value <= 0:
            return "—"
        return f"{base / value:.1f}× faster" if base >= value else f"{value / base:.1f}× slower"
    if figure.unit == "MB":
        return f"{value - base:+.0f} MB"
    return f"{value:.0f} vs {base:.0f}"


def target_text(figure: Figure) -> str:
    if figure.target is None:
        return "—"
    sign = "≤" if figure.target_kind == "max" else "≥"
    return f"{sign} {fmt(figure.target, figure.unit)}"


def verdict(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "met" if figure.met else f"**missed**: {figure.miss_text}"


@dataclass
class Results:
    """Everything one `python -m bench` run measured."""

    environment: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    sections: list[tuple[str, str]] = field(default_factory=list)
    """Extra markdown sections (title, body): breakdowns and explanations."""

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "figures": [
                {**asdict(f), "met": f.met, "miss": f.miss_text or None} for f in self.figures
            ],
            "details": self.details,
        }

    def to_markdown(self) -> str:
        env = self.environment
        lines = [
            "# impact-review benchmarks",
            "",
            "Generated by `make bench` (`python -m bench`); every figure is the median of "
            "several repetitions timed with `time.perf_counter`, next to its baseline measured "
            "in the same run. Cold figures run in a fresh interpreter per repetition, with the "
            "project byte-compiled first (as an installed package is).",
            "",
            f"- Machine: {env['cpus']} CPU(s), {env['platform']}; Python {env['python']}",
            f"- sqlglot {env['sqlglot']} ({env['sqlglot_build']}); textual {env['textual']}; "
            f"duckdb {env['duckdb']}",
            f"- Inputs: `impact-review synth --services N --seed {env['seed']}` "
            f"(sizes: {env['sizes']}); repetitions: {env['repetitions']}",
            f"- Run on {env['date']} in {env['duration_s']:.0f} s; 1-minute load average "
            f"{env.get('load_average', 'unknown')} (other work on the machine slows every "
            "figure; compare figures with their baselines from the same run)",
            "",
            "| Figure | Input | Median | Baseline | vs baseline | Target | Verdict |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for figure in self.figures:
            baseline = (
                f"{fmt(figure.baseline, figure.unit)} ({figure.baseline_label})"
                if figure.baseline is not None
                else figure.baseline_label or "—"
            )
            ratio = comparison(figure)
            lines.append(
                f"| {figure.title} | {figure.size} | {fmt(figure.value, figure.unit)} | "
                f"{baseline} | {ratio} | {target_text(figure)} | {verdict(figure)} |"
            )
        missed = [f for f in self.figures if f.met is False]
        if missed:
            lines += ["", "## Targets missed, by how much, and why", ""]
            for figure in missed:
                lines.append(
                    f"- **{figure.title}, {figure.size}**: {fmt(figure.value, figure.unit)} "
                    f"against {target_text(figure)}, {figure.miss_text}. {figure.why}".rstrip()
                )
        notes = [f for f in self.figures if f.note]
        if notes:
            lines += ["", "## Notes on the figures", ""]
            lines += [f"- **{f.title}, {f.size}**: {f.note}" for f in notes]
        for title, body in self.sections:
            lines += ["", f"## {title}", "", body.rstrip()]
        return "\n".join(lines) + "\n"

    def write(self, out_dir: Path) -> tuple[Path, Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        markdown = out_dir / "results.md"
        data = out_dir / "results.json"
        markdown.write_text(self.to_markdown(), encoding="utf-8")
        data.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        return markdown, data


def environment(seed: int, sizes: str, repetitions: str) -> dict[str, Any]:
    from importlib.metadata import version

    import sqlglot.tokenizer_core

    compiled = str(getattr(sqlglot.tokenizer_core, "__file__", "")).endswith((".so", ".pyd"))
    return {
        "cpus": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "sqlglot": version("sqlglot"),
        "sqlglot_build": "compiled extension (sqlglot[c])" if compiled else "pure Python",
        "textual": version("textual"),
        "duckdb": version("duckdb"),
        "seed": seed,
        "sizes": sizes,
        "repetitions": repetitions,
        "date": time.strftime("%Y-%m-%d"),
        "duration_s": 0.0,
    }


def repeat(runs: int, make: Callable[[], ChildRun]) -> list[ChildRun]:
    return [make() for _ in range(runs)]
