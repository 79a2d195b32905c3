"""Groq, through its official SDK (async client, JSON mode, no SDK retries: the chain retries)."""

from typing import cast

import groq
import httpx
from groq.types.chat import ChatCompletionMessageParam

from adapters.llm.errors import for_status
from adapters.llm.prompts import TEMPERATURE, conversation
from domain.errors import ProviderTimeout, ProviderUnavailable
from domain.lesson import TokenUsage
from domain.ports import Draft, LlmTask


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

    async def generate(self, task: LlmTask, *, time_limit: float) -> Draft:
        """One chat completion."""
        messages = cast(list[ChatCompletionMessageParam], conversation(task).chat_messages())
        try:
            reply = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                response_format={"type": "json_object"},
                temperature=TEMPERATURE,
                timeout=time_limit,
            )
        except groq.APIStatusError as error:
            raise for_status(self.name, error.status_code, error.response.headers) from None
        except groq.APITimeoutError:
            raise ProviderTimeout(f"{self.name} did not answer in {time_limit:.0f} s") from None
        except groq.APIConnectionError as error:
            raise ProviderUnavailable(
                f"{self.name} is unreachable: {type(error).__name__}"
            ) from None
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
