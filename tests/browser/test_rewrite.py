"""Rewriting a lesson the learner's way, in the browser: a chip fills the wish, the old lesson
stays readable while the new one is written, and the new one says what was asked."""

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_learner_page import _sign_in_and_plan


def test_learner_rewrites_a_lesson_with_a_chip_and_sees_their_wish(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    _sign_in_and_plan(page, f"rewrite-{uuid.uuid4().hex[:8]}")
    first = page.locator("li.lesson").nth(0)
    expect(first).to_have_attribute("data-status", "completed", timeout=30_000)
    first.get_by_role("link", name=re.compile("^View lesson")).click()
    form = page.get_by_role("form", name="Not quite right?")
    expect(form).to_be_visible()

    form.get_by_role("button", name="More examples").click()
    expect(form.get_by_label("How should it be written?")).to_have_value("More examples")
    form.get_by_role("button", name="Rewrite this lesson").click()

    expect(page.get_by_text(re.compile("is being rewritten"))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()  # the old lesson is still there
    page.get_by_role("link", name="← Back to the roadmap").click()
    expect(first).to_have_attribute("data-status", "completed", timeout=40_000)
    first.get_by_role("link", name=re.compile("^View lesson")).click()
    expect(page.get_by_text("Written as you asked:")).to_be_visible()
    expect(page.locator(".instructions q")).to_have_text("More examples")
    screenshot(page, "desktop-rewrite-with-instructions")
