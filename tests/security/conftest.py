"""The security suite: an attacker's probes against the running host, over real HTTP.

Everything here goes through ``devhost serve`` started by ``tests.e2e.conftest.start_host`` on
emulators of the suite's own (``tests.conftest.running_stack``): the e2e suite's host listens to
the shared session stack's queue and would write whatever a probe queued. The ``target`` host
has no queue listeners either, so what a test finds stored is exactly what the API did.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.auth import TokenVerifier
from devhost.emulators import AZURITE_ACCOUNT, AZURITE_KEY, COSMOS_EMULATOR_KEY
from tests.conftest import Stack, running_stack
from tests.e2e.conftest import Host, Learner, start_host

ORIGIN = "https://app.skillsync.test"
LESSON_ALLOWANCE = 30
ROADMAP_ALLOWANCE = 5
PROBLEM_JSON = "application/problem+json"
# What an error answer must never contain: how the app is built and where its services live.
INTERNALS = (
    "Traceback",
    'File "',
    "Error'",
    "Exception",
    "pydantic",
    "azure.",
    "starlette",
    "site-packages",
    AZURITE_ACCOUNT,
)


@dataclass(frozen=True)
class Target:
    """The host under attack, its emulators, and a signer of tokens it accepts."""

    host: Host
    stack: Stack
    tokens: TokenVerifier

    @property
    def url(self) -> str:
        return self.host.base_url

    def learner(self, name: str = "learner") -> Learner:
        """A new user of its own, with a valid development token."""
        user_id = f"{name}-{uuid.uuid4().hex[:10]}"
        return Learner(self.host, self.tokens.issue(user_id), user_id)

    def secrets(self) -> tuple[str, ...]:
        """Values no answer may contain: keys, the signing secret, the services' addresses."""
        ports = self.stack.ports
        return (
            self.stack.env["AUTH_JWT_SECRET"],
            COSMOS_EMULATOR_KEY,
            AZURITE_KEY,
            *(f"127.0.0.1:{port}" for port in (ports.cosmos, ports.blob, ports.queue, ports.table)),
            *(f"localhost:{port}" for port in (ports.cosmos, ports.blob, ports.queue, ports.table)),
        )


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The suite's own emulators (overrides the shared session stack for tests/security)."""
    with running_stack() as running:
        yield running


@pytest.fixture(scope="session")
def target(stack: Stack) -> Iterator[Target]:
    """A host with CORS configured and the default allowances; no queue listeners."""
    host = start_host(
        stack,
        args=("--no-queues", "--no-timers"),
        CORS_ALLOWED_ORIGINS=ORIGIN,
        QUOTA_LESSONS_PER_HOUR=str(LESSON_ALLOWANCE),
        QUOTA_ROADMAPS_PER_DAY=str(ROADMAP_ALLOWANCE),
        LLM_PROVIDERS="offline",
    )
    tokens = stack.verifier()
    yield Target(host, stack, tokens)
    host.stop()


@pytest.fixture(scope="session")
def openapi(target: Target) -> dict[str, Any]:
    """The app's own description of its surface, as a client would fetch it."""
    response = httpx.get(f"{target.url}/api/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def alice(target: Target) -> Iterator[Learner]:
    """The victim."""
    learner = target.learner("alice")
    yield learner
    learner.http.close()


@pytest.fixture
def mallory(target: Target) -> Iterator[Learner]:
    """The attacker: a signed-in user of the same API."""
    learner = target.learner("mallory")
    yield learner
    learner.http.close()


def outline(*lessons_per_module: int) -> list[dict[str, Any]]:
    """A roadmap outline the learner writes (no provider is asked)."""
    return [
        {
            "title": f"Module {m}",
            "lessons": [
                {"title": f"Lesson {m}.{n}", "objectives": [f"Objective {m}.{n}"]}
                for n in range(1, count + 1)
            ],
        }
        for m, count in enumerate(lessons_per_module, start=1)
    ]


def create_roadmap(learner: Learner, *lessons_per_module: int, **extra: Any) -> dict[str, Any]:
    """A roadmap of ``learner``'s own, nothing queued unless ``prefetch`` says so."""
    body = {
        "goal": "Learn secure coding",
        "skillLevel": "beginner",
        "modules": outline(*(lessons_per_module or (2,))),
        "prefetch": 0,
        **extra,
    }
    response = learner.create_roadmap(**body)
    assert response.status_code == 201, response.text
    roadmap: dict[str, Any] = response.json()
    return roadmap


def lesson_ids(roadmap: dict[str, Any]) -> list[str]:
    return [lesson["id"] for module in roadmap["modules"] for lesson in module["lessons"]]


def problem_faults(response: httpx.Response) -> list[str]:
    """How an error answer falls short of an RFC 9457 problem document."""
    faults: list[str] = []
    if not response.headers.get("Content-Type", "").startswith(PROBLEM_JSON):
        faults.append(f"Content-Type {response.headers.get('Content-Type')!r}")
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [*faults, f"a body that is not JSON: {response.text[:200]!r}"]
    if not isinstance(body, dict):
        return [*faults, f"a body that is not an object: {body!r}"]
    if body.get("status") != response.status_code:
        faults.append(f"status {body.get('status')!r} in a {response.status_code} answer")
    for member in ("type", "title", "detail"):
        if not isinstance(body.get(member), str) or not body[member]:
            faults.append(f"no {member}")
    return faults


def leaks(response: httpx.Response, target: Target) -> list[str]:
    """Internals an answer gives away: tracebacks, class and module names, secrets, addresses."""
    text = response.text
    found = [repr(word) for word in INTERNALS if word in text]
    found += [
        f"secret or address #{n}" for n, value in enumerate(target.secrets()) if value in text
    ]
    return found
