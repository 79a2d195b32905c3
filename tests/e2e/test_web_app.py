"""The learner page's files and development sign-in, over HTTP on the running host."""

import http.client
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from functions.webapp import CSP, FILES, WEB_DIR
from tests.conftest import Stack
from tests.e2e.conftest import Host, start_host


def test_root_leads_to_the_page(host: Host) -> None:
    response = httpx.get(f"{host.base_url}/")

    assert response.status_code == 307
    assert response.headers["Location"] == "/api/app"


def test_page_is_served_with_its_content_security_policy(host: Host) -> None:
    response = httpx.get(f"{host.base_url}/api/app")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert '<script type="module" src="app/app.js">' in response.text


def test_every_web_file_is_served_with_its_type_and_revalidated(host: Host) -> None:
    names = sorted(path.name for path in WEB_DIR.iterdir() if path.name != "index.html")
    assert names == sorted(set(FILES) - {"index.html"})  # a new file must join the allow-list
    for name in names:
        response = httpx.get(f"{host.base_url}/api/app/{name}")
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == FILES[name]
        assert response.content == (WEB_DIR / name).read_bytes()
        again = httpx.get(
            f"{host.base_url}/api/app/{name}", headers={"If-None-Match": response.headers["ETag"]}
        )
        assert again.status_code == 304, name


@pytest.mark.parametrize(
    "name",
    ["missing.js", "index.html", "APP.JS", "%2e%2e", "..%5Cfunction_app.py", "app.js%00"],
)
def test_files_off_the_allow_list_are_not_found(host: Host, name: str) -> None:
    response = httpx.get(f"{host.base_url}/api/app/{name}")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "path",
    [
        "/api/app/..",
        "/api/app/../../function_app.py",
        "/api/app/..%2F..%2Ffunction_app.py",
        "/api/app/%2e%2e/%2e%2e/local.settings.json",
        "/api/app/web/../app.js",
    ],
)
def test_paths_that_leave_the_folder_serve_nothing(host: Host, path: str) -> None:
    # Sent as written (httpx would remove the dot segments). Several segments never reach the
    # function: no route serves them, so the host answers 404.
    address = urlsplit(host.base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 404
    assert b"import" not in body
    assert b"AUTH_JWT_SECRET" not in body


def test_page_routes_are_not_in_the_api_document(host: Host) -> None:
    paths = httpx.get(f"{host.base_url}/api/openapi.json").json()["paths"]

    assert "/api/dev/token" in paths
    assert paths["/api/dev/token"]["post"]["security"] == []
    assert not [path for path in paths if path.startswith("/api/app")]


def test_dev_token_signs_in_as_the_user_for_twelve_hours(host: Host) -> None:
    response = httpx.post(f"{host.base_url}/api/dev/token", json={"userId": "web.user@example-1"})

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    expires = datetime.fromisoformat(body["expiresAt"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=12))) < timedelta(minutes=1)
    auth = {"Authorization": f"Bearer {body['token']}"}
    roadmaps = httpx.get(f"{host.base_url}/api/roadmaps", headers=auth)
    assert roadmaps.status_code == 200
    assert roadmaps.json() == {"roadmaps": [], "nextCursor": None}


@pytest.mark.parametrize(
    "body",
    [{}, {"userId": ""}, {"userId": "a b"}, {"userId": "x" * 65}, {"userId": "<script>"},
     {"userId": "ü"}, {"userId": 7}, {"userId": "ok", "admin": True}],
)  # fmt: skip
def test_dev_token_refuses_invalid_user_ids(host: Host, body: dict[str, object]) -> None:
    response = httpx.post(f"{host.base_url}/api/dev/token", json=body)

    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_dev_token_is_not_found_when_development_tokens_are_off(stack: Stack) -> None:
    # With development tokens off, some other token must be accepted: a (never asked) JWKS URL.
    host = start_host(stack, AUTH_DEV_TOKENS="false", AUTH_JWKS_URL="http://127.0.0.1:9/keys")
    try:
        response = httpx.post(f"{host.base_url}/api/dev/token", json={"userId": "someone"})
        page = httpx.get(f"{host.base_url}/api/app")
    finally:
        host.stop()

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "token" not in response.json()
    assert page.status_code == 200  # the page stays; its sign-in says it is off


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/no-such-thing"),
        ("GET", "/api/lessons/x/y/z"),
        ("DELETE", "/api/roadmaps"),
        ("POST", "/api/health"),
        ("GET", "/nowhere"),
    ],
)
def test_unknown_paths_and_methods_are_not_found_as_in_azure(
    host: Host, method: str, path: str
) -> None:
    response = httpx.request(method, f"{host.base_url}{path}", timeout=10)

    assert response.status_code == 404
