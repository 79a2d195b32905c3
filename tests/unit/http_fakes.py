"""The app's HTTP functions as the host finds them, run on stand-in services built from fakes.

No socket and no storage: each function is called with a ``func.HttpRequest`` and the domain
services behind it are the real ones, wired to the in-memory fakes of ``tests.unit.fakes``.
"""

import json
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import azure.functions as func
import pytest

from devhost.functions import FunctionSpec, discover, load_app
from domain.generation import GenerationRequests
from domain.learning import LearnerService
from domain.roadmaps import RoadmapService
from functions import http
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProgressRepository,
    FakeProvider,
    FakeQueue,
    FakeQuota,
    FakeRoadmapRepository,
    chain_of,
)

PROJECT = Path(__file__).resolve().parents[2]
ALLOWED_ORIGIN = "https://learn.example.com"


@cache
def http_functions() -> dict[str, FunctionSpec]:
    """Every function of ``function_app.py`` by name (importing it registers every operation)."""
    specs = discover(load_app(PROJECT), {"SWEEP_SCHEDULE": "0 * * * * *"})
    return {spec.name: spec for spec in specs}


class Served:
    """The app's HTTP functions on stand-in services; the fakes are at hand for assertions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, cors: str = ALLOWED_ORIGIN) -> None:
        self.lessons = FakeLessonRepository()
        self.progress = FakeProgressRepository()
        self.queue = FakeQueue()
        self.quota = FakeQuota()
        generation = GenerationRequests(self.lessons, self.queue, self.quota)

        async def user_id(authorization: str | None) -> str:
            return USER

        self.services = SimpleNamespace(
            settings=SimpleNamespace(
                http_deadline_seconds=5.0, cors_allowed_origins=cors, poll_after_seconds=2
            ),
            verifier=SimpleNamespace(user_id=user_id),
            generation=generation,
            learner=LearnerService(self.lessons, self.progress, generation, prefetch_on_view=False),
            roadmaps=RoadmapService(
                FakeRoadmapRepository(),
                self.lessons,
                chain_of(FakeProvider()).chain,
                generation,
                planning_budget=20.0,
                progress=self.progress,
                quota=self.quota,
            ),
        )
        monkeypatch.setattr(http, "get_services", lambda: self.services)

    async def call(
        self,
        name: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        **route_params: str,
    ) -> func.HttpResponse:
        """Call one HTTP function as the host would, with a bearer token."""
        spec = http_functions()[name]
        request = func.HttpRequest(
            method=spec.trigger["methods"][0],
            url=f"http://localhost:7071/api/{spec.trigger['route']}",
            headers={"Authorization": "Bearer token", **(headers or {})},
            params={},
            route_params=route_params,
            body=b"" if body is None else json.dumps(body).encode(),
        )
        response: func.HttpResponse = await spec.user_function(request)
        return response
