"""Real processes: the CLI killed (SIGKILL) or interrupted (SIGINT) during the upsert, and the
`warehouse serve` process killed and restarted under a running CLI. Every wait polls the run log
(or the process) with a bound; nothing sleeps in place of a condition.

The CLI asks the server to hold each statement for up to 10 s, so a statement that finishes
sooner is never seen RUNNING by the CLI: its run log shows the upsert `SUBMITTING` (the POST on
its way) and then the answer. The kill point is therefore "the upsert was submitted"; with a
0.5 s statement latency the warehouse is still holding it RUNNING when the signal lands. Cases
on a separate server accept either outcome of that race (0.2 s latency there), since the server
may run what it was given after the client is gone (the Ctrl-C cases take 1 s and 0.8 s: they
assert the warning about the statement in flight, and the in-process warehouse's empty table).
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.loading import load_handoff
from core.runs import approved_rows
from core.warehouse.config import local_connection
from core.warehouse.errors import WarehouseError
from core.warehouse.session import open_session
from tests.reliability.conftest import (
    DEMO,
    DEMO_REPORT,
    DEMO_SERVICES,
    InProcessCli,
    Served,
    cli_env,
    free_port,
    kill_group,
    local_sql,
    log_events,
    report_keys,
    run_dirs,
    start_cli,
    upsert_in_flight,
    wait_for,
)

APPROVED = [(DEMO_REPORT, name) for name in DEMO_SERVICES]
APPLY = ("apply", str(DEMO), "--yes", "--approver", "oncall@example.com")


def _last_events(home: Path) -> list[dict[str, Any]]:
    return log_events(run_dirs(home)[-1])


def _assert_log_is_whole_lines(run_dir: Path) -> None:
    """A crash leaves a run log of complete JSON lines (each is flushed as it is written)."""
    text = (run_dir / "run.log").read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert len(log_events(run_dir)) == len(text.splitlines())


def test_cli_killed_during_the_upsert_then_run_again(impact_home: Path, cli: InProcessCli) -> None:
    process = start_cli(impact_home, *APPLY, "--warehouse", "local", "--faults", "latency=0.5")
    try:
        wait_for(upsert_in_flight(impact_home, "SUBMITTING"), "the upsert to be submitted")
        kill_group(process, signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        kill_group(process)
    (killed,) = run_dirs(impact_home)
    _assert_log_is_whole_lines(killed)
    assert not (killed / "result.json").exists(), "the killed run never finished"
    last = log_events(killed)[-1]
    assert (last["event"], last["step"]) == ("StatementStateChanged", "upsert-rows")
    assert (killed / "04-upsert-rows.json").is_file(), "its payload files were written first"

    # The embedded warehouse died with the CLI; its DuckDB file opens again, and holds the
    # table without any row (or, had the MERGE committed first, exactly the approved ones).
    rows_of = lambda sql: local_sql(impact_home, sql)  # noqa: E731
    assert report_keys(rows_of) in ([], APPROVED)
    assert approved_rows(DEMO_REPORT, impact_home) is None, "no upsert is on record"

    again = cli(*APPLY, "--warehouse", "local", env=cli_env(impact_home))
    assert again.returncode == 0, again.stderr
    assert report_keys(rows_of) == APPROVED
    verified = cli("verify", DEMO_REPORT, "--warehouse", "local", env=cli_env(impact_home))
    assert verified.returncode == 0 and "verified: 2 match" in verified.stdout


def test_cli_killed_while_a_served_warehouse_runs_the_merge(
    serve_factory: Callable[..., Served], tmp_path: Path, cli: InProcessCli
) -> None:
    """The server outlives the client: the MERGE it was given may still commit after the client
    died. Running again upserts the same keys: never a duplicate."""
    served = serve_factory("--faults", "latency=0.2")
    home = tmp_path / "cli-home"
    process = start_cli(home, *APPLY, env=served.env(home))
    try:
        wait_for(upsert_in_flight(home, "SUBMITTING"), "the upsert to be submitted")
        kill_group(process, signal.SIGKILL)
        process.wait(30)
    finally:
        kill_group(process)
    again = cli(*APPLY, env=served.env(home))
    assert again.returncode == 0, again.stderr
    assert report_keys(served.sql) == APPROVED
    assert "verified: 2 match" in again.stdout


@pytest.mark.parametrize("where", ["local", "served"])
def test_ctrl_c_during_the_upsert_exits_130_and_says_what_may_still_run(
    where: str, serve_factory: Callable[..., Served], tmp_path: Path, cli: InProcessCli
) -> None:
    """Ctrl-C while the upsert's POST is held by the server. The statement has no id yet, so
    it cannot be cancelled: the embedded warehouse in the CLI's own process stops with it, but
    a separate server may still run it. The run log says so, and running again is safe."""
    home = tmp_path / "cli-home"
    served = serve_factory("--faults", "latency=0.8") if where == "served" else None
    if served is None:
        process = start_cli(home, *APPLY, "--warehouse", "local", "--faults", "latency=2")
        rows_of: Callable[[str], list[list[str | None]]] = lambda sql: local_sql(home, sql)  # noqa: E731
        env = None
    else:
        env = served.env(home)
        process = start_cli(home, *APPLY, env=env)
        rows_of = served.sql
    try:
        wait_for(upsert_in_flight(home, "SUBMITTING"), "the upsert to be submitted")
        assert process.poll() is None, "the CLI finished before it could be interrupted"
        kill_group(process, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        kill_group(process)
    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "interrupted"
    events = _last_events(home)
    assert events[-1]["event"] == "RunFinished" and events[-1]["outcome"] == "canceled"
    finished = {(e["step"], e["state"]) for e in events if e["event"] == "StepFinished"}
    assert {("upsert-rows", "canceled"), ("verify-rows", "skipped")} <= finished
    warning = next(e["message"] for e in events if e.get("level") == "warning")
    assert warning.startswith("upsert-rows was sent") and "may still run" in warning
    assert f"warning: {warning}" in out, "printed as it happened"
    result = json.loads((run_dirs(home)[-1] / "result.json").read_text(encoding="utf-8"))
    assert result["outcome"] == "canceled" and result["may_have_run"] == "upsert-rows"
    if served is None:
        assert report_keys(rows_of) == [], "the in-process warehouse stopped with the CLI"
    else:
        assert report_keys(rows_of) in ([], APPROVED)
    local = ["--warehouse", "local"] if served is None else []
    again = cli(*APPLY, *local, env=env or cli_env(home))
    assert again.returncode == 0, again.stderr
    assert report_keys(rows_of) == APPROVED


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["crash", "graceful"])
def test_the_warehouse_server_killed_and_restarted_mid_run(
    stop: signal.Signals, serve_factory: Callable[..., Served], tmp_path: Path, cli: InProcessCli
) -> None:
    """Stop the server (SIGKILL: a crash; SIGTERM: a graceful stop) while the CLI's upsert is
    in flight, start it again on the same port and data. The CLI either reconnects and finishes
    or stops with exit 3 saying the statement may have run; either way, running again leaves
    exactly the approved rows."""
    port = free_port()
    server_home = tmp_path / "server-home"
    first = serve_factory("--faults", "latency=0.2", home=server_home, port=port)
    home = tmp_path / "cli-home"
    env = first.env(home)
    process = start_cli(home, *APPLY, env=env)
    try:
        wait_for(upsert_in_flight(home, "SUBMITTING"), "the upsert to be submitted")
        first.stop(stop)
        second = serve_factory(home=server_home, port=port)
        assert second.token == first.token, "the restarted server keeps its credentials"
        out, err = process.communicate(timeout=120)
    finally:
        kill_group(process)
    events = _last_events(home)
    assert events[-1]["event"] == "RunFinished"
    if process.returncode == 0:
        assert events[-1]["outcome"] == "succeeded"
    else:
        assert process.returncode == 3, err
        failure = events[-1]["failure"]
        assert failure["statement"] == "upsert-rows"
        assert "may have run" in failure["message"]
        assert "may have run" in err
    assert report_keys(second.sql) in ([], APPROVED), "the table survived the crash"
    again = cli(*APPLY, env=env)
    assert again.returncode == 0, again.stderr
    assert report_keys(second.sql) == APPROVED


def test_the_demo_handoff_is_what_these_cases_apply() -> None:
    assert sorted(s.name for s in load_handoff(DEMO).services if s.written) == DEMO_SERVICES


def test_apply_while_another_process_holds_the_embedded_warehouse(
    serve_factory: Callable[..., Served], impact_home: Path, cli: InProcessCli
) -> None:
    """`warehouse serve` (or another apply, or the app) has the embedded warehouse's data open:
    a second process cannot open it, and says so in one line with exit 3, writing nothing."""
    serve_factory(home=impact_home)
    for args in (APPLY, ("verify", DEMO_REPORT), ("reports",)):
        completed = cli(*args, "--warehouse", "local", env=cli_env(impact_home))
        assert completed.returncode == 3, completed.stderr
        assert "Traceback" not in completed.stderr
        (line,) = completed.stderr.splitlines()
        assert line.startswith("impact-review: [EMBEDDED_WAREHOUSE_BUSY] ")
        assert "locked by another process" in line
    assert run_dirs(impact_home) == [], "no run was started"


async def test_a_busy_embedded_warehouse_is_a_warehouse_error_for_every_caller(
    serve_factory: Callable[..., Served], impact_home: Path
) -> None:
    serve_factory(home=impact_home)
    with pytest.raises(WarehouseError, match="EMBEDDED_WAREHOUSE_BUSY"):
        async with open_session(local_connection(), home=impact_home):
            pass
