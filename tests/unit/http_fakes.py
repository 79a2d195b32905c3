"""The app's HTTP functions as the host finds them, run on stand-in services built from fakes.

No socket and no storage: each function is called with a ``func.HttpRequest`` and the domain
services behind it are the real ones, wired to the in-memory fakes of ``tests.unit.fakes`` and
installed through ``functions.bootstrap.serving``.
"""

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import azure.functions as func

from adapters.auth import TokenVerifier, dev_secret
from adapters.settings import settings_from
from devhost.functions import FunctionSpec, discover, load_app
from domain.allowances import Allowances
from domain.cooldowns import Cooldowns
from domain.learning import LearnerService
from domain.lesson_requests import LessonRequests
from domain.lesson_writer import LessonWriter
from domain.roadmap_editor import RoadmapEditor
from domain.roadmap_service import RoadmapService
from domain.stats_service import StatsService
from domain.sweeper import Sweeper
from domain.telemetry import NoTelemetry, Telemetry
from functions.bootstrap import Services, serving
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
SETTINGS = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "http://127.0.0.1:9",
    "COSMOS_KEY": "not-a-key",
    "AUTH_JWT_SECRET": "unit-test-secret-of-at-least-32-characters",
    "SWEEP_SCHEDULE": "0 */1 * * * *",
}


async def _answers() -> None:
    """A backing service that answers."""


@cache
def http_functions() -> dict[str, FunctionSpec]:
    """Every function of ``function_app.py`` by name (importing it registers every operation)."""
    specs = discover(load_app(PROJECT), {"SWEEP_SCHEDULE": "0 * * * * *"})
    return {spec.name: spec for spec in specs}


class Served:
    """The app's HTTP functions on real services built from fakes; the fakes are at hand.

    ``with Served() as served:`` installs the services through ``functions.bootstrap.serving``,
    the one seam for substituting them; every call carries a valid token for ``USER``.
    """

    def __init__(
        self,
        *,
        cors: str = ALLOWED_ORIGIN,
        deadline: float = 5.0,
        telemetry: Telemetry | None = None,
        providers: Sequence[FakeProvider] = (),
    ) -> None:
        self.lessons = FakeLessonRepository()
        self.progress = FakeProgressRepository()
        self.queue = FakeQueue()
        self.quota = FakeQuota()
        self.roadmap_store = FakeRoadmapRepository()
        settings = settings_from(
            {**SETTINGS, "CORS_ALLOWED_ORIGINS": cors, "HTTP_DEADLINE_SECONDS": str(deadline)}
        )
        telemetry = telemetry or NoTelemetry()
        generation = LessonRequests(self.lessons, self.queue, self.quota, telemetry=telemetry)
        self.verifier = TokenVerifier(dev_secret(settings))
        chain = chain_of(*(providers or [FakeProvider()]), telemetry=telemetry).chain
        self.services = Services(
            settings=settings,
            verifier=self.verifier,
            generation=generation,
            roadmaps=RoadmapService(
                self.roadmap_store,
                self.lessons,
                chain,
                generation,
                planning_budget=20.0,
                progress=self.progress,
                quota=self.quota,
                telemetry=telemetry,
            ),
            learner=LearnerService(self.lessons, self.progress, generation, prefetch_on_view=False),
            writer=LessonWriter(self.lessons, chain, budget=5.0, telemetry=telemetry),
            sweeper=Sweeper(
                self.lessons, self.queue, queued_for=60, max_requeues=3, telemetry=telemetry
            ),
            stats=StatsService(self.roadmap_store, self.lessons, self.progress),
            editor=RoadmapEditor(
                self.roadmap_store,
                self.lessons,
                self.progress,
                chain,
                planning_budget=20.0,
                quota=self.quota,
                telemetry=telemetry,
            ),
            cooldowns=Cooldowns(),
            telemetry=telemetry,
            probes={"cosmos": _answers, "queue": _answers},
            allowances=Allowances(self.quota),
        )
        self.token = self.verifier.issue(USER)
        self._serving = serving(self.services)

    def __enter__(self) -> "Served":
        http_functions()  # import function_app (which starts the app) before substituting
        self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(None, None, None)

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
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
            params={},
            route_params=route_params,
            body=b"" if body is None else json.dumps(body).encode(),
        )
        response: func.HttpResponse = await spec.user_function(request)
        return response
