"""What is left of the allowances, on the learner page in a real browser: "N lessons left this
hour" is there before any click (read when the view opens), and drops as soon as a lesson is
asked for (from the RateLimit field of that very answer, with no extra request)."""

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.timeout(120)

GOAL = "Learn SQL for reporting"
LESSONS_PER_HOUR = 30  # the host's default QUOTA_LESSONS_PER_HOUR
ROADMAPS_PER_DAY = 5  # and QUOTA_ROADMAPS_PER_DAY


def _allowance_reads(page: Page) -> list[str]:
    """Every GET /api/me/allowances the page makes, as it makes it."""
    reads: list[str] = []

    def record(request: Request) -> None:
        if request.method == "GET" and request.url.endswith("/api/me/allowances"):
            reads.append(request.url)

    page.on("request", record)
    return reads


def _not_at_the_end_of_an_hour() -> None:
    """Counts restart on the hour (and the day's on the midnight hour): keep clear of it."""
    into_hour = datetime.now(UTC).timestamp() % 3_600
    if into_hour > 3_600 - 60:
        time.sleep(3_600 - into_hour + 1)


def test_lessons_left_show_before_a_click_and_drop_after_one(
    new_page: Callable[..., Page],
) -> None:
    _not_at_the_end_of_an_hour()
    page = new_page()
    reads = _allowance_reads(page)
    page.goto("/")
    page.get_by_label("User name").fill(f"allowance-{uuid.uuid4().hex[:8]}")
    page.get_by_role("button", name="Sign in").click()

    # Home: the roadmap allowance, beside the button that spends it, before it is pressed.
    roadmaps_left = page.locator("#roadmaps-left")
    expect(roadmaps_left).to_have_text(f"{ROADMAPS_PER_DAY} roadmaps left today")
    page.get_by_label("Goal").fill(GOAL)
    page.get_by_role("button", name="Create roadmap").click()
    expect(page.get_by_role("heading", level=1, name=GOAL)).to_be_visible()

    # The roadmap view, where lessons are asked for: its first lesson was prefetched.
    lessons_left = page.locator("#lessons-left")
    expect(lessons_left).to_have_attribute("aria-live", "polite")
    expect(lessons_left).to_have_text(f"{LESSONS_PER_HOUR - 1} lessons left this hour")

    # Opened afresh (a reload, no answer to learn from yet): read before any click.
    page.reload()
    expect(page.get_by_role("heading", level=1, name=GOAL)).to_be_visible()
    expect(lessons_left).to_have_text(f"{LESSONS_PER_HOUR - 1} lessons left this hour")
    expect(lessons_left).to_be_visible()
    assert reads, "the count was not read when the view opened"
    read_before_click = len(reads)

    second = page.locator("li.lesson").nth(1)
    second.get_by_role("button", name=re.compile("^Generate lesson")).click()

    expect(lessons_left).to_have_text(f"{LESSONS_PER_HOUR - 2} lessons left this hour")
    assert len(reads) == read_before_click  # from the generation answer's RateLimit field
    screenshot(page, "desktop-allowances-lessons-left")

    page.get_by_role("link", name="← All roadmaps").click()
    expect(roadmaps_left).to_have_text(f"{ROADMAPS_PER_DAY - 1} roadmaps left today")
