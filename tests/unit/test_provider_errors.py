"""HTTP answers of LLM hosts become the domain's provider errors, and say when to come back."""

from datetime import UTC, datetime

import pytest

from adapters.llm import errors
from adapters.llm.errors import for_status, retry_after
from domain.errors import (
    FinalError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RetryableError,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SECRET = "sk-THIS-VALUE-MUST-NOT-APPEAR"


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(errors, "utcnow", lambda: NOW)
    return NOW


def _google_retry_info(delay: str) -> dict[str, object]:
    return {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ],
        }
    }


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250"}, 0.25),
        ({"retry-after": "12"}, 12.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"retry-after-ms": "800", "retry-after": "9"}, 0.8),
    ],
    ids=["ms", "ms-any-case", "seconds", "fractional-seconds", "ms-preferred"],
)
def test_retry_after_reads_milliseconds_or_seconds_headers(headers: dict[str, str], seconds: float):
    assert retry_after(headers) == seconds


def test_retry_after_reads_an_http_date_as_seconds_from_now(frozen_now: datetime):
    assert retry_after({"retry-after": "Sun, 01 Mar 2026 12:01:30 GMT"}) == 90.0


def test_retry_after_an_http_date_already_past_is_zero(frozen_now: datetime):
    assert retry_after({"retry-after": "Sun, 01 Mar 2026 11:00:00 GMT"}) == 0.0


@pytest.mark.parametrize(("delay", "seconds"), [("37s", 37.0), ("0.5s", 0.5)])
def test_retry_after_reads_google_retry_info(delay: str, seconds: float):
    assert retry_after({}, _google_retry_info(delay)) == seconds
    assert retry_after(None, _google_retry_info(delay)["error"]) == seconds


@pytest.mark.parametrize(
    ("headers", "details"),
    [
        (None, None),
        ({}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after-ms": "a while"}, None),
        ({}, _google_retry_info("thirty seconds")),
        ({}, {"error": {"details": "not a list"}}),
        ({}, "a plain-text body"),
    ],
    ids=[
        "no-headers",
        "empty",
        "words",
        "negative",
        "ms-words",
        "bad-delay",
        "odd-details",
        "text-body",
    ],
)
def test_retry_after_is_none_when_nothing_readable_says_when(headers, details):
    assert retry_after(headers, details) is None


def test_429_is_rate_limited_with_its_retry_after():
    error = for_status("groq", 429, {"retry-after": "7"})

    assert isinstance(error, ProviderRateLimited)
    assert isinstance(error, RetryableError)
    assert error.retry_after == 7.0


def test_429_without_a_retry_after_is_rate_limited_for_an_unknown_time():
    error = for_status("gemini", 429, {}, _google_retry_info("37s"))
    bare = for_status("gemini", 429)

    assert isinstance(error, ProviderRateLimited)
    assert error.retry_after == 37.0
    assert isinstance(bare, ProviderRateLimited)
    assert bare.retry_after is None


@pytest.mark.parametrize("status", [401, 403, 404])
def test_bad_key_or_unknown_model_is_a_configuration_refusal(status: int):
    error = for_status("qwen", status)

    assert isinstance(error, ProviderRejected)
    assert isinstance(error, FinalError)
    assert (error.status, error.auth) == (status, True)


@pytest.mark.parametrize("status", [400, 409, 413, 422])
def test_other_client_error_is_a_plain_refusal(status: int):
    error = for_status("groq", status)

    assert isinstance(error, ProviderRejected)
    assert (error.status, error.auth) == (status, False)


def test_408_is_a_timeout():
    error = for_status("groq", 408)

    assert isinstance(error, ProviderTimeout)
    assert isinstance(error, RetryableError)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_is_unavailable(status: int):
    error = for_status("gemini", status)

    assert type(error) is ProviderUnavailable
    assert isinstance(error, RetryableError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 429, 500, 503])
def test_message_names_the_provider_and_status_but_no_header_value(status: int):
    headers = {
        "retry-after": "3",
        "x-request-id": SECRET,
        "authorization": f"Bearer {SECRET}",
        "set-cookie": f"session={SECRET}",
    }

    error = for_status("groq", status, headers, {"error": {"message": SECRET}})

    assert str(error) == f"groq answered HTTP {status}"
    assert SECRET not in repr(error)
