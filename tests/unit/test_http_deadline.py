"""Every HTTP request has a deadline: a handler that outlasts it answers 503, never hangs."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from functions.http import Caller, authenticated, json_response, public
from functions.problems import PROBLEM_JSON
from tests.unit.fakes import USER
from tests.unit.http_fakes import Served

DEADLINE = 0.01


@pytest.fixture
def served() -> Iterator[Served]:
    """Services built from fakes, with a tiny deadline."""
    with Served(deadline=DEADLINE) as served:
        yield served


def _request(served: Served) -> func.HttpRequest:
    return func.HttpRequest(
        method="GET",
        url="http://localhost:7071/api/lessons/lesson-1?verbose=1",
        headers={"Authorization": f"Bearer {served.token}"},
        params={},
        route_params={"lessonId": "lesson-1"},
        body=b"",
    )


def _json(response: func.HttpResponse) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.get_body())
    return body


class Hanging:
    """A handler waiting on something that never answers; records that it was cut off."""

    def __init__(self) -> None:
        self.cancelled = False

    async def wait_forever(self) -> func.HttpResponse:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        raise AssertionError("unreachable")


async def test_authenticated_handler_slower_than_the_deadline_answers_503_with_retry_after(
    served: Served,
):
    hanging = Hanging()

    @authenticated("lessons/{lessonId}")
    async def get_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
        return await hanging.wait_forever()

    response = await asyncio.wait_for(get_lesson(_request(served)), timeout=5)

    assert response.status_code == 503
    assert response.mimetype == PROBLEM_JSON
    assert response.headers["Retry-After"] == "2"
    assert _json(response) == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "A backing service is busy or unreachable; try again shortly.",
        "instance": "/api/lessons/{lessonId}",
    }
    assert hanging.cancelled


async def test_public_handler_slower_than_the_deadline_answers_503(served: Served):
    hanging = Hanging()

    @public("health")
    async def health(req: func.HttpRequest, services: Any) -> func.HttpResponse:
        return await hanging.wait_forever()

    response = await asyncio.wait_for(health(_request(served)), timeout=5)

    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert hanging.cancelled


async def test_handler_within_the_deadline_answers_as_it_likes():
    @authenticated("lessons/{lessonId}")
    async def get_lesson(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
        await asyncio.sleep(0)
        return json_response({"user": caller.user_id})

    with Served(deadline=5.0) as served:
        response = await get_lesson(_request(served))

    assert response.status_code == 200
    assert _json(response) == {"user": USER}
