"""``make bench``: the storage choices this app relies on, measured side by side in one run,
then the system benchmark (``bench/system.py``) on the whole local stack.

Each line compares two ways of doing the same work against the same local emulators and prints
the ratio; absolute times on an emulator say little about Azure, ratios say which way is faster.
"""

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from adapters.cosmos import LESSONS, create_cosmos_client, ensure_schema
from adapters.cosmos_repository import CosmosLessonRepository
from adapters.settings import Settings, settings_from
from bench import chain, lesson_cache, live, report, research, stack, system
from bench.rows import row
from devhost.emulators import Emulators, Ports
from domain.lesson import Lesson
from tests.support.samples import skeleton_lessons

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 15


def _settings(ports: Ports) -> Settings:
    return settings_from(
        {
            **ports.settings(),
            "AUTH_JWT_SECRET": "b" * 48,
            "COSMOS_DATABASE": "bench",
            "SWEEP_SCHEDULE": "0 */1 * * * *",
        }
    )


def _lessons(user: str, count: int = 16) -> list[Lesson]:
    return skeleton_lessons(user, count, goal="Benchmark", planned_by="bench")


async def _median_ms(work: Callable[[int], Awaitable[None]], rounds: int = ROUNDS) -> float:
    times = []
    for i in range(rounds):
        started = time.perf_counter()
        await work(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def run(settings: Settings) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    async with create_cosmos_client(settings) as cosmos:
        await ensure_schema(cosmos, settings.cosmos_database)
        container = cosmos.get_database_client(settings.cosmos_database).get_container_client(
            LESSONS
        )
        repo = CosmosLessonRepository(container)

        async def concurrent(i: int) -> None:
            await repo.add_all(_lessons(f"c{i}"))

        async def sequential(i: int) -> None:
            for lesson in _lessons(f"s{i}"):
                await container.create_item(lesson.model_dump(mode="json"))

        rows.append(
            row(
                "write 16 lesson skeletons",
                "concurrent (add_all)",
                await _median_ms(concurrent),
                "one by one",
                await _median_ms(sequential),
            )
        )

        lesson = _lessons("reader", 1)[0]
        await repo.add_all([lesson])

        async def point_reads(_: int) -> None:
            for _ in range(20):
                await repo.get("reader", lesson.id)

        async def queries(_: int) -> None:
            for _ in range(20):
                items = container.query_items(
                    "SELECT * FROM c WHERE c.userId = @u AND c.id = @id",
                    parameters=[
                        {"name": "@u", "value": "reader"},
                        {"name": "@id", "value": lesson.id},
                    ],
                    partition_key="reader",
                )
                assert [item async for item in items]

        rows.append(
            row(
                "read one lesson ×20",
                "point read",
                await _median_ms(point_reads),
                "query by id",
                await _median_ms(queries),
            )
        )

        async def fresh_client(_: int) -> None:
            for _ in range(5):
                async with create_cosmos_client(settings) as other:
                    db = other.get_database_client(settings.cosmos_database)
                    await CosmosLessonRepository(db.get_container_client(LESSONS)).get(
                        "reader", lesson.id
                    )

        async def shared_client(_: int) -> None:
            for _ in range(5):
                await repo.get("reader", lesson.id)

        rows.append(
            row(
                "read one lesson ×5",
                "shared client",
                await _median_ms(shared_client),
                "client per request",
                await _median_ms(fresh_client),
            )
        )
    return rows


def main() -> None:
    started = time.perf_counter()
    ports = Ports.free()
    with tempfile.TemporaryDirectory() as logs, Emulators(ports, Path(logs)):
        settings = _settings(ports)
        rows = asyncio.run(run(settings)) + research.run(settings) + chain.run()
        rows += asyncio.run(lesson_cache.run())  # 100 learners, one goal: calls with and without
    print("bench: micro-benchmarks done; now the system benchmark (about 5 minutes)", flush=True)
    with (
        tempfile.TemporaryDirectory() as logs,
        stack.running(Path(logs), system.MODEL_SECONDS) as running,
    ):
        results = system.run(running)
        results["live"] = live.run(running)
    print(f"{'task':32} {'ours':30} {'ms':>9}   {'instead of':30} {'ms':>9}   speed-up")
    for r in rows:
        ours = f"{r['ours']:30} {r['ours_ms']:>9}"
        other = f"{r['other']:30} {r['other_ms']:>9}"
        print(f"{r['task']:32} {ours}   {other}   ×{r['speedup']}")
    RESULTS.mkdir(exist_ok=True)
    made = report.plots(results, results["accept_raw"], RESULTS)
    page = report.write_docs(results, made, results["live"])
    print(report.table(results))
    print(report.live_table(results["live"]))
    results["seconds"] = round(time.perf_counter() - started, 1)
    document = {"micro": rows, "system": results}
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"bench: {RESULTS / 'latest.json'}, plots and {page} written in {results['seconds']} s")


if __name__ == "__main__":
    main()
