"""What every source does when the wire misbehaves: one warning, no exception, no findings."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.research.devto import DevToSource
from adapters.research.docs import OfficialDocsSource
from adapters.research.github import GitHubSource
from adapters.research.stackoverflow import StackOverflowSource
from adapters.research.youtube import YouTubeSource
from domain.research import Finding, ResearchQuery, ResearchSource
from tests.unit.research.wire import Wire, recorded, warnings


@dataclass(frozen=True)
class Case:
    build: Callable[[httpx.AsyncClient], ResearchSource]
    success: str  # the recorded answer
    fallback: list[str]  # URLs still found when the API fails (docs links its home)


QUERY = ResearchQuery("JavaScript array map", tags=("javascript",))
CASES = {
    "docs": Case(
        OfficialDocsSource,
        "mdn_search",
        ["https://developer.mozilla.org/en-US/docs/Web/JavaScript"],
    ),
    "stackoverflow": Case(lambda h: StackOverflowSource(h, "k"), "stackoverflow_search", []),
    "github": Case(lambda h: GitHubSource(h, "t"), "github_search", []),
    "devto": Case(DevToSource, "devto_articles", []),
    "youtube": Case(lambda h: YouTubeSource(h, "k"), "youtube_search", []),
}
every_source = pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())


def urls(found: list[Finding]) -> list[str]:
    return [f.url for f in found]


@every_source
async def test_every_request_carries_the_time_limit(
    case: Case, wire: Wire, http: httpx.AsyncClient
) -> None:
    wire.reply(body=recorded(case.success))

    found = await case.build(http).search(QUERY, time_limit=2.5)

    assert found
    assert wire.last.extensions["timeout"] == dict.fromkeys(
        ["connect", "read", "write", "pool"], 2.5
    )


@every_source
@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("refused")],
    ids=["read-timeout", "connect-timeout", "connect-error"],
)
async def test_network_trouble_is_one_warning_and_no_findings(
    case: Case,
    error: Exception,
    wire: Wire,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire.fail(error)

    found = await case.build(http).search(QUERY, time_limit=1)

    assert urls(found) == case.fallback
    assert len(wire.requests) == 1
    assert len(warnings(caplog.records)) == 1


@pytest.mark.parametrize(
    "case", [c for k, c in CASES.items() if k != "devto"], ids=[k for k in CASES if k != "devto"]
)  # DEV is asked for a tag, never for the text
async def test_a_query_that_cannot_be_encoded_is_one_warning_and_no_request(
    case: Case, wire: Wire, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    query = ResearchQuery("JavaScript \ud800 arrays", tags=("javascript",))

    found = await case.build(http).search(query, time_limit=1)

    assert urls(found) == case.fallback
    assert wire.requests == []
    assert len(warnings(caplog.records)) == 1


@every_source
@pytest.mark.parametrize("status", [400, 401, 404, 500, 502, 503])
async def test_a_bad_status_is_one_warning_and_no_findings(
    case: Case, status: int, wire: Wire, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    wire.reply(status, body={"message": "nope"})

    found = await case.build(http).search(QUERY, time_limit=1)

    assert urls(found) == case.fallback
    assert len(warnings(caplog.records)) == 1


@every_source
@pytest.mark.parametrize(
    "content",
    [b"<html><body>Bad gateway</body></html>", b'{"items": [', b"\xff\xfe\x00garbage", b""],
    ids=["html", "truncated", "binary", "empty"],
)
async def test_a_body_that_is_not_json_is_one_warning_and_no_findings(
    case: Case,
    content: bytes,
    wire: Wire,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire.reply(200, content=content, headers={"content-type": "application/json"})

    found = await case.build(http).search(QUERY, time_limit=1)

    assert urls(found) == case.fallback
    assert len(warnings(caplog.records)) == 1


@every_source
@pytest.mark.parametrize(
    "body",
    [
        None,
        42,
        "items",
        {"items": {"title": "x"}, "documents": "x"},
        {"error": "shape"},
    ],
    ids=["null", "number", "string", "items-not-a-list", "no-items"],
)
async def test_a_body_of_the_wrong_shape_is_one_warning_and_no_findings(
    case: Case, body: Any, wire: Wire, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    wire.reply(body=body)

    found = await case.build(http).search(QUERY, time_limit=1)

    assert urls(found) == case.fallback
    assert len(warnings(caplog.records)) == 1


@every_source
async def test_items_of_the_wrong_shape_are_skipped(
    case: Case, wire: Wire, http: httpx.AsyncClient
) -> None:
    junk: list[Any] = [
        None,
        "text",
        [1, 2],
        {"title": 5, "link": 6, "url": 7, "html_url": 8, "full_name": 9, "mdn_url": 10},
        {"title": "x", "full_name": "x", "link": "javascript:alert(1)", "url": "javascript:1",
         "html_url": "javascript:1", "mdn_url": "javascript:1", "id": "v", "snippet": "s"},
        {"id": {"videoId": 5}, "snippet": {"title": ["x"]}},
        {"title": "", "full_name": "", "link": "https://x.example", "url": "https://x.example",
         "html_url": "https://x.example", "mdn_url": "/x", "score": "high"},
    ]  # fmt: skip
    body = recorded(case.success)
    body_items = body if isinstance(body, list) else body.get("items", body.get("documents"))
    real = body_items[0]
    body_items[:] = [*junk, real]
    wire.reply(body=body)

    found = await case.build(http).search(QUERY, time_limit=1)

    assert len(found) == 1
    assert 0 <= found[0].score <= 1


@every_source
async def test_scores_stay_within_bounds_whatever_the_numbers(
    case: Case, wire: Wire, http: httpx.AsyncClient
) -> None:
    body = recorded(case.success)
    items = body if isinstance(body, list) else body.get("items", body.get("documents"))
    for index, item in enumerate(items):
        weird: Any = [10**30, -5, float("inf"), True, "9"][index % 5]
        for key in ("score", "stargazers_count", "positive_reactions_count"):
            if key in item:
                item[key] = weird
    wire.reply(content=json.dumps(body).replace("Infinity", "1e999").encode())  # 1e999 reads as inf

    found = await case.build(http).search(QUERY, time_limit=1)

    assert found
    assert all(0 <= f.score <= 1 for f in found)
