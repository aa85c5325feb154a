"""The five steps of a write, in the order they run, with the words the plan shows."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """One step of the write plan."""

    CHECK_AUTH = "check-auth"
    WRITE_PAYLOADS = "write-payloads"
    CREATE_TABLE = "create-table"
    UPSERT_ROWS = "upsert-rows"
    VERIFY_ROWS = "verify-rows"

    @property
    def label(self) -> str:
        return STEP_TITLES[self]

    @property
    def number(self) -> int:
        return list(Step).index(self) + 1


STEP_TITLES = {
    Step.CHECK_AUTH: "Check Databricks SQL API auth",
    Step.WRITE_PAYLOADS: "Write Databricks SQL payload files",
    Step.CREATE_TABLE: "Create Databricks impact table",
    Step.UPSERT_ROWS: "Upsert production impact rows",
    Step.VERIFY_ROWS: "Verify Databricks impact rows",
}

VERIFY_STATEMENT = "verify-rows"
"""The verification query every run sends: each stored row's fingerprint."""
VERIFY_DETAIL_STATEMENT = "verify-rows-detail"
"""The full read-back of every column, sent only to explain a fingerprint that disagrees."""
CONDITIONS = {
    VERIFY_DETAIL_STATEMENT: "runs only when a stored row's fingerprint disagrees with the "
    "approved row",
}
"""Statement name -> when it runs, for the statements of a plan that do not always run."""
