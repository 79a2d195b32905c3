"""Session fixtures: the real emulators on free ports, shared by integration and e2e tests.

Unit tests never ask for them, so ``pytest tests/unit`` starts nothing.
"""

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.auth import TokenVerifier
from adapters.settings import Settings, settings_from
from devhost.emulators import EmulatorError, Emulators, Ports
from devhost.functions import discover, load_app
from devhost.provision import provision, queue_names
from tests.support.fake_llm import FakeLlmServer

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".devhost" / "test-logs"

# Importing function_app validates the settings, as the Functions host's indexing does; the test
# process is configured like a worker. Nothing these name is reachable: tests that need a service
# start one and pass its own settings.
PROCESS_SETTINGS = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "http://127.0.0.1:9",
    "COSMOS_KEY": "not-a-key",
    "AUTH_JWT_SECRET": secrets.token_urlsafe(48),
    "SWEEP_SCHEDULE": "0 */1 * * * *",
    "RESEARCH_SOURCES": "none",
}
for _name, _value in PROCESS_SETTINGS.items():
    os.environ.setdefault(_name, _value)


@dataclass(frozen=True)
class Stack:
    """Emulators started for this test session, and the settings that reach them."""

    ports: Ports
    env: dict[str, str]
    settings: Settings
    emulators: Emulators

    def verifier(self) -> TokenVerifier:
        """Issues and checks development tokens as this stack's hosts do."""
        return TokenVerifier(
            self.env["AUTH_JWT_SECRET"],
            issuer=self.env["AUTH_ISSUER"],
            audience=self.env["AUTH_AUDIENCE"],
        )


@contextmanager
def running_stack(cosmos_data: Path | None = None) -> Iterator[Stack]:
    """Fresh emulators on free ports, provisioned, stopped on exit.

    With ``cosmos_data``, Cosmos DB keeps its data across ``stack.emulators.restart_cosmos()``.
    """
    emulators = _started(cosmos_data)
    ports = emulators.ports
    with emulators:
        env = {
            **ports.settings(),
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "COSMOS_DATABASE": "skillsync-test",
            "AUTH_JWT_SECRET": secrets.token_urlsafe(48),
            "AUTH_ISSUER": "skillsync-test",
            "AUTH_AUDIENCE": "skillsync-api",
            "LOG_LEVEL": "INFO",
            # The sandbox has no internet: research is tested over recorded answers instead.
            "RESEARCH_SOURCES": "none",
            "SWEEP_SCHEDULE": "0 */1 * * * *",
            # Tests count provider calls per lesson; the shared lesson cache would answer the
            # many identical lessons they write (its own tests turn it on).
            "LESSON_CACHE": "false",
        }
        settings = settings_from(env)
        asyncio.run(provision(settings, queue_names(discover(load_app(ROOT), env))))
        yield Stack(ports=ports, env=env, settings=settings, emulators=emulators)


def _started(cosmos_data: Path | None, attempts: int = 3) -> Emulators:
    """Emulators on free ports; a port taken between choosing and binding means new ports."""
    for attempt in range(attempts):
        emulators = Emulators(Ports.free(), LOG_DIR, cosmos_data=cosmos_data)
        try:
            emulators.start()
            return emulators
        except EmulatorError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with running_stack() as running:
        yield running


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    """Emulators of the module's own: another host polling the same queue would take its work."""
    with running_stack() as running:
        yield running


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLlmServer]:
    """The fake language-model server, speaking Groq's, Gemini's and Qwen's protocols."""
    with FakeLlmServer() as server:
        yield server
