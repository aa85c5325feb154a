"""Fault injection for the embedded warehouse: the failures a real workspace throws at clients.

Rehearsals and reliability tests need a warehouse that is slow to start, slow to answer, rate
limited, briefly unavailable, loses a response after doing the work, or fails a statement. The
profile is fixed when the warehouse starts; everything here is deterministic (counters and
regular expressions, no randomness) so tests can say exactly which request fails.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, fields, replace

__all__ = ["DEMO", "FaultProfile", "RequestFaults", "parse_faults"]


@dataclass(frozen=True)
class FaultProfile:
    """Which faults to inject; every field at its zero/None default means none."""

    cold_start_s: float = 0.0
    """Statements submitted within this long of the warehouse starting stay PENDING until then."""
    statement_latency_s: float = 0.0
    """Each statement stays RUNNING at least this long before its SQL runs."""
    rate_limit_every: int = 0
    """Every Nth API request is answered 429 with `Retry-After`."""
    unavailable_every: int = 0
    """Every Nth API request is answered 503 with `Retry-After`."""
    retry_after_s: int = 1
    """The `Retry-After` value, in whole seconds, sent with injected 429 and 503 answers."""
    lose_response_pattern: str | None = None
    """Regex (case-insensitive search): matching statements run and commit, then the POST that
    submitted them is answered with a dropped connection."""
    fail_pattern: str | None = None
    """Regex (case-insensitive search): matching statements end FAILED without running."""

    def __post_init__(self) -> None:
        for name in ("cold_start_s", "statement_latency_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("rate_limit_every", "unavailable_every", "retry_after_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("lose_response_pattern", "fail_pattern"):
            pattern = getattr(self, name)
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise ValueError(f"{name} is not a valid regular expression: {error}") from None

    @property
    def active(self) -> bool:
        """Whether any fault is configured."""
        return self != FaultProfile()

    def loses_response(self, statement: str) -> bool:
        """Whether the POST answer for this statement text is to be dropped."""
        return _matches(self.lose_response_pattern, statement)

    def fails(self, statement: str) -> bool:
        """Whether this statement text is to end FAILED."""
        return _matches(self.fail_pattern, statement)

    def describe(self) -> str:
        """A one-line summary for banners and logs, e.g. `cold_start=3,latency=1`."""
        parts = []
        for key, (attribute, _) in _KEYS.items():
            value = getattr(self, attribute)
            if value != getattr(_NONE, attribute):
                parts.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
        return ",".join(parts) or "none"


def _matches(pattern: str | None, statement: str) -> bool:
    return pattern is not None and re.search(pattern, statement, re.IGNORECASE) is not None


_NONE = FaultProfile()
DEMO = FaultProfile(cold_start_s=3.0, statement_latency_s=1.0)
"""Makes live status panes worth watching: a short cold start, about a second per statement."""

_PROFILES = {"none": _NONE, "demo": DEMO}
_KEYS: dict[str, tuple[str, type]] = {
    "cold_start": ("cold_start_s", float),
    "latency": ("statement_latency_s", float),
    "429_every": ("rate_limit_every", int),
    "503_every": ("unavailable_every", int),
    "retry_after": ("retry_after_s", int),
    "lose": ("lose_response_pattern", str),
    "fail": ("fail_pattern", str),
}
assert {attribute for attribute, _ in _KEYS.values()} == {f.name for f in fields(FaultProfile)}

# Split on commas that start a new item, so a regex value may itself contain commas
# (`fail=a{1,2}`) as long as what follows the comma is not `<key>=` or a profile name.
_ITEM_START = "|".join(re.escape(name) for name in [*_KEYS, *_PROFILES])
_SPLIT = re.compile(rf",\s*(?=(?:{_ITEM_START})\s*(?:=|,|$))")


def parse_faults(spec: str) -> FaultProfile:
    """Parse `none`, `demo`, or `key=value` items such as `cold_start=2,latency=1,lose=MERGE`.

    Keys: cold_start and latency (seconds), 429_every and 503_every (every Nth request),
    retry_after (seconds), lose and fail (regular expressions). Profile names may be mixed in
    and are applied first-to-last, so `demo,fail=DROP` is the demo profile plus a failure.
    """
    text = spec.strip()
    if not text:
        raise ValueError("empty fault spec; use 'none', 'demo' or key=value items")
    profile = _NONE
    for item in _SPLIT.split(text):
        item = item.strip()
        if item in _PROFILES:
            profile = _merge(profile, _PROFILES[item])
            continue
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in _KEYS:
            known = ", ".join([*_PROFILES, *(f"{k}=" for k in _KEYS)])
            raise ValueError(f"unknown fault {item!r}; expected one of {known}")
        attribute, kind = _KEYS[key]
        value: object
        if kind is str:
            if not raw:
                raise ValueError(f"fault {key}= needs a regular expression")
            value = raw
        else:
            try:
                value = kind(raw.strip())
            except ValueError:
                noun = "a whole number" if kind is int else "a number of seconds"
                raise ValueError(f"fault {key}= needs {noun}, got {raw!r}") from None
        profile = replace(profile, **{attribute: value})  # type: ignore[arg-type]
    return profile


def _merge(base: FaultProfile, overlay: FaultProfile) -> FaultProfile:
    changes = {
        f.name: getattr(overlay, f.name)
        for f in fields(FaultProfile)
        if getattr(overlay, f.name) != getattr(_NONE, f.name)
    }
    return replace(base, **changes)


class RequestFaults:
    """Counts API requests and says which ones get an injected 429 or 503."""

    def __init__(self, profile: FaultProfile) -> None:
        self._profile = profile
        self._count = 0
        self._lock = threading.Lock()

    def next_request(self) -> int | None:
        """Count one request; return 429 or 503 if it is to be refused, else None."""
        with self._lock:
            self._count += 1
            count = self._count
        every_429 = self._profile.rate_limit_every
        every_503 = self._profile.unavailable_every
        if every_429 and count % every_429 == 0:
            return 429
        if every_503 and count % every_503 == 0:
            return 503
        return None
