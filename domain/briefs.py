"""What a provider and the research are told about one lesson, from the lesson itself."""

import re

from domain.lesson import Lesson
from domain.ports import LessonBrief
from domain.research import Finding, ResearchQuery

# Words of a goal that say nothing about the technology to research.
_COMMON = (
    "a an and the of for to in on with how from into using learn learning understand master "
    "basics basic introduction intro foundations fundamentals core concepts practice project "
    "advanced beginner intermediate my i want become get getting started build building"
)
_COMMON_WORDS = frozenset(_COMMON.split())


def query_for(lesson: Lesson) -> ResearchQuery:
    """What to research for a lesson: its title, tagged with the goal's and module's key words."""
    text = f"{lesson.goal} {lesson.module_title}".lower()
    words = (word.rstrip(".") for word in re.findall(r"[a-z][a-z0-9+#.]{0,24}", text))
    tags = tuple(dict.fromkeys(w for w in words if w and w not in _COMMON_WORDS))
    return ResearchQuery(text=lesson.title, tags=tags[:6])


def brief_for(lesson: Lesson, references: tuple[Finding, ...] = ()) -> LessonBrief:
    """What a provider is told about the lesson to write."""
    return LessonBrief(
        goal=lesson.goal,
        skill_level=lesson.skill_level,
        module_title=lesson.module_title,
        title=lesson.title,
        description=lesson.description,
        objectives=tuple(lesson.objectives),
        estimated_minutes=lesson.estimated_minutes,
        references=references,
        instructions=lesson.instructions,
    )
