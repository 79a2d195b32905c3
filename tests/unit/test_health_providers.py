"""``/api/health`` says which providers can write, so an offline-only deployment is visible."""

import json

from adapters.settings import settings_from
from domain.cooldowns import Cooldowns
from functions.health import provider_states
from tests.unit.http_fakes import Served

BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "http://127.0.0.1:9",
    "AUTH_JWT_SECRET": "s" * 40,
    "SWEEP_SCHEDULE": "0 */1 * * * *",
}


def test_each_provider_is_configured_missing_its_key_or_resting_in_chain_order():
    settings = settings_from({**BASE, "GROQ_API_KEY": "k", "QWEN_API_KEY": "k"})
    cooldowns = Cooldowns(clock=lambda: 100.0)
    cooldowns.rest("qwen", 30)

    states = provider_states(settings, cooldowns)

    assert list(states.items()) == [
        ("groq", "configured"),
        ("gemini", "missing key"),
        ("qwen", "resting"),
        ("offline", "configured"),
    ]


def test_a_deployment_without_any_key_shows_only_offline_configured():
    states = provider_states(settings_from(BASE), Cooldowns())

    assert [name for name, state in states.items() if state == "configured"] == ["offline"]


async def test_health_answers_with_each_dependency_and_the_providers(served: Served):
    response = await served.call("health")

    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert (body["cosmos"], body["queue"]) == ("ok", "ok")
    assert body["providers"]["groq"] == "missing key"
