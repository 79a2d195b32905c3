"""Application settings, read once from the environment (``local.settings.json`` Values locally,
App Settings in Azure) and validated when the app is imported, before any function runs.

``load_settings()`` raises one ``SettingsError`` that names every missing or invalid setting and
why, never its value. The rules between settings live in ``adapters/settings_rules.py``.
"""

import json
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

from adapters import settings_rules as rules
from adapters.host_json import HostLimits
from adapters.ncrontab import CronSchedule

Seconds = Annotated[float, Field(gt=0, le=300)]
LLM_PROVIDERS = rules.LLM_PROVIDERS
RESEARCH_SOURCES = ("docs", "stackoverflow", "github", "devto", "youtube")
DASHSCOPE_COMPATIBLE_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
# What a production deployment must set (infra/ sets each; the README's settings table marks them).
PRODUCTION_SETTINGS = (
    "COSMOS_ENDPOINT",
    "AUTH_JWKS_URL",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_DEV_TOKENS",
    "CORS_ALLOWED_ORIGINS",
    "SWEEP_SCHEDULE",
    "REQUIRE_LLM_PROVIDER",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
)


class SettingsError(RuntimeError):
    """A required setting is missing or a value is invalid."""


class Settings(BaseSettings):
    """Every setting the function app reads. Names match the environment variables."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    storage_connection: SecretStr | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage",
        description="Storage connection string (local development; Azure uses an identity).",
    )
    storage_account_name: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__accountName",
        pattern=r"^[a-z0-9]{3,24}$",
        description="Storage account reached with an identity (as the Functions host reads it).",
    )
    storage_queue_service_uri: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__queueServiceUri",
        pattern=r"^https?://",
        description="Queue endpoint reached with an identity, instead of the account name.",
    )
    storage_credential: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__credential",
        description="'managedidentity' in Azure; unset to use the developer's login locally.",
    )
    storage_client_id: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__clientId",
        description="Client id of the user-assigned identity the host's storage uses.",
    )
    azure_client_id: str | None = Field(
        default=None, description="Client id of the user-assigned identity the app signs in as."
    )
    cosmos_endpoint: str = Field(pattern=r"^https?://", description="Cosmos DB account endpoint.")
    cosmos_key: SecretStr | None = Field(
        default=None, description="Cosmos DB key (local emulator); unset to use an identity."
    )
    cosmos_database: str = "skillsync"
    cosmos_endpoint_discovery: bool = Field(
        default=True,
        description="Multi-region endpoint discovery; local emulators over plain HTTP need false.",
    )
    cosmos_timeout_seconds: Seconds = 10.0
    auth_jwt_secret: Annotated[SecretStr, Field(min_length=32)] | None = Field(
        default=None, description="HS256 signing secret for development tokens."
    )
    auth_dev_tokens: bool | None = Field(
        default=None,
        description="Accept development tokens (default: with a secret and no AUTH_JWKS_URL).",
    )
    auth_jwks_url: str | None = Field(
        default=None,
        # Keys fetched over plain HTTP could be swapped on the way: HTTPS, or this machine.
        pattern=r"^(https://|http://(localhost|127\.0\.0\.1)(:\d+)?/)",
        description="Key set (JWKS) of the identity provider whose RS256 tokens are accepted.",
    )
    auth_issuer: str | None = Field(default=None, description="Required `iss` of RS256 tokens.")
    auth_max_token_lifetime_seconds: int = Field(
        default=86_400, ge=60, le=30 * 86_400, description="Longest exp - iat a token may have."
    )
    auth_audience: str | None = Field(default=None, description="Required `aud` of RS256 tokens.")
    llm_providers: str = Field(
        default=",".join(LLM_PROVIDERS), description="Providers to try, in order, comma-separated."
    )
    require_llm_provider: bool = Field(
        default=False, description="Refuse to start unless a network LLM provider has a key."
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
    llm_breaker_failures: int = Field(
        default=3, ge=1, le=50, description="Consecutive 5xx/timeouts before a provider rests."
    )
    llm_breaker_rest_seconds: Seconds = Field(
        default=60.0, description="How long a provider whose breaker opened rests, worker-wide."
    )
    lesson_cache: bool = Field(
        default=True, description="Reuse a lesson written for identical inputs instead of a call."
    )
    lesson_cache_ttl_seconds: int = Field(default=7 * 86_400, ge=60, le=90 * 86_400)
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
    sweep_schedule: str = Field(
        description="NCRONTAB schedule of the sweeper (the timer's %SWEEP_SCHEDULE% binding)."
    )
    http_deadline_seconds: Seconds = 20.0
    cors_allowed_origins: str = Field(
        default="", description="Origins allowed to call the API from a browser, comma-separated."
    )
    prefetch_on_view: bool = True
    quota_lessons_per_hour: int = Field(default=30, ge=1, le=10_000)
    quota_roadmaps_per_day: int = Field(default=5, ge=1, le=1_000)
    poll_after_seconds: int = Field(default=2, ge=1, le=60)
    health_timeout_seconds: Seconds = 3.0
    applicationinsights_connection_string: SecretStr | None = Field(
        default=None, description="Where telemetry goes; unset, the app reports nothing."
    )
    webpubsub_endpoint: str | None = Field(
        default=None,
        # An Entra ID token is sent only over TLS (azure-core refuses plain HTTP for it).
        pattern=r"^https://",
        description="Web PubSub endpoint, reached with the app's identity (push notifications).",
    )
    webpubsub_hub: str = Field(
        default="lessons",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,127}$",
        description="Web PubSub hub the lesson notifications go through.",
    )
    webpubsub_connection_string: SecretStr | None = Field(
        default=None,
        description="Web PubSub connection string with an access key (local development only).",
    )
    log_level: str = "INFO"
    # Not a setting of its own: host.json as the Functions host reads it (with its
    # AzureFunctionsJobHost__* overrides), so the timings above can be checked against it.
    host: HostLimits = Field(
        default_factory=HostLimits.load,
        validation_alias="AzureFunctionsJobHost",
        exclude=True,
        description="functionTimeout and queue delivery, from host.json and its overrides.",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _resolved(cls, value: object) -> object:
        if isinstance(value, str) and value.lstrip().startswith(rules.KEY_VAULT_REFERENCE):
            raise ValueError(
                "is an unresolved Key Vault reference: grant the app's identity Key Vault Secrets "
                "User and check that the secret exists"
            )
        return value

    @field_validator(
        "storage_connection",
        "storage_account_name",
        "storage_queue_service_uri",
        "storage_credential",
        "storage_client_id",
        "azure_client_id",
        "cosmos_key",
        "groq_api_key",
        "gemini_api_key",
        "qwen_api_key",
        "stackexchange_key",
        "github_token",
        "youtube_api_key",
        "groq_base_url",
        "gemini_base_url",
        "auth_jwt_secret",
        "auth_dev_tokens",
        "auth_jwks_url",
        "auth_issuer",
        "auth_audience",
        "applicationinsights_connection_string",
        "webpubsub_endpoint",
        "webpubsub_connection_string",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("llm_providers")
    @classmethod
    def _known_providers(cls, value: str) -> str:
        return rules.names_from(value, LLM_PROVIDERS, allow_none=False)

    @field_validator("research_sources")
    @classmethod
    def _known_sources(cls, value: str) -> str:
        return rules.names_from(value, RESEARCH_SOURCES, allow_none=True)

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

    @field_validator("webpubsub_connection_string")
    @classmethod
    def _webpubsub_keyed(cls, value: SecretStr | None) -> SecretStr | None:
        parts = {
            part.split("=", 1)[0].strip().lower()
            for part in (value.get_secret_value().split(";") if value else [])
        }
        if value is not None and not {"endpoint", "accesskey"} <= parts:
            raise ValueError("must be Endpoint=…;AccessKey=…;Version=1.0; (as the portal shows)")
        return value

    @field_validator("sweep_schedule")
    @classmethod
    def _ncrontab(cls, value: str) -> str:
        CronSchedule(value)  # raises ValueError naming what is wrong
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [
            *rules.storage_problems(self),
            *rules.auth_problems(self),
            *rules.provider_problems(self),
            *rules.timing_problems(self),
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def dev_tokens(self) -> bool:
        """Whether development (HS256) tokens are accepted: see ``settings_rules.dev_tokens_on``."""
        return rules.dev_tokens_on(self)

    @property
    def notifications(self) -> bool:
        """Whether lesson status changes are pushed through Web PubSub (an endpoint is set)."""
        return self.webpubsub_connection_string is not None or self.webpubsub_endpoint is not None

    def research_plan(self) -> tuple[list[str], dict[str, str]]:
        """The research sources to ask, and those skipped with the reason why."""
        used, skipped = [], {}
        for name in filter(None, self.research_sources.split(",")):
            if name == "youtube" and self.youtube_api_key is None:
                skipped[name] = "YOUTUBE_API_KEY is not set"
            else:
                used.append(name)
        return used, skipped

    def llm_chain(self) -> tuple[list[str], dict[str, str]]:
        """The providers to use, in order, and those skipped with the reason why."""
        return rules.llm_chain(self)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``environ`` (default: the process environment), or one ``SettingsError``."""
    try:
        if environ is None:  # values come from the environment, as host.json's overrides do
            host: dict[str, Any] = {"AzureFunctionsJobHost": HostLimits.load()}
            return Settings(**host)
        return settings_from(environ)
    except ValidationError as error:
        problems = "; ".join(_describe(item) for item in error.errors(include_input=False))
        raise SettingsError(f"invalid or missing settings: {problems}") from None
    except PydanticSettingsError as error:  # a value its source could not decode
        raise SettingsError(f"invalid settings: {error}") from None
    except ValueError as error:  # host.json, or an AzureFunctionsJobHost__ override of it
        raise SettingsError(f"invalid host settings: {error}") from None


def _describe(item: Any) -> str:
    """``NAME: why`` for one validation error; the message never includes the value."""
    message = str(item["msg"]).removeprefix("Value error, ")
    if not item["loc"]:
        return message  # a rule between settings names its settings itself
    name = _env_name(str(item["loc"][0])) + "".join(f".{part}" for part in item["loc"][1:])
    return f"{name}: {message}"


def _env_name(loc: str) -> str:
    field = Settings.model_fields.get(loc)
    if field is None:  # already an alias, e.g. AzureWebJobsStorage
        return loc
    return str(field.validation_alias) if field.validation_alias else loc.upper()


class _Given(Settings):
    """Settings read from the values given to it alone, never from the environment."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: Any, *_others: Any, **_named: Any
    ) -> tuple[Any, ...]:
        return (init_settings,)


def settings_from(values: Mapping[str, str]) -> Settings:
    """Settings from exactly these variables, ignoring the environment (tools and tests);
    host.json is read with the ``AzureFunctionsJobHost__*`` overrides among them."""
    aliases = {
        str(field.validation_alias).lower(): str(field.validation_alias)
        for field in Settings.model_fields.values()
        if field.validation_alias
    }
    given: dict[str, Any] = {aliases.get(k.lower(), k.lower()): v for k, v in values.items()}
    given.setdefault("AzureFunctionsJobHost", HostLimits.load(environ=values))
    return _Given(**given)


def env_names() -> dict[str, str]:
    """Every setting's environment variable name, by field name (docs and infra checks)."""
    return {name: _env_name(name) for name in Settings.model_fields}
