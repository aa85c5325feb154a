"""The live preview: the statements that would run now, and the runbook, plan and payloads.

Each statement has its own widget and is re-highlighted only when its SQL changed, so an edit
to one service re-renders one MERGE statement, not the whole plan. Tabs other than the visible
one are rendered when first shown. Highlighting uses `textual.highlight`, whose styles are theme
variables, so the SQL follows light and dark themes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from core.plan import Plan, StatementIssue
from core.review import Review
from core.runbook import one_line, plan_text, runbook_pieces
from core.steps import CONDITIONS

if TYPE_CHECKING:  # sqlglot is loaded with the first plan, after the tree has painted
    from core.sqlgen.statements import Statement

MAX_PREVIEW_LINES = 400
"""Lines of one statement shown highlighted; the rest is summarised (copy gets everything)."""
MAX_PREVIEW_CHARS = 40_000
"""Characters of one statement shown highlighted: a MERGE line is a whole row, so a line cap
alone does not bound the highlighting work."""

TAB_IDS = ("tab-sql", "tab-runbook", "tab-plan", "tab-payloads", "tab-changes")


def sql_script(plan: Plan) -> str:
    """Every statement of the plan as one script, in the order they run (what `c` copies)."""
    return "\n\n".join(f"{statement.sql};" for statement in plan.statements) + "\n"


def statement_capped(statement: Statement) -> tuple[str, int]:
    """`_capped` of the statement's SQL; a MERGE kept as pieces is not joined for it, only its
    first rows are."""
    return _capped_pieces(statement.pieces())


def _capped_pieces(
    pieces: list[str], limit: int = MAX_PREVIEW_LINES, chars: int = MAX_PREVIEW_CHARS
) -> tuple[str, int]:
    """`_capped` of the concatenation of `pieces`, joining only the first pieces it shows."""
    lines = sum(piece.count("\n") for piece in pieces) + 1
    head: list[str] = []
    length = 0
    for piece in pieces:
        if length > chars:
            break
        head.append(piece)
        length += len(piece)
    return _capped("".join(head), limit, chars, lines=lines)


def _capped(
    text: str,
    limit: int = MAX_PREVIEW_LINES,
    chars: int = MAX_PREVIEW_CHARS,
    *,
    lines: int | None = None,
) -> tuple[str, int]:
    """At most `limit` lines and about `chars` characters of `text`, and how many lines were
    left out (a line cut short counts as left out). With `lines`, `text` is the start of a text
    of that many lines, at least `chars` + 1 characters long."""
    count = text.count("\n") + 1 if lines is None else lines
    if count <= limit and len(text) <= chars:
        return text, 0
    cut = 0
    for _ in range(min(limit, count)):
        following = text.find("\n", cut)
        if following == -1 or following > chars:
            break
        cut = following + 1
    if cut == 0:
        # Even the first line is longer than the budget: show its start.
        return text[:chars] + " …", count
    shown = text[: cut - 1]
    return shown, count - (shown.count("\n") + 1)


def _line_span(text: str, line: int) -> tuple[int, int] | None:
    """Start and end offsets of 1-based `line` in `text`."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    start = sum(len(previous) + 1 for previous in lines[: line - 1])
    return start, start + len(lines[line - 1])


def _condition(statement: Statement) -> str:
    """` (runs only when ...)` for a statement that does not always run, else nothing."""
    return f" ({CONDITIONS[statement.name]})" if statement.name in CONDITIONS else ""


def highlight(code: str, *, language: str) -> Content:
    """`code` highlighted (imported on first use: pygments is not needed to show the tree)."""
    from textual.highlight import highlight as highlighted

    return highlighted(code, language=language)


def render_statement(
    statement: Statement,
    issues: Iterable[StatementIssue] = (),
    capped: tuple[str, int] | None = None,
) -> Content:
    """One statement, highlighted, with a heading and any error line marked (`capped`: the
    statement's `_capped` SQL, when the caller has it already)."""
    shown, hidden = capped or statement_capped(statement)
    body = highlight(shown, language="sql")
    for issue in issues:
        line = issue.issue.line
        span = _line_span(shown, line) if line else None
        if span is not None:
            body = body.stylize("on $error-muted", *span)
    heading = Content.styled(
        f"-- {statement.step.number}. {statement.step.label}: {statement.name}"
        + (f" ({statement.row_count} rows)" if statement.row_count else "")
        + _condition(statement),
        "$text-muted italic",
    )
    parts = [heading, Content("\n"), body, Content(";")]
    if hidden:
        parts.append(
            Content.styled(
                f"\n-- … {hidden:,} more lines not shown (c copies the full SQL)", "$text-muted"
            )
        )
    return Content("").join(parts)


class StatementView(Static):
    """One statement of the preview."""

    def __init__(self, statement: Statement) -> None:
        super().__init__(classes="statement")
        self.statement = statement
        self.issues: tuple[StatementIssue, ...] = ()
        self.renders = 0
        """How many times this statement was highlighted (tests check re-rendering is lazy)."""
        self._shown: tuple[object, ...] | None = None
        """What the last render showed: the heading's parts, the capped SQL and the issues."""

    def on_mount(self) -> None:
        self.repaint()

    def set_statement(self, statement: Statement, issues: tuple[StatementIssue, ...]) -> None:
        """Re-render only if what is shown changed: the SQL shown (a large statement shows
        only its first lines, and an edit further down leaves them as they were), the heading
        or the issues."""
        sql_unchanged = statement.source == self.statement.source
        self.statement = statement
        if sql_unchanged and issues == self.issues:
            return
        self.issues = issues
        self.repaint()

    def repaint(self) -> None:
        statement = self.statement
        capped = statement_capped(statement)
        shown = (
            statement.step.number,
            statement.step.label,
            statement.name,
            statement.row_count,
            capped,
            self.issues,
        )
        if shown == self._shown:
            return
        self._shown = shown
        self.renders += 1
        self.update(render_statement(statement, self.issues, capped))


class ValidationBanner(Static):
    """✓ with the digest, 'validating…', or every validation error."""

    def show(self, plan: Plan, issues: list[StatementIssue] | None) -> None:
        if issues is None:
            self.set_classes("-pending")
            self.update(Content.styled("… validating with sqlglot", "$text-muted"))
        elif not issues:
            self.set_classes("-valid")
            self.update(
                Content.assemble(
                    ("✓ valid", "bold $text-success"),
                    (" · parsed with sqlglot, policy passed · ", "$text-muted"),
                    (f"sha256:{plan.short_digest}", "bold"),
                    (f" · {len(plan.statements)} statements", "$text-muted"),
                )
            )
        else:
            self.set_classes("-invalid")
            lines = [
                Content.assemble(
                    ("✗ not valid: run is disabled", "bold $text-error"),
                    (f" · sha256:{plan.short_digest}", "$text-muted"),
                )
            ]
            lines += [Content.styled(f"  {issue}", "$text-error") for issue in issues]
            self.update(Content("\n").join(lines))


class PreviewPane(Vertical):
    """SQL, runbook, plan, payloads and the change list for the plan as it stands now."""

    def __init__(self, warehouse_id: str, approver: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.warehouse_id = warehouse_id
        self.approver = approver
        self.plan: Plan | None = None
        self.review: Review | None = None
        self.issues: list[StatementIssue] | None = None
        self._views: dict[str, StatementView] = {}
        self._stale: set[str] = set(TAB_IDS)
        self._tabs: TabbedContent | None = None
        """The tabs, once mounted (just after the first frame)."""
        self._initial_tab = "tab-sql"
        """The tab to show when the tabs are mounted."""

    @property
    def tabs(self) -> TabbedContent | None:
        """The tabs (None until they are mounted, just after the first frame)."""
        return self._tabs

    @property
    def active(self) -> str:
        """The id of the visible tab."""
        return self._tabs.active if self._tabs is not None else self._initial_tab

    @active.setter
    def active(self, tab: str) -> None:
        if self._tabs is not None:
            self._tabs.active = tab
        else:
            self._initial_tab = tab

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("… building the plan", "$text-muted"), id="preview-pending")

    def on_mount(self) -> None:
        # The tab bar and its five panes are a third of the work before the first frame, and
        # there is nothing to show in them before the first plan: they follow the first frame.
        self.call_after_refresh(self._mount_tabs)

    async def _mount_tabs(self) -> None:
        if not self.is_attached or self._tabs is not None:
            return
        tabs = TabbedContent(id="preview-tabs", initial=self._initial_tab)
        for pane in self._tab_panes():
            tabs.compose_add_child(pane)
        await self.mount(tabs)
        await self.query_one("#preview-pending").remove()
        self._tabs = tabs
        self._show_current()

    @staticmethod
    def _tab_panes() -> list[TabPane]:
        sql = VerticalScroll(
            ValidationBanner(Content.styled("… building the plan", "$text-muted"), id="validation"),
            VerticalScroll(id="statements", can_focus=False),
            id="sql-scroll",
            can_focus=True,
        )
        panes = [TabPane("SQL", sql, id="tab-sql")]
        for title, name in (
            ("Runbook", "runbook"),
            ("Plan", "plan"),
            ("Payloads", "payloads"),
            ("Changes", "changes"),
        ):
            text = VerticalScroll(Static(id=f"{name}-text"), can_focus=True)
            panes.append(TabPane(title, text, id=f"tab-{name}"))
        return panes

    # -- updates --------------------------------------------------------------------------

    def show_plan(self, review: Review, plan: Plan, issues: list[StatementIssue] | None) -> None:
        """Show a new plan; only what changed is re-rendered."""
        self.review = review
        self.plan = plan
        self.issues = issues
        self._stale = set(TAB_IDS)
        self._show_current()

    def _show_current(self) -> None:
        if self._tabs is None or self.review is None:
            return
        self._render_tab(self.active or "tab-sql")
        changes = self.review.edit_count
        self._tabs.get_tab("tab-changes").label = f"Changes ({changes})" if changes else "Changes"

    def show_validation(self, plan: Plan, issues: list[StatementIssue]) -> None:
        """Validation of `plan` finished (ignored if the plan has moved on)."""
        if self.plan is None or plan.digest != self.plan.digest:
            return
        self.issues = issues
        self._stale.update({"tab-sql", "tab-plan"})
        if self.active in ("tab-sql", "tab-plan"):
            self._render_tab(self.active)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id is not None:
            self._render_tab(event.pane.id)

    def _render_tab(self, tab: str) -> None:
        if self._tabs is None or self.plan is None or self.review is None:
            return
        if tab not in self._stale:
            return
        self._stale.discard(tab)
        plan, review = self.plan, self.review
        if tab == "tab-sql":
            self._render_sql(plan)
        elif tab == "tab-runbook":
            text, hidden = _capped_pieces(runbook_pieces(plan), MAX_PREVIEW_LINES * 2)
            self._static("#runbook-text").update(_with_more(highlight(text, language="md"), hidden))
        elif tab == "tab-plan":
            self._static("#plan-text").update(self._plan_content(plan))
        elif tab == "tab-payloads":
            self._static("#payloads-text").update(self._payloads(plan))
        elif tab == "tab-changes":
            self._static("#changes-text").update(changes_content(review))

    def _static(self, selector: str) -> Static:
        return self.query_one(selector, Static)

    def _render_sql(self, plan: Plan) -> None:
        self.query_one(ValidationBanner).show(plan, self.issues)
        by_statement: dict[str, list[StatementIssue]] = {}
        for issue in self.issues or ():
            by_statement.setdefault(issue.statement, []).append(issue)
        container = self.query_one("#statements", VerticalScroll)
        names = [statement.name for statement in plan.statements]
        if names != list(self._views):
            for view in self._views.values():
                view.remove()
            self._views = {s.name: StatementView(s) for s in plan.statements}
            for statement in plan.statements:
                self._views[statement.name].issues = tuple(by_statement.get(statement.name, ()))
            container.mount_all(self._views.values())
            return
        for statement in plan.statements:
            issues = tuple(by_statement.get(statement.name, ()))
            self._views[statement.name].set_statement(statement, issues)

    def statement_views(self) -> dict[str, StatementView]:
        """The statement widgets by statement name (tests inspect render counts)."""
        return dict(self._views)

    def _plan_content(self, plan: Plan) -> Content:
        lines: list[Content | str] = [Content.styled(plan_text(plan), "bold")]
        lines.append("")
        lines.append(f"Target table: {plan.target_table}")
        lines.append(f"Report: {plan.report_id}")
        risk = plan.highest_risk.value if plan.highest_risk else "none"
        lines.append(f"Rows to write: {len(plan.rows)} · highest risk: {risk}")
        lines.append(f"Digest: sha256:{plan.digest}")
        if self.issues is None:
            lines.append(Content.styled("Validation: running…", "$text-muted"))
        elif self.issues:
            lines.append(Content.styled("Validation: FAILED", "bold $text-error"))
            lines += [Content.styled(f"  - {issue}", "$text-error") for issue in self.issues]
        else:
            lines.append(Content.styled("Validation: ok (sqlglot, policy passed)", "$text-success"))
        lines.append("")
        lines.append(Content.styled("Statements", "bold"))
        for statement in plan.statements:
            rows = f" · {statement.row_count} rows" if statement.row_count else ""
            lines.append(
                f"  {statement.step.number}. {statement.name}{rows}{_condition(statement)}"
            )
        written = plan.written_services
        lines.append("")
        lines.append(Content.styled(f"Written ({len(written)})", "bold"))
        for service in written[:MAX_PREVIEW_LINES]:
            lines.append(
                f"  {one_line(service.name)} ({one_line(service.owner_team)}): "
                f"{service.risk_level.value}"
            )
        if len(written) > MAX_PREVIEW_LINES:
            lines.append(f"  … {len(written) - MAX_PREVIEW_LINES:,} more")
        skipped = plan.skipped_services
        if skipped:
            lines.append("")
            lines.append(Content.styled(f"Skipped ({len(skipped)})", "bold"))
            for service in skipped[:MAX_PREVIEW_LINES]:
                lines.append(
                    Content.styled(
                        f"  {one_line(service.name)}: {one_line(service.skip_reason or '')}",
                        "$text-muted",
                    )
                )
        return Content("\n").join(
            Content(line) if isinstance(line, str) else line for line in lines
        )

    def _payloads(self, plan: Plan) -> Content:
        from core.payloads import request_pieces

        values = {"reviewed_by": self.approver, "reviewed_at": "<the time you approve>"}
        parts: list[Content] = [
            Content.styled(
                "Bodies POSTed to /api/2.0/sql/statements, in order (reviewed_at is bound when "
                "you approve):",
                "$text-muted",
            )
        ]
        budget = MAX_PREVIEW_LINES * 2
        for statement in plan.statements:
            body = request_pieces(statement, self.warehouse_id, values)
            text, hidden = _capped_pieces(body, max(budget, 20))
            budget -= text.count("\n") + 1
            heading = f"\n// {statement.name}{_condition(statement)}"
            parts.append(Content.styled(heading, "$text-muted italic"))
            parts.append(_with_more(highlight(text, language="json"), hidden))
        return Content("\n").join(parts)


def _with_more(content: Content, hidden: int) -> Content:
    if not hidden:
        return content
    return content + Content.styled(f"\n… {hidden:,} more lines not shown", "$text-muted")


def changes_content(review: Review) -> Content:
    """Every edit, one line each: service, field, before → after."""
    changes = review.changes()
    if not changes:
        return Content.styled(
            "No edits yet. r / 1-4 set risk, e edits the action, x includes or excludes.",
            "$text-muted",
        )
    lines = []
    for change in changes:
        lines.append(
            Content.assemble(
                (change.service, "bold"),
                "  ",
                (change.field.replace("_", " "), "$text-muted"),
                "\n    ",
                (one_line(change.before), "$text-muted strike"),
                ("  →  ", "$text-accent"),
                (one_line(change.after), "bold $text-accent"),
            )
        )
    return Content("\n").join(lines)
