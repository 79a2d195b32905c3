"""Any OpenAI-compatible chat-completions host over httpx: Qwen on DashScope by default; vLLM,
Ollama or another host by changing the base URL and model."""

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from adapters.llm.errors import for_status, provider_errors, reply_shape
from adapters.llm.prompts import MAX_OUTPUT_TOKENS, TEMPERATURE, conversation
from adapters.llm.sse import data_events
from adapters.llm.streaming import Chunks, relay
from domain.errors import ProviderUnavailable
from domain.lesson import TokenUsage
from domain.ports import Draft, LlmTask, TextSink

DASHSCOPE_COMPATIBLE = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
Chunk = dict[str, Any]


def _piece(chunk: Chunk) -> str | None:
    choices = chunk.get("choices") or []
    content = choices[0]["delta"].get("content") if choices else None
    return content if isinstance(content, str) else None


def _finished(chunk: Chunk) -> bool:
    return any(choice.get("finish_reason") for choice in chunk.get("choices") or [])


# A ``chat.completion.chunk``: a piece in ``choices[0].delta.content``; the usage, when asked for,
# in a last chunk whose ``choices`` is empty.
CHUNKS = Chunks(text=_piece, finished=_finished)


def _usage(usage: dict[str, Any]) -> TokenUsage:
    return TokenUsage(
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
    )


class OpenAICompatibleProvider:
    """``POST {base_url}/chat/completions`` with a bearer key and JSON mode."""

    needs_network = True

    def __init__(
        self, name: str, api_key: str, model: str, *, base_url: str, http: httpx.AsyncClient
    ) -> None:
        self.name = name
        self.model = model
        self._url = f"{base_url.rstrip('/')}/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._http = http

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        """One chat completion, streamed to ``on_text`` when given; the prompt says "JSON", as
        JSON mode requires."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": conversation(task).chat_messages(),
            "response_format": {"type": "json_object"},
            "temperature": TEMPERATURE,
            "max_tokens": MAX_OUTPUT_TOKENS[task.kind],
        }
        if on_text is not None:
            return await self._streamed(body, time_limit, on_text)
        with provider_errors(self.name, time_limit):
            response = await self._http.post(
                self._url, json=body, headers=self._headers, timeout=time_limit
            )
        if response.status_code != 200:
            raise for_status(self.name, response.status_code, response.headers)
        with reply_shape(self.name):
            data = response.json()
            payload = data["choices"][0]["message"]["content"] or ""
        usage = data.get("usage") or {}
        return Draft(
            payload=payload,
            provider=self.name,
            model=str(data.get("model") or self.model),
            usage=_usage(usage),
        )

    async def _streamed(self, body: dict[str, Any], time_limit: float, on_text: TextSink) -> Draft:
        """The same completion as server-sent events, with the usage in a last chunk."""
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        streamed = await relay(
            self.name, self._chunks(body, time_limit), CHUNKS, on_text, time_limit=time_limit
        )
        with reply_shape(self.name):
            usage: dict[str, Any] = next(
                (c["usage"] for c in reversed(streamed.chunks) if c.get("usage")), {}
            )
            model = next((c["model"] for c in streamed.chunks if c.get("model")), self.model)
            return Draft(
                payload=streamed.text, provider=self.name, model=str(model), usage=_usage(usage)
            )

    async def _chunks(self, body: dict[str, Any], time_limit: float) -> AsyncGenerator[Chunk, None]:
        """Each chunk of the answer; an error status is read in full and raised before any."""
        async with self._http.stream(
            "POST", self._url, json=body, headers=self._headers, timeout=time_limit
        ) as response:
            if response.status_code != 200:
                await response.aread()
                raise for_status(self.name, response.status_code, response.headers)
            async for data in data_events(response.aiter_bytes()):
                chunk = json.loads(data)
                if not isinstance(chunk, dict):
                    raise ValueError("a chunk that is not a JSON object")
                if chunk.get("error"):  # an error event after the answer began
                    raise ProviderUnavailable(f"{self.name} broke off its answer")
                yield chunk
