"""Application settings, read once from the environment (``local.settings.json`` Values locally,
App Settings in Azure) and validated at start-up."""

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Self

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

Seconds = Annotated[float, Field(gt=0, le=300)]
LLM_PROVIDERS = ("groq", "gemini", "qwen", "offline")
RESEARCH_SOURCES = ("docs", "stackoverflow", "github", "devto", "youtube")
DASHSCOPE_COMPATIBLE_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


class SettingsError(RuntimeError):
    """A required setting is missing or a value is invalid."""


class Settings(BaseSettings):
    """Every setting the function app reads. Names match the environment variables."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    storage_connection: SecretStr = Field(
        validation_alias="AzureWebJobsStorage",
        description="Storage account connection string (also what the Functions host uses).",
    )
    cosmos_endpoint: str = Field(pattern=r"^https?://", description="Cosmos DB account endpoint.")
    cosmos_key: SecretStr = Field(description="Cosmos DB account key.")
    cosmos_database: str = "skillsync"
    cosmos_endpoint_discovery: bool = Field(
        default=True,
        description="Multi-region endpoint discovery; local emulators over plain HTTP need false.",
    )
    cosmos_timeout_seconds: Seconds = 10.0
    auth_jwt_secret: Annotated[SecretStr, Field(min_length=32)] | None = Field(
        default=None, description="HS256 signing secret for development tokens."
    )
    auth_dev_tokens: bool = Field(
        default=None,  # filled in by _dev_tokens_by_default
        validate_default=True,
        description="Accept HS256 development tokens; by default whenever AUTH_JWT_SECRET is set.",
    )
    auth_jwks_url: str | None = Field(
        default=None,
        # Keys fetched over plain HTTP could be swapped on the way: HTTPS, or this machine.
        pattern=r"^(https://|http://(localhost|127\.0\.0\.1)(:\d+)?/)",
        validate_default=True,
        description="Key set (JWKS) of the identity provider whose RS256 tokens are accepted.",
    )
    auth_issuer: str = "skillsync-dev"
    auth_audience: str = "skillsync-api"
    llm_providers: str = Field(
        default=",".join(LLM_PROVIDERS), description="Providers to try, in order, comma-separated."
    )
    groq_api_key: SecretStr | None = None
    groq_model: str = "llama-3.3-70b-versatile"
    groq_base_url: str | None = None
    gemini_api_key: SecretStr | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    gemini_api_version: str = "v1beta"
    qwen_api_key: SecretStr | None = None
    qwen_model: str = "qwen-plus"
    qwen_base_url: str = DASHSCOPE_COMPATIBLE_URL
    llm_attempt_timeout_seconds: Seconds = 30.0
    llm_lesson_budget_seconds: Annotated[float, Field(gt=0, le=600)] = 90.0
    llm_outline_budget_seconds: Seconds = 20.0
    llm_rate_limit_cooldown_seconds: Seconds = 30.0
    llm_auth_cooldown_seconds: Annotated[float, Field(gt=0, le=86_400)] = 3600.0
    research_sources: str = Field(
        default=",".join(RESEARCH_SOURCES),
        description="Research sources to ask, comma-separated; empty or none for none.",
    )
    research_source_timeout_seconds: Seconds = 3.0
    research_budget_seconds: Seconds = 6.0
    research_token_budget: int = Field(default=1_200, ge=100, le=8_000)
    research_cache_ttl_seconds: int = Field(default=7 * 86_400, ge=60, le=90 * 86_400)
    research_docs: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="Extra official docs, technology → URL (JSON)."
    )
    stackexchange_key: SecretStr | None = None
    github_token: SecretStr | None = None
    youtube_api_key: SecretStr | None = None
    generation_lease_seconds: Annotated[float, Field(ge=1, le=3_600)] = 180.0
    stuck_queued_seconds: Annotated[float, Field(ge=1, le=86_400)] = 600.0
    max_requeues: int = Field(default=3, ge=0, le=20)
    http_deadline_seconds: Seconds = 20.0
    cors_allowed_origins: str = Field(
        default="", description="Origins allowed to call the API from a browser, comma-separated."
    )
    prefetch_on_view: bool = True
    quota_lessons_per_hour: int = Field(default=30, ge=1, le=10_000)
    quota_roadmaps_per_day: int = Field(default=5, ge=1, le=1_000)
    poll_after_seconds: int = Field(default=2, ge=1, le=60)
    health_timeout_seconds: Seconds = 3.0
    log_level: str = "INFO"

    @field_validator(
        "groq_api_key",
        "gemini_api_key",
        "qwen_api_key",
        "stackexchange_key",
        "github_token",
        "youtube_api_key",
        "groq_base_url",
        "gemini_base_url",
        "auth_jwt_secret",
        "auth_jwks_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("auth_dev_tokens", mode="before")
    @classmethod
    def _dev_tokens_by_default(cls, value: object, info: ValidationInfo) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return info.data.get("auth_jwt_secret") is not None
        return value

    @field_validator("auth_jwks_url")
    @classmethod
    def _some_token_accepted(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "auth_jwt_secret" not in info.data or "auth_dev_tokens" not in info.data:
            return value  # already reported as invalid
        if info.data["auth_dev_tokens"] and info.data["auth_jwt_secret"] is None:
            raise ValueError("AUTH_DEV_TOKENS is on but AUTH_JWT_SECRET is not set")
        if value is None and not info.data["auth_dev_tokens"]:
            raise ValueError(
                "no token could be verified: set AUTH_JWKS_URL (Entra ID tokens), or "
                "AUTH_JWT_SECRET with AUTH_DEV_TOKENS on (development tokens)"
            )
        return value

    @field_validator("llm_providers")
    @classmethod
    def _known_providers(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(LLM_PROVIDERS))
        if not names or unknown or len(set(names)) != len(names):
            raise ValueError(
                f"must list some of {', '.join(LLM_PROVIDERS)} once each (unknown: {unknown})"
            )
        return ",".join(names)

    @field_validator("research_docs", mode="before")
    @classmethod
    def _docs_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError:
            raise ValueError(
                'must be a JSON object, e.g. {"htmx": "https://htmx.org/docs/"}'
            ) from None

    @field_validator("research_sources")
    @classmethod
    def _known_sources(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        if names == ["none"]:
            return ""
        unknown = sorted(set(names) - set(RESEARCH_SOURCES))
        if unknown or len(set(names)) != len(names):
            raise ValueError(
                f"must list some of {', '.join(RESEARCH_SOURCES)} once each (unknown: {unknown})"
            )
        return ",".join(names)

    def research_plan(self) -> tuple[list[str], dict[str, str]]:
        """The research sources to ask, and those skipped with the reason why."""
        used, skipped = [], {}
        for name in filter(None, self.research_sources.split(",")):
            if name == "youtube" and self.youtube_api_key is None:
                skipped[name] = "YOUTUBE_API_KEY is not set"
            else:
                used.append(name)
        return used, skipped

    @model_validator(mode="after")
    def _some_provider_usable(self) -> Self:
        used, skipped = self.llm_chain()
        if not used:
            raise ValueError(
                f"no LLM provider is usable ({'; '.join(skipped.values())}): "
                "set an API key or add offline to LLM_PROVIDERS"
            )
        return self

    def llm_chain(self) -> tuple[list[str], dict[str, str]]:
        """The providers to use, in order, and those skipped with the reason why."""
        used, skipped = [], {}
        for name in self.llm_providers.split(","):
            if name != "offline" and getattr(self, f"{name}_api_key") is None:
                skipped[name] = f"{name.upper()}_API_KEY is not set"
            else:
                used.append(name)
        return used, skipped


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, validated on first use; ``SettingsError`` names bad values."""
    try:
        return Settings()  # values come from the environment
    except ValidationError as error:
        problems = ", ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'settings'} ({item['msg']})"
            for item in error.errors()
        )
        raise SettingsError(f"invalid or missing settings: {problems}") from None
    except PydanticSettingsError as error:  # a value its source could not decode
        raise SettingsError(f"invalid settings: {error}") from None


def settings_from(values: Mapping[str, str]) -> Settings:
    """Settings from exactly these variables, ignoring the environment (tools and tests)."""
    aliases = {
        str(field.validation_alias).lower(): str(field.validation_alias)
        for field in Settings.model_fields.values()
        if field.validation_alias
    }
    return Settings.model_validate(
        {aliases.get(k.lower(), k.lower()): v for k, v in values.items()}
    )
