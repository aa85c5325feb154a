"""Where impact-review keeps its own files between runs (today: the embedded warehouse).

`IMPACT_REVIEW_HOME` wins so tests, CI and demo machines can point everything at a throwaway
folder; otherwise the platform's per-user data directory is used, so data survives restarts and
never lands in the working directory the user happened to start from.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "IMPACT_REVIEW_HOME"
APP_NAME = "impact-review"


def impact_home() -> Path:
    """The home folder (created if missing, private to the user when we create it)."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if raw:
        path = Path(raw).expanduser()
    else:
        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
