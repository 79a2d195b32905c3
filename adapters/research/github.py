"""Popular GitHub repositories for a topic, through the REST search API.

Search allows 10 requests a minute without a token and 30 with one. When the window is spent,
``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset`` (Unix seconds) say until when; a refusal
(403/429) may carry ``retry-after`` instead. The source rests until then and asks nothing.
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from adapters.research.source import JsonSearchSource
from adapters.research.text import (
    MAX_RESULTS,
    Reply,
    log_score,
    parse_time,
    plain_text,
    safe_url,
    seconds,
    strings_of,
    text_of,
)
from domain.research import GITHUB, Finding, ResearchQuery

log = logging.getLogger(__name__)

API = "https://api.github.com/search/repositories"
FULL_AT_STARS = 100_000  # stars at which a repository scores 1.0 (log scale)
MAX_QUERY = 256  # GitHub refuses longer search queries


class GitHubSource(JsonSearchSource):
    """``GET /search/repositories``: the most-starred repositories matching the query text."""

    kind = GITHUB
    url = API

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str | None = None,
        *,
        refusal_cooldown: float = 60.0,
        max_rest: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Ask through ``http``, with ``token`` as a bearer token when there is one.

        :param http: the shared client; each request carries the search's own time limit.
        :param token: a GitHub token (30 searches a minute instead of 10); ``None`` asks without.
        :param refusal_cooldown: rest after a 403/429 that says neither ``retry-after`` nor reset.
        :param max_rest: the longest rest a header can impose (guards against a bad clock).
        :param clock: Unix seconds, the same clock as ``x-ratelimit-reset``; tests pass a fake.
        """
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        super().__init__(http, headers=headers, throttle_cooldown=refusal_cooldown, clock=clock)
        self._max_rest = max_rest

    def params(self, query: ResearchQuery) -> dict[str, str]:
        """Repositories matching the text, most stars first."""
        return {
            "q": query.text[:MAX_QUERY],
            "sort": "stars",
            "order": "desc",
            "per_page": str(MAX_RESULTS),
        }

    def findings(self, items: Sequence[Mapping[str, Any]]) -> Iterable[Finding | None]:
        """Repositories scored by stars."""
        return map(_finding, items)

    def obey(self, reply: Reply) -> None:
        """Rest for ``retry-after``, until ``x-ratelimit-reset`` when none is left, or a while."""
        wait: float | None = None
        if reply.status in (403, 429):
            wait = seconds(reply.headers.get("retry-after"))
        if wait is None and reply.headers.get("x-ratelimit-remaining") == "0":
            reset = seconds(reply.headers.get("x-ratelimit-reset"))
            wait = reset - self._rest.now() if reset is not None else None
        if wait is None and reply.status in (403, 429):
            wait = self._throttle_cooldown
        if wait is not None and wait > 0:
            log.info("research: %s is rate limited; resting %.0f s", self.kind, wait)
            self._rest.take(min(wait, self._max_rest))


def _finding(item: Mapping[str, Any]) -> Finding | None:
    title = plain_text(text_of(item, "full_name"), limit=200)
    url = safe_url(item.get("html_url"))
    if not title or url is None:
        return None
    stars = item.get("stargazers_count")
    facts = [text_of(item, "description")]
    if language := text_of(item, "language"):
        facts.append(f"Language: {language}.")
    if isinstance(stars, int) and not isinstance(stars, bool):
        facts.append(f"{stars} stars.")
    topics = strings_of(item, "topics")
    if topics:
        facts.append("Topics: " + ", ".join(topics[:8]) + ".")
    return Finding(
        kind=GITHUB,
        title=title,
        url=url,
        snippet=plain_text(" ".join(f for f in facts if f)),
        published_at=parse_time(item.get("pushed_at")),
        score=log_score(stars, full_at=FULL_AT_STARS),
    )
