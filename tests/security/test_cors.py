"""Foreign origins: a page elsewhere must get no CORS grant, preflight or not, and never
``Access-Control-Allow-Credentials``; with origins configured, every answer says it varies by
``Origin`` so no cache hands one origin's answer to another."""

import uuid

import httpx
import pytest

from tests.e2e.conftest import Learner
from tests.security.conftest import ORIGIN, Target

FOREIGN = [
    "https://evil.example",
    "null",
    "http://app.skillsync.test",  # the allowed host over plain HTTP
    "https://app.skillsync.test:8443",
    "https://app.skillsync.test.evil.example",
    "https://evilapp.skillsync.test",
    "https://app.skillsync.test@evil.example",
    f"https://evil.example, {ORIGIN}",
    f"{ORIGIN} https://evil.example",
]
ROUTES = [
    ("POST", "/api/roadmaps"),
    ("GET", "/api/roadmaps"),
    ("GET", "/api/lessons/{id}"),
    ("POST", "/api/lessons/{id}/generate"),
    ("PUT", "/api/lessons/{id}/progress"),
    ("POST", "/api/dev/token"),
    ("GET", "/api/health"),
]


def _vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def _granted(response: httpx.Response) -> list[str]:
    return [name for name in response.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("origin", FOREIGN)
def test_a_foreign_preflight_gets_no_grant(target: Target, origin: str) -> None:
    for method, route in ROUTES:
        response = httpx.options(
            target.url + route.format(id=uuid.uuid4()),
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
            timeout=10,
        )
        assert response.status_code < 500, (route, response.text)
        assert _granted(response) == [], (route, dict(response.headers))
        assert "origin" in _vary(response), (route, dict(response.headers))


@pytest.mark.parametrize("origin", FOREIGN)
def test_a_foreign_request_gets_no_grant_whatever_the_answer(
    target: Target, mallory: Learner, origin: str
) -> None:
    answers = {
        "200": mallory.http.get("/api/roadmaps", headers={"Origin": origin}),
        "401": httpx.get(f"{target.url}/api/roadmaps", headers={"Origin": origin}, timeout=10),
        "404": mallory.http.get(f"/api/lessons/{uuid.uuid4()}", headers={"Origin": origin}),
        "422": mallory.http.post("/api/roadmaps", json={"goal": 1}, headers={"Origin": origin}),
        "public": httpx.get(f"{target.url}/api/health", headers={"Origin": origin}, timeout=10),
    }

    for expected, response in answers.items():
        if expected.isdigit():
            assert response.status_code == int(expected), response.text
        assert _granted(response) == [], (expected, dict(response.headers))
        assert "origin" in _vary(response), (expected, dict(response.headers))


def test_the_configured_origin_is_granted_without_credentials(
    target: Target, mallory: Learner
) -> None:
    """The refusals above are not a host that grants nobody."""
    preflight = httpx.options(
        f"{target.url}/api/roadmaps",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    answer = mallory.http.get("/api/roadmaps", headers={"Origin": ORIGIN})
    refused = httpx.get(f"{target.url}/api/roadmaps", headers={"Origin": ORIGIN}, timeout=10)

    for response in (preflight, answer, refused):
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "origin" in _vary(response)
    assert refused.status_code == 401
