"""Creating what the app expects to exist: the Cosmos database and containers, and the queues.

In Azure, infra/ declares these; locally they are created at every start, idempotently.
"""

import contextlib

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue.aio import QueueServiceClient

from adapters.cosmos import create_cosmos_client, ensure_schema
from adapters.settings import Settings
from devhost.functions import FunctionSpec


def queue_names(specs: list[FunctionSpec]) -> list[str]:
    """Every queue a queue trigger reads, and the poison queue beside it."""
    names = {str(spec.trigger["queueName"]) for spec in specs if spec.kind == "queue"}
    return sorted(names | {f"{name}-poison" for name in names if not name.endswith("-poison")})


async def provision(settings: Settings, queues: list[str]) -> None:
    """Create the database, containers and queues if they are missing."""
    async with create_cosmos_client(settings) as cosmos:
        await ensure_schema(cosmos, settings.cosmos_database)
    if settings.storage_connection is None:  # the emulators are reached with their dev keys
        raise RuntimeError("the local host needs AzureWebJobsStorage (a connection string)")
    connection = settings.storage_connection.get_secret_value()
    async with QueueServiceClient.from_connection_string(connection) as service:
        for name in queues:
            with contextlib.suppress(ResourceExistsError):
                await service.create_queue(name)
