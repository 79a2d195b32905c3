"""Odd paths, ids, methods and bodies: what a scanner or a fuzzer sends first.

Paths go out byte for byte (``http.client``: no client-side normalisation of ``..`` or
``%2F``). Unknown paths and methods are ``404``, never ``405`` or ``500``; no answer carries a
file's contents; bad bodies are ``400``/``413``/``422`` problems and write nothing."""

import http.client
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import Learner
from tests.security.conftest import Target, create_roadmap, leaks, problem_faults

MAX_BODY = 64 * 1024
# Text of files a traversal would reach; none may appear in an answer.
FILE_TEXTS = (
    "root:x:0:",
    "import azure.functions",
    "AUTH_JWT_SECRET",
    "AzureWebJobsStorage",
    "FUNCTIONS_WORKER_RUNTIME",
    "[core]",
    "def main(",
)
ODD_PATHS = [
    "/api/app/../../function_app.py",
    "/api/app/..%2F..%2Ffunction_app.py",
    "/api/app/%2e%2e/%2e%2e/local.settings.json",
    "/api/app/%2e%2e%2f%2e%2e%2flocal.settings.json.example",
    "/api/app/..%5C..%5Cfunction_app.py",
    "/api/app/....//....//function_app.py",
    "/api/app/%252e%252e%252ffunction_app.py",
    "/api/app/..%c0%af..%c0%afetc/passwd",
    "/api/app/../../../../../../etc/passwd",
    "/api/app/app.js%00.html",
    "/api/app/index.html%00",
    "/api/app/%00",
    "/api/app/.env",
    "/api/app/web/app.js",
    "/api/app/APP.JS",
    "/api/lessons/..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/lessons/%2e%2e",
    "/api/lessons/%00",
    "/api/lessons/abc%00def",
    "/api/lessons/%FF%FE",
    "/api/lessons/%C3%BC%C3%B1%C3%AF%C3%A7%C3%B8d%C3%A9",
    "/api/lessons/%F0%9F%92%A5",
    "/api/lessons/%E2%80%AE%E2%80%8B",
    "/api/lessons/a%2Fb",
    "/api/lessons/" + "a" * 65,
    "/api/lessons/" + "a" * 5_000,
    "/api/lessons/'%20OR%20'1'='1",
    "/api/lessons/SELECT%20*%20FROM%20c",
    "/api/lessons/%22%3E%3Cscript%3E",
    "/api/roadmaps/%2F",
    "/api/roadmaps/%20",
    "/api/roadmaps/" + "-" * 64,
    "/api/modules/..%2F/lessons",
    "/api/modules/x%2Flessons",
    "/api/openapi.json/../../function_app.py",
    "/api/health/../../function_app.py",
    "/api/roadmaps/",
    "//api//roadmaps",
    "/api",
    "/api/",
    "/api/admin",
    "/api/.env",
    "/.git/config",
    "/local.settings.json",
    "/function_app.py",
    "/devhost/__main__.py",
    "/admin/host/status",
    "/admin/functions/write_lesson",
    "/runtime/webhooks/queue",
]
ODD_METHODS = [
    ("PATCH", "/api/roadmaps"),
    ("TRACE", "/api/roadmaps"),
    ("PROPFIND", "/api/roadmaps"),
    ("FOO", "/api/health"),
    ("DELETE", "/api/roadmaps"),
    ("DELETE", "/api/roadmaps/{roadmapId}"),
    ("PUT", "/api/roadmaps/{roadmapId}"),
    ("PATCH", "/api/lessons/{lessonId}"),
    ("PUT", "/api/lessons/{lessonId}"),
    ("DELETE", "/api/lessons/{lessonId}"),
    ("GET", "/api/lessons/{lessonId}/generate"),
    ("GET", "/api/lessons/{lessonId}/progress"),
    ("DELETE", "/api/lessons/{lessonId}/progress"),
    ("DELETE", "/api/modules/{moduleId}/lessons"),
    ("GET", "/api/modules/{moduleId}/generate"),
    ("POST", "/api/health"),
    ("PUT", "/api/openapi.json"),
    ("GET", "/api/dev/token"),
    ("POST", "/api/app"),
]


@dataclass
class Own:
    """Mallory with a roadmap of her own: the ids in her probes exist, for her."""

    learner: Learner
    roadmap: dict[str, Any]

    @property
    def ids(self) -> dict[str, str]:
        module = self.roadmap["modules"][0]
        return {
            "roadmapId": self.roadmap["id"],
            "moduleId": module["id"],
            "lessonId": module["lessons"][0]["id"],
        }

    def unchanged(self) -> bool:
        """One roadmap, every lesson still pending: nothing was written."""
        listed = self.learner.http.get("/api/roadmaps").json()["roadmaps"]
        roadmap = self.learner.http.get(f"/api/roadmaps/{self.roadmap['id']}").json()
        statuses = {
            lesson["generationStatus"]
            for module in roadmap["modules"]
            for lesson in module["lessons"]
        }
        return len(listed) == 1 and statuses == {"pending"}


@pytest.fixture(scope="module")
def own(target: Target) -> Iterator[Own]:
    learner = target.learner("mallory")
    yield Own(learner, create_roadmap(learner, 2))
    learner.http.close()


def _raw(target: Target, method: str, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
    """One request with the path exactly as given."""
    address = urlsplit(target.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _odd_answer_faults(
    target: Target, status: int, headers: dict[str, str], body: bytes
) -> list[str]:
    faults: list[str] = []
    if status != 404:
        faults.append(f"status {status}")
    text = body.decode("utf-8", "replace")
    faults += [f"file text {marker!r}" for marker in FILE_TEXTS if marker in text]
    if body:  # the app's own 404 is a problem; the host's (no such route) has no body
        response = httpx.Response(status, headers=headers, content=body)
        faults += problem_faults(response) + leaks(response, target)
    return faults


@pytest.mark.parametrize("path", ODD_PATHS, ids=lambda path: path[:60])
def test_an_odd_path_is_not_found_and_shows_no_file(target: Target, own: Own, path: str) -> None:
    status, headers, body = _raw(target, "GET", path, own.learner.token)

    assert _odd_answer_faults(target, status, headers, body) == []


@pytest.mark.parametrize(("method", "route"), ODD_METHODS)
def test_an_unknown_method_is_not_found(target: Target, own: Own, method: str, route: str) -> None:
    path = route.format(**own.ids)

    status, headers, body = _raw(target, method, path, own.learner.token)

    assert _odd_answer_faults(target, status, headers, body) == []
    assert own.unchanged()


def _body_routes(own: Own) -> list[tuple[str, str]]:
    lesson = own.ids["lessonId"]
    return [
        ("POST", "/api/roadmaps"),
        ("POST", f"/api/lessons/{lesson}/generate"),
        ("PUT", f"/api/lessons/{lesson}/progress"),
        ("POST", "/api/dev/token"),
    ]


def _send(own: Own, method: str, path: str, content: Any) -> httpx.Response:
    return own.learner.http.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )


def _just_over_the_limit() -> bytes:
    head, tail = b'{"goal": "', b'", "skillLevel": "beginner"}'
    return head + b"x" * (MAX_BODY + 1 - len(head) - len(tail)) + tail


def _streamed_megabyte() -> Iterator[bytes]:
    yield b'{"goal": "'
    for _ in range(16):
        yield b"y" * 65_536
    yield b'"}'


@pytest.mark.parametrize("size", ["just-over-64-KiB", "a-streamed-megabyte"])
def test_an_oversized_body_is_refused_on_every_route_that_reads_one(
    target: Target, own: Own, size: str
) -> None:
    for method, path in _body_routes(own):
        content = _just_over_the_limit() if size == "just-over-64-KiB" else _streamed_megabyte()
        response = _send(own, method, path, content)
        assert response.status_code == 413, (path, response.text)
        assert problem_faults(response) == [], path
        assert leaks(response, target) == [], path
    assert own.unchanged()


NESTED = {
    "ten-thousand-arrays": b"[" * 10_000 + b"]" * 10_000,
    "ten-thousand-objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "ten-thousand-arrays-in-a-field": b'{"goal": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "nine-hundred-arrays-in-a-field": (
        b'{"goal": "Learn Go", "skillLevel": "beginner", "viewed": '
        + b"[" * 900
        + b"]" * 900
        + b', "force": '
        + b"[" * 900
        + b"]" * 900
        + b', "userId": '
        + b"[" * 900
        + b"]" * 900
        + b"}"
    ),
    "nine-hundred-objects-in-a-list": (
        b'{"goal": "Learn Go", "skillLevel": "beginner", "modules": [{"title": "Deep", "lessons": ['
        + b'{"a":' * 900
        + b"1"
        + b"}" * 900
        + b"]}]}"
    ),
}


@pytest.mark.parametrize("body", NESTED)
def test_a_deeply_nested_body_is_refused_not_a_crash(target: Target, own: Own, body: str) -> None:
    assert len(NESTED[body]) <= MAX_BODY
    for method, path in _body_routes(own):
        response = _send(own, method, path, NESTED[body])
        assert response.status_code in (400, 422), (path, response.status_code, response.text)
        assert problem_faults(response) == [], path
        assert leaks(response, target) == [], path
    assert own.unchanged()


NOT_JSON = {
    "truncated": b'{"goal": "Learn Go"',
    "not-utf-8": b'{"goal": "\xff\xfe"}',
    "form-encoded": b"goal=Learn+Go&skillLevel=beginner",
    "xml": b"<roadmap><goal>Learn Go</goal></roadmap>",
    "single-quotes": b"{'goal': 'Learn Go'}",
    "a-5000-digit-number": b'{"weeklyHours": ' + b"9" * 5_000 + b"}",
}
WRONG_SHAPE = {
    "an-array": b"[]",
    "a-string": b'"Learn Go"',
    "a-number": b"42",
    "null": b"null",
    "true": b"true",
    "not-a-number": (
        b'{"goal": NaN, "weeklyHours": NaN, "force": NaN, "viewed": NaN, "userId": NaN}'
    ),
    "infinity": b'{"goal": Infinity, "force": Infinity, "viewed": -Infinity, "userId": Infinity}',
    "a-lone-surrogate": (
        b'{"goal": "Learn \\ud800", "skillLevel": "beginner", "force": "\\ud800", '
        b'"viewed": "\\ud800", "userId": "\\ud800"}'
    ),
    "after-a-byte-order-mark": b'\xef\xbb\xbf{"goal": "Learn Go", "unknown": 1}',
    "strings-for-booleans": b'{"force": "yes please", "viewed": "yes please", "userId": 7}',
}


@pytest.mark.parametrize("body", NOT_JSON)
def test_a_body_that_is_not_json_is_a_400(target: Target, own: Own, body: str) -> None:
    for method, path in _body_routes(own):
        response = _send(own, method, path, NOT_JSON[body])
        assert response.status_code == 400, (path, response.text)
        assert problem_faults(response) == [], path
        assert response.json()["type"] == "/problems/malformed-json"
    assert own.unchanged()


@pytest.mark.parametrize("body", WRONG_SHAPE)
def test_json_of_the_wrong_shape_is_a_422(target: Target, own: Own, body: str) -> None:
    for method, path in _body_routes(own):
        response = _send(own, method, path, WRONG_SHAPE[body])
        assert response.status_code == 422, (path, response.text)
        assert problem_faults(response) == [], path
        assert response.json()["errors"], path
    assert own.unchanged()


def test_unknown_fields_are_a_422_on_every_route_that_reads_a_body(
    target: Target, own: Own
) -> None:
    lesson = own.ids["lessonId"]
    module = {"title": "Module", "lessons": [{"title": "Lesson", "objectives": ["Objective"]}]}
    attempts = [
        ("POST", "/api/roadmaps", {"goal": "Learn Go", "skillLevel": "beginner", "isAdmin": True}),
        (
            "POST",
            "/api/roadmaps",
            {
                "goal": "Learn Go",
                "skillLevel": "beginner",
                "prefetch": 0,
                "modules": [{**module, "owner": "alice"}],
            },
        ),
        (
            "POST",
            "/api/roadmaps",
            {"goal": "Learn Go", "skillLevel": "beginner", "id": str(uuid.uuid4())},
        ),
        ("POST", f"/api/lessons/{lesson}/generate", {"force": False, "userId": "alice"}),
        ("PUT", f"/api/lessons/{lesson}/progress", {"viewed": True, "completedAt": "2000-01-01"}),
        ("POST", "/api/dev/token", {"userId": "mallory", "lifetime": 10**9}),
    ]
    for method, path, body in attempts:
        response = own.learner.http.request(method, path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert problem_faults(response) == [], path
        assert any(e["message"] for e in response.json()["errors"]), path
    assert own.unchanged()
