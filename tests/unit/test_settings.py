"""Settings fail fast, name what is missing or wrong, and never echo a secret."""

import os
from collections.abc import Iterator

import pytest

from adapters.settings import Settings, SettingsError, get_settings

COSMOS_KEY = "cosmos-key-SHOULD-NEVER-BE-PRINTED-9f8e7d"
STORAGE = "DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=storage-key-NEVER-PRINTED"
JWT_SECRET = "jwt-secret-NEVER-PRINTED-and-at-least-32-characters"
GROQ_KEY = "gsk_groq-key-NEVER-PRINTED-1a2b3c"
GEMINI_KEY = "AIza-gemini-key-NEVER-PRINTED-4d5e6f"
QWEN_KEY = "sk-qwen-key-NEVER-PRINTED-7a8b9c"
SETTING_NAMES = {name.lower() for name in Settings.model_fields} | {"azurewebjobsstorage"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.lower() in SETTING_NAMES:
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _set_required(monkeypatch: pytest.MonkeyPatch, *, leave_out: str = "") -> None:
    values = {
        "AzureWebJobsStorage": STORAGE,
        "COSMOS_ENDPOINT": "https://localhost:8081",
        "COSMOS_KEY": COSMOS_KEY,
        "AUTH_JWT_SECRET": JWT_SECRET,
    }
    for name, value in values.items():
        if name != leave_out:
            monkeypatch.setenv(name, value)


def _set_llm_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("QWEN_API_KEY", QWEN_KEY)


def _error() -> str:
    with pytest.raises(SettingsError) as raised:
        get_settings()
    return str(raised.value)


def test_required_settings_are_read_with_defaults_for_the_rest(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)

    settings = get_settings()

    assert settings.storage_connection.get_secret_value() == STORAGE
    assert settings.cosmos_endpoint == "https://localhost:8081"
    assert settings.cosmos_key.get_secret_value() == COSMOS_KEY
    assert settings.auth_jwt_secret is not None
    assert settings.auth_jwt_secret.get_secret_value() == JWT_SECRET
    assert settings.auth_dev_tokens is True
    assert settings.auth_jwks_url is None
    assert settings.cosmos_database == "skillsync"
    assert settings.cosmos_endpoint_discovery is True
    assert settings.auth_issuer == "skillsync-dev"
    assert settings.auth_audience == "skillsync-api"
    assert settings.poll_after_seconds == 2


def test_settings_are_read_once_per_process(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    first = get_settings()
    monkeypatch.setenv("COSMOS_DATABASE", "changed-later")

    assert get_settings() is first


def test_printed_settings_hide_the_secrets(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)

    shown = f"{get_settings()!r} {get_settings()}"

    for secret in (COSMOS_KEY, STORAGE, JWT_SECRET):
        assert secret not in shown


def test_missing_settings_are_each_named():
    message = _error()

    assert message.startswith("invalid or missing settings: ")
    for name in ("AzureWebJobsStorage", "cosmos_endpoint", "cosmos_key"):
        assert f"{name} (Field required)" in message
    assert "auth_jwks_url (Value error, no token could be verified: set AUTH_JWKS_URL" in message


@pytest.mark.parametrize(
    ("left_out", "problem"),
    [
        ("AzureWebJobsStorage", "AzureWebJobsStorage (Field required)"),
        ("COSMOS_ENDPOINT", "cosmos_endpoint (Field required)"),
        ("COSMOS_KEY", "cosmos_key (Field required)"),
        (
            "AUTH_JWT_SECRET",
            "auth_jwks_url (Value error, no token could be verified: set AUTH_JWKS_URL "
            "(Entra ID tokens), or AUTH_JWT_SECRET with AUTH_DEV_TOKENS on (development tokens))",
        ),
    ],
)
def test_one_missing_setting_is_named_and_no_secret_is_shown(
    monkeypatch: pytest.MonkeyPatch, left_out: str, problem: str
):
    _set_required(monkeypatch, leave_out=left_out)

    message = _error()

    assert message == f"invalid or missing settings: {problem}"
    for secret in (COSMOS_KEY, STORAGE, JWT_SECRET):
        assert secret not in message


def test_invalid_secret_is_named_but_not_shown(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch, leave_out="COSMOS_ENDPOINT")
    short_secret = "too-short-SECRET-VALUE"
    monkeypatch.setenv("AUTH_JWT_SECRET", short_secret)

    message = _error()

    assert "cosmos_endpoint (Field required)" in message
    assert "auth_jwt_secret (" in message
    assert short_secret not in message
    assert COSMOS_KEY not in message


def test_endpoint_that_is_not_http_is_rejected(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("COSMOS_ENDPOINT", "localhost:8081")

    assert "cosmos_endpoint (String should match pattern" in _error()


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("true", True)])
def test_endpoint_discovery_reads_booleans(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
):
    _set_required(monkeypatch)
    monkeypatch.setenv("COSMOS_ENDPOINT_DISCOVERY", value)

    assert get_settings().cosmos_endpoint_discovery is expected


def test_settings_cannot_be_changed_after_start_up(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    settings = get_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.log_level = "DEBUG"  # type: ignore[misc]


def test_llm_providers_default_to_every_provider_with_offline_last(
    monkeypatch: pytest.MonkeyPatch,
):
    _set_required(monkeypatch)

    settings = get_settings()

    assert settings.llm_providers == "groq,gemini,qwen,offline"
    assert settings.llm_chain() == (
        ["offline"],
        {
            "groq": "GROQ_API_KEY is not set",
            "gemini": "GEMINI_API_KEY is not set",
            "qwen": "QWEN_API_KEY is not set",
        },
    )


def test_llm_providers_keep_the_order_given(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("LLM_PROVIDERS", " Gemini , offline,GROQ")
    _set_llm_keys(monkeypatch)

    settings = get_settings()

    assert settings.llm_providers == "gemini,offline,groq"
    assert settings.llm_chain() == (["gemini", "offline", "groq"], {})


@pytest.mark.parametrize(
    "value",
    ["groq,openai,offline", "groq,offline,groq", "", " , "],
    ids=["unknown", "duplicate", "empty", "only-commas"],
)
def test_llm_providers_that_are_unknown_repeated_or_empty_are_rejected(
    monkeypatch: pytest.MonkeyPatch, value: str
):
    _set_required(monkeypatch)
    monkeypatch.setenv("LLM_PROVIDERS", value)

    message = _error()

    assert "llm_providers (" in message
    assert "groq, gemini, qwen, offline" in message


def test_llm_chain_skips_providers_with_no_or_a_blank_key_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
):
    _set_required(monkeypatch)
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", "   ")

    used, skipped = get_settings().llm_chain()

    assert used == ["groq", "offline"]
    assert skipped == {
        "gemini": "GEMINI_API_KEY is not set",
        "qwen": "QWEN_API_KEY is not set",
    }
    assert get_settings().gemini_api_key is None


def test_configuration_with_no_usable_provider_is_rejected(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("LLM_PROVIDERS", "groq,gemini")
    monkeypatch.setenv("QWEN_API_KEY", QWEN_KEY)  # a key for a provider not in the list

    message = _error()

    assert "no LLM provider is usable" in message
    assert "LLM_PROVIDERS" in message
    assert QWEN_KEY not in message


def test_no_usable_provider_error_names_the_missing_key(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("LLM_PROVIDERS", "groq")

    assert "GROQ_API_KEY" in _error()


def test_printed_settings_hide_the_llm_api_keys(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    _set_llm_keys(monkeypatch)

    settings = get_settings()
    shown = f"{settings!r} {settings} {settings.model_dump()}"

    assert settings.groq_api_key is not None
    assert settings.groq_api_key.get_secret_value() == GROQ_KEY
    for key in (GROQ_KEY, GEMINI_KEY, QWEN_KEY):
        assert key not in shown


def test_settings_error_never_shows_an_llm_api_key(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    _set_llm_keys(monkeypatch)
    monkeypatch.setenv("LLM_PROVIDERS", "groq,nope")
    monkeypatch.setenv("LLM_ATTEMPT_TIMEOUT_SECONDS", "-1")

    message = _error()

    assert "llm_providers (" in message
    assert "llm_attempt_timeout_seconds (" in message
    for key in (GROQ_KEY, GEMINI_KEY, QWEN_KEY):
        assert key not in message
