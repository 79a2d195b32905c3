"""What a written lesson contains; every provider's output is validated against these models."""

import re
from collections.abc import Callable, Collection
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.base import DocumentModel

# Validation context key: a function that removes raw HTML from Markdown. Provider output is
# validated with it, so no tag or script from a model reaches storage; stored documents, already
# cleaned, are read back without it.
CLEAN_MARKDOWN = "clean_markdown"
MarkdownCleaner = Callable[[str], str]


def _text(max_length: int) -> object:
    """Text of at most ``max_length`` characters as the provider wrote it, then cleaned.

    Cleaning may lengthen text (``&`` becomes ``&amp;``), so the limit applies before it; a
    stored document, read back without a cleaner, is not held to it and always reads back.
    """

    def cleaned(value: str, info: ValidationInfo) -> str:
        clean: MarkdownCleaner | None = (info.context or {}).get(CLEAN_MARKDOWN)
        if clean is None:
            return value
        if len(value) > max_length:
            raise ValueError(f"at most {max_length} characters, not {len(value)}")
        value = clean(value).strip()
        if not value:
            raise ValueError("nothing is left once raw HTML is removed")
        return value

    return AfterValidator(cleaned)


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _text(300)]
Markdown = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _text(20_000)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _text(2_000)]


class Section(DocumentModel):
    """One titled part of the lesson body, in Markdown."""

    heading: ShortText
    body: Markdown


class CodeExample(DocumentModel):
    """A runnable or illustrative snippet with the language it is written in."""

    title: ShortText
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+#.\-]{1,40}$")]
    code: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    explanation: Markdown


class Exercise(DocumentModel):
    """A task for the learner, with a hint and a worked solution."""

    prompt: Markdown
    hint: Markdown
    solution: Markdown


class QuizQuestion(DocumentModel):
    """A multiple-choice question; ``answer_index`` points into ``options``."""

    question: ShortText
    options: list[ShortText] = Field(min_length=2, max_length=6)
    answer_index: int = Field(ge=0)
    explanation: Markdown

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> Self:
        if self.answer_index >= len(self.options):
            raise ValueError(
                f"answerIndex {self.answer_index} is not one of the {len(self.options)} options"
            )
        return self


MERMAID_TYPES = (
    "flowchart",
    "graph",
    "sequenceDiagram",
    "classDiagram",
    "stateDiagram",
    "stateDiagram-v2",
    "erDiagram",
    "journey",
    "gantt",
    "pie",
    "mindmap",
    "timeline",
    "quadrantChart",
)
# What could run script or loosen the renderer's security: directives such as
# %%{init: {"securityLevel": "loose"}}%% (anywhere, even mid-line or unclosed) and click or href
# interactions, also when they follow another statement after a ";". They are dropped.
_DIRECTIVE = re.compile(r"%%\{.*?(?:\}%%|$)", re.MULTILINE | re.DOTALL)
_INTERACTION = re.compile(r"^\s*(?:click|href|callback)\b", re.IGNORECASE)


def _without_interactions(line: str) -> str:
    """A Mermaid line without its ``click``/``href`` statements (statements split at ``;``)."""
    kept = [part for part in line.split(";") if not _INTERACTION.match(part)]
    return ";".join(kept) if kept != [""] else ""


def _defused_mermaid(source: str) -> str:
    without_directives = _DIRECTIVE.sub("", source)
    lines = (_without_interactions(line) for line in without_directives.split("\n"))
    return "\n".join(line for line in lines if line.strip())


class Diagram(DocumentModel):
    """A diagram as Mermaid source, rendered by the client (with Mermaid's strict security)."""

    title: ShortText
    mermaid: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)
    ]

    @field_validator("mermaid")
    @classmethod
    def _safe_mermaid(cls, source: str) -> str:
        source = _defused_mermaid(source).strip()
        first = source.split(maxsplit=1)[0] if source else ""
        if first not in MERMAID_TYPES:
            raise ValueError(
                f"must start with a Mermaid diagram type ({', '.join(MERMAID_TYPES[:6])}, …)"
            )
        if re.search(r"javascript:|<\s*script", source, re.IGNORECASE):
            raise ValueError("must not contain script")
        return source


class Reading(DocumentModel):
    """A page worth reading next, taken from the lesson's sources."""

    title: ShortText
    url: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^https?://\S+$", max_length=2_000)
    ]


class LessonContent(DocumentModel):
    """The full text of a lesson, as a learner reads it."""

    summary: Summary
    sections: list[Section] = Field(min_length=1, max_length=20)
    code_examples: list[CodeExample] = Field(default_factory=list, max_length=10)
    exercises: list[Exercise] = Field(min_length=1, max_length=10)
    quiz: list[QuizQuestion] = Field(min_length=1, max_length=20)
    key_takeaways: list[ShortText] = Field(min_length=1, max_length=12)
    diagrams: list[Diagram] = Field(min_length=1, max_length=5)
    further_reading: list[Reading] = Field(default_factory=list, max_length=10)

    def cleaned_with(self, clean: MarkdownCleaner) -> Self:
        """A copy whose Markdown went through ``clean`` again (links narrowed to the lesson's
        sources, say), validated as a provider's answer is."""
        data = self.model_dump(mode="json", by_alias=True)
        return type(self).model_validate(data, context={CLEAN_MARKDOWN: clean})

    def reading_only_from(self, urls: Collection[str], normalise: Callable[[str], str]) -> Self:
        """A copy whose further reading keeps only pages among ``urls`` (no invented links)."""
        known = {normalise(url) for url in urls}
        kept = [r for r in self.further_reading if normalise(r.url) in known]
        return self.model_copy(update={"further_reading": kept})
