"""The system benchmark: the running local stack, end to end, each figure beside its baseline.

See docs/performance.md for what each figure means and the targets; ``bench/report.py`` writes it.
"""

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

import httpx

from bench.stack import ROOT, Process, Stack

MODEL_SECONDS = 2.0
BURST = 96
# host.json before this benchmark, and what it chose (see docs/performance.md).
OLD_QUEUES = {"batchSize": "16", "newBatchThreshold": "8", "maxPollingInterval": "00:00:02"}
NEW_QUEUES = {"batchSize": "4", "newBatchThreshold": "20", "maxPollingInterval": "00:00:00.25"}
POLLING_CHOICES = ("00:00:02", "00:00:00.5", "00:00:00.25")
TTL_SAMPLES = 8
ACCEPT_SEQUENTIAL = 60
ACCEPT_PER_CLIENT = 15
ONBOARDINGS = 10


def _outline(modules: int = 6, lessons: int = 5) -> list[dict[str, Any]]:
    return [
        {
            "title": f"Module {m}",
            "lessons": [
                {"title": f"Lesson {m}.{n}", "objectives": [f"Objective {m}.{n}"]}
                for n in range(1, lessons + 1)
            ],
        }
        for m in range(1, modules + 1)
    ]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) and the count, in the values' unit."""
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "n": len(ordered)}


class Learners:
    """Authenticated HTTP clients of the HTTP host, and a pool of pending lessons."""

    def __init__(self, stack: Stack, host: Process) -> None:
        self.stack = stack
        self.base_url = host.base_url
        self.pending: list[tuple[str, str]] = []  # (user, lesson id)
        self.roadmaps: list[tuple[str, str]] = []  # (user, roadmap id)

    def client(self, user: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.stack.token(user)}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)

    def clients(self) -> "Clients":
        """One client per user, made as needed, all closed together."""
        return Clients(self)

    def take(self, count: int) -> list[tuple[str, str]]:
        taken, self.pending = self.pending[:count], self.pending[count:]
        if len(taken) < count:
            raise RuntimeError("the benchmark ran out of pending lessons")
        return taken


class Clients:
    """``async with learners.clients() as http: http[user]``: a client per user."""

    def __init__(self, learners: Learners) -> None:
        self._learners = learners
        self._made: dict[str, httpx.AsyncClient] = {}

    def __getitem__(self, user: str) -> httpx.AsyncClient:
        if user not in self._made:
            self._made[user] = self._learners.client(user)
        return self._made[user]

    async def __aenter__(self) -> "Clients":
        return self

    async def __aexit__(self, *_: object) -> None:
        for client in self._made.values():
            await client.aclose()


async def _timed(call: Awaitable[httpx.Response], expect: int) -> float:
    started = time.perf_counter()
    response = await call
    if response.status_code != expect:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return (time.perf_counter() - started) * 1000


async def onboard(learners: Learners, user: str, prefetch: int) -> list[float]:
    """Sequential ``POST /api/roadmaps`` with an explicit 6 x 5 outline; lessons join the pool."""
    times = []
    async with learners.client(user) as http:
        for n in range(ONBOARDINGS):
            body: dict[str, Any] = {"goal": f"Learn benchmarking {user} {n}"}
            body["skillLevel"] = "beginner"
            body |= {"modules": _outline(), "prefetch": prefetch}
            started = time.perf_counter()
            response = await http.post("/api/roadmaps", json=body)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.text
            roadmap = response.json()
            learners.roadmaps.append((user, roadmap["id"]))
            lessons = [lesson for module in roadmap["modules"] for lesson in module["lessons"]]
            pending = [one["id"] for one in lessons if one["generationStatus"] == "pending"]
            learners.pending += [(user, lesson_id) for lesson_id in pending]
    return times


async def accept(learners: Learners, clients: int, rounds: int) -> dict[str, list[float]]:
    """Per route, the latencies of ``clients`` concurrent learners doing ``rounds`` each."""
    times: dict[str, list[float]] = {"health": [], "get_lesson": [], "generate": []}
    lessons = learners.take(clients * rounds)

    async def learner(index: int) -> None:
        mine = lessons[index::clients]
        async with learners.clients() as http:
            reader, read = mine[0]
            for user, lesson_id in mine:
                times["health"].append(await _timed(http[user].get("/api/health"), 200))
                call = http[reader].get(f"/api/lessons/{read}")
                times["get_lesson"].append(await _timed(call, 200))
                call = http[user].post(f"/api/lessons/{lesson_id}/generate")
                times["generate"].append(await _timed(call, 202))

    await asyncio.gather(*(learner(i) for i in range(clients)))
    return times


async def _wait_completed(http: httpx.AsyncClient, lesson_id: str, limit: float = 60) -> float:
    """Poll every 50 ms; the moment (``time.time()``) the lesson was first seen completed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        response = await http.get(f"/api/lessons/{lesson_id}")
        status = response.json()["generationStatus"]
        if status == "completed":
            return time.time()
        if status == "failed":
            raise RuntimeError(f"lesson {lesson_id} failed: {response.text}")
        await asyncio.sleep(0.05)
    raise RuntimeError(f"lesson {lesson_id} not completed within {limit} s")


async def time_to_lesson(learners: Learners, samples: int) -> dict[str, list[float]]:
    """One learner at a time: ask, poll until completed, read for a while, ask again.

    ``seen``: from sending the request to seeing it completed (50 ms polling); ``stored``: to
    the lesson's own ``generatedAt`` (no polling in it).
    """
    out: dict[str, list[float]] = {"seen": [], "stored": []}
    for index, (user, lesson_id) in enumerate(learners.take(samples + 1)):
        async with learners.client(user) as http:
            await asyncio.sleep(random.uniform(1.0, 3.0))  # reading: the queue goes idle
            asked = time.time()
            response = await http.post(f"/api/lessons/{lesson_id}/generate")
            assert response.status_code == 202, response.text
            seen = await _wait_completed(http, lesson_id)
            lesson = (await http.get(f"/api/lessons/{lesson_id}")).json()
        if index == 0:
            continue  # the worker's first lesson builds its clients: that is cold start
        stored = datetime.fromisoformat(lesson["generatedAt"]).timestamp()
        out["seen"].append((seen - asked) * 1000)
        out["stored"].append((stored - asked) * 1000)
    return out


async def burst(learners: Learners, count: int = BURST, clients: int = 16) -> dict[str, float]:
    """``count`` lessons asked for by ``clients`` learners at once; seconds until all are done."""
    lessons = learners.take(count)
    started = time.time()

    async def ask(chunk: list[tuple[str, str]]) -> None:
        async with learners.clients() as http:
            for user, lesson_id in chunk:
                await _timed(http[user].post(f"/api/lessons/{lesson_id}/generate"), 202)

    await asyncio.gather(*(ask(lessons[i::clients]) for i in range(clients)))
    asked = time.time()
    finished = []
    async with learners.clients() as http:
        for user, lesson_id in lessons:
            await _wait_completed(http[user], lesson_id, limit=120)
            lesson = (await http[user].get(f"/api/lessons/{lesson_id}")).json()
            finished.append(datetime.fromisoformat(lesson["generatedAt"]).timestamp())
    seconds = max(finished) - started
    return {
        "lessons": count,
        "seconds": round(seconds, 2),
        "per_second": round(count / seconds, 2),
        "asking_seconds": round(asked - started, 2),
    }


async def cosmos_per_lesson(stack: Stack, learners: Learners, count: int = 8) -> dict[str, Any]:
    """Cosmos DB operations behind ``count`` lessons, from request to completed, per lesson.

    Counted by cosmosdb-server (devhost/cosmos/server.js); nothing is polled while counting.
    """
    lessons = learners.take(count)
    stack.cosmos_stats(reset=True)
    async with learners.clients() as http:
        for user, lesson_id in lessons:
            await _timed(http[user].post(f"/api/lessons/{lesson_id}/generate"), 202)
        await asyncio.sleep(MODEL_SECONDS + 3.0)
        stats = stack.cosmos_stats()
        for user, lesson_id in lessons:
            await _wait_completed(http[user], lesson_id)
    lesson_ops = {k.split(".", 1)[1]: v for k, v in stats.items() if k.startswith("lessons.")}
    full = sum(lesson_ops.get(kind, {}).get("count", 0) for kind in ("replace", "upsert"))
    patches = lesson_ops.get("patch", {}).get("count", 0)
    written = sum(v["bytes"] for k, v in stats.items() if k.split(".")[-1] in _WRITES)
    return {
        "lessons": count,
        "operations": round(sum(v["count"] for v in stats.values()) / count, 2),
        "full_document_writes": round(full / count, 2),
        "patches": round(patches / count, 2),
        "bytes_written": round(written / count),
        "by_kind": stats,
    }


_WRITES = ("create", "replace", "upsert", "patch")


def cold_start(env: dict[str, str]) -> float:
    """Milliseconds to import ``function_app`` in a fresh interpreter (settings validated)."""
    code = (
        "import time; t = time.perf_counter(); import function_app; "
        "print((time.perf_counter() - t) * 1000)"
    )
    runs = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True
        )
        runs.append(float(done.stdout.decode().split()[-1]))
    return statistics.median(runs)


async def first_requests(learners: Learners, user: str) -> tuple[float, float]:
    """The first authenticated request a fresh host serves, and the next one (ms)."""
    async with learners.client(user) as http:
        first = await _timed(http.get("/api/roadmaps"), 200)
        second = await _timed(http.get("/api/roadmaps"), 200)
    return first, second


def with_worker(
    stack: Stack,
    options: dict[str, str],
    work: Callable[[], Coroutine[Any, Any, Any]],
    workers: int = 1,
) -> tuple[Any, float]:
    """Run ``work`` with fresh worker processes; the result and their highest peak RSS (MB)."""
    started = [stack.worker(**options) for _ in range(workers)]
    try:
        result = asyncio.run(work())
        return result, max(worker.peak_rss_mb() for worker in started)
    finally:
        for worker in started:
            worker.stop()


def run(stack: Stack) -> dict[str, Any]:
    """Every phase, in an order that keeps measurements from disturbing each other."""

    results: dict[str, Any] = {
        "model_seconds": MODEL_SECONDS,
        "chosen_polling": NEW_QUEUES["maxPollingInterval"],
        "chosen_queues": NEW_QUEUES,
        "cosmos_counted_at": "cosmosdb-server (devhost/cosmos/server.js), per request",
    }
    results["import_ms"] = round(cold_start({**os.environ, **stack.env}), 1)
    spawned = time.perf_counter()
    host = stack.http_host()
    learners = Learners(stack, host)
    results["host_ready_ms"] = round((time.perf_counter() - spawned) * 1000, 1)
    first, second = asyncio.run(first_requests(learners, "bench-a"))
    results["first_request_ms"], results["second_request_ms"] = round(first, 1), round(second, 1)
    print(f"bench: cold start done: {results['import_ms']} ms import", flush=True)

    results["onboarding"] = {
        "prefetch_1": percentiles(asyncio.run(onboard(learners, "bench-a", 1))),
        "prefetch_0": percentiles(asyncio.run(onboard(learners, "bench-b", 0))),
    }
    for user in ("bench-c", "bench-d", "bench-e", "bench-f"):
        asyncio.run(onboard(learners, user, 0))  # more pending lessons for what follows
    print(f"bench: onboarding done; {len(learners.pending)} pending lessons", flush=True)

    raw: dict[str, dict[str, list[float]]] = {}
    raw["1"] = asyncio.run(accept(learners, 1, ACCEPT_SEQUENTIAL))
    raw["16"] = asyncio.run(accept(learners, 16, ACCEPT_PER_CLIENT))
    stack.clear_queue()  # no worker ran: those lessons stay queued and are never used again
    results["accept_raw"] = raw
    results["accept"] = {
        clients: {route: percentiles(times) for route, times in routes.items()}
        for clients, routes in raw.items()
    }
    print("bench: accept latency done", flush=True)

    ttl: dict[str, Any] = {}
    for polling in POLLING_CHOICES:
        options = {**NEW_QUEUES, "maxPollingInterval": polling}
        samples, rss = with_worker(stack, options, lambda: time_to_lesson(learners, TTL_SAMPLES))
        ttl[polling] = {key: percentiles(values) for key, values in samples.items()}
        ttl[polling]["mean_seen"] = round(statistics.mean(samples["seen"]), 1)
        ttl[polling]["peak_rss_mb"] = round(rss, 1)
        print(f"bench: time to lesson at {polling}: {ttl[polling]['seen']}", flush=True)
    results["time_to_lesson"] = ttl

    cosmos, _ = with_worker(stack, NEW_QUEUES, lambda: cosmos_per_lesson(stack, learners))
    results["cosmos_per_lesson"] = cosmos

    bursts: dict[str, Any] = {}
    runs = {
        "old settings, 1 worker": (OLD_QUEUES, 1),
        "batch 16/8, 1 worker": ({**OLD_QUEUES, "maxPollingInterval": "00:00:00.25"}, 1),
        "chosen, 1 worker": (NEW_QUEUES, 1),
        "chosen, 2 workers": (NEW_QUEUES, 2),
    }
    for name, (options, workers) in runs.items():
        figures, rss = with_worker(stack, options, lambda: burst(learners), workers)
        concurrency = int(options["batchSize"]) + int(options["newBatchThreshold"])
        ideal = workers * concurrency / MODEL_SECONDS
        figures |= {"workers": workers, "ideal_per_second": ideal, "peak_rss_mb": round(rss, 1)}
        figures["of_ideal"] = round(figures["per_second"] / ideal, 3)
        bursts[name] = figures
        print(f"bench: burst {name}: {figures['per_second']}/s of {ideal}/s", flush=True)
    results["burst"] = bursts

    requests = len(stack.llm.requests())
    completed = TTL_SAMPLES * len(POLLING_CHOICES) + len(POLLING_CHOICES) + 8 + BURST * len(runs)
    results["provider_calls"] = {"requests": requests, "completed_lessons": completed}
    results["provider_calls"]["per_lesson"] = round(requests / completed, 3)
    return results
