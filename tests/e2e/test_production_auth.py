"""Production sign-in end to end: RS256 tokens checked against a JWKS the host fetches over HTTP.

The deployment keeps a development secret beside its identity provider and says nothing about
``AUTH_DEV_TOKENS``: development tokens must be off all the same, so nobody holding the secret can
mint a token for one of its users."""

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from adapters.auth import DEV_AUDIENCE, DEV_ISSUER
from domain.base import utcnow
from tests.conftest import running_stack
from tests.e2e.conftest import Host, start_host
from tests.support.jwks_server import serving_jwks
from tests.unit.identity_fakes import public_jwk, rsa_key

ISSUER = "https://login.example.com/tenant/v2.0"
AUDIENCE = "api://skillsync"
LEFT_BEHIND_SECRET = "a-development-secret-left-beside-the-identity-provider-0123"


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """A JWKS endpoint on loopback, as Entra ID's discovery keys endpoint answers."""
    with serving_jwks([public_jwk("prod-key", rsa_key("prod"))]) as url:
        yield url


@pytest.fixture(scope="module")
def production_host(jwks_url: str) -> Iterator[Host]:
    with running_stack() as stack:
        host = start_host(
            stack,
            AUTH_JWT_SECRET=LEFT_BEHIND_SECRET,
            AUTH_DEV_TOKENS="",
            AUTH_JWKS_URL=jwks_url,
            AUTH_ISSUER=ISSUER,
            AUTH_AUDIENCE=AUDIENCE,
        )
        yield host
        host.stop()


def _token(kid: str = "prod-key", key: str = "prod", **claims: Any) -> str:
    now = utcnow()
    payload = {"sub": "entra-user-1", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now}
    payload.update({"exp": now.timestamp() + 600, **claims})
    return jwt.encode(payload, rsa_key(key), algorithm="RS256", headers={"kid": kid})


def _roadmaps(host: Host, token: str) -> httpx.Response:
    return httpx.get(f"{host.base_url}/api/roadmaps", headers={"Authorization": f"Bearer {token}"})


def test_a_token_signed_by_the_identity_provider_is_accepted(production_host: Host) -> None:
    response = _roadmaps(production_host, _token())
    assert response.status_code == 200
    assert response.json() == {"roadmaps": [], "nextCursor": None}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: _token(key="attacker"), id="signed-by-another-key"),
        pytest.param(lambda: _token(kid="unknown-kid"), id="unknown-kid"),
        pytest.param(lambda: _token(iss="https://evil.example.com/"), id="wrong-issuer"),
        pytest.param(lambda: _token(aud="another-api"), id="wrong-audience"),
        pytest.param(
            lambda: jwt.encode(
                {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": 0, "exp": 9_999_999_999},
                "a-development-secret-that-is-long-enough-0123456789",
                algorithm="HS256",
            ),
            id="development-token",
        ),
    ],
)
def test_other_tokens_are_refused(production_host: Host, token: Any) -> None:
    response = _roadmaps(production_host, token())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _hs256(issuer: str, audience: str) -> str:
    now = int(utcnow().timestamp())
    claims = {"sub": "entra-user-1", "iss": issuer, "aud": audience, "iat": now, "exp": now + 600}
    return jwt.encode(claims, LEFT_BEHIND_SECRET, algorithm="HS256")


def test_development_sign_in_is_absent_beside_an_identity_provider(production_host: Host) -> None:
    response = httpx.post(f"{production_host.base_url}/api/dev/token", json={"userId": "anyone"})

    assert response.status_code == 404
    assert "token" not in response.json()


@pytest.mark.parametrize(
    ("issuer", "audience"),
    [(ISSUER, AUDIENCE), (DEV_ISSUER, DEV_AUDIENCE)],
    ids=["production-claims", "development-claims"],
)
def test_tokens_signed_with_the_left_behind_secret_are_refused(
    production_host: Host, issuer: str, audience: str
) -> None:
    response = _roadmaps(production_host, _hs256(issuer, audience))

    assert response.status_code == 401
