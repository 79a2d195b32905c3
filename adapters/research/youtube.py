"""Tutorial videos through the YouTube Data API v3 ``search.list``.

Built only when a key exists. One search costs 100 of the project's 10,000 daily quota units
(about 100 searches a day); once ``quotaExceeded`` comes back, nothing is asked until the quota
resets at midnight Pacific Time. The key travels in the ``X-Goog-Api-Key`` header, never in the
URL, so no logged URL can show it.
https://developers.google.com/youtube/v3/determine_quota_cost
"""

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from adapters.research.source import JsonSearchSource
from adapters.research.text import (
    MAX_RESULTS,
    Reply,
    items_of,
    parse_time,
    plain_text,
    text_of,
)
from domain.research import YOUTUBE, Finding, ResearchQuery

API = "https://www.googleapis.com/youtube/v3/search"
WATCH = "https://www.youtube.com/watch?v="
DAY = 86_400.0
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
PACIFIC_STANDARD = -8 * 3600.0  # Google resets quotas at midnight PT; PST errs on the late side


def until_pacific_midnight(now: float) -> float:
    """Seconds from ``now`` (Unix) to the next midnight at UTC-8."""
    local = now + PACIFIC_STANDARD
    return (local // DAY + 1) * DAY - local


class YouTubeSource(JsonSearchSource):
    """``GET /youtube/v3/search``: English videos for the query, safe search strict."""

    kind = YOUTUBE
    url = API

    def __init__(
        self,
        http: httpx.AsyncClient,
        key: str,
        *,
        quota_cooldown: float | None = None,
        throttle_cooldown: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Ask through ``http`` with the API ``key``.

        :param http: the shared client; each request carries the search's own time limit.
        :param key: the YouTube Data API key, sent as the ``X-Goog-Api-Key`` header.
        :param quota_cooldown: rest after ``quotaExceeded``; ``None`` rests until the next
            midnight Pacific Time, when the daily quota resets.
        :param throttle_cooldown: rest after a 429 without ``retry-after``.
        :param clock: Unix seconds; tests pass a fake.
        """
        super().__init__(
            http, headers={"X-Goog-Api-Key": key}, throttle_cooldown=throttle_cooldown, clock=clock
        )
        self._quota_cooldown = quota_cooldown

    def params(self, query: ResearchQuery) -> dict[str, str]:
        """Strictly safe English videos for the text, by relevance."""
        return {
            "part": "snippet",
            "type": "video",
            "maxResults": str(MAX_RESULTS),
            "q": query.text[:200],
            "safeSearch": "strict",
            "relevanceLanguage": "en",
        }

    def findings(self, items: Sequence[Mapping[str, Any]]) -> Iterable[Finding | None]:
        """Videos scored by their rank in YouTube's own order."""
        return (_finding(item, rank) for rank, item in enumerate(items))

    def obey(self, reply: Reply) -> None:
        """Rest until the quota resets after ``quotaExceeded``; after a 429 as every source does."""
        if reply.status == 403 and _reason(reply.body) in {"quotaExceeded", "dailyLimitExceeded"}:
            rest = self._quota_cooldown
            self._rest.take(rest if rest is not None else until_pacific_midnight(self._rest.now()))
        else:
            super().obey(reply)

    def detail(self, body: Any) -> str:
        """The ``reason`` of a Google API error body, e.g. ``quotaExceeded``."""
        return _reason(body)


def _reason(body: Any) -> str:
    """The ``reason`` of a Google API error body, e.g. ``quotaExceeded``; ``""`` when none."""
    error = body.get("error") if isinstance(body, dict) else None
    reasons = [text_of(e, "reason") for e in items_of(error, "errors") or []]
    return plain_text(next(filter(None, reasons), ""), limit=40)


def _finding(item: Mapping[str, Any], rank: int) -> Finding | None:
    ids, snippet = item.get("id"), item.get("snippet")
    if not isinstance(ids, dict) or not isinstance(snippet, dict):
        return None
    video = text_of(ids, "videoId")
    title = plain_text(text_of(snippet, "title"), limit=200)
    if not _VIDEO_ID.fullmatch(video) or not title:
        return None
    channel = plain_text(text_of(snippet, "channelTitle"), limit=80)
    about = ": ".join(filter(None, (channel, text_of(snippet, "description"))))
    return Finding(
        kind=YOUTUBE,
        title=title,
        url=WATCH + video,
        snippet=plain_text(about),
        published_at=parse_time(snippet.get("publishedAt")),
        score=max(0.8 - 0.1 * rank, 0.4),  # no score is given: YouTube's own order decides
    )
