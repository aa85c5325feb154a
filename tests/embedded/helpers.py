"""Shared helpers for the embedded-warehouse tests: submit, poll with a bound, serve on a port."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from core.embedded import DEFAULT_WAREHOUSE_ID

STATEMENTS = "/api/2.0/sql/statements"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"}
REPO = Path(__file__).resolve().parents[2]


async def execute(client: httpx.AsyncClient, statement: str, **body: Any) -> httpx.Response:
    """POST a statement (wait_timeout 10s unless given) and return the raw response."""
    payload: dict[str, Any] = {
        "warehouse_id": DEFAULT_WAREHOUSE_ID,
        "statement": statement,
        "wait_timeout": "10s",
    }
    payload.update(body)
    return await client.post(STATEMENTS, json=payload)


async def run(client: httpx.AsyncClient, statement: str, **body: Any) -> dict[str, Any]:
    """Execute and return the body, asserting HTTP 200 and a terminal state."""
    response = await execute(client, statement, **body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    if data["status"]["state"] not in TERMINAL:
        data = await poll(client, data["statement_id"], TERMINAL)
    return data


async def ok(client: httpx.AsyncClient, statement: str, **body: Any) -> dict[str, Any]:
    """Execute and assert SUCCEEDED."""
    data = await run(client, statement, **body)
    assert data["status"]["state"] == "SUCCEEDED", data
    return data


async def rows(client: httpx.AsyncClient, statement: str, **body: Any) -> list[list[str | None]]:
    """All rows of a one-chunk result."""
    data = await ok(client, statement, **body)
    result: list[list[str | None]] = data["result"].get("data_array", [])
    return result


async def poll(
    client: httpx.AsyncClient, statement_id: str, states: set[str], *, within_s: float = 20.0
) -> dict[str, Any]:
    """GET the statement until its state is in `states`; fail after `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while True:
        response = await client.get(f"{STATEMENTS}/{statement_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        if data["status"]["state"] in states:
            return data
        assert time.monotonic() < deadline, f"still {data['status']['state']} after {within_s}s"
        await asyncio.sleep(0.01)


@contextmanager
def uvicorn_server(app: ASGIApp) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Served:
    """A `warehouse serve` subprocess and the settings it printed."""

    process: subprocess.Popen[str]
    host: str
    token: str
    warehouse_id: str
    client_id: str
    client_secret: str

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


def start_serve(home: Path, *extra: str) -> Served:
    """Start `impact-review warehouse serve --port 0` and wait for its banner."""
    env = {**os.environ, "IMPACT_REVIEW_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "warehouse", "serve", "--port", "0", *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: Queue[str] = Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    settings: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while "DATABRICKS_SQL_WAREHOUSE_ID" not in settings or "OAUTH" not in settings:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except Empty:
            process.kill()
            raise AssertionError("warehouse serve printed no settings") from None
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").strip().partition("=")
            settings[key] = value
        elif line.startswith("# OAuth"):
            parts = dict(item.split("=", 1) for item in line.split() if "=" in item)
            settings["OAUTH"] = "yes"
            settings.update(parts)
    return Served(
        process,
        settings["DATABRICKS_HOST"],
        settings["DATABRICKS_TOKEN"],
        settings["DATABRICKS_SQL_WAREHOUSE_ID"],
        settings["DATABRICKS_CLIENT_ID"],
        settings["DATABRICKS_CLIENT_SECRET"],
    )
