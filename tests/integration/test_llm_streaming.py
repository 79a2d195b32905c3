"""Each provider streams its answer through its real client (the Groq and google-genai SDKs, httpx
for Qwen) against the fake LLM server: pieces arrive in order while the answer is still being
written, and every way a stream fails is the domain's provider error."""

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from adapters.llm.gemini import GeminiProvider
from adapters.llm.groq import GroqProvider
from adapters.llm.openai_compatible import OpenAICompatibleProvider
from domain.content import LessonContent
from domain.errors import (
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.ports import Draft, LessonBrief, LlmProvider, LlmTask, TaskKind
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.samples import lesson_json

PROVIDERS = ["groq", "gemini", "qwen"]
MODELS = {"groq": "llama-3.3-70b-versatile", "gemini": "gemini-2.5-flash", "qwen": "qwen-plus"}
KEY = "test-key-SECRET-0001"
TASK = LlmTask(
    TaskKind.LESSON,
    LessonBrief(
        goal="Learn Python for data analysis",
        skill_level="beginner",
        module_title="Python basics",
        title="Lists and comprehensions",
        description="Building lists",
        objectives=("Write a list comprehension", "Filter items with if"),
        estimated_minutes=35,
    ),
    LessonContent,
)
LESSON = json.dumps(lesson_json())

pytestmark = pytest.mark.parametrize("name", PROVIDERS)


@dataclass
class Sink:
    """Records each piece of text it is given, and when (``time.monotonic``)."""

    pieces: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    async def __call__(self, text: str) -> None:
        self.pieces.append(text)
        self.times.append(time.monotonic())

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@pytest.fixture
def server(llm: FakeLlmServer) -> FakeLlmServer:
    llm.reset()
    return llm


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, connect=5)) as client:
        yield client


@pytest.fixture
def provider(name: str, server: FakeLlmServer, http: httpx.AsyncClient) -> LlmProvider:
    if name == "groq":
        return GroqProvider(KEY, MODELS[name], http=http, base_url=server.root_url)
    if name == "gemini":
        return GeminiProvider(KEY, MODELS[name], http=http, base_url=server.root_url)
    return OpenAICompatibleProvider(
        name, KEY, MODELS[name], base_url=server.qwen_base_url, http=http
    )


async def _streamed(provider: LlmProvider, sink: Sink, time_limit: float = 10) -> Draft:
    return await provider.generate(TASK, time_limit=time_limit, on_text=sink)


async def test_pieces_arrive_in_order_while_the_answer_is_written(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    scripted = Reply.ok(
        LESSON, prompt_tokens=120, completion_tokens=480, stream_seconds=1, pieces=10
    )
    server.script(name, scripted)
    sink = Sink()

    draft = await _streamed(provider, sink)
    returned = time.monotonic()

    assert len(sink.pieces) >= 2
    assert sink.text == draft.payload == LESSON
    # The server spends about a second between its first piece and its last: the first piece was
    # here long before the answer was complete.
    assert returned - sink.times[0] >= 0.5 * scripted.stream_seconds
    assert (draft.provider, draft.model) == (name, MODELS[name])
    assert draft.usage is not None
    assert (draft.usage.prompt_tokens, draft.usage.completion_tokens) == (120, 480)
    [request] = server.requests(name)
    assert request.streamed
    if name == "gemini":
        assert request.path == f"/v1beta/models/{MODELS[name]}:streamGenerateContent"
        assert request.body["generationConfig"]["responseMimeType"] == "application/json"
        assert "responseSchema" in request.body["generationConfig"]
    else:
        assert request.body["stream"] is True
        assert request.body["response_format"] == {"type": "json_object"}
    if name == "qwen":
        assert request.body["stream_options"] == {"include_usage": True}


async def test_without_a_sink_the_answer_is_not_streamed(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    server.script(name, Reply.ok(LESSON, stream_seconds=1, pieces=10))

    draft = await provider.generate(TASK, time_limit=10)

    assert draft.payload == LESSON
    [request] = server.requests(name)
    assert not request.streamed


async def test_a_rate_limit_before_the_stream_keeps_its_retry_after(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    server.script(name, Reply.rate_limited(7))
    sink = Sink()

    with pytest.raises(ProviderRateLimited) as caught:
        await _streamed(provider, sink)

    assert caught.value.retry_after == 7.0
    assert sink.pieces == []


async def test_a_server_error_before_the_stream_is_unavailable(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    server.script(name, Reply.error(503))

    with pytest.raises(ProviderUnavailable) as caught:
        await _streamed(provider, Sink())

    assert type(caught.value) is ProviderUnavailable
    assert str(caught.value) == f"{name} answered HTTP 503"


async def test_a_rejected_key_is_an_auth_rejection(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    server.script(name, Reply.error(401, "Invalid API Key"))

    with pytest.raises(ProviderRejected) as caught:
        await _streamed(provider, Sink())

    assert (caught.value.status, caught.value.auth) == (401, True)
    assert KEY not in str(caught.value)


async def test_a_stream_cut_mid_way_is_unavailable(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    server.script(name, Reply.ok(LESSON, pieces=10, cut_after=len(LESSON) // 2))
    sink = Sink()

    with pytest.raises(ProviderUnavailable) as caught:
        await _streamed(provider, sink)

    assert type(caught.value) is ProviderUnavailable
    assert LESSON.startswith(sink.text)
    assert len(sink.text) <= len(LESSON) // 2


async def test_a_stream_that_trickles_past_the_time_limit_times_out(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    # A piece every 0.25 s: no single read waits the whole second, but the stream takes three.
    server.script(name, Reply.ok(LESSON, stream_seconds=3, pieces=12))
    sink = Sink()

    with pytest.raises(ProviderTimeout):
        await _streamed(provider, sink, time_limit=1)

    assert len(sink.pieces) < 12


async def test_a_stream_that_never_starts_times_out(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    server.script(name, Reply.ok(LESSON, first_byte=5))

    with pytest.raises(ProviderTimeout):
        await _streamed(provider, Sink(), time_limit=0.5)


async def test_a_failing_sink_is_not_blamed_on_the_provider(
    server: FakeLlmServer, provider: LlmProvider, name: str
) -> None:
    server.script(name, Reply.ok(LESSON))

    async def broken(text: str) -> None:
        raise ValueError("the sink's own failure")

    with pytest.raises(ValueError, match="the sink's own failure"):
        await provider.generate(TASK, time_limit=10, on_text=broken)
