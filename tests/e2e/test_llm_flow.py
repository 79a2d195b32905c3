"""The running host with language-model providers configured (served by the local fake)."""

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import Stack
from tests.e2e.conftest import Host, Learner, start_host
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.samples import lesson_json, outline_json


@pytest.fixture(scope="module")
def llm_host(own_stack: Stack, llm: FakeLlmServer) -> Iterator[Host]:
    host = start_host(
        own_stack,
        LLM_PROVIDERS="groq,gemini,offline",
        GROQ_API_KEY="gsk_e2e_SECRET",
        GROQ_BASE_URL=llm.root_url,
        GEMINI_API_KEY="gemini_e2e_SECRET",
        GEMINI_BASE_URL=llm.root_url,
        LLM_LESSON_BUDGET_SECONDS="10",
    )
    yield host
    host.stop()


@pytest.fixture
def ada(llm_host: Host, own_stack: Stack, llm: FakeLlmServer) -> Iterator[Learner]:
    llm.reset()
    user_id = f"ada-{uuid.uuid4().hex[:8]}"
    verifier = own_stack.verifier()
    learner = Learner(llm_host, verifier.issue(user_id), user_id)
    yield learner
    learner.http.close()


def test_roadmap_is_planned_and_lessons_written_by_the_first_healthy_provider(
    ada: Learner, llm: FakeLlmServer
) -> None:
    llm.script("groq", Reply.ok(outline_json()), Reply.rate_limited(600))
    llm.script("gemini", Reply.ok(lesson_json()), Reply.ok(lesson_json()))

    created = ada.create_roadmap(goal="Learn Python", skillLevel="beginner", prefetch=0)
    assert created.status_code == 201, created.text
    roadmap = created.json()
    assert roadmap["plannedBy"] == "groq"
    first, second = roadmap["modules"][0]["lessons"]
    assert first["title"] == "Lists and comprehensions"

    assert ada.http.post(f"/api/lessons/{first['id']}/generate").status_code == 202
    lesson = ada.wait_for_lesson(first["id"])
    assert ada.http.post(f"/api/lessons/{second['id']}/generate").status_code == 202
    later = ada.wait_for_lesson(second["id"])

    assert lesson["generationStatus"] == "completed"
    assert lesson["provider"] == "gemini"
    assert lesson["content"]["keyTakeaways"] == lesson_json()["keyTakeaways"]
    assert [(a["provider"], a["outcome"]) for a in lesson["attempts"]] == [
        ("groq", "rate_limited"),
        ("gemini", "ok"),
    ]
    assert lesson["usage"] == {"promptTokens": 11, "completionTokens": 22}
    # The 429 put groq to rest for the whole worker: the next lesson does not call it at all.
    assert [(a["provider"], a["outcome"]) for a in later["attempts"]] == [
        ("groq", "cooling_down"),
        ("gemini", "ok"),
    ]
    assert len(llm.requests("groq")) == 2  # the outline, then one lesson attempt
    # One successful model call per result: one outline and two lessons.
    assert len(llm.successes()) == 3
