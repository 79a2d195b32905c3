"""HTTP: read a lesson, ask for it to be written or withdraw the request, mark progress."""

import hashlib
from typing import Annotated

import azure.functions as func
from pydantic import StringConstraints

from domain.base import ApiModel
from domain.lesson import GenerationStatus, Lesson
from domain.progress import ProgressUpdate
from domain.views import LessonView, ProgressView
from functions.api import api
from functions.http import Caller, etag_matches, json_response, read_json, resource_id
from functions.problems import ProblemDetails as Problem

bp = func.Blueprint()
BODY_ERRORS = {400: Problem, 413: Problem, 422: Problem}


# The chips the learner page offers; any other wish of up to 300 characters is welcome too.
INSTRUCTION_PRESETS = ("Simpler", "More examples", "More practice", "Deeper")
# No control characters (tab and newline aside): they hide text from whoever reads it.
_PRINTABLE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"


class GenerateLessonRequest(ApiModel):
    """The optional body of ``POST /api/lessons/{id}/generate``."""

    force: bool = False  # write a completed lesson again (its content stays until replaced)
    # How to write it ("simpler", "use PostgreSQL"); given to the model as the learner's data.
    instructions: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=300, pattern=_PRINTABLE),
        ]
        | None
    ) = None


def _etag(tag: str) -> str:
    return '"' + hashlib.sha256(tag.encode()).hexdigest()[:20] + '"'


@api(
    bp,
    "lessons/{lessonId}",
    "GET",
    summary="A lesson with its status, progress and, once completed, its content",
    responses={200: LessonView, 304: None, 404: Problem},
    headers={200: ("ETag",), 304: ("ETag",)},
)
async def get_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """A lesson; answers ``304`` to a matching ``If-None-Match``, so polling is cheap."""
    lesson_id = resource_id(req, "lessonId", "lesson")
    view, tag = await caller.services.learner.lesson(caller.user_id, lesson_id)
    etag = _etag(tag)
    if etag_matches(req.headers.get("If-None-Match"), etag):
        return func.HttpResponse(status_code=304, headers={"ETag": etag})
    return json_response(view, headers={"ETag": etag, "Cache-Control": "private, no-cache"})


def _accepted(lesson: Lesson, caller: Caller) -> func.HttpResponse:
    if lesson.status is GenerationStatus.COMPLETED:
        return json_response(LessonView.of(lesson))
    headers = {
        "Location": f"/api/lessons/{lesson.id}",
        "Retry-After": str(caller.services.settings.poll_after_seconds),
    }
    return json_response(LessonView.of(lesson), 202, headers=headers)


@api(
    bp,
    "lessons/{lessonId}/generate",
    "POST",
    summary="Queue the lesson for writing (202 + status URL), or return it if already written",
    request=GenerateLessonRequest,
    body_required=False,
    responses={200: LessonView, 202: LessonView, 404: Problem, 429: Problem, **BODY_ERRORS},
    headers={202: ("Location", "Retry-After"), 429: ("Retry-After",)},
    metered=True,
)
async def generate_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Queue the lesson (202 + status URL), or return it if already written (200)."""
    lesson_id = resource_id(req, "lessonId", "lesson")
    body = read_json(req, GenerateLessonRequest, optional=True)
    lesson = await caller.services.generation.request(
        caller.user_id, lesson_id, force=body.force, instructions=body.instructions or None
    )
    return _accepted(lesson, caller)


@api(
    bp,
    "lessons/{lessonId}/generate",
    "DELETE",
    summary="Withdraw a queued generation; the worker then skips the lesson",
    responses={200: LessonView, 404: Problem, 409: Problem},
)
async def cancel_generation(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Withdraw a queued generation (back to pending); 409 once it is being written."""
    lesson_id = resource_id(req, "lessonId", "lesson")
    lesson = await caller.services.generation.cancel(caller.user_id, lesson_id)
    return json_response(LessonView.of(lesson))


@api(
    bp,
    "lessons/{lessonId}/progress",
    "PUT",
    summary="Mark a lesson viewed and/or completed; viewing queues the next lesson",
    request=ProgressUpdate,
    responses={200: ProgressView, 404: Problem, **BODY_ERRORS},
    metered=True,  # viewing may queue the next lesson, which spends one
)
async def put_progress(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Record the learner's marks on a lesson."""
    lesson_id = resource_id(req, "lessonId", "lesson")
    update = read_json(req, ProgressUpdate)
    return json_response(await caller.services.learner.mark(caller.user_id, lesson_id, update))
