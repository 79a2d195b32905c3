"""HTTP: edit a roadmap's modules and their order, in place.

Every edit needs the roadmap's ``ETag`` (from ``GET /api/roadmaps/{roadmapId}`` or the previous
edit) as ``If-Match``: without it ``428``, with a stale one ``412``, and nothing is written. The
answer is the roadmap as it now is, with its new ``ETag``.
"""

import azure.functions as func

from domain.edit_requests import AddModuleRequest, PlanModuleRequest, RenameRequest, ReorderRequest
from domain.roadmap_writes import Edited, Target
from domain.views import RoadmapView
from functions.api import api
from functions.http import Caller, if_match, json_response, read_json, resource_id
from functions.problems import ProblemDetails as Problem

bp = func.Blueprint()

IF_MATCH = ("If-Match",)
# What every edit may answer besides its success: no such roadmap (or module, or lesson), a
# state that refuses it, a stale or missing If-Match.
EDIT_ERRORS = {404: Problem, 409: Problem, 412: Problem, 428: Problem}
BODY_ERRORS = {400: Problem, 413: Problem, 422: Problem}
# An edit that plans by prompt spends one of the learner's roadmaps and asks the providers.
PLAN_ERRORS = {429: Problem, 502: Problem}
EDITED = {200: ("ETag",)}
CREATED = {201: ("ETag", "Location"), 429: ("Retry-After",)}


def target(req: func.HttpRequest, caller: Caller) -> Target:
    """The roadmap the request edits, for the caller, against the version it names."""
    roadmap_id = resource_id(req, "roadmapId", "roadmap")
    return Target(caller.user_id, roadmap_id, if_match(req))


def edited(result: Edited) -> func.HttpResponse:
    """``200``: the roadmap as it now is, with its new ETag."""
    return json_response(result.view, headers={"ETag": result.etag})


def created(result: Edited) -> func.HttpResponse:
    """``201``: the roadmap, its new ETag, and where to read what was added."""
    headers = {"ETag": result.etag, "Location": result.created or f"/api/roadmaps/{result.view.id}"}
    return json_response(result.view, 201, headers=headers)


@api(
    bp,
    "roadmaps/{roadmapId}/modules",
    "POST",
    summary="Add a module written by hand (title, description, lessons) to the roadmap",
    request=AddModuleRequest,
    responses={201: RoadmapView, **EDIT_ERRORS, **BODY_ERRORS},
    headers=CREATED,
    required_headers=IF_MATCH,
)
async def add_module(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Add a module with ``pending`` lessons at ``position`` (last by default)."""
    edit = target(req, caller)
    request = read_json(req, AddModuleRequest)
    return created(await caller.services.editor.add_module(edit, request))


@api(
    bp,
    "roadmaps/{roadmapId}/modules/from-prompt",
    "POST",
    summary="Add a module planned from a prompt for this roadmap (spends one roadmap)",
    request=PlanModuleRequest,
    responses={201: RoadmapView, **EDIT_ERRORS, **BODY_ERRORS, **PLAN_ERRORS},
    headers=CREATED,
    required_headers=IF_MATCH,
    metered=True,
)
async def plan_module(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Add a module the providers plan from ``prompt``, the roadmap's goal, level and modules."""
    edit = target(req, caller)
    request = read_json(req, PlanModuleRequest)
    return created(await caller.services.editor.plan_module(edit, request))


@api(
    bp,
    "roadmaps/{roadmapId}/modules/{moduleId}",
    "PATCH",
    summary="Rename a module: a new title, description, or both",
    request=RenameRequest,
    responses={200: RoadmapView, **EDIT_ERRORS, **BODY_ERRORS},
    headers=EDITED,
    required_headers=IF_MATCH,
)
async def rename_module(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Give a module a new title and/or description; its lessons keep everything else."""
    edit = target(req, caller)
    module_id = resource_id(req, "moduleId", "module")
    request = read_json(req, RenameRequest)
    return edited(await caller.services.editor.rename_module(edit, module_id, request))


@api(
    bp,
    "roadmaps/{roadmapId}/modules/{moduleId}",
    "DELETE",
    summary="Remove a module and its lessons (lessons queued or being written are withdrawn)",
    responses={200: RoadmapView, **EDIT_ERRORS},
    headers=EDITED,
    required_headers=IF_MATCH,
)
async def remove_module(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Remove a module, its lessons, their content and the learner's marks on them."""
    edit = target(req, caller)
    module_id = resource_id(req, "moduleId", "module")
    return edited(await caller.services.editor.remove_module(edit, module_id))


@api(
    bp,
    "roadmaps/{roadmapId}/order",
    "PUT",
    summary="Put the modules, and the lessons within each, in a new order",
    request=ReorderRequest,
    responses={200: RoadmapView, **EDIT_ERRORS, **BODY_ERRORS},
    headers=EDITED,
    required_headers=IF_MATCH,
)
async def reorder_roadmap(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Every module once, each with every one of its lessons once, in the new order."""
    edit = target(req, caller)
    request = read_json(req, ReorderRequest)
    return edited(await caller.services.editor.reorder(edit, request))
