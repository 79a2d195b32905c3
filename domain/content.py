"""What a written lesson contains; every provider's output is validated against these models."""

from collections.abc import Callable
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, model_validator

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


class LessonContent(DocumentModel):
    """The full text of a lesson, as a learner reads it."""

    summary: Summary
    sections: list[Section] = Field(min_length=1, max_length=20)
    code_examples: list[CodeExample] = Field(default_factory=list, max_length=10)
    exercises: list[Exercise] = Field(min_length=1, max_length=10)
    quiz: list[QuizQuestion] = Field(min_length=1, max_length=20)
    key_takeaways: list[ShortText] = Field(min_length=1, max_length=12)
