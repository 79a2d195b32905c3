"""TokenVerifier: the caller is the ``sub`` of a valid bearer token, and nobody else.

HS256 development tokens need the development secret; RS256 tokens need a key from the identity
provider's JWKS (served here through ``httpx.MockTransport``). Every other token is refused with a
message safe to show, and neither a secret nor a token ever reaches a message or a log line.
"""

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.auth import DEV_AUDIENCE, DEV_ISSUER, DevTokensDisabled, TokenVerifier
from adapters.jwks import JwksCache
from domain.errors import IdentityProviderUnavailable, Unauthenticated
from tests.unit.identity_fakes import (
    AUDIENCE,
    ISSUER,
    JWKS_URL,
    SECRET,
    FakeClock,
    IdentityProvider,
    b64,
    claims,
    compact,
    dev_token,
    public_pem,
    rs256_signer,
    rsa_key,
)

OTHER_SECRET = "another-secret-that-is-also-long-enough-for-any-hmac-algorithm-xyz"
INTERVAL = 30.0
TTL = 3600.0
REQUIRED = "a bearer token is required"
INVALID = "the token is not valid"
EXPIRED = "the token has expired"
NOT_YET = "the token is not valid yet"
NO_USER = "the token names no valid user"


@pytest.fixture
def idp() -> IdentityProvider:
    return IdentityProvider("key-1")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def jwks(idp: IdentityProvider, clock: FakeClock) -> AsyncIterator[JwksCache]:
    async with idp.client() as http:
        yield JwksCache(
            JWKS_URL, http, ttl=TTL, min_refresh_interval=INTERVAL, fetch_timeout=0.2, clock=clock
        )


@pytest.fixture
def verifier(jwks: JwksCache) -> TokenVerifier:
    """Both kinds of token accepted, as in a development setup that also trusts Entra ID."""
    return TokenVerifier(SECRET, issuer=ISSUER, audience=AUDIENCE, jwks=jwks)


@pytest.fixture
def entra_only(jwks: JwksCache) -> TokenVerifier:
    return TokenVerifier(None, issuer=ISSUER, audience=AUDIENCE, jwks=jwks)


@pytest.fixture
def dev_only() -> TokenVerifier:
    return TokenVerifier(SECRET, issuer=ISSUER, audience=AUDIENCE)


async def _rejection(
    verifier: TokenVerifier, authorization: str | None, caplog: pytest.LogCaptureFixture
) -> str:
    """The message of the refusal, after checking it and the logs give nothing away."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthenticated) as raised:
        await verifier.user_id(authorization)
    message = str(raised.value)
    token = (authorization or "").partition(" ")[2].strip()
    for leak in (SECRET, token, token.rpartition(".")[2]):
        if len(leak) >= 8:
            assert leak not in message
            assert leak not in caplog.text
    # No chained PyJWT error to end up in a logged traceback.
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__
    return message


# --- what is accepted -----------------------------------------------------------------------


async def test_issued_development_token_verifies_to_its_subject(verifier: TokenVerifier):
    token = verifier.issue("learner-42")

    assert await verifier.user_id(f"Bearer {token}") == "learner-42"


async def test_token_made_elsewhere_with_the_dev_secret_is_accepted(dev_only: TokenVerifier):
    token = dev_token(iss=DEV_ISSUER, aud=DEV_AUDIENCE)

    assert await dev_only.user_id(f"Bearer {token}") == "user-1"


async def test_dev_secret_token_with_the_identity_providers_issuer_is_refused(
    verifier: TokenVerifier, caplog
):
    # Whoever holds the development secret must not pass for a user of the identity provider.
    forged = dev_token(iss=ISSUER, aud=AUDIENCE)

    assert await _rejection(verifier, f"Bearer {forged}", caplog) == INVALID


async def test_entra_token_verifies_with_the_published_key(
    verifier: TokenVerifier, idp: IdentityProvider
):
    assert await verifier.user_id(f"Bearer {idp.token(sub='entra-subject')}") == "entra-subject"
    assert idp.requests == 1


async def test_entra_only_verifier_accepts_entra_tokens(
    entra_only: TokenVerifier, idp: IdentityProvider
):
    assert await entra_only.user_id(f"Bearer {idp.token()}") == "user-1"


async def test_scheme_is_case_insensitive_and_surrounding_space_ignored(verifier: TokenVerifier):
    token = verifier.issue("learner-42")

    assert await verifier.user_id(f"bearer   {token}  ") == "learner-42"


async def test_token_expired_within_the_leeway_is_still_accepted(verifier: TokenVerifier):
    token = verifier.issue("user-1", lifetime=timedelta(seconds=-5))

    assert await verifier.user_id(f"Bearer {token}") == "user-1"


async def test_subject_of_128_characters_is_accepted(verifier: TokenVerifier):
    subject = "x" * 128

    assert await verifier.user_id(f"Bearer {verifier.issue(subject)}") == subject


# --- what is refused ------------------------------------------------------------------------

Case = Callable[[IdentityProvider], str | None]


def _none_alg(idp: IdentityProvider) -> str:
    return f"Bearer {compact({'alg': 'none', 'typ': 'JWT'}, claims())}"


def _alg_confusion(idp: IdentityProvider) -> str:
    """HS256 keyed with the RSA public key: a verifier trusting the header would accept it."""
    pem = public_pem(rsa_key("key-1"))
    token = compact(
        {"alg": "HS256", "typ": "JWT", "kid": "key-1"},
        claims(sub="mallory"),
        lambda data: hmac.new(pem, data, hashlib.sha256).digest(),
    )
    return f"Bearer {token}"


def _rsa_header_on_hmac_signature(idp: IdentityProvider) -> str:
    _, payload, signature = dev_token().split(".")
    return f"Bearer {b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'key-1'})}.{payload}.{signature}"


def _es256(idp: IdentityProvider) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return f"Bearer {jwt.encode(claims(), key, algorithm='ES256', headers={'kid': 'key-1'})}"


def _rs_other_alg(algorithm: str) -> Case:
    return lambda idp: (
        "Bearer "
        + jwt.encode(claims(), rsa_key("key-1"), algorithm=algorithm, headers={"kid": "key-1"})
    )


def _tampered(idp: IdentityProvider) -> str:
    header, _, signature = idp.token().split(".")
    return f"Bearer {header}.{b64(claims(sub='admin'))}.{signature}"


def _weak_key(idp: IdentityProvider) -> str:
    """Signed with a published 1024-bit key, too weak to trust (PyJWT would only warn)."""
    idp.publish("weak", bits=1024)
    sign = rs256_signer(rsa_key("weak", 1024))
    return f"Bearer {compact({'alg': 'RS256', 'kid': 'weak'}, claims(), sign)}"


def _unsigned(header: dict[str, object]) -> Case:
    return lambda idp: f"Bearer {compact(header, claims(), lambda data: b'signature')}"


REJECTIONS: dict[str, tuple[Case, str]] = {
    "no-header": (lambda idp: None, REQUIRED),
    "empty-header": (lambda idp: "", REQUIRED),
    "bearer-without-token": (lambda idp: "Bearer", REQUIRED),
    "bearer-with-spaces": (lambda idp: "Bearer   ", REQUIRED),
    "basic-scheme": (lambda idp: f"Basic {dev_token()}", REQUIRED),
    "token-scheme": (lambda idp: f"Token {idp.token()}", REQUIRED),
    "no-scheme": (lambda idp: dev_token(), REQUIRED),
    "garbage": (lambda idp: "Bearer not.a.jwt", INVALID),
    "one-part": (lambda idp: "Bearer abcdefghijkl", INVALID),
    "empty-parts": (lambda idp: "Bearer ..", INVALID),
    "non-ascii": (lambda idp: "Bearer ÿÿÿÿ.ÿÿÿÿ.ÿÿÿÿ", INVALID),
    "lone-surrogate": (lambda idp: "Bearer \udcff.e30.e30", INVALID),
    "header-not-an-object": (lambda idp: f"Bearer {b64(b'[1]')}.{b64(claims())}.c2ln", INVALID),
    "huge": (lambda idp: f"Bearer {dev_token(padding='x' * 20_000)}", INVALID),
    "alg-none": (_none_alg, INVALID),
    "alg-missing": (_unsigned({"typ": "JWT"}), INVALID),
    "alg-not-a-string": (_unsigned({"alg": ["RS256"], "kid": "key-1"}), INVALID),
    "hs384": (lambda idp: f"Bearer {dev_token(algorithm='HS384')}", INVALID),
    "hs512": (lambda idp: f"Bearer {dev_token(algorithm='HS512')}", INVALID),
    "rs512": (_rs_other_alg("RS512"), INVALID),
    "ps256": (_rs_other_alg("PS256"), INVALID),
    "es256": (_es256, INVALID),
    "alg-confusion": (_alg_confusion, INVALID),
    "rs256-header-on-hmac": (_rsa_header_on_hmac_signature, INVALID),
    "hs256-other-secret": (lambda idp: f"Bearer {dev_token(secret=OTHER_SECRET)}", INVALID),
    "rs256-unpublished-key": (lambda idp: f"Bearer {idp.token(key_name='rogue')}", INVALID),
    "rs256-tampered": (_tampered, INVALID),
    "rs256-weak-key": (_weak_key, INVALID),
    "hs256-expired": (lambda idp: f"Bearer {dev_token(exp=claims()['iat'] - 300)}", EXPIRED),
    "rs256-expired": (lambda idp: f"Bearer {idp.token(exp=claims()['iat'] - 300)}", EXPIRED),
    "hs256-nbf-ahead": (lambda idp: f"Bearer {dev_token(nbf=claims()['iat'] + 300)}", NOT_YET),
    "rs256-nbf-ahead": (lambda idp: f"Bearer {idp.token(nbf=claims()['iat'] + 300)}", NOT_YET),
    "rs256-iat-ahead": (lambda idp: f"Bearer {idp.token(iat=claims()['iat'] + 300)}", NOT_YET),
    "hs256-wrong-issuer": (lambda idp: f"Bearer {dev_token(iss='someone-else')}", INVALID),
    "rs256-wrong-issuer": (lambda idp: f"Bearer {idp.token(iss='https://evil/v2.0')}", INVALID),
    "hs256-wrong-audience": (lambda idp: f"Bearer {dev_token(aud='another-api')}", INVALID),
    "rs256-wrong-audience": (lambda idp: f"Bearer {idp.token(aud='another-api')}", INVALID),
    "sub-empty": (lambda idp: f"Bearer {idp.token(sub='')}", NO_USER),
    "sub-too-long": (lambda idp: f"Bearer {idp.token(sub='x' * 129)}", NO_USER),
    "sub-unprintable": (lambda idp: "Bearer " + idp.token(sub="line\nbreak"), NO_USER),
    "sub-not-a-string": (lambda idp: f"Bearer {dev_token(sub=42)}", INVALID),
    "rs256-unknown-kid": (lambda idp: f"Bearer {idp.token('key-9')}", INVALID),
    "rs256-no-kid": (
        lambda idp: f"Bearer {jwt.encode(claims(), rsa_key('key-1'), algorithm='RS256')}",
        INVALID,
    ),
    "rs256-kid-not-a-string": (_unsigned({"alg": "RS256", "kid": 1}), INVALID),
    "rs256-kid-empty": (_unsigned({"alg": "RS256", "kid": ""}), INVALID),
    "rs256-kid-too-long": (lambda idp: f"Bearer {idp.token('k' * 300)}", INVALID),
}


@pytest.mark.parametrize(("make", "reason"), REJECTIONS.values(), ids=REJECTIONS.keys())
async def test_invalid_token_is_refused_without_a_leak(
    verifier: TokenVerifier,
    idp: IdentityProvider,
    caplog: pytest.LogCaptureFixture,
    make: Case,
    reason: str,
):
    authorization = make(idp)

    assert await _rejection(verifier, authorization, caplog) == reason


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "aud"])
@pytest.mark.parametrize("kind", ["hs256", "rs256"])
async def test_token_missing_a_required_claim_is_refused(
    verifier: TokenVerifier, idp: IdentityProvider, caplog, kind: str, claim: str
):
    without: dict[str, Any] = {claim: None}
    token = dev_token(**without) if kind == "hs256" else idp.token(**without)

    assert await _rejection(verifier, f"Bearer {token}", caplog) == INVALID


async def test_expired_issued_token_is_refused(verifier: TokenVerifier, caplog):
    token = verifier.issue("user-1", lifetime=timedelta(minutes=-5))

    assert await _rejection(verifier, f"Bearer {token}", caplog) == EXPIRED


async def test_development_token_from_another_issuer_is_refused(verifier: TokenVerifier, caplog):
    other = dev_token(iss="another-issuer", aud=DEV_AUDIENCE)

    assert await _rejection(verifier, f"Bearer {other}", caplog) == INVALID


async def test_development_token_is_refused_when_only_entra_is_trusted(
    entra_only: TokenVerifier, idp: IdentityProvider, caplog
):
    assert await _rejection(entra_only, f"Bearer {dev_token()}", caplog) == INVALID
    assert idp.requests == 0


async def test_alg_confusion_is_refused_when_only_entra_is_trusted(
    entra_only: TokenVerifier, idp: IdentityProvider, caplog
):
    assert await _rejection(entra_only, _alg_confusion(idp), caplog) == INVALID


async def test_entra_token_is_refused_without_a_request_when_no_jwks_is_configured(
    dev_only: TokenVerifier, idp: IdentityProvider, caplog
):
    assert await _rejection(dev_only, f"Bearer {idp.token()}", caplog) == INVALID
    assert idp.requests == 0


def test_issuing_without_a_secret_says_why(entra_only: TokenVerifier):
    with pytest.raises(DevTokensDisabled, match="AUTH_JWT_SECRET"):
        entra_only.issue("user-1")


# --- key rotation and an unreachable key set ------------------------------------------------


async def test_token_with_a_rotated_in_key_fetches_once_then_verifies(
    verifier: TokenVerifier, idp: IdentityProvider, clock: FakeClock, caplog
):
    await verifier.user_id(f"Bearer {idp.token()}")
    clock.advance(INTERVAL)
    idp.publish("key-2")

    assert await verifier.user_id(f"Bearer {idp.token('key-2')}") == "user-1"
    assert await verifier.user_id(f"Bearer {idp.token('key-2')}") == "user-1"
    assert idp.requests == 2

    assert await _rejection(verifier, f"Bearer {idp.token('made-up')}", caplog) == INVALID
    assert idp.requests == 2  # within the interval: no request for the made-up kid
    clock.advance(INTERVAL)
    assert await _rejection(verifier, f"Bearer {idp.token('made-up')}", caplog) == INVALID
    assert idp.requests == 3


async def test_retired_key_stops_verifying_after_the_ttl(
    verifier: TokenVerifier, idp: IdentityProvider, clock: FakeClock, caplog
):
    token = f"Bearer {idp.token()}"
    assert await verifier.user_id(token) == "user-1"
    idp.publish("key-2")
    idp.retire("key-1")
    clock.advance(TTL - 1)
    assert await verifier.user_id(token) == "user-1"

    clock.advance(1)

    assert await _rejection(verifier, token, caplog) == INVALID
    assert idp.requests == 2


@pytest.mark.parametrize("failure", [500, "connect", "hang", "not-json"])
async def test_unreachable_key_set_refuses_entra_tokens_and_warns(
    verifier: TokenVerifier, idp: IdentityProvider, caplog, failure: object
):
    if failure == "connect":
        idp.failure = httpx.ConnectError("connection refused")
    elif failure == "hang":
        idp.hang = True
    elif failure == "not-json":
        idp.body = b"<html>down</html>"
    else:
        idp.failure = 500

    with pytest.raises(IdentityProviderUnavailable) as raised:
        await verifier.user_id(f"Bearer {idp.token()}")
    assert raised.value.retry_after  # a 503 with Retry-After, not a 401: the token may be fine
    assert "could not refresh the signing keys" in caplog.text
    assert await verifier.user_id(f"Bearer {verifier.issue('dev')}") == "dev"


CENTURY = 100 * 365 * 86_400


@pytest.mark.parametrize(
    "make",
    [
        lambda idp: idp.token(exp=claims()["iat"] + CENTURY),
        lambda idp: dev_token(iss=DEV_ISSUER, aud=DEV_AUDIENCE, exp=claims()["iat"] + CENTURY),
        lambda idp: idp.token(iat=claims()["iat"] - 2 * 86_400, exp=claims()["iat"] + 600),
    ],
    ids=["entra-century", "dev-century", "issued-two-days-ago"],
)
async def test_a_token_that_lives_longer_than_a_day_is_refused(
    verifier: TokenVerifier, idp: IdentityProvider, caplog, make
):
    message = await _rejection(verifier, f"Bearer {make(idp)}", caplog)

    assert message == "the token lives longer than this API accepts"


async def test_a_token_living_exactly_the_maximum_is_accepted(
    verifier: TokenVerifier, idp: IdentityProvider
):
    token = idp.token(exp=claims()["iat"] + 86_400)

    assert await verifier.user_id(f"Bearer {token}") == "user-1"


async def test_the_maximum_lifetime_is_a_setting():
    short = TokenVerifier(SECRET, max_lifetime_seconds=3600)

    with pytest.raises(Unauthenticated, match="lives longer"):
        await short.user_id(f"Bearer {short.issue('u', lifetime=timedelta(hours=2))}")
    assert await short.user_id(f"Bearer {short.issue('u', lifetime=timedelta(hours=1))}") == "u"
