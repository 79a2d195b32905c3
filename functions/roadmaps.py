"""HTTP: create a roadmap and read it back."""

import azure.functions as func

from domain.roadmap import CreateRoadmapRequest
from functions.http import Caller, authenticated, json_response, read_json, resource_id

bp = func.Blueprint()


@bp.route(route="roadmaps", methods=["POST"])
@authenticated
async def create_roadmap(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Plan a roadmap, store its lesson skeletons and queue the first lessons."""
    request = read_json(req, CreateRoadmapRequest)
    roadmap = await caller.services.roadmaps.create(caller.user_id, request)
    return json_response(roadmap, 201, headers={"Location": f"/api/roadmaps/{roadmap.id}"})


@bp.route(route="roadmaps/{roadmapId}", methods=["GET"])
@authenticated
async def get_roadmap(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """A roadmap with each lesson's current generation status."""
    roadmap_id = resource_id(req, "roadmapId", "roadmap")
    return json_response(await caller.services.roadmaps.get(caller.user_id, roadmap_id))
