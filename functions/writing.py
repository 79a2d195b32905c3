"""The writing code, loaded when first needed: a worker that only serves HTTP never imports the
provider SDKs, the research sources or the Markdown cleaner (tested in a subprocess).

``OnFirstUse`` builds a part (with the HTTP client it owns) the first time it is asked for;
``DeferredChain`` and ``DeferredResearch`` stand for the chain and the researcher until then.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar
from urllib.parse import urlsplit

import httpx
from azure.cosmos.aio import ContainerProxy
from pydantic import BaseModel

from adapters.settings import Settings
from domain.cooldowns import Cooldowns
from domain.ports import DraftWatcher, Generated, LessonBrief, RoadmapBrief, TaskKind
from domain.research import Digest, ResearchQuery
from domain.telemetry import Telemetry

if TYPE_CHECKING:
    from domain.chain import ProviderChain
    from domain.research import Researcher

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def chain_for(
    settings: Settings, cooldowns: Cooldowns, telemetry: Telemetry
) -> "tuple[ProviderChain, httpx.AsyncClient]":
    """The provider chain the settings ask for, and the HTTP client its providers share."""
    from adapters.llm.factory import build_chain  # provider SDKs load only when writing

    return build_chain(settings, cooldowns, telemetry)


class SourceLinks:
    """Links in lessons only to their sources' hosts and the official documentation's."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._official: frozenset[str] | None = None

    def __call__(self, urls: Sequence[str]) -> Callable[[str], str]:
        """The Markdown cleaner for a lesson whose sources are ``urls``."""
        from adapters.markdown import clean_markdown, links_only_to  # with the writing code

        check = links_only_to([*self._official_hosts(), *map(_host, urls)])
        return lambda text: clean_markdown(text, check)

    def _official_hosts(self) -> frozenset[str]:
        if self._official is None:
            from adapters.research.docs import MDN, REGISTRY

            sites = [MDN, *(site.url for site in REGISTRY.values())]
            sites += self._settings.research_docs.values()
            self._official = frozenset(_host(site) for site in sites)
        return self._official


def clean_markdown_when_writing(text: str) -> str:
    """The Markdown cleaner provider answers are validated with (loaded with the writing code)."""
    from adapters.markdown import clean_markdown

    return clean_markdown(text)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def prompt_version() -> str:
    """The version of the prompts in use (part of the lesson cache's key)."""
    from adapters.llm.prompts import PROMPT_VERSION  # like the providers, only when writing

    return PROMPT_VERSION


def researcher_for(
    settings: Settings, cache: ContainerProxy, telemetry: Telemetry, quotas: ContainerProxy
) -> "tuple[Researcher, httpx.AsyncClient]":
    """The researcher the settings ask for, and the HTTP client its sources share."""
    from adapters.research.factory import build_researcher  # likewise the research sources

    return build_researcher(settings, cache, telemetry, quotas)


class OnFirstUse(Generic[T]):
    """A part built, with the HTTP client it owns, the first time something needs it."""

    def __init__(self, build: "Callable[[], tuple[T, httpx.AsyncClient]]") -> None:
        self._build = build
        self._built: tuple[T, httpx.AsyncClient] | None = None

    def get(self) -> T:
        """The part, built now if it was not yet."""
        if self._built is None:
            self._built = self._build()
        return self._built[0]

    async def aclose(self) -> None:
        """Close the part's HTTP client, if it was ever built."""
        if self._built is not None:
            await self._built[1].aclose()


class DeferredChain:
    """The provider chain (an ``LlmChain``), built when first asked."""

    def __init__(self, chain: "OnFirstUse[ProviderChain]") -> None:
        self._chain = chain

    async def generate(
        self,
        kind: TaskKind,
        brief: LessonBrief | RoadmapBrief,
        schema: type[M],
        *,
        budget: float,
        watcher: DraftWatcher | None = None,
    ) -> Generated[M]:
        """As ``ProviderChain.generate``, once the chain is built."""
        chain = self._chain.get()
        return await chain.generate(kind, brief, schema, budget=budget, watcher=watcher)


class DeferredResearch:
    """The researcher (a ``Research``), built when first asked."""

    def __init__(self, researcher: "OnFirstUse[Researcher]") -> None:
        self._researcher = researcher

    async def research(self, query: ResearchQuery) -> Digest:
        """As ``Researcher.research``, once the researcher is built."""
        return await self._researcher.get().research(query)
