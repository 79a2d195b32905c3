"""A local HTTP server that imitates three LLM providers, so the real SDKs run against it unchanged.

Routes, each imitating one real API:

- ``POST /openai/v1/chat/completions``: Groq's OpenAI-compatible chat completions
  (``groq.AsyncGroq(base_url=root_url)`` appends this path). Key: ``Authorization: Bearer``.
- ``POST /{version}/models/{model}:generateContent``: Gemini's ``generateContent``
  (google-genai with ``HttpOptions(base_url=root_url, api_version="v1beta")``). Key:
  ``x-goog-api-key``. google-genai sends through aiohttp (when installed) or its own httpx fork,
  so only a real server sees its requests.
- ``POST /compatible-mode/v1/chat/completions``: Alibaba DashScope's OpenAI-compatible mode (Qwen),
  or any OpenAI-compatible host. Key: ``Authorization: Bearer``.

Streamed answers (``tests.support.fake_llm_stream`` holds their wire formats): the two chat routes
answer a ``"stream": true`` request with server-sent ``chat.completion.chunk`` events, and
``POST /{version}/models/{model}:streamGenerateContent`` (``?alt=sse``) is Gemini's stream. A
scripted ``Reply.ok`` is streamed to such a request, paced as it says; an error is answered before
any stream, with its status, as the real hosts do.

Tests script what each provider answers (``Reply``) and read back what was sent
(``RecordedRequest``). Everything goes over real HTTP, so a subprocess pointed at ``root_url``
(the devhost) is served too.
"""

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.fake_llm_stream import Script, respond

PROVIDERS = ("groq", "gemini", "qwen")
PATHS = {  # the route that imitates each provider's API (see the module docstring)
    "groq": "/openai/v1/chat/completions",
    "gemini": "/{version}/models/{model}:generateContent",
    "qwen": "/compatible-mode/v1/chat/completions",
}
GEMINI_STREAM_PATH = "/{version}/models/{model}:streamGenerateContent"
MALFORMED_TEXT = "Sure! Here is your lesson: {oops"

# Per HTTP status: Gemini's google.rpc status, and the OpenAI-style error (type, code) Groq sends.
_ERRORS = {
    400: ("INVALID_ARGUMENT", "invalid_request_error", "invalid_request"),
    401: ("UNAUTHENTICATED", "invalid_request_error", "invalid_api_key"),
    403: ("PERMISSION_DENIED", "permission_error", "permission_denied"),
    404: ("NOT_FOUND", "invalid_request_error", "model_not_found"),
    429: ("RESOURCE_EXHAUSTED", "tokens", "rate_limit_exceeded"),
    500: ("INTERNAL", "server_error", "internal_server_error"),
    503: ("UNAVAILABLE", "server_error", "service_unavailable"),
    504: ("DEADLINE_EXCEEDED", "server_error", "timeout"),
}
_OTHER_ERROR = ("UNKNOWN", "invalid_request_error", "unknown_error")


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request; build it with the class methods."""

    kind: Literal["ok", "error", "hang"]
    status: int = 200
    text: str = ""
    prompt_tokens: int = 11
    completion_tokens: int = 22
    retry_after: float | None = None
    header: bool = True
    millis: bool = False
    seconds: float = 0.0
    then: "Reply | None" = None
    stream_seconds: float = 0.0
    pieces: int = 8
    first_byte: float = 0.0
    cut_after: int | None = None

    @classmethod
    def ok(
        cls,
        content: str | dict[str, Any] | list[Any],
        *,
        prompt_tokens: int = 11,
        completion_tokens: int = 22,
        stream_seconds: float = 0.0,
        pieces: int = 8,
        first_byte: float = 0.0,
        cut_after: int | None = None,
    ) -> "Reply":
        """A 200 whose message text is ``content`` (a dict or list is JSON-encoded).

        To a streaming request the text goes in up to ``pieces`` near-equal pieces spread over
        about ``stream_seconds``; ``cut_after`` drops the connection after that many characters
        of text, without a finish reason, usage or ``[DONE]``. ``first_byte`` delays the answer,
        streamed or not, by that many seconds before anything is sent.
        """
        text = content if isinstance(content, str) else json.dumps(content)
        return cls(
            "ok",
            200,
            text,
            prompt_tokens,
            completion_tokens,
            stream_seconds=stream_seconds,
            pieces=pieces,
            first_byte=first_byte,
            cut_after=cut_after,
        )

    @classmethod
    def rate_limited(
        cls, retry_after: float | None = 1.0, *, header: bool = True, millis: bool = False
    ) -> "Reply":
        """A 429 saying when to retry.

        ``header=False`` omits the ``retry-after`` headers (Gemini still gets a RetryInfo detail
        unless ``retry_after`` is None); ``millis=True`` adds ``retry-after-ms``.
        """
        message = "Rate limit reached; please try again later."
        return cls("error", 429, message, retry_after=retry_after, header=header, millis=millis)

    @classmethod
    def error(cls, status: int, message: str = "scripted error") -> "Reply":
        """An error of any status, in the provider's error shape."""
        return cls("error", status, message)

    @classmethod
    def hang(cls, seconds: float, then: "Reply | None" = None) -> "Reply":
        """Wait ``seconds`` (other requests go on), then answer ``then`` (default ``{}``)."""
        return cls("hang", seconds=seconds, then=then)

    @classmethod
    def malformed(cls) -> "Reply":
        """A 200 whose message text is not JSON."""
        return cls.ok(MALFORMED_TEXT)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server answered."""

    provider: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int
    streamed: bool = False  # asked for a streamed answer
    # When the answer's first byte went out (``time.monotonic``): after any hang or first_byte.
    answered_at: float = field(default_factory=time.monotonic)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _retry_headers(reply: Reply) -> dict[str, str]:
    """``retry-after`` (seconds) and ``retry-after-ms``, as Groq and OpenAI-style hosts send."""
    if reply.status != 429 or reply.retry_after is None or not reply.header:
        return {}
    headers = {"retry-after": _seconds(reply.retry_after)}
    if reply.millis:
        headers["retry-after-ms"] = str(round(reply.retry_after * 1000))
    return headers


def _openai_body(provider: str, reply: Reply, model: str) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` (plus Groq's ``x_groq``), or an OpenAI-style error."""
    if reply.kind == "error":
        _, kind, code = _ERRORS.get(reply.status, _OTHER_ERROR)
        return {"error": {"message": reply.text, "type": kind, "code": code}}
    message = {"role": "assistant", "content": reply.text}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    body: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
        "system_fingerprint": None,
    }
    if provider == "groq":
        body["system_fingerprint"] = f"fp_{uuid.uuid4().hex[:10]}"
        body["x_groq"] = {"id": f"req_{uuid.uuid4().hex[:26]}"}
    return body


def _gemini_body(reply: Reply, model: str) -> dict[str, Any]:
    """A ``GenerateContentResponse``, or a google.rpc error with RetryInfo on a 429."""
    if reply.kind == "error":
        details: list[dict[str, Any]] = []
        if reply.status == 429 and reply.retry_after is not None:
            retry_delay = f"{_seconds(reply.retry_after)}s"  # a protobuf Duration in JSON
            retry_type = "type.googleapis.com/google.rpc.RetryInfo"
            details.append({"@type": retry_type, "retryDelay": retry_delay})
        status = _ERRORS.get(reply.status, _OTHER_ERROR)[0]
        error = {"code": reply.status, "message": reply.text, "status": status, "details": details}
        return {"error": error}
    content = {"parts": [{"text": reply.text}], "role": "model"}
    return {
        "candidates": [{"content": content, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": reply.prompt_tokens,
            "candidatesTokenCount": reply.completion_tokens,
            "totalTokenCount": reply.prompt_tokens + reply.completion_tokens,
        },
        "modelVersion": model,
        "responseId": uuid.uuid4().hex[:22],
    }


def _has_key(provider: str, headers: dict[str, str]) -> bool:
    if provider == "gemini":
        return bool(headers.get("x-goog-api-key", "").strip())
    scheme, _, key = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(key.strip())


class FakeLlmServer:
    """``with FakeLlmServer() as server:`` serves on a free 127.0.0.1 port from a thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, list[Reply]] = {p: [] for p in PROVIDERS}
        self._defaults: dict[str, Reply] = {}
        self._recorded: list[RecordedRequest] = []
        self._generation = 0  # bumped by reset(), so a late answer never lands in the next test
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self.reset()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))  # bound now, so the port is known and stays ours
        self.root_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.qwen_base_url = f"{self.root_url}/compatible-mode/v1"
        routes = [
            Route(path, partial(self._answer, provider), methods=["POST"])
            for provider, path in [*PATHS.items(), ("gemini", GEMINI_STREAM_PATH)]
        ]
        app = Starlette(routes=routes, lifespan=self._lifespan)
        # ws="none": nothing here speaks WebSocket, and the websockets import can warn.
        config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake LLM server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._closing is not None:
            self._loop.call_soon_threadsafe(self._closing.set)  # cut hangs short
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def script(self, provider: str, *replies: Reply) -> None:
        """Append replies to ``provider``'s queue; they are served in order."""
        with self._lock:
            self._queues[_check(provider)].extend(replies)

    def default(self, provider: str, reply: Reply) -> None:
        """Answer ``reply`` whenever ``provider``'s queue is empty."""
        with self._lock:
            self._defaults[_check(provider)] = reply

    def queued(self, provider: str) -> int:
        """How many scripted replies ``provider`` has not served yet."""
        with self._lock:
            return len(self._queues[_check(provider)])

    def reset(self) -> None:
        """Clear queues, defaults and recorded requests."""
        with self._lock:
            self._generation += 1
            self._recorded.clear()
            for provider in PROVIDERS:
                self._queues[provider].clear()
                self._defaults[provider] = Reply.error(500, "unscripted request")

    def requests(self, provider: str | None = None) -> list[RecordedRequest]:
        """Requests answered so far, oldest first; a hanging one appears once answered."""
        with self._lock:
            return [r for r in self._recorded if provider in (None, r.provider)]

    def successes(self, provider: str | None = None) -> list[RecordedRequest]:
        """Requests answered with 200."""
        return [r for r in self.requests(provider) if r.status == 200]

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        yield

    async def _answer(self, provider: str, request: Request) -> Response:
        """Check the key, take the next reply, wait out any hang, answer and record it."""
        headers = dict(request.headers)  # Starlette lower-cases the names
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        is_object = isinstance(body, dict)
        body = body if isinstance(body, dict) else {}
        with self._lock:
            generation = self._generation
            if not _has_key(provider, headers):
                reply = Reply.error(401, "missing API key")
            elif not is_object:
                reply = Reply.error(400, "the request body is not a JSON object")
            else:
                queue = self._queues[provider]
                reply = queue.pop(0) if queue else self._defaults[provider]
        while reply.kind == "hang":
            await self._pause(reply.seconds)
            reply = reply.then or Reply.ok("{}")
        await self._pause(reply.first_byte)
        model = request.path_params["model"] if provider == "gemini" else str(body.get("model", ""))
        streamed = _streamed(provider, request, body)
        with self._lock:
            if generation == self._generation:
                path = request.url.path
                recorded = RecordedRequest(provider, path, headers, body, reply.status, streamed)
                self._recorded.append(recorded)
        if streamed and reply.kind == "ok":
            script = Script(
                reply.text,
                reply.prompt_tokens,
                reply.completion_tokens,
                reply.stream_seconds,
                reply.pieces,
                reply.cut_after,
            )
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return respond(provider, script, model, include_usage=usage, pause=self._pause)
        if provider == "gemini":
            payload = _gemini_body(reply, model)
        else:
            payload = _openai_body(provider, reply, model)
        return JSONResponse(payload, status_code=reply.status, headers=_retry_headers(reply))

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the server is closing; other requests go on."""
        if seconds > 0:
            assert self._closing is not None  # the lifespan sets it before any request
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)


def _streamed(provider: str, request: Request, body: dict[str, Any]) -> bool:
    if provider == "gemini":
        return request.url.path.endswith(":streamGenerateContent")
    return body.get("stream") is True


def _check(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
    return provider
