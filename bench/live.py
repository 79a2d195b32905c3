"""Live lessons on the running stack: how soon a learner reads the first section.

One host (HTTP and worker) publishing to the local Web PubSub service; Groq's fake answers after
``FIRST_BYTE`` seconds (its time to first token) and streams the lesson at a Groq-like pace of
about 250 tokens a second (``PIECES`` pieces of about four characters over ``STREAM_SECONDS``).
For each sample a subscribed page asks for a lesson (the click) and notes when its first
``lesson.section`` arrives:

- after the provider's first byte (the fake notes when it sent it): target ≤ 500 ms. Of that,
  the model writing the first section takes a known share (the section's end in the text, at the
  fake's pace); the rest is this system's delay, reported beside it;
- after the click: target ≤ 2 s plus the provider's time to first token (``FIRST_BYTE``).

Cosmos DB writes per lesson are counted for the same lessons written with and without a push
channel (the same provider, the same run): showing sections must add none.
"""

import asyncio
import json
import time
from typing import Any

import httpx

from bench.stack import Process, Stack, _wait
from bench.system import _wait_completed
from devhost.emulators import free_port, port_open
from tests.support.fake_llm import Reply
from tests.support.fake_webpubsub import FakeWebPubSub, Subscriber
from tests.support.samples import lesson_json

LESSON = json.dumps(lesson_json())
PIECES = len(LESSON) // 4
STREAM_SECONDS = PIECES / 250
FIRST_BYTE = 1.0
SAMPLES = 8
_WRITES = ("create", "replace", "upsert", "patch")


def _first_section_written_ms() -> float:
    """When the fake has sent the first section's last character, after its first byte."""
    data = lesson_json()
    head = {key: data[key] for key in list(data)[: list(data).index("sections")]}
    end = len(json.dumps({**head, "sections": data["sections"][:1]})) - len("]}")
    return end / len(LESSON) * STREAM_SECONDS * 1000


def _host(stack: Stack, **overrides: str) -> Process:
    """HTTP and a worker in one process, as a Functions app runs both."""
    port = free_port()
    host = stack.spawn("--port", str(port), "--no-timers", **overrides)
    host.base_url = f"http://127.0.0.1:{port}"
    _wait(host, lambda: port_open(port) and b"Research sources:" in host.log.read_bytes())
    return host


async def _lessons(http: httpx.AsyncClient, count: int, user: str) -> list[str]:
    """Lessons of ``user``'s own (titles of their own: none is reused from the lesson cache)."""
    lessons = [{"title": f"{user} {n}", "objectives": [f"Objective {n}"]} for n in range(count)]
    body = {
        "goal": "Learn Python list comprehensions",
        "skillLevel": "beginner",
        "modules": [{"title": "Live", "lessons": lessons}],
        "prefetch": 0,
    }
    response = await http.post("/api/roadmaps", json=body)
    assert response.status_code == 201, response.text
    return [lesson["id"] for lesson in response.json()["modules"][0]["lessons"]]


def _is(kind: str, lesson_id: str) -> Any:
    return lambda data: data.get("lessonId") == lesson_id and data.get("type") == kind


async def _sample(stack: Stack, http: httpx.AsyncClient, lesson_id: str) -> dict[str, float]:
    negotiated = await http.post("/api/notifications/negotiate")
    async with Subscriber(negotiated.json()["url"]) as page:
        before = len(stack.llm.requests("groq"))
        clicked = time.monotonic()
        response = await http.post(f"/api/lessons/{lesson_id}/generate")
        assert response.status_code == 202, response.text
        await page.until(_is("lesson.section", lesson_id), within=60)
        shown = time.monotonic()
        await page.until(_is("lesson.completed", lesson_id), within=60)
    answered = stack.llm.requests("groq")[before].answered_at
    after_first_byte = (shown - answered) * 1000
    return {
        "after_first_byte_ms": after_first_byte,
        "delay_ms": after_first_byte - _first_section_written_ms(),
        "after_click_ms": (shown - clicked) * 1000,
    }


async def _writes_per_lesson(stack: Stack, http: httpx.AsyncClient, lessons: list[str]) -> float:
    """Cosmos DB writes of the lesson documents from request to completed, per lesson."""
    stack.cosmos_stats(reset=True)
    for lesson_id in lessons:
        response = await http.post(f"/api/lessons/{lesson_id}/generate")
        assert response.status_code == 202, response.text
    await asyncio.sleep(FIRST_BYTE + STREAM_SECONDS + 3.0)
    stats = stack.cosmos_stats()
    for lesson_id in lessons:
        await _wait_completed(http, lesson_id)
    writes = sum(
        v["count"] for k, v in stats.items() if k.startswith("lessons.") and k.endswith(_WRITES)
    )
    return round(writes / len(lessons), 2)


async def _measure(stack: Stack, base_url: str, user: str, live: bool) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {stack.token(user)}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        lessons = await _lessons(http, SAMPLES + 4, user)
        samples = (
            [await _sample(stack, http, lesson) for lesson in lessons[:SAMPLES]] if live else []
        )
        writes = await _writes_per_lesson(stack, http, lessons[-4:])
    return {"samples": samples, "writes_per_lesson": writes}


def run(stack: Stack) -> dict[str, Any]:
    """The figures of docs/performance.md's live-lessons table (``bench/report.py``)."""
    streamed = Reply.ok(LESSON, stream_seconds=STREAM_SECONDS, pieces=PIECES, first_byte=FIRST_BYTE)
    stack.llm.default("groq", streamed)
    with FakeWebPubSub() as service:
        host = _host(stack, WEBPUBSUB_CONNECTION_STRING=service.connection_string)
        try:
            live = asyncio.run(_measure(stack, host.base_url, "bench-live", live=True))
        finally:
            host.stop()
    quiet_host = _host(stack)
    try:
        quiet = asyncio.run(_measure(stack, quiet_host.base_url, "bench-quiet", live=False))
    finally:
        quiet_host.stop()
    results = {
        "stream_seconds": STREAM_SECONDS,
        "first_byte_seconds": FIRST_BYTE,
        "first_section_written_ms": round(_first_section_written_ms(), 1),
        "samples": live["samples"],
        "writes_per_lesson": {
            "live": live["writes_per_lesson"],
            "polling": quiet["writes_per_lesson"],
        },
    }
    print(f"bench: live lessons {json.dumps(results)}", flush=True)
    return results
