"""HTTP: a module's lessons, and writing all of them at once."""

import azure.functions as func

from domain.views import LessonSummary, ModuleLessons
from functions.api import api
from functions.http import Caller, json_response, resource_id
from functions.problems import ProblemDetails as Problem

bp = func.Blueprint()


@api(
    bp,
    "modules/{moduleId}/lessons",
    "GET",
    summary="The lessons of one module, in order, with status, minutes and the learner's marks",
    responses={200: ModuleLessons, 404: Problem},
)
async def get_module_lessons(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """The lessons of one module (the old frontend's getLessonsByModule)."""
    module_id = resource_id(req, "moduleId", "module")
    return json_response(await caller.services.learner.module(caller.user_id, module_id))


@api(
    bp,
    "modules/{moduleId}/generate",
    "POST",
    summary="Queue every pending or failed lesson of a module",
    responses={200: ModuleLessons, 202: ModuleLessons, 404: Problem, 429: Problem},
    headers={202: ("Retry-After",), 429: ("Retry-After",)},
    metered=True,
)
async def generate_module(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Queue every pending or failed lesson of a module: ``202`` with those queued."""
    module_id = resource_id(req, "moduleId", "module")
    queued = await caller.services.learner.generate_module(caller.user_id, module_id)
    body = ModuleLessons(module_id=module_id, lessons=[LessonSummary.of(q) for q in queued])
    if not queued:
        return json_response(body)
    retry = {"Retry-After": str(caller.services.settings.poll_after_seconds)}
    return json_response(body, 202, headers=retry)
