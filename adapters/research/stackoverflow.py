"""Stack Overflow questions with an accepted answer, through the Stack Exchange API 2.3.

Without a key an IP may send 300 requests a day (10,000 with one). Any answer may carry
``backoff`` (seconds during which the same method must not be called again) and
``quota_remaining``; both are obeyed by resting, so the next search sends nothing until then.
https://api.stackexchange.com/docs/throttle
"""

import logging
import re
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
    strings_of,
    text_of,
)
from domain.research import STACKOVERFLOW, Finding, ResearchQuery

log = logging.getLogger(__name__)

API = "https://api.stackexchange.com/2.3/search/advanced"
FULL_AT_VOTES = 1000  # votes at which the vote part of the score is full (log scale)
ACCEPTED_SHARE = 0.2  # the part of the score an accepted answer earns, beside the votes
_AVAILABLE_IN = re.compile(r"available in (\d+) seconds")


class StackOverflowSource(JsonSearchSource):
    """``GET /2.3/search/advanced``: the best-matching answered questions, by relevance."""

    kind = STACKOVERFLOW
    url = API

    def __init__(
        self,
        http: httpx.AsyncClient,
        key: str | None = None,
        *,
        quota_cooldown: float = 3600.0,
        throttle_cooldown: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Ask through ``http``; with ``key``, 10,000 requests a day instead of 300.

        :param http: the shared client; each request carries the search's own time limit.
        :param key: a Stack Apps key (not a secret, but never logged); ``None`` asks without one.
        :param quota_cooldown: rest after ``quota_remaining`` reaches 0 (the quota is daily).
        :param throttle_cooldown: rest after a throttle error that names no wait.
        :param clock: Unix seconds; tests pass a fake.
        """
        super().__init__(http, throttle_cooldown=throttle_cooldown, clock=clock)
        self._key = key or None
        self._quota_cooldown = quota_cooldown
        if self._key:
            _hide_keys_in_httpx_logs()

    def params(self, query: ResearchQuery) -> dict[str, str]:
        """Answered questions by relevance; the key, when there is one, as ``key``."""
        params = {
            "q": query.text[:250],
            "site": "stackoverflow",
            "order": "desc",
            "sort": "relevance",
            "accepted": "True",
            "pagesize": str(MAX_RESULTS),
        }
        if self._key:
            params["key"] = self._key
        return params

    def findings(self, items: Sequence[Mapping[str, Any]]) -> Iterable[Finding | None]:
        """Questions scored by votes and by having an accepted answer."""
        return map(_finding, items)

    def obey(self, reply: Reply) -> None:
        """Rest for ``backoff``, a spent quota, or a throttle error (as long as it says)."""
        body = reply.body if isinstance(reply.body, dict) else {}
        backoff = body.get("backoff")
        if isinstance(backoff, int | float) and not isinstance(backoff, bool):
            log.info("research: %s asks to back off for %s s", self.kind, backoff)
            self._rest.take(float(backoff))
        if body.get("quota_remaining") == 0:
            log.warning("research: %s daily quota is spent", self.kind)
            self._rest.take(self._quota_cooldown)
        if reply.status in (429, 503) or body.get("error_name") == "throttle_violation":
            waited = _AVAILABLE_IN.search(text_of(body, "error_message"))
            self._rest.take(float(waited.group(1)) if waited else self._throttle_cooldown)

    def detail(self, body: Any) -> str:
        """The ``error_name`` of a Stack Exchange error body, e.g. ``throttle_violation``."""
        name = text_of(body, "error_name") if isinstance(body, dict) else ""
        return plain_text(name, limit=40)


def _finding(item: Mapping[str, Any]) -> Finding | None:
    title = plain_text(text_of(item, "title"), limit=200)
    url = safe_url(item.get("link"))
    if not title or url is None:
        return None
    votes = item.get("score")
    accepted = item.get("accepted_answer_id") is not None
    by_votes = log_score(votes, full_at=FULL_AT_VOTES)
    score = (1 - ACCEPTED_SHARE) * by_votes + (ACCEPTED_SHARE if accepted else 0.0)
    tags = strings_of(item, "tags")
    facts = [
        f"{votes} votes" if isinstance(votes, int) and not isinstance(votes, bool) else "",
        "accepted answer" if accepted else "",
    ]
    if tags:
        facts.append("tags: " + ", ".join(tags[:6]))
    return Finding(
        kind=STACKOVERFLOW,
        title=title,
        url=url,
        snippet=plain_text("; ".join(f for f in facts if f), limit=300),
        published_at=parse_time(item.get("creation_date")),
        score=score,
    )


class _RedactKeys(logging.Filter):
    """Masks the value of every ``key=`` query parameter in httpx's request lines."""

    _KEY = re.compile(r"([?&]key=)[^&#\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report, not ours to raise
            return True
        if "key=" in message:
            record.msg, record.args = self._KEY.sub(r"\1[redacted]", message), None
        return True


_REDACT_KEYS = _RedactKeys()


def _hide_keys_in_httpx_logs() -> None:
    # The Stack Exchange key can only travel in the query string, and httpx logs every request's
    # URL at INFO. The key is not a secret, but it is never logged.
    logging.getLogger("httpx").addFilter(_REDACT_KEYS)  # adding the same filter twice is a no-op
