"""HTTP: create roadmaps, list them, read one."""

import azure.functions as func

from domain.roadmap import CreateRoadmapRequest
from domain.views import RoadmapList, RoadmapView
from functions.api import api
from functions.http import Caller, json_response, read_json, read_query, resource_id
from functions.paging import PageQuery, cursor_for, offset_of
from functions.problems import ProblemDetails as Problem

bp = func.Blueprint()

_FIRST_LESSON = "$response.body#/modules/0/lessons/0/id"
# What a created roadmap leads to, for clients and for stateful API testing.
ROADMAP_LINKS = {
    "GetRoadmap": {"operationId": "get_roadmap", "parameters": {"roadmapId": "$response.body#/id"}},
    "GetModuleLessons": {
        "operationId": "get_module_lessons",
        "parameters": {"moduleId": "$response.body#/modules/0/id"},
    },
    "GenerateModule": {
        "operationId": "generate_module",
        "parameters": {"moduleId": "$response.body#/modules/0/id"},
    },
    "GetLesson": {"operationId": "get_lesson", "parameters": {"lessonId": _FIRST_LESSON}},
    "GenerateLesson": {"operationId": "generate_lesson", "parameters": {"lessonId": _FIRST_LESSON}},
    "CancelGeneration": {
        "operationId": "cancel_generation",
        "parameters": {"lessonId": _FIRST_LESSON},
    },
    "PutProgress": {"operationId": "put_progress", "parameters": {"lessonId": _FIRST_LESSON}},
}


@api(
    bp,
    "roadmaps",
    "POST",
    summary="Plan a roadmap, store its lesson skeletons and queue the first lessons",
    request=CreateRoadmapRequest,
    responses={
        201: RoadmapView,
        400: Problem,
        413: Problem,
        422: Problem,
        429: Problem,
        502: Problem,
    },
    headers={201: ("Location",), 429: ("Retry-After",)},
    links={201: ROADMAP_LINKS},
    metered=True,  # a roadmap, and the lessons it prefetches
)
async def create_roadmap(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Plan a roadmap, store its lesson skeletons and queue the first lessons."""
    request = read_json(req, CreateRoadmapRequest)
    roadmap = await caller.services.roadmaps.create(caller.user_id, request)
    return json_response(roadmap, 201, headers={"Location": f"/api/roadmaps/{roadmap.id}"})


@api(
    bp,
    "roadmaps",
    "GET",
    summary="A page of the learner's roadmaps, newest first, with progress counts",
    responses={200: RoadmapList, 422: Problem},
    query=PageQuery,
)
async def list_roadmaps(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """``limit`` roadmaps (20, at most 100), newest first; ``nextCursor`` fetches the next page."""
    page = read_query(req, PageQuery)
    listed, following = await caller.services.roadmaps.overview(
        caller.user_id, offset=offset_of(page.cursor, caller.user_id), limit=page.limit
    )
    if following is not None:
        listed.next_cursor = cursor_for(caller.user_id, following)
    return json_response(listed)


@api(
    bp,
    "roadmaps/{roadmapId}",
    "GET",
    summary="A roadmap with each lesson's generation status and the learner's marks",
    responses={200: RoadmapView, 404: Problem},
    headers={200: ("ETag",)},
)
async def get_roadmap(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """A roadmap with each lesson's generation status and the learner's marks; its ``ETag``
    names the version of its shape, for an edit's ``If-Match``."""
    roadmap_id = resource_id(req, "roadmapId", "roadmap")
    view, etag = await caller.services.roadmaps.tagged(caller.user_id, roadmap_id)
    # The ETag versions the shape, not lesson statuses: never answered with a 304.
    return json_response(view, headers={"ETag": etag, "Cache-Control": "private, no-cache"})
