"""Playwright (Python) driving Debian's Chromium against a devhost and emulators of their own.

Playwright never downloads a browser here: ``make chromium`` installs Debian's package and the
tests launch ``/usr/bin/chromium``. Each launch gets a fresh temporary profile from Playwright.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page, expect, sync_playwright

from tests.conftest import ROOT, running_stack
from tests.e2e.conftest import Host, start_host

CHROMIUM = Path("/usr/bin/chromium")
# Headless, as root in CI, and quiet on a closed network: without the background-networking
# flags Chromium keeps calling Google's services at start and fills the log with refusals.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-results" / "screenshots"  # git-ignored
expect.set_options(timeout=15_000)  # a loaded CI machine; waits for generation say so themselves


@pytest.fixture(scope="package")
def web_host() -> Iterator[Host]:
    with running_stack() as stack:
        host = start_host(stack)
        try:
            yield host
        finally:
            host.stop()


@pytest.fixture(scope="package")
def browser(web_host: Host) -> Iterator[Browser]:
    # After web_host: the sync API keeps an event loop running in this thread, and starting the
    # stack needs asyncio.run.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser, web_host: Host) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh contexts; the test fails if a page throws an uncaught error."""
    contexts = []
    errors: list[Error] = []

    def open_page(width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(
            base_url=web_host.base_url, viewport={"width": width, "height": height}
        )
        # No internet here: refuse the Mermaid CDN at once, so the page shows its fallback.
        context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, errors


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-results/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
