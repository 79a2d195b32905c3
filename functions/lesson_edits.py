"""HTTP: edit a roadmap's lessons in place (add by hand or by prompt, rename, remove).

Like every roadmap edit (``functions/roadmap_edits.py``), each needs the roadmap's ``ETag`` as
``If-Match`` and answers with the roadmap as it now is and its new ``ETag``.
"""

import azure.functions as func

from domain.edit_requests import AddLessonRequest, PlanLessonRequest, RenameRequest
from domain.views import RoadmapView
from functions.api import api
from functions.http import Caller, read_json, resource_id
from functions.roadmap_edits import (
    BODY_ERRORS,
    CREATED,
    EDIT_ERRORS,
    EDITED,
    IF_MATCH,
    PLAN_ERRORS,
    created,
    edited,
    target,
)

bp = func.Blueprint()


@api(
    bp,
    "roadmaps/{roadmapId}/lessons",
    "POST",
    summary="Add a lesson written by hand to one of the roadmap's modules",
    request=AddLessonRequest,
    responses={201: RoadmapView, **EDIT_ERRORS, **BODY_ERRORS},
    headers=CREATED,
    required_headers=IF_MATCH,
)
async def add_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Add a ``pending`` lesson to module ``moduleId`` at ``position`` (last by default)."""
    edit = target(req, caller)
    request = read_json(req, AddLessonRequest)
    return created(await caller.services.editor.add_lesson(edit, request))


@api(
    bp,
    "roadmaps/{roadmapId}/lessons/from-prompt",
    "POST",
    summary="Add a lesson planned from a prompt for one module (spends one roadmap)",
    request=PlanLessonRequest,
    responses={201: RoadmapView, **EDIT_ERRORS, **BODY_ERRORS, **PLAN_ERRORS},
    headers=CREATED,
    required_headers=IF_MATCH,
    metered=True,
)
async def plan_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Add a lesson the providers plan from ``prompt`` and what the module already covers."""
    edit = target(req, caller)
    request = read_json(req, PlanLessonRequest)
    return created(await caller.services.editor.plan_lesson(edit, request))


@api(
    bp,
    "roadmaps/{roadmapId}/lessons/{lessonId}",
    "PATCH",
    summary="Rename a lesson: a new title, description, or both (not while it is written)",
    request=RenameRequest,
    responses={200: RoadmapView, **EDIT_ERRORS, **BODY_ERRORS},
    headers=EDITED,
    required_headers=IF_MATCH,
)
async def rename_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Give a lesson a new title and/or description; its status and content stay."""
    edit = target(req, caller)
    lesson_id = resource_id(req, "lessonId", "lesson")
    request = read_json(req, RenameRequest)
    return edited(await caller.services.editor.rename_lesson(edit, lesson_id, request))


@api(
    bp,
    "roadmaps/{roadmapId}/lessons/{lessonId}",
    "DELETE",
    summary="Remove a lesson, its content and marks (withdrawn if queued or being written)",
    responses={200: RoadmapView, **EDIT_ERRORS},
    headers=EDITED,
    required_headers=IF_MATCH,
)
async def remove_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Remove a lesson; a writer working on it stores nothing."""
    edit = target(req, caller)
    lesson_id = resource_id(req, "lessonId", "lesson")
    return edited(await caller.services.editor.remove_lesson(edit, lesson_id))
