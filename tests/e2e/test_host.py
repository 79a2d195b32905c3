"""The local host process itself: health when a service is down, clean shutdown."""

import httpx

from devhost.emulators import free_port
from tests.conftest import Stack, running_stack
from tests.e2e.conftest import start_host


def test_health_names_the_unavailable_service_and_ctrl_c_stops_the_host() -> None:
    # Emulators of its own: a host with a broken Cosmos must not take other tests' messages.
    with running_stack() as stack:
        _check_health_and_shutdown(stack)


def _check_health_and_shutdown(stack: Stack) -> None:
    host = start_host(
        stack,
        COSMOS_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        HEALTH_TIMEOUT_SECONDS="2",
    )
    try:
        response = httpx.get(f"{host.base_url}/api/health", timeout=10)
        assert response.status_code == 503
        body = response.json()
        assert (body["cosmos"], body["queue"]) == ("unavailable", "ok")
        assert body["providers"]["offline"] == "configured"
    finally:
        exit_code = host.stop()
    assert exit_code == 0
