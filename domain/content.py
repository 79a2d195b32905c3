"""What a written lesson contains; every provider's output is validated against these models."""

from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from domain.base import DocumentModel

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Markdown = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


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

    summary: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)
    ]
    sections: list[Section] = Field(min_length=1, max_length=20)
    code_examples: list[CodeExample] = Field(default_factory=list, max_length=10)
    exercises: list[Exercise] = Field(min_length=1, max_length=10)
    quiz: list[QuizQuestion] = Field(min_length=1, max_length=20)
    key_takeaways: list[ShortText] = Field(min_length=1, max_length=12)
