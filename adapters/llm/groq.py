"""Groq, through its official SDK (async client, JSON mode, no SDK retries: the chain retries)."""

from typing import cast

import groq
import httpx
from groq.types.chat import ChatCompletionMessageParam

from adapters.llm.errors import ClientErrors, provider_errors
from adapters.llm.prompts import MAX_OUTPUT_TOKENS, TEMPERATURE, conversation
from domain.lesson import TokenUsage
from domain.ports import Draft, LlmTask, TextSink

# The SDK wraps httpx's own errors; its timeout is a kind of connection error, so it is listed.
RAISED = ClientErrors(
    answered=(groq.APIStatusError,),
    timed_out=(groq.APITimeoutError,),
    unreachable=(groq.APIConnectionError,),
)


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
        """One chat completion."""
        messages = cast(list[ChatCompletionMessageParam], conversation(task).chat_messages())
        with provider_errors(self.name, time_limit, RAISED):
            reply = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                response_format={"type": "json_object"},
                temperature=TEMPERATURE,
                max_completion_tokens=MAX_OUTPUT_TOKENS[task.kind],
                timeout=time_limit,
            )
        usage = reply.usage
        return Draft(
            payload=reply.choices[0].message.content or "" if reply.choices else "",
            provider=self.name,
            model=reply.model or self.model,
            usage=TokenUsage(
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
            )
            if usage
            else None,
        )
