"""Reading pycep-parser's JSON form of the Bicep templates under infra/.

pycep keeps expressions as trees: a call is ``{"function": {...}}``, an operator (including
``-1`` and ``a.b``) is ``{"operator": {...}}``, and a reference to a parameter or variable is
its bare name as a string, as is a string literal.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
Template = dict[str, Any]


def parse(path: Path) -> Template:
    """The template as pycep's JSON; raises on a syntax error."""
    return cast(Template, BicepParser().parse(text=path.read_text()))


def body(resource: Template) -> Template:
    """A resource's own properties, also for a loop or a conditional resource."""
    config: Template = resource["config"]
    return config["config"] if "loop_type" in config or "condition" in config else config


def resources(template: Template, kind: str) -> list[Template]:
    """The bodies of the template's resources of one type (``Microsoft.Web/sites``)."""
    found = template.get("resources", {}).values()
    return [body(resource) for resource in found if resource["type"] == kind]


def only(template: Template, kind: str) -> Template:
    """The body of the template's single resource of that type."""
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def module_params(main: Template, path: str) -> Template:
    """The parameters main.bicep passes to the module at ``path``."""
    for module in main["modules"].values():
        if module["detail"]["path"] == path:
            params: Template = module["config"]["params"]
            return params
    raise AssertionError(f"main.bicep does not use {path}")


def unquoted(value: Template) -> Template:
    """An object literal with its keys as written, less quotes (``'azd-service-name'``)."""
    return {key.strip("'"): item for key, item in value.items()}


def literal(value: Any) -> Any:
    """A Bicep literal as Python (pycep writes -1 as a minus operator)."""
    if isinstance(value, dict) and set(value) == {"operator"}:
        operator = value["operator"]
        if operator["type"] == "minus":
            return -literal(operator["operands"]["integer_value"])
    return value


def conditional_secrets(main: Template) -> Iterator[tuple[str, str, str]]:
    """(parameter, app setting, secret) for each ``empty(p) ? {} : { SETTING: 'secret' }``."""
    union = main["variables"]["secretSettings"]["value"]["function"]["parameters"]
    for argument in union.values():
        operands = argument["operator"]["operands"]
        parameter = operands["condition"]["function"]["parameters"]["item_to_test"]
        assert operands["true_value"] == {}, f"{parameter}: the setting must be absent when empty"
        ((setting, secret),) = operands["false_value"].items()
        yield parameter, setting, secret


def app_settings(templates: dict[str, Template]) -> dict[str, Any]:
    """Every app setting the templates can give the function app: name → value expression."""
    main = templates["main.bicep"]
    host = templates["app/functionapp.bicep"]["variables"]["hostSettings"]["value"]
    settings = {**host, **module_params(main, "app/functionapp.bicep")["appSettings"]}
    for _, setting, secret in conditional_secrets(main):
        settings[setting] = f"@Microsoft.KeyVault(SecretName={secret})"
    return settings
