"""No template grants or uses a key or connection string for Storage or Cosmos DB: local
authentication is off everywhere, the app runs as its identity, and only least-privilege roles
are granted.
"""

import re

import pytest

from tests.infra.bicep import BICEP_FILES, INFRA, ROOT, Template, only

# The only roles granted: queue and blob data, Key Vault secrets, metrics, Cosmos DB data, Web
# PubSub data plane.
GRANTED_ROLES = {
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer (the developer only)",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "00000000-0000-0000-0000-000000000002": "Cosmos DB Built-in Data Contributor",
    "12cf5a90-567b-43ae-8102-96cf46c7d9b4": "Web PubSub Service Owner",
}
# Anything that would hand out or use a key or connection string for Storage or Cosmos DB.
KEY_PATTERNS = [
    r"listKeys\(",
    r"listConnectionStrings\(",
    r"AccountKey=",
    r"AccountEndpoint=",
    r"DefaultEndpointsProtocol",
    r"COSMOS_KEY",
    r"primaryMasterKey",
    r"\bAzureWebJobsStorage\s*:",
]


@pytest.mark.parametrize("pattern", KEY_PATTERNS)
def test_no_template_uses_a_storage_or_cosmos_key(pattern: str) -> None:
    for path in [*BICEP_FILES, INFRA / "main.parameters.json"]:
        match = re.search(pattern, path.read_text())
        assert match is None, f"{path.relative_to(ROOT)}: {match and match.group(0)}"


def test_the_only_connection_string_is_application_insights() -> None:
    for path in BICEP_FILES:
        for line in path.read_text().splitlines():
            if re.search("connection_?string", line, re.IGNORECASE):
                assert re.search("insights", line, re.IGNORECASE), f"{path.name}: {line.strip()}"


def test_local_authentication_is_off(templates: dict[str, Template]) -> None:
    storage = only(templates["core/storage.bicep"], "Microsoft.Storage/storageAccounts")
    assert storage["properties"]["allowSharedKeyAccess"] is False
    assert storage["properties"]["allowBlobPublicAccess"] is False
    assert storage["properties"]["minimumTlsVersion"] == "TLS1_2"
    assert storage["properties"]["supportsHttpsTrafficOnly"] is True
    cosmos = only(templates["core/cosmos.bicep"], "Microsoft.DocumentDB/databaseAccounts")
    assert cosmos["properties"]["disableLocalAuth"] is True
    assert cosmos["properties"]["disableKeyBasedMetadataWriteAccess"] is True
    assert {"name": "EnableServerless"} in cosmos["properties"]["capabilities"]
    insights = only(templates["core/monitoring.bicep"], "Microsoft.Insights/components")
    assert insights["properties"]["DisableLocalAuth"] is True
    vault = only(templates["core/keyvault.bicep"], "Microsoft.KeyVault/vaults")
    assert vault["properties"]["enableRbacAuthorization"] is True
    pubsub = only(templates["core/webpubsub.bicep"], "Microsoft.SignalRService/webPubSub")
    assert pubsub["properties"]["disableLocalAuth"] is True
    assert pubsub["properties"]["disableAadAuth"] is False


def test_only_least_privilege_roles_are_granted() -> None:
    guid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    used = {match for path in BICEP_FILES for match in guid.findall(path.read_text())}
    assert used == set(GRANTED_ROLES), f"unexpected: {used - set(GRANTED_ROLES)}"


def test_function_app_runs_on_flex_consumption_as_its_identity(
    templates: dict[str, Template],
) -> None:
    app = templates["app/functionapp.bicep"]
    plan = only(app, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    site = only(app, "Microsoft.Web/sites")
    assert site["kind"] == "functionapp,linux"
    assert site["identity"]["type"] == "UserAssigned"
    properties = site["properties"]
    assert properties["httpsOnly"] is True
    assert properties["siteConfig"]["minTlsVersion"] == "1.2"
    assert properties["siteConfig"]["ftpsState"] == "Disabled"
    config = properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    scale = config["scaleAndConcurrency"]
    assert scale["maximumInstanceCount"] == "maximumInstanceCount"
    assert scale["instanceMemoryMB"] == "instanceMemoryMB"
    assert scale["triggers"]["http"]["perInstanceConcurrency"] == "httpPerInstanceConcurrency"
    assert properties["keyVaultReferenceIdentity"] == "identityId"
