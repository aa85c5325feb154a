"""The impact table: its columns, one row per written service, and each row's content hash.

The content hash lets anyone holding only the table detect a row edited after review: it is the
SHA-256 of the row's reviewed content in a canonical form, so recomputing it from the values read
back must give the stored hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring
from operator import itemgetter, methodcaller, mod
from typing import cast

from core.handoff import Handoff, Report, Service


class ColumnType(StrEnum):
    """Databricks SQL types the impact table uses."""

    STRING = "STRING"
    TIMESTAMP = "TIMESTAMP"
    STRING_ARRAY = "ARRAY<STRING>"


@dataclass(frozen=True)
class Column:
    """One column of the impact table."""

    name: str
    type: ColumnType
    comment: str
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("report_id", ColumnType.STRING, "Impact report id from the production graph", True),
    Column("generated_at", ColumnType.TIMESTAMP, "When the production graph was captured (UTC)"),
    Column("title", ColumnType.STRING, "Short title of the change under review"),
    Column(
        "requested_change", ColumnType.STRING, "Plain-English request that started the workflow"
    ),
    Column("databricks_surface", ColumnType.STRING, "Databricks products involved"),
    Column("source_pr", ColumnType.STRING, "Pull request carrying the remediation"),
    Column("investigation", ColumnType.STRING, "Finding of the impact investigation"),
    Column("trigger_pipeline", ColumnType.STRING, "Lakeflow pipeline the proposed action targets"),
    Column(
        "proposed_action", ColumnType.STRING, "What the Databricks agent or workflow wants to do"
    ),
    Column("service_name", ColumnType.STRING, "Impacted production service", True),
    Column("owner_team", ColumnType.STRING, "Team that owns the service"),
    Column("namespace", ColumnType.STRING, "Kubernetes namespace of the service"),
    Column("depends_on", ColumnType.STRING, "Table or pipeline the service depends on"),
    Column("dependency", ColumnType.STRING, "How the service depends on the trigger"),
    Column("evidence", ColumnType.STRING, "Evidence for the dependency"),
    Column("active_monitors", ColumnType.STRING_ARRAY, "Monitors active on the service"),
    Column("risk_level", ColumnType.STRING, "Reviewed risk: low, medium, high or critical"),
    Column("recommended_action", ColumnType.STRING, "Reviewed recommended action"),
    Column("content_hash", ColumnType.STRING, "SHA-256 of the reviewed row content"),
    Column("reviewed_by", ColumnType.STRING, "Who approved the write"),
    Column("reviewed_at", ColumnType.TIMESTAMP, "When the write was approved (UTC)"),
)
"""Every column, in table order."""

DEFAULT_TABLE = "workspace.default.anyshift_production_impact_reports"
"""Where `verify` and `reports` look when neither a flag nor a local record names a table."""
KEY_COLUMNS = ("report_id", "service_name")
REVIEW_COLUMNS = ("reviewed_by", "reviewed_at")
"""Bound as statement parameters at execution, so the approved SQL does not depend on them."""
CONTENT_COLUMNS = tuple(
    column.name for column in COLUMNS if column.name not in {"content_hash", *REVIEW_COLUMNS}
)
"""What the content hash covers."""
TABLE_COMMENT = (
    "Production-impact reports written by impact-review: which production services a Databricks "
    "action could affect, their owners, monitors, risk and recommended action, as reviewed."
)

CellValue = str | datetime | tuple[str, ...] | None


@dataclass(frozen=True)
class ImpactRow:
    """One reviewed row: the content columns in table order, plus the content hash."""

    values: tuple[CellValue, ...]
    """Values of CONTENT_COLUMNS, in order."""

    @property
    def service_name(self) -> str:
        return str(self.values[CONTENT_COLUMNS.index("service_name")])

    def get(self, column: str) -> CellValue:
        """The value of a content column (or content_hash)."""
        if column == "content_hash":
            return self.content_hash
        return self.values[CONTENT_COLUMNS.index(column)]

    @property
    def content_hash(self) -> str:
        """Computed once per row (rows are immutable; the renderer and verification both ask)."""
        known: str | None = self.__dict__.get(_HASH_KEY)
        if known is None:
            (known,) = content_hashes([self])
        return known


_HASH_KEY = "_content_hash"
"""Where a row keeps its content hash once computed (in its `__dict__`: rows are frozen)."""


def to_milliseconds(value: datetime) -> datetime:
    """UTC, truncated to whole milliseconds: warehouses may show no finer precision, and a
    value read back must hash the same as the value written."""
    utc = value.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def canonical_timestamp(value: datetime) -> str:
    """UTC, microsecond precision, `Z` suffix: the one spelling used for hashing and display."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(value: CellValue) -> object:
    if isinstance(value, datetime):
        return canonical_timestamp(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def canonical_json(content: dict[str, CellValue]) -> str:
    """The canonical JSON the content hash covers, by definition: the content columns as an
    object with sorted keys, `ensure_ascii=False`, separators `,` and `:`."""
    canonical = {name: _canonical(content[name]) for name in CONTENT_COLUMNS}
    return json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(content: dict[str, CellValue]) -> str:
    """SHA-256 (hex) of the canonical JSON of the content columns."""
    return _hash_values(tuple(content[name] for name in CONTENT_COLUMNS))


_REPORT_COLUMNS = CONTENT_COLUMNS[: CONTENT_COLUMNS.index("service_name")]
"""The content columns every row of a report shares (they come first)."""
_SORTED_COLUMNS = tuple(sorted(range(len(CONTENT_COLUMNS)), key=lambda i: CONTENT_COLUMNS[i]))
"""Positions of CONTENT_COLUMNS in sorted-key order."""
_MEMBER_PREFIXES = tuple(
    ("{" if rank == 0 else ",") + encode_basestring(CONTENT_COLUMNS[i]) + ":"
    for rank, i in enumerate(_SORTED_COLUMNS)
)
_ROW_POSITIONS = tuple(i for i in _SORTED_COLUMNS if i >= len(_REPORT_COLUMNS))
"""Positions of the columns that differ from row to row, in sorted-key order."""


class _JsonValues(dict[CellValue, str]):
    """Value -> its canonical JSON, filled on first use: most values of a row (the report's
    columns, owners, namespaces, monitors, risks) repeat across rows, and a hit is one lookup in
    C. Only short encodings are kept, and the table is cleared when it grows large."""

    def __missing__(self, value: CellValue) -> str:
        if value is None:
            encoded = "null"
        elif isinstance(value, str):
            encoded = encode_basestring(value)
        elif isinstance(value, datetime):
            encoded = encode_basestring(canonical_timestamp(value))
        else:
            encoded = "[" + ",".join(map(encode_basestring, value)) + "]"
        if len(encoded) <= _JSON_MEMO_LENGTH:
            if len(self) >= 65_536:
                self.clear()
            self[value] = encoded
        return encoded


_JSON_MEMO_LENGTH = 256
"""Longer encodings are not remembered: they are mostly unique (evidence), and would only
hold memory."""


_JSON_VALUES = _JsonValues()


class _JsonTemplates(dict[tuple[CellValue, ...], str]):
    """The report columns' values -> the canonical JSON of a row with those values, as a
    `%`-template with a `%s` for each other column's encoding (in sorted-key order). A report's
    columns are the same on every row, so their members are written once per report."""

    def __missing__(self, shared: tuple[CellValue, ...]) -> str:
        members = []
        for prefix, position in zip(_MEMBER_PREFIXES, _SORTED_COLUMNS, strict=True):
            if position < len(shared):
                members.append(prefix + _JSON_VALUES[shared[position]].replace("%", "%%"))
            else:
                members.append(prefix + "%s")
        template = "".join(members) + "}"
        if len(self) >= 64:
            self.clear()
        self[shared] = template
        return template


_JSON_TEMPLATES = _JsonTemplates()


def _canonical_json_of(values: tuple[CellValue, ...]) -> str:
    """`canonical_json` of the content values in CONTENT_COLUMNS order (see `_canonical_jsons`)."""
    (text,) = _canonical_jsons([values])
    return text


def _canonical_jsons(rows: Sequence[tuple[CellValue, ...]]) -> list[str]:
    """`canonical_json` of each row's content values (in CONTENT_COLUMNS order), written member
    by member with the encoder `json.dumps` itself uses for strings (a test holds the two
    together): no dict is built and sorted per row, the report's members come from the report's
    template, and the other members are encoded column by column and filled in, in C."""
    wrong = set(map(len, rows)).difference([len(CONTENT_COLUMNS)])
    if wrong:
        raise ValueError(f"expected {len(CONTENT_COLUMNS)} content values, got {min(wrong)}")
    templates = map(_JSON_TEMPLATES.__getitem__, map(_report_part, rows))
    columns = (map(_JSON_VALUES.__getitem__, map(itemgetter(i), rows)) for i in _ROW_POSITIONS)
    texts = list(map(mod, templates, zip(*columns, strict=True)))
    if len(rows) >= _LARGE_BATCH:
        _JSON_VALUES.clear()
    return texts


_LARGE_BATCH = 1_000
"""Rows after which the remembered encodings are forgotten: most of a large batch's are of one
row's values (its service name, dependencies, ...) and would only hold memory (~3.5 MB at
10,000 services); the values that repeat are written again on the next batch's first sight, and
an edit afterwards encodes one row."""


_report_part = itemgetter(slice(0, len(_REPORT_COLUMNS)))


def _hash_values(values: tuple[CellValue, ...]) -> str:
    (digest,) = _hashes([values])
    return digest


def _hashes(rows: Sequence[tuple[CellValue, ...]]) -> list[str]:
    """SHA-256 (hex) of each row's canonical JSON."""
    texts = _canonical_jsons(rows)
    return list(map(_hexdigest, map(hashlib.sha256, map(str.encode, texts))))


_hexdigest = methodcaller("hexdigest")


def content_hashes(rows: Sequence[ImpactRow]) -> list[str]:
    """The content hash of each row, computed together for the rows that have none yet."""
    known: list[str | None] = [row.__dict__.get(_HASH_KEY) for row in rows]
    if None in known:
        missing = [index for index, digest in enumerate(known) if digest is None]
        digests = _hashes([rows[index].values for index in missing])
        for index, digest in zip(missing, digests, strict=True):
            rows[index].__dict__[_HASH_KEY] = known[index] = digest
    return cast(list[str], known)


def _report_values(report: Report) -> tuple[CellValue, ...]:
    """The values of _REPORT_COLUMNS for a report, computed once per report object."""
    global _last_report
    if _last_report[0] is not report:
        by_name: dict[str, CellValue] = {
            "report_id": report.id,
            "generated_at": to_milliseconds(report.generated_at),
            "title": report.title,
            "requested_change": report.request,
            "databricks_surface": report.databricks_surface,
            "source_pr": report.source_pr,
            "investigation": report.investigation,
            "trigger_pipeline": report.trigger.pipeline,
            "proposed_action": report.trigger.proposed_action,
        }
        _last_report = (report, tuple(by_name[name] for name in _REPORT_COLUMNS))
    return _last_report[1]


_last_report: tuple[Report | None, tuple[CellValue, ...]] = (None, ())
"""The latest report given to `_report_values` and its values (reports are immutable models)."""


def row_for(handoff: Handoff, service: Service) -> ImpactRow:
    """The impact row for one written service of a (reviewed) handoff."""
    return ImpactRow(
        _report_values(handoff.report)
        + (
            service.name,
            service.owner_team,
            service.namespace,
            service.depends_on,
            service.dependency,
            service.evidence,
            tuple(service.active_monitors),
            service.risk_level.value,
            service.recommended_action,
        )
    )


_SERVICE_COLUMNS = (
    "service_name",
    "owner_team",
    "namespace",
    "depends_on",
    "dependency",
    "evidence",
    "active_monitors",
    "risk_level",
    "recommended_action",
)
"""The columns `row_for` takes from the service, in the order it writes them."""
if CONTENT_COLUMNS[len(_REPORT_COLUMNS) :] != _SERVICE_COLUMNS:
    raise AssertionError("row_for writes the service's columns out of CONTENT_COLUMNS order")


def rows_for(handoff: Handoff) -> tuple[ImpactRow, ...]:
    """Rows for every service the handoff writes, ordered by service name (the table's order)."""
    written = sorted((s for s in handoff.services if s.written), key=lambda s: s.name)
    return tuple(row_for(handoff, service) for service in written)


def clear_caches() -> None:
    """Forget the remembered JSON encodings and report values (for cold benchmarks)."""
    global _last_report
    _JSON_VALUES.clear()
    _JSON_TEMPLATES.clear()
    _last_report = (None, ())
