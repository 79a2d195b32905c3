"""The one error tree of the application.

    SkillSyncError
    ├── FinalError                 retrying the same work cannot help
    │   ├── NotFound               no such resource for this user
    │   ├── IllegalTransition      the state machine refuses a status change
    │   ├── ContentRejected        generated content failed validation
    │   ├── ProviderRejected       a provider refused the request (4xx); ``auth`` for 401/403/404
    │   └── InvalidMessage         a queue message we cannot read
    ├── QuotaExceeded              the learner asked for more than their allowance (429)
    └── RetryableError             the same work may succeed later
        ├── StorageUnavailable     Cosmos DB or the queue timed out, throttled or is down
        ├── ProviderUnavailable    an LLM provider failed (5xx, connection) and may recover
        │   ├── ProviderTimeout    it did not answer within the attempt's time
        │   └── ProviderRateLimited  429; ``retry_after`` says when to come back, if known
        └── ConcurrencyConflict    someone else changed the document first (etag mismatch)

HTTP functions map FinalError to 4xx and RetryableError to 503; the queue handler records a
FinalError on the lesson and raises a RetryableError so the queue redelivers the message.
"""


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


class ContentRejected(FinalError):
    """A provider's output is not a valid lesson (after any repair)."""


class InvalidMessage(FinalError):
    """A queue message is not a readable generation request."""


class StorageUnavailable(RetryableError):
    """Our own storage (Cosmos DB, Storage queues) failed in a way that may pass."""


class ProviderUnavailable(RetryableError):
    """An LLM provider failed in a way that may pass."""


class ConcurrencyConflict(RetryableError):
    """A conditional write lost a race: the stored document changed since it was read."""


class ProviderTimeout(ProviderUnavailable):
    """A provider did not answer within the time given to the attempt."""


class ProviderRateLimited(ProviderUnavailable):
    """A provider answered 429; ``retry_after`` (seconds) is when to try it again, if it said."""


class ProviderRejected(FinalError):
    """A provider refused the request itself. ``auth`` marks a configuration problem.

    401/403 (a bad or revoked key) and 404 (an unknown model) are configuration errors: the same
    provider will refuse every request until someone changes its settings.
    """

    def __init__(self, message: str, *, status: int, auth: bool) -> None:
        super().__init__(message)
        self.status = status
        self.auth = auth
