"""infra/ against domain/telemetry.py: the alerts and the workbook watch the metrics the app
reports, their thresholds are parameters, and host.json and the app settings turn on
OpenTelemetry as the Functions docs require for Python.
"""

import json
import re
from typing import Any

import pytest

from domain import telemetry
from tests.infra.bicep import INFRA, ROOT, Template, app_settings, module_params, only, resources

# Alert rule (its name after the prefix) → the metrics or table its query must read.
ALERTS = {
    "failed-lessons": {telemetry.LESSONS_FAILED, telemetry.LESSONS_COMPLETED},
    "poisoned-lessons": {telemetry.LESSONS_POISONED},
    "slow-lessons": {telemetry.TIME_TO_LESSON},
    "fallback-ratio": {telemetry.LESSON_FALLBACKS, telemetry.LESSONS_COMPLETED},
    "http-5xx": {"requests"},
}
# main.bicep parameter → (alerts.bicep parameter, default).
THRESHOLDS = {
    "alertFailedLessonPercent": ("failedLessonPercentThreshold", 20),
    "alertTimeToLessonP95Ms": ("timeToLessonP95ThresholdMs", 60000),
    "alertFallbackPercent": ("fallbackPercentThreshold", 50),
    "alertServerErrorPercent": ("serverErrorPercentThreshold", 5),
}
# What the workbook shows: the pipeline from request to lesson, and its cost.
WORKBOOK_METRICS = {
    telemetry.QUEUE_WAIT,
    telemetry.QUEUE_DEPTH,
    telemetry.LESSONS_COMPLETED,
    telemetry.LESSONS_FAILED,
    telemetry.LESSONS_POISONED,
    telemetry.LESSON_FALLBACKS,
    telemetry.GENERATION_DURATION,
    telemetry.TIME_TO_LESSON,
    telemetry.SWEEPER_REPAIRS,
    telemetry.PROVIDER_TOKENS,
}
INTERPOLATION = re.compile(r"\$\{(\w+)\}")


def expand(template: Template, value: str) -> str:
    """A string with every ``${variable}`` replaced by that variable's (string) value; a bare
    variable name (pycep's form of a reference) by its value."""
    variables = template["variables"]
    if value in variables and isinstance(variables[value]["value"], str):
        return expand(template, variables[value]["value"])

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables and isinstance(variables[name]["value"], str):
            return expand(template, variables[name]["value"])
        return match.group(0)  # a parameter: its value is only known at deployment

    return INTERPOLATION.sub(one, value).replace("\\n", "\n")  # Bicep's '\n' escape


def source_table(query: str) -> str:
    """The table a query starts from, after its ``let`` statements."""
    body = re.sub(r"^\s*(let\s[^;]*;\s*)*", "", query)
    return body.split("\n", 1)[0].strip()


def alert_rules(template: Template) -> dict[str, dict[str, Any]]:
    """The rules table of alerts.bicep by key, with each query's variables expanded."""
    rules = template["variables"]["rules"]["value"]
    return {rule["key"]: {**rule, "query": expand(template, rule["query"])} for rule in rules}


def workbook_items() -> list[dict[str, Any]]:
    """The workbook's items, as workbook.json declares them."""
    content = json.loads((INFRA / "app" / "workbook.json").read_text())
    items: list[dict[str, Any]] = content["items"]
    return items


def test_host_json_turns_on_opentelemetry_for_the_python_worker(
    templates: dict[str, Template],
) -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["telemetryMode"] == "OpenTelemetry"
    settings = app_settings(templates)
    assert settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    assert settings["OTEL_TRACES_SAMPLER"] == "microsoft.rate_limited"
    assert settings["OTEL_TRACES_SAMPLER_ARG"] == "traceSamplesPerSecond"


def test_every_alert_is_a_log_alert_on_application_insights(
    templates: dict[str, Template],
) -> None:
    alerts = templates["app/alerts.bicep"]
    (rule,) = resources(alerts, "Microsoft.Insights/scheduledQueryRules")
    assert rule["kind"] == "LogAlert"
    assert rule["properties"]["scopes"] == ["applicationInsightsId"]
    assert rule["properties"]["actions"]["actionGroups"], "alerts notify the action group"
    params = module_params(templates["main.bicep"], "app/alerts.bicep")
    assert "applicationInsightsId" in json.dumps(params["applicationInsightsId"])
    assert "monitoring" in json.dumps(params["applicationInsightsId"])


@pytest.mark.parametrize("key", sorted(ALERTS))
def test_each_alert_queries_the_metric_it_watches(templates: dict[str, Template], key: str) -> None:
    rule = alert_rules(templates["app/alerts.bicep"])[key]
    for name in ALERTS[key]:
        assert re.search(rf"(^|\W){re.escape(name)}(\W|$)", rule["query"]), f"{key}: {name}"
    table = "requests" if ALERTS[key] == {"requests"} else "customMetrics"
    assert source_table(rule["query"]) == table, f"{key}: reads {table}"
    assert rule["measure"] in rule["query"], f"{key}: the query yields {rule['measure']}"
    assert "${" not in rule["query"].replace("${minimumLessons}", "").replace(
        "${minimumRequests}", ""
    ), f"{key}: unresolved interpolation"


def test_alert_thresholds_are_parameters_main_passes_on(templates: dict[str, Template]) -> None:
    alerts = templates["app/alerts.bicep"]
    rules = alert_rules(alerts)
    assert set(rules) == set(ALERTS)
    assert rules["poisoned-lessons"]["threshold"] == 0, "any poisoned lesson alerts"
    thresholds = {rule["threshold"] for key, rule in rules.items() if key != "poisoned-lessons"}
    assert thresholds == {inner for inner, _ in THRESHOLDS.values()}
    assert thresholds <= set(alerts["parameters"])
    main = templates["main.bicep"]
    passed = module_params(main, "app/alerts.bicep")
    for outer, (inner, default) in THRESHOLDS.items():
        assert passed[inner] == outer, f"{inner} is not main.bicep's {outer}"
        assert main["parameters"][outer]["default"] == default, outer
    assert main["parameters"]["alertEmail"]["default"] == ""


def test_workbook_shows_every_pipeline_metric_and_requests() -> None:
    queries = "\n".join(item["content"]["query"] for item in workbook_items() if item["type"] == 3)
    for name in sorted(WORKBOOK_METRICS):
        assert f'"{name}"' in queries, f"the workbook does not show {name}"
    assert re.search(r"^requests$", queries, re.M), "the workbook does not show requests"
    assert 'customDimensions["skillsync.provider"]' in queries
    assert 'customDimensions["skillsync.direction"]' in queries


def test_workbook_is_a_shared_workbook_named_by_a_deterministic_guid(
    templates: dict[str, Template],
) -> None:
    template = templates["app/workbook.bicep"]
    workbook = only(template, "Microsoft.Insights/workbooks")
    assert workbook["kind"] == "shared"
    assert workbook["name"]["function"]["type"] == "guid"
    content = template["variables"]["content"]["value"]["function"]["parameters"]
    assert content["original_string"]["function"]["parameters"]["file_path"] == "workbook.json"
    placeholder = content["old_string"]
    fallback = json.loads((INFRA / "app" / "workbook.json").read_text())["fallbackResourceIds"]
    assert fallback == [placeholder], "the placeholder becomes this deployment's component"
