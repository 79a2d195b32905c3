"""A learner's own progress through lessons: what they opened and what they finished.

Kept apart from the lesson document, which the generation pipeline writes under optimistic
concurrency: a learner ticking a box must never make a worker's write fail.
"""

from datetime import datetime
from typing import Self

from pydantic import ConfigDict, model_validator

from domain.base import ApiModel, DocumentModel
from domain.lesson import Lesson


class LearnerProgress(DocumentModel):
    """When the learner first opened a lesson, and when they marked it done."""

    lesson_id: str
    user_id: str
    roadmap_id: str
    module_id: str
    viewed_at: datetime | None = None
    completed_at: datetime | None = None

    @classmethod
    def start(cls, lesson: Lesson) -> "LearnerProgress":
        """No progress yet on ``lesson``."""
        return cls(
            lesson_id=lesson.id,
            user_id=lesson.user_id,
            roadmap_id=lesson.roadmap_id,
            module_id=lesson.module_id,
        )

    def mark(self, *, viewed: bool | None, completed: bool | None, now: datetime) -> None:
        """Set or clear the marks; finishing a lesson implies having opened it."""
        if completed is not None:
            self.completed_at = (self.completed_at or now) if completed else None
        if viewed is not None:
            self.viewed_at = (self.viewed_at or now) if viewed else None
        if self.completed_at is not None and self.viewed_at is None:
            self.viewed_at = self.completed_at


class ProgressUpdate(ApiModel):
    """The body of ``PUT /api/lessons/{id}/progress``: at least one of the two marks."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    viewed: bool | None = None
    completed: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.viewed is None and self.completed is None:
            raise ValueError("give viewed, completed or both")
        return self
