"""What every research adapter shares: untrusted web text made plain, fields read defensively,
the one guarded ``GET``, and the rest a source takes after a backoff or a spent quota.

Everything an API sends is treated as hostile: titles and snippets lose every tag (even ones
escaped twice, which a later renderer could revive) and keep no ``<`` or ``>`` at all; only
``http(s)`` links are kept.
"""

import html
import json
import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import nh3

log = logging.getLogger(__name__)

# Search APIs answer in tens of kilobytes; a body far larger is not worth reading.
MAX_BODY_BYTES = 1024 * 1024

MAX_RESULTS = 5  # findings per source
_ROUNDS = 8  # unescape rounds; an entity escaped deeper than this stays visible, harmlessly
_BLOCK = re.compile(
    r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|td|th|pre|blockquote|section|article|table)\b[^>]*>",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def plain_text(html_or_text: str, *, limit: int = 600) -> str:
    """``html_or_text`` as one line of plain text: no tag, no ``<``/``>``, at most ``limit``."""
    text = _BLOCK.sub(" ", html_or_text)  # "<p>a</p><p>b</p>" reads "a b", not "ab"
    for _ in range(_ROUNDS):  # until stable: "&amp;lt;script&amp;gt;" must not become a tag
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        if cleaned == text:
            break
        text = cleaned
    text = text.replace("<", "‹").replace(">", "›")
    text = _SPACE.sub(" ", text)
    text = "".join(c for c in text if unicodedata.category(c) not in {"Cc", "Cf", "Co", "Cs"})
    return _truncate(text.strip(), limit)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:  # a word boundary not too far back
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 string or Unix seconds as an aware UTC datetime; ``None`` when unusable."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return None


def log_score(count: object, *, full_at: float) -> float:
    """0..1 on a log scale: 0 for nothing, 1 from ``full_at`` (votes, stars, reactions) on."""
    if isinstance(count, bool) or not isinstance(count, int | float):
        return 0.0
    if math.isnan(count) or count <= 0:
        return 0.0
    return min(1.0, math.log10(1 + count) / math.log10(1 + full_at))


def text_of(item: Mapping[str, Any], key: str) -> str:
    """``item[key]`` when it is a string, else ``""``."""
    value = item.get(key)
    return value if isinstance(value, str) else ""


def strings_of(item: Mapping[str, Any], key: str) -> list[str]:
    """The strings of the list ``item[key]``; ``[]`` when it is not a list."""
    value = item.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def safe_url(value: object) -> str | None:
    """An absolute ``http(s)`` URL without spaces or control characters, else ``None``."""
    if not isinstance(value, str) or len(value) > 2048:
        return None
    if not value.startswith(("https://", "http://")) or re.search(r"[\s<>\"\x00-\x1f]", value):
        return None
    return value


def items_of(body: Any, key: str | None) -> list[Mapping[str, Any]] | None:
    """The objects of the list at ``body[key]`` (``body`` itself when ``key`` is ``None``)."""
    found = body if key is None else body.get(key) if isinstance(body, dict) else None
    if not isinstance(found, list):
        return None
    return [item for item in found if isinstance(item, dict)]


class Rest:
    """The instant before which a source must not be asked again (backoff, rate limit, quota)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._until = 0.0

    def now(self) -> float:
        """The clock's current reading (Unix seconds by default)."""
        return self._clock()

    def left(self) -> float:
        """Seconds of rest left; 0 when the source may be asked."""
        return max(0.0, self._until - self._clock())

    def resting(self, name: str) -> bool:
        """Whether the source ``name`` must not be asked now (and say so at debug level)."""
        left = self.left()
        if left > 0:
            log.debug("research: %s resting for %.0f s more", name, left)
        return left > 0

    def take(self, seconds: float) -> None:
        """Rest ``seconds`` from now; a longer rest already taken is kept."""
        if seconds > 0 and math.isfinite(seconds):
            self._until = max(self._until, self._clock() + seconds)


def seconds(value: str | None) -> float | None:
    """A header's non-negative number of seconds, or ``None``."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: its status, headers, and JSON body (``None`` when it is not JSON)."""

    status: int
    headers: httpx.Headers
    body: Any


async def get_json(
    http: httpx.AsyncClient,
    kind: str,
    url: str,
    *,
    time_limit: float,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply | None:
    """``GET url`` within ``time_limit``; ``None`` (one warning, no URL) when it cannot be had.

    Redirects are not followed (a key sent in a header must not travel to wherever a redirect
    points), and a body over ``MAX_BODY_BYTES`` is dropped unread past the limit.
    """
    try:
        async with http.stream(
            "GET", url, params=params, headers=headers, timeout=time_limit, follow_redirects=False
        ) as response:
            raw = await _bounded(response)
        if raw is None:
            log.warning("research: %s sent more than %d bytes; ignored", kind, MAX_BODY_BYTES)
            return None
    except httpx.TimeoutException:
        log.warning("research: %s did not answer within %.1f s", kind, time_limit)
        return None
    except httpx.HTTPError as error:  # the message may hold the URL: log only the type
        log.warning("research: %s is unreachable (%s)", kind, type(error).__name__)
        return None
    except (httpx.InvalidURL, UnicodeError) as error:  # e.g. a lone surrogate in the query
        log.warning("research: %s could not be asked (%s)", kind, type(error).__name__)
        return None
    try:
        body = json.loads(raw) if raw else None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        body = None
    return Reply(response.status_code, response.headers, body)


async def _bounded(response: httpx.Response) -> bytes | None:
    """The body, or ``None`` as soon as it grows past ``MAX_BODY_BYTES``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def say_unusable(kind: str, reply: Reply, detail: str = "") -> None:
    """The one warning for an answer that gave nothing: its status, or that its shape was odd."""
    if reply.status != 200:
        suffix = f" ({detail})" if detail else ""
        log.warning("research: %s answered HTTP %d%s", kind, reply.status, suffix)
    else:
        log.warning("research: %s sent an answer of unknown shape", kind)
