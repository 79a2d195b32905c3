"""Lesson notifications in the learner page: a toast, a count in the tab's title while the tab
is in the background, and a browser notification only after the learner allowed it by a click."""

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_learner_page import _sign_in_and_plan

# A stand-in for the browser's Notification API that records what the page shows.
FAKE_NOTIFICATIONS = """
window.__shown = [];
window.__asked = 0;
class FakeNotification {
  constructor(title, options) { window.__shown.push({ title, body: options && options.body }); }
  static requestPermission() {
    window.__asked += 1;
    FakeNotification.permission = "granted";
    return Promise.resolve("granted");
  }
}
FakeNotification.permission = "default";
window.Notification = FakeNotification;
"""
HIDDEN = """(hidden) => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _first_lesson_written(page: Page) -> None:
    first = page.locator("li.lesson").nth(0)
    expect(first).to_have_attribute("data-status", "completed", timeout=30_000)


def _ask_for_second_lesson(page: Page) -> str:
    second = page.locator("li.lesson").nth(1)
    title = second.locator(".lesson-title").inner_text()
    second.get_by_role("button", name=re.compile("^Generate lesson")).click()
    return title


def test_a_ready_lesson_is_announced_by_toast_title_badge_and_allowed_notification(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    page.add_init_script(FAKE_NOTIFICATIONS)
    _sign_in_and_plan(page, f"notify-{uuid.uuid4().hex[:8]}")
    _first_lesson_written(page)
    assert page.evaluate("window.__asked") == 0  # never asked without a click
    page.get_by_role("button", name="Notify me when lessons are ready").click()
    expect(page.get_by_text("You will be notified when lessons are ready.")).to_be_visible()

    page.evaluate(HIDDEN, True)  # the learner switched to another tab
    title = _ask_for_second_lesson(page)

    ready = f"“{title}” is ready to read."
    expect(page.locator(".toast").filter(has_text=ready)).to_be_visible(timeout=40_000)
    expect(page).to_have_title("(1) SkillSync Lessons")
    shown = page.evaluate("window.__shown")
    assert [notification["body"] for notification in shown] == [ready]
    screenshot(page, "desktop-notification-toast")

    page.evaluate(HIDDEN, False)  # back to the tab
    expect(page).to_have_title("SkillSync Lessons")


def test_a_learner_who_never_allows_notifications_still_sees_the_toast(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    page.add_init_script(FAKE_NOTIFICATIONS)
    _sign_in_and_plan(page, f"quiet-{uuid.uuid4().hex[:8]}")
    _first_lesson_written(page)

    title = _ask_for_second_lesson(page)

    ready = f"“{title}” is ready to read."
    expect(page.locator(".toast").filter(has_text=ready)).to_be_visible(timeout=40_000)
    assert page.evaluate("window.__asked") == 0
    assert page.evaluate("window.__shown") == []
