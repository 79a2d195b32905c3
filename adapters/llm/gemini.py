"""Gemini, through Google's ``google-genai`` SDK (not the end-of-support google-generativeai)."""

import httpx
from google import genai
from google.genai import errors, types

from adapters.llm.errors import ClientErrors, provider_errors
from adapters.llm.prompts import MAX_OUTPUT_TOKENS, TEMPERATURE, conversation
from domain.lesson import TokenUsage
from domain.ports import Draft, LlmTask, TextSink

# An error status is the SDK's APIError; transport errors reach us as httpx's own (the SDK does not
# wrap them), and a plain TimeoutError counts as a timeout too.
RAISED = ClientErrors(answered=(errors.APIError,), timed_out=(TimeoutError, httpx.TimeoutException))


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
        """One generateContent call."""
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
        with provider_errors(self.name, time_limit, RAISED):
            reply = await self._client.aio.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        usage = reply.usage_metadata
        return Draft(
            payload=reply.text or "",
            provider=self.name,
            model=reply.model_version or self.model,
            usage=TokenUsage(
                prompt_tokens=usage.prompt_token_count or 0,
                completion_tokens=usage.candidates_token_count or 0,
            )
            if usage
            else None,
        )
