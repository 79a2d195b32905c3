"""Research settings: which sources to ask, in what order, which are skipped and why."""

import os

import pytest
from pydantic import ValidationError

from adapters.settings import (
    RESEARCH_SOURCES,
    Settings,
    SettingsError,
    load_settings,
    settings_from,
)

REQUIRED = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "https://localhost:8081",
    "COSMOS_KEY": "cosmos-key",
    "SWEEP_SCHEDULE": "0 */1 * * * *",
    "AUTH_JWT_SECRET": "a-development-secret-of-at-least-32-characters",
}
STACKEXCHANGE_KEY = "se-key-NEVER-PRINTED-0a1b2c"
GITHUB_TOKEN = "ghp_github-token-NEVER-PRINTED-3d4e5f"
YOUTUBE_KEY = "AIza-youtube-key-NEVER-PRINTED-6a7b8c"
DOCS_JSON = '{"htmx": "https://htmx.org/docs/", "Python": "https://docs.python.org/3.12/"}'
DOCS = {"htmx": "https://htmx.org/docs/", "Python": "https://docs.python.org/3.12/"}


def _settings(**values: str) -> Settings:
    return settings_from({**REQUIRED, **values})


def test_every_source_is_asked_by_default_except_youtube_without_a_key():
    used, skipped = _settings().research_plan()

    assert used == ["docs", "stackoverflow", "github", "devto"]
    assert skipped == {"youtube": "YOUTUBE_API_KEY is not set"}


def test_research_defaults_are_explicit():
    settings = _settings()

    assert settings.research_sources == ",".join(RESEARCH_SOURCES)
    assert (settings.research_source_timeout_seconds, settings.research_budget_seconds) == (3, 6)
    assert settings.research_token_budget == 1_200
    assert settings.research_cache_ttl_seconds == 7 * 86_400
    assert settings.research_docs == {}


def test_sources_keep_the_order_given():
    used, skipped = _settings(RESEARCH_SOURCES="github, DOCS ,devto").research_plan()

    assert used == ["github", "docs", "devto"]
    assert skipped == {}


@pytest.mark.parametrize("value", ["", "  ", "none", "None", " NONE ", ",,"])
def test_empty_or_none_means_no_source(value: str):
    settings = _settings(RESEARCH_SOURCES=value)

    assert settings.research_sources == ""
    assert settings.research_plan() == ([], {})


@pytest.mark.parametrize(
    "value", ["docs,bing", "google", "docs,docs", "github,GitHub", "none,docs", "you tube"]
)
def test_unknown_or_repeated_sources_are_rejected(value: str):
    with pytest.raises(ValidationError) as raised:
        _settings(RESEARCH_SOURCES=value)

    assert [item["loc"] for item in raised.value.errors()] == [("research_sources",)]


def test_unknown_source_is_named_in_the_error():
    with pytest.raises(ValidationError, match=r"unknown: \['bing'\]"):
        _settings(RESEARCH_SOURCES="docs,bing")


@pytest.mark.parametrize("key", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_youtube_is_skipped_without_a_key_saying_why(key: str | None):
    values = {"RESEARCH_SOURCES": "youtube,docs"}
    if key is not None:
        values["YOUTUBE_API_KEY"] = key

    used, skipped = _settings(**values).research_plan()

    assert used == ["docs"]
    assert skipped == {"youtube": "YOUTUBE_API_KEY is not set"}


def test_youtube_is_asked_with_a_key_in_its_place():
    settings = _settings(RESEARCH_SOURCES="docs,youtube,github", YOUTUBE_API_KEY=YOUTUBE_KEY)

    assert settings.research_plan() == (["docs", "youtube", "github"], {})


def test_sources_without_keys_are_still_asked():
    used, skipped = _settings(RESEARCH_SOURCES="stackoverflow,github").research_plan()

    assert used == ["stackoverflow", "github"]
    assert skipped == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESEARCH_SOURCE_TIMEOUT_SECONDS", "0"),
        ("RESEARCH_BUDGET_SECONDS", "301"),
        ("RESEARCH_TOKEN_BUDGET", "99"),
        ("RESEARCH_CACHE_TTL_SECONDS", "59"),
    ],
)
def test_research_limits_out_of_range_are_rejected_by_name(name: str, value: str):
    with pytest.raises(ValidationError) as raised:
        _settings(**{name: value})

    assert [item["loc"] for item in raised.value.errors()] == [(name.lower(),)]


def test_research_keys_are_never_in_the_printed_settings():
    settings = _settings(
        STACKEXCHANGE_KEY=STACKEXCHANGE_KEY, GITHUB_TOKEN=GITHUB_TOKEN, YOUTUBE_API_KEY=YOUTUBE_KEY
    )

    shown = f"{settings!r} {settings} {settings.model_dump_json()} {settings.research_plan()}"

    for secret in (STACKEXCHANGE_KEY, GITHUB_TOKEN, YOUTUBE_KEY):
        assert secret not in shown
    assert settings.youtube_api_key is not None
    assert settings.youtube_api_key.get_secret_value() == YOUTUBE_KEY
    assert settings.github_token is not None
    assert settings.github_token.get_secret_value() == GITHUB_TOKEN


# From the environment, as the Functions host and devhost read them.


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    names = {name.lower() for name in Settings.model_fields} | {"azurewebjobsstorage"}
    for name in list(os.environ):
        if name.lower() in names:
            monkeypatch.delenv(name)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_research_docs_are_read_as_json_from_the_environment(environment: pytest.MonkeyPatch):
    environment.setenv("RESEARCH_DOCS", DOCS_JSON)

    assert load_settings().research_docs == DOCS


def test_research_docs_that_are_not_strings_are_named(environment: pytest.MonkeyPatch):
    environment.setenv("RESEARCH_DOCS", '{"htmx": 3}')

    with pytest.raises(SettingsError, match=r"RESEARCH_DOCS\.htmx"):
        load_settings()


def test_settings_error_never_shows_a_research_key(environment: pytest.MonkeyPatch):
    environment.setenv("YOUTUBE_API_KEY", YOUTUBE_KEY)
    environment.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    environment.setenv("RESEARCH_SOURCES", "youtube,bing")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert "RESEARCH_SOURCES" in str(raised.value)
    assert YOUTUBE_KEY not in str(raised.value)
    assert GITHUB_TOKEN not in str(raised.value)


def test_settings_from_reads_research_docs_as_json():
    assert _settings(RESEARCH_DOCS=DOCS_JSON).research_docs == DOCS


def test_research_docs_that_are_not_json_fail_with_a_settings_error(
    environment: pytest.MonkeyPatch,
):
    environment.setenv("RESEARCH_DOCS", "htmx=https://htmx.org/docs/")

    with pytest.raises(SettingsError, match="RESEARCH_DOCS"):
        load_settings()
