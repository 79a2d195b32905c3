"""Groq, through its official SDK (async client, JSON mode, no SDK retries: the chain retries)."""

from collections.abc import AsyncGenerator
from typing import cast

import groq
import httpx
from groq.types import CompletionUsage
from groq.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from adapters.llm.errors import ClientErrors, provider_errors
from adapters.llm.prompts import MAX_OUTPUT_TOKENS, TEMPERATURE, conversation
from adapters.llm.streaming import Chunks, relay
from domain.lesson import TokenUsage
from domain.ports import Draft, LlmTask, TextSink

# The SDK wraps httpx's own errors; its timeout is a kind of connection error, so it is listed.
RAISED = ClientErrors(
    answered=(groq.APIStatusError,),
    timed_out=(groq.APITimeoutError,),
    unreachable=(groq.APIConnectionError,),
)
# While a stream is read the SDK hands on httpx's own errors, and raises an error event inside the
# stream as a bare APIError.
STREAMED = ClientErrors(
    answered=RAISED.answered,
    timed_out=(*RAISED.timed_out, httpx.TimeoutException),
    unreachable=(*RAISED.unreachable, httpx.TransportError),
    broke_off=(groq.APIError,),
)
CHUNKS = Chunks[ChatCompletionChunk](
    text=lambda chunk: chunk.choices[0].delta.content if chunk.choices else None,
    finished=lambda chunk: any(choice.finish_reason for choice in chunk.choices),
)


def _usage(chunk: ChatCompletionChunk) -> CompletionUsage | None:
    """Groq sends a stream's usage in its last chunk's ``x_groq``; OpenAI-style, in ``usage``."""
    return chunk.usage or (chunk.x_groq.usage if chunk.x_groq else None)


class GroqProvider:
    """Groq's OpenAI-style chat completions with ``response_format={"type": "json_object"}``."""

    name = "groq"
    needs_network = True
    key_setting = "GROQ_API_KEY"

    def __init__(
        self, api_key: str, model: str, *, http: httpx.AsyncClient, base_url: str | None = None
    ) -> None:
        self.model = model
        self._client = groq.AsyncGroq(
            api_key=api_key, base_url=base_url, max_retries=0, http_client=http
        )

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        """One chat completion, streamed to ``on_text`` when given."""
        messages = cast(list[ChatCompletionMessageParam], conversation(task).chat_messages())
        if on_text is not None:
            return await self._streamed(task, messages, time_limit, on_text)
        with provider_errors(self.name, time_limit, RAISED):
            reply = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                response_format={"type": "json_object"},
                temperature=TEMPERATURE,
                max_completion_tokens=MAX_OUTPUT_TOKENS[task.kind],
                timeout=time_limit,
            )
        content = reply.choices[0].message.content or "" if reply.choices else ""
        return self._draft(content, reply.model, reply.usage)

    async def _streamed(
        self,
        task: LlmTask,
        messages: list[ChatCompletionMessageParam],
        time_limit: float,
        on_text: TextSink,
    ) -> Draft:
        """The same completion, streamed; the usage comes with the last chunk."""
        chunks = self._chunks(task, messages, time_limit)
        streamed = await relay(
            self.name, chunks, CHUNKS, on_text, time_limit=time_limit, raised=STREAMED
        )
        usage = next((u for chunk in reversed(streamed.chunks) if (u := _usage(chunk))), None)
        return self._draft(streamed.text, streamed.chunks[-1].model, usage)

    async def _chunks(
        self, task: LlmTask, messages: list[ChatCompletionMessageParam], time_limit: float
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        stream = await self._client.chat.completions.create(
            model=self.model,
            messages=messages,
            response_format={"type": "json_object"},
            temperature=TEMPERATURE,
            max_completion_tokens=MAX_OUTPUT_TOKENS[task.kind],
            timeout=time_limit,
            stream=True,
        )
        async with stream:
            async for chunk in stream:
                yield chunk

    def _draft(self, payload: str, model: str | None, usage: CompletionUsage | None) -> Draft:
        return Draft(
            payload=payload,
            provider=self.name,
            model=model or self.model,
            usage=TokenUsage(
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
            )
            if usage
            else None,
        )
