"""Building the provider chain from settings (imported only when something must be written)."""

import logging

import httpx

from adapters.llm.gemini import GeminiProvider
from adapters.llm.groq import GroqProvider
from adapters.llm.offline import OfflineProvider
from adapters.llm.openai_compatible import OpenAICompatibleProvider
from adapters.markdown import clean_markdown
from adapters.settings import Settings
from domain.chain import ChainPolicy, ProviderChain
from domain.content import CLEAN_MARKDOWN
from domain.cooldowns import Cooldowns
from domain.ports import LlmProvider
from domain.telemetry import Telemetry

log = logging.getLogger(__name__)


def _provider(name: str, settings: Settings, http: httpx.AsyncClient) -> LlmProvider:
    if name == "offline":
        return OfflineProvider()
    key = getattr(settings, f"{name}_api_key").get_secret_value()
    if name == "groq":
        return GroqProvider(key, settings.groq_model, http=http, base_url=settings.groq_base_url)
    if name == "gemini":
        return GeminiProvider(
            key,
            settings.gemini_model,
            http=http,
            base_url=settings.gemini_base_url,
            api_version=settings.gemini_api_version,
        )
    return OpenAICompatibleProvider(
        "qwen", key, settings.qwen_model, base_url=settings.qwen_base_url, http=http
    )


def build_chain(
    settings: Settings, cooldowns: Cooldowns, telemetry: Telemetry | None = None
) -> tuple[ProviderChain, httpx.AsyncClient]:
    """The chain the settings describe, and the HTTP client its providers share."""
    used, skipped = settings.llm_chain()
    for name, reason in skipped.items():
        log.warning("LLM provider %s skipped: %s", name, reason)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.llm_attempt_timeout_seconds, connect=5.0),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )
    providers = [_provider(name, settings, http) for name in used]
    log.info("LLM providers, in order: %s", ", ".join(p.name for p in providers) or "none")
    policy = ChainPolicy(
        attempt_timeout=settings.llm_attempt_timeout_seconds,
        rate_limit_rest=settings.llm_rate_limit_cooldown_seconds,
        auth_rest=settings.llm_auth_cooldown_seconds,
        breaker_failures=settings.llm_breaker_failures,
        breaker_rest=settings.llm_breaker_rest_seconds,
    )
    chain = ProviderChain(
        providers,
        cooldowns,
        policy,
        validation_context={CLEAN_MARKDOWN: clean_markdown},
        telemetry=telemetry,
    )
    return chain, http
