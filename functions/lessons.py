"""HTTP: read a lesson and ask for it to be written."""

import azure.functions as func

from domain.base import ApiModel
from domain.lesson import GenerationStatus
from domain.views import LessonView
from functions.http import Caller, authenticated, json_response, read_json, resource_id

bp = func.Blueprint()


class GenerateLessonRequest(ApiModel):
    """The optional body of ``POST /api/lessons/{id}/generate``."""

    force: bool = False  # write a completed lesson again (its content stays until replaced)


@bp.route(route="lessons/{lessonId}", methods=["GET"])
@authenticated
async def get_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """A lesson with its status, progress and, once completed, its content."""
    lesson_id = resource_id(req, "lessonId", "lesson")
    lesson = await caller.services.lessons.get(caller.user_id, lesson_id)
    return json_response(LessonView.of(lesson))


@bp.route(route="lessons/{lessonId}/generate", methods=["POST"])
@authenticated
async def generate_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Queue the lesson for writing (202 + status URL), or return it if already written (200)."""
    lesson_id = resource_id(req, "lessonId", "lesson")
    body = read_json(req, GenerateLessonRequest, optional=True)
    lesson = await caller.services.generation.request(caller.user_id, lesson_id, force=body.force)
    if lesson.status is GenerationStatus.COMPLETED:
        return json_response(LessonView.of(lesson))
    headers = {
        "Location": f"/api/lessons/{lesson.id}",
        "Retry-After": str(caller.services.settings.poll_after_seconds),
    }
    return json_response(LessonView.of(lesson), 202, headers=headers)
