"""Prompts, from the text files beside this module, rendered for one task.

Learner text is placed inside ``<learner_input>`` delimiters, and research findings inside
``<untrusted_reference_material>``, with any angle brackets replaced so neither can close its
delimiter and pose as an instruction.
"""

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from domain.content import LessonContent
from domain.ports import LessonBrief, LlmTask, ModuleBrief, RoadmapBrief, TaskKind
from domain.research import Finding

PROMPTS = Path(__file__).resolve().parent / "prompts"


@cache
def _template(name: str) -> Template:
    return Template((PROMPTS / f"{name}.txt").read_text(encoding="utf-8"))


def _data(text: str) -> str:
    """Learner or internet text made safe to place between delimiters."""
    return text.replace("<", "‹").replace(">", "›").strip()


def _instructions(wishes: str | None) -> str:
    if not wishes:
        return ""
    return _template("instructions").substitute(instructions=_data(wishes)).strip()


def _references(findings: tuple[Finding, ...]) -> str:
    if not findings:
        return _template("no_references").template.strip()
    items = "\n".join(
        f'<reference n="{n}" kind="{f.kind}" url="{_data(f.url)}">\n'
        f"{_data(f.title)}\n{_data(f.snippet)}\n</reference>"
        for n, f in enumerate(findings, start=1)
    )
    return _template("references").substitute(items=items).strip()


# Low enough for faithful JSON, high enough not to repeat itself across lessons.
TEMPERATURE = 0.4
# The longest answer a provider may write for each task: a lesson of a few thousand words, an
# outline of a few dozen titles. A runaway answer stops there instead of spending the budget.
MAX_OUTPUT_TOKENS: dict[TaskKind, int] = {
    TaskKind.LESSON: 8_000,
    TaskKind.OUTLINE: 3_000,
    TaskKind.MODULE: 1_500,
    TaskKind.LESSON_PLAN: 500,
}


def _version() -> str:
    """A digest of everything that shapes what a model is told: the prompt files, this module
    (which renders them), the lesson schema and the temperature."""
    digest = hashlib.sha256()
    for path in [*sorted(PROMPTS.glob("*.txt")), Path(__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    schema = LessonContent.model_json_schema(by_alias=True)
    digest.update(json.dumps(schema, sort_keys=True).encode() + f"\0{TEMPERATURE}".encode())
    return digest.hexdigest()[:16]


# The prompts' version: lessons written under another one are never reused (domain/lesson_cache).
PROMPT_VERSION = _version()


@dataclass(frozen=True)
class Conversation:
    """A system instruction and the turns after it (``user`` / ``assistant``)."""

    system: str
    turns: list[tuple[str, str]]

    def chat_messages(self) -> list[dict[str, str]]:
        """The OpenAI chat-completions ``messages``: the system message, then the turns."""
        return [{"role": "system", "content": self.system}] + [
            {"role": role, "content": text} for role, text in self.turns
        ]


def _request(task: LlmTask) -> str:
    schema = json.dumps(task.schema.model_json_schema(by_alias=True), separators=(",", ":"))
    brief = task.brief
    if task.kind is TaskKind.LESSON:
        assert isinstance(brief, LessonBrief)
        objectives = "\n".join(
            f"- <learner_input>{_data(o)}</learner_input>" for o in brief.objectives
        )
        return _template("lesson").substitute(
            goal=_data(brief.goal),
            skill_level=brief.skill_level,
            module_title=_data(brief.module_title),
            title=_data(brief.title),
            description=_data(brief.description) or "(none)",
            objectives=objectives,
            minutes=brief.estimated_minutes,
            references=_references(brief.references),
            instructions=_instructions(brief.instructions),
            schema=schema,
        )
    assert isinstance(brief, RoadmapBrief)
    if task.kind in (TaskKind.MODULE, TaskKind.LESSON_PLAN):
        assert isinstance(brief, ModuleBrief)
        return _plan_request(task.kind, brief, schema)
    hours = f"{brief.weekly_hours} hours a week" if brief.weekly_hours else "not stated"
    return _template("outline").substitute(
        goal=_data(brief.goal), skill_level=brief.skill_level, weekly_hours=hours, schema=schema
    )


def _plan_request(kind: TaskKind, brief: ModuleBrief, schema: str) -> str:
    """One more module for a roadmap, or one more lesson for a module: every title already
    there and the learner's request are data."""
    covered = "\n".join(f"- <learner_input>{_data(t)}</learner_input>" for t in brief.covered)
    hours = f"{brief.weekly_hours} hours a week" if brief.weekly_hours else "not stated"
    return _template("module" if kind is TaskKind.MODULE else "lesson_plan").substitute(
        goal=_data(brief.goal),
        skill_level=brief.skill_level,
        weekly_hours=hours,
        module_title=_data(brief.module_title or ""),
        covered=covered or "(none yet)",
        request=_data(brief.request),
        schema=schema,
    )


def conversation(task: LlmTask) -> Conversation:
    """The messages for ``task``; a repair adds the failed answer and what was wrong with it."""
    turns = [("user", _request(task))]
    if task.repair is not None:
        turns.append(("assistant", task.repair.previous))
        turns.append(("user", _template("repair").substitute(problem=task.repair.problem)))
    return Conversation(system=_template("system").template.strip(), turns=turns)
