"""HTTP plumbing: request bodies in, RFC 9457 problems out, resource ids checked."""

import json
from typing import Any

import azure.functions as func
import pytest

from domain.errors import (
    IdentityProviderUnavailable,
    NotFound,
    QuotaExceeded,
    SkillSyncError,
    Unauthenticated,
)
from domain.roadmap import CreateRoadmapRequest
from functions.http import MAX_BODY_BYTES, read_json, resource_id
from functions.lessons import GenerateLessonRequest
from functions.problems import PROBLEM_JSON, problem_response

VALID = b'{"goal": "Learn Rust", "skillLevel": "beginner"}'


def _request(body: bytes = b"", route_params: dict[str, str] | None = None) -> func.HttpRequest:
    return func.HttpRequest(
        method="POST",
        url="http://localhost:7071/api/roadmaps",
        headers={"Content-Type": "application/json"},
        params={},
        route_params=route_params or {},
        body=body,
    )


class Answer:
    """The problem+json answer to an error, as a client reads it."""

    def __init__(self, error: Exception) -> None:
        self.response = problem_response(error, "/api/roadmaps")
        self.body = _json(self.response)
        self.status = self.body["status"]
        self.title = self.body["title"]
        self.detail = self.body.get("detail")
        self.slug = str(self.body["type"]).removeprefix("/problems/")
        self.extensions = {
            k: v for k, v in self.body.items() if k not in ("type", "title", "status", "detail")
        }


def _problem(body: bytes, model: type[Any] = CreateRoadmapRequest, **kwargs: Any) -> Answer:
    with pytest.raises(SkillSyncError) as raised:
        read_json(_request(body), model, **kwargs)
    return Answer(raised.value)


def _json(response: func.HttpResponse) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.get_body())
    return body


def test_valid_body_is_read_as_the_model():
    request = read_json(_request(VALID), CreateRoadmapRequest)

    assert request.goal == "Learn Rust"
    assert request.skill_level == "beginner"


@pytest.mark.parametrize(
    "body", [b"{", b"not json", b"{'goal': 'single quotes'}", b"\xff\xfe\x00", b""]
)
def test_malformed_json_is_a_400_problem(body: bytes):
    problem = _problem(body)

    assert problem.status == 400
    assert problem.title == "Malformed JSON"
    assert problem.slug == "malformed-json"


def test_deeply_nested_malformed_json_is_a_400_problem():
    problem = _problem(b"[" * 5_000)

    assert problem.status == 400


def test_body_above_64_kib_is_a_413_problem():
    body = VALID + b" " * (MAX_BODY_BYTES - len(VALID) + 1)

    problem = _problem(body)

    assert problem.status == 413
    assert problem.detail == "The limit is 65536 bytes."


def test_body_of_exactly_64_kib_is_read():
    body = VALID + b" " * (MAX_BODY_BYTES - len(VALID))

    assert read_json(_request(body), CreateRoadmapRequest).goal == "Learn Rust"


def test_schema_violation_is_a_422_problem_naming_camel_case_fields():
    body = json.dumps(
        {"goal": "Go", "weeklyHours": 100, "skillLevel": "expert", "extraField": 1}
    ).encode()

    problem = _problem(body)

    assert problem.status == 422
    assert problem.slug == "validation-error"
    errors = problem.extensions["errors"]
    assert sorted(error["field"] for error in errors) == [
        "body",  # an unknown field is named by where it was: its name is the caller's input
        "goal",
        "skillLevel",
        "weeklyHours",
    ]
    assert "extraField" not in json.dumps(errors)
    assert all(set(error) == {"field", "message"} and error["message"] for error in errors)


def test_schema_violation_names_nested_fields_by_path():
    body = json.dumps(
        {
            "goal": "Learn Go",
            "skillLevel": "beginner",
            "modules": [{"title": "Basics", "lessons": [{"title": "Go", "objectives": []}]}],
        }
    ).encode()

    problem = _problem(body)

    assert sorted(error["field"] for error in problem.extensions["errors"]) == [
        "modules.0.lessons.0.objectives",
        "modules.0.lessons.0.title",
    ]


def test_schema_violation_does_not_echo_the_input():
    secret_ish = "my-password-123"
    body = json.dumps({"goal": "Learn Go", "skillLevel": secret_ish}).encode()

    problem = _problem(body)

    assert secret_ish not in json.dumps(problem.extensions)


def test_body_that_is_not_an_object_is_a_422_about_the_body():
    problem = _problem(b"[1, 2]")

    assert problem.status == 422
    assert [error["field"] for error in problem.extensions["errors"]] == ["body"]


def test_optional_empty_body_reads_as_an_empty_object():
    assert isinstance(
        read_json(_request(b"  "), GenerateLessonRequest, optional=True), GenerateLessonRequest
    )


def test_optional_body_still_rejects_unknown_fields():
    problem = _problem(b'{"priority": 1}', GenerateLessonRequest, optional=True)

    assert problem.status == 422
    assert [error["field"] for error in problem.extensions["errors"]] == ["body"]
    assert "priority" not in json.dumps(problem.body)


@pytest.mark.parametrize(
    ("body", "force"), [(b"", False), (b"{}", False), (b'{"force": true}', True)]
)
def test_generate_body_asks_for_a_forced_rewrite_only_when_it_says_so(body: bytes, force: bool):
    assert read_json(_request(body), GenerateLessonRequest, optional=True).force is force


def test_generate_body_force_must_be_a_boolean():
    problem = _problem(b'{"force": "please"}', GenerateLessonRequest, optional=True)

    assert problem.status == 422
    assert [error["field"] for error in problem.extensions["errors"]] == ["force"]


def test_problem_response_is_problem_json_with_type_title_status_detail_instance():
    response = _problem(b"{").response

    assert response.status_code == 400
    assert response.mimetype == PROBLEM_JSON
    assert _json(response) == {
        "type": "/problems/malformed-json",
        "title": "Malformed JSON",
        "status": 400,
        "detail": "The request body is not valid JSON.",
        "instance": "/api/roadmaps",
    }


def test_a_missing_resource_names_only_its_kind():
    response = problem_response(NotFound("lesson", "secret-id"), "/api/lessons/x")

    assert _json(response) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No lesson with that id.",
        "instance": "/api/lessons/x",
    }


def test_an_unauthenticated_caller_is_told_the_scheme():
    response = problem_response(Unauthenticated("the token has expired"), "/api/roadmaps")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert _json(response)["detail"] == "the token has expired"


def test_an_identity_provider_outage_is_a_503_to_retry_not_a_401():
    error = IdentityProviderUnavailable("keys unavailable: HTTP 500", retry_after=5)

    response = problem_response(error, "/api/roadmaps")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "WWW-Authenticate" not in response.headers
    assert "HTTP 500" not in response.get_body().decode()


def test_a_used_up_allowance_says_when_to_come_back():
    response = problem_response(QuotaExceeded("lessons", 30, 12.2), "/api/roadmaps")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "13"
    assert _json(response)["limit"] == 30
    assert _json(response)["kind"] == "lessons"


def test_an_unexpected_error_is_a_500_that_tells_nothing():
    response = problem_response(KeyError("cosmos-internal-detail"), "/api/roadmaps")

    assert response.status_code == 500
    assert "cosmos-internal-detail" not in response.get_body().decode()


def test_422_problem_response_lists_the_errors():
    body = _problem(b'{"goal": "Learn Go"}').body

    assert body["status"] == 422
    assert body["type"] == "/problems/validation-error"
    assert [error["field"] for error in body["errors"]] == ["skillLevel"]


def test_resource_id_accepts_an_issued_uuid():
    lesson_id = "0b6f4c0e-8a43-4b5e-9f0e-3c2d1a0b9c8d"
    req = _request(route_params={"lessonId": lesson_id})

    assert resource_id(req, "lessonId", "lesson") == lesson_id


@pytest.mark.parametrize(
    "value",
    ["", "../roadmaps", "abc def", "a" * 65, "abc;drop", "ab/cd", "ä-umlaut", "abc\t"],
    ids=["empty", "dots", "space", "too-long", "semicolon", "slash", "non-ascii", "tab"],
)
def test_malformed_resource_id_is_not_found(value: str):
    req = _request(route_params={"lessonId": value})

    with pytest.raises(NotFound) as raised:
        resource_id(req, "lessonId", "lesson")

    assert raised.value.kind == "lesson"


def test_missing_route_parameter_is_not_found():
    with pytest.raises(NotFound):
        resource_id(_request(), "roadmapId", "roadmap")


def test_resource_id_with_a_trailing_newline_is_not_found():
    req = _request(route_params={"lessonId": "abc\n"})

    with pytest.raises(NotFound):
        resource_id(req, "lessonId", "lesson")
