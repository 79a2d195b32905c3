"""A fake identity provider at its wire: RSA keys, a JWKS served through ``httpx.MockTransport``,
and tokens signed the way Microsoft Entra ID signs them (RS256, the key's ``kid`` in the header).

Tokens can also be put together by hand (``compact``), so tests can sign with algorithms or keys
PyJWT would refuse to sign with — ``alg: none``, an HMAC keyed with the RSA public key, a weak key.
"""

import asyncio
import base64
import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWKS_URL = "https://login.example.com/tenant-id/discovery/v2.0/keys"
ISSUER = "https://login.example.com/tenant-id/v2.0"
AUDIENCE = "skillsync-api"
SECRET = "a-development-secret-long-enough-for-hs384-and-hs512-keys-0123456789"


def rsa_key(name: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key, made once per test session for each name (making one takes a moment)."""
    return _made_key(name, bits)


@cache
def _made_key(name: str, bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_jwk(kid: str, key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
    """The public half of ``key`` as Entra publishes it: ``kty``, ``use``, ``kid``, ``n``, ``e``."""
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "use": "sig", "kid": kid, **extra}


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    """The public key as PEM, what an attacker would use as an HMAC secret."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def b64(data: bytes | dict[str, Any]) -> str:
    """Base64url without padding; dicts as compact JSON."""
    raw = json.dumps(data, separators=(",", ":")).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def compact(
    header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes] | None = None
) -> str:
    """A JWS put together by hand; ``sign`` maps the signing input to the signature."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64(signature) if signature else ''}"


def rs256_signer(key: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    """RS256 signing with ``key``, whatever its size (PyJWT warns about small ones)."""
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for ``ISSUER`` and ``AUDIENCE``; ``None`` removes a claim."""
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def dev_token(secret: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    """A development token as anyone holding ``secret`` could make it."""
    return jwt.encode(claims(**overrides), secret, algorithm=algorithm)


class IdentityProvider:
    """Signs tokens with keys by ``kid`` and publishes some of them as its JWKS.

    ``requests`` counts the JWKS requests; set ``failure`` (an HTTP status or an exception to
    raise), ``body`` (raw bytes to answer) or ``hang`` (never answer) to misbehave.
    """

    def __init__(self, *kids: str) -> None:
        self.published: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.failure: int | Exception | None = None
        self.body: bytes | None = None
        self.hang = False
        for kid in kids:
            self.publish(kid)

    def publish(self, kid: str, bits: int = 2048, **extra: Any) -> None:
        """Add the key named ``kid`` to the JWKS (a rotation, as Entra does it)."""
        self.published[kid] = public_jwk(kid, rsa_key(kid, bits), **extra)

    def retire(self, kid: str) -> None:
        """Take the key named ``kid`` out of the JWKS."""
        del self.published[kid]

    def token(self, kid: str = "key-1", *, key_name: str | None = None, **overrides: Any) -> str:
        """An RS256 token naming ``kid``, signed with the key ``key_name`` (by default kid's)."""
        return jwt.encode(
            claims(**overrides),
            rsa_key(key_name or kid),
            algorithm="RS256",
            headers={"kid": kid},
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """The JWKS endpoint."""
        self.requests += 1
        await asyncio.sleep(0)  # let concurrent callers interleave, as a real fetch would
        if self.hang:
            await asyncio.Event().wait()
        if isinstance(self.failure, Exception):
            raise self.failure
        if self.failure is not None:
            return httpx.Response(self.failure, json={"error": "unavailable"})
        if self.body is not None:
            return httpx.Response(200, content=self.body)
        return httpx.Response(200, json={"keys": list(self.published.values())})

    def client(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose every request reaches ``handle``."""
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


class FakeClock:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        self.now += seconds
