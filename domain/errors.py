"""The one error tree of the application: every error raised to a trigger is one of these.

    SkillSyncError                       HTTP
    ├── FinalError                              retrying the same work cannot help
    │   ├── MalformedRequest             400    the body is not JSON
    │   ├── Unauthenticated              401    no valid bearer token
    │   ├── NotFound                     404    no such resource for this user
    │   ├── IllegalTransition            409    the state machine refuses a status change
    │   ├── EditRefused                  409    a roadmap edit the roadmap cannot take now
    │   ├── PreconditionFailed           412    If-Match names a version that is not current
    │   ├── RequestTooLarge              413    the body is over the limit
    │   ├── InvalidRequest               422    fields are invalid; ``errors`` names each
    │   ├── PreconditionRequired         428    an edit came without If-Match
    │   ├── ContentRejected              502    generated content failed validation
    │   │   └── NoValidAnswer            502    every provider answered, none validly
    │   └── ProviderRejected             502    a provider refused the request (4xx)
    ├── QuotaExceeded                    429    the learner's allowance is used up for now
    └── RetryableError                   503    the same work may succeed later (Retry-After)
        ├── StorageUnavailable                  Cosmos DB or the queue timed out, throttled, down
        ├── IdentityProviderUnavailable         the token's signing keys cannot be fetched now
        ├── ConcurrencyConflict                 someone else changed the document first
        └── ProviderUnavailable                 an LLM provider failed (5xx, connection)
            ├── ProviderTimeout                 it did not answer within the attempt's time
            ├── ProviderRateLimited             429; ``retry_after`` says when, if known
            └── NoProviderSucceeded             every provider failed or was resting

HTTP functions answer with the status in ``HTTP_STATUS`` (the nearest class listed wins); the
queue handler records a FinalError on the lesson and raises a RetryableError so the queue
redelivers the message. Messages of errors below ``FinalError`` and of ``QuotaExceeded`` are safe
to show a caller; retryable errors are answered with a generic text and logged.
"""

from collections.abc import Sequence
from typing import Any


class SkillSyncError(Exception):
    """Base of every error the application raises on purpose."""


class FinalError(SkillSyncError):
    """Retrying the same work cannot succeed."""


class RetryableError(SkillSyncError):
    """The same work may succeed if tried again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceeded(SkillSyncError):
    """A learner's allowance for a kind of request is used up until ``retry_after`` seconds."""

    def __init__(self, kind: str, limit: int, retry_after: float) -> None:
        super().__init__(f"the limit of {limit} {kind} is reached; try again later")
        self.kind = kind
        self.limit = limit
        self.retry_after = retry_after


class MalformedRequest(FinalError):
    """The request body is not readable JSON."""


class RequestTooLarge(FinalError):
    """The request body is larger than the limit."""


class InvalidRequest(FinalError):
    """Fields of a request are invalid; ``errors`` holds ``{field, message}`` for each."""

    def __init__(self, message: str, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class Unauthenticated(FinalError):
    """The request carries no valid bearer token. The message is safe to show the caller."""


class NotFound(FinalError):
    """The resource does not exist, or belongs to another user (we do not tell which)."""

    def __init__(self, kind: str, resource_id: str) -> None:
        super().__init__(f"{kind} {resource_id!r} was not found")
        self.kind = kind
        self.resource_id = resource_id


class IllegalTransition(FinalError):
    """A lesson was asked to move to a status its current status cannot reach."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a lesson cannot go from {current!r} to {target!r}")
        self.current = current
        self.target = target


class EditRefused(FinalError):
    """A roadmap edit that the roadmap cannot take as it is (full, or it would leave it empty,
    or it names a lesson being written). The message is safe to show the caller."""


class PreconditionFailed(FinalError):
    """An edit named a version of the roadmap (``If-Match``) that is no longer the current one,
    or lost the race to another edit: read the roadmap again and decide anew."""


class PreconditionRequired(FinalError):
    """An edit did not say which version of the roadmap it was made against (``If-Match``)."""


class ContentRejected(FinalError):
    """A provider's output is not a valid lesson (after any repair)."""


class ProviderRejected(FinalError):
    """A provider refused the request itself. ``auth`` marks a configuration problem.

    401/403 (a bad or revoked key) and 404 (an unknown model) are configuration errors: the same
    provider will refuse every request until someone changes its settings.
    """

    def __init__(self, message: str, *, status: int, auth: bool) -> None:
        super().__init__(message)
        self.status = status
        self.auth = auth


class StorageUnavailable(RetryableError):
    """Our own storage (Cosmos DB, Storage queues) failed in a way that may pass."""


class IdentityProviderUnavailable(RetryableError):
    """The identity provider's keys could not be fetched, so no token can be checked now."""


class ConcurrencyConflict(RetryableError):
    """A conditional write lost a race: the stored document changed since it was read."""


class ProviderUnavailable(RetryableError):
    """An LLM provider failed in a way that may pass."""


class ProviderTimeout(ProviderUnavailable):
    """A provider did not answer within the time given to the attempt."""


class ProviderRateLimited(ProviderUnavailable):
    """A provider answered 429; ``retry_after`` (seconds) is when to try it again, if it said."""


class NoProviderSucceeded(ProviderUnavailable):
    """Every provider failed, timed out or was resting; the work may succeed later.

    ``attempts`` is the chain's trail (``ProviderAttempt`` records).
    """

    def __init__(
        self, message: str, attempts: Sequence[Any], *, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.attempts = list(attempts)


class NoValidAnswer(ContentRejected):
    """Providers answered, but none with valid content even after a repair request."""

    def __init__(self, message: str, attempts: Sequence[Any]) -> None:
        super().__init__(message)
        self.attempts = list(attempts)


# The HTTP status of each kind of error; a class not listed takes its nearest listed ancestor's.
HTTP_STATUS: dict[type[SkillSyncError], int] = {
    MalformedRequest: 400,
    Unauthenticated: 401,
    NotFound: 404,
    IllegalTransition: 409,
    EditRefused: 409,
    PreconditionFailed: 412,
    RequestTooLarge: 413,
    InvalidRequest: 422,
    PreconditionRequired: 428,
    QuotaExceeded: 429,
    ContentRejected: 502,
    ProviderRejected: 502,
    RetryableError: 503,
}


def http_status(error: SkillSyncError) -> int:
    """The status an HTTP function answers ``error`` with (500 for the bare base class)."""
    for kind in type(error).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return 500
