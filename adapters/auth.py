"""Bearer-token authentication: the caller is the token's ``sub``, nothing else."""

from datetime import timedelta

import jwt

from adapters.settings import Settings
from domain.base import utcnow

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]
# The user id becomes a Cosmos partition key value; keep it short and printable.
_MAX_SUBJECT = 128


class Unauthenticated(Exception):
    """The request carries no valid bearer token. The message is safe to show the caller."""


class TokenVerifier:
    """Verifies HS256 tokens signed with the development secret."""

    def __init__(
        self, secret: str, *, issuer: str, audience: str, leeway_seconds: int = 30
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> "TokenVerifier":
        """The verifier the settings describe."""
        return cls(
            settings.auth_jwt_secret.get_secret_value(),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )

    def user_id(self, authorization: str | None) -> str:
        """The ``sub`` of a valid ``Authorization: Bearer`` header, else ``Unauthenticated``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("a bearer token is required")
        try:
            claims = jwt.decode(
                token.strip(),
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the token is not valid") from None
        subject = claims["sub"]
        if (
            not isinstance(subject, str)
            or not 0 < len(subject) <= _MAX_SUBJECT
            or not subject.isprintable()
        ):
            raise Unauthenticated("the token names no valid user")
        return subject

    def issue(self, user_id: str, *, lifetime: timedelta = timedelta(hours=12)) -> str:
        """A signed token for ``user_id`` (development sign-in and tests)."""
        now = utcnow()
        claims = {
            "sub": user_id,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)
