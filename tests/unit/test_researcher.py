"""Researcher: every source at once, cut off at its timeout and the budget, ranked and cached."""

import asyncio

import pytest

from domain.research import (
    DEVTO,
    DOCS,
    GITHUB,
    STACKOVERFLOW,
    YOUTUBE,
    Finding,
    ResearchCache,
    Researcher,
    ResearchQuery,
    ResearchSource,
    normalise_url,
    rank,
    within_tokens,
)
from tests.unit.research_fakes import (
    FakeResearchCache,
    ScriptedSource,
    finding,
    hanging_source,
)

QUERY = ResearchQuery(text="List comprehensions", tags=("python",))
TINY = 0.05  # seconds: long enough for a fake that answers at once, short for one that hangs
PATIENT = 30.0  # seconds: never reached by a test that passes


def _researcher(
    *sources: ResearchSource,
    cache: ResearchCache | None = None,
    source_timeout: float = PATIENT,
    budget: float = PATIENT,
    tokens: int = 4_000,
) -> Researcher:
    return Researcher(sources, cache, source_timeout=source_timeout, budget=budget, tokens=tokens)


def _tokens_for(findings: list[Finding]) -> int:
    """Just enough tokens for ``findings`` (title, snippet, URL and 20 characters of markup)."""
    chars = sum(len(f.title) + len(f.snippet) + len(f.url) + 20 for f in findings)
    return -(-chars // 4)


def _urls(findings: list[Finding]) -> list[str]:
    return [f.url for f in findings]


async def test_every_source_is_asked_concurrently():
    # The first source can only answer once the second has been asked: asked one after the
    # other, the first would time out and only the second would answer.
    second_asked = asyncio.Event()
    first = ScriptedSource(DOCS, [finding(DOCS)], waits_for=second_asked)
    second = ScriptedSource(GITHUB, [finding(GITHUB)], sets=second_asked)

    digest = await _researcher(first, second, source_timeout=1.0, budget=1.0).research(QUERY)

    assert digest.answered == [DOCS, GITHUB]
    assert sorted(f.kind for f in digest.findings) == [DOCS, GITHUB]
    assert first.queries == [QUERY]
    assert second.queries == [QUERY]


@pytest.mark.timeout(5)  # a hang, not a measurement: the test fails instead of waiting PATIENT
async def test_source_that_never_answers_is_cut_off_and_the_others_are_kept():
    hanging = hanging_source(YOUTUBE, [finding(YOUTUBE)])
    docs = ScriptedSource(DOCS, [finding(DOCS)])
    github = ScriptedSource(GITHUB, [finding(GITHUB)])

    digest = await _researcher(hanging, docs, github, source_timeout=TINY).research(QUERY)

    assert digest.answered == [DOCS, GITHUB]
    assert _urls(digest.findings) == [finding(DOCS).url, finding(GITHUB).url]
    assert hanging.cancelled
    assert hanging.time_limits == [TINY]


@pytest.mark.timeout(5)
async def test_total_budget_cancels_stragglers_before_research_returns():
    hanging = hanging_source(STACKOVERFLOW, [finding(STACKOVERFLOW)])
    docs = ScriptedSource(DOCS, [finding(DOCS)])

    digest = await _researcher(hanging, docs, source_timeout=PATIENT, budget=TINY).research(QUERY)

    assert hanging.cancelled  # already, when research returned: no task is left running
    assert hanging.time_limits == [TINY]  # the source is told the budget, not its own timeout
    assert digest.answered == [DOCS]
    assert _urls(digest.findings) == [finding(DOCS).url]


async def test_each_source_is_given_the_smaller_of_its_timeout_and_the_budget():
    docs, github = ScriptedSource(DOCS), ScriptedSource(GITHUB)

    await _researcher(docs, source_timeout=2.0, budget=3.0).research(QUERY)
    await _researcher(github, source_timeout=3.0, budget=2.0).research(QUERY)

    assert (docs.time_limits, github.time_limits) == ([2.0], [2.0])


async def test_source_that_raises_costs_nothing():
    broken = ScriptedSource(GITHUB, [finding(GITHUB)], error=RuntimeError("quota exceeded"))
    docs = ScriptedSource(DOCS, [finding(DOCS)])

    digest = await _researcher(broken, docs).research(QUERY)

    assert digest.answered == [DOCS]
    assert _urls(digest.findings) == [finding(DOCS).url]


async def test_source_with_no_results_still_counts_as_answered():
    digest = await _researcher(ScriptedSource(DEVTO), ScriptedSource(DOCS)).research(QUERY)

    assert digest.answered == [DEVTO, DOCS]
    assert digest.findings == []
    assert digest.empty


async def test_no_sources_give_an_empty_digest():
    digest = await _researcher().research(QUERY)

    assert digest.findings == []
    assert digest.answered == []
    assert not digest.from_cache
    assert digest.empty


@pytest.mark.parametrize(
    "variant",
    [
        "http://example.com/guide",
        "https://www.example.com/guide",
        "https://example.com/guide/",
        "https://example.com/guide#section-2",
        "https://example.com/guide?utm_source=feed&utm_medium=rss",
        "HTTPS://WWW.Example.COM/guide/?utm_campaign=x#top",
    ],
)
def test_urls_that_differ_only_in_scheme_www_slash_fragment_or_tracking_are_one_page(
    variant: str,
):
    assert normalise_url(variant) == normalise_url("https://example.com/guide")


@pytest.mark.parametrize(
    "other",
    [
        "https://example.com/guide/part-2",
        "https://example.com/Guide",
        "https://example.com/guide?page=2",
        "https://docs.example.com/guide",
    ],
)
def test_urls_of_different_pages_stay_different(other: str):
    assert normalise_url(other) != normalise_url("https://example.com/guide?page=1")


async def test_duplicates_across_sources_collapse_to_the_best_weighted_copy():
    url = "https://example.com/guide"
    weak_docs = finding(DOCS, 1, url=f"{url}/", score=0.0)  # weight 1.0 * 0.5
    strong_so = finding(STACKOVERFLOW, 1, url=f"http://www.{url[8:]}#answer", score=1.0)  # 0.8
    devto = finding(DEVTO, 1, url=f"{url}?utm_source=devto", score=1.0)  # 0.6
    other = finding(GITHUB, 2)
    sources = [
        ScriptedSource(DOCS, [weak_docs]),
        ScriptedSource(STACKOVERFLOW, [strong_so]),
        ScriptedSource(DEVTO, [devto]),
        ScriptedSource(GITHUB, [other]),
    ]

    digest = await _researcher(*sources).research(QUERY)

    same_page = [f for f in digest.findings if normalise_url(f.url) == normalise_url(url)]
    assert same_page == [strong_so]
    assert len(digest.findings) == 2


def test_equal_scores_rank_docs_then_stackoverflow_github_devto_youtube():
    kinds = [YOUTUBE, DEVTO, GITHUB, STACKOVERFLOW, DOCS]

    ranked = rank([finding(kind, score=0.7) for kind in kinds])

    assert [f.kind for f in ranked] == [DOCS, STACKOVERFLOW, GITHUB, DEVTO, YOUTUBE]


async def test_researcher_returns_findings_ranked_by_kind_at_equal_score():
    kinds = [YOUTUBE, DEVTO, GITHUB, STACKOVERFLOW, DOCS]
    sources = [ScriptedSource(kind, [finding(kind, score=1.0)]) for kind in kinds]

    digest = await _researcher(*sources).research(QUERY)

    assert [f.kind for f in digest.findings] == [DOCS, STACKOVERFLOW, GITHUB, DEVTO, YOUTUBE]
    assert digest.answered == sorted(kinds)


def test_a_far_better_score_lifts_a_lesser_kind_above_docs():
    vague_docs = finding(DOCS, score=0.0)  # 1.0 * 0.5
    exact_answer = finding(STACKOVERFLOW, score=1.0)  # 0.8 * 1.0

    assert rank([vague_docs, exact_answer]) == [exact_answer, vague_docs]


def _sized(n: int, snippet_chars: int) -> Finding:
    """A finding whose title and URL have 10 characters each: it costs 40 + its snippet."""
    return Finding(
        kind=DOCS, title=f"title-{n:04}", url=f"http://{n:03}", snippet="x" * snippet_chars
    )


def test_within_tokens_keeps_the_leading_findings_that_fit():
    findings = [_sized(1, 60), _sized(2, 60), _sized(3, 60)]  # 100 characters each

    kept = within_tokens(findings, tokens=60)  # 240 characters

    assert kept == findings[:2]


def test_within_tokens_keeps_a_prefix_and_never_skips_ahead():
    small, large, also_small = _sized(1, 10), _sized(2, 500), _sized(3, 10)

    kept = within_tokens([small, large, also_small], tokens=50)

    assert kept == [small]


def test_within_tokens_truncates_snippets_and_leaves_the_findings_untouched():
    long = _sized(1, 1_000)

    [kept] = within_tokens([long], tokens=1_000, snippet_chars=100)

    assert kept.snippet == "x" * 100
    assert (kept.title, kept.url) == (long.title, long.url)
    assert len(long.snippet) == 1_000


def test_within_tokens_keeps_nothing_when_the_first_finding_is_too_big():
    assert within_tokens([_sized(1, 600)], tokens=10) == []


async def test_digest_holds_only_what_fits_the_token_budget():
    findings = [finding(DOCS, n, score=1.0 - n / 10) for n in range(1, 6)]
    tokens = _tokens_for(findings[:3])  # a fourth finding costs far more than the rounding

    digest = await _researcher(ScriptedSource(DOCS, findings), tokens=tokens).research(QUERY)

    assert digest.findings == findings[:3]


async def test_cache_hit_asks_no_source_and_says_so():
    cached = [finding(DOCS, 1), finding(GITHUB, 2)]
    cache = FakeResearchCache({QUERY.key: cached})
    source = ScriptedSource(DOCS, [finding(DOCS, 9)])

    digest = await _researcher(source, cache=cache).research(QUERY)

    assert digest.from_cache
    assert digest.findings == cached
    assert source.queries == []
    assert cache.puts == []


async def test_cache_is_looked_up_by_the_normalised_query():
    cached = [finding(DOCS)]
    cache = FakeResearchCache({QUERY.key: cached})
    same_query = ResearchQuery(text="  list COMPREHENSIONS?", tags=("Python",))

    digest = await _researcher(ScriptedSource(GITHUB), cache=cache).research(same_query)

    assert digest.from_cache
    assert digest.findings == cached


async def test_cache_miss_stores_every_ranked_finding_under_the_query_key():
    cache = FakeResearchCache()
    youtube, docs = finding(YOUTUBE, score=1.0), finding(DOCS, score=1.0)
    sources = [ScriptedSource(YOUTUBE, [youtube]), ScriptedSource(DOCS, [docs])]

    digest = await _researcher(*sources, cache=cache, tokens=_tokens_for([docs])).research(QUERY)

    assert not digest.from_cache
    assert cache.gets == [QUERY.key]
    assert cache.puts == [(QUERY.key, [docs, youtube])]
    assert digest.findings == [docs]  # the digest is cut to the budget; the cache is not


async def test_nothing_found_is_not_cached_so_the_next_lesson_asks_again():
    cache = FakeResearchCache()

    digest = await _researcher(ScriptedSource(DOCS), cache=cache).research(QUERY)

    assert digest.empty
    assert cache.puts == []


async def test_cache_that_raises_is_ignored_and_research_still_happens():
    cache = FakeResearchCache(error=ConnectionError("cosmos is down"))
    docs = finding(DOCS)
    source = ScriptedSource(DOCS, [docs])

    digest = await _researcher(source, cache=cache).research(QUERY)

    assert digest.findings == [docs]
    assert digest.answered == [DOCS]
    assert not digest.from_cache
    assert source.queries == [QUERY]
    assert [key for key, _ in cache.puts] == [QUERY.key]  # it was tried, and failed quietly


@pytest.mark.parametrize(
    "same",
    [
        ResearchQuery("list comprehensions", ("python", "sql")),
        ResearchQuery("LIST Comprehensions", ("SQL", "Python")),
        ResearchQuery("List comprehensions?!", ("sql", "python")),
        ResearchQuery("List  comprehensions: ", ("python", "sql", "python")),
        ResearchQuery("list, comprehensions", ("Python", "sql")),
    ],
)
def test_query_key_ignores_case_punctuation_spacing_and_tag_order(same: ResearchQuery):
    assert same.key == ResearchQuery("List comprehensions", ("python", "sql")).key


@pytest.mark.parametrize(
    "different",
    [
        ResearchQuery("Dict comprehensions", ("python", "sql")),
        ResearchQuery("List comprehensions", ("python",)),
        ResearchQuery("List comprehensions", ("python", "rust")),
    ],
)
def test_query_key_differs_for_a_different_topic_or_tags(different: ResearchQuery):
    assert different.key != ResearchQuery("List comprehensions", ("python", "sql")).key


def test_query_key_keeps_the_dots_and_signs_of_technology_names():
    assert ResearchQuery("Node.js streams").key != ResearchQuery("Nodejs streams").key
    assert ResearchQuery("C++ templates").key != ResearchQuery("C templates").key


def test_query_key_ignores_a_trailing_full_stop():
    assert ResearchQuery("Python lists.").key == ResearchQuery("Python lists").key


class _Budget:
    """A shared budget that has room for some sources only, and counts what was spent."""

    def __init__(self, *full: str) -> None:
        self.full = set(full)
        self.spent: list[str] = []

    async def spend(self, source: str) -> bool:
        if source in self.full:
            return False
        self.spent.append(source)
        return True


async def test_a_source_whose_shared_budget_is_used_up_is_not_asked():
    youtube = ScriptedSource("youtube", [finding("youtube")])
    docs = ScriptedSource("docs", [finding("docs")])
    budget = _Budget("youtube")
    researcher = Researcher(
        [youtube, docs],
        None,
        source_timeout=PATIENT,
        budget=PATIENT,
        tokens=4_000,
        source_budget=budget,
    )

    digest = await researcher.research(QUERY)

    assert youtube.queries == []
    assert digest.answered == ["docs"]
    assert budget.spent == ["docs"]


async def test_a_cache_hit_spends_no_budget():
    cache = FakeResearchCache({QUERY.key: [finding("docs")]})
    budget = _Budget()
    researcher = Researcher(
        [ScriptedSource("docs", [finding("docs")])],
        cache,
        source_timeout=PATIENT,
        budget=PATIENT,
        tokens=4_000,
        source_budget=budget,
    )

    await researcher.research(QUERY)

    assert budget.spent == []
