"""infra/ against the code: the templates parse, hang together, and declare what the code uses
(containers, indexes, queues, app settings). No Bicep CLI or Azure call: every check reads files.
"""

import ast
import json
import re
from pathlib import Path

import pytest

from adapters.cosmos import CONTAINERS, DEFAULT_TTL
from adapters.queue import LESSON_GENERATION_POISON_QUEUE, LESSON_GENERATION_QUEUE
from adapters.settings import PRODUCTION_SETTINGS, Settings, env_names
from tests.infra.bicep import (
    BICEP_FILES,
    INFRA,
    ROOT,
    Template,
    app_settings,
    conditional_secrets,
    literal,
    module_params,
    only,
    parse,
    resources,
    unquoted,
)

# Settings the Functions host, the Python worker or an SDK reads, rather than (or as well as)
# adapters/settings.py.
HOST_SETTINGS = {
    "AzureWebJobsStorage__accountName": "the host's identity-based storage (triggers, timers)",
    "AzureWebJobsStorage__credential": "the host: 'managedidentity' selects the app's identity",
    "AzureWebJobsStorage__clientId": "the host: which user-assigned identity that is",
    "AZURE_CLIENT_ID": "azure-identity's DefaultAzureCredential: the identity to sign in as",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "the host: where its telemetry goes",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "the host: Entra ID ingestion (local auth is off)",
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": "the Python worker: sends its own telemetry",
    "OTEL_SERVICE_NAME": "the OpenTelemetry SDK: service.name, the worker's cloud_RoleName",
    "OTEL_TRACES_SAMPLER": "azure-monitor-opentelemetry: which sampler (rate-limited)",
    "OTEL_TRACES_SAMPLER_ARG": "azure-monitor-opentelemetry: traces kept per second",
}
# Flex Consumption refuses these (the runtime is in functionAppConfig).
REFUSED_SETTINGS = {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION"}
# Large bodies nothing queries: indexing them would only make writes dearer.
LARGE_BODIES = {
    "lessons": {"/content/*", "/sources/*", "/attempts/*", "/usage/*"},
    "research-cache": {"/findings/*"},
    "lesson-cache": {"/content/*", "/sources/*"},
}


def code_settings() -> tuple[set[str], set[str]]:
    """(every variable adapters/settings.py reads, those a production deployment must set)."""
    names = env_names()
    required = {names[name] for name, field in Settings.model_fields.items() if field.is_required()}
    return set(names.values()), required | set(PRODUCTION_SETTINGS)


def binding_settings() -> set[str]:
    """App settings the host resolves into trigger bindings (``schedule="%SWEEP_SCHEDULE%"``)."""
    pattern = re.compile(r"[\"']%([A-Za-z_]\w*)%[\"']")
    return {
        name
        for path in (ROOT / "functions").rglob("*.py")
        for name in pattern.findall(path.read_text())
    }


def queried_paths() -> set[str]:
    """Document paths the app's Cosmos DB queries filter or sort on (``lease.expiresAt``)."""
    path = re.compile(r"(?<![\w.])c\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
    projection = re.compile(r"SELECT\s.*?\sFROM\s+c\b", re.DOTALL | re.IGNORECASE)
    found = set()
    for source in (ROOT / "adapters").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found |= set(path.findall(projection.sub("", node.value)))
    return found


def excludes(excluded: str, document_path: str) -> bool:
    """Whether an indexing policy's excluded path (``/content/*``, ``/lastError/?``) covers it."""
    segments = document_path.split(".")
    parts = excluded.strip("/").split("/")
    if parts[-1] == "*":
        return segments[: len(parts) - 1] == parts[:-1]
    return parts[-1] == "?" and segments == parts[:-1]


# --- the templates parse and hang together -------------------------------------------------


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda path: path.relative_to(INFRA).as_posix())
def test_every_bicep_file_parses(path: Path) -> None:
    parse(path)


def test_main_uses_every_module_and_each_exists(templates: dict[str, Template]) -> None:
    used = {module["detail"]["path"] for module in templates["main.bicep"]["modules"].values()}
    declared = set(templates) - {"main.bicep"}
    assert used == declared, f"unused modules: {declared - used}; missing: {used - declared}"


def test_parameters_file_matches_main(templates: dict[str, Template]) -> None:
    parameters = templates["main.bicep"]["parameters"]
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(given) <= set(parameters), (
        f"not parameters of main.bicep: {set(given) - set(parameters)}"
    )
    required = {name for name, p in parameters.items() if p["default"] is None}
    assert required <= set(given), f"main.parameters.json does not map {required - set(given)}"
    for name, parameter in parameters.items():
        kinds = {decorator["type"] for decorator in parameter["decorators"]}
        assert "description" in kinds, f"parameter {name} has no @description"


def test_azd_finds_the_function_app_by_its_service_name(templates: dict[str, Template]) -> None:
    azure_yaml = (ROOT / "azure.yaml").read_text()
    assert re.search(r"^services:\n  api:\n(    .*\n)*    host: function$", azure_yaml, re.M)
    assert re.search(r"^    language: python$", azure_yaml, re.M)
    assert module_params(templates["main.bicep"], "app/functionapp.bicep")["serviceName"] == "api"
    site = only(templates["app/functionapp.bicep"], "Microsoft.Web/sites")
    tags = unquoted(site["tags"]["function"]["parameters"]["arg_2"])
    assert tags == {"azd-service-name": "serviceName"}


def test_outputs_azd_stores(templates: dict[str, Template]) -> None:
    outputs = set(templates["main.bicep"]["outputs"])
    expected = {
        "API_URL",
        "AZURE_FUNCTION_APP_NAME",
        "COSMOS_ENDPOINT",
        "AZURE_KEY_VAULT_NAME",
        "AZURE_STORAGE_ACCOUNT_NAME",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
    }
    assert expected <= outputs, f"missing outputs: {expected - outputs}"
    assert templates["main.bicep"]["outputs"]["API_URL"]["value"].endswith("/api")


# --- the templates declare what the code uses ----------------------------------------------


def test_containers_match_the_code(templates: dict[str, Template]) -> None:
    declared = templates["app/database.bicep"]["variables"]["containers"]["value"]
    by_name = {container["name"]: container for container in declared}
    assert set(by_name) == set(CONTAINERS), "containers differ from adapters/cosmos.py CONTAINERS"
    for name, key_path in CONTAINERS.items():
        assert by_name[name]["partitionKey"] == key_path, f"{name}: partition key"
        assert literal(by_name[name].get("defaultTtl")) == DEFAULT_TTL.get(name), f"{name}: TTL"


def test_queried_paths_stay_indexed_and_large_bodies_do_not(
    templates: dict[str, Template],
) -> None:
    queried = queried_paths()
    assert {"userId", "generationStatus", "lease.expiresAt", "createdAt"} <= queried, queried
    declared = templates["app/database.bicep"]["variables"]["containers"]["value"]
    for container in declared:
        excluded = {entry["path"] for entry in container["excludedPaths"]}
        for document_path in sorted(queried):
            covering = [path for path in excluded if excludes(path, document_path)]
            assert not covering, f"{container['name']}: {document_path} is queried but {covering}"
        assert LARGE_BODIES.get(container["name"], set()) <= excluded, container["name"]
    (sql_containers,) = resources(
        templates["app/database.bicep"],
        "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers",
    )
    policy = sql_containers["properties"]["resource"]["function"]["parameters"]["arg_1"]
    assert policy["indexingPolicy"]["includedPaths"] == [{"path": "/*"}]


def test_queues_match_the_code(templates: dict[str, Template]) -> None:
    queues = module_params(templates["main.bicep"], "core/storage.bicep")["queueNames"]
    assert queues == [LESSON_GENERATION_QUEUE, LESSON_GENERATION_POISON_QUEUE]


def test_every_setting_production_needs_is_set(templates: dict[str, Template]) -> None:
    _, required = code_settings()
    missing = (required | binding_settings()) - set(app_settings(templates))
    assert not missing, f"the code needs these in Azure but infra/ does not set them: {missing}"


def test_every_app_setting_is_read_by_something(templates: dict[str, Template]) -> None:
    read, _ = code_settings()
    unread = set(app_settings(templates)) - read - binding_settings() - set(HOST_SETTINGS)
    assert not unread, f"infra/ sets these but nothing reads them: {unread}"


def test_production_values(templates: dict[str, Template]) -> None:
    settings = app_settings(templates)
    assert settings["AUTH_DEV_TOKENS"] == "false"
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"].endswith(";Authorization=AAD")
    assert not REFUSED_SETTINGS & set(settings), "Flex Consumption refuses these"


def test_a_key_setting_exists_only_with_its_secret(templates: dict[str, Template]) -> None:
    main = templates["main.bicep"]
    stored = unquoted(module_params(main, "core/keyvault.bicep")["secrets"])
    read, _ = code_settings()
    found = list(conditional_secrets(main))
    assert len(found) == 6, found
    for parameter, setting, secret in found:
        assert stored.get(secret) == parameter, f"{setting}: secret {secret} is not {parameter}"
        assert setting in read, f"{setting} is not a setting the app reads"
        assert "secure" in {d["type"] for d in main["parameters"][parameter]["decorators"]}
    # The secrets created and the references set come from the same table, secretSettings.
    assert "secretSettings" in json.dumps(main["variables"]["secretNames"])
    assert module_params(main, "core/keyvault.bicep")["secretNames"] == "secretNames"
    app = module_params(main, "app/functionapp.bicep")
    assert app["keyVaultSecretSettings"] == "secretSettings"
