"""TokenVerifier: the caller is the ``sub`` of a valid HS256 bearer token, and nobody else."""

import base64
import json
import time
from datetime import timedelta
from typing import Any

import jwt
import pytest

from adapters.auth import TokenVerifier, Unauthenticated

SECRET = "a-development-secret-long-enough-for-hs384-and-hs512-keys-0123456789"
OTHER_SECRET = "another-secret-that-is-also-long-enough-for-any-hmac-algorithm-xyz"
ISSUER = "skillsync-dev"
AUDIENCE = "skillsync-api"


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(SECRET, issuer=ISSUER, audience=AUDIENCE)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _token(secret: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), secret, algorithm=algorithm)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _rejection(verifier: TokenVerifier, authorization: str | None) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verifier.user_id(authorization)
    return str(raised.value)


def test_issued_token_verifies_to_its_subject(verifier: TokenVerifier):
    token = verifier.issue("learner-42")

    assert verifier.user_id(f"Bearer {token}") == "learner-42"


def test_scheme_is_case_insensitive_and_surrounding_space_ignored(verifier: TokenVerifier):
    token = verifier.issue("learner-42")

    assert verifier.user_id(f"bearer   {token}  ") == "learner-42"


def test_token_built_elsewhere_with_the_same_secret_is_accepted(verifier: TokenVerifier):
    assert verifier.user_id(f"Bearer {_token()}") == "user-1"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   "])
def test_missing_token_is_rejected(verifier: TokenVerifier, header: str | None):
    assert _rejection(verifier, header) == "a bearer token is required"


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT"])
def test_other_schemes_are_rejected(verifier: TokenVerifier, scheme: str):
    token = verifier.issue("user-1")

    assert _rejection(verifier, f"{scheme} {token}") == "a bearer token is required"


def test_bare_token_without_scheme_is_rejected(verifier: TokenVerifier):
    assert _rejection(verifier, verifier.issue("user-1")) == "a bearer token is required"


def test_expired_token_is_rejected(verifier: TokenVerifier):
    token = verifier.issue("user-1", lifetime=timedelta(minutes=-5))

    assert _rejection(verifier, f"Bearer {token}") == "the token has expired"


def test_token_expired_within_the_leeway_is_still_accepted(verifier: TokenVerifier):
    token = verifier.issue("user-1", lifetime=timedelta(seconds=-5))

    assert verifier.user_id(f"Bearer {token}") == "user-1"


def test_token_signed_with_another_secret_is_rejected(verifier: TokenVerifier):
    token = _token(secret=OTHER_SECRET)

    assert _rejection(verifier, f"Bearer {token}") == "the token is not valid"


def test_unsigned_alg_none_token_is_rejected(verifier: TokenVerifier):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."

    assert _rejection(verifier, f"Bearer {token}") == "the token is not valid"


def test_hs384_token_with_the_right_secret_is_rejected(verifier: TokenVerifier):
    token = _token(algorithm="HS384")

    assert _rejection(verifier, f"Bearer {token}") == "the token is not valid"


def test_token_claiming_an_rsa_algorithm_is_rejected(verifier: TokenVerifier):
    genuine = _token()
    _, payload, signature = genuine.split(".")
    token = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{payload}.{signature}"

    assert _rejection(verifier, f"Bearer {token}") == "the token is not valid"


def test_token_from_another_issuer_is_rejected(verifier: TokenVerifier):
    assert _rejection(verifier, f"Bearer {_token(iss='someone-else')}") == "the token is not valid"


def test_token_for_another_audience_is_rejected(verifier: TokenVerifier):
    assert _rejection(verifier, f"Bearer {_token(aud='another-api')}") == "the token is not valid"


def test_issuer_of_the_verifier_decides(verifier: TokenVerifier):
    other = TokenVerifier(SECRET, issuer="another-issuer", audience=AUDIENCE)

    assert _rejection(verifier, f"Bearer {other.issue('user-1')}") == "the token is not valid"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub"])
def test_token_missing_a_required_claim_is_rejected(verifier: TokenVerifier, claim: str):
    token = jwt.encode(_claims(**{claim: None}), SECRET, algorithm="HS256")

    assert _rejection(verifier, f"Bearer {token}") == "the token is not valid"


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("", "the token names no valid user"),
        ("x" * 129, "the token names no valid user"),
        ("line\nbreak", "the token names no valid user"),
        (42, "the token is not valid"),
    ],
    ids=["empty", "too-long", "unprintable", "not-a-string"],
)
def test_token_with_an_unusable_subject_is_rejected(
    verifier: TokenVerifier, subject: object, reason: str
):
    token = _token(sub=subject)

    assert _rejection(verifier, f"Bearer {token}") == reason


def test_subject_of_128_characters_is_accepted(verifier: TokenVerifier):
    subject = "x" * 128

    assert verifier.user_id(f"Bearer {verifier.issue(subject)}") == subject


def test_garbage_token_is_rejected(verifier: TokenVerifier):
    assert _rejection(verifier, "Bearer not.a.jwt") == "the token is not valid"
