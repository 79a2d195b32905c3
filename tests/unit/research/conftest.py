"""Fixtures of the research adapter tests: the scripted wire, its client, and a fake clock."""

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.unit.research.wire import Clock, Wire


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(wire: Wire) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(wire.handle)) as client:
        yield client


@pytest.fixture(autouse=True)
def _httpx_log_filters() -> Iterator[None]:
    """Filters an adapter adds to httpx's logger are removed after each test."""
    httpx_log = logging.getLogger("httpx")
    before = list(httpx_log.filters)
    yield
    httpx_log.filters[:] = before
