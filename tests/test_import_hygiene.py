"""core/ never imports Textual: proven in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import core
from tests.conftest import REPO


def test_core_imports_without_textual() -> None:
    modules = [
        name
        for _, name, _ in pkgutil.walk_packages(core.__path__, "core.")
        if not name.split(".")[-1].startswith("test")
    ]
    program = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "ui = ('textual', 'tui')\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert len(modules) > 5
    assert result.stdout.strip() == ""
