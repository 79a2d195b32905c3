"""Bearer tokens an attacker can make: forged, expired, too long-lived, for another issuer or
audience, unsigned, algorithm-confused or plain garbage. Each is a ``401`` with
``WWW-Authenticate: Bearer`` on every secured operation, and writes nothing.

Two hosts: the ``target`` (development tokens, HS256) and one configured like production (RS256
keys from a JWKS, development tokens off even though a secret is left beside it)."""

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest

from adapters.auth import DEV_AUDIENCE, DEV_ISSUER
from tests.conftest import Stack
from tests.e2e.conftest import Host, start_host
from tests.security.conftest import Target, outline, problem_faults
from tests.support.jwks_server import serving_jwks
from tests.unit.identity_fakes import compact, public_jwk, public_pem, rs256_signer, rsa_key

DAY = 24 * 3600
ISSUER = "https://login.example.com/security-tenant/v2.0"
AUDIENCE = "api://skillsync-security"
KID = "security-key"
LEFT_BEHIND_SECRET = "a-development-secret-left-beside-the-identity-provider-security-0123"
REFUSED_ON_LIFETIME = "the token lives longer than this API accepts"

Claims = dict[str, Any]


def _claims(issuer: str, audience: str, subject: str, **overrides: Any) -> Claims:
    """Valid claims; an override of ``None`` removes the claim."""
    now = int(time.time())
    values: Claims = {
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def _hs256(secret: str | bytes, claims: Claims, header: dict[str, Any] | None = None) -> str:
    """HS256 by hand, so any bytes (an RSA public key, say) can be the key."""
    key = secret.encode() if isinstance(secret, str) else secret
    head = {"alg": "HS256", "typ": "JWT", **(header or {})}
    return compact(head, claims, lambda data: hmac.new(key, data, hashlib.sha256).digest())


def _unsigned(claims: Claims, alg: str = "none") -> str:
    return compact({"alg": alg, "typ": "JWT"}, claims)


def _secured_requests(openapi: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(method, path, body) for every operation the document says needs a bearer token; ids are
    fresh, bodies valid, so an accepted token would be visible as a write."""
    requests = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if operation.get("security") != [{"bearer": []}]:
                continue
            concrete = path
            for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
                concrete = concrete.replace(f"{{{name}}}", str(uuid.uuid4()))
            body: Any = None
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                body = _VALID_BODIES.get(ref.rsplit("/", 1)[-1], {})
            requests.append((method.upper(), concrete, body))
    return requests


_VALID_BODIES: dict[str, Any] = {
    "CreateRoadmapRequest": {
        "goal": "Learn to forge tokens",
        "skillLevel": "beginner",
        "modules": outline(1),
        "prefetch": 0,
    },
    "GenerateLessonRequest": {"force": True},
    "ProgressUpdate": {"viewed": True, "completed": True},
}


def _refusals(base_url: str, requests: list[tuple[str, str, Any]], token: str) -> list[str]:
    """Every operation that did not refuse ``token`` as a ``401`` problem with the challenge."""
    wrong = []
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for method, path, body in requests:
            # Bytes, so a token that is not ASCII reaches the host as sent.
            authorization = f"Bearer {token}".encode()
            response = http.request(
                method, path, json=body, headers={b"Authorization": authorization}
            )
            faults = problem_faults(response) if response.status_code == 401 else []
            if response.headers.get("WWW-Authenticate") != "Bearer":
                faults.append(f"WWW-Authenticate {response.headers.get('WWW-Authenticate')!r}")
            if response.status_code != 401 or faults:
                wrong.append(f"{method} {path}: {response.status_code} {faults}")
    return wrong


def _roadmaps_of(base_url: str, token: str) -> list[Any]:
    response = httpx.get(
        f"{base_url}/api/roadmaps", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    roadmaps: list[Any] = response.json()["roadmaps"]
    return roadmaps


# Tokens against the development host: (secret, subject) -> token.
DEV_TOKENS: dict[str, Callable[[str, str], str]] = {
    "signed-with-another-secret": lambda secret, sub: _hs256(
        "another-secret-of-the-attackers-own-making-0123456789",
        _claims(DEV_ISSUER, DEV_AUDIENCE, sub),
    ),
    "expired": lambda secret, sub: _hs256(
        secret,
        _claims(
            DEV_ISSUER,
            DEV_AUDIENCE,
            sub,
            iat=int(time.time()) - 900,
            nbf=None,
            exp=int(time.time()) - 300,
        ),
    ),
    "not-yet-valid": lambda secret, sub: _hs256(
        secret, _claims(DEV_ISSUER, DEV_AUDIENCE, sub, nbf=int(time.time()) + 3600)
    ),
    "living-a-day-and-an-hour": lambda secret, sub: _hs256(
        secret, _claims(DEV_ISSUER, DEV_AUDIENCE, sub, exp=int(time.time()) + DAY + 3600)
    ),
    "living-a-century": lambda secret, sub: _hs256(
        secret, _claims(DEV_ISSUER, DEV_AUDIENCE, sub, exp=int(time.time()) + 100 * 365 * DAY)
    ),
    "issued-long-ago-living-long": lambda secret, sub: _hs256(
        secret,
        _claims(
            DEV_ISSUER,
            DEV_AUDIENCE,
            sub,
            iat=int(time.time()) - 30 * DAY,
            exp=int(time.time()) + 600,
        ),
    ),
    "without-iat": lambda secret, sub: _hs256(
        secret, _claims(DEV_ISSUER, DEV_AUDIENCE, sub, iat=None)
    ),
    "without-exp": lambda secret, sub: _hs256(
        secret, _claims(DEV_ISSUER, DEV_AUDIENCE, sub, exp=None)
    ),
    "without-sub": lambda secret, sub: _hs256(
        secret, _claims(DEV_ISSUER, DEV_AUDIENCE, sub, sub=None)
    ),
    "with-a-numeric-sub": lambda secret, sub: _hs256(
        secret, _claims(DEV_ISSUER, DEV_AUDIENCE, sub, sub=12345)
    ),
    "wrong-issuer": lambda secret, sub: _hs256(
        secret, _claims("https://evil.example/", DEV_AUDIENCE, sub)
    ),
    "wrong-audience": lambda secret, sub: _hs256(secret, _claims(DEV_ISSUER, "another-api", sub)),
    "production-claims-on-a-development-signature": lambda secret, sub: _hs256(
        secret, _claims("skillsync-test", "skillsync-api", sub)
    ),
    "alg-none": lambda secret, sub: _unsigned(_claims(DEV_ISSUER, DEV_AUDIENCE, sub)),
    "alg-None": lambda secret, sub: _unsigned(_claims(DEV_ISSUER, DEV_AUDIENCE, sub), "None"),
    "hs256-header-without-signature": lambda secret, sub: compact(
        {"alg": "HS256", "typ": "JWT"}, _claims(DEV_ISSUER, DEV_AUDIENCE, sub)
    ),
    "hs512-with-the-right-secret": lambda secret, sub: jwt.encode(
        _claims(DEV_ISSUER, DEV_AUDIENCE, sub), secret, algorithm="HS512"
    ),
    "rs256-though-no-key-set-is-configured": lambda secret, sub: jwt.encode(
        _claims(DEV_ISSUER, DEV_AUDIENCE, sub),
        rsa_key("attacker"),
        algorithm="RS256",
        headers={"kid": KID},
    ),
    "garbage": lambda secret, sub: "not-a-jwt",
    "three-empty-parts": lambda secret, sub: "..",
    "header-that-is-not-json": lambda secret, sub: "bm90IGpzb24.e30.c2ln",
    "twenty-kilobytes": lambda secret, sub: "a" * 20_000,
    "non-ascii": lambda secret, sub: "é.é.é",
}


@pytest.mark.parametrize("kind", DEV_TOKENS)
def test_a_bad_token_is_refused_on_every_secured_operation_and_writes_nothing(
    target: Target, openapi: dict[str, Any], kind: str
) -> None:
    victim = f"forged-{uuid.uuid4().hex[:8]}"
    token = DEV_TOKENS[kind](target.stack.env["AUTH_JWT_SECRET"], victim)
    requests = _secured_requests(openapi)

    wrong = _refusals(target.url, requests, token)

    assert len(requests) >= 9
    assert not wrong, "\n".join(wrong)
    assert _roadmaps_of(target.url, target.tokens.issue(victim)) == []


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic YWxpY2U6c2VjcmV0",
        "Token {valid}",
        "{valid}",
        "Bearer {valid}.extra",
        "Bearer {valid}x",
    ],
)
def test_a_valid_token_counts_only_as_a_bearer_credential(
    target: Target, openapi: dict[str, Any], authorization: str | None
) -> None:
    valid = target.tokens.issue(f"alice-{uuid.uuid4().hex[:8]}")
    headers = {} if authorization is None else {"Authorization": authorization.format(valid=valid)}

    with httpx.Client(base_url=target.url, timeout=10) as http:
        answers = [
            http.request(method, path, json=body, headers=headers)
            for method, path, body in _secured_requests(openapi)
        ]
        in_the_query = http.get("/api/roadmaps", params={"access_token": valid})

    for response in [*answers, in_the_query]:
        assert response.status_code == 401, (response.request.url, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_valid_token_is_accepted_on_every_secured_operation(
    target: Target, openapi: dict[str, Any]
) -> None:
    """The probes above would pass against a host that refuses everyone; this one would not."""
    token = target.tokens.issue(f"alice-{uuid.uuid4().hex[:8]}")
    with httpx.Client(base_url=target.url, timeout=10) as http:
        for method, path, body in _secured_requests(openapi):
            response = http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code not in (401, 403), (method, path, response.text)
            assert response.status_code < 500, (method, path, response.text)


def test_a_token_living_longer_than_a_day_is_refused_saying_why(target: Target) -> None:
    token = DEV_TOKENS["living-a-century"](target.stack.env["AUTH_JWT_SECRET"], "alice")

    response = httpx.get(
        f"{target.url}/api/roadmaps", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    assert response.status_code == 401
    assert response.json()["detail"] == REFUSED_ON_LIFETIME


def test_a_token_living_just_under_a_day_is_accepted(target: Target) -> None:
    now = int(time.time())
    secret = target.stack.env["AUTH_JWT_SECRET"]
    token = _hs256(secret, _claims(DEV_ISSUER, DEV_AUDIENCE, "alice", exp=now + DAY - 60))

    response = httpx.get(
        f"{target.url}/api/roadmaps", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    assert response.status_code == 200, response.text


# --- a host configured like production: RS256 from a JWKS, development tokens off ---


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The identity provider's key set on loopback, with the one real signing key."""
    with serving_jwks([public_jwk(KID, rsa_key(KID))]) as url:
        yield url


@pytest.fixture(scope="module")
def production(stack: Stack, jwks_url: str) -> Iterator[Host]:
    host = start_host(
        stack,
        args=("--no-queues", "--no-timers"),
        AUTH_JWT_SECRET=LEFT_BEHIND_SECRET,
        AUTH_DEV_TOKENS="",
        AUTH_JWKS_URL=jwks_url,
        AUTH_ISSUER=ISSUER,
        AUTH_AUDIENCE=AUDIENCE,
        LLM_PROVIDERS="offline",
    )
    yield host
    host.stop()


def _rs256(claims: Claims, key: str = KID, header: dict[str, Any] | None = None) -> str:
    head = {"alg": "RS256", "typ": "JWT", "kid": KID, **(header or {})}
    return compact(head, claims, rs256_signer(rsa_key(key)))


def _prod(sub: str, **overrides: Any) -> Claims:
    return _claims(ISSUER, AUDIENCE, sub, **overrides)


PRODUCTION_TOKENS: dict[str, Callable[[str], str]] = {
    "signed-with-another-key": lambda sub: _rs256(_prod(sub), key="attacker"),
    "unknown-kid": lambda sub: _rs256(_prod(sub), header={"kid": "attacker-kid"}),
    "kid-with-a-path": lambda sub: _rs256(_prod(sub), header={"kid": "../../../etc/passwd"}),
    "no-kid": lambda sub: compact(
        {"alg": "RS256", "typ": "JWT"}, _prod(sub), rs256_signer(rsa_key(KID))
    ),
    "own-key-in-the-header": lambda sub: _rs256(
        _prod(sub), key="attacker", header={"jwk": public_jwk(KID, rsa_key("attacker"))}
    ),
    "own-key-set-url-in-the-header": lambda sub: _rs256(
        _prod(sub), key="attacker", header={"jku": "https://evil.example/keys"}
    ),
    "expired": lambda sub: _rs256(
        _prod(sub, iat=int(time.time()) - 900, nbf=None, exp=int(time.time()) - 300)
    ),
    "living-a-century": lambda sub: _rs256(_prod(sub, exp=int(time.time()) + 100 * 365 * DAY)),
    "without-iat": lambda sub: _rs256(_prod(sub, iat=None)),
    "wrong-issuer": lambda sub: _rs256(_prod(sub, iss="https://evil.example/v2.0")),
    "wrong-audience": lambda sub: _rs256(_prod(sub, aud="api://another-api")),
    "alg-none": lambda sub: _unsigned(_prod(sub)),
    "hs256-keyed-with-the-public-key": lambda sub: _hs256(
        public_pem(rsa_key(KID)), _prod(sub), {"kid": KID}
    ),
    "hs256-keyed-with-the-public-jwk": lambda sub: _hs256(
        json.dumps(public_jwk(KID, rsa_key(KID))), _prod(sub), {"kid": KID}
    ),
    "development-token-with-the-left-behind-secret": lambda sub: _hs256(
        LEFT_BEHIND_SECRET, _claims(DEV_ISSUER, DEV_AUDIENCE, sub)
    ),
    "left-behind-secret-with-production-claims": lambda sub: _hs256(LEFT_BEHIND_SECRET, _prod(sub)),
}


@pytest.mark.parametrize("kind", PRODUCTION_TOKENS)
def test_a_bad_token_is_refused_where_the_identity_provider_signs(
    production: Host, openapi: dict[str, Any], kind: str
) -> None:
    victim = f"entra-{uuid.uuid4().hex[:8]}"
    requests = _secured_requests(openapi)

    wrong = _refusals(production.base_url, requests, PRODUCTION_TOKENS[kind](victim))

    assert not wrong, "\n".join(wrong)
    assert _roadmaps_of(production.base_url, _rs256(_prod(victim))) == []


def test_the_identity_providers_token_is_accepted(production: Host) -> None:
    """The refusals above are not a host that refuses everyone."""
    response = httpx.get(
        f"{production.base_url}/api/roadmaps",
        headers={"Authorization": f"Bearer {_rs256(_prod('entra-control'))}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_a_long_lived_token_of_the_identity_provider_is_refused_saying_why(
    production: Host,
) -> None:
    token = PRODUCTION_TOKENS["living-a-century"]("entra-user")

    response = httpx.get(
        f"{production.base_url}/api/roadmaps",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == REFUSED_ON_LIFETIME
