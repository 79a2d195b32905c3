"""The OpenAPI document agrees with what the app serves: routes, security, models, headers, links.

The served routes are read from the app's own registrations (as the local host reads them); the
headers a response promises are checked against what the handlers really send, run on fakes.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from devhost.functions import FunctionSpec
from devhost.hostconfig import HostConfig
from domain.edit_requests import (
    AddLessonRequest,
    AddModuleRequest,
    PlanLessonRequest,
    PlanModuleRequest,
    RenameRequest,
    ReorderRequest,
)
from domain.lesson import GenerationStatus
from domain.ports import Allowance
from domain.progress import ProgressUpdate
from domain.roadmap import CreateRoadmapRequest
from functions.allowances import RATE_LIMIT_FIELDS
from functions.api import OPERATIONS, document
from functions.lessons import GenerateLessonRequest
from functions.problems import ProblemDetails
from functions.webapp import DevTokenRequest
from tests.unit.fakes import USER, make_lesson
from tests.unit.http_fakes import PROJECT, Served, http_functions

REF = "#/components/schemas/"
PROBLEM = {"$ref": f"{REF}ProblemDetails"}
# The only operations anyone may call without a token (README, "HTTP API").
PUBLIC = {"health", "openapi", "dev_token"}
# HTTP functions that are not operations of the JSON API: the CORS preflight and the web page.
NOT_IN_THE_API = {"cors_preflight", "web_app", "web_file"}
# The bodies the handlers read, by operation: the model and whether a body is required.
BODIES = {
    "create_roadmap": (CreateRoadmapRequest, True),
    "put_progress": (ProgressUpdate, True),
    "generate_lesson": (GenerateLessonRequest, False),
    "dev_token": (DevTokenRequest, True),
    "add_module": (AddModuleRequest, True),
    "plan_module": (PlanModuleRequest, True),
    "rename_module": (RenameRequest, True),
    "reorder_roadmap": (ReorderRequest, True),
    "add_lesson": (AddLessonRequest, True),
    "plan_lesson": (PlanLessonRequest, True),
    "rename_lesson": (RenameRequest, True),
}
# Roadmap edits: each needs the roadmap's ETag as If-Match (a required header parameter).
EDITS = {
    "add_module",
    "plan_module",
    "rename_module",
    "remove_module",
    "reorder_roadmap",
    "add_lesson",
    "plan_lesson",
    "rename_lesson",
    "remove_lesson",
}
OUTLINE = [{"title": "Basics", "lessons": [{"title": "Variables", "objectives": ["Name values"]}]}]


@pytest.fixture(scope="module")
def specs() -> dict[str, FunctionSpec]:
    return http_functions()  # imports function_app, so every operation is registered


@pytest.fixture(scope="module")
def doc(specs: dict[str, FunctionSpec]) -> dict[str, Any]:
    built = document()  # after ``specs``: only the imported modules' operations are registered
    # What the endpoint serves is plain JSON: the document must survive a round trip.
    round_tripped: dict[str, Any] = json.loads(json.dumps(built))
    return round_tripped


def _operations(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (path, method, operation)."""
    return {
        operation["operationId"]: (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith(REF), ref
    return doc["components"]["schemas"][ref.removeprefix(REF)]


def _component_schema(model: type[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(ref_template=REF + "{model}")
    schema.pop("$defs", None)
    return schema


def test_the_document_is_openapi_3_1_with_a_bearer_scheme(doc: dict[str, Any]):
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"]
    assert doc["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }


def test_every_route_and_method_served_is_documented_once_and_nothing_else(
    doc: dict[str, Any], specs: dict[str, FunctionSpec]
):
    prefix = HostConfig.load(PROJECT / "host.json").route_prefix
    served = {
        (f"/{prefix}/{spec.trigger['route']}", method.lower(), name)
        for name, spec in specs.items()
        if spec.kind == "http"
        for method in spec.trigger["methods"]
        if name not in NOT_IN_THE_API
    }
    documented = {
        (path, method, operation["operationId"])
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    }

    assert documented == served
    assert len(OPERATIONS) == len(documented) == 15 + len(EDITS)
    assert specs["cors_preflight"].trigger["methods"] == ["OPTIONS"]


def test_secured_operations_need_the_bearer_token_and_document_401_and_503(doc: dict[str, Any]):
    operations = _operations(doc)
    for name, (_, _, operation) in operations.items():
        if name in PUBLIC:
            assert operation["security"] == [], name
            continue
        assert operation["security"] == [{"bearer": []}], name
        for status in ("401", "503"):
            content = operation["responses"][status]["content"]
            assert content == {"application/problem+json": {"schema": PROBLEM}}, (name, status)

    assert set(operations) - PUBLIC == {
        "create_roadmap",
        "list_roadmaps",
        "get_roadmap",
        "get_module_lessons",
        "generate_module",
        "get_lesson",
        "generate_lesson",
        "cancel_generation",
        "put_progress",
        "get_my_stats",
        "get_my_allowances",
        "negotiate_notifications",
        *EDITS,
    }


def test_every_error_response_is_a_problem_document(doc: dict[str, Any]):
    for name, (_, _, operation) in _operations(doc).items():
        for status, response in operation["responses"].items():
            if int(status) >= 400 and name != "health":
                assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}


def test_the_problem_schema_is_the_one_errors_are_written_with(doc: dict[str, Any]):
    assert _resolve(doc, PROBLEM["$ref"]) == _component_schema(ProblemDetails)


def test_every_ref_resolves_inside_the_components(doc: dict[str, Any]):
    refs = set(_refs(doc))

    assert refs  # the document does use references
    for ref in refs:
        assert ref.startswith(REF), ref
        assert ref.removeprefix(REF) in doc["components"]["schemas"], ref


def test_path_parameters_are_the_route_parameters(doc: dict[str, Any]):
    for path, item in doc["paths"].items():
        for operation in item.values():
            named = re.findall(r"\{(\w+)\}", path)
            in_path = [p for p in operation["parameters"] if p["in"] == "path"]
            assert [p["name"] for p in in_path] == named
            assert all(p["required"] for p in in_path)
            assert all(p["in"] in ("path", "query", "header") for p in operation["parameters"])


def test_every_roadmap_edit_requires_if_match_and_documents_412_and_428(doc: dict[str, Any]):
    for name, (_, _, operation) in _operations(doc).items():
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        if name not in EDITS:
            assert headers == [], name
            continue
        assert headers == [
            {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
        ]
        assert {"404", "412", "428"} <= set(operation["responses"]), name
        success = "201" if name.startswith(("add_", "plan_")) else "200"
        assert "ETag" in operation["responses"][success]["headers"], name


def test_the_roadmap_list_documents_its_paging_parameters(doc: dict[str, Any]):
    parameters = doc["paths"]["/api/roadmaps"]["get"]["parameters"]

    assert {p["name"]: (p["in"], p["required"]) for p in parameters} == {
        "limit": ("query", False),
        "cursor": ("query", False),
    }
    limit = next(p for p in parameters if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)


def test_request_bodies_are_the_models_the_handlers_validate_with(doc: dict[str, Any]):
    bodies = {
        name: operation["requestBody"]
        for name, (_, _, operation) in _operations(doc).items()
        if "requestBody" in operation
    }

    assert set(bodies) == set(BODIES)
    for name, (model, required) in BODIES.items():
        assert bodies[name]["required"] is required, name
        schema = bodies[name]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"{REF}{model.__name__}"}
        assert _resolve(doc, schema["$ref"]) == _component_schema(model)


def test_the_progress_body_needs_at_least_one_mark_and_no_other_field(doc: dict[str, Any]):
    schema = doc["components"]["schemas"]["ProgressUpdate"]

    assert schema["minProperties"] == 1
    assert schema["additionalProperties"] is False


def test_accepted_responses_say_where_and_when_to_look_again(doc: dict[str, Any]):
    accepted = {
        name: set(operation["responses"]["202"].get("headers", {}))
        for name, (_, _, operation) in _operations(doc).items()
        if "202" in operation["responses"]
    }

    assert accepted == {
        "generate_lesson": {"Location", "Retry-After", *RATE_LIMIT_FIELDS},
        "generate_module": {"Retry-After", *RATE_LIMIT_FIELDS},
    }


def test_refusals_past_an_allowance_document_retry_after(doc: dict[str, Any]):
    limited = {
        name: set(operation["responses"]["429"].get("headers", {}))
        for name, (_, _, operation) in _operations(doc).items()
        if "429" in operation["responses"]
    }

    assert limited == {
        "create_roadmap": {"Retry-After", *RATE_LIMIT_FIELDS},
        "generate_lesson": {"Retry-After", *RATE_LIMIT_FIELDS},
        "generate_module": {"Retry-After", *RATE_LIMIT_FIELDS},
        "plan_module": {"Retry-After", *RATE_LIMIT_FIELDS},
        "plan_lesson": {"Retry-After", *RATE_LIMIT_FIELDS},
    }


def test_links_from_a_created_roadmap_name_real_operations_and_their_parameters(
    doc: dict[str, Any],
):
    operations = _operations(doc)
    _, _, create = operations["create_roadmap"]
    links = create["responses"]["201"]["links"]

    assert len(links) == 7
    for link_name, link in links.items():
        assert link["operationId"] in operations, link_name
        path, _, _ = operations[link["operationId"]]
        assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", path)), link_name
        assert all(v.startswith("$response.body#/") for v in link["parameters"].values())


def test_health_unavailable_is_documented_as_the_json_it_is(doc: dict[str, Any]):
    _, _, health = _operations(doc)["health"]

    assert set(health["responses"]["503"]["content"]) == {"application/json"}


def test_secured_operations_document_retry_after_on_503(doc: dict[str, Any]):
    for name, (_, _, operation) in _operations(doc).items():
        if name not in PUBLIC:
            assert "Retry-After" in operation["responses"]["503"].get("headers", {}), name


# The handlers themselves, run on fakes: what the document promises is what they send.


def _documented_headers(doc: dict[str, Any], name: str, status: int) -> set[str]:
    _, _, operation = _operations(doc)[name]
    return set(operation["responses"][str(status)].get("headers", {}))


async def test_a_created_roadmap_sends_the_headers_documented(doc: dict[str, Any], served: Served):
    response = await served.call("create_roadmap", {"goal": "Learn Go", "skillLevel": "beginner"})

    assert response.status_code == 201
    assert _documented_headers(doc, "create_roadmap", 201) <= set(response.headers.keys())


async def test_the_links_of_a_created_roadmap_point_into_its_body(
    doc: dict[str, Any], served: Served
):
    response = await served.call(
        "create_roadmap", {"goal": "Learn Go", "skillLevel": "beginner", "modules": OUTLINE}
    )
    body = json.loads(response.get_body())
    _, _, create = _operations(doc)["create_roadmap"]

    for link in create["responses"]["201"]["links"].values():
        for expression in link["parameters"].values():
            node: Any = body
            for step in expression.removeprefix("$response.body#/").split("/"):
                node = node[int(step)] if isinstance(node, list) else node[step]
            assert isinstance(node, str)
            assert node in {body["id"], body["modules"][0]["id"]} | {
                lesson["id"] for lesson in body["modules"][0]["lessons"]
            }


async def test_accepted_lesson_and_module_requests_send_the_headers_documented(
    doc: dict[str, Any], served: Served
):
    served.lessons.put(make_lesson(GenerationStatus.PENDING, id="lesson-1"))
    served.lessons.put(make_lesson(GenerationStatus.PENDING, id="lesson-2", order=2))

    lesson = await served.call("generate_lesson", lessonId="lesson-1")
    module = await served.call("generate_module", moduleId="module-1")

    assert (lesson.status_code, module.status_code) == (202, 202)
    assert _documented_headers(doc, "generate_lesson", 202) <= set(lesson.headers.keys())
    assert _documented_headers(doc, "generate_module", 202) <= set(module.headers.keys())


async def test_a_lesson_and_its_not_modified_answer_send_the_etag_documented(
    doc: dict[str, Any], served: Served
):
    served.lessons.put(make_lesson(GenerationStatus.PENDING))

    first = await served.call("get_lesson", lessonId="lesson-1")
    again = await served.call(
        "get_lesson", headers={"If-None-Match": first.headers["ETag"]}, lessonId="lesson-1"
    )

    assert (first.status_code, again.status_code) == (200, 304)
    assert _documented_headers(doc, "get_lesson", 200) <= set(first.headers.keys())
    assert _documented_headers(doc, "get_lesson", 304) <= set(again.headers.keys())


async def test_a_refusal_past_the_allowance_sends_the_headers_documented(
    doc: dict[str, Any], served: Served
):
    served.lessons.put(make_lesson(GenerationStatus.PENDING))
    await served.quota.take(USER, Allowance.LESSONS, served.quota.limits[Allowance.LESSONS][0])

    response = await served.call("generate_lesson", lessonId="lesson-1")

    assert response.status_code == 429
    assert _documented_headers(doc, "generate_lesson", 429) <= set(response.headers.keys())
    assert served.queue.messages == []
