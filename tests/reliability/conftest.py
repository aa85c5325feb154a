"""Helpers for the reliability suite: real processes, real sockets, bounded waits.

Nothing here sleeps in place of a condition: every wait polls a state (a file, a socket, a
process) in a bounded loop and fails with a message when the bound passes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlglot
from sqlglot import exp

from core.executor import open_run_session
from core.warehouse.client import Parameter
from core.warehouse.config import local_connection
from tests.conftest import DATABRICKS_VARIABLES, DEMO, REPO

__all__ = ["DEMO", "REPO"]

DEMO_REPORT = "annie-dbx-checkout-2044"
DEMO_TABLE = "workspace.default.anyshift_production_impact_reports"
DEMO_SERVICES = ["checkout-api", "risk-worker"]


def wait_for(condition: Callable[[], bool], what: str, within_s: float = 30.0) -> None:
    """Poll `condition` until it holds; fail the test naming `what` after `within_s`."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_s:g} s waiting for {what}")
        time.sleep(0.005)


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: this one without Databricks settings, with its
    own IMPACT_REVIEW_HOME and no config file, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in DATABRICKS_VARIABLES}
    env["IMPACT_REVIEW_HOME"] = str(home)
    env["DATABRICKS_CONFIG_FILE"] = str(home / "no-databrickscfg")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def start_cli(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`impact-review ARGS` as a child process (`python -m tui`), stdout/stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        cwd=REPO,
        env=env if env is not None else cli_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run_cli(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `impact-review ARGS` to completion in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=REPO,
        env=env if env is not None else cli_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass(frozen=True)
class Completed:
    """How a CLI run ended: exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


InProcessCli = Callable[..., Completed]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> InProcessCli:
    """`impact-review ARGS` run in this process (`tui.cli.main`) with the Databricks settings
    and IMPACT_REVIEW_HOME of `env`: what a child process would do, without starting one."""
    from tui.cli import main

    def run(*args: str, env: dict[str, str]) -> Completed:
        with monkeypatch.context() as patch:
            for name in DATABRICKS_VARIABLES:
                patch.delenv(name, raising=False)
            for name, value in env.items():
                if name.startswith("DATABRICKS_") or name == "IMPACT_REVIEW_HOME":
                    patch.setenv(name, value)
            capsys.readouterr()
            code = main(list(args))
        out, err = capsys.readouterr()
        return Completed(code, out, err)

    return run


def run_dirs(home: Path, report_id: str = DEMO_REPORT) -> list[Path]:
    """Run folders of a report, oldest first."""
    base = home / "reports" / report_id
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def log_events(run_dir: Path) -> list[dict[str, Any]]:
    """The run log's events; a last line still being written (no newline yet) is left out."""
    path = run_dir / "run.log"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    return [json.loads(line) for line in lines[:-1] if line]


def upsert_in_flight(home: Path, state: str = "RUNNING") -> Callable[[], bool]:
    """A condition: the newest run's log shows the upsert statement in `state`."""

    def check() -> bool:
        runs = run_dirs(home)
        return bool(runs) and any(
            event.get("event") == "StatementStateChanged"
            and event.get("step") == "upsert-rows"
            and event.get("state") == state
            for event in log_events(runs[-1])
        )

    return check


def kill_group(process: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
    """Signal the process (it leads its own session, so nothing else is touched)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    """A `warehouse serve` child process, the settings it printed, and what it logged."""

    process: subprocess.Popen[str]
    home: Path
    port: int
    settings: dict[str, str]
    lines: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.settings["DATABRICKS_HOST"]

    @property
    def token(self) -> str:
        return self.settings["DATABRICKS_TOKEN"]

    @property
    def warehouse_id(self) -> str:
        return self.settings["DATABRICKS_SQL_WAREHOUSE_ID"]

    @property
    def client_id(self) -> str:
        return self.settings["DATABRICKS_CLIENT_ID"]

    @property
    def client_secret(self) -> str:
        return self.settings["DATABRICKS_CLIENT_SECRET"]

    def env(self, home: Path, *, oauth: bool = False, **extra: str) -> dict[str, str]:
        """The CLI environment that points at this server, with the token (or OAuth client)."""
        settings = {"DATABRICKS_HOST": self.host, "DATABRICKS_SQL_WAREHOUSE_ID": self.warehouse_id}
        if oauth:
            settings["DATABRICKS_CLIENT_ID"] = self.client_id
            settings["DATABRICKS_CLIENT_SECRET"] = self.client_secret
        else:
            settings["DATABRICKS_TOKEN"] = self.token
        return cli_env(home, **{**settings, **extra})

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop it (SIGTERM: graceful; SIGKILL: a crash) and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(20)

    def sql(self, statement: str, *parameters: Parameter) -> list[list[str | None]]:
        """Run one statement on it through the HTTP API and return its rows."""
        body: dict[str, Any] = {
            "statement": statement,
            "warehouse_id": self.warehouse_id,
            "wait_timeout": "30s",
        }
        if parameters:
            body["parameters"] = [p.to_wire() for p in parameters]
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.host, headers=headers, timeout=60) as client:
            answer = client.post("/api/2.0/sql/statements", json=body).json()
        assert answer["status"]["state"] == "SUCCEEDED", answer
        rows: list[list[str | None]] = answer.get("result", {}).get("data_array", [])
        return rows


def start_serve(home: Path, *extra: str, port: int = 0) -> Served:
    """`impact-review warehouse serve` on 127.0.0.1 (port 0: any free one); waits for its
    banner. Everything it prints (stdout and stderr) is kept in `lines`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "warehouse", "serve", "--port", str(port), *extra],
        cwd=REPO,
        env=cli_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process, home, port, {})

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.lines.append(line)

    threading.Thread(target=pump, daemon=True).start()

    def banner_done() -> bool:
        if process.poll() is not None:
            raise AssertionError("warehouse serve exited:\n" + "".join(served.lines))
        return any(line.startswith("# OAuth") for line in list(served.lines))

    wait_for(banner_done, "the warehouse serve banner")
    for line in list(served.lines):
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").strip().partition("=")
            served.settings[key] = value
        elif line.startswith("# OAuth"):
            for item in line.split():
                key, equals, value = item.partition("=")
                if equals:
                    served.settings[key] = value
    served.port = int(served.host.rsplit(":", 1)[1])
    return served


@pytest.fixture
def serve_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Served]]:
    """Start `warehouse serve` children (each stopped at the end of the test)."""
    started: list[Served] = []

    def start(*extra: str, home: Path | None = None, port: int = 0) -> Served:
        served = start_serve(home or tmp_path_factory.mktemp("serve-home"), *extra, port=port)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def local_sql(home: Path, statement: str, *parameters: Parameter) -> list[list[str | None]]:
    """Run one statement on the embedded warehouse under `home` (a fresh session)."""

    async def work() -> list[list[str | None]]:
        async with open_run_session(local_connection(), home=home) as session:
            return (await session.client.execute(statement, parameters)).rows

    return asyncio.run(work())


def report_keys(
    rows_of: Callable[..., list[list[str | None]]], table: str = DEMO_TABLE
) -> list[tuple[str | None, str | None]]:
    """(report_id, service_name) of every row in the table, duplicates kept, sorted."""
    try:
        rows = rows_of(f"SELECT report_id, service_name FROM {table}")
    except Exception as error:  # AssertionError from Served.sql, StatementFailed from local_sql
        if "TABLE_OR_VIEW_NOT_FOUND" in str(error):
            return []
        raise
    return sorted((row[0], row[1]) for row in rows)


ALLOWED_KINDS = (exp.Create, exp.Merge, exp.Select)


def assert_only_allowed_statements(statements: Sequence[str], table: str) -> None:
    """Every statement is one CREATE TABLE IF NOT EXISTS, MERGE (update/insert) or SELECT, and
    every table it names is `table` (an independent check: sqlglot, not the policy module)."""
    target = exp.to_table(table, dialect="databricks")
    want = (target.catalog.lower(), target.db.lower(), target.name.lower())
    for sql in statements:
        trees = [tree for tree in sqlglot.parse(sql, read="databricks") if tree is not None]
        assert len(trees) == 1, sql[:200]
        tree = trees[0]
        assert isinstance(tree, ALLOWED_KINDS), type(tree).__name__
        if isinstance(tree, exp.Create):
            assert tree.kind == "TABLE" and tree.args.get("exists") and not tree.expression
        if isinstance(tree, exp.Merge):
            for when in tree.find_all(exp.When):
                assert isinstance(when.args.get("then"), exp.Update | exp.Insert)
        for node in tree.find_all(exp.Drop, exp.Delete, exp.Command, exp.Alter, exp.Into):
            raise AssertionError(f"{node.key} in {sql[:200]}")
        for found in tree.find_all(exp.Table):
            key = (found.catalog.lower(), found.db.lower(), found.name.lower())
            assert key == want, found.sql()


class PostedStatements:
    """An httpx request hook keeping the text of every statement POSTed (what really went)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.bodies: list[dict[str, Any]] = []

    async def __call__(self, request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.rstrip("/").endswith("/sql/statements"):
            body = json.loads(request.content)
            self.bodies.append(body)
            self.statements.append(body["statement"])
