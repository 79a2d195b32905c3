"""Official documentation: a curated registry of technologies and their documentation homes.

A technology named by the query's tags or by a word of its text earns a link to its official
documentation. MDN is the one home with a public search API, so JavaScript, TypeScript, CSS, HTML
and Web API topics get MDN's matching pages instead, when MDN answers.
"""

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from adapters.research.source import JsonSearchSource
from adapters.research.text import MAX_RESULTS, plain_text, safe_url, text_of
from domain.research import DOCS, Finding, ResearchQuery

log = logging.getLogger(__name__)

MDN = "https://developer.mozilla.org"
MDN_SEARCH = f"{MDN}/api/v1/search"
HOME_SCORE = 0.5  # a documentation home: useful, but not about the topic itself


@dataclass(frozen=True)
class DocSite:
    """Where a technology is documented, and whether MDN's search covers it."""

    name: str
    url: str
    mdn: bool = False


REGISTRY: dict[str, DocSite] = {
    "python": DocSite("Python", "https://docs.python.org/3/"),
    "django": DocSite("Django", "https://docs.djangoproject.com/en/stable/"),
    "flask": DocSite("Flask", "https://flask.palletsprojects.com/"),
    "fastapi": DocSite("FastAPI", "https://fastapi.tiangolo.com/"),
    "pandas": DocSite("pandas", "https://pandas.pydata.org/docs/"),
    "numpy": DocSite("NumPy", "https://numpy.org/doc/stable/"),
    "matplotlib": DocSite("Matplotlib", "https://matplotlib.org/stable/"),
    "scikit-learn": DocSite("scikit-learn", "https://scikit-learn.org/stable/user_guide.html"),
    "pytorch": DocSite("PyTorch", "https://pytorch.org/docs/stable/"),
    "tensorflow": DocSite("TensorFlow", "https://www.tensorflow.org/api_docs"),
    "javascript": DocSite("JavaScript", f"{MDN}/en-US/docs/Web/JavaScript", mdn=True),
    "typescript": DocSite("TypeScript", "https://www.typescriptlang.org/docs/", mdn=True),
    "html": DocSite("HTML", f"{MDN}/en-US/docs/Web/HTML", mdn=True),
    "css": DocSite("CSS", f"{MDN}/en-US/docs/Web/CSS", mdn=True),
    "webapi": DocSite("Web API", f"{MDN}/en-US/docs/Web/API", mdn=True),
    "react": DocSite("React", "https://react.dev/"),
    "vue": DocSite("Vue", "https://vuejs.org/guide/introduction.html"),
    "angular": DocSite("Angular", "https://angular.dev/"),
    "svelte": DocSite("Svelte", "https://svelte.dev/docs"),
    "nextjs": DocSite("Next.js", "https://nextjs.org/docs"),
    "tailwind": DocSite("Tailwind CSS", "https://tailwindcss.com/docs"),
    "node": DocSite("Node.js", "https://nodejs.org/docs/latest/api/"),
    "graphql": DocSite("GraphQL", "https://graphql.org/learn/"),
    "rust": DocSite("Rust", "https://doc.rust-lang.org/"),
    "go": DocSite("Go", "https://go.dev/doc/"),
    "java": DocSite("Java", "https://docs.oracle.com/en/java/"),
    "kotlin": DocSite("Kotlin", "https://kotlinlang.org/docs/home.html"),
    "swift": DocSite("Swift", "https://www.swift.org/documentation/"),
    "csharp": DocSite("C#", "https://learn.microsoft.com/en-us/dotnet/csharp/"),
    "dotnet": DocSite(".NET", "https://learn.microsoft.com/en-us/dotnet/"),
    "php": DocSite("PHP", "https://www.php.net/manual/en/"),
    "ruby": DocSite("Ruby", "https://www.ruby-lang.org/en/documentation/"),
    "rails": DocSite("Ruby on Rails", "https://guides.rubyonrails.org/"),
    "bash": DocSite("Bash", "https://www.gnu.org/software/bash/manual/"),
    "postgresql": DocSite("PostgreSQL", "https://www.postgresql.org/docs/current/"),
    "mysql": DocSite("MySQL", "https://dev.mysql.com/doc/"),
    "sqlite": DocSite("SQLite", "https://www.sqlite.org/docs.html"),
    "mongodb": DocSite("MongoDB", "https://www.mongodb.com/docs/"),
    "redis": DocSite("Redis", "https://redis.io/docs/"),
    "docker": DocSite("Docker", "https://docs.docker.com/"),
    "kubernetes": DocSite("Kubernetes", "https://kubernetes.io/docs/home/"),
    "terraform": DocSite("Terraform", "https://developer.hashicorp.com/terraform/docs"),
    "azure": DocSite("Azure", "https://learn.microsoft.com/en-us/azure/"),
    "aws": DocSite("AWS", "https://docs.aws.amazon.com/"),
    "git": DocSite("Git", "https://git-scm.com/doc"),
}
ALIASES = {
    "js": "javascript", "ecmascript": "javascript", "ts": "typescript", "html5": "html",
    "css3": "css", "dom": "webapi", "web-api": "webapi", "reactjs": "react", "react.js": "react",
    "vuejs": "vue", "vue.js": "vue", "next.js": "nextjs", "tailwindcss": "tailwind",
    "nodejs": "node", "node.js": "node", "python3": "python", "sklearn": "scikit-learn",
    "torch": "pytorch", "golang": "go", "c#": "csharp", ".net": "dotnet",
    "sql": "postgresql", "postgres": "postgresql", "mongo": "mongodb", "k8s": "kubernetes",
    "ruby-on-rails": "rails",
}  # fmt: skip
# Everyday English words: in free text they count only when written as the proper noun.
PROPER_NOUNS = {"go": "Go", "react": "React", "swift": "Swift", "rails": "Rails"}
_WORD = re.compile(r"[A-Za-z0-9+#.\-]+")


def canonical(word: str) -> str:
    """A technology word in the registry's spelling: ``"Node.js"`` → ``"node"``."""
    lowered = word.strip().lower()
    return ALIASES.get(lowered, lowered)


def named_in_text(text: str, known: Mapping[str, object] = REGISTRY) -> list[str]:
    """The ``known`` technologies the words of ``text`` name, in order of first mention."""
    found: list[str] = []
    for raw in _WORD.findall(text):
        word = raw.rstrip(".-")
        tech = canonical(word)
        if tech in PROPER_NOUNS and word != PROPER_NOUNS[tech]:
            continue
        if tech in known and tech not in found:
            found.append(tech)
    return found


class OfficialDocsSource:
    """Links to official documentation, and MDN's search results for web-platform topics."""

    kind = DOCS

    def __init__(
        self,
        http: httpx.AsyncClient,
        extra: Mapping[str, str] | None = None,
        *,
        throttle_cooldown: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Search MDN through ``http``; ``extra`` (technology → docs URL) extends the registry.

        An ``extra`` entry for a known technology replaces its URL and, since its search results
        would point elsewhere, its MDN search. URLs that are not ``http(s)`` are ignored.

        :param http: the shared client MDN is asked through, with the search's own time limit.
        :param extra: more technologies and their documentation URLs (from settings).
        :param throttle_cooldown: rest after MDN answers 429 without ``retry-after``.
        :param clock: Unix seconds; tests pass a fake.
        """
        self._sites = dict(REGISTRY)
        for technology, url in (extra or {}).items():
            if safe_url(url) is None:
                log.warning("research: docs URL for %r is not http(s); ignored", technology)
                continue
            key = canonical(technology)
            known = self._sites.get(key)
            site = replace(known, url=url, mdn=False) if known else DocSite(technology.strip(), url)
            self._sites[key] = site
        self._mdn = MdnSearch(http, throttle_cooldown=throttle_cooldown, clock=clock)

    def technologies(self, query: ResearchQuery) -> list[str]:
        """Registry keys the query names: its tags first, then the words of its text."""
        found = [t for t in map(canonical, query.tags) if t in self._sites]
        found += named_in_text(query.text, self._sites)
        return list(dict.fromkeys(found))

    async def search(self, query: ResearchQuery, *, time_limit: float) -> list[Finding]:
        """Up to five findings: MDN pages when MDN covers the topic, documentation homes else."""
        technologies = self.technologies(query)[:MAX_RESULTS]
        searched: list[Finding] = []
        if any(self._sites[t].mdn for t in technologies):
            searched = await self._mdn.search(query, time_limit=time_limit)
        homes = [self._home(t) for t in technologies if not (searched and self._sites[t].mdn)]
        return (homes + searched)[:MAX_RESULTS]

    def _home(self, technology: str) -> Finding:
        site = self._sites[technology]
        name = plain_text(site.name, limit=80)
        return Finding(
            kind=DOCS,
            title=f"{name} documentation",
            url=site.url,
            snippet=f"The official {name} documentation: reference, guides and tutorials.",
            score=HOME_SCORE,
        )


class MdnSearch(JsonSearchSource):
    """``GET /api/v1/search`` on MDN: its pages for the query text, scored by MDN's relevance."""

    kind = DOCS
    url = MDN_SEARCH
    items_key = "documents"

    @property
    def label(self) -> str:
        """The name logs give MDN's search."""
        return "docs (MDN)"

    def params(self, query: ResearchQuery) -> dict[str, str]:
        """English pages for the text."""
        return {"q": query.text[:200], "locale": "en-US", "size": str(MAX_RESULTS)}

    def findings(self, items: Sequence[Mapping[str, Any]]) -> Iterable[Finding | None]:
        """Pages scored against the best of this answer."""
        scores = [_number(d.get("score")) for d in items]
        top = max(scores, default=0.0)
        for document, score in zip(items, scores, strict=True):
            yield _mdn_finding(document, score / top if top > 0 else 0.0)


def _mdn_finding(document: Mapping[str, Any], relevance: float) -> Finding | None:
    path = text_of(document, "mdn_url")
    url = safe_url(MDN + path) if path.startswith("/") and not path.startswith("//") else None
    title = plain_text(text_of(document, "title"), limit=200)
    if url is None or not title:
        return None
    return Finding(
        kind=DOCS,
        title=f"{title} – MDN",
        url=url,
        snippet=plain_text(text_of(document, "summary")),
        score=0.6 + 0.4 * relevance,  # any matching MDN page beats a documentation home
    )


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(float(value), 0.0)
