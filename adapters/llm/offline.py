"""The offline provider: deterministic lessons and outlines built from templates, no model.

Its output is always labelled ``provider: "offline"`` and says so in the text, so nobody mistakes
it for AI-written content. It is the last link of the provider chain and needs no network.
"""

import json
import re
from typing import Any

from domain.ports import Draft, LessonBrief, LlmTask, ModuleBrief, RoadmapBrief, TaskKind, TextSink

PROVIDER = "offline"
MODEL = "offline-template-v1"

_LANGUAGES = {
    "python": "python",
    "django": "python",
    "flask": "python",
    "fastapi": "python",
    "pandas": "python",
    "javascript": "javascript",
    "node": "javascript",
    "react": "javascript",
    "typescript": "typescript",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "java": "java",
    "kotlin": "kotlin",
    "c#": "csharp",
    ".net": "csharp",
    "sql": "sql",
    "bash": "bash",
    "shell": "bash",
    "docker": "dockerfile",
    "kubernetes": "yaml",
    "azure": "bash",
}
_NOTICE = "Offline lesson: written from a template, without an AI model."


def _language(goal: str) -> str:
    words = re.findall(r"[a-z#.+]+", goal.lower())
    return next((_LANGUAGES[w] for w in words if w in _LANGUAGES), "text")


def _lesson(brief: LessonBrief) -> dict[str, Any]:
    objectives = list(brief.objectives)
    language = _language(f"{brief.goal} {brief.module_title} {brief.title}")
    sections = [
        {
            "heading": objective[:300],
            "body": (
                f"**Why it matters.** {objective} is a step toward your goal: *{brief.goal}*.\n\n"
                f"**How to study it.** Read the official documentation on this topic, then "
                f"reproduce one small example yourself and change it until it breaks."
            ),
        }
        for objective in objectives
    ]
    return {
        "summary": f"{_NOTICE} {brief.title}: {brief.description or brief.module_title}".strip(),
        "sections": sections,
        "codeExamples": [
            {
                "title": f"A first experiment with {brief.title}"[:300],
                "language": language,
                "code": f"# {brief.title}\n# The smallest program that shows: {objectives[0]}\n",
                "explanation": "Start from this skeleton and fill it in as the lesson goes.",
            }
        ],
        "exercises": [
            {
                "prompt": f"In your own words and with one example, show that you can: {objective}",
                "hint": "Begin with the simplest case you can think of.",
                "solution": "Compare your example with the official documentation's example.",
            }
            for objective in objectives[:3]
        ],
        "quiz": [
            {
                "question": f"Which of these is an objective of “{brief.title}”?"[:300],
                "options": [objectives[0][:300], "Memorising every API by heart"],
                "answerIndex": 0,
                "explanation": "The lesson's objectives are listed at its top.",
            }
        ],
        "keyTakeaways": [objective[:300] for objective in objectives],
        "diagrams": [
            {"title": f"The path through {brief.title}"[:300], "mermaid": _flowchart(objectives)}
        ],
        "furtherReading": [{"title": f.title[:300], "url": f.url} for f in brief.references[:5]],
    }


def _flowchart(objectives: list[str]) -> str:
    steps = [f'    S{n}["{_label(o)}"]' for n, o in enumerate(objectives)]
    links = [f"    S{n} --> S{n + 1}" for n in range(len(objectives) - 1)]
    return "\n".join(["flowchart TD", *steps, *links])


def _label(text: str) -> str:
    text = re.sub(r"(?i)\b(javascript|vbscript|data)\s*:", r"\1 ", text)  # not a script link
    return text.replace('"', "'").replace("<", "‹").replace(">", "›")[:80]


def _pieces(document: dict[str, Any], key: str) -> list[str]:
    """``json.dumps(document)`` cut so that each item of the list ``document[key]`` is completed
    by a piece of its own: a reader parsing the growing text sees the items arrive one by one."""
    marker = f"{json.dumps(key)}: []"  # cannot occur inside a JSON string: its quotes are escaped
    head, _, tail = json.dumps({**document, key: []}).partition(marker)
    items = [json.dumps(item) for item in document[key]]
    return [
        head + marker[:-1],
        *((", " if n else "") + item for n, item in enumerate(items)),
        "]" + tail,
    ]


def _outline(brief: RoadmapBrief) -> dict[str, Any]:
    goal = brief.goal
    minutes = 45 if (brief.weekly_hours or 5) >= 5 else 30
    stages = [
        (
            "Foundations",
            "The vocabulary and mental model",
            ["Explain the core terms", "Set up a working environment"],
        ),
        (
            "Core concepts",
            "The ideas everything else builds on",
            ["Use the main building blocks", "Read and debug small programs"],
        ),
        (
            "Practice",
            "Solving realistic problems",
            ["Combine concepts to solve a task", "Test and refine a solution"],
        ),
        ("Project", "Putting it together", ["Plan a small project", "Ship and review the project"]),
    ]
    return {
        "modules": [
            {
                "title": f"{title}: {goal}"[:200],
                "description": f"{about} for {goal} ({brief.skill_level}).",
                "lessons": [
                    {
                        "title": f"{objective} ({goal})"[:200],
                        "description": f"{about}: {objective.lower()}.",
                        "objectives": [objective, f"Apply it to {goal}"[:300]],
                        "estimatedMinutes": minutes,
                    }
                    for objective in objectives
                ],
            }
            for title, about, objectives in stages
        ]
    }


_PLAN_NOTICE = "Planned offline from a template, without an AI model."
# "a module on window functions" → "window functions": the topic of a learner's request.
_ASKING = re.compile(
    r"^(?:please\s+)?(?:add\s+)?(?:an?\s+|one\s+more\s+)?(?:new\s+)?"
    r"(?:module|lesson|chapter)\s+(?:on|about|covering|for)\s+",
    re.IGNORECASE,
)


def _topic(request: str) -> str:
    """What a request is about, as a title (the request itself when nothing is left of it)."""
    topic = _ASKING.sub("", request).strip(" .!")
    topic = topic if len(topic) >= 3 else request.strip()
    return (topic[:1].upper() + topic[1:])[:120]


def _lesson_plan(topic: str, goal: str, title: str, minutes: int) -> dict[str, Any]:
    return {
        "title": title[:200],
        "description": f"{_PLAN_NOTICE} {topic}, for {goal}"[:1_000],
        "objectives": [f"Explain {topic}"[:300], f"Use {topic} in a small example"[:300]],
        "estimatedMinutes": minutes,
    }


def _module(brief: ModuleBrief) -> dict[str, Any]:
    """One template module on the learner's topic: essentials, practice, pitfalls."""
    topic = _topic(brief.request)
    minutes = 45 if (brief.weekly_hours or 5) >= 5 else 30
    titles = [f"{topic}: the essentials", f"{topic} in practice", f"{topic}: common pitfalls"]
    return {
        "title": topic[:200],
        "description": f"{_PLAN_NOTICE} {topic} ({brief.skill_level}).",
        "lessons": [_lesson_plan(topic, brief.goal, title, minutes) for title in titles],
    }


def _planned(task: LlmTask) -> tuple[dict[str, Any], str]:
    """A template outline, module or lesson skeleton, and the list its JSON streams by."""
    brief = task.brief
    if task.kind is TaskKind.MODULE and isinstance(brief, ModuleBrief):
        return _module(brief), "lessons"
    if task.kind is TaskKind.LESSON_PLAN and isinstance(brief, ModuleBrief):
        topic = _topic(brief.request)
        return _lesson_plan(topic, brief.goal, topic, 30), "objectives"
    assert isinstance(brief, RoadmapBrief)
    return _outline(brief), "modules"


class OfflineProvider:
    """Always available, never an AI: the provider of last resort."""

    name = PROVIDER
    model = MODEL
    needs_network = False

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        """A template lesson covering each objective, or a four-module template outline.

        Streamed, the JSON comes in pieces that each complete one section of a lesson (one module
        of an outline), as a model's answer would grow.
        """
        brief = task.brief
        if isinstance(brief, LessonBrief):
            document, key = _lesson(brief), "sections"
        else:
            document, key = _planned(task)
        if on_text is None:
            return Draft(payload=json.dumps(document), provider=PROVIDER, model=MODEL)
        pieces = _pieces(document, key)
        for piece in pieces:
            await on_text(piece)
        return Draft(payload="".join(pieces), provider=PROVIDER, model=MODEL)
