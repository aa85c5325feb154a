"""The benchmark suite: what is measured, against which baseline and target, and why it misses.

Groups (each can be skipped with `--skip`):

- `render`: render + sqlglot validation of every statement, cold, at each size; baseline: every
  row rendered as a whole sqlglot tuple and every statement parsed whole.
- `preview`: updating the reviewed plan after a risk edit at the largest size (core path), and
  keystroke-to-preview in the headless app; baseline: a cold rebuild of the same plan.
- `apply`: `run_plan` end to end on a fresh embedded warehouse, with HTTP requests by kind;
  baseline: one INSERT per row through the same client.
- `tti`: process start to the review app showing the tree (headless `run_test`); baseline: the
  interpreter starting and importing the app.
- `memory`: peak RSS of each child at the largest size, with the phase where it peaked;
  baseline: the imports alone.

Missed targets are explained from measurements: step timings, RSS per phase, and one extra
profiled run (`cProfile`) per kind of work at the largest size, whose hot spots are named with
the reason where the reason is known (see `KNOWN_HOT_SPOTS`).
"""

from __future__ import annotations

import argparse
import compileall
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import REPO, ChildRun, Figure, Results, environment, fmt, median, run_child
from core.synth import write_synth

DEMO = REPO / "fixtures" / "checkout_features.json"
SEED = 1

TARGETS = {
    "tti_demo": 0.5,
    "tti_10k": 1.5,
    "render_validate_10k": 1.0,
    "preview_10k": 0.1,
    "apply_10k": 3.0,
    "apply_speedup": 50.0,
    "rss_10k": 300.0,
}

KNOWN_HOT_SPOTS = {
    "core/review.py:reviewed_handoff": (
        "`Review.reviewed_handoff` builds the reviewed copy of every service (linear, through "
        "the review's name index; core/review.py)"
    ),
    "tui/widgets/service_detail.py:_overview": (
        "`ServiceDetail._overview` summarises the report's services (tui/widgets/service_detail.py)"
    ),
    "core/drafts.py:handoff_hash": (
        "the draft's handoff hash: the canonical JSON of the whole handoff, once per handoff, "
        "hashed 256 list items at a time (core/drafts.py)"
    ),
    "tui/widgets/sql_preview.py:render_statement": (
        "the preview highlights up to 400 lines of each statement with Pygments; only a "
        "statement whose visible part changed is highlighted again (tui/widgets/sql_preview.py)"
    ),
    "core/loading.py:load_handoff": "loading the handoff: JSON decoding, then pydantic",
    "core/embedded/translate.py:plan": (
        "the embedded warehouse planning each statement: a MERGE's VALUES list is scanned into "
        "columns (core/embedded/bulk_values.py) and only the rest is parsed with sqlglot"
    ),
    "core/embedded/engine.py:_execute": (
        "DuckDB running the statement, the MERGE's rows bound as list parameters"
    ),
    "core/payloads.py:write_payloads": (
        "writing the payload files: every statement as .sql and as JSON, and runbook.md"
    ),
    "core/runbook.py:one_line": (
        "`one_line` making control characters of free text visible (core/runbook.py)"
    ),
    "core/verification.py:verify_fingerprints": (
        "verification: each row's display columns, content hash and warehouse-computed "
        "fingerprint compared with its approved row's"
    ),
    "core/row_fingerprint.py:fingerprint_of": (
        "the approved rows' fingerprints: a SHA-256 of each distinct cell (remembered), then "
        "one per row"
    ),
    "core/verification.py:verify": (
        "the full read-back compared row by row with the approved rows (only after a "
        "fingerprint disagrees, or when re-verifying without an approval record)"
    ),
    "core/runs.py:save_approval": "the approval record writes the whole handoff",
    "core/impact_table.py:content_hashes": (
        "the SHA-256 content hash of each row's canonical JSON (the report's members written "
        "once per report as a template)"
    ),
    "core/sqlgen/statements.py:row_texts": (
        "rendering the rows a column at a time: each distinct value once, cells joined in C"
    ),
    "core/sqlgen/escapes.py:inside_literals": (
        "escaping each distinct string: plain ASCII kept as is, the few odd characters "
        "replaced (core/sqlgen/escapes.py)"
    ),
    "core/sqlgen/policy.py:_rows_are_literals": (
        "checking each MERGE's new rows are literals: one tokenize per new string cell, "
        "array cells against the renderer's records"
    ),
    "core/plan.py:digest": "the digest: SHA-256 over every byte of every statement",
}
"""Functions whose cost has a known reason, by `file:function` as profiles report them."""

PHASE_REASONS = {
    "load": "the decoded document and the pydantic models of every service",
    "upsert-rows": "each MERGE's request body on the client (ASCII bytes: its text is sent as "
    "pieces, never joined), and on the warehouse its text, the scanned columns and DuckDB's "
    "working memory",
    "verify-rows": "what the upsert left behind (the step itself reads back about 260 bytes "
    "a row: display columns, content hash, fingerprint)",
    "open session, approval record": "starting the embedded warehouse (DuckDB's first "
    "database in the process is about 30 MB) and the approval record serialising the handoff",
    "app start until the tree shows": "the loaded handoff's models (the tree shows one page "
    "of services)",
    "first preview and validation": "the first plan: the row texts its MERGEs are made of (four "
    "bytes a character once one emoji is in a row; a MERGE is never held joined) and the "
    "render caches",
    "render + validate + digest": "the row texts of the statements (Python strings take four "
    "bytes per character once one emoji appears in them) and the render caches",
}


@dataclass
class Options:
    sizes: list[int]
    """Synthetic report sizes for render, apply and TTI; the largest is also used for
    preview, memory and the profiled runs. The demo fixture is always measured for TTI."""
    repetitions: int
    baseline_repetitions: int
    apply_baseline_repetitions: int
    edits: int
    keystrokes: int
    skip: set[str]
    out: Path
    profiles: bool = True
    skip_profiles: frozenset[str] = frozenset()


def size_label(services: int) -> str:
    return f"{services:,} services"


def _samples(runs: list[ChildRun], key: str) -> list[float]:
    return [float(run.result[key]) for run in runs]


def diagnosis(profile: dict[str, Any], share: float = 0.05) -> str:
    """The known hot spots of a profiled run, biggest first, with their (profiled) seconds."""
    total = float(profile.get("profiled_s") or 0.0)
    found: list[str] = []
    seen: set[str] = set()
    for entry in profile.get("project_by_total", []):
        reason = KNOWN_HOT_SPOTS.get(entry["function"])
        if reason and reason not in seen and entry["total_s"] >= share * total:
            seen.add(reason)  # one line per reason: a method and a function may share a name
            found.append(f"{reason}: {entry['total_s']:.2f} s")
    if not found:
        return ""
    return (
        f"Profiled once (cProfile, {total:.1f} s including its overhead): " + "; ".join(found) + "."
    )


def profile_table(name: str, profile: dict[str, Any]) -> str:
    lines = [
        f"**{name}** (one run under cProfile, {profile['profiled_s']:.1f} s with overhead): "
        "project functions by cumulative time, then any function by own time.",
        "",
        "| Function | Calls | Cumulative | Own |",
        "|---|---:|---:|---:|",
    ]
    rows = profile["project_by_total"][:8] + [
        entry for entry in profile["all_by_own"][:8] if not entry["project"]
    ]
    for entry in rows:
        function = entry["function"].replace("|", "\\|")
        lines.append(
            f"| `{function}` | {entry['calls']:,} | {entry['total_s']:.3f} s | "
            f"{entry['own_s']:.3f} s |"
        )
    return "\n".join(lines)


class Suite:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.files: dict[int, Path] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix="impact-bench-"))
        reps = (
            f"{options.repetitions} (baselines {options.baseline_repetitions}; per-row INSERT "
            f"baseline {options.apply_baseline_repetitions})"
        )
        self.results = Results(environment(SEED, ", ".join(f"{n:,}" for n in options.sizes), reps))
        self.rss: dict[str, tuple[float, dict[str, float]]] = {}
        """workload -> (median peak RSS at the largest size, RSS peak per phase of one run)."""
        self.imports_rss = 0.0

    @property
    def largest(self) -> int:
        return max(self.options.sizes)

    def file(self, services: int) -> Path:
        if services not in self.files:
            path = self.workdir / f"synth-{services}.json"
            write_synth(path, services, seed=SEED)
            self.files[services] = path
        return self.files[services]

    def _note_rss(self, workload: str, services: int, runs: list[ChildRun]) -> None:
        if services == self.largest:
            peak = median([float(run.result["peak_rss_mb"]) for run in runs])
            self.rss[workload] = (peak, dict(runs[0].result.get("rss_phases", {})))

    def run(self) -> Results:
        started = time.perf_counter()
        self.results.environment["load_average"] = f"{os.getloadavg()[0]:.1f} at the start"
        compile_project()
        groups = [
            ("render", self.render),
            ("preview", self.preview),
            ("apply", self.apply),
            ("tti", self.tti),
            ("memory", self.memory),
        ]
        for name, group in groups:
            if name not in self.options.skip:
                print(f"bench: {name} …", flush=True)
                group()
        if self.options.profiles:
            print("bench: profiles …", flush=True)
            self.explain()
        self.results.environment["duration_s"] = time.perf_counter() - started
        self.results.environment["load_average"] += f" → {os.getloadavg()[0]:.1f} at the end"
        return self.results

    def explain(self) -> None:
        """Profile each kind of work behind a figure once, at the largest size, and add the
        known hot spots to the explanation of every missed target."""
        path = str(self.file(self.largest))
        wanted = sorted(
            {figure.profile for figure in self.results.figures if figure.profile}
            - self.options.skip_profiles
        )
        profiles: dict[str, dict[str, Any]] = {}
        for what in wanted:
            profiles[what] = run_child("profile", {"file": path, "what": what}).result
        for figure in self.results.figures:
            if figure.profile in profiles and figure.met is False:
                figure.why = f"{figure.why} {diagnosis(profiles[figure.profile])}".strip()
        if profiles:
            body = "\n\n".join(
                profile_table(f"{what}, {size_label(self.largest)}", profiles[what])
                for what in wanted
            )
            self.results.sections.append(("Where the time goes", body))
        self.results.details["profiles"] = profiles

    # -- render + validate ----------------------------------------------------------------

    def render(self) -> None:
        opts = self.options
        details: dict[str, Any] = {}
        for services in opts.sizes:
            path = str(self.file(services))
            ours = [
                run_child("render_validate", {"file": path, "mode": "ours"})
                for _ in range(opts.repetitions)
            ]
            base = [
                run_child("render_validate", {"file": path, "mode": "baseline"})
                for _ in range(opts.baseline_repetitions)
            ]
            self._note_rss("render + validate", services, ours)
            same = {run.result["digest"] for run in ours} == {base[0].result["digest"]}
            valid = all(not run.result["issues"] for run in ours + base)
            render_s = median(_samples(ours, "render_s"))
            validate_s = median(_samples(ours, "validate_s"))
            figure = self.results.add(
                Figure(
                    "render",
                    "Render + validate every statement (cold)",
                    size_label(services),
                    median(_samples(ours, "render_validate_s")),
                    "s",
                    _samples(ours, "render_validate_s"),
                    median(_samples(base, "render_validate_s")),
                    "whole-tuple render, whole-statement parse",
                    TARGETS["render_validate_10k"] if services == 10_000 else None,
                    note=(
                        f"{ours[0].result['statements']} statements, "
                        f"{ours[0].result['sql_bytes'] / 1e6:.1f} MB of SQL; render "
                        f"{fmt(render_s, 's')} + validate {fmt(validate_s, 's')}; the digest "
                        f"{fmt(median(_samples(ours, 'digest_s')), 's')} more; loading the file "
                        f"{fmt(median(_samples(ours, 'load_s')), 's')} (not counted). "
                        + (
                            "Byte-identical SQL and digest to the baseline. "
                            if same
                            else "**SQL differs from the baseline!** "
                        )
                        + (
                            "Every statement passes the policy."
                            if valid
                            else "**Policy issues found!**"
                        )
                    ),
                    profile="render",
                )
            )
            figure.why = (
                f"Render {fmt(render_s, 's')}, validate {fmt(validate_s, 's')}. What is left "
                "is proportional to the distinct text of the report: each distinct string is "
                "escaped once, each new string cell is checked with one tokenize, and every row "
                "gets a SHA-256 content hash of its canonical JSON; the figure also pays for "
                "importing sqlglot, which the app now does after its first frame."
            )
            details[str(services)] = {
                "ours": [run.result | {"issues": len(run.result["issues"])} for run in ours],
                "baseline": [run.result | {"issues": len(run.result["issues"])} for run in base],
            }
        self.results.details["render"] = details

    # -- preview after an edit ------------------------------------------------------------

    def preview(self) -> None:
        opts = self.options
        services = self.largest
        path = str(self.file(services))
        run = run_child("edits", {"file": path, "count": opts.edits})
        steps = run.result["edits"]
        update = [step["plan_update_s"] for step in steps]
        review = [step["review_s"] for step in steps]
        cold = median(run.result["cold_rebuild_s"])
        core = self.results.add(
            Figure(
                "preview",
                "Plan update after a risk edit (build + validate + digest)",
                size_label(services),
                median(update),
                "s",
                update,
                cold,
                "cold rebuild of the same plan",
                TARGETS["preview_10k"] if services == 10_000 else None,
                note=(
                    f"median of {len(steps)} edits: build "
                    f"{fmt(median([s['build_s'] for s in steps]), 's')}, validate "
                    f"{fmt(median([s['validate_s'] for s in steps]), 's')}, digest "
                    f"{fmt(median([s['digest_s'] for s in steps]), 's')}. Not counted: "
                    f"`Review.reviewed_handoff()` took {fmt(median(review), 's')} per edit."
                ),
            )
        )
        core.why = (
            "Only the edited row is rendered and checked, but the rows are re-collected and the "
            "digest re-hashes every byte of every statement, so the floor grows with the report."
        )
        self.results.details["preview_core"] = run.result
        if "tti" in opts.skip:
            return
        presses = run_child("keystrokes", {"file": path, "count": opts.keystrokes})
        times = [press["preview_s"] for press in presses.result["presses"]]
        validated = [press["validated_s"] for press in presses.result["presses"]]
        figure = self.results.add(
            Figure(
                "preview",
                "Keystroke to preview in the app (risk edit, `r`)",
                size_label(services),
                median(times),
                "s",
                times,
                cold,
                "cold rebuild of the same plan",
                TARGETS["preview_10k"] if services == 10_000 else None,
                note=f"validated {fmt(median(validated), 's')} after the keystroke (a worker).",
                profile="keystroke",
            )
        )
        figure.why = (
            f"The plan update takes {fmt(median(update), 's')} of it (row above); the rest is "
            "the app's own work on the event loop for the edit (review, tree, detail, preview)."
        )
        self.results.details["keystrokes"] = presses.result

    # -- apply ----------------------------------------------------------------------------

    def apply(self) -> None:
        opts = self.options
        details: dict[str, Any] = {}
        for services in opts.sizes:
            path = str(self.file(services))
            runs = opts.repetitions if services < 10_000 else max(1, opts.repetitions // 2 + 1)
            ours = [run_child("apply", {"file": path, "mode": "ours"}) for _ in range(runs)]
            base = [
                run_child("apply", {"file": path, "mode": "baseline"})
                for _ in range(opts.apply_baseline_repetitions)
            ]
            self._note_rss("apply", services, ours)
            outcomes = {run.result["outcome"] for run in ours + base}
            value = median(_samples(ours, "apply_s"))
            baseline = median(_samples(base, "apply_s"))
            first = ours[0].result
            kinds = first["requests_by_kind"]
            steps = {
                step: median([run.result["steps_s"].get(step, 0.0) for run in ours])
                for step in first["steps_s"]
            }
            big = services == 10_000
            figure = self.results.add(
                Figure(
                    "apply",
                    "Apply end to end on the embedded warehouse",
                    size_label(services),
                    value,
                    "s",
                    _samples(ours, "apply_s"),
                    baseline,
                    "one INSERT per row, same client",
                    TARGETS["apply_10k"] if big else None,
                    note=(
                        f"{first['rows']:,} rows in {first['statements']} statements; steps "
                        + ", ".join(f"{k} {fmt(v, 's')}" for k, v in steps.items())
                        + f"; outcomes: {', '.join(sorted(outcomes))}."
                    ),
                    profile="apply",
                )
            )
            slowest = sorted(steps.items(), key=lambda item: -item[1])[:3]
            figure.why = (
                "The slowest steps: "
                + ", ".join(f"{step} {fmt(seconds, 's')}" for step, seconds in slowest)
                + ". The SQL is few large MERGE statements (no polls, one POST each); their "
                "cost is in the warehouse and in the run's own bookkeeping."
            )
            speedup = self.results.add(
                Figure(
                    "apply",
                    "Apply speed-up over per-row INSERT",
                    size_label(services),
                    baseline / value,
                    "x",
                    [baseline / v for v in _samples(ours, "apply_s")],
                    None,
                    f"{len(base)} baseline run(s) of {fmt(baseline, 's')}",
                    TARGETS["apply_speedup"] if big else None,
                    "min",
                )
            )
            speedup.why = (
                f"The baseline pays a round trip and a small statement per row "
                f"({fmt(baseline / max(1, first['rows']), 's')} a row); the apply is bounded by "
                "its own steps (see the apply row), which also verify every row and write the "
                "payload files the baseline skips."
            )
            run_statements = kinds.get("submit", 0)
            allowed = run_statements + 2
            requests = self.results.add(
                Figure(
                    "apply",
                    "HTTP requests of one apply",
                    size_label(services),
                    float(first["http_requests"]),
                    "requests",
                    [float(r.result["http_requests"]) for r in ours],
                    float(base[0].result["http_requests"]),
                    "per-row INSERT",
                    float(allowed),
                    note=(
                        "by kind: "
                        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
                        + f"; target: {run_statements} statements run (of "
                        f"{first['statements']} in the plan: verify-rows-detail runs only when a "
                        "fingerprint disagrees) + 2 preflight (me, warehouse), no polls, no "
                        "result chunk requests."
                    ),
                )
            )
            requests.why = (
                f"{kinds.get('poll', 0)} poll(s) and {kinds.get('chunk', 0)} result chunk "
                "request(s) beyond one request per statement: a statement outlived the "
                "server-side wait, or a result outgrew one INLINE chunk."
            )
            details[str(services)] = {
                "ours": [r.result for r in ours],
                "baseline": [r.result for r in base],
            }
        self.results.details["apply"] = details

    # -- time to interactive --------------------------------------------------------------

    def tti(self) -> None:
        opts = self.options
        floor = [run_child("imports", {"what": "app"}) for _ in range(opts.baseline_repetitions)]
        imports_s = median([run.wall_s for run in floor])
        everything = [run_child("imports", {}) for _ in range(opts.baseline_repetitions)]
        self.imports_rss = median([float(run.result["peak_rss_mb"]) for run in everything])
        inputs: list[tuple[str, str, float | None, bool]] = [
            ("demo (3 services)", str(DEMO), TARGETS["tti_demo"], False)
        ]
        inputs += [
            (
                size_label(n),
                str(self.file(n)),
                TARGETS["tti_10k"] if n == 10_000 else None,
                n == self.largest,
            )
            for n in opts.sizes
        ]
        details: dict[str, Any] = {}
        for label, path, target, largest in inputs:
            runs = [run_child("tti", {"file": path}) for _ in range(opts.repetitions)]
            if largest:
                self._note_rss("app open", self.largest, runs)
            ready = [run.ready_s for run in runs if run.ready_s is not None]
            imports = median(_samples(runs, "imports_s"))
            load = median(_samples(runs, "load_s"))
            first_plan = median(_samples(runs, "first_plan_s"))
            blocking = all(run.result.get("first_plan_before_tree") for run in runs)
            shown = median(_samples(runs, "tree_shown_s"))
            when = "before the tree shows" if blocking else "after the tree shows"
            figure = self.results.add(
                Figure(
                    "tti",
                    "Time to interactive (process start → tree shown)",
                    label,
                    median(ready),
                    "s",
                    ready,
                    imports_s,
                    "start Python, import the app",
                    target,
                    note=(
                        f"in the process: imports {fmt(imports, 's')}, loading the handoff "
                        f"{fmt(load, 's')}, first `build_plan` {fmt(first_plan, 's')} ({when}), "
                        f"tree shown at {fmt(shown, 's')}; validated at "
                        f"{fmt(median(_samples(runs, 'validated_s')), 's')} (a worker)."
                    ),
                    profile="tti" if largest else "",
                )
            )
            on_path = first_plan if blocking else 0.0
            figure.why = (
                f"Starting Python and importing the app alone takes {fmt(imports_s, 's')} "
                "(`python -X importtime -c 'import tui.app'`: Textual, pydantic with the "
                "report models, and the review screen; sqlglot, Pygments, httpx and the run "
                f"modules load after the tree shows). Loading the handoff takes "
                f"{fmt(load, 's')}; the first plan ({fmt(first_plan, 's')}) is built {when}"
                + (
                    " (a worker after the tree shows would take it off the critical path)"
                    if blocking and first_plan > 0.1
                    else ""
                )
                + "; the app's start-up, compose and mount take the remaining "
                f"{fmt(max(0.0, shown - imports - load - on_path), 's')}."
            )
            details[label] = [run.result | {"ready_s": run.ready_s} for run in runs]
        self.results.details["tti"] = details

    # -- memory ---------------------------------------------------------------------------

    def memory(self) -> None:
        services = self.largest
        floor = self.imports_rss or None
        for workload, (peak, phases) in self.rss.items():
            figure = self.results.add(
                Figure(
                    "memory",
                    f"Peak RSS: {workload}",
                    size_label(services),
                    peak,
                    "MB",
                    [peak],
                    floor,
                    "imports only",
                    TARGETS["rss_10k"] if services == 10_000 else None,
                    note="highest RSS per phase: "
                    + ", ".join(f"{name} {mb:.0f} MB" for name, mb in phases.items()),
                )
            )
            top = sorted(phases.items(), key=lambda item: -item[1])[:2]
            reasons = [
                f"{name} ({mb:.0f} MB): {PHASE_REASONS[name]}"
                if name in PHASE_REASONS
                else f"{name} ({mb:.0f} MB)"
                for name, mb in top
            ]
            figure.why = (
                f"Imports alone take {fmt(self.imports_rss, 'MB')}. Highest during "
                + "; ".join(reasons)
                + "."
            )


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="synthetic sizes (1000,10000)")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--baseline-repetitions", type=int, default=3)
    parser.add_argument(
        "--apply-baseline-repetitions",
        type=int,
        default=3,
        help="runs of the per-row INSERT baseline (one took 99-119 s at 10,000 on the same "
        "machine, so the speed-up is over their median)",
    )
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--keystrokes", type=int, default=5)
    parser.add_argument(
        "--skip", default="", help="comma-separated groups: render,preview,apply,tti,memory"
    )
    parser.add_argument("--no-profiles", action="store_true", help="skip the profiled runs")
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument(
        "--tiny", action="store_true", help="a few seconds at tiny sizes (tests use it)"
    )
    args = parser.parse_args(argv)
    for name in ("repetitions", "baseline_repetitions", "apply_baseline_repetitions"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1 (figures are medians)")
    options = Options(
        sizes=[int(size) for size in args.sizes.split(",") if size.strip()],
        repetitions=args.repetitions,
        baseline_repetitions=args.baseline_repetitions,
        apply_baseline_repetitions=args.apply_baseline_repetitions,
        edits=args.edits,
        keystrokes=args.keystrokes,
        skip={name.strip() for name in args.skip.split(",") if name.strip()},
        out=args.out,
        profiles=not args.no_profiles,
    )
    if args.tiny:
        options.sizes = [30]
        options.repetitions = options.baseline_repetitions = 1
        options.apply_baseline_repetitions = 1
        options.edits = options.keystrokes = 2
        options.skip_profiles = frozenset({"tti", "keystroke"})  # each starts another app
    return options


def compile_project() -> None:
    """Byte-compile the project's modules once, as installing a package does: every child is a
    fresh interpreter, and with PYTHONDONTWRITEBYTECODE set (as on some machines) each would
    otherwise compile every module it imports from source again, inside the timed start."""
    for package in ("core", "tui", "bench"):
        compileall.compile_dir(REPO / package, quiet=1)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    results = Suite(options).run()
    markdown, data = results.write(options.out)
    print(results.to_markdown())
    print(f"bench: wrote {markdown.name} and {data.name} in {options.out.name}/")
    return 0
