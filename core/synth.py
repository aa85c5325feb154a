"""Synthetic handoffs of any size, for benchmarks and scale tests.

`synth_document(n, seed=s)` builds the JSON document of a handoff with `n` services. The same
`(n, seed)` always gives the same document, byte for byte once dumped, on every machine: all
choices come from one `random.Random(seed)` and nothing depends on set order or the clock.

The shape follows real impact graphs: one failing pipeline feeds a table and a few feature
paths; each service is a Kubernetes deployment owned by one of many teams, watched by a handful
of a larger pool of monitors; a few services are non-production and skipped. Evidence is
usually a sentence or two, sometimes a multi-kilobyte log excerpt. Free text is seasoned with
the characters that break naive SQL and terminals (quotes, backslashes, newlines, tabs, SQL
comment and statement separators, `'; DROP TABLE x; --`, accents, CJK, emoji, bidi and
zero-width marks), but the document is always a valid handoff: no NUL, no lone surrogates, no
blank names, and every text within the model's length limits.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from core.handoff import Handoff
from core.impact_table import DEFAULT_TABLE
from core.loading import validate_document

HOSTILE_FRAGMENTS = (
    "'; DROP TABLE x; --",
    'it\'s "quoted"',
    "back\\slash \\' \\\\ \\n",
    "line one\nline two",
    "crlf\r\nnext",
    "tab\tseparated",
    "/* not a comment */",
    "-- trailing",
    "semi; colon;",
    "${HOME} %s {0} `tick`",
    "café naïve résumé",
    "日本語のテキスト",
    "emoji 🚀🔥",
    "bidi \u202eevil\u202c",
    "zero\u200bwidth",
    "e\u0301 combining",
    "\u2028line separator",
    "bell\x07 escape\x1b[31m",
)
"""Text that has broken SQL quoting or terminal rendering somewhere; valid in a handoff."""

_DOMAINS = (
    "payments",
    "checkout",
    "risk",
    "fraud",
    "search",
    "catalog",
    "ledger",
    "identity",
    "shipping",
    "pricing",
    "growth",
    "ads",
    "inventory",
    "notifications",
    "support",
    "billing",
)
_ROLES = ("api", "worker", "scorer", "gateway", "consumer", "indexer", "sync", "batch", "stream")
_TEAM_SUFFIXES = ("platform", "core", "infra", "data", "ml", "sre", "apps")
_MONITOR_KINDS = (
    "p99 latency",
    "error rate",
    "feature freshness",
    "queue depth",
    "saturation",
    "availability",
    "model drift",
    "consumer lag",
)
_SKIP_REASONS = (
    "non-production namespace",
    "staging deployment, not serving traffic",
    "sandbox used for experiments",
    "load-test replica",
)
_ACTIONS = (
    "pause autonomous pipeline remediation and require owner approval",
    "notify the owning team before rerunning the backfill",
    "route to on-call and hold the rerun until the monitor recovers",
    "proceed; the service tolerates stale features for a day",
    "page the owner and freeze deploys on the namespace",
)
_WORDS = (
    "feature",
    "table",
    "reads",
    "joins",
    "nightly",
    "snapshot",
    "config",
    "references",
    "env",
    "var",
    "the",
    "pipeline",
    "checkout_features",
    "scoring",
    "replays",
    "cache",
    "warms",
    "from",
    "S3",
    "path",
    "model",
    "owner",
    "confirmed",
    "in",
    "slack",
    "thread",
    "trace",
    "shows",
    "calls",
    "during",
    "requests",
)

GENERATED_AT = "2026-05-12T16:42:00Z"
"""Fixed capture time, so documents never depend on the clock."""


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _seasoned(rng: random.Random, text: str, rate: float) -> str:
    """`text`, with a hostile fragment spliced in with probability `rate`."""
    if rng.random() >= rate:
        return text
    fragment = rng.choice(HOSTILE_FRAGMENTS)
    cut = rng.randrange(len(text) + 1)
    return f"{text[:cut]} {fragment} {text[cut:]}"


def _evidence(rng: random.Random, service: str) -> str:
    """A sentence or two, or (one service in ten) a few kilobytes of pasted log excerpt."""
    lead = f"{service}: {_sentence(rng, rng.randint(6, 14))}"
    if rng.random() < 0.1:
        lines = [lead, "log excerpt:"]
        for number in range(rng.randint(20, 60)):
            level = rng.choice(("INFO", "WARN", "ERROR"))
            message = _seasoned(rng, _sentence(rng, rng.randint(5, 12)), 0.3)
            lines.append(f"  {number:04d} {level} [{service}] {message}")
        return "\n".join(lines)
    extra = " ".join(_sentence(rng, rng.randint(5, 12)) for _ in range(rng.randint(0, 2)))
    return _seasoned(rng, f"{lead} {extra}".strip(), 0.25)


def _service_name(rng: random.Random, index: int) -> str:
    base = f"{rng.choice(_DOMAINS)}-{rng.choice(_ROLES)}-{index:05d}"
    if rng.random() < 0.02:
        # A few names carry hostile characters too: they become keys in the table.
        return f"{base} {rng.choice(HOSTILE_FRAGMENTS)}"
    return base


def synth_document(services: int, *, seed: int = 0) -> dict[str, Any]:
    """The JSON document of a valid handoff with `services` services (deterministic for a seed)."""
    if services < 1:
        raise ValueError("services must be at least 1")
    rng = random.Random(seed)
    teams = [
        f"{domain}-{suffix}"
        for domain in _DOMAINS
        for suffix in _TEAM_SUFFIXES[: max(1, min(len(_TEAM_SUFFIXES), services // 200 + 1))]
    ]
    teams = teams[: max(3, min(len(teams), services // 20 + 3))]
    monitors = [
        _seasoned(rng, f"{rng.choice(_DOMAINS)} {rng.choice(_MONITOR_KINDS)} #{number}", 0.1)
        for number in range(max(4, services // 10))
    ]
    monitor_status = [rng.choice(("firing", "ok", "ok", "unknown")) for _ in monitors]
    features = [f"features:{domain}" for domain in _DOMAINS[: max(1, min(8, services // 50 + 1))]]
    source_table = "workspace.default.checkout_features"

    nodes: list[dict[str, Any]] = [
        {
            "id": "pipeline:checkout_features",
            "kind": "lakeflow_pipeline",
            "name": "checkout_features",
            "detail": "Lakeflow pipeline; freshness failure",
        },
        {
            "id": f"table:{source_table}",
            "kind": "uc_table",
            "name": source_table,
            "detail": "Unity Catalog table",
        },
        {
            "id": "s3:feature-store",
            "kind": "cloud_resource",
            "name": "s3://prod-feature-store/checkout_features/",
        },
        {
            "id": "change:tf-bucket-policy",
            "kind": "change",
            "name": "Terraform: feature bucket policy",
            "detail": _seasoned(rng, "Terraform change touched the bucket policy", 1.0),
        },
    ]
    edges: list[dict[str, str]] = [
        {"source": "pipeline:checkout_features", "kind": "writes", "target": nodes[1]["id"]},
        {"source": nodes[1]["id"], "kind": "backed_by", "target": "s3:feature-store"},
        {"source": "s3:feature-store", "kind": "changed_by", "target": "change:tf-bucket-policy"},
    ]
    for feature in features:
        nodes.append({"id": feature, "kind": "feature_path", "name": feature.split(":", 1)[1]})
        edges.append({"source": nodes[1]["id"], "kind": "feeds", "target": feature})
    for number, (monitor, status) in enumerate(zip(monitors, monitor_status, strict=True)):
        nodes.append(
            {"id": f"monitor:{number}", "kind": "monitor", "name": monitor, "status": status}
        )
    for team in teams:
        nodes.append({"id": f"team:{team}", "kind": "team", "name": team})

    service_docs: list[dict[str, Any]] = []
    for index in range(services):
        name = _service_name(rng, index)
        team = rng.choice(teams)
        production = rng.random() >= 0.08
        namespace = team.split("-", 1)[0] + ("" if production else "-staging")
        node_id = f"deploy:{index}"
        watched = sorted(rng.sample(range(len(monitors)), rng.choice((0, 1, 1, 2, 2, 3, 4))))
        upstream = rng.choice((*features, nodes[1]["id"], "pipeline:checkout_features"))
        nodes.append(
            {
                "id": node_id,
                "kind": "k8s_deployment",
                "name": name,
                "detail": f"Kubernetes deployment, namespace {namespace}",
            }
        )
        edges.append({"source": node_id, "kind": "consumes", "target": upstream})
        edges.append({"source": node_id, "kind": "owned_by", "target": f"team:{team}"})
        edges += [
            {"source": node_id, "kind": "monitored_by", "target": f"monitor:{m}"} for m in watched
        ]
        service: dict[str, Any] = {
            "name": name,
            "owner_team": team,
            "namespace": namespace,
            "production": production,
            "depends_on": source_table if upstream.startswith("table:") else upstream,
            "evidence": _evidence(rng, name),
            "dependency": _seasoned(
                rng,
                f"{name} consumes {upstream.split(':', 1)[1]} through the feature store",
                0.1,
            ),
            "active_monitors": [monitors[m] for m in watched],
            "risk_level": rng.choice(("low", "medium", "medium", "high", "high", "critical")),
            "recommended_action": _seasoned(rng, rng.choice(_ACTIONS), 0.05),
            "node": node_id,
        }
        if not production:
            service["skip_reason"] = rng.choice(_SKIP_REASONS)
        service_docs.append(service)

    return {
        "format_version": 1,
        "report": {
            "id": f"synth-{services}-seed-{seed}",
            "generated_at": GENERATED_AT,
            "request": "write Databricks production impact before remediating this Lakeflow "
            "failure; requester's note: \"don't break checkout\" \\ 'urgent'",
            "title": f"synthetic remediation of checkout_features ({services:,} services)",
            "databricks_surface": "Genie Code / Lakeflow / Unity Catalog",
            "source_pr": "anyshift-backend#2044",
            "investigation": "checkout_features feeds production services across many teams "
            "while freshness alerts fire; see evidence.\n'; DROP TABLE x; --",
            "trigger": {
                "pipeline": "checkout_features",
                "failure": "freshness failure",
                "proposed_action": "patch and rerun the pipeline",
            },
            "target_table": DEFAULT_TABLE,
        },
        "graph": {"nodes": nodes, "edges": edges},
        "services": service_docs,
    }


def synth_handoff(services: int, *, seed: int = 0) -> Handoff:
    """A validated synthetic handoff (raises HandoffError if the generator ever breaks)."""
    return validate_document(synth_document(services, seed=seed), source="<synth>")


def synth_json(services: int, *, seed: int = 0) -> str:
    """The synthetic handoff as JSON text (UTF-8 friendly, two-space indent)."""
    return json.dumps(synth_document(services, seed=seed), ensure_ascii=False, indent=2) + "\n"


def write_synth(path: str | Path, services: int, *, seed: int = 0) -> int:
    """Write a synthetic handoff file; returns its size in bytes."""
    data = synth_json(services, seed=seed).encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)
