"""Typed failures of the warehouse client, each carrying what an on-call engineer needs to act.

Every error says what failed in words plus, where known, the HTTP status, the server's error
code, the SQL state and the statement id, so the CLI can print them and the TUI can show them in
an error modal. Messages are built only from server responses and our own text, never from
request headers, so a credential cannot leak through an error.

`may_have_run` lives on the base class so any caller can ask "is it safe to submit again?"
without knowing which subclass it caught; it is only ever true for a statement submission whose
outcome is unknown.
"""

from __future__ import annotations


class WarehouseError(Exception):
    """Anything that went wrong talking to a warehouse; the message never contains secrets."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        sql_state: str | None = None,
        statement_id: str | None = None,
        may_have_run: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_code = error_code
        self.sql_state = sql_state
        self.statement_id = statement_id
        self.may_have_run = may_have_run
        """True when a statement was sent and we cannot know whether it ran: check, then resend."""

    def details(self) -> dict[str, str]:
        """The structured fields that are set, as display strings (for error modals and logs)."""
        fields = {
            "http_status": None if self.http_status is None else str(self.http_status),
            "error_code": self.error_code,
            "sql_state": self.sql_state,
            "statement_id": self.statement_id,
        }
        shown = {name: value for name, value in fields.items() if value is not None}
        if self.may_have_run:
            shown["may_have_run"] = "true"
        return shown

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.details().items())
        return f"{type(self).__name__}({self.message!r}{', ' if fields else ''}{fields})"


class AuthError(WarehouseError):
    """The credential was refused (HTTP 401/403) or an OAuth token could not be obtained."""


class ConfigError(WarehouseError):
    """The configuration is missing, contradictory or unsafe; the message says what to fix."""


class StatementFailed(WarehouseError):
    """The statement was accepted and ended FAILED (or CLOSED); the message is the server's."""


class StatementCanceled(WarehouseError):
    """The statement ended CANCELED, by us or by someone else."""


class TransportFailure(WarehouseError):
    """The network failed or the server answered a submission with a non-retryable 5xx.

    When `may_have_run` is true the statement may have executed on the warehouse; it was not
    resubmitted, because writes are not idempotent.
    """


class RetryBudgetExhausted(WarehouseError):
    """The server kept rate limiting (429) or was unavailable (503) for longer than the budget."""
