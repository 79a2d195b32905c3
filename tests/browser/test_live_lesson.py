"""Reading a lesson while it is written: with a push channel (the local Web PubSub service) and a
model that streams its lesson over several seconds, the page shows a section before the lesson is
complete, then the stored lesson in full."""

import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.conftest import running_stack
from tests.e2e.conftest import Host, start_host
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.fake_webpubsub import FakeWebPubSub
from tests.support.samples import lesson_json

STREAM_SECONDS = 8.0  # long enough to see the lesson half-written on a loaded machine


@pytest.fixture(scope="module")
def live_host() -> Iterator[Host]:
    """A devhost of its own, with Web PubSub and a Groq that streams slowly.

    Started and stopped on a thread of its own: the browser's sync API may already keep an
    event loop running on this one, and starting the emulators runs one too.
    """
    with ThreadPoolExecutor(1) as thread, ExitStack() as started:
        service = started.enter_context(FakeWebPubSub())
        llm = started.enter_context(FakeLlmServer())
        llm.default("groq", Reply.ok(lesson_json(), stream_seconds=STREAM_SECONDS, pieces=80))
        emulators = running_stack()
        stack = thread.submit(emulators.__enter__).result()
        started.callback(lambda: thread.submit(emulators.__exit__, None, None, None).result())
        host = start_host(
            stack,
            (),
            WEBPUBSUB_CONNECTION_STRING=service.connection_string,
            LLM_PROVIDERS="groq,offline",
            GROQ_API_KEY="gsk_browser_live",
            GROQ_BASE_URL=llm.root_url,
            AzureFunctionsJobHost__extensions__queues__maxPollingInterval="00:00:01",
        )
        started.callback(host.stop)
        yield host


def test_a_section_shows_before_the_lesson_is_complete(
    new_page: Callable[..., Page], live_host: Host
) -> None:
    page = new_page()
    page.goto(f"{live_host.base_url}/api/app")
    page.get_by_label("User name").fill(f"live-{uuid.uuid4().hex[:8]}")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Goal").fill("Learn Python list comprehensions")
    page.get_by_label("Skill level").select_option("beginner")
    page.get_by_role("button", name="Create roadmap").click()

    # The first lesson is queued with the roadmap; the learner opens it while it is written.
    read_live = page.get_by_role("link", name=re.compile("^Read as it is written")).first
    read_live.click(timeout=30_000)
    live = page.locator(".lesson-view.live")
    expect(live).to_be_visible()
    first_section = live.locator(".live-sections .lesson-section").first
    expect(first_section).to_be_visible(timeout=30_000)
    expect(live).to_have_attribute("aria-busy", "true")  # still being written
    expect(live.locator(".live-status")).to_contain_text("Being written")
    screenshot(page, "lesson-written-live")

    # Once stored, the lesson shows as any written lesson: quiz, completion and all.
    expect(page.get_by_role("button", name="Mark completed")).to_be_visible(timeout=60_000)
    expect(page.locator(".lesson-view.live")).to_have_count(0)
    expect(page.get_by_role("heading", name="Quiz")).to_be_visible()
