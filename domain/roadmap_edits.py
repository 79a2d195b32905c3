"""Editing a roadmap in place: the ``If-Match`` precondition and the changes made to the roadmap
document itself (``domain/roadmap_editor.py`` stores them, and the lessons they add or remove).

The roadmap document is the record of a roadmap's shape: which modules, in which order, and
which lessons each holds, in order. Lessons keep their own documents (status, content) and the
learner's marks are kept apart; an edit never touches those of a lesson it keeps, beyond what
the edit itself says (a new title, a new place).
"""

import hashlib
from dataclasses import dataclass

from domain.base import new_id
from domain.edit_requests import MAX_LESSONS_PER_MODULE, MAX_MODULES, ReorderRequest
from domain.errors import (
    EditRefused,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from domain.lesson import Lesson
from domain.roadmap import MAX_LESSONS_PER_ROADMAP, LessonPlan, Module, ModulePlan, Roadmap


@dataclass(frozen=True)
class Precondition:
    """What an ``If-Match`` asked for: one of these strong ETags, or any version (``*``)."""

    tags: frozenset[str]
    any: bool = False


def roadmap_etag(roadmap: Roadmap) -> str:
    """The roadmap's ETag: an opaque digest of its storage version, quoted (a strong tag)."""
    return '"' + hashlib.sha256((roadmap.version or "").encode()).hexdigest()[:20] + '"'


def require(precondition: Precondition | None, roadmap: Roadmap) -> None:
    """``PreconditionRequired`` without an ``If-Match``; ``PreconditionFailed`` when it names
    a version other than the one stored."""
    if precondition is None:
        raise PreconditionRequired(
            "Send the roadmap's ETag as If-Match, so an edit never overwrites another."
        )
    if not precondition.any and roadmap_etag(roadmap) not in precondition.tags:
        raise PreconditionFailed(
            "The roadmap changed since you read it: read it again and repeat the edit."
        )


def field_error(field: str, message: str) -> InvalidRequest:
    """A request whose ``field`` is wrong: the message says how, never what was sent."""
    return InvalidRequest(
        "The request does not fit this roadmap.", [{"field": field, "message": message}]
    )


def module_in(roadmap: Roadmap, module_id: str, field: str | None = None) -> Module:
    """The roadmap's module ``module_id``: ``NotFound`` (a path) or a 422 naming ``field``."""
    for module in roadmap.modules:
        if module.id == module_id:
            return module
    if field is not None:
        raise field_error(field, "no module of this roadmap has this id")
    raise NotFound("module", module_id)


def module_of_lesson(roadmap: Roadmap, lesson_id: str) -> Module:
    """The module holding lesson ``lesson_id``; ``NotFound`` when the roadmap has no such lesson."""
    for module in roadmap.modules:
        if lesson_id in module.lesson_ids:
            return module
    raise NotFound("lesson", lesson_id)


def place(position: int | None, length: int) -> int:
    """The 0-based index to insert at for a 1-based ``position`` (after the last when None)."""
    if position is None:
        return length
    if position > length + 1:
        raise field_error("position", f"is past the end: at most {length + 1} here")
    return position - 1


def lesson_count(roadmap: Roadmap) -> int:
    """How many lessons the roadmap holds."""
    return sum(len(module.lesson_ids) for module in roadmap.modules)


def room_for_module(roadmap: Roadmap) -> int:
    """How many lessons a new module may bring; ``EditRefused`` when none fits."""
    if len(roadmap.modules) >= MAX_MODULES:
        raise EditRefused(f"A roadmap holds at most {MAX_MODULES} modules.")
    room = min(MAX_LESSONS_PER_MODULE, MAX_LESSONS_PER_ROADMAP - lesson_count(roadmap))
    if room < 1:
        raise EditRefused(f"A roadmap holds at most {MAX_LESSONS_PER_ROADMAP} lessons.")
    return room


def check_room_for_lesson(roadmap: Roadmap, module: Module) -> None:
    """``EditRefused`` when the module or the roadmap is full."""
    if len(module.lesson_ids) >= MAX_LESSONS_PER_MODULE:
        raise EditRefused(f"A module holds at most {MAX_LESSONS_PER_MODULE} lessons.")
    if lesson_count(roadmap) >= MAX_LESSONS_PER_ROADMAP:
        raise EditRefused(f"A roadmap holds at most {MAX_LESSONS_PER_ROADMAP} lessons.")


def skeleton(roadmap: Roadmap, module: Module, plan: LessonPlan) -> Lesson:
    """A new ``pending`` lesson of ``module`` (its place is set by ``renumber``)."""
    return Lesson(
        id=new_id(),
        user_id=roadmap.user_id,
        roadmap_id=roadmap.id,
        module_id=module.id,
        order=len(module.lesson_ids) + 1,
        goal=roadmap.goal,
        skill_level=roadmap.skill_level,
        module_title=module.title,
        title=plan.title,
        description=plan.description,
        objectives=list(plan.objectives),
        estimated_minutes=plan.estimated_minutes,
    )


def insert_module(
    roadmap: Roadmap, plan: ModulePlan, position: int | None, room: int
) -> tuple[Module, list[Lesson]]:
    """Put a new module, with at most ``room`` of its planned lessons, at ``position``."""
    index = place(position, len(roadmap.modules))
    module = Module(
        id=new_id(), title=plan.title, description=plan.description, order=0, lesson_ids=[]
    )
    lessons = []
    for lesson_plan in plan.lessons[:room]:
        lesson = skeleton(roadmap, module, lesson_plan)
        module.lesson_ids.append(lesson.id)
        lessons.append(lesson)
    roadmap.modules.insert(index, module)
    renumber(roadmap)
    return module, lessons


def insert_lesson(
    roadmap: Roadmap, module: Module, plan: LessonPlan, position: int | None
) -> Lesson:
    """Put a new lesson into ``module`` at ``position``."""
    index = place(position, len(module.lesson_ids))
    lesson = skeleton(roadmap, module, plan)
    module.lesson_ids.insert(index, lesson.id)
    return lesson


def remove_module(roadmap: Roadmap, module_id: str) -> list[str]:
    """Take the module out of the roadmap; the ids of the lessons it held."""
    module = module_in(roadmap, module_id)
    if len(roadmap.modules) == 1:
        raise EditRefused("A roadmap keeps at least one module: this is its last.")
    roadmap.modules.remove(module)
    renumber(roadmap)
    return list(module.lesson_ids)


def remove_lesson(roadmap: Roadmap, lesson_id: str) -> None:
    """Take the lesson out of its module."""
    module = module_of_lesson(roadmap, lesson_id)
    if len(module.lesson_ids) == 1:
        raise EditRefused("A module keeps at least one lesson: remove the module instead.")
    module.lesson_ids.remove(lesson_id)


def reorder(roadmap: Roadmap, request: ReorderRequest) -> None:
    """Put the modules and their lessons in the order asked; a 422 naming each wrong field."""
    modules = {module.id: module for module in roadmap.modules}
    errors: list[dict[str, str]] = []
    ordered: list[Module] = []
    for i, entry in enumerate(request.modules):
        where = f"modules.{i}"
        module = modules.get(entry.module_id)
        if module is None:
            errors.append({"field": f"{where}.moduleId", "message": "no module of this roadmap"})
        elif any(module.id == kept.id for kept in ordered):
            errors.append({"field": f"{where}.moduleId", "message": "names a module twice"})
        else:
            ordered.append(module)
            errors += _lesson_order_errors(module, entry.lesson_ids, f"{where}.lessonIds")
    left_out = len(roadmap.modules) - len(ordered)
    if left_out and not errors:
        errors.append({"field": "modules", "message": f"leaves out {left_out} module(s)"})
    if errors:
        raise InvalidRequest("The new order must name each module and lesson once.", errors)
    for entry, module in zip(request.modules, ordered, strict=True):
        module.lesson_ids = list(entry.lesson_ids)
    roadmap.modules = ordered
    renumber(roadmap)


def _lesson_order_errors(module: Module, lesson_ids: list[str], where: str) -> list[dict[str, str]]:
    errors, seen = [], set()
    for j, lesson_id in enumerate(lesson_ids):
        if lesson_id not in module.lesson_ids:
            errors.append({"field": f"{where}.{j}", "message": "not a lesson of this module"})
        elif lesson_id in seen:
            errors.append({"field": f"{where}.{j}", "message": "names a lesson twice"})
        seen.add(lesson_id)
    left_out = len(set(module.lesson_ids) - seen)
    if left_out and not errors:
        errors.append({"field": where, "message": f"leaves out {left_out} lesson(s) of the module"})
    return errors


def renumber(roadmap: Roadmap) -> None:
    """Modules numbered 1, 2, … in their order."""
    for number, module in enumerate(roadmap.modules, start=1):
        module.order = number
