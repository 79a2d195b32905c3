"""Popular DEV Community articles for a topic, through the Forem API.

Forem has no free-text search, so the query becomes one tag: the first usable one of its tags,
else the first technology its text names. The top articles of the last year under that tag are
asked for; with no usable tag nothing is asked.
https://developers.forem.com/api/v1#tag/articles/operation/getArticles
"""

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from adapters.research.docs import canonical, named_in_text
from adapters.research.source import JsonSearchSource
from adapters.research.text import (
    MAX_RESULTS,
    log_score,
    parse_time,
    plain_text,
    safe_url,
    text_of,
)
from domain.research import DEVTO, Finding, ResearchQuery

log = logging.getLogger(__name__)

API = "https://dev.to/api/articles"
TOP_DAYS = "365"  # the most-liked articles of the last year
FULL_AT_REACTIONS = 1000  # reactions at which an article scores 1.0 (log scale)
DEVTO_TAGS = {"postgresql": "postgres", "scikit-learn": "machinelearning"}  # DEV's own spelling
_TAG = re.compile(r"[a-z0-9]{1,30}")


def tag_for(query: ResearchQuery) -> str | None:
    """The DEV tag to ask for: the first usable tag, else the first technology of the text."""
    for word in [*query.tags, *named_in_text(query.text)]:
        technology = canonical(word)
        tag = re.sub(r"[^a-z0-9]", "", DEVTO_TAGS.get(technology, technology))
        if _TAG.fullmatch(tag):
            return tag
    return None


class DevToSource(JsonSearchSource):
    """``GET /api/articles?tag=…&top=365``: the year's most-liked articles under one tag."""

    kind = DEVTO
    url = API
    items_key = None  # the answer is the list itself

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        throttle_cooldown: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Ask through ``http``.

        :param http: the shared client; each request carries the search's own time limit.
        :param throttle_cooldown: rest after a 429 without ``retry-after``.
        :param clock: Unix seconds; tests pass a fake.
        """
        super().__init__(
            http,
            headers={"Accept": "application/vnd.forem.api-v1+json"},
            throttle_cooldown=throttle_cooldown,
            clock=clock,
        )

    def params(self, query: ResearchQuery) -> dict[str, str] | None:
        """The year's top articles under the query's tag; ``None`` without a usable tag."""
        tag = tag_for(query)
        if tag is None:
            log.debug("research: %s has no tag for this query", self.kind)
            return None
        return {"tag": tag, "top": TOP_DAYS, "per_page": str(MAX_RESULTS)}

    def findings(self, items: Sequence[Mapping[str, Any]]) -> Iterable[Finding | None]:
        """Articles scored by reactions."""
        return map(_finding, items)


def _finding(item: Mapping[str, Any]) -> Finding | None:
    title = plain_text(text_of(item, "title"), limit=200)
    url = safe_url(item.get("url"))
    if not title or url is None:
        return None
    return Finding(
        kind=DEVTO,
        title=title,
        url=url,
        snippet=plain_text(text_of(item, "description")),
        published_at=parse_time(item.get("published_at")),
        score=log_score(item.get("positive_reactions_count"), full_at=FULL_AT_REACTIONS),
    )
