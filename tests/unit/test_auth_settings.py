"""Auth settings: a development secret, an Entra ID key set, or both — never neither."""

import httpx
import pytest
from pydantic import ValidationError

from adapters.auth import DevTokensDisabled, TokenVerifier
from adapters.settings import Settings, settings_from
from domain.errors import Unauthenticated
from functions.bootstrap import Services, Shared, build_services
from tests.unit.identity_fakes import AUDIENCE, ISSUER, JWKS_URL, SECRET, IdentityProvider

BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "http://127.0.0.1:8081",
    "COSMOS_KEY": "key",
    "AUTH_ISSUER": ISSUER,
    "AUTH_AUDIENCE": AUDIENCE,
    "SWEEP_SCHEDULE": "0 */1 * * * *",
}


def _settings(**values: str) -> Settings:
    return settings_from({**BASE, **values})


def _problem(**values: str) -> str:
    with pytest.raises(ValidationError) as raised:
        _settings(**values)
    return str(raised.value)


def test_secret_alone_turns_development_tokens_on():
    settings = _settings(AUTH_JWT_SECRET=SECRET)

    assert settings.dev_tokens is True
    assert settings.auth_jwks_url is None


def test_jwks_alone_leaves_development_tokens_off():
    settings = _settings(AUTH_JWKS_URL=JWKS_URL, AUTH_JWT_SECRET="  ")

    assert settings.auth_jwt_secret is None
    assert settings.dev_tokens is False
    assert settings.auth_jwks_url == JWKS_URL


def test_a_secret_beside_an_identity_provider_leaves_development_tokens_off():
    settings = _settings(AUTH_JWT_SECRET=SECRET, AUTH_JWKS_URL=JWKS_URL)

    assert settings.dev_tokens is False


def test_development_tokens_beside_an_identity_provider_only_when_asked_for_by_name():
    settings = _settings(AUTH_JWT_SECRET=SECRET, AUTH_JWKS_URL=JWKS_URL, AUTH_DEV_TOKENS="true")

    assert settings.dev_tokens is True


@pytest.mark.parametrize("missing", ["AUTH_ISSUER", "AUTH_AUDIENCE"])
def test_an_identity_provider_needs_its_issuer_and_audience(missing: str):
    values = {k: v for k, v in BASE.items() if k != missing}

    with pytest.raises(ValidationError) as raised:
        settings_from({**values, "AUTH_JWKS_URL": JWKS_URL})

    assert f"so {missing} must be set too" in str(raised.value)


@pytest.mark.parametrize(
    "values",
    [{}, {"AUTH_JWT_SECRET": ""}, {"AUTH_JWT_SECRET": SECRET, "AUTH_DEV_TOKENS": "false"}],
    ids=["nothing", "blank-secret", "secret-but-dev-tokens-off"],
)
def test_settings_that_verify_no_token_are_refused(values: dict[str, str]):
    problem = _problem(**values)

    assert "no token could be verified" in problem
    assert SECRET not in problem


def test_development_tokens_without_a_secret_are_refused():
    problem = _problem(AUTH_JWKS_URL=JWKS_URL, AUTH_DEV_TOKENS="true")

    assert "AUTH_DEV_TOKENS is on but AUTH_JWT_SECRET is not set" in problem


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        (JWKS_URL, True),
        ("http://localhost:8080/keys", True),
        ("http://127.0.0.1/keys", True),
        ("http://login.example.com/keys", False),
        ("http://localhost.attacker.example/keys", False),
        ("file:///etc/keys.json", False),
    ],
)
def test_key_set_is_fetched_over_https_or_from_this_machine(url: str, accepted: bool):
    if accepted:
        assert _settings(AUTH_JWKS_URL=url).auth_jwks_url == url
    else:
        assert "auth_jwks_url" in _problem(AUTH_JWKS_URL=url)


async def test_verifier_from_settings_trusts_both_kinds_when_both_are_set():
    idp = IdentityProvider("key-1")
    settings = _settings(AUTH_JWT_SECRET=SECRET, AUTH_JWKS_URL=JWKS_URL, AUTH_DEV_TOKENS="true")

    async with idp.client() as http:
        verifier = TokenVerifier.from_settings(settings, http)

        assert await verifier.user_id(f"Bearer {idp.token(sub='entra')}") == "entra"
        assert await verifier.user_id(f"Bearer {verifier.issue('dev')}") == "dev"


async def test_verifier_with_development_tokens_off_refuses_them_and_issues_none():
    idp = IdentityProvider("key-1")
    settings = _settings(AUTH_JWT_SECRET=SECRET, AUTH_DEV_TOKENS="false", AUTH_JWKS_URL=JWKS_URL)
    dev = TokenVerifier(SECRET, issuer=ISSUER, audience=AUDIENCE).issue("dev")

    async with idp.client() as http:
        verifier = TokenVerifier.from_settings(settings, http)

        with pytest.raises(Unauthenticated):
            await verifier.user_id(f"Bearer {dev}")
        with pytest.raises(DevTokensDisabled):
            verifier.issue("dev")
    assert idp.requests == 0


def test_verifier_for_a_key_set_needs_an_http_client():
    with pytest.raises(ValueError, match="AUTH_JWKS_URL"):
        TokenVerifier.from_settings(_settings(AUTH_JWKS_URL=JWKS_URL))


def _http_clients(services: Services) -> list[httpx.AsyncClient]:
    owners = [getattr(close, "__self__", None) for close in services.closers]
    return [owner for owner in owners if isinstance(owner, httpx.AsyncClient)]


async def test_services_close_the_jwks_client_they_made():
    services = build_services(_settings(AUTH_JWKS_URL=JWKS_URL), Shared())
    (http,) = _http_clients(services)  # the key set's; the providers' are not built yet
    assert (http.timeout.connect, http.timeout.read) == (3.0, 5.0)

    await services.aclose()

    assert http.is_closed


async def test_services_make_no_jwks_client_without_a_key_set():
    services = build_services(_settings(AUTH_JWT_SECRET=SECRET), Shared())
    await services.aclose()

    assert _http_clients(services) == []
