"""What a learner sends to edit a roadmap in place (``domain/roadmap_edits.py`` applies it)."""

from typing import Annotated, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from domain.base import ApiModel
from domain.roadmap import Description, LessonPlan, ModulePlan, Title

MAX_MODULES = 20
MAX_LESSONS_PER_MODULE = 20
PROMPT_LENGTH = 300
# Ids we issue are UUIDs; the same shape the routes accept.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")]
# No control characters (tab and newline aside): they hide text from whoever reads it.
Prompt = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=3,
        max_length=PROMPT_LENGTH,
        pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$",
    ),
]
ModulePosition = Annotated[int, Field(ge=1, le=MAX_MODULES)]
LessonPosition = Annotated[int, Field(ge=1, le=MAX_LESSONS_PER_MODULE)]


class AddModuleRequest(ModulePlan):
    """The body of ``POST …/modules``: a module written by hand, put at ``position`` (1 is
    first; after the last by default)."""

    position: ModulePosition | None = None


class PlanModuleRequest(ApiModel):
    """The body of ``POST …/modules/from-prompt``: what the module should be about."""

    prompt: Prompt
    position: ModulePosition | None = None


class AddLessonRequest(LessonPlan):
    """The body of ``POST …/lessons``: a lesson written by hand, put in module ``moduleId`` at
    ``position`` (after its last lesson by default)."""

    module_id: Id
    position: LessonPosition | None = None


class PlanLessonRequest(ApiModel):
    """The body of ``POST …/lessons/from-prompt``: the module, and what the lesson is about."""

    module_id: Id
    prompt: Prompt
    position: LessonPosition | None = None


class RenameRequest(ApiModel):
    """The body of ``PATCH`` on a module or a lesson: a new title, description, or both."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    title: Title | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.title is None and self.description is None:
            raise ValueError("give a title, a description or both")
        return self


class ModuleOrder(ApiModel):
    """One module in a new order, with all its lessons in their new order."""

    module_id: Id
    lesson_ids: list[Id] = Field(min_length=1, max_length=MAX_LESSONS_PER_MODULE)


class ReorderRequest(ApiModel):
    """The body of ``PUT …/order``: every module once, each with every one of its lessons once.

    Lessons stay in their module; the order given is the new reading order.
    """

    modules: list[ModuleOrder] = Field(min_length=1, max_length=MAX_MODULES)
