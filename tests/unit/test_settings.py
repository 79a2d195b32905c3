"""Settings fail fast, name what is missing or wrong, and never echo a secret."""

import os

import pytest

from adapters.settings import Settings, SettingsError, load_settings

COSMOS_KEY = "cosmos-key-SHOULD-NEVER-BE-PRINTED-9f8e7d"
STORAGE = "DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=storage-key-NEVER-PRINTED"
JWT_SECRET = "jwt-secret-NEVER-PRINTED-and-at-least-32-characters"
GROQ_KEY = "gsk_groq-key-NEVER-PRINTED-1a2b3c"
GEMINI_KEY = "AIza-gemini-key-NEVER-PRINTED-4d5e6f"
QWEN_KEY = "sk-qwen-key-NEVER-PRINTED-7a8b9c"
SETTING_NAMES = {name.lower() for name in Settings.model_fields} | {"azurewebjobsstorage"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower() in SETTING_NAMES:
            monkeypatch.delenv(name)


def _set_required(monkeypatch: pytest.MonkeyPatch, *, leave_out: str = "") -> None:
    values = {
        "AzureWebJobsStorage": STORAGE,
        "COSMOS_ENDPOINT": "https://localhost:8081",
        "COSMOS_KEY": COSMOS_KEY,
        "AUTH_JWT_SECRET": JWT_SECRET,
        "SWEEP_SCHEDULE": "0 */1 * * * *",
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
        load_settings()
    return str(raised.value)


def test_required_settings_are_read_with_defaults_for_the_rest(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)

    settings = load_settings()

    assert settings.storage_connection is not None
    assert settings.storage_connection.get_secret_value() == STORAGE
    assert settings.cosmos_endpoint == "https://localhost:8081"
    assert settings.cosmos_key is not None
    assert settings.cosmos_key.get_secret_value() == COSMOS_KEY
    assert settings.auth_jwt_secret is not None
    assert settings.auth_jwt_secret.get_secret_value() == JWT_SECRET
    assert settings.dev_tokens is True
    assert settings.auth_jwks_url is None
    assert settings.cosmos_database == "skillsync"
    assert settings.cosmos_endpoint_discovery is True
    assert settings.auth_issuer is None
    assert settings.auth_audience is None
    assert settings.require_llm_provider is False
    assert settings.poll_after_seconds == 2


def test_printed_settings_hide_the_secrets(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)

    shown = f"{load_settings()!r} {load_settings()}"

    for secret in (COSMOS_KEY, STORAGE, JWT_SECRET):
        assert secret not in shown


def test_missing_settings_are_each_named():
    message = _error()

    assert message.startswith("invalid or missing settings: ")
    for name in ("COSMOS_ENDPOINT", "SWEEP_SCHEDULE"):
        assert f"{name}: Field required" in message


@pytest.mark.parametrize(
    ("left_out", "problem"),
    [
        (
            "AzureWebJobsStorage",
            "AzureWebJobsStorage (a connection string) or AzureWebJobsStorage__accountName / "
            "AzureWebJobsStorage__queueServiceUri (with an identity) must be set",
        ),
        ("COSMOS_ENDPOINT", "COSMOS_ENDPOINT: Field required"),
        ("SWEEP_SCHEDULE", "SWEEP_SCHEDULE: Field required"),
        (
            "AUTH_JWT_SECRET",
            "no token could be verified: set AUTH_JWKS_URL "
            "(Entra ID tokens), or AUTH_JWT_SECRET with AUTH_DEV_TOKENS on (development tokens)",
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

    assert "COSMOS_ENDPOINT: Field required" in message
    assert "AUTH_JWT_SECRET: " in message
    assert short_secret not in message
    assert COSMOS_KEY not in message


def test_endpoint_that_is_not_http_is_rejected(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("COSMOS_ENDPOINT", "localhost:8081")

    assert "COSMOS_ENDPOINT: String should match pattern" in _error()


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("true", True)])
def test_endpoint_discovery_reads_booleans(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
):
    _set_required(monkeypatch)
    monkeypatch.setenv("COSMOS_ENDPOINT_DISCOVERY", value)

    assert load_settings().cosmos_endpoint_discovery is expected


def test_settings_cannot_be_changed_after_start_up(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    settings = load_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.log_level = "DEBUG"  # type: ignore[misc]


def test_llm_providers_default_to_every_provider_with_offline_last(
    monkeypatch: pytest.MonkeyPatch,
):
    _set_required(monkeypatch)

    settings = load_settings()

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

    settings = load_settings()

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

    assert "LLM_PROVIDERS: " in message
    assert "groq, gemini, qwen, offline" in message


def test_llm_chain_skips_providers_with_no_or_a_blank_key_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
):
    _set_required(monkeypatch)
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", "   ")

    used, skipped = load_settings().llm_chain()

    assert used == ["groq", "offline"]
    assert skipped == {
        "gemini": "GEMINI_API_KEY is not set",
        "qwen": "QWEN_API_KEY is not set",
    }
    assert load_settings().gemini_api_key is None


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

    settings = load_settings()
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

    assert "LLM_PROVIDERS: " in message
    assert "LLM_ATTEMPT_TIMEOUT_SECONDS: " in message
    for key in (GROQ_KEY, GEMINI_KEY, QWEN_KEY):
        assert key not in message


def test_every_bad_or_missing_setting_is_named_at_once_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
):
    _set_required(monkeypatch, leave_out="COSMOS_ENDPOINT")
    monkeypatch.setenv("COSMOS_TIMEOUT_SECONDS", "abc-not-a-number")

    message = _error()

    assert "COSMOS_ENDPOINT: Field required" in message
    assert "COSMOS_TIMEOUT_SECONDS: Input should be a valid number" in message
    assert "abc-not-a-number" not in message


@pytest.mark.parametrize(
    "schedule",
    ["*/5 * * * *", "0 */1 * * * * *", "0 61 * * * *", "every minute", "00:01:00"],
    ids=["five-fields", "seven-fields", "minute-61", "words", "timespan"],
)
def test_a_sweep_schedule_that_is_not_ncrontab_is_named(
    monkeypatch: pytest.MonkeyPatch, schedule: str
):
    _set_required(monkeypatch)
    monkeypatch.setenv("SWEEP_SCHEDULE", schedule)

    assert "SWEEP_SCHEDULE: " in _error()


def test_a_six_field_ncrontab_sweep_schedule_is_kept(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("SWEEP_SCHEDULE", "30 */2 * * * Sun-Sat")

    assert load_settings().sweep_schedule == "30 */2 * * * Sun-Sat"


@pytest.mark.parametrize("name", ["AUTH_JWT_SECRET", "GROQ_API_KEY", "COSMOS_KEY"])
def test_an_unresolved_key_vault_reference_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str
):
    _set_required(monkeypatch)
    reference = "@Microsoft.KeyVault(VaultName=kv-skillsync;SecretName=some-secret)"
    monkeypatch.setenv(name, reference)

    message = _error()

    assert f"{name}: is an unresolved Key Vault reference" in message
    assert "kv-skillsync" not in message


def test_requiring_a_provider_refuses_a_start_with_only_offline(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("REQUIRE_LLM_PROVIDER", "true")

    message = _error()

    assert "REQUIRE_LLM_PROVIDER is on but no network provider" in message
    assert "GROQ_API_KEY" in message


def test_requiring_a_provider_starts_with_one_key(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch)
    monkeypatch.setenv("REQUIRE_LLM_PROVIDER", "true")
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)

    assert load_settings().llm_chain()[0] == ["gemini", "offline"]


def test_identity_based_storage_needs_no_connection_string(monkeypatch: pytest.MonkeyPatch):
    _set_required(monkeypatch, leave_out="AzureWebJobsStorage")
    monkeypatch.delenv("COSMOS_KEY")
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "stskillsync01")
    monkeypatch.setenv("AzureWebJobsStorage__credential", "managedidentity")

    settings = load_settings()

    assert settings.storage_connection is None
    assert settings.cosmos_key is None
    assert settings.storage_account_name == "stskillsync01"
