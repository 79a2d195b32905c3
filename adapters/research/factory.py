"""Building the researcher from settings (imported only when a lesson is written)."""

import logging

import httpx
from azure.cosmos.aio import ContainerProxy

from adapters.research.budget import CosmosSourceBudget, limits_for
from adapters.research.cache import CosmosResearchCache
from adapters.research.devto import DevToSource
from adapters.research.docs import OfficialDocsSource
from adapters.research.github import GitHubSource
from adapters.research.stackoverflow import StackOverflowSource
from adapters.research.youtube import YouTubeSource
from adapters.settings import Settings
from domain.research import Researcher, ResearchSource
from domain.telemetry import Telemetry

log = logging.getLogger(__name__)


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


def _source(name: str, settings: Settings, http: httpx.AsyncClient) -> ResearchSource:
    if name == "docs":
        return OfficialDocsSource(http, settings.research_docs)
    if name == "stackoverflow":
        return StackOverflowSource(http, _secret(settings.stackexchange_key))
    if name == "github":
        return GitHubSource(http, _secret(settings.github_token))
    if name == "devto":
        return DevToSource(http)
    key = _secret(settings.youtube_api_key)
    assert key is not None  # research_plan() keeps youtube only with a key
    return YouTubeSource(http, key)


def _limits(settings: Settings) -> dict[str, tuple[int, int]]:
    keys = {
        "stackoverflow": settings.stackexchange_key is not None,
        "github": settings.github_token is not None,
    }
    return limits_for(keys)


def build_researcher(
    settings: Settings,
    cache: ContainerProxy,
    telemetry: Telemetry | None = None,
    quotas: ContainerProxy | None = None,
) -> tuple[Researcher, httpx.AsyncClient]:
    """The researcher the settings describe, and the HTTP client its sources share.

    With ``quotas`` (the quotas container), every source spends from a budget shared by all
    workers (``adapters/research/budget.py``).
    """
    used, skipped = settings.research_plan()
    for name, reason in skipped.items():
        log.warning("research source %s skipped: %s", name, reason)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.research_source_timeout_seconds, connect=2.0),
        headers={"User-Agent": "SkillSync-Lessons/0.1 (+research)"},
        follow_redirects=False,  # a redirect must not carry an API key elsewhere
    )
    researcher = Researcher(
        [_source(name, settings, http) for name in used],
        CosmosResearchCache(cache, settings.research_cache_ttl_seconds),
        source_timeout=settings.research_source_timeout_seconds,
        budget=settings.research_budget_seconds,
        tokens=settings.research_token_budget,
        telemetry=telemetry,
        source_budget=None if quotas is None else CosmosSourceBudget(quotas, _limits(settings)),
    )
    log.info("research sources: %s", ", ".join(used) or "none")
    return researcher, http
