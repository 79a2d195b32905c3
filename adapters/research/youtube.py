"""Tutorial videos through the YouTube Data API v3 ``search.list``.

Built only when a key exists. One search costs 100 of the project's 10,000 daily quota units
(about 100 searches a day); once ``quotaExceeded`` comes back, nothing is asked until the quota
resets at midnight Pacific Time. The key travels in the ``X-Goog-Api-Key`` header, never in the
URL, so no logged URL can show it.
https://developers.google.com/youtube/v3/determine_quota_cost
"""

import logging
import re
import time
from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

import httpx

from adapters.research.text import (
    MAX_RESULTS,
    Reply,
    Rest,
    get_json,
    items_of,
    parse_time,
    plain_text,
    say_unusable,
    seconds,
    text_of,
)
from domain.research import YOUTUBE, Finding, ResearchQuery

log = logging.getLogger(__name__)

API = "https://www.googleapis.com/youtube/v3/search"
WATCH = "https://www.youtube.com/watch?v="
DAY = 86_400.0
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
PACIFIC_STANDARD = -8 * 3600.0  # Google resets quotas at midnight PT; PST errs on the late side


def until_pacific_midnight(now: float) -> float:
    """Seconds from ``now`` (Unix) to the next midnight at UTC-8."""
    local = now + PACIFIC_STANDARD
    return (local // DAY + 1) * DAY - local


class YouTubeSource:
    """``GET /youtube/v3/search``: English videos for the query, safe search strict."""

    kind = YOUTUBE

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

        :param quota_cooldown: rest after ``quotaExceeded``; ``None`` rests until the next
            midnight Pacific Time, when the daily quota resets.
        :param throttle_cooldown: rest after a 429 without ``retry-after``.
        :param clock: Unix seconds; tests pass a fake.
        """
        self._http = http
        self._headers = {"X-Goog-Api-Key": key}
        self._quota_cooldown = quota_cooldown
        self._throttle_cooldown = throttle_cooldown
        self._rest = Rest(clock)

    async def search(self, query: ResearchQuery, *, time_limit: float) -> list[Finding]:
        """Up to five videos in relevance order; ``[]`` while resting or on trouble."""
        if self._rest.resting(self.kind):
            return []
        params = {
            "part": "snippet",
            "type": "video",
            "maxResults": str(MAX_RESULTS),
            "q": query.text[:200],
            "safeSearch": "strict",
            "relevanceLanguage": "en",
        }
        reply = await get_json(
            self._http, self.kind, API, params=params, headers=self._headers, time_limit=time_limit
        )
        if reply is None:
            return []
        self._obey(reply)
        items = items_of(reply.body, "items") if reply.status == 200 else None
        if items is None:
            say_unusable(
                self.kind, reply, f"({_reason(reply.body)})" if _reason(reply.body) else ""
            )
            return []
        found = (_finding(item, rank) for rank, item in enumerate(items))
        return list(islice(filter(None, found), MAX_RESULTS))

    def _obey(self, reply: Reply) -> None:
        if reply.status == 403 and _reason(reply.body) in {"quotaExceeded", "dailyLimitExceeded"}:
            rest = self._quota_cooldown
            self._rest.take(rest if rest is not None else until_pacific_midnight(self._rest.now()))
        elif reply.status == 429:
            wait = seconds(reply.headers.get("retry-after"))
            self._rest.take(wait if wait is not None else self._throttle_cooldown)


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
