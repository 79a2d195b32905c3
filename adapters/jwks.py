"""The identity provider's signing keys (a JWKS, as Microsoft Entra ID and B2C publish), cached.

Entra rotates its keys without notice, so a token naming an unknown ``kid`` makes the cache fetch
the key set again — at most once per ``min_refresh_interval``, so a flood of tokens with made-up
key ids cannot hammer the endpoint. The set is also fetched again after ``ttl``. A failed fetch
keeps the keys already known, and the next attempt waits ``min_refresh_interval`` too.
https://learn.microsoft.com/entra/identity-platform/signing-key-rollover
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
# Entra's key set is a few kilobytes; anything far larger is not a key set.
MAX_JWKS_BYTES = 256 * 1024


class JwksError(Exception):
    """No key can verify the token. Messages name no token and no key material."""


class JwksUnavailable(JwksError):
    """The key set could not be fetched or read, and no key for the ``kid`` is known."""


class UnknownKey(JwksError):
    """The key set, fetched recently enough, has no key with that ``kid``."""


def create_jwks_client() -> httpx.AsyncClient:
    """The HTTP client the cache fetches with: short timeouts, as a request waits on it."""
    return httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=3.0), follow_redirects=False)


class JwksCache:
    """RS256 verification keys by ``kid``, fetched from ``url`` on demand.

    Args:
        url: The JWKS endpoint, e.g. ``https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys``.
        http: The client to fetch with (its owner closes it); tests give it a ``MockTransport``.
        ttl: Seconds after a successful fetch before the set is fetched again.
        min_refresh_interval: Fewest seconds between two fetch attempts, whatever asks for them.
        fetch_timeout: Upper bound in seconds on one fetch, body included.
        clock: Monotonic seconds; tests pass a fake.
    """

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        ttl: float = 3600.0,
        min_refresh_interval: float = 30.0,
        fetch_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._http = http
        self._ttl = ttl
        self._min_interval = min_refresh_interval
        self._fetch_timeout = fetch_timeout
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._failing = False
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> jwt.PyJWK:
        """The key named ``kid``; ``UnknownKey`` or ``JwksUnavailable`` when there is none."""
        # One fetch at a time: a caller whose kid is unknown waits for the one in flight.
        if self._should_fetch(kid) or (kid not in self._keys and self._lock.locked()):
            async with self._lock:
                if self._should_fetch(kid):
                    await self._refresh()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._failing:
            raise JwksUnavailable("the signing keys could not be fetched")
        raise UnknownKey("no signing key has the token's kid")

    def _should_fetch(self, kid: str) -> bool:
        now = self._clock()
        if self._attempted_at is not None and now - self._attempted_at < self._min_interval:
            return False
        stale = self._fetched_at is None or now - self._fetched_at >= self._ttl
        return stale or kid not in self._keys

    async def _refresh(self) -> None:
        self._attempted_at = self._clock()
        self._failing = True  # until this attempt succeeds: it may fail, or be cancelled
        try:
            keys = parse_jwks(await self._download())
        except JwksUnavailable as error:
            log.warning(
                "could not refresh the signing keys from %s (%s); keeping %d known key(s)",
                self._url,
                error,
                len(self._keys),
            )
            return
        self._keys, self._fetched_at, self._failing = keys, self._attempted_at, False
        log.info("fetched %d signing key(s) from %s", len(keys), self._url)

    async def _download(self) -> bytes:
        body = bytearray()
        try:
            async with asyncio.timeout(self._fetch_timeout):
                request = self._http.stream(
                    "GET", self._url, headers={"Accept": "application/json"}
                )
                async with request as response:
                    response.raise_for_status()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_JWKS_BYTES:
                            raise JwksUnavailable(f"the answer is over {MAX_JWKS_BYTES} bytes")
        except httpx.HTTPStatusError as error:
            raise JwksUnavailable(f"HTTP {error.response.status_code}") from None
        except (httpx.HTTPError, TimeoutError) as error:
            raise JwksUnavailable(type(error).__name__) from None
        return bytes(body)


def parse_jwks(body: bytes) -> dict[str, jwt.PyJWK]:
    """The RS256 signature keys of a JWKS document, by ``kid``; others are skipped."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise JwksUnavailable("the answer is not JSON") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksUnavailable('the answer has no "keys" list')
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        if _is_rs256_signing_key(entry):
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=ALGORITHM)
            except jwt.PyJWTError as error:
                log.warning("skipping the unusable signing key %r: %s", entry["kid"], error)
    if not keys:
        raise JwksUnavailable("the key set has no usable RS256 signing key")
    return keys


def _is_rs256_signing_key(entry: Any) -> bool:
    # An "oct" entry would become an HMAC secret, an EC one another algorithm: RSA only.
    return (
        isinstance(entry, dict)
        and entry.get("kty") == "RSA"
        and entry.get("use", "sig") == "sig"
        and entry.get("alg", ALGORITHM) == ALGORITHM
        and isinstance(entry.get("kid"), str)
        and bool(entry["kid"])
    )
