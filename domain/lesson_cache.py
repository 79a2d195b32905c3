"""The shared lesson cache: content written once, reused by any lesson whose inputs are identical.

Two lessons share content only when everything a model is told about them is the same once
normalised — every field of their ``LessonBrief`` (goal, skill level, module and lesson titles,
description, objectives in order, minutes) — and the prompts are the same version. So a learner
only ever receives text written for exactly what they asked, never another learner's words.

Research findings are left out of the key on purpose: they change from week to week (sources
rank differently, the research cache expires) while the lesson they ground does not, and keying
on them would make nearly every key unique. The entry keeps the sources its content cites, so a
reused lesson's ``[n]`` still point at the right links; the cache's time to live bounds how old
they get.
"""

import hashlib
import json
import re
import unicodedata
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from domain.base import DocumentModel, utcnow
from domain.content import LessonContent
from domain.lesson import Lesson, Source

if TYPE_CHECKING:
    from domain.ports import LessonBrief

# Providers that fill templates instead of asking a model (adapters/llm/offline.py labels its
# drafts "offline"): their lessons say so and are never shared, so a later request gets a model.
TEMPLATE_PROVIDERS = frozenset({"offline"})
# What the writer records as the one "attempt" of a reused lesson, and reports it under.
CACHE_PROVIDER = "cache"
REUSED = "reused"
# Brief fields that are not part of a lesson's identity (see the module docstring).
_NOT_KEYED = frozenset({"references"})
# Bumped when the normalisation below changes, so old keys are simply never found again.
_KEY_FORMAT = 1
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text as the cache compares it: NFKC, case-folded, whitespace runs as one space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _canonical(value: object) -> object:
    if isinstance(value, str):
        return normalise(value)
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    return value


def cache_key(brief: "LessonBrief", prompt_version: str) -> str:
    """The key of a lesson: SHA-256 over a canonical JSON of its normalised brief and prompts.

    Every brief field but the research findings takes part, so a field added to the brief
    (that is, to what the model is told) joins the key without anyone remembering to add it.
    """
    inputs = {
        f.name: _canonical(getattr(brief, f.name))
        for f in fields(brief)
        if f.name not in _NOT_KEYED
    }
    inputs["_format"] = _KEY_FORMAT
    inputs["_prompt"] = prompt_version
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class CachedLesson(DocumentModel):
    """Content written by a model for one set of inputs, and how it was written."""

    # The lesson it was written for: every lesson that reuses it records this as ``reusedFrom``.
    lesson_id: str
    content: LessonContent
    sources: list[Source] = Field(default_factory=list)
    research_note: str | None = None
    provider: str
    model: str
    written_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def shareable(cls, lesson: Lesson) -> "CachedLesson | None":
        """What a freshly written lesson shares, or ``None``: templates and reuses are not."""
        if lesson.content is None or lesson.provider is None or lesson.model is None:
            return None
        if lesson.provider in TEMPLATE_PROVIDERS or lesson.reused_from is not None:
            return None
        return cls(
            lesson_id=lesson.id,
            content=lesson.content,
            sources=lesson.sources,
            research_note=lesson.research_note,
            provider=lesson.provider,
            model=lesson.model,
            written_at=lesson.generated_at or utcnow(),
        )
