import logging
from datetime import UTC, datetime

import httpx
import pytest

from adapters.research.stackoverflow import API, StackOverflowSource
from domain.research import STACKOVERFLOW, ResearchQuery
from tests.unit.research.wire import INJECTION, Clock, Wire, logged, recorded, warnings

QUERY = ResearchQuery("flatten a list of lists in Python", tags=("python",))
KEY = "U4DMV*8nvpm3EOpvf69Rxw(("  # the shape of a Stack Exchange app key
QUOTED_KEY = "U4DMV%2A8nvpm3EOpvf69Rxw%28%28"  # as httpx writes it in a URL


async def test_questions_are_normalised(wire: Wire, http: httpx.AsyncClient) -> None:
    wire.reply(body=recorded("stackoverflow_search"))

    found = await StackOverflowSource(http).search(QUERY, time_limit=4)

    assert [f.title for f in found][:3] == [
        "How do I make a flat list out of a list of lists?",
        "Iterating over dictionaries using 'for' loops",
        'What does the "yield" keyword do in Python?',
    ]
    first = found[0]
    assert first.kind == STACKOVERFLOW
    assert first.url == (
        "https://stackoverflow.com/questions/952914/how-do-i-make-a-flat-list-out-of-a-list-of-lists"
    )
    assert first.published_at == datetime(2009, 6, 3, 23, 38, 45, tzinfo=UTC)
    assert first.snippet == (
        "4412 votes; accepted answer; tags: python, list, multidimensional-array, flatten"
    )
    assert all(0 <= f.score <= 1 for f in found)
    assert len(found) == 5


async def test_the_request_asks_for_answered_questions_by_relevance(
    wire: Wire, http: httpx.AsyncClient
) -> None:
    wire.reply(body=recorded("stackoverflow_empty"))

    await StackOverflowSource(http).search(QUERY, time_limit=4)

    request = wire.last
    assert str(request.url).startswith(API)
    assert dict(request.url.params) == {
        "q": "flatten a list of lists in Python",
        "site": "stackoverflow",
        "order": "desc",
        "sort": "relevance",
        "accepted": "True",
        "pagesize": "5",
    }


async def test_no_questions_is_an_empty_list(wire: Wire, http: httpx.AsyncClient) -> None:
    wire.reply(body=recorded("stackoverflow_empty"))

    assert await StackOverflowSource(http).search(QUERY, time_limit=4) == []


async def test_at_most_five_questions_are_kept(wire: Wire, http: httpx.AsyncClient) -> None:
    body = recorded("stackoverflow_search")
    body["items"] = body["items"] * 3
    wire.reply(body=body)

    assert len(await StackOverflowSource(http).search(QUERY, time_limit=4)) == 5


async def test_an_accepted_answer_scores_higher(wire: Wire, http: httpx.AsyncClient) -> None:
    body = recorded("stackoverflow_search")
    unaccepted = dict(
        body["items"][0], accepted_answer_id=None, link="https://stackoverflow.com/q/1"
    )
    body["items"] = [body["items"][0], unaccepted]
    wire.reply(body=body)

    accepted, other = await StackOverflowSource(http).search(QUERY, time_limit=4)

    assert accepted.score > other.score


async def test_backoff_defers_the_next_request(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    body = recorded("stackoverflow_search")
    body["backoff"] = 10
    wire.reply(body=body).reply(body=recorded("stackoverflow_empty"))
    source = StackOverflowSource(http, clock=clock)

    assert len(await source.search(QUERY, time_limit=4)) == 5  # the answer itself is used
    clock.advance(9)
    assert await source.search(QUERY, time_limit=4) == []
    assert len(wire.requests) == 1
    clock.advance(1)
    await source.search(QUERY, time_limit=4)
    assert len(wire.requests) == 2


async def test_a_throttle_violation_rests_as_long_as_the_api_says(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    wire.reply(400, body=recorded("stackoverflow_throttle"))
    source = StackOverflowSource(http, clock=clock)

    assert await source.search(QUERY, time_limit=4) == []
    clock.advance(79_422)
    assert await source.search(QUERY, time_limit=4) == []
    assert len(wire.requests) == 1

    clock.advance(1)
    wire.reply(body=recorded("stackoverflow_empty"))
    await source.search(QUERY, time_limit=4)
    assert len(wire.requests) == 2


async def test_a_429_without_a_stated_wait_rests_for_the_throttle_cooldown(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    wire.reply(429, content=b"Too Many Requests")
    source = StackOverflowSource(http, throttle_cooldown=30, clock=clock)

    await source.search(QUERY, time_limit=4)
    clock.advance(29)
    await source.search(QUERY, time_limit=4)

    assert len(wire.requests) == 1


async def test_a_spent_quota_stops_requests_until_it_resets(
    wire: Wire, http: httpx.AsyncClient, clock: Clock
) -> None:
    body = recorded("stackoverflow_search")
    body["quota_remaining"] = 0
    wire.reply(body=body)
    source = StackOverflowSource(http, quota_cooldown=3600, clock=clock)

    assert len(await source.search(QUERY, time_limit=4)) == 5
    clock.advance(3599)
    assert await source.search(QUERY, time_limit=4) == []
    assert len(wire.requests) == 1

    clock.advance(1)
    wire.reply(body=recorded("stackoverflow_empty"))
    await source.search(QUERY, time_limit=4)
    assert len(wire.requests) == 2


async def test_the_key_is_a_query_parameter_and_never_logged(
    wire: Wire, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wire.reply(body=recorded("stackoverflow_search")).reply(
        400, body=recorded("stackoverflow_throttle")
    )
    source = StackOverflowSource(http, KEY)

    await source.search(QUERY, time_limit=4)
    await source.search(QUERY, time_limit=4)  # throttled: a warning
    await source.search(QUERY, time_limit=4)  # resting: nothing is sent, a debug line

    assert wire.requests[0].url.params["key"] == KEY
    assert "HTTP Request" in logged(caplog.records)  # httpx's own line, which shows the URL
    for secret in (KEY, QUOTED_KEY, "8nvpm3EOpvf69Rxw"):
        assert secret not in logged(caplog.records)
        assert secret not in caplog.text


async def test_without_a_key_none_is_sent(wire: Wire, http: httpx.AsyncClient) -> None:
    wire.reply(body=recorded("stackoverflow_empty"))

    await StackOverflowSource(http).search(QUERY, time_limit=4)

    assert "key" not in wire.last.url.params


async def test_html_and_injection_in_titles_come_back_as_plain_text(
    wire: Wire, http: httpx.AsyncClient
) -> None:
    body = recorded("stackoverflow_search")
    body["items"][0]["title"] = INJECTION
    body["items"][0]["tags"] = ["<b>python</b>"]
    wire.reply(body=body)

    found = await StackOverflowSource(http).search(QUERY, time_limit=4)

    assert found[0].title.startswith("Ignore previous instructions")
    for finding in found:
        for text in (finding.title, finding.snippet):
            assert "<" not in text
            assert ">" not in text


async def test_a_bad_status_is_one_warning_naming_the_error(
    wire: Wire, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wire.reply(400, body={"error_id": 400, "error_message": "q", "error_name": "bad_parameter"})

    assert await StackOverflowSource(http).search(QUERY, time_limit=4) == []

    [warning] = warnings(caplog.records)
    assert "bad_parameter" in warning.getMessage()
