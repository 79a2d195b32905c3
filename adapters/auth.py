"""Bearer-token authentication: the caller is the token's ``sub``, nothing else.

Two kinds of token, told apart by the header's ``alg`` before anything is verified:

- ``HS256``: development tokens signed with ``AUTH_JWT_SECRET`` (``python -m devhost token``),
  accepted only while development tokens are on (``Settings.dev_tokens``). They carry their own
  issuer and audience (``DEV_ISSUER``, ``DEV_AUDIENCE``), never the identity provider's, so a
  token signed with a leaked secret cannot pass for a production token;
- ``RS256``: Microsoft Entra ID / B2C tokens, verified with the key their ``kid`` names in the
  ``AUTH_JWKS_URL`` key set (``adapters/jwks.py``), accepted only when that URL is configured.

Every other ``alg`` is refused, and each kind is decoded with exactly one allowed algorithm, so an
HS256 token "signed" with the RSA public key (algorithm confusion) or ``alg: none`` gets nowhere.
"""

import logging
from datetime import timedelta
from typing import Any

import httpx
import jwt

from adapters.jwks import JwksCache, JwksUnavailable, UnknownKey
from adapters.settings import Settings
from domain.base import utcnow
from domain.errors import IdentityProviderUnavailable, Unauthenticated

log = logging.getLogger(__name__)

DEV_ALGORITHM = "HS256"
IDP_ALGORITHM = "RS256"
_REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]
DEV_ISSUER = "skillsync-dev"
DEV_AUDIENCE = "skillsync-dev"
# The user id becomes a Cosmos partition key value; keep it short and printable.
_MAX_SUBJECT = 128
# Entra tokens are a few kilobytes; a header far larger is not worth parsing.
_MAX_TOKEN = 16 * 1024
_MAX_KID = 256

_REQUIRED = "a bearer token is required"
_INVALID = "the token is not valid"


class DevTokensDisabled(RuntimeError):
    """Development tokens were asked for, but no development secret is in use."""


class TokenVerifier:
    """Verifies bearer tokens: HS256 with the development secret, RS256 with the JWKS keys.

    Args:
        secret: The HS256 development secret, or ``None`` to refuse HS256 tokens.
        issuer: The required ``iss`` of RS256 tokens (HS256 ones need ``DEV_ISSUER``).
        audience: The required ``aud`` of RS256 tokens (HS256 ones need ``DEV_AUDIENCE``).
        jwks: The identity provider's keys, or ``None`` to refuse RS256 tokens.
        leeway_seconds: Clock skew allowed on ``exp``, ``nbf`` and ``iat``.
        max_lifetime_seconds: Longest ``exp - iat`` accepted: a stolen token must not work for
            years, whoever signed it.
    """

    def __init__(
        self,
        secret: str | None,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        jwks: JwksCache | None = None,
        leeway_seconds: int = 30,
        max_lifetime_seconds: float = 86_400,
    ) -> None:
        self._secret = secret
        if jwks is not None and (not issuer or not audience):
            raise ValueError("RS256 tokens need a required issuer and audience")
        self._issuer = issuer
        self._audience = audience
        self._jwks = jwks
        self._leeway = leeway_seconds
        self._max_lifetime = max_lifetime_seconds

    @classmethod
    def from_settings(
        cls, settings: Settings, http: httpx.AsyncClient | None = None
    ) -> "TokenVerifier":
        """The verifier the settings describe; ``http`` fetches the JWKS, if one is configured."""
        jwks = None
        if settings.auth_jwks_url is not None:
            if http is None:
                raise ValueError("AUTH_JWKS_URL is set: an HTTP client is needed to fetch its keys")
            jwks = JwksCache(settings.auth_jwks_url, http)
        return cls(
            dev_secret(settings),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            jwks=jwks,
            max_lifetime_seconds=settings.auth_max_token_lifetime_seconds,
        )

    async def user_id(self, authorization: str | None) -> str:
        """The ``sub`` of a valid ``Authorization: Bearer`` header, else ``Unauthenticated``."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(_REQUIRED)
        if len(token) > _MAX_TOKEN or not token.isascii():  # a JWS is base64url and dots
            raise Unauthenticated(_INVALID)
        algorithm, key = await self._key_for(token)
        return _subject(self._decode(token, key, algorithm))

    async def _key_for(self, token: str) -> tuple[str, str | jwt.PyJWK]:
        """The one algorithm and key that may verify ``token``, chosen by its header."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated(_INVALID) from None
        algorithm = header.get("alg")
        if algorithm == DEV_ALGORITHM and self._secret is not None:
            return algorithm, self._secret
        if algorithm == IDP_ALGORITHM and self._jwks is not None:
            kid = header.get("kid")
            if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID:
                raise Unauthenticated(_INVALID)
            try:
                return algorithm, await self._jwks.get(kid)
            except UnknownKey:
                raise Unauthenticated(_INVALID) from None
            except JwksUnavailable as error:  # not the caller's fault: a 503 to retry
                raise IdentityProviderUnavailable(
                    f"the identity provider's keys are unavailable: {error}", retry_after=5
                ) from None
        raise Unauthenticated(_INVALID)

    def _decode(self, token: str, key: str | jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        development = algorithm == DEV_ALGORITHM
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=DEV_ISSUER if development else self._issuer,
                audience=DEV_AUDIENCE if development else self._audience,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet") from None
        except jwt.PyJWTError as error:  # the reason, never the token, for whoever debugs
            log.debug("rejected a %s token: %s", algorithm, type(error).__name__)
            raise Unauthenticated(_INVALID) from None
        lifetime = _number(claims["exp"]) - _number(claims["iat"])
        if lifetime > self._max_lifetime + self._leeway:
            raise Unauthenticated("the token lives longer than this API accepts")
        return claims

    def issue(self, user_id: str, *, lifetime: timedelta = timedelta(hours=12)) -> str:
        """A signed development token for ``user_id`` (``devhost token`` and tests)."""
        if self._secret is None:
            raise DevTokensDisabled(
                "development tokens are off: set AUTH_JWT_SECRET (and leave AUTH_DEV_TOKENS on)"
            )
        now = utcnow()
        claims = {
            "sub": user_id,
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=DEV_ALGORITHM)


def _number(value: Any) -> float:
    """A NumericDate claim (PyJWT has checked ``exp`` and ``iat`` are numbers)."""
    return float(value)


def dev_secret(settings: Settings) -> str | None:
    """The HS256 secret while development tokens are on, else ``None``."""
    if not settings.dev_tokens or settings.auth_jwt_secret is None:
        return None
    return settings.auth_jwt_secret.get_secret_value()


def _subject(claims: dict[str, Any]) -> str:
    subject = claims["sub"]
    if (
        not isinstance(subject, str)
        or not 0 < len(subject) <= _MAX_SUBJECT
        or not subject.isprintable()
    ):
        raise Unauthenticated("the token names no valid user")
    return subject
