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
