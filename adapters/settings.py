"""Application settings, read once from the environment (``local.settings.json`` Values locally,
App Settings in Azure) and validated at start-up."""

from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

Seconds = Annotated[float, Field(gt=0, le=300)]


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
    auth_jwt_secret: SecretStr = Field(
        min_length=32, description="HS256 signing secret for development tokens."
    )
    auth_issuer: str = "skillsync-dev"
    auth_audience: str = "skillsync-api"
    poll_after_seconds: int = Field(default=2, ge=1, le=60)
    health_timeout_seconds: Seconds = 3.0
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, validated on first use; ``SettingsError`` names bad values."""
    try:
        return Settings()  # values come from the environment
    except ValidationError as error:
        problems = ", ".join(
            f"{'.'.join(str(p) for p in item['loc'])} ({item['msg']})" for item in error.errors()
        )
        raise SettingsError(f"invalid or missing settings: {problems}") from None


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
