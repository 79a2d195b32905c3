"""Fixtures shared by unit tests: the in-memory lesson store and queue."""

import pytest

from tests.unit.fakes import FakeLessonRepository, FakeQueue


@pytest.fixture
def lessons() -> FakeLessonRepository:
    return FakeLessonRepository()


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()
