"""HTTP answers of LLM hosts and failures to reach them become the domain's provider errors."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import partial

import groq
import httpx
import pytest
from google.genai import errors as genai_errors

from adapters.llm import errors
from adapters.llm.errors import for_status, provider_errors, reply_shape, retry_after
from adapters.llm.gemini import RAISED as GEMINI_RAISED
from adapters.llm.groq import RAISED as GROQ_RAISED
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


def _raised_in(block: Callable[[], AbstractContextManager[None]], error: Exception) -> Exception:
    try:
        with block():
            raise error
    except Exception as raised:  # whatever leaves the block is the answer
        return raised
    raise AssertionError("the block swallowed the error")


REQUEST = httpx.Request("POST", f"https://llm.example/v1/chat?key={SECRET}")


def _groq_status(status: int, headers: dict[str, str] | None = None) -> Exception:
    response = httpx.Response(status, headers=headers, request=REQUEST)
    return groq.APIStatusError(f"refused {SECRET}", response=response, body={"error": SECRET})


GROQ = partial(provider_errors, "groq", 5, GROQ_RAISED)
GEMINI = partial(provider_errors, "gemini", 5, GEMINI_RAISED)
QWEN = partial(provider_errors, "qwen", 5)


@pytest.mark.parametrize("status", [400, 401, 408, 429, 500])
def test_an_sdk_status_error_is_mapped_like_the_status(status: int):
    error = _raised_in(GROQ, _groq_status(status, {"retry-after": "7"}))

    assert type(error) is type(for_status("groq", status))
    assert str(error) == f"groq answered HTTP {status}"
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_an_sdk_rate_limit_keeps_its_retry_after():
    error = _raised_in(GROQ, _groq_status(429, {"retry-after": "7"}))

    assert isinstance(error, ProviderRateLimited)
    assert error.retry_after == 7.0


def test_a_google_error_reads_its_code_and_retry_info():
    google_error = genai_errors.APIError(429, _google_retry_info("37s"))

    error = _raised_in(GEMINI, google_error)

    assert isinstance(error, ProviderRateLimited)
    assert error.retry_after == 37.0
    assert str(error) == "gemini answered HTTP 429"


@pytest.mark.parametrize(
    ("block", "failure"),
    [
        (GROQ, groq.APITimeoutError(REQUEST)),
        (GEMINI, httpx.ReadTimeout("slow", request=REQUEST)),
        (GEMINI, TimeoutError()),
        (QWEN, httpx.ConnectTimeout("slow", request=REQUEST)),
    ],
    ids=["groq", "gemini-httpx", "gemini-plain", "httpx"],
)
def test_no_answer_in_time_is_a_timeout_naming_the_limit(block, failure: Exception):
    error = _raised_in(block, failure)

    assert type(error) is ProviderTimeout
    assert str(error).endswith("did not answer in 5 s")


@pytest.mark.parametrize(
    ("block", "failure", "kind"),
    [
        (GROQ, groq.APIConnectionError(request=REQUEST), "APIConnectionError"),
        (GEMINI, httpx.ConnectError(SECRET, request=REQUEST), "ConnectError"),
        (QWEN, httpx.RemoteProtocolError(SECRET, request=REQUEST), "RemoteProtocolError"),
    ],
    ids=["groq", "gemini", "httpx"],
)
def test_no_connection_is_unavailable_naming_only_the_error_type(block, failure, kind: str):
    error = _raised_in(block, failure)

    assert type(error) is ProviderUnavailable
    assert str(error).endswith(f"is unreachable: {kind}")
    assert SECRET not in str(error)


@pytest.mark.parametrize(
    ("block", "failure"),
    [(QWEN, RuntimeError("a bug")), (QWEN, _groq_status(500)), (GROQ, httpx.ReadTimeout("x"))],
    ids=["not-a-client-error", "another-sdks-error", "wrapped-by-the-sdk-elsewhere"],
)
def test_failures_the_client_does_not_raise_pass_through(block, failure: Exception):
    assert _raised_in(block, failure) is failure


@pytest.mark.parametrize(
    "failure", [ValueError("not json"), KeyError("choices"), IndexError(0), TypeError("None")]
)
def test_a_reply_of_unknown_shape_is_unavailable(failure: Exception):
    error = _raised_in(partial(reply_shape, "qwen"), failure)

    assert type(error) is ProviderUnavailable
    assert str(error) == "qwen sent a response of unknown shape"
