"""Research requests carry API keys: they never follow a redirect, and never read a huge body."""

import json

import httpx
import pytest

from adapters.research.text import MAX_BODY_BYTES, get_json


def _client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler)


async def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else():
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.host == "api.example.com":
            return httpx.Response(302, headers={"Location": "https://collector.example.net/k"})
        return httpx.Response(200, json={"items": []})

    async with _client(httpx.MockTransport(answer)) as http:
        reply = await get_json(
            http,
            "youtube",
            "https://api.example.com/search",
            time_limit=1.0,
            headers={"X-Goog-Api-Key": "secret-key"},
        )

    assert [request.url.host for request in asked] == ["api.example.com"]
    assert reply is not None
    assert reply.status == 302


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 5 * MAX_BODY_BYTES])
async def test_a_body_over_the_limit_is_dropped(size: int, caplog: pytest.LogCaptureFixture):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" + b"1," * (size // 2) + b"1]")

    async with _client(httpx.MockTransport(answer)) as http:
        reply = await get_json(http, "github", "https://api.example.com/x", time_limit=1.0)

    assert reply is None
    assert "more than" in caplog.text


async def test_a_body_within_the_limit_is_read_as_json():
    items = [{"n": n} for n in range(100)]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps({"items": items}).encode())

    async with _client(httpx.MockTransport(answer)) as http:
        reply = await get_json(http, "github", "https://api.example.com/x", time_limit=1.0)

    assert reply is not None
    assert reply.body == {"items": items}
