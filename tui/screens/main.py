"""The review screen: impact tree | service detail | live preview, the run panel, and the flow.

This screen is the controller. The review (core `EditHistory`) and the plan built from it are
the state; widgets render them and post messages; long work (validation, runs, verification)
happens in workers that post messages back. A run cannot start while one is in flight.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Vertical
from textual.content import Content
from textual.events import Resize
from textual.geometry import Size
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from core.drafts import DraftStore
from core.handoff import Handoff, RiskLevel
from core.plan import Plan, StatementIssue, build_plan
from core.review import EditHistory, Review, ReviewError
from tui.context import AppContext
from tui.impact_graph import ImpactGraph
from tui.keymap import bindings
from tui.messages import (
    DraftFound,
    PlanBuilt,
    PlanValidated,
    ReviewEdited,
    RunEnded,
    RunEventReceived,
    ServiceSelected,
    VerificationDone,
)
from tui.validation import IncrementalValidator
from tui.widgets.footer import CalmFooter
from tui.widgets.impact_tree import ImpactTree
from tui.widgets.service_detail import ServiceDetail, risk_badge
from tui.widgets.sql_preview import TAB_IDS, PreviewPane, sql_script

if TYPE_CHECKING:
    from core.events import RunEvent, RunFinished
    from core.payloads import Approval
    from tui.widgets.run_panel import RunPanel

SMALL_REPORT_LIMIT = 300
"""Up to this many services the saved draft is looked for right after the first frame (hashing
the handoff takes a moment); above it, after the first validation, in a thread."""

RISK_ORDER = {level: rank for rank, level in enumerate(RiskLevel)}

EDIT_ACTIONS = frozenset({"cycle_risk", "set_risk", "edit_action", "toggle_included"})
"""Actions that change the review; they need a selected service and no run in flight."""


def freeze_long_lived(handoff: Handoff) -> None:
    """Take what lives as long as the app out of the collector's generations.

    The handoff lives as long as the app: out of the collector's generations, its hundreds of
    thousands of objects are no longer walked by every full collection while the app starts
    and on each edit (they are never garbage in a cycle, so freezing them keeps nothing alive
    that would have been freed). The loader pauses the collector, so without this the first
    allocations after it walk the whole report (~30 ms at 10,000 services). The first time in
    a process this also freezes the ~80,000 objects of the modules just imported, so the
    first frame's allocations do not run a full collection over them (~15 ms of a small
    report's start)."""
    if len(handoff.services) > SMALL_REPORT_LIMIT or gc.get_freeze_count() == 0:
        gc.freeze()


class MainScreen(Screen[None]):
    """Review one handoff, then approve, run and verify it."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("main"))
    """Review keys (ids `review.*`)."""
    AUTO_FOCUS = "#tree"
    """The tree has the focus from the first frame (not the hidden filter box first)."""

    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (110, "-wide"),
    ]
    """Below 110 columns the detail and preview stack beside the tree."""

    running: reactive[bool] = reactive(False, bindings=True)
    """A run is in flight (approve, verify and edits are disabled)."""
    selected: reactive[str | None] = reactive(None, bindings=True)
    """The service under the tree cursor, None on the report lines."""
    validated: reactive[bool | None] = reactive(None, bindings=True)
    """The current plan passed validation (None while validating)."""
    busy: reactive[bool] = reactive(False, bindings=True)
    """A verification is in flight."""

    def __init__(self, handoff: Handoff, source: str, context: AppContext) -> None:
        super().__init__(id="main")
        self.source = source
        self.context = context
        self.history = EditHistory(Review(handoff))
        self.graph = ImpactGraph(handoff)
        self.drafts = DraftStore(handoff, context.home)
        self.plan: Plan | None = None
        """The plan for the review as it stands; None until the first one is built (in a
        thread once the tree has painted: rendering it loads sqlglot, and a 10,000-service
        plan takes a second or two cold)."""
        self.issues: list[StatementIssue] | None = None
        self.validator = IncrementalValidator()
        self.last_run: RunFinished | None = None
        self.applied_digest: str | None = None
        """Digest of the last plan that was written and verified."""
        self.draft_saved = False
        self.draft_looked_for = False
        """Whether the saved draft was looked for: once, when the report is small, else after
        the first validation (hashing a large handoff while its first plan is built or
        validated leaves the heap ~17 MB larger at 10,000 services)."""
        self._ticker: Timer | None = None
        self._risk_cache: tuple[Plan, RiskLevel | None] | None = None
        if len(handoff.services) > SMALL_REPORT_LIMIT:
            # The handoff's indexes live as long as the app, like the handoff (frozen by the
            # app): out of the collector's generations (see `freeze_long_lived`).
            gc.freeze()

    @property
    def review(self) -> Review:
        """The review as it stands."""
        return self.history.current

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Textual sets breakpoint classes on a Resize, which arrives after the first layout;
        # set them now so the first layout is already the right one.
        self._apply_breakpoints(self.app.size)
        report = self.review.handoff.report
        yield Static(
            Content.assemble(
                ("impact-review", "bold $text-primary"),
                ("  ", ""),
                (report.title, "bold"),
                (f"  {report.id}", "$text-muted"),
            ),
            id="title-bar",
        )
        with Container(id="workspace"):
            with Vertical(id="tree-pane"):
                box = Input(placeholder="filter: service, owner or monitor", id="filter")
                box.display = False
                box.cursor_blink = self.context.cursor_blink
                yield box
                yield ImpactTree(self.review, self.graph, id="tree")
            yield ServiceDetail(self.review, self.graph, id="detail")
            yield PreviewPane(self.context.warehouse_id, self.context.approver, id="preview")
        yield Static(id="status-bar")
        yield CalmFooter()

    def on_mount(self) -> None:
        # Mounted after the first frame (and imported then: its table and log widgets are a
        # noticeable part of start-up); it stays hidden until the first run or verification.
        self.call_after_refresh(self._mount_run_panel)
        tree = self.query_one(ImpactTree)
        self.query_one("#tree-pane").border_title = "Impact"
        self.query_one(PreviewPane).border_title = "Preview"
        # The tree and detail paint first; the plan, its preview and validation follow. Start
        # after the tree has painted: the build holds the GIL while it runs.
        self.call_after_refresh(self.call_after_refresh, self._build_first_plan, self.review)
        first = tree.initial_service
        if first is not None:
            # Show the first service now; the tree's cursor gets there once it has its lines.
            self.selected = first
            self.query_one(ServiceDetail).show(self.review, first)
        self._status()
        if len(self.review.handoff.services) <= SMALL_REPORT_LIMIT:
            # A small report hashes in a moment: its draft is offered right after the first
            # frame (not in it: the first hash and read take a few milliseconds).
            self.draft_looked_for = True
            self.call_after_refresh(self._offer_saved_draft)

    def _apply_breakpoints(self, size: Size) -> bool:
        """Set this screen's breakpoint classes for `size` as Textual does on a Resize;
        returns whether any class changed."""
        app = self.app
        horizontal = (
            app.HORIZONTAL_BREAKPOINTS
            if self.HORIZONTAL_BREAKPOINTS is None
            else self.HORIZONTAL_BREAKPOINTS
        ) or []
        vertical = (
            app.VERTICAL_BREAKPOINTS
            if self.VERTICAL_BREAKPOINTS is None
            else self.VERTICAL_BREAKPOINTS
        ) or []
        wanted = {name: False for _, name in (*horizontal, *vertical)}
        for dimension, breakpoints in ((size.width, horizontal), (size.height, vertical)):
            reached = [(at, name) for at, name in breakpoints if dimension >= at]
            if reached:
                wanted[max(reached)[1]] = True
        if all(self.has_class(name) is on for name, on in wanted.items()):
            return False
        self.update_classes(wanted, animate=False)
        return True

    def on_resize(self, event: Resize) -> None:
        """Skip Textual's full re-layout and repaint when the size is the one laid out.

        At start-up the first size arrives up to three times (the app's own, the terminal's
        and the screen's first layout), each a full layout of the screen."""
        if not self._apply_breakpoints(event.size) and event.size == self.outer_size:
            event.prevent_default()

    async def _mount_run_panel(self) -> None:
        from tui.widgets.run_panel import RunPanel

        await self.mount(RunPanel(id="run-panel"), before="#status-bar")

    def _run_panel(self) -> RunPanel:
        from tui.widgets.run_panel import RunPanel

        return self.query_one(RunPanel)

    def _offer_saved_draft(self) -> None:
        self.draft_looked_for = True
        draft = self.drafts.load()
        if draft is not None:
            self.post_message(DraftFound(draft))

    @work(thread=True, group="draft", exit_on_error=False, description="Look for a draft")
    def _look_for_draft(self) -> None:
        """Hash the handoff and read its draft off the event loop (large reports hash slowly)."""
        self._offer_saved_draft()

    @on(DraftFound)
    def _draft_found(self, message: DraftFound) -> None:
        if not self.review.is_edited:
            self._offer_draft(message.draft.review, message.draft.edit_count)

    @work(thread=True, group="plan", exit_on_error=False, description="Build the first plan")
    def _build_first_plan(self, review: Review) -> None:
        """Render the first plan off the event loop."""
        self.post_message(PlanBuilt(review, build_plan(review.handoff)))

    @on(PlanBuilt)
    def _plan_built(self, message: PlanBuilt) -> None:
        if self.plan is not None or message.review is not self.review:
            return
        self.plan = message.plan
        self.query_one(PreviewPane).show_plan(self.review, self.plan, self.issues)
        if self.issues is None:
            self._validate(self.plan)
        self._status()

    def _offer_draft(self, review: Review, count: int) -> None:
        from tui.screens.dialogs import YesNoDialog

        def restore(answer: bool | None) -> None:

            if answer:
                self._apply(review, frozenset())
                self.notify(f"Restored {count} edit(s) from the draft.", title="Draft restored")

        body = Content.assemble(
            f"You have {count} unsaved edit(s) to this report from an earlier session.\n\n",
            ("Restore them? ", "bold"),
            ("No keeps the handoff as it is (the draft is replaced by your next edit).", ""),
        )
        self.app.push_screen(
            YesNoDialog("Restore draft?", body, yes="Restore", no="Start fresh", id="restore"),
            restore,
        )

    # -- state changes --------------------------------------------------------------------

    def _apply(self, review: Review, services: frozenset[str]) -> None:
        if self.history.apply(review):
            self._review_changed(services)

    def _review_changed(self, services: frozenset[str]) -> None:
        review = self.review
        self.plan = build_plan(self.graph.index.reviewed_handoff(review))
        self.issues = None
        self.validated = None
        self.post_message(ReviewEdited(review, self.plan, services))

    @on(ReviewEdited)
    def _render_review(self, message: ReviewEdited) -> None:
        tree = self.query_one(ImpactTree)
        tree.review = message.review
        tree.refresh_services(message.services or None)
        self.query_one(ServiceDetail).show(message.review, self.selected)
        self.query_one(PreviewPane).show_plan(message.review, message.plan, self.issues)
        if message.plan is self.plan:
            # The latest edit (an older one's message is only painted): save it, and start
            # its validation once the preview is on screen, so the parse in the validation
            # thread does not hold the interpreter lock while the edit is being painted.
            self._save_draft(message.review)
            self.call_after_refresh(self._validate_current, message.plan)
        self._status()

    def _save_draft(self, review: Review) -> None:
        try:
            self.drafts.save(review)
            self.draft_saved = review.is_edited
        except OSError as error:
            self.draft_saved = False
            self.notify(f"Could not save the draft: {error}", severity="warning")

    def _validate_current(self, plan: Plan) -> None:
        if plan is self.plan and self.issues is None:
            self._validate(plan)

    def _validate(self, plan: Plan) -> None:
        if plan.rows and len(plan.rows) < 200:
            # Small plans validate in a few milliseconds: no need for a thread round trip.
            self.post_message(PlanValidated(plan.digest, self.validator.issues(plan)))
        else:
            self._validate_in_thread(plan)

    @work(thread=True, exclusive=True, group="validate", exit_on_error=False)
    def _validate_in_thread(self, plan: Plan) -> None:
        """Parse the statements whose SQL changed, off the event loop."""
        self.post_message(PlanValidated(plan.digest, self.validator.issues(plan)))

    @on(PlanValidated)
    def _plan_validated(self, message: PlanValidated) -> None:
        if self.plan is None or message.digest != self.plan.digest:
            return
        self.issues = message.issues
        self.validated = not message.issues
        self.query_one(PreviewPane).show_validation(self.plan, message.issues)
        self._status()
        if not self.draft_looked_for:
            self.draft_looked_for = True
            self._look_for_draft()

    @on(ServiceSelected)
    def _service_selected(self, message: ServiceSelected) -> None:
        self.selected = message.name
        self.query_one(ServiceDetail).show(self.review, message.name)

    def _status(self) -> None:
        plan = self.plan
        if plan is None:
            self.query_one("#status-bar", Static).update(
                Content.styled(f"Building the plan · {self.context.warehouse_text}", "$text-muted")
            )
            return
        risk = self._highest_risk(plan)
        parts: list[str | Content | tuple[str, str]] = []
        if self.running:
            parts += [("running", "bold $text-warning"), ("  ", "")]
        if self.issues is None:
            parts += [("… validating", "$text-muted")]
        elif self.issues:
            parts += [("✗ invalid", "bold $text-error")]
        else:
            parts += [("✓ ", "bold $text-success"), (f"sha256:{plan.short_digest}", "")]
        parts += [("  ", ""), (f"{len(plan.rows)} row(s)", "bold")]
        if risk is not None:
            parts += ["  ", risk_badge(risk)]
        edits = self.review.edit_count
        if edits:
            saved = " (draft saved)" if self.draft_saved else ""
            parts += [("  ", ""), (f"{edits} edit(s){saved}", "$text-accent")]
        parts += [
            ("  → ", "$text-muted"),
            plan.target_table,
            ("  on ", "$text-muted"),
            (self.context.warehouse_text, "$text-muted"),
        ]
        self.query_one("#status-bar", Static).update(Content.assemble(*parts))

    def _highest_risk(self, plan: Plan) -> RiskLevel | None:
        """The plan's highest risk, computed once per plan (linear, for large reports)."""
        cached = self._risk_cache
        if cached is not None and cached[0] is plan:
            return cached[1]
        risk = max(
            (s.risk_level for s in plan.handoff.services if s.written),
            key=RISK_ORDER.__getitem__,
            default=None,
        )
        self._risk_cache = (plan, risk)
        return risk

    # -- bindings -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in EDIT_ACTIONS:
            if self.selected is None:
                return None
            if self.running:
                return None
            if action == "toggle_included":
                return True if self.graph.index.original(self.selected).production else None
            return True
        if action == "undo":
            return None if self.running or not self.history.can_undo else True
        if action == "redo":
            return None if self.running or not self.history.can_redo else True
        if action == "approve":
            return None if self.running or self.busy or not self.validated else True
        if action == "cancel_run":
            return self.running
        if action in ("verify", "reports"):
            return None if self.running or self.busy else True
        return True

    def watch_running(self, running: bool) -> None:
        if self.is_mounted:
            self._status()

    def _selected_name(self) -> str | None:
        return self.selected

    def action_cycle_risk(self) -> None:
        """Move the selected service's risk to the next level."""
        if (name := self._selected_name()) is not None:
            self._apply(self.review.cycle_risk(name), frozenset({name}))

    def action_set_risk(self, level: str) -> None:
        """Set the selected service's risk level."""
        if (name := self._selected_name()) is not None:
            self._apply(self.review.set_risk(name, RiskLevel(level)), frozenset({name}))

    def action_toggle_included(self) -> None:
        """Include or exclude the selected production service."""
        name = self._selected_name()
        if name is None:
            return
        try:
            self._apply(self.review.toggle_included(name), frozenset({name}))
        except ReviewError as error:
            self.notify(str(error), severity="warning")

    def action_edit_action(self) -> None:
        """Open the editor for the selected service's recommended action."""
        from tui.screens.dialogs import EditActionDialog

        name = self._selected_name()
        if name is None:
            return
        current = self.graph.index.service(self.review, name).recommended_action
        original = self.graph.index.original(name).recommended_action

        def done(text: str | None) -> None:

            if text is not None:
                self._apply(self.review.set_action(name, text), frozenset({name}))

        dialog = EditActionDialog(name, current, original, blink=self.context.cursor_blink)
        self.app.push_screen(dialog, done)

    def action_undo(self) -> None:
        """Undo the last edit."""
        if self.history.undo():
            self._review_changed(frozenset())
            self.notify("Undone.", timeout=1.5)

    def action_redo(self) -> None:
        """Redo the edit just undone."""
        if self.history.redo():
            self._review_changed(frozenset())
            self.notify("Redone.", timeout=1.5)

    def action_filter(self) -> None:
        """Show the filter box and focus it."""
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        tree = self.query_one(ImpactTree)
        count = tree.apply_filter(event.value)
        total = len(self.review.handoff.services)
        self.query_one("#tree-pane").border_subtitle = (
            f"{count:,} of {total:,}" if event.value.strip() else ""
        )

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.query_one(ImpactTree).focus()
        if not event.value.strip():
            self.query_one("#filter", Input).display = False

    def on_key(self, event: object) -> None:
        from textual.events import Key

        if not isinstance(event, Key) or event.key != "escape":
            return
        box = self.query_one("#filter", Input)
        if box.has_focus:
            event.stop()
            box.value = ""
            box.display = False
            self.query_one(ImpactTree).focus()

    def action_next_tab(self) -> None:
        """Show the next preview tab."""
        self._shift_tab(1)

    def action_previous_tab(self) -> None:
        """Show the previous preview tab."""
        self._shift_tab(-1)

    def _shift_tab(self, step: int) -> None:
        preview = self.query_one(PreviewPane)
        index = TAB_IDS.index(preview.active) if preview.active in TAB_IDS else 0
        preview.active = TAB_IDS[(index + step) % len(TAB_IDS)]

    def action_toggle_run_panel(self) -> None:
        """Show or hide the run panel."""
        self._run_panel().toggle_class("-shown")

    def filter_tree(self, query: str) -> None:
        """Filter the tree (command palette: filter by owner)."""
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = query
        self.query_one(ImpactTree).focus()

    def select_service(self, name: str) -> None:
        """Jump to a service (command palette)."""
        tree = self.query_one(ImpactTree)
        if tree.select_service(name):
            tree.focus()

    # -- copy and export ------------------------------------------------------------------

    def action_copy_sql(self) -> None:
        """Copy every statement that would run now (OSC 52, plus the system clipboard)."""
        plan = self.plan
        if plan is None:
            self.notify("The plan is still being built.", severity="warning")
            return
        script = sql_script(plan)
        self.app.copy_to_clipboard(script)
        self._copy_fallback(script, len(plan.statements), plan.short_digest)

    @work(thread=True, group="clipboard", exit_on_error=False)
    def _copy_fallback(self, text: str, count: int, digest: str) -> None:
        """Terminals without OSC 52 get the system clipboard tool, or a file as a last resort."""
        how = "to the clipboard"
        if not _system_copy(text):
            try:
                from core.home import impact_home

                path = (self.context.home or impact_home()) / "copied.sql"
                path.write_text(text, encoding="utf-8")
                how = f"to the clipboard (via the terminal) and saved to {path}"
            except OSError:
                how = "to the clipboard (via the terminal)"
        self.app.call_from_thread(
            self.notify, f"Copied {count} statements (sha256:{digest}) {how}.", title="SQL copied"
        )

    def action_export(self) -> None:
        """Write the edited handoff to a file `impact-review apply` accepts."""
        from tui.screens.dialogs import ExportDialog

        report_id = self.review.handoff.report.id
        suggested = self.context.export_dir / f"{report_id}.reviewed.json"

        def write(path: Path | None) -> None:

            if path is None:
                return
            try:
                export_handoff(self.graph.index.reviewed_handoff(self.review), path)
            except OSError as error:
                self.notify(f"Could not write {path}: {error.strerror}", severity="error")
                return
            self.notify(
                f"Wrote {path}. Apply it with: impact-review apply {path}", title="Exported"
            )

        self.app.push_screen(ExportDialog(suggested), write)

    # -- approve and run ------------------------------------------------------------------

    def action_approve(self) -> None:
        """Open the confirm dialog; y approves this exact plan and runs it."""
        from tui.screens.dialogs import ErrorDialog, YesNoDialog

        if self.running:
            self.notify("A run is already in flight.", severity="warning")
            return
        if self.context.connection is None:
            self.app.push_screen(
                ErrorDialog(
                    "No warehouse",
                    self.context.connection_error or "No warehouse is configured.",
                )
            )
            return
        plan = self.plan
        if plan is None or self.issues is None or self.issues:
            self.notify("The plan is not valid yet; see the SQL tab.", severity="error")
            return
        from core.runbook import statement_count

        risk = plan.highest_risk
        body = Content.assemble(
            (f"Write {len(plan.rows)} row(s) to the impact table?\n", "bold"),
            ("Warehouse     ", "bold $text-muted"),
            (self.context.warehouse_text, "bold"),
            "\n",
            ("Table         ", "bold $text-muted"),
            plan.target_table,
            "\n",
            ("Rows          ", "bold $text-muted"),
            f"{len(plan.rows)} written · {len(plan.skipped_services)} skipped",
            "\n",
            ("Highest risk  ", "bold $text-muted"),
            risk_badge(risk) if risk is not None else Content("none"),
            "\n",
            ("Statements    ", "bold $text-muted"),
            statement_count(plan),
            "\n",
            ("Approver      ", "bold $text-muted"),
            self.context.approver,
            "\n",
            ("Digest\n", "bold $text-muted"),
            (f"sha256:{plan.digest}", "bold"),
            "\n",
            (
                "Only this exact digest runs; the rows are then read back and verified.",
                "$text-muted",
            ),
        )

        def answered(yes: bool | None) -> None:

            if yes and not self.running:
                from core.payloads import Approval

                approval = Approval(self.context.approver, self.context.clock(), plan.digest)
                self._start_run(plan, approval)

        self.app.push_screen(
            YesNoDialog(
                "Approve and run", body, yes="Approve and run", no="No", id="confirm", danger=True
            ),
            answered,
        )

    def _start_run(self, plan: Plan, approval: Approval) -> None:
        self.running = True
        panel = self._run_panel()
        panel.add_class("-shown")
        panel.reset(f"Starting on {self.context.warehouse_text}…")
        if self.context.live_ticks:
            self._ticker = self.set_interval(0.25, self._tick)
        self._run(plan, approval)

    def _tick(self) -> None:
        self._run_panel().tick()

    @work(group="run", exit_on_error=False, description="Run the approved plan")
    async def _run(self, plan: Plan, approval: Approval) -> None:
        """Open a session, run the plan with events, and report how it ended."""
        from core.executor import ApprovalMismatch, PlanRefused, run_plan
        from core.warehouse.errors import WarehouseError
        from tui.session import app_session

        def emit(event: RunEvent) -> None:

            self.post_message(RunEventReceived(event))

        try:
            async with app_session(self.context) as session:
                finished = await run_plan(
                    plan, approval, session, on_event=emit, home=self.context.home
                )
        except (ApprovalMismatch, PlanRefused) as error:
            self.post_message(RunEnded(None, str(error)))
        except WarehouseError as error:
            self.post_message(RunEnded(None, str(error)))
        except OSError as error:
            self.post_message(RunEnded(None, f"{type(error).__name__}: {error}"))
        else:
            self.post_message(RunEnded(finished))

    @on(RunEventReceived)
    def _run_event(self, message: RunEventReceived) -> None:
        from core.events import RunFinished

        self._run_panel().apply(message.event)
        if isinstance(message.event, RunFinished):
            self._run_finished(message.event)

    def _run_finished(self, event: RunFinished) -> None:
        from core.events import Outcome
        from tui.widgets.run_panel import outcome_content

        self.last_run = event
        self.running = False
        self._stop_ticker()
        if event.outcome is Outcome.SUCCEEDED:
            started = self._run_panel().started
            self.applied_digest = started.digest if started is not None else None
            self.notify(outcome_content(event).plain, title="Written and verified", timeout=6)
        elif event.outcome is Outcome.CANCELED:
            self.notify("Run canceled; nothing further ran.", severity="warning", timeout=6)
        else:
            self.notify(
                outcome_content(event).plain, title="Run failed", severity="error", timeout=10
            )

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        self.running = False
        self._stop_ticker()
        if message.error is not None:
            panel = self._run_panel()
            panel.add_class("-shown")
            panel.reset("")
            panel.query_one("#run-summary", Static).update(
                Content.assemble(("✗ Not run", "bold $text-error"), f": {message.error}")
            )
            self.notify(message.error, title="Run not started", severity="error", timeout=10)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "run" and event.state in (WorkerState.CANCELLED, WorkerState.ERROR):
            self.running = False
            self._stop_ticker()
            if event.state is WorkerState.ERROR:
                self.notify(f"The run stopped: {worker.error}", severity="error", timeout=10)
        if worker.group == "verify" and event.state in (WorkerState.CANCELLED, WorkerState.ERROR):
            self.busy = False
            if event.state is WorkerState.ERROR:
                self.notify(f"Verification stopped: {worker.error}", severity="error")

    def action_cancel_run(self) -> None:
        """Ask, then cancel the run (the in-flight statement is cancelled on the warehouse)."""
        from tui.screens.dialogs import YesNoDialog

        if not self.running:
            return

        def answered(yes: bool | None) -> None:

            if yes and self.running:
                self.workers.cancel_group(self, "run")

        self.app.push_screen(
            YesNoDialog(
                "Cancel the run?",
                "The statement in flight is cancelled on the warehouse and no further step "
                "runs. Rows already upserted stay; approving again finishes the write "
                "(the MERGE is idempotent).",
                yes="Cancel the run",
                no="Keep running",
                id="confirm-cancel",
            ),
            answered,
        )

    # -- verification and reports ---------------------------------------------------------

    def action_verify(self) -> None:
        """Re-verify this report's rows in the table."""
        from tui.screens.dialogs import ErrorDialog

        if self.context.connection is None:
            self.app.push_screen(
                ErrorDialog("No warehouse", self.context.connection_error or "No warehouse.")
            )
            return
        self.busy = True
        panel = self._run_panel()
        panel.add_class("-shown")
        panel.query_one("#run-summary", Static).update(
            Content.styled("Verifying the report in the table…", "$text-muted")
        )
        handoff = self.review.handoff
        self._verify(handoff.report.id, handoff.report.target_table)

    @work(group="verify", exclusive=True, exit_on_error=False, description="Verify report")
    async def _verify(self, report_id: str, table: str) -> None:
        from core.executor import PlanRefused, verify_report
        from core.warehouse.errors import WarehouseError
        from tui.session import app_session

        try:
            async with app_session(self.context) as session:
                verification = await verify_report(
                    report_id, table, session, home=self.context.home
                )
        except (WarehouseError, PlanRefused, OSError) as error:
            self.post_message(VerificationDone(report_id, None, str(error)))
        else:
            self.post_message(VerificationDone(report_id, verification))

    @on(VerificationDone)
    def _verified(self, message: VerificationDone) -> None:
        self.busy = False
        panel = self._run_panel()
        if message.verification is None:
            panel.query_one("#run-summary", Static).update(
                Content.assemble(("✗ Not verified", "bold $text-error"), f": {message.error}")
            )
            self.notify(message.error or "failed", title="Verification failed", severity="error")
            return
        panel.show_verification(message.verification)
        if message.verification.ok:
            self.notify(message.verification.summary(), title="Verified")
        else:
            self.notify(message.verification.summary(), title="Mismatch", severity="error")

    def action_reports(self) -> None:
        """Open the reports already in the table."""
        from tui.screens.dialogs import ErrorDialog
        from tui.screens.reports import ReportsScreen

        if self.context.connection is None:
            self.app.push_screen(
                ErrorDialog("No warehouse", self.context.connection_error or "No warehouse.")
            )
            return
        self.app.push_screen(ReportsScreen(self.review.handoff.report.target_table, self.context))

    # -- quitting -------------------------------------------------------------------------

    def quit_question(self) -> str | None:
        """Why quitting now needs a confirmation (None: quit right away)."""
        if self.running:
            return "A run is in flight. Quitting cancels it (the warehouse statement is cancelled)."
        digest = self.plan.digest if self.plan is not None else None
        if self.review.is_edited and self.applied_digest != digest:
            count = len(self.review.changes())
            return (
                f"You have {count} edit(s) that were not written to Databricks. They are kept "
                "as a draft and offered again when you reopen this report."
            )
        return None


def export_handoff(handoff: Handoff, path: Path) -> None:
    """Write a handoff as JSON, atomically (what ctrl+e exports and `apply` reads)."""
    document = handoff.model_dump(mode="json", exclude_none=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


CLIPBOARD_TOOLS = (
    ("pbcopy",),
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
)


def _system_copy(text: str) -> bool:
    """Copy with the platform's clipboard tool, if one is installed and works."""
    for command in CLIPBOARD_TOOLS:
        if shutil.which(command[0]) is None:
            continue
        if command[0] != "pbcopy" and not (
            os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY")
        ):
            continue
        try:
            subprocess.run(command, input=text.encode("utf-8"), check=True, timeout=3)
        except (OSError, subprocess.SubprocessError):
            continue
        return True
    return False
