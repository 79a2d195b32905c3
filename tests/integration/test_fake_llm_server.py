"""The fake LLM server speaks each provider's real protocol: the real SDKs run against it unchanged.

No emulators needed; a module-scoped server, reset before each test.
"""

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack

import groq
import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from groq.types.chat import ChatCompletionMessageParam

from tests.support.fake_llm import MALFORMED_TEXT, FakeLlmServer, Reply

GROQ_MODEL = "llama-3.3-70b-versatile"
GEMINI_MODEL = "gemini-2.5-flash"
QWEN_MODEL = "qwen-plus"
LESSON = {"title": "Lists", "sections": [{"heading": "Why", "body": "Order matters."}]}
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Answer in JSON."},
    {"role": "user", "content": "Write a lesson about lists."},
]

# With aiohttp installed (azure-cosmos brings it), google-genai's async client sends through an
# aiohttp.ClientSession subclass, which aiohttp flags with a DeprecationWarning on first use.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)


@pytest.fixture(scope="module")
def running_server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer() as server:
        yield server


@pytest.fixture
def server(running_server: FakeLlmServer) -> FakeLlmServer:
    running_server.reset()
    return running_server


def groq_client(server: FakeLlmServer, **options) -> groq.AsyncGroq:
    options.setdefault("max_retries", 0)
    return groq.AsyncGroq(api_key="groq-test-key", base_url=server.root_url, **options)


async def ask_groq(server: FakeLlmServer, **options):
    async with groq_client(server, **options) as client:
        return await client.chat.completions.create(
            model=GROQ_MODEL, messages=MESSAGES, response_format={"type": "json_object"}
        )


@pytest.fixture(params=["aiohttp", "httpx"])
def gemini_transport(request) -> str:
    """google-genai's default async transport here (aiohttp), or an injected httpx.AsyncClient."""
    return str(request.param)


async def ask_gemini(server: FakeLlmServer, transport: str, **options):
    options = {"base_url": server.root_url, "api_version": "v1beta", **options}
    async with AsyncExitStack() as stack:
        if transport == "httpx":
            options["httpx_async_client"] = await stack.enter_async_context(httpx.AsyncClient())
        http_options = types.HttpOptions(**options)
        client = genai.Client(api_key="gemini-test-key", http_options=http_options).aio
        await stack.enter_async_context(client)
        return await client.models.generate_content(
            model=GEMINI_MODEL,
            contents="Write a lesson about lists.",
            config=types.GenerateContentConfig(
                response_mime_type="application/json", system_instruction="Answer in JSON."
            ),
        )


async def post_qwen(server: FakeLlmServer, *, seconds=5.0):
    headers = {"Authorization": "Bearer qwen-test-key"}
    body = {"model": QWEN_MODEL, "messages": MESSAGES, "response_format": {"type": "json_object"}}
    async with httpx.AsyncClient(timeout=seconds) as client:
        return await client.post(
            f"{server.qwen_base_url}/chat/completions", json=body, headers=headers
        )


async def test_groq_sdk_gets_scripted_content_and_usage(server):
    server.script("groq", Reply.ok(LESSON, prompt_tokens=7, completion_tokens=30))

    completion = await ask_groq(server)

    assert json.loads(completion.choices[0].message.content or "") == LESSON
    assert completion.model == GROQ_MODEL
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (7, 30)
    assert completion.usage.total_tokens == 37
    assert completion.x_groq is not None
    assert completion.x_groq.id.startswith("req_")


async def test_groq_request_carries_key_and_json_body(server):
    server.script("groq", Reply.ok("{}"))

    await ask_groq(server)

    [sent] = server.requests("groq")
    assert sent.path == "/openai/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer groq-test-key"
    assert sent.body["model"] == GROQ_MODEL
    assert sent.body["messages"] == MESSAGES
    assert sent.body["response_format"] == {"type": "json_object"}
    assert sent.status == 200


async def test_groq_rate_limit_raises_with_retry_after_headers(server):
    server.script("groq", Reply.rate_limited(3, millis=True))

    with pytest.raises(groq.RateLimitError) as caught:
        await ask_groq(server)

    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.response.headers["retry-after-ms"] == "3000"
    assert caught.value.body == {
        "error": {
            "message": "Rate limit reached; please try again later.",
            "type": "tokens",
            "code": "rate_limit_exceeded",
        }
    }


async def test_groq_rate_limit_without_header_sends_no_retry_after(server):
    server.script("groq", Reply.rate_limited(3, header=False))

    with pytest.raises(groq.RateLimitError) as caught:
        await ask_groq(server)

    assert "retry-after" not in caught.value.response.headers
    assert "retry-after-ms" not in caught.value.response.headers


async def test_groq_sdk_retries_honour_scripted_retry_after_ms(server):
    server.script("groq", Reply.rate_limited(0.01, millis=True), Reply.ok({"retried": True}))

    completion = await ask_groq(server, max_retries=1)

    assert json.loads(completion.choices[0].message.content or "") == {"retried": True}
    assert [r.status for r in server.requests("groq")] == [429, 200]


async def test_groq_server_error_raises_internal_server_error(server):
    server.script("groq", Reply.error(500, "boom"))

    with pytest.raises(groq.InternalServerError) as caught:
        await ask_groq(server)

    assert caught.value.status_code == 500
    assert caught.value.body == {
        "error": {"message": "boom", "type": "server_error", "code": "internal_server_error"}
    }


async def test_groq_times_out_on_a_hang(server):
    server.script("groq", Reply.hang(2))

    with pytest.raises(groq.APITimeoutError):
        await ask_groq(server, timeout=0.5)


async def test_malformed_reply_is_200_with_non_json_text(server):
    server.script("groq", Reply.malformed())

    completion = await ask_groq(server)

    assert completion.choices[0].message.content == MALFORMED_TEXT
    with pytest.raises(json.JSONDecodeError):
        json.loads(MALFORMED_TEXT)


async def test_gemini_sdk_gets_scripted_text_and_usage(server, gemini_transport):
    server.script("gemini", Reply.ok(LESSON, prompt_tokens=5, completion_tokens=40))

    response = await ask_gemini(server, gemini_transport)

    assert response.text == json.dumps(LESSON)
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count == 5
    assert response.usage_metadata.candidates_token_count == 40
    assert response.usage_metadata.total_token_count == 45
    assert response.model_version == GEMINI_MODEL


async def test_gemini_request_carries_key_and_json_body(server, gemini_transport):
    server.script("gemini", Reply.ok("{}"))

    await ask_gemini(server, gemini_transport)

    [sent] = server.requests("gemini")
    assert sent.path == f"/v1beta/models/{GEMINI_MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == "gemini-test-key"
    assert "authorization" not in sent.headers
    assert sent.body["generationConfig"] == {"responseMimeType": "application/json"}
    assert sent.body["systemInstruction"]["parts"] == [{"text": "Answer in JSON."}]
    assert sent.body["contents"] == [
        {"parts": [{"text": "Write a lesson about lists."}], "role": "user"}
    ]


@pytest.mark.parametrize("header", [True, False])
async def test_gemini_rate_limit_raises_client_error_with_retry_info(
    server, gemini_transport, header
):
    server.script("gemini", Reply.rate_limited(2, header=header))

    with pytest.raises(genai_errors.ClientError) as caught:
        await ask_gemini(server, gemini_transport)

    error = caught.value
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
    assert {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "2s",
    } in error.details["error"]["details"]
    assert (error.response.headers.get("retry-after") == "2") is header


@pytest.mark.parametrize(("status", "name"), [(500, "INTERNAL"), (503, "UNAVAILABLE")])
async def test_gemini_server_errors_raise_server_error(server, gemini_transport, status, name):
    server.script("gemini", Reply.error(status, "boom"))

    with pytest.raises(genai_errors.ServerError) as caught:
        await ask_gemini(server, gemini_transport)

    assert (caught.value.code, caught.value.status, caught.value.message) == (status, name, "boom")


async def test_gemini_times_out_on_a_hang(server, gemini_transport):
    server.script("gemini", Reply.hang(2))

    expected = {"aiohttp": TimeoutError, "httpx": httpx.TimeoutException}[gemini_transport]

    with pytest.raises(expected):  # google-genai does not wrap transport errors
        await ask_gemini(server, gemini_transport, timeout=500)  # milliseconds


async def test_qwen_gets_the_openai_shape(server):
    server.script("qwen", Reply.ok(LESSON, prompt_tokens=3, completion_tokens=4))

    response = await post_qwen(server)

    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("chatcmpl-")
    assert (body["object"], body["model"]) == ("chat.completion", QWEN_MODEL)
    assert isinstance(body["created"], int)
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": json.dumps(LESSON)},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ]
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert "x_groq" not in body
    [sent] = server.requests("qwen")
    assert sent.path == "/compatible-mode/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer qwen-test-key"


async def test_qwen_rate_limit_has_openai_error_shape_and_headers(server):
    server.script("qwen", Reply.rate_limited(1.5, millis=True))

    response = await post_qwen(server)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1.5"
    assert response.headers["retry-after-ms"] == "1500"
    assert set(response.json()["error"]) == {"message", "type", "code"}


@pytest.mark.parametrize("provider", ["groq", "qwen", "gemini"])
async def test_missing_key_is_401_in_the_providers_shape(server, provider):
    server.script(provider, Reply.ok("{}"))
    url = {
        "groq": f"{server.root_url}/openai/v1/chat/completions",
        "qwen": f"{server.qwen_base_url}/chat/completions",
        "gemini": f"{server.root_url}/v1beta/models/{GEMINI_MODEL}:generateContent",
    }[provider]

    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.post(url, json={"model": "m", "messages": []})

    assert response.status_code == 401
    error = response.json()["error"]
    if provider == "gemini":
        assert (error["code"], error["status"]) == (401, "UNAUTHENTICATED")
    else:
        assert error["code"] == "invalid_api_key"
    assert [r.status for r in server.requests(provider)] == [401]
    assert server.queued(provider) == 1  # a refused request consumes no scripted reply


async def test_replies_are_served_in_order_then_the_default(server):
    server.script("qwen", Reply.ok("first"), Reply.error(503))
    server.script("qwen", Reply.ok("third"))
    server.default("qwen", Reply.ok("default"))

    responses = [await post_qwen(server) for _ in range(5)]

    assert [r.status_code for r in responses] == [200, 503, 200, 200, 200]
    texts = [
        r.json()["choices"][0]["message"]["content"] for r in responses if r.status_code == 200
    ]
    assert texts == ["first", "third", "default", "default"]
    assert len(server.successes("qwen")) == 4
    assert len(server.requests()) == 5


async def test_unscripted_request_is_a_500(server):
    response = await post_qwen(server)

    assert response.status_code == 500
    assert response.json()["error"]["message"] == "unscripted request"
    assert server.successes() == []


async def until_served(server: FakeLlmServer, provider: str) -> None:
    """Wait until the server (another thread, so no asyncio.Event) has taken every reply."""
    while server.queued(provider):  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def test_a_hang_does_not_block_other_requests(server):
    server.script("qwen", Reply.hang(60))
    server.script("groq", Reply.ok("meanwhile"))
    hanging = asyncio.create_task(post_qwen(server, seconds=120))
    await until_served(server, "qwen")

    completion = await ask_groq(server)

    assert completion.choices[0].message.content == "meanwhile"
    assert not hanging.done()
    hanging.cancel()
    with pytest.raises(asyncio.CancelledError):
        await hanging


async def test_hang_then_answers_the_given_reply(server):
    server.script("groq", Reply.hang(0.01, then=Reply.ok("late")))

    completion = await ask_groq(server)

    assert completion.choices[0].message.content == "late"


async def test_an_answer_begun_before_reset_is_not_recorded_after_it(server):
    server.script("qwen", Reply.hang(0.2, then=Reply.ok("late")))
    late = asyncio.create_task(post_qwen(server))
    await until_served(server, "qwen")

    server.reset()

    assert (await late).status_code == 200
    assert server.requests() == []


async def test_reset_clears_queues_defaults_and_records(server):
    server.script("qwen", Reply.ok("scripted"))
    server.default("qwen", Reply.ok("default"))
    await post_qwen(server)

    server.reset()

    assert server.requests() == []
    assert (await post_qwen(server)).status_code == 500


def test_unknown_provider_is_refused(server):
    with pytest.raises(ValueError, match="openai"):
        server.script("openai", Reply.ok("{}"))


def test_another_process_is_served(server):
    server.script("groq", Reply.ok("from afar"))
    code = (
        "import httpx, sys; r = httpx.post(sys.argv[1] + '/openai/v1/chat/completions',"
        " json={'model': 'm', 'messages': []}, headers={'Authorization': 'Bearer k'});"
        " print(r.json()['choices'][0]['message']['content'])"
    )

    done = subprocess.run(
        [sys.executable, "-c", code, server.root_url], capture_output=True, text=True, timeout=60
    )

    assert done.stdout.strip() == "from afar"
    assert server.successes("groq")[0].headers["authorization"] == "Bearer k"
