"""Keyless access to Azure: one token credential per worker, used where no key is configured.

In Azure the app signs in as its user-assigned managed identity (``AZURE_CLIENT_ID``, else the
host storage's ``AzureWebJobsStorage__clientId``); on a developer's machine
``DefaultAzureCredential`` falls back to their ``az login``. Keys and connection strings, where
set (the local emulators), win over the identity.
"""

from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

from adapters.settings import Settings


def needs_identity(settings: Settings) -> bool:
    """Whether Cosmos DB or the queue is reached without a key, so a credential is needed."""
    return settings.cosmos_key is None or settings.storage_connection is None


def create_credential(settings: Settings) -> AsyncTokenCredential:
    """The worker's credential; its owner closes it on shutdown."""
    return DefaultAzureCredential(
        managed_identity_client_id=settings.azure_client_id or settings.storage_client_id,
        exclude_interactive_browser_credential=True,
    )
