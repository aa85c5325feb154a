"""The payload files of a plan: runbook, one .sql and one request .json per statement, replay.sh.

Each .json file is exactly the body POSTed to `/api/2.0/sql/statements`, so the files are a
faithful record of what ran and can be replayed with curl. No credential is ever written: the
replay script reads the token from the environment at run time. A statement that runs only on a
condition (the full read-back, when a fingerprint disagrees) has its files too, but the replay
script only names it: curl cannot compare fingerprints.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from core.plan import Plan
from core.runbook import runbook_pieces
from core.sqlgen.literals import timestamp_text
from core.sqlgen.statements import Statement
from core.steps import CONDITIONS

WAIT_TIMEOUT_S = 10
"""Server-side wait: a statement that finishes within it costs a single request."""


@dataclass(frozen=True)
class Approval:
    """Who approved which plan, and when; bound into the rows as reviewed_by / reviewed_at."""

    approver: str
    approved_at: datetime
    digest: str


def parameter_values(approval: Approval) -> dict[str, str]:
    """Values for the plan's parameter slots."""
    return {"reviewed_by": approval.approver, "reviewed_at": timestamp_text(approval.approved_at)}


def request_body(
    statement: Statement,
    warehouse_id: str,
    values: dict[str, str],
    wait_timeout_s: int = WAIT_TIMEOUT_S,
) -> dict[str, Any]:
    """The JSON body POSTed to the Statement Execution API for one statement (the client sends
    the same fields; a test holds the two together)."""
    return _body(statement.sql, statement, warehouse_id, values, wait_timeout_s)


def _body(
    text: str,
    statement: Statement,
    warehouse_id: str,
    values: dict[str, str],
    wait_timeout_s: int,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "statement": text,
        "warehouse_id": warehouse_id,
        "wait_timeout": f"{wait_timeout_s}s",
        "on_wait_timeout": "CONTINUE",
        "disposition": "INLINE",
        "format": "JSON_ARRAY",
    }
    if statement.parameters:
        body["parameters"] = [
            {"name": slot.name, "value": values[slot.name], "type": slot.type}
            for slot in statement.parameters
        ]
    return body


_STATEMENT_MARK = "__impact_review_statement__"


def request_pieces(
    statement: Statement,
    warehouse_id: str,
    values: dict[str, str],
    wait_timeout_s: int = WAIT_TIMEOUT_S,
) -> list[str]:
    """Texts whose concatenation is a request body file's JSON: `request_body` indented, with
    non-ASCII kept and the statement encoded piece by piece rather than joined
    (JSON escapes character by character, so the pieces' encodings join to the text's)."""
    body = _body(_STATEMENT_MARK, statement, warehouse_id, values, wait_timeout_s)
    head, tail = json.dumps(body, indent=2, ensure_ascii=False).split(f'"{_STATEMENT_MARK}"')
    encoded = [encode_basestring(piece)[1:-1] for piece in statement.pieces()]
    return [head, '"', *encoded, '"', tail]


def statement_file_stem(index: int, statement: Statement) -> str:
    return f"{statement.step.number:02d}-{statement.name}"


def write_payloads(
    plan: Plan,
    out_dir: Path,
    *,
    warehouse_id: str,
    approval: Approval,
    wait_timeout_s: int = WAIT_TIMEOUT_S,
) -> list[Path]:
    """Write the payload files into `out_dir` (created if needed); returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    values = parameter_values(approval)
    written: list[Path] = []
    stems = [statement_file_stem(i, s) for i, s in enumerate(plan.statements)]
    for stem, statement in zip(stems, plan.statements, strict=True):
        sql_path = out_dir / f"{stem}.sql"
        _write_pieces(sql_path, [*statement.pieces(), "\n"])
        json_path = out_dir / f"{stem}.json"
        body = request_pieces(statement, warehouse_id, values, wait_timeout_s)
        _write_pieces(json_path, [*body, "\n"])
        written += [sql_path, json_path]
    runbook = out_dir / "runbook.md"
    _write_pieces(runbook, runbook_pieces(plan, [f"{stem}.sql" for stem in stems]))
    replay = out_dir / "replay.sh"
    bodies = [f"{stem}.json" for stem in stems]
    conditional = {
        body: CONDITIONS[statement.name]
        for body, statement in zip(bodies, plan.statements, strict=True)
        if statement.name in CONDITIONS
    }
    replay.write_text(replay_script(bodies, conditional), "utf-8")
    os.chmod(replay, 0o755)
    return [runbook, *written, replay]


def _write_pieces(path: Path, pieces: list[str]) -> None:
    """Write the text `"".join(pieces)` as UTF-8, without building it: the pieces include
    statements of megabytes, and each join would copy them once more."""
    with path.open("w", encoding="utf-8") as file:
        file.writelines(pieces)


def replay_script(body_files: list[str], conditional: dict[str, str] | None = None) -> str:
    """A POSIX shell script that POSTs each body with curl, stopping at the first failure.

    `conditional` maps the bodies that run only on a condition to it: those are not POSTed, and
    a comment says how to send one by hand (given body files, the script POSTs just those)."""
    conditional = conditional or {}
    posts = "\n".join(
        f"# Not sent: {shlex.quote(name)} {conditional[name]}.\n"
        f"# To send it: sh replay.sh {shlex.quote(name)}"
        if name in conditional
        else f"post {shlex.quote(name)}"
        for name in body_files
    )
    return f"""#!/bin/sh
# Replays these statements through the Databricks SQL Statement Execution API with curl.
# Needs DATABRICKS_HOST, DATABRICKS_TOKEN and DATABRICKS_SQL_WAREHOUSE_ID; the token is read
# from the environment and never written to disk.
set -eu
: "${{DATABRICKS_HOST:?set DATABRICKS_HOST}}"
: "${{DATABRICKS_TOKEN:?set DATABRICKS_TOKEN}}"
: "${{DATABRICKS_SQL_WAREHOUSE_ID:?set DATABRICKS_SQL_WAREHOUSE_ID}}"
cd "$(dirname "$0")"
pattern='"warehouse_id": "[^"]*"'
post() {{
  echo "== $1" >&2
  sed "s/$pattern/\\"warehouse_id\\": \\"$DATABRICKS_SQL_WAREHOUSE_ID\\"/" "$1" |
    curl --silent --show-error --fail-with-body \\
      -X POST "${{DATABRICKS_HOST%/}}/api/2.0/sql/statements" \\
      -H "Authorization: Bearer $DATABRICKS_TOKEN" \\
      -H "Content-Type: application/json" \\
      --data-binary @- > "$1.response"
  if ! grep -q '"state": *"SUCCEEDED"' "$1.response"; then
    echo "statement in $1 did not succeed (it may still be running):" >&2
    cat "$1.response" >&2
    exit 1
  fi
}}
if [ "$#" -gt 0 ]; then
  for file in "$@"; do post "$file"; done
  exit 0
fi
{posts}
echo "all statements succeeded" >&2
"""
