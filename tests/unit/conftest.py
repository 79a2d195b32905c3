"""Fixtures shared by unit tests: the in-memory lesson store and queue, and the HTTP functions
served on services built from fakes."""

from collections.abc import Iterator

import pytest

from tests.unit.fakes import FakeLessonRepository, FakeQueue
from tests.unit.http_fakes import Served
from tests.unit.telemetry_fakes import Exported, exporting


@pytest.fixture
def served() -> Iterator[Served]:
    with Served() as serving:
        yield serving


@pytest.fixture
def lessons() -> FakeLessonRepository:
    return FakeLessonRepository()


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def exported() -> Iterator[Exported]:
    """Telemetry to memory: an ``OpenTelemetryReporter`` whose every export can be read back."""
    with exporting() as telemetry:
        yield telemetry
