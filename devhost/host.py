"""The local function host: the HTTP, queue and timer triggers of one ``FunctionApp``."""

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from azure.storage.queue.aio import QueueServiceClient

from devhost.functions import FunctionSpec, discover, load_app
from devhost.hostconfig import HostConfig
from devhost.http import build_http_app, route_paths
from devhost.invoke import Invoker
from devhost.queues import QueueListener
from devhost.timers import TimerRunner

log = logging.getLogger("devhost")


class FunctionHost:
    """Serves a project's ``function_app.py`` as the Functions host would."""

    def __init__(
        self, project_dir: Path, *, http: bool = True, queues: bool = True, timers: bool = True
    ) -> None:
        self.config = HostConfig.load(project_dir / "host.json")
        self.specs = discover(load_app(project_dir))
        self._enabled = {"http": http, "queue": queues, "timer": timers}

    def by_kind(self, kind: str) -> list[FunctionSpec]:
        """The functions of one trigger kind that this host serves."""
        return [spec for spec in self.specs if spec.kind == kind and self._enabled[kind]]

    def describe(self, base_url: str) -> str:
        """The function list, as ``func start`` prints it."""
        lines = ["Functions:", ""]
        for spec in self.specs:
            if spec.kind == "http":
                methods = ",".join(spec.trigger.get("methods") or ["ALL"])
                path = route_paths(
                    self.config.route_prefix, spec.trigger.get("route") or spec.name
                )[0]
                lines.append(f"        {spec.name}: [{methods}] {base_url}{path}")
            else:
                lines.append(f"        {spec.name}: {spec.kind}Trigger")
        return "\n".join(lines)

    async def serve(self, host: str = "127.0.0.1", port: int = 7071) -> None:
        """Run until SIGINT/SIGTERM; then stop polling and let running functions finish."""
        invoke = Invoker(self.config.function_timeout)
        stopping = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            workers = [listener.run(stopping) for listener in await self._listeners(stack, invoke)]
            workers += [TimerRunner(spec, invoke).run(stopping) for spec in self.by_kind("timer")]
            background = [asyncio.create_task(work) for work in workers]
            server: _Server | None = None
            if self._enabled["http"]:
                app = build_http_app(self.by_kind("http"), invoke, self.config.route_prefix)
                config = uvicorn.Config(
                    app, host=host, port=port, log_config=None, access_log=False, lifespan="off"
                )
                server = _Server(config)
            _on_signals(stopping, server)
            try:
                if server is not None:
                    await server.serve()
                else:
                    await stopping.wait()
            finally:
                stopping.set()
                await asyncio.gather(*background, return_exceptions=True)
                invoke.shutdown()
                # The app's clients live as long as the worker, as under the real host, which
                # never closes them either: their "unclosed" warnings at exit are expected.
                logging.getLogger("asyncio").addFilter(_NoUnclosedWarnings())

    async def _listeners(
        self, stack: contextlib.AsyncExitStack, invoke: Invoker
    ) -> list[QueueListener]:
        services: dict[str, QueueServiceClient] = {}
        listeners = []
        for spec in self.by_kind("queue"):
            setting = str(spec.trigger.get("connection") or "AzureWebJobsStorage")
            connection = os.environ.get(setting)
            if not connection:
                raise RuntimeError(f"function {spec.name}: the setting {setting} is not set")
            if connection not in services:
                service = QueueServiceClient.from_connection_string(connection)
                services[connection] = await stack.enter_async_context(service)
            listeners.append(QueueListener(spec, services[connection], self.config.queues, invoke))
        return listeners


class _NoUnclosedWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unclosed")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the host stops everything on one signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _on_signals(stopping: asyncio.Event, server: uvicorn.Server | None) -> None:
    """SIGINT/SIGTERM stop the host gracefully; a second one stops HTTP at once."""

    def stop() -> None:
        if server is not None:
            server.force_exit = server.should_exit
            server.should_exit = True
        stopping.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
