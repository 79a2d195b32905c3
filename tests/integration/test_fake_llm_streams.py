"""The fake LLM server streams as each provider does: the real SDKs read its streams unchanged."""

import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import groq
import httpx
import pytest
from google import genai
from google.genai import types

from tests.support.fake_llm import FakeLlmServer, Reply

TEXT = json.dumps({"title": "Lists", "sections": [{"heading": "Why", "body": "Order matters."}]})
MESSAGES: list[Any] = [{"role": "user", "content": "Write a lesson about lists in JSON."}]

# With aiohttp installed, google-genai's default async transport is an aiohttp.ClientSession
# subclass, which aiohttp flags with a DeprecationWarning on first use.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)


@pytest.fixture
def server(llm: FakeLlmServer) -> FakeLlmServer:
    llm.reset()
    return llm


async def groq_chunks(server: FakeLlmServer, **options: Any) -> list[Any]:
    async with groq.AsyncGroq(api_key="k", base_url=server.root_url, max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="llama-3.3-70b-versatile", messages=MESSAGES, stream=True, **options
        )
        return [chunk async for chunk in stream]


async def qwen_events(server: FakeLlmServer, **body: Any) -> AsyncIterator[tuple[float, str]]:
    """Each ``data`` line of a streamed Qwen answer, and when it came (``time.monotonic``)."""
    request = {"model": "qwen-plus", "messages": MESSAGES, "stream": True, **body}
    headers = {"Authorization": "Bearer k"}
    url = f"{server.qwen_base_url}/chat/completions"
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream("POST", url, json=request, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line:
                yield time.monotonic(), line.removeprefix("data: ")


def content_of(events: list[str]) -> str:
    chunks = [json.loads(e) for e in events if e != "[DONE]"]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


async def test_groq_streams_chunks_with_the_usage_in_x_groq(server):
    server.script("groq", Reply.ok(TEXT, prompt_tokens=7, completion_tokens=30, pieces=4))

    chunks = await groq_chunks(server)

    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == TEXT
    assert len(chunks) == 1 + 4 + 1
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.x_groq is not None
    assert last.x_groq.usage is not None
    assert (last.x_groq.usage.prompt_tokens, last.x_groq.usage.completion_tokens) == (7, 30)
    assert all(c.usage is None for c in chunks)
    [request] = server.requests("groq")
    assert request.streamed


async def test_asking_for_usage_adds_a_last_chunk_without_choices(server):
    server.script("groq", Reply.ok(TEXT, prompt_tokens=7, completion_tokens=30))

    chunks = await groq_chunks(server, extra_body={"stream_options": {"include_usage": True}})

    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 37


@pytest.mark.parametrize("include_usage", [True, False])
async def test_qwen_streams_server_sent_events_ending_in_done(server, include_usage: bool):
    server.script("qwen", Reply.ok(TEXT, prompt_tokens=3, completion_tokens=4))

    options = {"stream_options": {"include_usage": include_usage}}
    events = [event async for _, event in qwen_events(server, **options)]

    assert events[-1] == "[DONE]"
    assert content_of(events) == TEXT
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert all("x_groq" not in c for c in chunks)
    usage = [c["usage"] for c in chunks if c.get("usage")]
    assert usage == (
        [{"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}] * include_usage
    )


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_gemini_sdk_reads_the_stream(server, transport: str):
    server.script("gemini", Reply.ok(TEXT, prompt_tokens=5, completion_tokens=40, pieces=3))
    options: dict[str, Any] = {"base_url": server.root_url, "api_version": "v1beta"}

    async with AsyncExitStack() as stack:
        if transport == "httpx":
            options["httpx_async_client"] = await stack.enter_async_context(httpx.AsyncClient())
        client = genai.Client(api_key="k", http_options=types.HttpOptions(**options)).aio
        await stack.enter_async_context(client)
        stream = await client.models.generate_content_stream(
            model="gemini-2.5-flash",
            contents="Write a lesson about lists.",
            config=types.GenerateContentConfig(response_mime_type="application/json"),
        )
        chunks = [chunk async for chunk in stream]

    assert len(chunks) == 3
    assert "".join(c.text or "" for c in chunks) == TEXT
    last = chunks[-1]
    assert last.candidates
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert (last.usage_metadata.prompt_token_count, last.usage_metadata.candidates_token_count) == (
        5,
        40,
    )
    assert last.model_version == "gemini-2.5-flash"
    [request] = server.requests("gemini")
    assert request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert request.streamed


async def test_pieces_are_spread_over_the_scripted_time(server):
    server.script("qwen", Reply.ok(TEXT, stream_seconds=0.6, pieces=6))

    timed = [(at, event) async for at, event in qwen_events(server)]

    content = [at for at, event in timed if event != "[DONE]" and '"content": "' in event][1:]
    assert len(content) == 6
    assert content[-1] - content[0] >= 0.3  # five pauses of 0.1 s lie between them


async def test_a_cut_stream_drops_the_connection_after_the_given_characters(server):
    server.script("qwen", Reply.ok(TEXT, pieces=6, cut_after=25))
    events: list[str] = []

    async def read() -> None:
        async for _, event in qwen_events(server):
            events.append(event)

    with pytest.raises(httpx.RemoteProtocolError):
        await read()

    assert content_of(events) == TEXT[:25]
    assert "[DONE]" not in events
    assert all(json.loads(e)["choices"][0]["finish_reason"] is None for e in events)


async def test_first_byte_delays_any_answer(server):
    server.script("groq", Reply.ok(TEXT, first_byte=2))

    with pytest.raises(groq.APITimeoutError):
        await groq_chunks(server, timeout=0.3)


async def test_an_error_is_answered_before_any_stream(server):
    server.script("qwen", Reply.rate_limited(3))
    request = {"model": "qwen-plus", "messages": MESSAGES, "stream": True}

    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.post(
            f"{server.qwen_base_url}/chat/completions",
            json=request,
            headers={"Authorization": "Bearer k"},
        )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    [recorded] = server.requests("qwen")
    assert (recorded.status, recorded.streamed) == (429, True)
