"""Rules between settings: which storage form, which tokens, which providers, which timings.

Each rule returns its problems as sentences that name the settings involved, never their values,
so ``Settings`` can refuse every problem at once when the app is imported.
"""

from typing import TYPE_CHECKING

from adapters.ncrontab import CronSchedule
from domain.lesson_writer import SAVE_MARGIN_SECONDS

if TYPE_CHECKING:
    from adapters.settings import Settings

LLM_PROVIDERS = ("groq", "gemini", "qwen", "offline")
NETWORK_PROVIDERS = tuple(name for name in LLM_PROVIDERS if name != "offline")
# What App Service leaves in a setting whose Key Vault reference it could not resolve.
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
# Seconds an HTTP-triggered call may take before the platform's load balancer gives up on it.
HTTP_LIMIT_SECONDS = 230.0
FUNCTION_TIMEOUT = "functionTimeout (host.json, or AzureFunctionsJobHost__functionTimeout)"


def names_from(value: str, known: tuple[str, ...], *, allow_none: bool) -> str:
    """A comma-separated list of known names, each once, normalised ("none" → "" if allowed)."""
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    if allow_none and names in ([], ["none"]):
        return ""
    unknown = sorted(set(names) - set(known))
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(f"must list some of {', '.join(known)} once each (unknown: {unknown})")
    return ",".join(names)


def storage_problems(settings: "Settings") -> list[str]:
    """The queue must be reachable: a connection string, or an account for an identity."""
    forms = (
        settings.storage_connection,
        settings.storage_account_name,
        settings.storage_queue_service_uri,
    )
    if all(form is None for form in forms):
        return [
            "AzureWebJobsStorage (a connection string) or AzureWebJobsStorage__accountName / "
            "AzureWebJobsStorage__queueServiceUri (with an identity) must be set"
        ]
    return []


def dev_tokens_on(settings: "Settings") -> bool:
    """Development tokens: as ``AUTH_DEV_TOKENS`` says, else only with a secret and no JWKS.

    A deployment that keeps a secret beside its identity provider must not let anyone holding the
    secret mint tokens for its users, so the secret alone turns them on only where no identity
    provider is configured.
    """
    if settings.auth_dev_tokens is not None:
        return settings.auth_dev_tokens
    return settings.auth_jwt_secret is not None and settings.auth_jwks_url is None


def auth_problems(settings: "Settings") -> list[str]:
    """Some token must be verifiable, and each kind needs what verifies it."""
    problems = []
    dev = dev_tokens_on(settings)
    if dev and settings.auth_jwt_secret is None:
        problems.append("AUTH_DEV_TOKENS is on but AUTH_JWT_SECRET is not set")
    if settings.auth_jwks_url is not None:
        missing = [
            name
            for name, value in (
                ("AUTH_ISSUER", settings.auth_issuer),
                ("AUTH_AUDIENCE", settings.auth_audience),
            )
            if value is None
        ]
        if missing:
            problems.append(f"AUTH_JWKS_URL is set, so {' and '.join(missing)} must be set too")
    elif not dev:
        problems.append(
            "no token could be verified: set AUTH_JWKS_URL (Entra ID tokens), or "
            "AUTH_JWT_SECRET with AUTH_DEV_TOKENS on (development tokens)"
        )
    return problems


def llm_chain(settings: "Settings") -> tuple[list[str], dict[str, str]]:
    """The providers to use, in order, and those skipped with the reason why."""
    used, skipped = [], {}
    for name in settings.llm_providers.split(","):
        if name != "offline" and getattr(settings, f"{name}_api_key") is None:
            skipped[name] = f"{name.upper()}_API_KEY is not set"
        else:
            used.append(name)
    return used, skipped


def provider_problems(settings: "Settings") -> list[str]:
    """Some provider must be usable; with ``REQUIRE_LLM_PROVIDER``, a network one."""
    used, skipped = llm_chain(settings)
    if not used:
        return [
            f"no LLM provider is usable ({'; '.join(skipped.values())}): "
            "set an API key or add offline to LLM_PROVIDERS"
        ]
    if settings.require_llm_provider and not set(used) & set(NETWORK_PROVIDERS):
        keys = ", ".join(f"{name.upper()}_API_KEY" for name in NETWORK_PROVIDERS)
        return [
            "REQUIRE_LLM_PROVIDER is on but no network provider in LLM_PROVIDERS has a key: "
            f"set one of {keys}"
        ]
    return []


def timing_problems(settings: "Settings") -> list[str]:
    """The timings must fit the host's limits and each other (``settings.host`` is host.json)."""
    host = settings.host
    limit = host.function_timeout  # None: unbounded
    problems = []
    writing = settings.llm_lesson_budget_seconds + settings.research_budget_seconds
    if limit is not None and writing + SAVE_MARGIN_SECONDS > limit:
        problems.append(
            "LLM_LESSON_BUDGET_SECONDS plus RESEARCH_BUDGET_SECONDS, with the time kept to save "
            f"the lesson, must fit inside {FUNCTION_TIMEOUT}"
        )
    if settings.http_deadline_seconds >= HTTP_LIMIT_SECONDS:
        problems.append(
            "HTTP_DEADLINE_SECONDS must stay under the 230-second limit of an HTTP-triggered call"
        )
    elif limit is not None and settings.http_deadline_seconds >= limit:
        problems.append(f"HTTP_DEADLINE_SECONDS must stay under {FUNCTION_TIMEOUT}")
    if settings.stuck_queued_seconds <= host.queues.longest_pickup:
        problems.append(
            "STUCK_QUEUED_SECONDS must exceed the host's worst-case pickup of a queued lesson: "
            "maxDequeueCount deliveries, each after visibilityTimeout and maxPollingInterval "
            "(host.json extensions.queues, or AzureFunctionsJobHost__extensions__queues__*)"
        )
    if CronSchedule(settings.sweep_schedule).longest_gap() >= settings.generation_lease_seconds:
        problems.append(
            "SWEEP_SCHEDULE must run more often than GENERATION_LEASE_SECONDS: its longest gap "
            "between two runs must be shorter than the lease"
        )
    return problems
