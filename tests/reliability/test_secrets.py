"""Secrets: every flow runs with a known token (or OAuth client secret) and everything it
produces is searched for it: stdout, stderr, `--json` output, payload files, run logs, records,
error paths, debug logs and the review app's screenshots. Expected: zero hits.

Also: `http://` to a host that is not this machine is refused, and `warehouse serve` binds
loopback by default and answers nothing without its token.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from core.executor import open_run_session, run_plan
from core.loading import load_handoff
from core.payloads import Approval
from core.plan import build_plan
from core.warehouse.config import Connection, OAuthM2MAuth, TokenAuth, resolve_connection
from core.warehouse.errors import ConfigError
from core.warehouse.secret import Secret
from tests.conftest import DATABRICKS_VARIABLES
from tests.reliability.conftest import (
    DEMO,
    DEMO_REPORT,
    REPO,
    Served,
    cli_env,
    free_port,
    kill_group,
    run_cli,
    start_cli,
    start_serve,
    wait_for,
)
from tui.cli import main
from tui.screens.main import MainScreen

WRONG_TOKEN = "dapi-not-the-right-token-7c1e5b2a9f"
WRONG_SECRET = "dose-not-the-right-secret-84d0c6e1"


@dataclass
class Haystack:
    """Everything a set of flows produced, to be searched for secrets."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, text: str) -> None:
        self.texts[label] = text

    def add_tree(self, label: str, root: Path, *, skip: tuple[str, ...] = ()) -> int:
        """Every file under `root` (as bytes decoded leniently); returns how many."""
        count = 0
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not relative.startswith(skip):
                self.texts[f"{label}/{relative}"] = path.read_bytes().decode("utf-8", "replace")
                count += 1
        return count

    def hits(self, *secrets: str) -> list[str]:
        """Where any of `secrets` (or the first 12 characters of one) appears."""
        needles = [s for secret in secrets for s in (secret, secret[:12])]
        return [label for label, text in self.texts.items() if any(n in text for n in needles)]


SUBPROCESS_FLOWS = {"apply", "apply (OAuth M2M)", "apply, MERGE fails", "apply, wrong token"}
"""Flows run as real processes (what a terminal would show, logging included); the others run
in this process through `tui.cli.main`, with their log records searched as well."""


class Runner:
    """Runs CLI flows and keeps everything they print in a Haystack."""

    def __init__(
        self,
        haystack: Haystack,
        home: Path,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.haystack = haystack
        self.home = home
        self.capsys = capsys
        self.caplog = caplog
        self.monkeypatch = monkeypatch

    def __call__(self, label: str, env: dict[str, str], *args: str) -> int:
        if label in SUBPROCESS_FLOWS:
            completed = run_cli(self.home, *args, env=env)
            code, out, err = completed.returncode, completed.stdout, completed.stderr
        else:
            with self.monkeypatch.context() as patch, self.caplog.at_level(logging.DEBUG):
                for name in DATABRICKS_VARIABLES:
                    patch.delenv(name, raising=False)
                for name, value in env.items():
                    if name.startswith("DATABRICKS_") or name == "IMPACT_REVIEW_HOME":
                        patch.setenv(name, value)
                self.caplog.clear()
                code = main(list(args))
                self.haystack.add(f"{label} log", self.caplog.text)
            out, err = self.capsys.readouterr()
        self.haystack.add(f"{label} stdout", out)
        self.haystack.add(f"{label} stderr", err)
        return code


@pytest.fixture(scope="module")
def clean_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One fault-free `warehouse serve` shared by this module's tests (each applies the same
    demo, an idempotent MERGE, and looks only at what it produced itself)."""
    served = start_serve(tmp_path_factory.mktemp("clean-serve-home"))
    yield served
    served.stop()


@pytest.fixture
def servers(
    clean_server: Served, serve_factory: Callable[..., Served]
) -> Iterator[dict[str, Served]]:
    """A clean server, one whose MERGEs fail, and one that loses MERGE answers under a storm."""
    yield {
        "clean": clean_server,
        "failing": serve_factory("--faults", "fail=^MERGE"),
        "lossy": serve_factory("--faults", "lose=^MERGE,429_every=3,retry_after=0"),
    }


def test_every_cli_flow_keeps_the_token_and_client_secret_out_of_everything(
    servers: dict[str, Served],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clean = servers["clean"]
    haystack = Haystack()
    home = tmp_path / "cli-home"
    run = Runner(haystack, home, capsys, caplog, monkeypatch)
    token_env = clean.env(home)
    flows: list[tuple[str, dict[str, str], tuple[str, ...], int]] = [
        ("validate", token_env, ("validate", str(DEMO)), 0),
        ("plan", token_env, ("plan", str(DEMO)), 0),
        ("plan --json", token_env, ("plan", str(DEMO), "--json"), 0),
        ("render", token_env, ("render", str(DEMO), "--out", str(home / "rendered")), 0),
        ("apply", token_env, ("apply", str(DEMO), "--yes"), 0),
        ("apply --json", token_env, ("apply", str(DEMO), "--yes", "--json"), 0),
        ("verify", token_env, ("verify", DEMO_REPORT), 0),
        ("verify --json", token_env, ("verify", DEMO_REPORT, "--json"), 0),
        ("reports", token_env, ("reports",), 0),
        ("reports --json", token_env, ("reports", "--json"), 0),
        ("apply (OAuth M2M)", clean.env(home, oauth=True), ("apply", str(DEMO), "--yes"), 0),
        ("verify (OAuth M2M)", clean.env(home, oauth=True), ("verify", DEMO_REPORT, "--json"), 0),
        ("apply, MERGE fails", servers["failing"].env(home), ("apply", str(DEMO), "--yes"), 3),
        (
            "apply --json, answer lost under 429s",
            servers["lossy"].env(home),
            ("apply", str(DEMO), "--yes", "--json"),
            3,
        ),
        (
            "apply, wrong token",
            clean.env(home, DATABRICKS_TOKEN=WRONG_TOKEN),
            ("apply", str(DEMO), "--yes"),
            3,
        ),
        (
            "verify, wrong OAuth secret",
            clean.env(home, oauth=True, DATABRICKS_CLIENT_SECRET=WRONG_SECRET),
            ("verify", DEMO_REPORT),
            3,
        ),
        (
            "apply, token and OAuth both set",
            {**token_env, "DATABRICKS_CLIENT_ID": "x", "DATABRICKS_CLIENT_SECRET": WRONG_SECRET},
            ("apply", str(DEMO), "--yes"),
            3,
        ),
        (
            "apply, http:// to another host",
            {**token_env, "DATABRICKS_HOST": "http://203.0.113.7:8765"},
            ("apply", str(DEMO), "--yes"),
            3,
        ),
    ]
    for label, env, args, expected in flows:
        assert run(label, env, *args) == expected, haystack.texts[f"{label} stderr"]
    files = haystack.add_tree("IMPACT_REVIEW_HOME", home)
    assert files >= 40, "payload files, run logs, approvals, results and verifications"
    for served in servers.values():
        log = [line for line in served.lines if not line.startswith(("export ", "# OAuth"))]
        haystack.add(f"server log {served.port}", "".join(log))
    secrets = [s.token for s in servers.values()] + [clean.client_secret, WRONG_TOKEN, WRONG_SECRET]
    assert haystack.hits(*secrets) == []
    assert "refusing http://203.0.113.7" in haystack.texts["apply, http:// to another host stderr"]
    assert "may have run" in haystack.texts["apply --json, answer lost under 429s stdout"]


def test_a_broken_config_file_line_holding_a_token_is_not_echoed(tmp_path: Path) -> None:
    config = tmp_path / "databrickscfg"
    config.write_text(f"[DEFAULT]\nhost = https://x.cloud.databricks.com\n{WRONG_TOKEN}\n")
    env = cli_env(tmp_path, DATABRICKS_CONFIG_FILE=str(config))
    completed = run_cli(tmp_path, "apply", str(DEMO), "--yes", env=env)
    assert completed.returncode == 3
    assert "cannot parse line(s) 3" in completed.stderr
    assert WRONG_TOKEN[:12] not in completed.stdout + completed.stderr


async def test_debug_logging_of_the_whole_http_stack_shows_no_credential(
    clean_server: Served, impact_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    served = clean_server
    plan = build_plan(load_handoff(DEMO))
    approval = Approval("oncall", plan.handoff.report.generated_at, plan.digest)
    connections = [
        Connection("databricks", served.host, served.warehouse_id, TokenAuth(Secret(served.token))),
        Connection(
            "databricks",
            served.host,
            served.warehouse_id,
            OAuthM2MAuth(served.client_id, Secret(served.client_secret)),
        ),
    ]
    with caplog.at_level(logging.DEBUG):
        for connection in connections:
            async with open_run_session(connection, home=impact_home) as session:
                finished = await run_plan(plan, approval, session, home=impact_home)
                assert finished.verification is not None and finished.verification.ok
                shown = f"{connection!r} {connection} {session!r} {session.http.auth!r}"
    assert caplog.records, "debug logging was captured"
    haystack = Haystack({"debug log": caplog.text, "reprs": shown})
    assert haystack.hits(served.token, served.client_secret) == []


@pytest.mark.parametrize(
    "host",
    [
        "http://203.0.113.7",
        "http://example.com:8765",
        "http://[2001:db8::1]:80",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
    ],
)
def test_plain_http_to_another_host_is_refused(host: str) -> None:
    env = {"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": WRONG_TOKEN, "DATABRICKS_WAREHOUSE_ID": "a"}
    with pytest.raises(ConfigError, match="refusing http://") as refused:
        resolve_connection(env=env, config_file=Path("/nonexistent"))
    assert WRONG_TOKEN not in str(refused.value)


@pytest.mark.parametrize("host", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:2"])
def test_plain_http_to_this_machine_is_allowed(host: str) -> None:
    env = {"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": WRONG_TOKEN, "DATABRICKS_WAREHOUSE_ID": "a"}
    connection = resolve_connection(env=env, config_file=Path("/nonexistent"))
    assert connection.host == host and WRONG_TOKEN not in repr(connection)


# -- warehouse serve: loopback by default, and nothing without its token -----------------------


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, from /proc/net/tcp(6)."""
    found = set()
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, _, state = line.split()[1], line.split()[2], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
                packed = b"".join(words)
                family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
                found.add(socket.inet_ntop(family, packed))
    return found


def _outward_address() -> str | None:
    """This machine's address towards the outside world, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("203.0.113.1", 9))
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_serve_binds_loopback_by_default(clean_server: Served) -> None:
    served = clean_server
    assert served.host == f"http://127.0.0.1:{served.port}"
    if Path("/proc/net/tcp").exists():
        assert _listening_addresses(served.port) == {"127.0.0.1"}
    outward = _outward_address()
    if outward is not None:
        with pytest.raises(OSError), socket.create_connection((outward, served.port), timeout=5):
            pass


def test_serve_refuses_a_non_loopback_bind_without_allow_remote(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tui", "warehouse", "serve", "--host", "0.0.0.0", "--port", "0"],
        cwd=REPO,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "--allow-remote" in completed.stderr and completed.stdout == ""


STATEMENT_ID = "01f1c46b-c6a4-1a9a-9f97-7eff37bf8459"


def test_serve_answers_nothing_without_its_token(clean_server: Served) -> None:
    served = clean_server
    body = {"statement": "SELECT 1", "warehouse_id": served.warehouse_id}
    routes = [
        ("POST", "/api/2.0/sql/statements", body),
        ("GET", f"/api/2.0/sql/statements/{STATEMENT_ID}", None),
        ("POST", f"/api/2.0/sql/statements/{STATEMENT_ID}/cancel", {}),
        ("DELETE", f"/api/2.0/sql/statements/{STATEMENT_ID}", None),
        ("GET", f"/api/2.0/sql/statements/{STATEMENT_ID}/result/chunks/0", None),
        ("GET", f"/api/2.0/sql/warehouses/{served.warehouse_id}", None),
        ("POST", f"/api/2.0/sql/warehouses/{served.warehouse_id}/start", {}),
        ("GET", "/api/2.0/preview/scim/v2/Me", None),
    ]
    credentials = {
        "none": ({}, 401),
        "wrong token": ({"Authorization": f"Bearer {WRONG_TOKEN}"}, 403),
        "token as Basic": ({"Authorization": f"Basic {served.token}"}, 401),
        "token under another scheme": ({"Authorization": f"Token {served.token}"}, 401),
    }
    with httpx.Client(base_url=served.host, timeout=30) as client:
        for method, path, payload in routes:
            for name, (headers, status) in credentials.items():
                answer = client.request(method, path, json=payload, headers=headers)
                assert answer.status_code == status, (method, path, name, answer.text)
            answer = client.request(
                method, path, json=payload, params={"token": served.token}, headers={}
            )
            assert answer.status_code == 401, "a token in the query string is not a credential"
        token = client.post("/oidc/v1/token", data={"grant_type": "client_credentials"})
        assert token.status_code == 401
        wrong = client.post(
            "/oidc/v1/token",
            data={"grant_type": "client_credentials"},
            auth=(served.client_id, WRONG_SECRET),
        )
        assert wrong.status_code == 401
        right = client.get(
            "/api/2.0/preview/scim/v2/Me", headers={"Authorization": f"Bearer {served.token}"}
        )
        assert right.status_code == 200


# -- the review app's screens -----------------------------------------------------------------


async def test_the_review_app_never_shows_a_credential(
    clean_server: Served, impact_home: Path, tmp_path: Path
) -> None:
    """Run the app against a served warehouse with its token and with a wrong one; save a
    screenshot at every stage and search them, and the files the runs wrote. (The screens show
    the same connection text for OAuth M2M, whose secret the CLI and debug-log cases cover.)"""
    from tui.app import ImpactReviewApp
    from tui.context import AppContext

    served = clean_server
    handoff = load_handoff(DEMO)
    auths: dict[str, TokenAuth | OAuthM2MAuth] = {
        "token": TokenAuth(Secret(served.token)),
        "wrong token": TokenAuth(Secret(WRONG_TOKEN)),
    }
    haystack = Haystack()
    for name, auth in auths.items():
        connection = Connection("databricks", served.host, served.warehouse_id, auth)
        context = AppContext(
            connection=connection,
            approver="oncall@example.com",
            clock=lambda: datetime(2026, 5, 12, 17, 5, tzinfo=UTC),
            home=impact_home,
            export_dir=tmp_path,
            live_ticks=False,
            cursor_blink=False,
        )
        app = ImpactReviewApp(handoff, source="demo.json", context=context)
        async with app.run_test(size=(140, 44)) as pilot:
            await settle(pilot)
            haystack.add(f"{name}: review", app.export_screenshot())
            await pilot.press("a")
            haystack.add(f"{name}: approve dialog", app.export_screenshot())
            await pilot.press("y")
            main = app.screen_stack[0]
            assert isinstance(main, MainScreen)
            await until(pilot, _run_over(main))
            await settle(pilot)
            haystack.add(f"{name}: after the run", app.export_screenshot())
            if name != "wrong token":
                assert main.last_run is not None and main.last_run.verification is not None
                await pilot.press("R")
                await settle(pilot)
                haystack.add(f"{name}: reports", app.export_screenshot())
                await pilot.press("escape")
            await pilot.press("ctrl+p")
            await settle(pilot)
            haystack.add(f"{name}: palette", app.export_screenshot())
    haystack.add_tree("IMPACT_REVIEW_HOME", impact_home)
    assert len([label for label in haystack.texts if ": " in label]) == 9
    assert haystack.hits(served.token, served.client_secret, WRONG_TOKEN) == []


def _run_over(screen: MainScreen) -> Callable[[], bool]:
    return lambda: not screen.running


async def settle(pilot: Pilot[None]) -> None:
    """Let the app's workers finish and its messages be handled."""
    with contextlib.suppress(WorkerCancelled):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Pilot[None], condition: Callable[[], bool], within: float = 30) -> None:
    """Process the app's messages until `condition` holds (bounded)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.02)


def test_web_serves_the_app_on_loopback_by_default(tmp_path: Path) -> None:
    """`impact-review web` (the app in a browser, able to approve writes) listens on 127.0.0.1
    unless told otherwise."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc/net/tcp to see where it listens")
    port = free_port()
    process = start_cli(tmp_path, "web", "--port", str(port))
    try:
        wait_for(
            lambda: bool(_listening_addresses(port)) or process.poll() is not None,
            "impact-review web to listen",
        )
        assert process.poll() is None, process.communicate()
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        kill_group(process, signal.SIGTERM)
        try:
            process.wait(20)
        finally:
            kill_group(process)
