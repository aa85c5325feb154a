"""The user's settings for the review app: theme, approver name and key bindings.

The file is TOML, at `$IMPACT_REVIEW_CONFIG` or `config.toml` under the impact-review home:

    theme = "textual-light"
    approver = "oncall@example.com"

    [keymap]
    "review.approve" = "ctrl+a"
    "tree.down" = "j,down"

A broken file never stops the app: every problem is reported and the defaults are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "IMPACT_REVIEW_CONFIG"


@dataclass(frozen=True)
class UserConfig:
    """Settings read from the config file; None or empty means 'use the default'."""

    theme: str | None = None
    approver: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id to a comma-separated key list, e.g. {"review.approve": "ctrl+a"}."""
    path: Path | None = None
    """The file these settings came from (None when there was no file)."""
    problems: tuple[str, ...] = ()
    """What was wrong with the file; the defaults are used for those settings."""


def config_path() -> Path:
    """Where the config file is looked for."""
    configured = os.environ.get(CONFIG_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from core.home import impact_home

    return impact_home() / "config.toml"


def load_config(path: Path | None = None) -> UserConfig:
    """Read the config file; a missing file gives the defaults, a broken one its problems."""
    source = path or config_path()
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        return UserConfig()
    except OSError as error:
        return UserConfig(path=source, problems=(f"{source}: cannot read ({error.strerror})",))
    import tomllib  # only when there is a file: the app imports this module as it starts

    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return UserConfig(path=source, problems=(f"{source}: not valid TOML ({error})",))
    return _from_document(document, source)


def _from_document(document: dict[str, Any], source: Path) -> UserConfig:
    problems: list[str] = []
    known = {"theme", "approver", "keymap"}
    for key in sorted(set(document) - known):
        problems.append(f"{source}: unknown setting {key!r}")
    theme = _text(document, "theme", source, problems)
    approver = _text(document, "approver", source, problems)
    keymap: dict[str, str] = {}
    raw_keymap = document.get("keymap", {})
    if not isinstance(raw_keymap, dict):
        problems.append(f'{source}: keymap must be a table of binding id = "keys"')
    else:
        for binding_id, keys in raw_keymap.items():
            if isinstance(keys, list) and all(isinstance(key, str) for key in keys):
                keys = ",".join(keys)
            if not isinstance(keys, str) or not keys.strip():
                problems.append(f"{source}: keymap.{binding_id} must be a non-empty key string")
                continue
            keymap[str(binding_id)] = ",".join(part.strip() for part in keys.split(","))
    return UserConfig(
        theme=theme, approver=approver, keymap=keymap, path=source, problems=tuple(problems)
    )


def _text(document: dict[str, Any], key: str, source: Path, problems: list[str]) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{source}: {key} must be a non-empty string")
        return None
    return value.strip()
