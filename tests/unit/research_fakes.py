"""In-memory fakes of the research ports (sources, cache, researcher) and a finding builder.

Sources answer from a script and can be told to wait on an event, set one, or raise; a source that
is cut off records that it saw ``CancelledError``. Nothing here touches the network or sleeps.
"""

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from domain.research import Digest, Finding, Research, ResearchCache, ResearchQuery, ResearchSource


def finding(kind: str = "docs", n: int = 1, **overrides: Any) -> Finding:
    """A finding of ``kind`` with a unique URL (``n`` tells findings of one kind apart)."""
    fields: dict[str, Any] = {
        "kind": kind,
        "title": f"{kind} result {n}",
        "url": f"https://{kind}.example.com/page-{n}",
        "snippet": f"What {kind} says, number {n}.",
        "score": 0.5,
    }
    fields.update(overrides)
    return Finding(**fields)


class ScriptedSource:
    """A research source that answers with ``findings``, optionally after waiting on an event.

    :param sets: an event set as soon as the source is asked (before it waits or answers).
    :param waits_for: an event the source waits on before it answers.
    :param error: raised instead of answering (after any wait).
    """

    def __init__(
        self,
        kind: str,
        findings: Iterable[Finding] = (),
        *,
        sets: asyncio.Event | None = None,
        waits_for: asyncio.Event | None = None,
        error: Exception | None = None,
    ) -> None:
        self.kind = kind
        self.findings = list(findings)
        self.queries: list[ResearchQuery] = []
        self.time_limits: list[float] = []
        self.cancelled = False
        self._sets = sets
        self._waits_for = waits_for
        self._error = error

    async def search(self, query: ResearchQuery, *, time_limit: float) -> list[Finding]:
        self.queries.append(query)
        self.time_limits.append(time_limit)
        if self._sets is not None:
            self._sets.set()
        if self._waits_for is not None:
            try:
                await self._waits_for.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        if self._error is not None:
            raise self._error
        return list(self.findings)


def hanging_source(kind: str, findings: Iterable[Finding] = ()) -> ScriptedSource:
    """A source that never answers unless cancelled (it waits on an event nobody sets)."""
    return ScriptedSource(kind, findings, waits_for=asyncio.Event())


class FakeResearchCache:
    """Findings in a dict by key, returned as copies; can be told to raise on every call."""

    def __init__(
        self, entries: dict[str, list[Finding]] | None = None, *, error: Exception | None = None
    ) -> None:
        self.entries = {key: list(found) for key, found in (entries or {}).items()}
        self.gets: list[str] = []
        self.puts: list[tuple[str, list[Finding]]] = []
        self._error = error

    async def get(self, key: str) -> list[Finding] | None:
        self.gets.append(key)
        if self._error is not None:
            raise self._error
        found = self.entries.get(key)
        return None if found is None else list(found)

    async def put(self, key: str, findings: list[Finding]) -> None:
        self.puts.append((key, list(findings)))
        if self._error is not None:
            raise self._error
        self.entries[key] = list(findings)


class FakeResearcher:
    """Answers every query with one digest and records the queries; ``before`` runs first."""

    def __init__(self, digest: Digest, *, before: Callable[[], None] | None = None) -> None:
        self.digest = digest
        self.queries: list[ResearchQuery] = []
        self._before = before

    async def research(self, query: ResearchQuery) -> Digest:
        self.queries.append(query)
        if self._before is not None:
            self._before()
        return self.digest


def published(year: int) -> datetime:
    """A publication date, timezone-aware."""
    return datetime.fromisoformat(f"{year}-03-01T12:00:00+00:00")


# The fakes must stay usable wherever the ports are expected (checked by mypy).
_source_port: ResearchSource = ScriptedSource("docs")
_cache_port: ResearchCache = FakeResearchCache()
_research_port: Research = FakeResearcher(Digest(findings=[]))
