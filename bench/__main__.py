"""`python -m bench` (what `make bench` runs): see bench/__init__.py and bench/suite.py."""

from __future__ import annotations

from bench.suite import main

raise SystemExit(main())
