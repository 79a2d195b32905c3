"""Research before writing: ask every source at once, keep what answers within the budget,
and hand the writer a short, ranked, deduplicated digest of findings.

Findings are untrusted text from the internet: they are stripped of HTML by the adapters, cut to
a size budget here, and reach the model only inside delimiters as reference material.
"""

import asyncio
import logging
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from domain.base import DocumentModel
from domain.telemetry import (
    ATTR_OUTCOME,
    ATTR_SOURCE,
    RESEARCH_CACHE,
    RESEARCH_SOURCES,
    NoTelemetry,
    Telemetry,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Source kinds, also the ``kind`` of a lesson's sources.
DOCS, STACKOVERFLOW, GITHUB, DEVTO, YOUTUBE = "docs", "stackoverflow", "github", "devto", "youtube"
# Every kind's weight when ranking: official documentation first.
KIND_WEIGHT = {DOCS: 1.0, STACKOVERFLOW: 0.8, GITHUB: 0.7, DEVTO: 0.6, YOUTUBE: 0.5}
CHARS_PER_TOKEN = 4  # a rough, conservative estimate for English text


class Finding(DocumentModel):
    """One normalised search result; ``score`` is the source's own relevance, 0..1."""

    kind: str
    title: str
    url: str
    snippet: str = ""
    published_at: datetime | None = None
    score: float = 0.0


@dataclass(frozen=True)
class ResearchQuery:
    """What to look for: the lesson's topic, and technology words that pick tags and docs."""

    text: str
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The normalised query: lower case, single spaces, tags sorted (the cache key)."""
        words = " ".join(w.rstrip(".") for w in re.findall(r"[\w+#.]+", self.text.lower()))
        return f"{words}|{','.join(sorted({t.lower() for t in self.tags}))}"


class ResearchSource(Protocol):
    """One kind of source (an adapter per API).

    ``search`` returns findings of its ``kind``, already stripped of HTML; it raises nothing for
    a source that is down, throttled or over quota: it logs and returns ``[]``.
    """

    kind: str

    async def search(self, query: ResearchQuery, *, time_limit: float) -> list[Finding]:
        """Findings for the query, within ``time_limit`` seconds."""
        ...


class Research(Protocol):
    """What the writer needs of research: a digest for a query."""

    async def research(self, query: ResearchQuery) -> "Digest":
        """Findings for the query, within the research budget."""
        ...


class SourceBudget(Protocol):
    """The shared allowance of each research source's free quota, for every learner together:
    one learner varying lesson titles must not spend YouTube's or Stack Exchange's day for all."""

    async def spend(self, source: str) -> bool:
        """Spend one request of ``source``; ``False`` (nothing spent) when its budget is used up."""
        ...


class ResearchCache(Protocol):
    """Findings kept by normalised query for a while, so quotas serve many lessons."""

    async def get(self, key: str) -> list[Finding] | None:
        """Cached findings, or ``None`` when absent or expired."""
        ...

    async def put(self, key: str, findings: list[Finding]) -> None:
        """Keep findings under ``key`` for the configured time."""
        ...


@dataclass(frozen=True)
class Digest:
    """What research produced for one lesson."""

    findings: list[Finding]
    answered: list[str] = field(default_factory=list)  # kinds that answered in time
    from_cache: bool = False

    @property
    def empty(self) -> bool:
        """No finding at all: the lesson will say it was written without research."""
        return not self.findings


def normalise_url(url: str) -> str:
    """A URL reduced to what identifies the page: no scheme case, fragment, tracking or slash."""
    parts = urlsplit(url.strip())
    query = "&".join(
        p for p in parts.query.split("&") if p and not p.lower().startswith(("utm_", "ref="))
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", parts.netloc.lower().removeprefix("www."), path, query, ""))


def rank(findings: Sequence[Finding]) -> list[Finding]:
    """Deduplicated by URL (the best-scored copy wins), best first by kind weight times score."""
    best: dict[str, Finding] = {}
    for finding in findings:
        key = normalise_url(finding.url)
        if key not in best or _weight(finding) > _weight(best[key]):
            best[key] = finding
    return sorted(best.values(), key=_weight, reverse=True)


def _weight(finding: Finding) -> float:
    return KIND_WEIGHT.get(finding.kind, 0.4) * (0.5 + 0.5 * min(max(finding.score, 0.0), 1.0))


def within_tokens(
    findings: Sequence[Finding], tokens: int, *, snippet_chars: int = 600
) -> list[Finding]:
    """The leading findings whose titles and snippets fit in about ``tokens`` tokens."""
    budget = tokens * CHARS_PER_TOKEN
    kept: list[Finding] = []
    for finding in findings:
        snippet = finding.snippet[:snippet_chars]
        cost = len(finding.title) + len(snippet) + len(finding.url) + 20
        if cost > budget:
            break
        budget -= cost
        kept.append(finding.model_copy(update={"snippet": snippet}))
    return kept


class Researcher:
    """Asks every source concurrently and keeps what answers within the total budget."""

    def __init__(
        self,
        sources: Sequence[ResearchSource],
        cache: ResearchCache | None,
        *,
        source_timeout: float,
        budget: float,
        tokens: int,
        telemetry: "Telemetry | None" = None,
        source_budget: SourceBudget | None = None,
    ) -> None:
        self._sources = list(sources)
        self._source_budget = source_budget
        self._telemetry: Telemetry = telemetry or NoTelemetry()
        self._cache = cache
        self._source_timeout = source_timeout
        self._budget = budget
        self._tokens = tokens

    async def research(self, query: ResearchQuery) -> Digest:
        """A digest for the query; a cache hit asks no source."""
        if self._cache is not None:
            cached = await _quietly(self._cache.get(query.key), None)
            outcome = "hit" if cached is not None else "miss"
            self._telemetry.count(RESEARCH_CACHE, 1, {ATTR_OUTCOME: outcome})
            if cached is not None:
                return Digest(within_tokens(cached, self._tokens), from_cache=True)
        tasks = {
            asyncio.create_task(self._ask(source, query)): source.kind for source in self._sources
        }
        done, pending = await asyncio.wait(tasks, timeout=self._budget) if tasks else (set(), set())
        for task in pending:
            log.info(
                "research: %s did not answer within the %.1f s budget", tasks[task], self._budget
            )
            self._note(tasks[task], "over_budget")
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        found: list[Finding] = []
        answered: list[str] = []
        for task in done:
            results = task.result()
            if results is not None:
                answered.append(tasks[task])
                found.extend(results)
        ranked = rank(found)
        if self._cache is not None and ranked:
            await _quietly(self._cache.put(query.key, ranked), None)
        return Digest(within_tokens(ranked, self._tokens), answered=sorted(answered))

    def _note(self, source: str, outcome: str) -> None:
        self._telemetry.count(RESEARCH_SOURCES, 1, {ATTR_SOURCE: source, ATTR_OUTCOME: outcome})

    async def _ask(self, source: ResearchSource, query: ResearchQuery) -> list[Finding] | None:
        if self._source_budget is not None and not await _quietly(
            self._source_budget.spend(source.kind), True
        ):
            log.info("research: %s's shared budget is used up for now", source.kind)
            self._note(source.kind, "over_budget")
            return None
        limit = min(self._source_timeout, self._budget)
        with self._telemetry.span("research.source", {ATTR_SOURCE: source.kind}) as span:
            outcome = "failed"
            try:
                found = await asyncio.wait_for(source.search(query, time_limit=limit), limit)
                outcome = "found" if found else "empty"
                span.set({ATTR_OUTCOME: outcome, "skillsync.findings": len(found)})
                self._note(source.kind, outcome)
                return found
            except TimeoutError:
                outcome = "timeout"
                log.info("research: %s timed out after %.1f s", source.kind, limit)
            except asyncio.CancelledError:  # over the total budget: counted by research()
                raise
            except Exception:  # a broken source must never cost the lesson
                log.exception("research: %s failed", source.kind)
            span.set({ATTR_OUTCOME: outcome})
            self._note(source.kind, outcome)
            return None


async def _quietly(work: Awaitable[T], default: T) -> T:
    try:
        return await work
    except Exception:  # the cache is an optimisation: storage trouble must not stop research
        log.warning("research cache unavailable", exc_info=True)
        return default
