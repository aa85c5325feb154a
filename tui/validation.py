"""Validate plans incrementally: a statement whose SQL did not change is not parsed again.

An edit to one service changes one MERGE statement; re-parsing every statement of a 10,000
service plan on each keystroke would stall the preview. The result is the same list
`Plan.issues()` returns, in the same order, and is stored back on the plan.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

from core.plan import Plan, StatementIssue

if TYPE_CHECKING:  # sqlglot is imported with the policy, on the first validation
    from core.sqlgen.policy import PolicyIssue
    from core.sqlgen.statements import Statement


class IncrementalValidator:
    """Caches each statement's policy issues by its SQL text (thread-safe)."""

    def __init__(self, capacity: int = 256) -> None:
        self._cache: dict[tuple[object, str], list[PolicyIssue]] = {}
        self._capacity = capacity
        self._lock = threading.Lock()
        self.parsed = 0
        """Statements parsed so far (tests check unchanged ones are not)."""

    def issues(self, plan: Plan) -> list[StatementIssue]:
        """Every policy problem in the plan, parsing only statements not seen before."""
        from core.sqlgen.policy import PolicyIssue, check_statement, check_target

        table = plan.target_table
        found = [StatementIssue("plan", issue) for issue in check_target(table)]
        if not plan.rows:
            found.append(
                StatementIssue("plan", PolicyIssue("nothing to write: every service is skipped"))
            )
        for statement in plan.statements:
            key = (_identity(statement), table)
            with self._lock:
                cached = self._cache.get(key)
            if cached is None:
                cached = check_statement(statement.source, table)
                with self._lock:
                    self.parsed += 1
                    if len(self._cache) >= self._capacity:
                        self._cache.pop(next(iter(self._cache)))
                    self._cache[key] = cached
            found.extend(StatementIssue(statement.name, issue) for issue in cached)
        # The plan memoises its own validation; sharing ours spares the executor a re-parse.
        plan._validated.setdefault("all", found)
        return found


def _identity(statement: Statement) -> object:
    """What a statement's verdict is cached by: its text's SHA-256, or a MERGE's pieces (equal
    pieces are the same text; comparing them compares the row texts, mostly the same objects)."""
    merge = statement.merge
    if merge is not None:
        return merge
    return hashlib.sha256(statement.sql.encode("utf-8")).hexdigest()
