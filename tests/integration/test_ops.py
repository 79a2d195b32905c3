"""``python -m ops`` against the real emulators: each command run in-process through ``main``.

Each test has its own queue pair (``--queue``) and its own learner, so counts are its own; the
lessons container is shared, so cross-learner listings are checked for this test's lessons.
"""

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from azure.storage.queue.aio import QueueClient

from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.queue import create_queue_client
from domain.base import utcnow
from domain.content import LessonContent
from domain.lesson import GenerationStatus, Lesson, ProviderAttempt
from domain.lesson_requests import message_for
from ops.cli import main
from ops.context import poison_name
from tests.conftest import Stack
from tests.support.samples import lesson_json, skeleton_lessons

Repos = tuple[CosmosLessonRepository, CosmosRoadmapRepository]
S = GenerationStatus


@pytest.fixture
async def queues(stack: Stack) -> AsyncIterator[tuple[str, QueueClient, QueueClient]]:
    """A generation queue and its poison queue of this test's own, deleted afterwards."""
    name = f"ops-{uuid.uuid4().hex[:12]}"
    main_q = create_queue_client(stack.settings, name)
    poison_q = create_queue_client(stack.settings, poison_name(name))
    async with main_q, poison_q:
        await main_q.create_queue()
        await poison_q.create_queue()
        yield name, main_q, poison_q
        await main_q.delete_queue()
        await poison_q.delete_queue()


async def _ops(
    stack: Stack, queue: str, *argv: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run ``python -m ops --queue QUEUE ARGV…``; its exit code, stdout and stderr.

    ``main`` runs its own event loop (``asyncio.run``), so it runs on a thread of its own here.
    """
    code = await asyncio.to_thread(main, ["--queue", queue, *argv], environ=stack.env)
    out, err = capsys.readouterr()
    return code, out, err


async def _lessons(repos: Repos, user_id: str, count: int) -> list[Lesson]:
    lessons = skeleton_lessons(user_id, count)
    await repos[0].add_all(lessons)
    return lessons


async def _failed(repo: CosmosLessonRepository, lesson: Lesson) -> Lesson:
    lesson.queue()
    lesson.start("worker-1", utcnow() + timedelta(minutes=3))
    attempts = [ProviderAttempt(provider="groq", outcome="unavailable", ms=120)]
    lesson.fail("No provider could write this lesson.", attempts)
    await repo.save(lesson)
    return lesson


async def _completed(repo: CosmosLessonRepository, lesson: Lesson) -> Lesson:
    lesson.queue()
    lesson.start("worker-1", utcnow() + timedelta(minutes=3))
    content = LessonContent.model_validate(lesson_json())
    lesson.complete(content, provider="offline", model="templates", usage=None)
    await repo.save(lesson)
    return lesson


async def _count(queue: QueueClient) -> int:
    return len(await queue.peek_messages(max_messages=32))


async def test_lesson_show_prints_status_trail_and_errors(
    stack, repositories, user_id, queues, capsys
):
    lesson = await _failed(repositories[0], (await _lessons(repositories, user_id, 1))[0])
    code, out, _ = await _ops(
        stack, queues[0], "lesson", "show", lesson.id, "--user", user_id, capsys=capsys
    )
    assert code == 0
    assert "failed" in out
    assert "No provider could write this lesson." in out
    assert "groq" in out
    assert "unavailable" in out
    assert re.search(r"^deliveries +1$", out, re.MULTILINE)
    code, out, _ = await _ops(
        stack, queues[0], "--json", "lesson", "show", lesson.id, "--user", user_id, capsys=capsys
    )
    data = json.loads(out)
    assert code == 0
    assert data["generationStatus"] == "failed"
    assert data["attempts"] == [{"provider": "groq", "outcome": "unavailable", "ms": 120}]
    assert data["deliveries"] == 1
    assert data["hasContent"] is False


async def test_unknown_lesson_is_not_found_with_exit_1(stack, user_id, queues, capsys):
    code, out, _ = await _ops(
        stack, queues[0], "lesson", "show", "no-such-lesson", "--user", user_id, capsys=capsys
    )
    assert code == 1
    assert "not found" in out


async def test_failed_lessons_are_listed_since_a_time(stack, repositories, user_id, queues, capsys):
    first, second = await _lessons(repositories, user_id, 2)
    await _failed(repositories[0], first)
    code, out, _ = await _ops(
        stack, queues[0], "--json", "lessons", "failed", "--since", "1h", capsys=capsys
    )
    ids = {row["id"] for row in json.loads(out)}
    assert code == 0
    assert first.id in ids
    assert second.id not in ids
    future = (utcnow() + timedelta(hours=1)).isoformat()
    code, out, _ = await _ops(
        stack, queues[0], "--json", "lessons", "failed", "--since", future, capsys=capsys
    )
    assert first.id not in {row["id"] for row in json.loads(out)}
    code, out, _ = await _ops(stack, queues[0], "lessons", "failed", capsys=capsys)
    assert code == 0
    assert first.id in out
    assert "generationError" in out.splitlines()[0]


async def test_queue_depth_counts_both_queues(stack, repositories, user_id, queues, capsys):
    name, main_q, poison_q = queues
    lesson = (await _lessons(repositories, user_id, 1))[0]
    for _ in range(2):
        await main_q.send_message(message_for(lesson).model_dump_json())
    await poison_q.send_message(message_for(lesson).model_dump_json())
    code, out, _ = await _ops(stack, name, "--json", "queue", "depth", capsys=capsys)
    assert code == 0
    assert json.loads(out) == {name: 2, poison_name(name): 1}
    code, out, _ = await _ops(stack, name, "queue", "depth", capsys=capsys)
    assert name in out
    assert poison_name(name) in out


async def test_poison_list_peeks_without_removing(stack, repositories, user_id, queues, capsys):
    name, _, poison_q = queues
    lesson = (await _lessons(repositories, user_id, 1))[0]
    await poison_q.send_message(message_for(lesson).model_dump_json())
    await poison_q.send_message("not json at all")
    code, out, _ = await _ops(stack, name, "--json", "poison", "list", capsys=capsys)
    rows = json.loads(out)
    assert code == 0
    assert [row["lessonId"] for row in rows] == [lesson.id, None]
    assert rows[0]["userId"] == user_id
    assert rows[0]["readable"]
    assert not rows[1]["readable"]
    assert await _count(poison_q) == 2
    code, out, _ = await _ops(stack, name, "poison", "list", capsys=capsys)
    assert lesson.id in out
    assert "dequeueCount" in out


async def test_replaying_a_poisoned_message_twice_queues_the_lesson_once(
    stack, repositories, user_id, queues, capsys
):
    name, main_q, poison_q = queues
    lesson = await _failed(repositories[0], (await _lessons(repositories, user_id, 1))[0])
    poisoned = message_for(lesson).model_dump_json()
    await poison_q.send_message(poisoned)
    code, out, _ = await _ops(stack, name, "--json", "poison", "replay", "--all", capsys=capsys)
    assert code == 0
    assert [(r["lessonId"], r["outcome"]) for r in json.loads(out)] == [(lesson.id, "queued")]
    queued = await repositories[0].get(user_id, lesson.id)
    await poison_q.send_message(poisoned)  # the same message poisoned again
    code, out, _ = await _ops(stack, name, "--json", "poison", "replay", lesson.id, capsys=capsys)
    assert code == 0
    assert [(r["lessonId"], r["outcome"]) for r in json.loads(out)] == [(lesson.id, "left")]
    after = await repositories[0].get(user_id, lesson.id)
    assert after.status is S.QUEUED
    assert after.version == queued.version  # the second replay wrote nothing
    assert await _count(main_q) == 1
    assert await _count(poison_q) == 0


async def test_replay_of_one_lesson_keeps_other_messages(
    stack, repositories, user_id, queues, capsys
):
    name, main_q, poison_q = queues
    mine, other = await _lessons(repositories, user_id, 2)
    for lesson in (await _failed(repositories[0], mine), await _failed(repositories[0], other)):
        await poison_q.send_message(message_for(lesson).model_dump_json())
    code, out, _ = await _ops(stack, name, "poison", "replay", mine.id, capsys=capsys)
    assert code == 0
    assert "1 replayed and deleted" in out
    left = await poison_q.peek_messages(max_messages=32)
    assert [json.loads(m.content)["lessonId"] for m in left] == [other.id]
    assert (await repositories[0].get(user_id, other.id)).status is S.FAILED
    assert await _count(main_q) == 1


async def test_requeue_of_a_failed_lesson_queues_it(stack, repositories, user_id, queues, capsys):
    name, main_q, _ = queues
    lesson = await _failed(repositories[0], (await _lessons(repositories, user_id, 1))[0])
    code, out, _ = await _ops(stack, name, "requeue", lesson.id, "--user", user_id, capsys=capsys)
    assert code == 0
    assert out.startswith("queued")
    assert (await repositories[0].get(user_id, lesson.id)).status is S.QUEUED
    code, out, _ = await _ops(stack, name, "requeue", lesson.id, "--user", user_id, capsys=capsys)
    assert code == 1
    assert "left" in out
    messages = await main_q.peek_messages(max_messages=32)
    assert [json.loads(m.content)["lessonId"] for m in messages] == [lesson.id]


async def test_requeue_of_a_completed_lesson_is_refused(
    stack, repositories, user_id, queues, capsys
):
    name, main_q, _ = queues
    lesson = await _completed(repositories[0], (await _lessons(repositories, user_id, 1))[0])
    code, out, _ = await _ops(
        stack, name, "--json", "requeue", lesson.id, "--user", user_id, capsys=capsys
    )
    assert code == 1
    assert json.loads(out)["outcome"] == "refused"
    assert "completed" in json.loads(out)["reason"]
    assert (await repositories[0].get(user_id, lesson.id)).status is S.COMPLETED
    assert await _count(main_q) == 0


async def test_requeue_repairs_a_lesson_generating_past_its_lease(
    stack, repositories, user_id, queues, capsys
):
    name, main_q, _ = queues
    lesson = (await _lessons(repositories, user_id, 1))[0]
    lesson.queue()
    lesson.start("dead-worker", utcnow() - timedelta(seconds=1))
    await repositories[0].save(lesson)
    code, out, _ = await _ops(stack, name, "requeue", lesson.id, "--user", user_id, capsys=capsys)
    assert code == 0
    assert out.startswith("repaired")
    after = await repositories[0].get(user_id, lesson.id)
    assert after.status is S.QUEUED
    assert after.requeues == 1
    assert after.lease is None
    assert await _count(main_q) == 1


async def test_stats_count_lessons_by_status_and_provider(
    stack, repositories, user_id, queues, capsys
):
    before = await _ops(stack, queues[0], "--json", "stats", "--since", "10m", capsys=capsys)
    lessons = await _lessons(repositories, user_id, 3)
    await _completed(repositories[0], lessons[0])
    await _failed(repositories[0], lessons[1])
    code, out, _ = await _ops(stack, queues[0], "--json", "stats", "--since", "10m", capsys=capsys)
    counts, earlier = json.loads(out), json.loads(before[1])

    def grew(kind: str, key: str) -> int:
        return int(counts[kind].get(key, 0)) - int(earlier[kind].get(key, 0))

    assert code == 0
    assert (grew("byStatus", "completed"), grew("byStatus", "failed")) == (1, 1)
    assert grew("byStatus", "pending") == 1
    assert grew("byProvider", "offline") == 1
    code, out, _ = await _ops(stack, queues[0], "stats", capsys=capsys)
    assert code == 0
    assert "status" in out
    assert "provider" in out
    assert "offline" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["lessons", "failed", "--since", "yesterday"],
        ["stats", "--since", "12x"],
        ["poison", "replay"],
        ["poison", "replay", "--all", "some-id"],
        ["lesson", "show", "some-id"],
        ["requeue"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_exit_2_with_a_message(stack, argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv, environ=stack.env)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_missing_settings_exit_2_naming_them(capsys):
    assert main(["queue", "depth"], environ={}) == 2
    assert "COSMOS_ENDPOINT" in capsys.readouterr().err


async def test_replay_leaves_a_lesson_being_written_under_a_live_lease(
    stack, repositories, user_id, queues, capsys
):
    name, main_q, poison_q = queues
    lesson = (await _lessons(repositories, user_id, 1))[0]
    lesson.queue()
    lesson.start("live-worker", utcnow() + timedelta(minutes=3))
    await repositories[0].save(lesson)
    await poison_q.send_message(message_for(lesson).model_dump_json())
    code, out, _ = await _ops(stack, name, "--json", "poison", "replay", "--all", capsys=capsys)
    assert code == 0
    assert [(r["outcome"], r["deleted"]) for r in json.loads(out)] == [("left", True)]
    after = await repositories[0].get(user_id, lesson.id)
    assert after.status is S.GENERATING
    assert after.version == lesson.version
    assert await _count(main_q) == 0


async def test_replay_keeps_an_unreadable_message_and_exits_1(stack, queues, capsys):
    name, main_q, poison_q = queues
    await poison_q.send_message("not a generation message")
    code, out, _ = await _ops(stack, name, "poison", "replay", "--all", capsys=capsys)
    assert code == 1
    assert "0 replayed and deleted, 1 kept" in out
    assert await _count(poison_q) == 1
    assert await _count(main_q) == 0
