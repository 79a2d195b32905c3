import logging
from datetime import UTC, datetime

import httpx
import pytest

from adapters.research.github import API, GitHubSource
from domain.research import GITHUB, ResearchQuery
from tests.unit.research.wire import START, Clock, Wire, logged, recorded

QUERY = ResearchQuery("fastapi", tags=("python",))
TOKEN = "github_pat_11AAAAAAA0example0token0value"


async def test_repositories_are_normalised(wire: Wire, http: httpx.AsyncClient) -> None:
    wire.reply(body=recorded("github_search"))

    found = await GitHubSource(http).search(QUERY, time_limit=4)

    assert len(found) == 5
    first = found[0]
    assert first.kind == GITHUB
    assert first.title == "fastapi/fastapi"
    assert first.url == "https://github.com/fastapi/fastapi"
    assert first.snippet.startswith("FastAPI framework, high performance")
    assert "Language: Python." in first.snippet
    assert "71214 stars." in first.snippet
    assert first.published_at == datetime(2024, 5, 19, 21, 11, 35, tzinfo=UTC)
    assert all(0 <= f.score <= 1 for f in found)


async def test_more_stars_score_higher_on_a_log_scale(wire: Wire, http: httpx.AsyncClient) -> None:
    wire.reply(body=recorded("github_search"))

    found = await GitHubSource(http).search(QUERY, time_limit=4)

    by_title = {f.title: f.score for f in found}
    assert by_title["fastapi/fastapi"] > by_title["fastapi/sqlmodel"] > 0.7
    assert by_title["fastapi/fastapi"] < 1


async def test_the_request_sorts_by_stars_with_the_api_headers(
    wire: Wire, http: httpx.AsyncClient
) -> None:
    wire.reply(body=recorded("github_empty"))

    await GitHubSource(http).search(QUERY, time_limit=4)

    request = wire.last
    assert str(request.url).startswith(API)
    assert dict(request.url.params) == {
        "q": "fastapi",
        "sort": "stars",
        "order": "desc",
        "per_page": "5",
    }
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert "Authorization" not in request.headers


async def test_no_repositories_is_an_empty_list(wire: Wire, http: httpx.AsyncClient) -> None:
    wire.reply(body=recorded("github_empty"))

    assert await GitHubSource(http).search(QUERY, time_limit=4) == []


async def test_a_spent_window_defers_the_next_request_until_reset(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(START) + 42)}
    wire.reply(body=recorded("github_search"), headers=headers)
    source = GitHubSource(http, clock=clock)

    assert len(await source.search(QUERY, time_limit=4)) == 5  # the last allowed answer is used
    clock.advance(41)
    assert await source.search(QUERY, time_limit=4) == []
    assert len(wire.requests) == 1

    clock.advance(1)
    wire.reply(body=recorded("github_empty"))
    await source.search(QUERY, time_limit=4)
    assert len(wire.requests) == 2


async def test_a_rate_limited_refusal_rests_until_reset(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(START) + 60)}
    wire.reply(403, body=recorded("github_rate_limited"), headers=headers)
    source = GitHubSource(http, clock=clock)

    assert await source.search(QUERY, time_limit=4) == []
    clock.advance(59)
    assert await source.search(QUERY, time_limit=4) == []

    assert len(wire.requests) == 1


@pytest.mark.parametrize("status", [403, 429])
async def test_retry_after_defers_the_next_request(
    wire: Wire, http: httpx.AsyncClient, clock: Clock, status: int
) -> None:
    wire.reply(status, body=recorded("github_rate_limited"), headers={"retry-after": "30"})
    source = GitHubSource(http, clock=clock)

    await source.search(QUERY, time_limit=4)
    clock.advance(29)
    await source.search(QUERY, time_limit=4)
    assert len(wire.requests) == 1

    clock.advance(1)
    wire.reply(body=recorded("github_empty"))
    await source.search(QUERY, time_limit=4)
    assert len(wire.requests) == 2


async def test_a_refusal_without_headers_rests_for_the_refusal_cooldown(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    wire.reply(403, body=recorded("github_rate_limited"))
    source = GitHubSource(http, refusal_cooldown=90, clock=clock)

    await source.search(QUERY, time_limit=4)
    clock.advance(89)
    await source.search(QUERY, time_limit=4)

    assert len(wire.requests) == 1


async def test_a_reset_far_away_is_capped(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(START) + 10**9)}
    wire.reply(403, body=recorded("github_rate_limited"), headers=headers)
    source = GitHubSource(http, max_rest=600, clock=clock)

    await source.search(QUERY, time_limit=4)
    clock.advance(600)
    wire.reply(body=recorded("github_empty"))
    await source.search(QUERY, time_limit=4)

    assert len(wire.requests) == 2


async def test_the_token_is_a_bearer_header_and_never_logged(
    wire: Wire, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wire.reply(body=recorded("github_search")).reply(503, content=b"unavailable")
    source = GitHubSource(http, TOKEN)

    await source.search(QUERY, time_limit=4)
    await source.search(QUERY, time_limit=4)

    assert wire.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(wire.requests[0].url)
    assert TOKEN not in logged(caplog.records)
    assert TOKEN not in caplog.text
