"""Keyless mode: without keys, Cosmos DB and the queue are reached with the app's identity."""

from typing import cast

import pytest
from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential

from adapters.cosmos import create_cosmos_client
from adapters.identity import needs_identity
from adapters.queue import create_queue_client
from adapters.settings import Settings, settings_from

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
BASE = {
    "COSMOS_ENDPOINT": "https://skillsync.documents.azure.com:443/",
    "AUTH_JWT_SECRET": "s" * 40,
    "SWEEP_SCHEDULE": "0 */1 * * * *",
}
KEYS = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "COSMOS_KEY": "emulator-key"}
KEYLESS = {
    "AzureWebJobsStorage__accountName": "stskillsync01",
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": CLIENT_ID,
    "AZURE_CLIENT_ID": CLIENT_ID,
}


class Identity:
    """A token credential that hands out a fixed token (never asked here: no request is sent)."""

    async def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("token", 0)

    async def close(self) -> None:
        """Nothing to close."""


def _identity() -> AsyncTokenCredential:
    return cast(AsyncTokenCredential, Identity())


def _settings(values: dict[str, str]) -> Settings:
    return settings_from({**BASE, **values})


def test_keys_and_a_connection_string_need_no_identity():
    assert needs_identity(_settings(KEYS)) is False


@pytest.mark.parametrize("missing", ["AzureWebJobsStorage", "COSMOS_KEY"])
def test_either_key_missing_needs_an_identity(missing: str):
    values = {k: v for k, v in KEYS.items() if k != missing}
    if missing == "AzureWebJobsStorage":
        values |= {"AzureWebJobsStorage__accountName": "stskillsync01"}

    assert needs_identity(_settings(values)) is True


async def test_cosmos_signs_with_its_key_when_one_is_set():
    client = create_cosmos_client(_settings(KEYS), _identity())

    assert client.client_connection.master_key == "emulator-key"
    assert client.client_connection.aad_credentials is None
    await client.close()


async def test_cosmos_signs_with_the_identity_without_a_key():
    identity = _identity()
    client = create_cosmos_client(_settings(KEYLESS), identity)

    assert client.client_connection.master_key is None
    assert client.client_connection.aad_credentials is identity
    await client.close()


def test_cosmos_without_a_key_or_an_identity_is_refused():
    with pytest.raises(ValueError, match="COSMOS_KEY"):
        create_cosmos_client(_settings(KEYLESS))


async def test_the_queue_is_reached_by_account_name_with_the_identity():
    identity = _identity()
    client = create_queue_client(_settings(KEYLESS), "lesson-generation", identity)

    assert client.url == "https://stskillsync01.queue.core.windows.net/lesson-generation"
    assert client.credential is identity
    await client.close()


async def test_a_queue_service_uri_wins_over_the_account_name():
    values = {**KEYLESS, "AzureWebJobsStorage__queueServiceUri": "https://q.example.net"}

    client = create_queue_client(_settings(values), "lesson-generation", _identity())

    assert client.url == "https://q.example.net/lesson-generation"
    await client.close()


async def test_a_connection_string_wins_as_in_the_functions_host():
    values = {**KEYLESS, **KEYS}

    client = create_queue_client(_settings(values), "lesson-generation", _identity())

    assert client.account_name == "devstoreaccount1"
    assert client.credential is not None
    assert not isinstance(client.credential, Identity)
    await client.close()
