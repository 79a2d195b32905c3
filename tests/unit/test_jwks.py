"""JwksCache: keys fetched on demand, refreshed after a TTL or for a new kid, never hammered."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from adapters.jwks import MAX_JWKS_BYTES, JwksCache, JwksUnavailable, UnknownKey, parse_jwks
from tests.unit.identity_fakes import JWKS_URL, FakeClock, IdentityProvider, public_jwk, rsa_key

TTL = 3600.0
INTERVAL = 30.0


@pytest.fixture
def idp() -> IdentityProvider:
    return IdentityProvider("key-1")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def cache(idp: IdentityProvider, clock: FakeClock) -> AsyncIterator[JwksCache]:
    async with idp.client() as http:
        yield JwksCache(
            JWKS_URL, http, ttl=TTL, min_refresh_interval=INTERVAL, fetch_timeout=0.2, clock=clock
        )


async def test_key_set_is_fetched_once_and_reused(cache: JwksCache, idp: IdentityProvider):
    first = await cache.get("key-1")
    second = await cache.get("key-1")

    assert first is second
    assert first.algorithm_name == "RS256"
    assert idp.requests == 1


async def test_new_kid_fetches_the_key_set_again_once(
    cache: JwksCache, idp: IdentityProvider, clock: FakeClock
):
    await cache.get("key-1")
    clock.advance(INTERVAL)
    idp.publish("key-2")

    assert (await cache.get("key-2")).key_id == "key-2"
    assert (await cache.get("key-1")).key_id == "key-1"
    assert idp.requests == 2


async def test_unknown_kids_within_the_refresh_interval_make_no_request(
    cache: JwksCache, idp: IdentityProvider, clock: FakeClock
):
    await cache.get("key-1")
    clock.advance(INTERVAL)
    with pytest.raises(UnknownKey):
        await cache.get("made-up-1")
    for n in range(2, 50):
        clock.advance(INTERVAL / 100)
        with pytest.raises(UnknownKey):
            await cache.get(f"made-up-{n}")

    assert idp.requests == 2


async def test_unknown_kid_after_the_interval_fetches_again(
    cache: JwksCache, idp: IdentityProvider, clock: FakeClock
):
    await cache.get("key-1")
    with pytest.raises(UnknownKey):
        await cache.get("key-2")  # too soon after the first fetch: not fetched
    clock.advance(INTERVAL)
    idp.publish("key-2")

    assert (await cache.get("key-2")).key_id == "key-2"
    assert idp.requests == 2


async def test_key_set_is_fetched_again_after_the_ttl(
    cache: JwksCache, idp: IdentityProvider, clock: FakeClock
):
    await cache.get("key-1")
    clock.advance(TTL - 1)
    await cache.get("key-1")
    assert idp.requests == 1

    idp.publish("key-2")
    idp.retire("key-1")
    clock.advance(1)

    with pytest.raises(UnknownKey):
        await cache.get("key-1")
    assert idp.requests == 2
    assert (await cache.get("key-2")).key_id == "key-2"
    assert idp.requests == 2


async def test_concurrent_requests_for_a_new_kid_share_one_fetch(
    cache: JwksCache, idp: IdentityProvider, clock: FakeClock
):
    await cache.get("key-1")
    clock.advance(INTERVAL)
    idp.publish("key-2")

    keys = await asyncio.gather(*(cache.get("key-2") for _ in range(50)))

    assert {key.key_id for key in keys} == {"key-2"}
    assert idp.requests == 2


@pytest.mark.parametrize(
    "failure",
    [
        500,
        503,
        404,
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("read timed out"),
        b"<html>Service Unavailable</html>",
        b'{"keys": []}',
        b'{"no": "keys"}',
        b"[" * 100_000,
        b'{"keys": [{"kty": "RSA", "kid": "key-1", "n": "AQAB", "e": "not base64!"}]}',
        "hang",
        "oversized",
    ],
    ids=[
        "http-500",
        "http-503",
        "http-404",
        "connect-error",
        "read-timeout",
        "not-json",
        "no-keys",
        "no-keys-list",
        "deeply-nested",
        "broken-key",
        "hangs",
        "oversized",
    ],
)
async def test_key_set_that_cannot_be_fetched_is_unavailable_and_logged(
    cache: JwksCache, idp: IdentityProvider, caplog: pytest.LogCaptureFixture, failure: Any
):
    if failure == "hang":
        idp.hang = True
    elif failure == "oversized":
        idp.body = json.dumps({"keys": [], "padding": "x" * MAX_JWKS_BYTES}).encode()
    elif isinstance(failure, bytes):
        idp.body = failure
    else:
        idp.failure = failure

    with pytest.raises(JwksUnavailable):
        await asyncio.wait_for(cache.get("key-1"), timeout=5)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not refresh the signing keys" in r.getMessage() for r in warnings)


async def test_failed_fetch_is_not_retried_within_the_interval(
    cache: JwksCache, idp: IdentityProvider, clock: FakeClock
):
    idp.failure = 503
    for _ in range(20):
        with pytest.raises(JwksUnavailable):
            await cache.get("key-1")
    assert idp.requests == 1

    idp.failure = None
    clock.advance(INTERVAL)

    assert (await cache.get("key-1")).key_id == "key-1"
    assert idp.requests == 2


async def test_known_keys_outlive_a_failed_refresh(
    cache: JwksCache, idp: IdentityProvider, clock: FakeClock
):
    await cache.get("key-1")
    idp.failure = 500
    clock.advance(TTL)

    assert (await cache.get("key-1")).key_id == "key-1"
    assert idp.requests == 2
    with pytest.raises(JwksUnavailable):
        await cache.get("key-2")  # the refresh failed: maybe it exists, we cannot tell
    assert idp.requests == 2


async def test_redirect_is_not_followed(caplog: pytest.LogCaptureFixture):
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://attacker.example/keys"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(JwksUnavailable):
            await JwksCache(JWKS_URL, http).get("key-1")

    assert asked == [JWKS_URL]
    assert "HTTP 302" in caplog.text


async def test_the_key_set_is_asked_for_as_json():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"keys": [public_jwk("key-1", rsa_key("key-1"))]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        await JwksCache(JWKS_URL, http).get("key-1")

    assert [(r.method, str(r.url), r.headers["Accept"]) for r in seen] == [
        ("GET", JWKS_URL, "application/json")
    ]


def _jwks(*entries: object) -> bytes:
    return json.dumps({"keys": list(entries)}).encode()


def test_only_rsa_signing_keys_for_rs256_are_kept():
    good = public_jwk("good", rsa_key("key-1"))
    ec = {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA", "use": "sig"}
    entries: list[object] = [
        good,
        public_jwk("rs256", rsa_key("key-1"), alg="RS256"),
        public_jwk("encryption", rsa_key("key-1"), use="enc"),
        public_jwk("rs512", rsa_key("key-1"), alg="RS512"),
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ec,
        {key: value for key, value in good.items() if key != "kid"},
        {**good, "kid": ""},
        {**good, "kid": 7},
        "not a key",
    ]

    keys = parse_jwks(_jwks(*entries))

    assert sorted(keys) == ["good", "rs256"]
    assert all(
        isinstance(key, jwt.PyJWK) and key.algorithm_name == "RS256" for key in keys.values()
    )


def test_broken_key_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture):
    broken = {"kty": "RSA", "kid": "broken", "use": "sig", "n": "AQAB"}  # no exponent

    keys = parse_jwks(_jwks(broken, public_jwk("good", rsa_key("key-1"))))

    assert list(keys) == ["good"]
    assert "skipping the unusable signing key 'broken'" in caplog.text


async def test_fetch_cut_off_by_the_caller_counts_as_a_failure(
    cache: JwksCache, idp: IdentityProvider
):
    idp.hang = True
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cache.get("key-1"), timeout=0.01)  # e.g. the HTTP deadline

    with pytest.raises(JwksUnavailable):
        await cache.get("key-1")
    assert idp.requests == 1
