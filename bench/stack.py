"""The real local stack for the system benchmark: emulators, a fake provider and devhost processes.

Everything is started here and stopped on exit: Azurite and cosmosdb-server on free ports, the
fake LLM server of the tests (Groq's protocol; every answer takes ``model_seconds``), one HTTP
host (``devhost serve --no-queues``) and queue workers (``devhost serve --no-http``) started and
stopped per measurement, each with its own host.json overrides.
"""

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from azure.storage.queue import QueueClient

from adapters.auth import TokenVerifier
from adapters.queue import LESSON_GENERATION_QUEUE
from adapters.settings import settings_from
from devhost.emulators import Emulators, Ports, free_port, port_open
from devhost.functions import discover, load_app
from devhost.provision import provision, queue_names
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.samples import lesson_json

ROOT = Path(__file__).resolve().parent.parent
QUEUE_OPTION = "AzureFunctionsJobHost__extensions__queues__"


@dataclass
class Process:
    """A devhost process the benchmark started."""

    process: subprocess.Popen[bytes]
    log: Path
    started: float
    base_url: str = ""

    def peak_rss_mb(self) -> float:
        """The process's peak resident set (``VmHWM``), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        """SIGINT (a graceful stop, as Ctrl-C), then SIGKILL after 20 s."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Stack:
    """The running stack and what the benchmark needs to drive it."""

    env: dict[str, str]
    llm: FakeLlmServer
    logs: Path
    cosmos_url: str
    processes: list[Process] = field(default_factory=list)

    def spawn(self, *args: str, **overrides: str) -> Process:
        """Start ``python -m devhost serve --env-only ARGS`` with extra settings."""
        log = self.logs / f"devhost-{len(self.processes)}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "devhost", "serve", "--env-only", *args],
                cwd=ROOT,
                env={**os.environ, **self.env, **overrides},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        running = Process(process, log, time.perf_counter())
        self.processes.append(running)
        return running

    def http_host(self) -> Process:
        """The HTTP host (no queue listeners), once its port accepts connections."""
        port = free_port()
        host = self.spawn("--port", str(port), "--no-queues", "--no-timers")
        host.base_url = f"http://127.0.0.1:{port}"
        _wait(host, lambda: port_open(port))
        return host

    def worker(self, **queue_options: str) -> Process:
        """A queue worker with host.json ``extensions.queues`` overrides, once it listens."""
        overrides = {QUEUE_OPTION + name: value for name, value in queue_options.items()}
        worker = self.spawn("--no-http", "--no-timers", "--port", "0", **overrides)
        _wait(worker, lambda: b"Research sources:" in worker.log.read_bytes())
        return worker

    def token(self, user_id: str) -> str:
        """A development token for ``user_id``."""
        return TokenVerifier(self.env["AUTH_JWT_SECRET"]).issue(user_id)

    def cosmos_stats(self, *, reset: bool = False) -> dict[str, dict[str, int]]:
        """Operations cosmosdb-server served since the last reset, by ``container.kind``."""
        method = "DELETE" if reset else "GET"
        answer = httpx.request(method, f"{self.cosmos_url}/_devhost/stats", timeout=10)
        stats: dict[str, dict[str, int]] = answer.json()
        return stats

    def clear_queue(self) -> None:
        """Drop every waiting generation message (after a measurement that had no worker)."""
        with QueueClient.from_connection_string(
            self.env["AzureWebJobsStorage"], LESSON_GENERATION_QUEUE
        ) as queue:
            queue.clear_messages()

    def stop_all(self) -> None:
        """Stop every devhost process still running."""
        for process in self.processes:
            process.stop()


def _wait(process: Process, ready: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.process.poll() is not None or time.monotonic() > deadline:
            process.stop()
            raise RuntimeError(f"devhost did not start; see {process.log}")
        time.sleep(0.02)


@contextlib.contextmanager
def running(logs: Path, model_seconds: float) -> Iterator[Stack]:
    """The whole stack, provisioned, with a provider answering in ``model_seconds``."""
    ports = Ports.free()
    with Emulators(ports, logs), FakeLlmServer() as llm:
        llm.default("groq", Reply.hang(model_seconds, Reply.ok(lesson_json())))
        env = {
            **ports.settings(),
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "COSMOS_DATABASE": "bench",
            "AUTH_JWT_SECRET": secrets.token_urlsafe(48),
            "LOG_LEVEL": "WARNING",
            "RESEARCH_SOURCES": "none",
            "LLM_PROVIDERS": "groq",
            "GROQ_API_KEY": "gsk_bench_not_a_key",
            "GROQ_BASE_URL": llm.root_url,
            "QUOTA_LESSONS_PER_HOUR": "10000",
            "QUOTA_ROADMAPS_PER_DAY": "1000",
            # Nothing is re-sent behind the benchmark's back: the sweeper runs every half hour,
            # more often than the (longest) lease, as the settings require.
            "SWEEP_SCHEDULE": "0 */30 * * * *",
            "GENERATION_LEASE_SECONDS": "3600",
            "STUCK_QUEUED_SECONDS": "3600",
        }
        os.environ.update(env)  # importing function_app (to list its queues) validates them
        settings = settings_from(env)
        asyncio.run(provision(settings, queue_names(discover(load_app(ROOT), env))))
        stack = Stack(env=env, llm=llm, logs=logs, cosmos_url=ports.cosmos_endpoint)
        try:
            yield stack
        finally:
            stack.stop_all()
