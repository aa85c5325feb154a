"""The commands that open the app: review, demo (the default) and web."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.embedded import parse_faults
from tests.conftest import DEMO
from tui import exit_codes
from tui.app import ImpactReviewApp
from tui.cli import build_parser, main
from tui.commands.web import app_command


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[ImpactReviewApp]:
    """Apps the commands would run (captured instead of taking over the terminal)."""
    apps: list[ImpactReviewApp] = []

    def run(self: ImpactReviewApp, *args: object, **kwargs: object) -> None:
        apps.append(self)

    monkeypatch.setattr(ImpactReviewApp, "run", run)
    return apps


def test_no_arguments_opens_the_demo_on_the_embedded_warehouse(
    opened: list[ImpactReviewApp],
) -> None:
    assert main([]) == exit_codes.OK
    [app] = opened
    assert app.handoff.report.id == "annie-dbx-checkout-2044"
    assert app.context.connection is not None and app.context.connection.kind == "local"
    assert app.context.faults == parse_faults("demo")


def test_a_file_opens_the_review(opened: list[ImpactReviewApp]) -> None:
    assert main([str(DEMO), "--approver", "me@example.com", "--warehouse", "local"]) == 0
    [app] = opened
    assert app.context.approver == "me@example.com"
    assert app.context.faults is None


def test_partial_databricks_settings_open_with_the_problem_shown(
    opened: list[ImpactReviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://dbc-1.cloud.databricks.com")
    assert main(["review", str(DEMO)]) == 0
    [app] = opened
    assert app.context.connection is None
    assert app.context.connection_error


def test_a_bad_file_never_opens_the_app(
    opened: list[ImpactReviewApp], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert main(["review", str(broken)]) == exit_codes.BAD_INPUT
    assert opened == []
    assert "invalid JSON" in capsys.readouterr().err


def test_web_serves_on_loopback_by_default() -> None:
    parser, _ = build_parser()
    args = parser.parse_args(["web"])
    assert args.host == "127.0.0.1" and args.port == 8000
    assert app_command(None).endswith("-m tui demo")
    assert app_command("my file.json").endswith("-m tui review 'my file.json'")
