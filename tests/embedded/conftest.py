"""An embedded warehouse per test, in the test's own IMPACT_REVIEW_HOME, and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from core.embedded import EmbeddedWarehouse
from tests.embedded.twins import TABLE, Twins


@pytest.fixture
async def warehouse(impact_home: Path) -> AsyncIterator[EmbeddedWarehouse]:
    embedded = EmbeddedWarehouse(impact_home)
    yield embedded
    await embedded.aclose()


@pytest.fixture
async def client(warehouse: EmbeddedWarehouse) -> AsyncIterator[httpx.AsyncClient]:
    async with warehouse.client() as http:
        yield http


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[Twins]:
    """A fast-path engine and a general-path engine, each with the test table."""
    pair = Twins(tmp_path)
    pair.both(TABLE, ())
    yield pair
    pair.close()
