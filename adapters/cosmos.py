"""Cosmos DB: the async client, the containers the app uses, and error translation."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.cosmos import PartitionKey
from azure.cosmos import exceptions as cosmos_errors
from azure.cosmos.aio import CosmosClient, DatabaseProxy

from adapters.settings import Settings
from domain.errors import ConcurrencyConflict, NotFound, StorageUnavailable

ROADMAPS = "roadmaps"
LESSONS = "lessons"
RESEARCH_CACHE = "research-cache"
LESSON_CACHE = "lesson-cache"
PROGRESS = "progress"
QUOTAS = "quotas"
# Container name → partition key path. Every learner document lives in its user's partition, so
# every read a learner makes is a single-partition operation; cached research is keyed by query.
# In Azure, infra/app/cosmos.bicep declares them (tests/infra checks that both agree); locally,
# devhost creates them from this table.
CONTAINERS: dict[str, str] = {
    ROADMAPS: "/userId",
    LESSONS: "/userId",
    PROGRESS: "/userId",
    QUOTAS: "/userId",
    RESEARCH_CACHE: "/id",
    LESSON_CACHE: "/id",
}
# Containers whose items expire by their own ``ttl`` field (-1: on, with no default expiry).
DEFAULT_TTL: dict[str, int] = {RESEARCH_CACHE: -1, QUOTAS: -1, LESSON_CACHE: -1}

# Status codes that may pass: throttled, timed out, or the service is (briefly) unavailable.
_TRANSIENT = {408, 429, 449, 500, 502, 503, 504}


def create_cosmos_client(
    settings: Settings, identity: AsyncTokenCredential | None = None
) -> CosmosClient:
    """One async client per worker; it pools connections and must be reused.

    It signs requests with ``COSMOS_KEY`` when one is set (the local emulator), else with
    ``identity`` (Entra ID: the account has local auth turned off in Azure).
    """
    if settings.cosmos_key is not None:
        credential: str | AsyncTokenCredential = settings.cosmos_key.get_secret_value()
    elif identity is not None:
        credential = identity
    else:
        raise ValueError("COSMOS_KEY is not set: a token credential is needed")
    return CosmosClient(
        settings.cosmos_endpoint,
        credential=credential,
        enable_endpoint_discovery=settings.cosmos_endpoint_discovery,
        timeout=settings.cosmos_timeout_seconds,
        connection_timeout=min(5.0, settings.cosmos_timeout_seconds),
    )


async def ensure_schema(client: CosmosClient, database: str) -> DatabaseProxy:
    """Create the database and containers if missing: the local host only (Azure uses infra/)."""
    db = await client.create_database_if_not_exists(database)
    for name, key_path in CONTAINERS.items():
        await db.create_container_if_not_exists(
            name, PartitionKey(path=key_path), default_ttl=DEFAULT_TTL.get(name)
        )
    return db


@contextmanager
def storage_errors(kind: str, resource_id: str) -> Iterator[None]:
    """Translate Cosmos SDK errors about one resource into the domain's error tree."""
    try:
        yield
    except cosmos_errors.CosmosResourceNotFoundError:
        raise NotFound(kind, resource_id) from None
    except cosmos_errors.CosmosAccessConditionFailedError as error:
        raise ConcurrencyConflict(f"{kind} {resource_id!r} changed since it was read") from error
    except cosmos_errors.CosmosHttpResponseError as error:
        if error.status_code in _TRANSIENT:
            raise StorageUnavailable(
                f"Cosmos DB answered {error.status_code}", retry_after=_retry_after(error)
            ) from error
        raise
    except (
        TimeoutError,
        ServiceRequestError,
        ServiceResponseError,
        cosmos_errors.CosmosClientTimeoutError,
    ) as error:
        raise StorageUnavailable(f"Cosmos DB is unreachable: {type(error).__name__}") from error


def _retry_after(error: cosmos_errors.CosmosHttpResponseError) -> float | None:
    headers: Any = getattr(error, "headers", None) or {}
    value = headers.get("x-ms-retry-after-ms")
    try:
        return float(value) / 1000 if value else None
    except ValueError:
        return None
