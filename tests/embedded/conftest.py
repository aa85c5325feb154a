"""An embedded warehouse per test, in the test's own IMPACT_REVIEW_HOME, and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.embedded import EmbeddedWarehouse


@pytest.fixture
async def warehouse(impact_home: Path) -> AsyncIterator[EmbeddedWarehouse]:
    embedded = EmbeddedWarehouse(impact_home)
    yield embedded
    await embedded.aclose()


@pytest.fixture
async def client(warehouse: EmbeddedWarehouse) -> AsyncIterator[httpx.AsyncClient]:
    async with warehouse.client() as http:
        yield http
