"""The running local host (``python -m devhost serve``) over real HTTP."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.auth import TokenVerifier
from devhost.emulators import free_port
from tests.conftest import LOG_DIR, ROOT, Stack


@dataclass
class Host:
    """A devhost process and a client for it."""

    process: subprocess.Popen[bytes]
    base_url: str

    def stop(self) -> int:
        """SIGINT, as Ctrl-C would; the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def start_host(stack: Stack, args: tuple[str, ...] = (), **overrides: str) -> Host:
    """Start devhost on a free port with the stack's settings, and wait until it answers.

    A port taken between choosing and binding it (by a parallel test run) means a new port.
    """
    for attempt in range(3):
        try:
            return _start_host(stack, args, overrides)
        except HostExited:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class HostExited(RuntimeError):
    """The devhost process ended before it answered."""


def _start_host(stack: Stack, args: tuple[str, ...], overrides: dict[str, str]) -> Host:
    port = free_port()
    env = {**os.environ, **stack.env, **overrides}
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with (LOG_DIR / f"host-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "serve", "--env-only", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    host = Host(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise HostExited(f"devhost exited with {process.returncode}; see {LOG_DIR}")
        try:
            httpx.get(f"{host.base_url}/api/health", timeout=5)
            return host
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)


@pytest.fixture(scope="session")
def host(stack: Stack) -> Iterator[Host]:
    running = start_host(stack)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def verifier(stack: Stack) -> TokenVerifier:
    return stack.verifier()


class Learner:
    """An HTTP client acting as one user."""

    def __init__(self, host: Host, token: str, user_id: str) -> None:
        self.user_id = user_id
        self.token = token
        self.http = httpx.Client(
            base_url=host.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def create_roadmap(self, **body: Any) -> httpx.Response:
        return self.http.post("/api/roadmaps", json=body)

    def wait_for_lesson(self, lesson_id: str, *, limit: float = 30.0) -> dict[str, Any]:
        """Poll the lesson until it is completed or failed."""
        deadline = time.monotonic() + limit
        while True:
            response = self.http.get(f"/api/lessons/{lesson_id}")
            assert response.status_code == 200, response.text
            lesson: dict[str, Any] = response.json()
            if lesson["generationStatus"] in ("completed", "failed"):
                return lesson
            assert time.monotonic() < deadline, f"lesson still {lesson['generationStatus']}"
            time.sleep(0.1)


@pytest.fixture
def learner(host: Host, verifier: TokenVerifier) -> Iterator[Learner]:
    user_id = f"learner-{uuid.uuid4().hex[:10]}"
    client = Learner(host, verifier.issue(user_id), user_id)
    yield client
    client.http.close()


@pytest.fixture
def other_learner(host: Host, verifier: TokenVerifier) -> Iterator[Learner]:
    user_id = f"other-{uuid.uuid4().hex[:10]}"
    client = Learner(host, verifier.issue(user_id), user_id)
    yield client
    client.http.close()
