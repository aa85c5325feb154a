"""Property: arbitrary text in every field of a handoff goes through loading, SQL, the embedded
warehouse (over the real httpx client) and verification, and reads back exactly as written.

Text is any Unicode except NUL and lone surrogates, which the handoff format refuses at load
(docs/handoff-format.md); the second property checks that refusal, field by field.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.events import Outcome
from core.executor import run_plan, verify_report
from core.handoff import RiskLevel
from core.impact_table import COLUMNS, to_milliseconds
from core.loading import HandoffError, parse_handoff, validate_document
from core.payloads import Approval
from core.plan import build_plan
from core.verification import parse_cell, text_of
from core.warehouse.client import Parameter
from core.warehouse.session import Session
from tests.reliability.conftest import PostedStatements, assert_only_allowed_statements

FRAGMENTS = (
    "'",
    '"',
    "\\",
    "\\'",
    "''",
    "'; DROP TABLE workspace.default.canary; --",
    "*/",
    "/*",
    "--",
    ";",
    ":reviewed_by",
    ":reviewed_at",
    "?",
    "$1",
    "${x}",
    "%s",
    "{0}",
    "`",
    "\\n",
    "\\u0041",
    "\\x41",
    "\n",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\x7f",
    "\u0085",
    "\u2028",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\uffff",
    "e\u0301",
    "日本語",
    "🚀",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "NULL",
    "null",
    "",
    " ",
)
CHARACTERS = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
TEXT = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARACTERS, max_size=12)), max_size=6
).map("".join)
NAME = TEXT.map(lambda text: (text if text.strip() else text + "n")[:512])
ZONES = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30), timezones=ZONES
)
_ids = itertools.count()


@st.composite
def handoffs(draw: st.DrawFn) -> dict[str, Any]:
    """A handoff document with arbitrary text in every field (1-3 services, some skipped)."""
    names = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    services = []
    for index, name in enumerate(names):
        production = index == 0 or draw(st.booleans())
        service: dict[str, Any] = {
            "name": name,
            "owner_team": draw(NAME),
            "namespace": draw(NAME),
            "production": production,
            "depends_on": draw(NAME),
            "evidence": draw(TEXT),
            "dependency": draw(TEXT),
            "active_monitors": draw(st.lists(NAME, max_size=3)),
            "risk_level": draw(st.sampled_from([level.value for level in RiskLevel])),
            "recommended_action": draw(TEXT),
        }
        if not production:
            service["skip_reason"] = draw(NAME)
        services.append(service)
    report_id = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True))
    return {
        "format_version": 1,
        "report": {
            # Unique per example, so one example's rows never meet another's in the table.
            "id": f"{report_id}-{next(_ids)}",
            "generated_at": draw(MOMENTS).isoformat(),
            "request": draw(TEXT),
            "title": draw(NAME),
            "databricks_surface": draw(TEXT),
            "source_pr": draw(TEXT),
            "investigation": draw(TEXT),
            "trigger": {
                "pipeline": draw(NAME),
                "failure": draw(TEXT),
                "proposed_action": draw(TEXT),
            },
            "target_table": "workspace.default.roundtrip_reports",
        },
        "services": services,
    }


LONGEST = "'\\\n" * (65_536 // 3) + "x"
"""A text at the 65,536-character limit, made of quotes, backslashes and newlines."""


@pytest.fixture
def session(impact_home: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, Session]]:
    """One embedded-warehouse session (and its event loop) shared by every example."""
    from core.executor import open_run_session
    from core.warehouse.config import local_connection

    loop = asyncio.new_event_loop()
    opened = open_run_session(local_connection(), home=impact_home)
    session = loop.run_until_complete(opened.__aenter__())
    try:
        yield loop, session
    finally:
        loop.run_until_complete(opened.__aexit__(None, None, None))
        loop.close()


def test_arbitrary_text_in_every_field_round_trips_exactly(
    session: tuple[asyncio.AbstractEventLoop, Session], impact_home: Path
) -> None:
    loop, warehouse = session
    posted = PostedStatements()
    warehouse.http.event_hooks["request"].append(posted)

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(document=handoffs(), approver=TEXT, approved_at=MOMENTS)
    def check(document: dict[str, Any], approver: str, approved_at: datetime) -> None:
        loop.run_until_complete(
            _round_trip(document, approver, approved_at, warehouse, impact_home)
        )

    check()
    assert_only_allowed_statements(posted.statements, "workspace.default.roundtrip_reports")


def test_text_at_the_length_limit_round_trips_exactly(
    session: tuple[asyncio.AbstractEventLoop, Session], impact_home: Path
) -> None:
    loop, warehouse = session
    approved_at = datetime(2026, 5, 12, 17, 5, 0, 999_999, tzinfo=UTC)
    loop.run_until_complete(
        _round_trip(_longest_document(), LONGEST, approved_at, warehouse, impact_home)
    )


def _longest_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(BASE_DOCUMENT))
    document["report"]["id"] = f"longest-{next(_ids)}"
    document["services"][0]["evidence"] = LONGEST
    document["services"][0]["recommended_action"] = LONGEST
    return document


BASE_DOCUMENT: dict[str, Any] = {
    "format_version": 1,
    "report": {
        "id": "base",
        "generated_at": "2026-05-12T16:42:00.123456+05:30",
        "request": "r",
        "title": "t",
        "databricks_surface": "s",
        "source_pr": "p",
        "investigation": "i",
        "trigger": {"pipeline": "p", "failure": "f", "proposed_action": "a"},
        "target_table": "workspace.default.roundtrip_reports",
    },
    "services": [
        {
            "name": "svc",
            "owner_team": "team",
            "namespace": "ns",
            "production": True,
            "depends_on": "d",
            "evidence": "e",
            "dependency": "d",
            "risk_level": "low",
            "recommended_action": "a",
        }
    ],
}


async def _round_trip(
    document: dict[str, Any], approver: str, approved_at: datetime, session: Session, home: Path
) -> None:
    handoff = parse_handoff(json.dumps(document), source="<property>")
    plan = build_plan(handoff)
    assert plan.is_valid, plan.issues()
    approval = Approval(approver, approved_at, plan.digest)
    finished = await run_plan(plan, approval, session, home=home)
    assert finished.outcome is Outcome.SUCCEEDED, finished.failure
    assert finished.verification is not None and finished.verification.ok

    names = [column.name for column in COLUMNS]
    result = await session.client.execute(
        f"SELECT {', '.join(names)} FROM {plan.target_table} "
        "WHERE report_id = :id ORDER BY service_name",
        [Parameter("id", plan.report_id)],
    )
    read_back = [dict(zip(names, row, strict=True)) for row in result.rows]
    assert [row["service_name"] for row in read_back] == [r.service_name for r in plan.rows]
    for row, expected in zip(read_back, plan.rows, strict=True):
        for name in (*names[:-3], "content_hash"):
            assert text_of(parse_cell(name, row[name])) == text_of(expected.get(name)), name
        assert row["reviewed_by"] == approver
        reviewed_at = parse_cell("reviewed_at", row["reviewed_at"])
        assert reviewed_at == to_milliseconds(approved_at)
    # The same text, field by field, as the handoff gave it.
    by_name = {service.name: service for service in handoff.services}
    for row in read_back:
        service = by_name[str(row["service_name"])]
        assert row["evidence"] == service.evidence
        assert row["recommended_action"] == service.recommended_action
        assert row["owner_team"] == service.owner_team
        assert parse_cell("active_monitors", row["active_monitors"]) == tuple(
            service.active_monitors
        )
        assert row["title"] == handoff.report.title
        assert row["requested_change"] == handoff.report.request
    again = await verify_report(plan.report_id, plan.target_table, session, home=home)
    assert again.ok and again.compared_with_approval


# -- NUL and lone surrogates are refused at load, wherever they are ---------------------------

TEXT_FIELDS = [
    ("report", "request"),
    ("report", "title"),
    ("report", "databricks_surface"),
    ("report", "source_pr"),
    ("report", "investigation"),
    ("report", "trigger", "pipeline"),
    ("report", "trigger", "failure"),
    ("report", "trigger", "proposed_action"),
    ("services", 0, "name"),
    ("services", 0, "owner_team"),
    ("services", 0, "namespace"),
    ("services", 0, "depends_on"),
    ("services", 0, "evidence"),
    ("services", 0, "dependency"),
    ("services", 0, "recommended_action"),
    ("services", 0, "skip_reason"),
    ("services", 0, "active_monitors", 0),
]


def _path(location: tuple[str | int, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@settings(max_examples=60, deadline=None)
@given(
    location=st.sampled_from(TEXT_FIELDS),
    before=TEXT,
    after=TEXT,
    bad=st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80"]),
)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(
    location: tuple[str | int, ...], before: str, after: str, bad: str
) -> None:
    document = json.loads(json.dumps(BASE_DOCUMENT))
    document["services"][0]["active_monitors"] = ["m"]
    target: Any = document
    for part in location[:-1]:
        target = target[part]
    target[location[-1]] = "x" + before + bad + after
    raw = json.dumps(document)  # ASCII: the NUL and the surrogate travel as \\u escapes
    with pytest.raises(HandoffError) as refused:
        parse_handoff(raw)
    message = (
        "must not contain NUL characters"
        if bad == "\x00"
        else "must be valid Unicode (found a lone surrogate escape)"
    )
    assert [str(problem) for problem in refused.value.problems] == [f"{_path(location)}: {message}"]


def test_the_base_document_is_valid() -> None:
    assert validate_document(BASE_DOCUMENT).report.id == "base"
