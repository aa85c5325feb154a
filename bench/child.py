"""One measurement in a fresh interpreter: `python -m bench.child WORKLOAD 'JSON arguments'`.

The parent (`bench.suite`) starts one child per repetition and size, so nothing one measurement
warmed (caches, imports, the warehouse's files) helps another, and each child's peak RSS is its
own. A child prints `READY` when it reaches its first milestone (the TUI workloads use it to time
process start to interactive from the parent) and one JSON object as its last line: the
timings it took inside the process (seconds, `time.perf_counter`) and `peak_rss_mb`.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import re
import resource
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Result = dict[str, Any]
REPO = Path(__file__).resolve().parents[1]
STARTED = time.perf_counter()
"""When this module was imported: just after the interpreter started."""


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    On Linux this is `VmHWM` from /proc/self/status: `getrusage(RUSAGE_SELF).ru_maxrss` also
    counts the parent's peak inherited through fork+exec, which would charge the benchmark
    driver's own memory to every child."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def _home() -> Path:
    return Path(os.environ["IMPACT_REVIEW_HOME"])


def current_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssPhases:
    """Samples this process's RSS every few milliseconds in a thread; `mark(name)` ends the
    current phase, and `peaks()` gives the highest RSS seen during each phase (MiB)."""

    def __init__(self, first: str, interval_s: float = 0.01) -> None:
        self._marks: list[tuple[str, float]] = [(first, time.perf_counter())]
        self._samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._interval = interval_s
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._samples.append((time.perf_counter(), current_rss_mb()))
            self._stop.wait(self._interval)

    def mark(self, name: str) -> None:
        self._marks.append((name, time.perf_counter()))

    def peaks(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._samples.append((time.perf_counter(), current_rss_mb()))
        ends = [at for _, at in self._marks[1:]] + [float("inf")]
        result: dict[str, float] = {}
        for (name, start), end in zip(self._marks, ends, strict=True):
            inside = [rss for at, rss in self._samples if start <= at <= end]
            if inside:
                result[name] = round(max(inside), 1)
        return result


def _where(path: str) -> str:
    """A profile entry's file without this machine's directories."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if path.startswith(str(REPO)):
        return str(Path(path).relative_to(REPO))
    return Path(path).name if path.startswith("/") else path


def profile_summary(profiles: list[cProfile.Profile], limit: int = 40) -> Result:
    """The project's functions by cumulative time, and every function by own time."""
    merged = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        merged.add(profile)
    entries: list[dict[str, Any]] = []
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = merged.stats  # type: ignore[attr-defined]
    for (path, _line, function), (_, calls, own, total, _callers) in raw.items():
        where = _where(path)
        name = re.sub(r" at 0x[0-9a-f]+", "", function)
        entries.append(
            {
                "function": f"{where}:{name}" if path != "~" else name,
                "calls": calls,
                "own_s": round(own, 4),
                "total_s": round(total, 4),
                "project": where.startswith(("core/", "tui/")),
            }
        )
    project = sorted((e for e in entries if e["project"]), key=lambda e: -float(e["total_s"]))
    return {
        "project_by_total": project[:limit],
        "all_by_own": sorted(entries, key=lambda e: -float(e["own_s"]))[:limit],
    }


def imports(what: str = "everything") -> Result:
    """Import what the app needs to show a report (`what="app"`: the floor of time to
    interactive), or everything an apply needs too (the floor of peak memory)."""
    started = time.perf_counter()
    import tui.app  # noqa: F401

    if what == "everything":
        import core.executor  # noqa: F401
        import core.plan  # noqa: F401
        import core.sqlgen.statements  # noqa: F401

    return {"import_s": time.perf_counter() - started}


def render_validate(file: str, mode: str) -> Result:
    """Load a handoff, then build and validate its plan and take its digest, cold.

    `mode` is `ours` (build_plan, Plan.issues, Plan.digest) or `baseline` (bench.baseline)."""
    from core.loading import load_handoff

    phases = RssPhases("load")
    started = time.perf_counter()
    handoff = load_handoff(file)
    loaded = time.perf_counter()
    phases.mark("render + validate + digest")
    if mode == "ours":
        from core.plan import build_plan

        plan = build_plan(handoff)
        rendered = time.perf_counter()
        issues = [str(issue) for issue in plan.issues()]
        validated = time.perf_counter()
        digest = plan.digest
        statement_list = list(plan.statements)
    else:
        from bench import baseline

        statements_list = baseline.render_statements(handoff)
        rendered = time.perf_counter()
        issues = [
            str(issue)
            for issue in baseline.validate_statements(statements_list, handoff.report.target_table)
        ]
        validated = time.perf_counter()
        digest = baseline.digest(statements_list)
        statement_list = statements_list
    digested = time.perf_counter()
    peaks = phases.peaks()  # the sizes below are counted after the phase
    return {
        "load_s": loaded - started,
        "render_s": rendered - loaded,
        "validate_s": validated - rendered,
        "render_validate_s": validated - loaded,
        "digest_s": digested - validated,
        "issues": issues,
        "digest": digest,
        "statements": len(statement_list),
        "sql_bytes": sum(statement.utf8_size for statement in statement_list),
        "rss_phases": peaks,
    }


def edits(file: str, count: int) -> Result:
    """After a first validation, edit one service's risk `count` times and time each update of
    the reviewed plan (review, rebuild, validate, digest), then a cold rebuild as baseline."""
    from core.loading import load_handoff
    from core.plan import build_plan, clear_caches
    from core.review import Review

    handoff = load_handoff(file)
    plan = build_plan(handoff)
    plan.issues()
    _ = plan.digest
    review = Review(handoff)
    names = sorted(s.name for s in handoff.services if s.written)
    steps: list[dict[str, float]] = []
    for index in range(count):
        name = names[(index * 7919) % len(names)]
        started = time.perf_counter()
        review = review.cycle_risk(name)
        reviewed = review.reviewed_handoff()
        handed = time.perf_counter()
        plan = build_plan(reviewed)
        built = time.perf_counter()
        plan.issues()
        validated = time.perf_counter()
        _ = plan.digest
        digested = time.perf_counter()
        steps.append(
            {
                "review_s": handed - started,
                "build_s": built - handed,
                "validate_s": validated - built,
                "digest_s": digested - validated,
                "plan_update_s": digested - handed,
            }
        )
    cold: list[float] = []
    for _ in range(max(1, min(3, count))):
        clear_caches()
        started = time.perf_counter()
        plan = build_plan(reviewed)
        plan.issues()
        _ = plan.digest
        cold.append(time.perf_counter() - started)
    return {"edits": steps, "cold_rebuild_s": cold}


def apply(file: str, mode: str) -> Result:
    """Write a handoff to a fresh embedded warehouse: `ours` runs the approved plan end to end
    (`run_plan`: auth, payload files, create, MERGE, verify); `baseline` creates the table and
    sends one INSERT per row through the same client. Counts HTTP requests by kind."""
    from core.events import RunEvent, StepFinished, StepStarted
    from core.executor import open_run_session, run_plan
    from core.loading import load_handoff
    from core.payloads import Approval, parameter_values
    from core.plan import build_plan
    from core.warehouse.client import Parameter
    from core.warehouse.config import local_connection

    phases = RssPhases("load")
    started = time.perf_counter()
    handoff = load_handoff(file)
    phases.mark("plan")
    plan = build_plan(handoff)
    if not plan.is_valid:
        raise SystemExit(f"invalid plan: {plan.issues()}")
    approval = Approval("bench@example.com", datetime.now(UTC), plan.digest)
    prepared = time.perf_counter()
    requests: dict[str, int] = {}
    steps: dict[str, float] = {}
    result: Result = {}

    async def count(request: Any) -> None:
        path = str(request.url.path)
        kind = (
            "chunk"
            if "/result/chunks/" in path
            else "poll"
            if request.method == "GET" and "/sql/statements/" in path
            else "submit"
            if request.method == "POST" and path.endswith("/sql/statements")
            else "preflight"
            if request.method == "GET"
            else "other"
        )
        requests[kind] = requests.get(kind, 0) + 1

    def on_event(event: RunEvent) -> None:
        if isinstance(event, StepStarted):
            phases.mark(event.step.value)
        if isinstance(event, StepFinished):
            steps[event.step.value] = event.step_elapsed_s

    async def run() -> None:
        phases.mark("open session, approval record")
        async with open_run_session(local_connection(), home=_home()) as session:
            session.http.event_hooks["request"].append(count)
            opened = time.perf_counter()
            if mode == "ours":
                finished = await run_plan(plan, approval, session, on_event=on_event, home=_home())
                result["outcome"] = finished.outcome.value
            else:
                from bench.baseline import insert_sql

                values = parameter_values(approval)
                parameters = [
                    Parameter(slot.name, values[slot.name], slot.type)
                    for slot in plan.statements[1].parameters
                ]
                await session.client.execute(plan.statements[0].sql)
                for row in plan.rows:
                    await session.client.execute(insert_sql(plan.target_table, row), parameters)
                counted = await session.client.execute(f"SELECT COUNT(*) FROM {plan.target_table}")
                written = int(counted.rows[0][0] or 0)
                result["outcome"] = "succeeded" if written == len(plan.rows) else "mismatch"
            result["write_s"] = time.perf_counter() - opened
            result["http_requests"] = session.client.request_count

    asyncio.run(run())
    result.update(
        {
            "prepare_s": prepared - started,
            "apply_s": time.perf_counter() - prepared,
            "requests_by_kind": requests,
            "statements": len(plan.statements),
            "rows": len(plan.rows),
            "steps_s": steps,
            "rss_phases": phases.peaks(),
        }
    )
    return result


def _app(file: str) -> Any:
    from core.loading import load_handoff
    from core.warehouse.config import local_connection
    from tui.app import ImpactReviewApp
    from tui.context import AppContext

    context = AppContext(
        connection=local_connection(),
        approver="bench@example.com",
        home=_home(),
        export_dir=_home(),
        live_ticks=False,
        cursor_blink=False,
    )
    return ImpactReviewApp(load_handoff(file), source=Path(file).name, context=context)


def _tree_shown(app: Any) -> bool:
    from tui.widgets.impact_tree import ImpactTree

    try:
        main = app.main_screen
        tree = main.query_one(ImpactTree)
    except Exception:
        return False
    # The screen and the tree are mounted and the tree has its service lines.
    return bool(main.is_mounted and tree.is_mounted and tree.service_nodes)


async def _until(
    condition: Callable[[], bool], within: float = 120.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not met within {within:g} s")
        await asyncio.sleep(0.002)


def tti(file: str) -> Result:
    """Open the review app headless (`run_test`) and say READY once the tree is shown."""
    phases = RssPhases("imports")
    import core.plan
    import tui.app  # noqa: F401
    import tui.screens.main as screen_module

    imported = time.perf_counter()
    builds: list[tuple[float, float]] = []

    def timed_build_plan(handoff: Any) -> Any:
        started = time.perf_counter()
        plan = core.plan.build_plan(handoff)
        builds.append((started, time.perf_counter()))
        return plan

    screen_module.__dict__["build_plan"] = timed_build_plan  # the screen's own import of it
    phases.mark("load")
    app = _app(file)
    loaded = time.perf_counter()
    phases.mark("app start until the tree shows")
    result: Result = {}

    async def run() -> None:
        async with app.run_test(size=(160, 48)):
            await _until(lambda: _tree_shown(app))
            shown = time.perf_counter()
            print("READY", flush=True)
            phases.mark("first preview and validation")
            await _until(lambda: app.main_screen.validated is not None)
            result.update(
                {
                    "imports_s": imported - STARTED,
                    "load_s": loaded - imported,
                    "first_plan_s": builds[0][1] - builds[0][0] if builds else 0.0,
                    "first_plan_before_tree": bool(builds) and builds[0][1] <= shown,
                    "tree_shown_s": shown - STARTED,
                    "validated_s": time.perf_counter() - STARTED,
                    "valid": bool(app.main_screen.validated),
                    "rss_phases": phases.peaks(),
                }
            )

    asyncio.run(run())
    return result


def keystrokes(file: str, count: int) -> Result:
    """In the headless app, press `r` (cycle risk) `count` times on the selected service and
    time each keystroke until the preview shows the new plan, and until it is validated."""
    from tui.widgets.sql_preview import PreviewPane

    shown_at: list[float] = []
    original = PreviewPane.show_plan

    def show_plan(self: PreviewPane, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        shown_at.append(time.perf_counter())

    PreviewPane.show_plan = show_plan  # type: ignore[method-assign]
    app = _app(file)
    presses: list[dict[str, float]] = []

    async def run() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await _until(lambda: _tree_shown(app) and app.main_screen.validated is not None)
            main = app.main_screen
            written = sorted(s.name for s in main.review.handoff.services if s.written)
            target = written[len(written) // 2]
            main.select_service(target)
            await _until(lambda: main.selected == target, 20, "the app selecting a service")
            for _ in range(count):
                before = main.plan
                shown_at.clear()
                started = time.perf_counter()
                await pilot.press("r")

                def changed(before: object = before) -> bool:
                    return main.plan is not before and bool(shown_at)

                await _until(changed)
                previewed = shown_at[-1]
                await _until(lambda: main.validated is not None)
                validated = time.perf_counter()
                await pilot.pause()
                presses.append(
                    {"preview_s": previewed - started, "validated_s": validated - started}
                )

    asyncio.run(run())
    return {"presses": presses}


def profile(file: str, what: str) -> Result:
    """One run under cProfile (times inflated by it) to show where the time goes: `render`
    (build + validate + digest), `tti` (app start until the tree shows), `keystroke` (one risk
    edit until the plan is validated) or `apply` (including the warehouse's statement threads)."""
    profiles = [cProfile.Profile()]
    main_profile = profiles[0]
    started = time.perf_counter()
    if what == "render":
        from core.loading import load_handoff
        from core.plan import build_plan

        handoff = load_handoff(file)
        started = time.perf_counter()
        main_profile.enable()
        plan = build_plan(handoff)
        plan.issues()
        _ = plan.digest
        main_profile.disable()
    elif what == "apply":
        from core.embedded import statements as warehouse_statements
        from core.executor import open_run_session, run_plan
        from core.loading import load_handoff
        from core.payloads import Approval
        from core.plan import build_plan
        from core.warehouse.config import local_connection

        plan = build_plan(load_handoff(file))
        approval = Approval("bench@example.com", datetime.now(UTC), plan.digest)
        original_run = warehouse_statements.StatementStore._run

        def profiled_run(store: Any, statement: Any) -> None:
            thread_profile = cProfile.Profile()
            profiles.append(thread_profile)
            thread_profile.enable()
            try:
                original_run(store, statement)
            finally:
                thread_profile.disable()

        warehouse_statements.StatementStore._run = profiled_run  # type: ignore[method-assign,assignment]

        async def write() -> None:
            async with open_run_session(local_connection(), home=_home()) as session:
                main_profile.enable()
                await run_plan(plan, approval, session, home=_home())
                main_profile.disable()

        started = time.perf_counter()
        asyncio.run(write())
    else:
        import tui.app  # noqa: F401

        async def drive() -> None:
            if what == "tti":
                main_profile.enable()
            app = _app(file)
            async with app.run_test(size=(160, 48)) as pilot:
                await _until(lambda: _tree_shown(app))
                if what == "tti":
                    main_profile.disable()
                    return
                await _until(lambda: app.main_screen.validated is not None)
                main = app.main_screen
                written = sorted(s.name for s in main.review.handoff.services if s.written)
                target = written[len(written) // 2]
                main.select_service(target)
                await _until(lambda: main.selected == target, 20, "the app selecting a service")
                await _until(lambda: main.validated is not None)
                before = main.plan
                main_profile.enable()
                await pilot.press("r")
                await _until(lambda: main.plan is not before and main.validated is not None)
                main_profile.disable()

        asyncio.run(drive())
    return {"profiled_s": time.perf_counter() - started, **profile_summary(profiles)}


WORKLOADS: dict[str, Callable[..., Result]] = {
    "imports": imports,
    "render_validate": render_validate,
    "edits": edits,
    "apply": apply,
    "tti": tti,
    "keystrokes": keystrokes,
    "profile": profile,
}


def main(argv: list[str]) -> int:
    name, arguments = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = WORKLOADS[name](**arguments)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
