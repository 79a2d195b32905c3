"""Error answers, as an attacker reads them: RFC 9457 problems that give away nothing about
how the app is built or where its services live, and never reflect what was sent.

A marker unique to the run goes into ids, body values, query strings and headers; no answer
may contain it."""

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.auth import DEV_AUDIENCE, DEV_ISSUER
from tests.e2e.conftest import Learner
from tests.security.conftest import (
    ROADMAP_ALLOWANCE,
    Target,
    create_roadmap,
    leaks,
    outline,
    problem_faults,
)
from tests.unit.identity_fakes import compact

MARKER = f"zqx{uuid.uuid4().hex[:12]}"  # a valid id, too: it reaches the lookup
HEADERS = {
    "User-Agent": f"scanner/{MARKER}",
    "X-Request-Id": MARKER,
    "X-Forwarded-Host": f"{MARKER}.example",
    "Referer": f"https://{MARKER}.example/",
    "Cookie": f"session={MARKER}",
    "traceparent": f"00-{MARKER}-{MARKER}-01",
}


@dataclass(frozen=True)
class Caller:
    """What a case may use: the target, a signed-in learner and one with no allowance left."""

    target: Target
    learner: Learner
    exhausted: Learner
    lesson_id: str

    def anonymous(
        self, method: str, path: str, headers: dict[str, str] | None = None, json: Any = None
    ) -> httpx.Response:
        with httpx.Client(base_url=self.target.url, timeout=10) as http:
            return http.request(method, path, headers={**HEADERS, **(headers or {})}, json=json)

    def signed_in(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.learner.http.request(
            method, path, headers=HEADERS, json=json, content=content, params=params
        )


def _forged(claims: dict[str, object], header: dict[str, object] | None = None) -> str:
    key = b"the-attackers-own-secret-that-the-api-never-saw-0123456789"
    head = {"alg": "HS256", "typ": "JWT", **(header or {})}
    return compact(head, claims, lambda data: hmac.new(key, data, hashlib.sha256).digest())


def _dev_claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": MARKER,
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    return {**claims, **overrides}


def _signed(c: Caller, **overrides: object) -> str:
    """A token signed with the real secret (so only its claims are wrong)."""
    secret = c.target.stack.env["AUTH_JWT_SECRET"].encode()
    return compact(
        {"alg": "HS256", "typ": "JWT"},
        _dev_claims(**overrides),
        lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


Case = Callable[[Caller], httpx.Response]
CASES: dict[str, tuple[int, Case]] = {
    "401-no-token": (401, lambda c: c.anonymous("GET", "/api/roadmaps")),
    "401-the-marker-as-token": (
        401,
        lambda c: c.anonymous("GET", "/api/roadmaps", headers=_bearer(MARKER)),
    ),
    "401-forged-with-the-marker-as-subject": (
        401,
        lambda c: c.anonymous("GET", "/api/roadmaps", headers=_bearer(_forged(_dev_claims()))),
    ),
    "401-forged-with-the-marker-as-key-id": (
        401,
        lambda c: c.anonymous(
            "GET", "/api/roadmaps", headers=_bearer(_forged(_dev_claims(), {"kid": MARKER}))
        ),
    ),
    "401-the-marker-as-algorithm": (
        401,
        lambda c: c.anonymous(
            "GET", "/api/roadmaps", headers=_bearer(_forged(_dev_claims(), {"alg": MARKER}))
        ),
    ),
    "401-expired": (
        401,
        lambda c: c.anonymous(
            "GET",
            "/api/roadmaps",
            headers=_bearer(_signed(c, iat=int(time.time()) - 900, exp=int(time.time()) - 300)),
        ),
    ),
    "401-the-marker-as-issuer": (
        401,
        lambda c: c.anonymous("GET", "/api/roadmaps", headers=_bearer(_signed(c, iss=MARKER))),
    ),
    "401-living-a-century": (
        401,
        lambda c: c.anonymous(
            "GET", "/api/roadmaps", headers=_bearer(_signed(c, exp=int(time.time()) + 3 * 10**9))
        ),
    ),
    "400-malformed-json": (
        400,
        lambda c: c.signed_in("POST", "/api/roadmaps", content=f'{{"goal": "{MARKER}'.encode()),
    ),
    "400-not-utf-8": (
        400,
        lambda c: c.signed_in(
            "POST", "/api/roadmaps", content=f'{{"goal": "{MARKER}\xff"}}'.encode("latin-1")
        ),
    ),
    "413-too-large": (
        413,
        lambda c: c.signed_in(
            "POST", "/api/roadmaps", content=f'{{"goal": "{MARKER * 6000}"}}'.encode()
        ),
    ),
    "422-marker-values": (
        422,
        lambda c: c.signed_in(
            "POST",
            "/api/roadmaps",
            json={"goal": MARKER * 50, "skillLevel": MARKER, "weeklyHours": MARKER},
        ),
    ),
    "422-marker-in-a-nested-value": (
        422,
        lambda c: c.signed_in(
            "POST",
            "/api/roadmaps",
            json={
                "goal": "Learn Go",
                "skillLevel": "beginner",
                "modules": [{"title": MARKER, "lessons": [{"title": MARKER, "objectives": 1}]}],
            },
        ),
    ),
    "422-marker-progress": (
        422,
        lambda c: c.signed_in(
            "PUT", f"/api/lessons/{c.lesson_id}/progress", json={"viewed": MARKER}
        ),
    ),
    "422-marker-force": (
        422,
        lambda c: c.signed_in(
            "POST", f"/api/lessons/{c.lesson_id}/generate", json={"force": MARKER}
        ),
    ),
    "422-marker-query": (
        422,
        lambda c: c.signed_in("GET", "/api/roadmaps", params={"limit": MARKER, "cursor": MARKER}),
    ),
    "422-marker-dev-user": (
        422,
        lambda c: c.anonymous("POST", "/api/dev/token", json={"userId": f"{MARKER}!<script>"}),
    ),
    "429-allowance-used-up": (
        429,
        lambda c: c.exhausted.http.post(
            "/api/roadmaps",
            headers=HEADERS,
            json={"goal": MARKER, "skillLevel": "beginner", "modules": outline(1), "prefetch": 0},
        ),
    ),
    "404-marker-in-the-query": (
        404,
        lambda c: c.signed_in("GET", f"/api/lessons/{uuid.uuid4()}", params={"q": MARKER}),
    ),
    "404-unknown-path": (404, lambda c: c.signed_in("GET", f"/api/{MARKER}")),
    "404-unknown-method": (404, lambda c: c.signed_in("PATCH", f"/api/roadmaps/{MARKER}")),
}
# Cases that reflect what was sent today (each a bug report): expected to fail the echo test.
ECHOING: dict[str, tuple[int, Case]] = {
    "404-marker-lesson-id": (404, lambda c: c.signed_in("GET", f"/api/lessons/{MARKER}")),
    "404-marker-roadmap-id": (404, lambda c: c.signed_in("GET", f"/api/roadmaps/{MARKER}")),
    "404-marker-module-id": (
        404,
        lambda c: c.signed_in("POST", f"/api/modules/{MARKER}/generate"),
    ),
    "404-marker-generate": (
        404,
        lambda c: c.signed_in("POST", f"/api/lessons/{MARKER}/generate", json={"force": True}),
    ),
    "404-marker-not-an-id": (
        404,
        lambda c: c.signed_in("GET", f"/api/lessons/{MARKER}<img src=x onerror=alert(1)>"),
    ),
    "404-marker-file": (404, lambda c: c.signed_in("GET", f"/api/app/{MARKER}.js")),
    "422-marker-as-an-unknown-field": (
        422,
        lambda c: c.signed_in(
            "POST", "/api/roadmaps", json={"goal": "Learn Go", "skillLevel": "beginner", MARKER: 1}
        ),
    ),
}
ALL = {**CASES, **ECHOING}


@pytest.fixture(scope="module")
def caller(target: Target) -> Iterator[Caller]:
    learner = target.learner("mallory")
    exhausted = target.learner("greedy")
    lesson_id = create_roadmap(learner, 1)["modules"][0]["lessons"][0]["id"]
    for _ in range(ROADMAP_ALLOWANCE):
        create_roadmap(exhausted, 1)
    yield Caller(target, learner, exhausted, lesson_id)
    learner.http.close()
    exhausted.http.close()


@pytest.fixture(scope="module")
def answers(caller: Caller) -> dict[str, httpx.Response]:
    """Every case's answer, asked once."""
    return {name: case(caller) for name, (_, case) in ALL.items()}


@pytest.mark.parametrize("case", ALL)
def test_an_error_answer_is_a_problem_document_with_its_status(
    answers: dict[str, httpx.Response], case: str
) -> None:
    response = answers[case]

    assert response.status_code == ALL[case][0], response.text
    if case in ("404-unknown-path", "404-unknown-method"):
        assert response.content == b""  # the host's own 404: no function serves the route
    else:
        assert problem_faults(response) == []


@pytest.mark.parametrize("case", ALL)
def test_an_error_answer_gives_away_no_internals(
    target: Target, answers: dict[str, httpx.Response], case: str
) -> None:
    assert leaks(answers[case], target) == []


@pytest.mark.parametrize("case", [*CASES, *ECHOING])
def test_an_error_answer_never_echoes_the_input(
    answers: dict[str, httpx.Response], case: str
) -> None:
    response = answers[case]
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())

    assert MARKER not in headers
    assert MARKER not in response.text, response.text[:500]
