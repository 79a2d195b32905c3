"""Any OpenAI-compatible chat-completions host over httpx: Qwen on DashScope by default; vLLM,
Ollama or another host by changing the base URL and model."""

import httpx

from adapters.llm.errors import for_status, provider_errors, reply_shape
from adapters.llm.prompts import MAX_OUTPUT_TOKENS, TEMPERATURE, conversation
from domain.lesson import TokenUsage
from domain.ports import Draft, LlmTask, TextSink

DASHSCOPE_COMPATIBLE = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


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
        """One chat completion; the prompt says "JSON", as JSON mode requires."""
        body = {
            "model": self.model,
            "messages": conversation(task).chat_messages(),
            "response_format": {"type": "json_object"},
            "temperature": TEMPERATURE,
            "max_tokens": MAX_OUTPUT_TOKENS[task.kind],
        }
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
            usage=TokenUsage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
        )
