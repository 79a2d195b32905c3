"""Gemini, through Google's ``google-genai`` SDK (not the end-of-support google-generativeai)."""

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import cast

import httpx
from google import genai
from google.genai import errors, types

from adapters.llm.errors import ClientErrors, provider_errors
from adapters.llm.prompts import MAX_OUTPUT_TOKENS, TEMPERATURE, conversation
from adapters.llm.streaming import Chunks, relay
from domain.lesson import TokenUsage
from domain.ports import Draft, LlmTask, TextSink

# An error status is the SDK's APIError; transport errors reach us as httpx's own (the SDK does not
# wrap them), and a plain TimeoutError counts as a timeout too.
RAISED = ClientErrors(answered=(errors.APIError,), timed_out=(TimeoutError, httpx.TimeoutException))
# A streamed GenerateContentResponse: a piece in ``text``; the last one has a finish reason and the
# whole usage. An error event inside the stream is raised as APIError too, with its own code.
CHUNKS = Chunks[types.GenerateContentResponse](
    text=lambda chunk: chunk.text,
    finished=lambda chunk: bool(chunk.candidates and chunk.candidates[0].finish_reason),
)


class GeminiProvider:
    """``models.generateContent`` with a JSON response constrained by the response schema."""

    name = "gemini"
    needs_network = True

    def __init__(
        self,
        api_key: str,
        model: str,
        *,
        http: httpx.AsyncClient,
        base_url: str | None = None,
        api_version: str = "v1beta",
    ) -> None:
        self.model = model
        # Our httpx client, injected: without one the SDK picks aiohttp whenever it is installed
        # (Azure's clients install it), and then retries connection errors after a random
        # 1-10 s sleep of its own, behind the chain's back.
        self._client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url, api_version=api_version, httpx_async_client=http
            ),
        )

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        """One generateContent call, or streamGenerateContent to ``on_text`` when given."""
        talk = conversation(task)
        contents = [
            types.Content(
                role="model" if role == "assistant" else "user", parts=[types.Part(text=text)]
            )
            for role, text in talk.turns
        ]
        config = types.GenerateContentConfig(
            system_instruction=talk.system,
            response_mime_type="application/json",
            response_schema=task.schema,
            temperature=TEMPERATURE,
            max_output_tokens=MAX_OUTPUT_TOKENS[task.kind],
            http_options=types.HttpOptions(timeout=int(time_limit * 1000)),
        )
        if on_text is not None:
            return await self._streamed(contents, config, time_limit, on_text)
        with provider_errors(self.name, time_limit, RAISED):
            reply = await self._client.aio.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        return self._draft(reply.text or "", reply)

    async def _streamed(
        self,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        time_limit: float,
        on_text: TextSink,
    ) -> Draft:
        """The same request, streamed; the last chunk carries the usage and the model version."""
        chunks = self._chunks(contents, config)
        streamed = await relay(
            self.name, chunks, CHUNKS, on_text, time_limit=time_limit, raised=RAISED
        )
        return self._draft(streamed.text, streamed.chunks[-1])

    async def _chunks(
        self, contents: list[types.Content], config: types.GenerateContentConfig
    ) -> AsyncGenerator[types.GenerateContentResponse, None]:
        stream = await self._client.aio.models.generate_content_stream(
            model=self.model, contents=contents, config=config
        )
        # Typed as an iterator, it is an async generator: closing it releases the connection.
        async with aclosing(cast(AsyncGenerator[types.GenerateContentResponse, None], stream)):
            async for chunk in stream:
                yield chunk

    def _draft(self, payload: str, reply: types.GenerateContentResponse) -> Draft:
        usage = reply.usage_metadata
        return Draft(
            payload=payload,
            provider=self.name,
            model=reply.model_version or self.model,
            usage=TokenUsage(
                prompt_tokens=usage.prompt_token_count or 0,
                completion_tokens=usage.candidates_token_count or 0,
            )
            if usage
            else None,
        )
