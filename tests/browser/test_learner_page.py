"""The learner page in a real browser: sign in → onboard → prefetch → generate → read → complete."""

import itertools
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.timeout(180)

GOAL = "Learn Python for data analysis"
IN_FLIGHT = "li.lesson[data-status=queued], li.lesson[data-status=generating]"

# Every status the badge of one lesson shows, in order, whichever element shows it.
RECORD_STATUSES = """id => {
  window.statuses = [];
  const record = () => {
    const status = document.querySelector(`li.lesson[data-lesson-id="${id}"]`)?.dataset.status;
    if (status && window.statuses.at(-1) !== status) window.statuses.push(status);
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"],
  });
  record();
}"""

# Visible controls that have neither a label, an aria-label nor text of their own.
UNLABELLED = """() => [...document.querySelectorAll("button, input, select, textarea, a[href]")]
  .filter(el => el.checkVisibility())
  .filter(el => !(
    el.getAttribute("aria-label")?.trim()
    || el.getAttribute("aria-labelledby")
    || [...(el.labels || [])].some(label => label.textContent.trim())
    || (["BUTTON", "A"].includes(el.tagName) && el.textContent.trim())
  ))
  .map(el => el.outerHTML.slice(0, 160))"""
ABOVE_THE_ROADMAPS = """el => Boolean(
  el.compareDocumentPosition(document.querySelector("#roadmap-list"))
  & Node.DOCUMENT_POSITION_FOLLOWING)"""
NAMED_ROLES = {"button", "link", "textbox", "combobox", "spinbutton", "radio", "checkbox"}


@dataclass(frozen=True)
class Call:
    """One request the page made to the API."""

    at: float
    method: str
    path: str
    if_none_match: str | None


def _recorder(page: Page) -> list[Call]:
    calls: list[Call] = []

    def record(request: Request) -> None:
        path = re.sub(r"^https?://[^/]+", "", request.url)
        if path.startswith("/api/") and not path.startswith("/api/app"):
            calls.append(
                Call(time.monotonic(), request.method, path, request.headers.get("if-none-match"))
            )

    page.on("request", record)
    return calls


def _unnamed_controls(page: Page) -> list[str]:
    """Controls without an accessible name: by the DOM, and as Chromium computes names."""
    missing: list[str] = page.evaluate(UNLABELLED)
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    cdp.detach()
    for node in nodes:
        role = node.get("role", {}).get("value")
        name = str(node.get("name", {}).get("value") or "").strip()
        if role in NAMED_ROLES and not node.get("ignored") and not name:
            missing.append(f"{role} (DOM node {node.get('backendDOMNodeId')})")
    return missing


def _stat(page: Page, name: str) -> Locator:
    """One stats card on the home page, found by its accessible name."""
    return page.get_by_role("region", name="Your progress").get_by_role("group", name=name)


def _expect_stats_after_one_completed_lesson(page: Page, next_title: str) -> None:
    """The home page's cards once the learner opened two lessons and completed one, today."""
    page.get_by_role("link", name="← All roadmaps").click()
    expect(page.get_by_role("heading", level=1, name="Your roadmaps")).to_be_visible()
    cards = page.get_by_role("region", name="Your progress")
    expect(_stat(page, "Current streak").locator(".stat-value")).to_have_text("1 day")
    expect(_stat(page, "Current streak")).to_contain_text("You learned today")
    expect(_stat(page, "Longest streak").locator(".stat-value")).to_have_text("1 day")
    expect(_stat(page, "Lessons completed").locator(".stat-value")).to_have_text("1")
    expect(_stat(page, "This week").locator(".stat-value")).to_have_text(
        re.compile(r"^[1-9]\d* of 300 min$")
    )
    expect(_stat(page, "This week").get_by_role("progressbar")).to_be_visible()
    expect(_stat(page, "Continue with").get_by_role("link")).to_have_text(next_title)
    assert cards.locator("[role=group]").count() == 5
    # Above the roadmaps: the list follows the cards in the document.
    assert page.locator("#stats").evaluate(ABOVE_THE_ROADMAPS)
    assert _unnamed_controls(page) == []
    screenshot(page, "desktop-5-home-stats")
    _stat(page, "Continue with").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(next_title)


def _sign_in_and_plan(page: Page, user: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/api/app$"))  # devhost leads / to the page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _unnamed_controls(page) == []
    page.get_by_label("User name").fill(user)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_contain_text(f"Signed in as {user}")
    # A new learner's stats cards, above the (empty) roadmap list.
    expect(_stat(page, "Current streak")).to_contain_text("0 days")
    expect(_stat(page, "Continue with")).to_contain_text("Start a roadmap below")
    page.get_by_label("Goal").fill(GOAL)
    page.get_by_label("Skill level").select_option("beginner")
    page.get_by_label("Weekly hours").fill("5")
    page.get_by_role("button", name="Create roadmap").click()
    expect(page.get_by_role("heading", level=1, name=GOAL)).to_be_visible()


def test_learner_signs_in_plans_generates_reads_and_completes_a_lesson(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    calls = _recorder(page)
    _sign_in_and_plan(page, f"browser-{uuid.uuid4().hex[:8]}")
    lessons = page.locator("li.lesson")
    first, second = lessons.nth(0), lessons.nth(1)

    # The first lesson was queued with the roadmap; polling shows it written.
    expect(first).to_have_attribute("data-status", "completed", timeout=30_000)
    expect(first.locator(".badge")).to_have_text("completed")
    expect(second.locator(".badge")).to_have_text("pending")
    screenshot(page, "desktop-1-roadmap-first-lesson-prefetched")
    assert _unnamed_controls(page) == []

    first_title = first.locator(".lesson-title").inner_text()
    second_id = second.get_attribute("data-lesson-id") or ""
    assert second_id
    title = second.locator(".lesson-title").inner_text()
    page.evaluate(RECORD_STATUSES, second_id)
    second.get_by_role("button", name=re.compile("^Generate lesson")).click()
    expect(second).to_have_attribute("data-status", "completed", timeout=40_000)
    statuses: list[str] = page.evaluate("window.statuses")
    assert {"queued", "generating"} & set(statuses), statuses
    assert statuses[-1] == "completed", statuses
    screenshot(page, "desktop-2-roadmap-second-lesson-generated")

    # Polls waited Retry-After (2 s) after the 202 and between each other.
    asked = next(c.at for c in calls if c.method == "POST" and f"/{second_id}/generate" in c.path)
    polls = [c.at for c in calls if c.method == "GET" and c.path == f"/api/lessons/{second_id}"]
    assert polls, calls
    assert polls[0] - asked >= 1.9
    assert all(later - earlier >= 1.9 for earlier, later in itertools.pairwise(polls))

    opened = len(calls)
    second.get_by_role("link", name=re.compile("^View lesson")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    lesson = page.locator("article.lesson-view")
    expect(lesson.locator("section.lesson-section h2").first).to_be_visible()
    expect(lesson.get_by_text("Offline template — not AI-written")).to_be_visible()
    expect(lesson.get_by_text("Diagram (Mermaid source)")).to_be_visible()
    expect(lesson.locator("pre code.language-mermaid")).to_contain_text("flowchart")
    expect(lesson.get_by_role("region", name="Sources")).to_contain_text(
        "No outside sources were used"
    )
    # Opening it revalidated the copy the last poll read, and marked it viewed.
    reads = [c for c in calls[opened:] if c.method == "GET" and c.path.endswith(second_id)]
    assert reads, calls
    assert reads[0].if_none_match, reads
    expect(page.locator("#counts")).to_contain_text("1 viewed")

    quiz = lesson.locator("form.quiz-question").first
    quiz.get_by_role("radio").nth(1).check()
    quiz.get_by_role("button", name=re.compile("^Check answer")).click()
    expect(quiz.get_by_role("status")).to_contain_text("Not quite")
    quiz.get_by_role("radio").nth(0).check()
    quiz.get_by_role("button", name=re.compile("^Check answer")).click()
    expect(quiz.get_by_role("status")).to_contain_text("Correct")
    screenshot(page, "desktop-3-lesson")
    assert _unnamed_controls(page) == []

    expect(page.locator("#counts")).to_contain_text("0 completed")
    lesson.get_by_role("button", name="Mark completed").click()
    expect(page.locator("#counts")).to_contain_text("1 completed")
    expect(lesson.get_by_text("You completed this lesson")).to_be_visible()

    page.get_by_role("link", name="← Back to the roadmap").click()
    expect(second.get_by_text("✓ Done")).to_be_visible()
    expect(page.locator("#counts")).to_contain_text("1 completed")
    screenshot(page, "desktop-4-roadmap-lesson-completed")

    # Once nothing is in flight (viewing may queue the module's next lesson), nothing is polled.
    expect(page.locator(IN_FLIGHT)).to_have_count(0, timeout=40_000)
    page.wait_for_timeout(1_000)
    quiet_from = len(calls)
    page.wait_for_timeout(5_000)
    assert calls[quiet_from:] == []

    # Home: the stats cards; the lesson to continue with is the first one, never opened.
    _expect_stats_after_one_completed_lesson(page, first_title)


def test_page_fits_a_phone_screen_with_every_control_named(new_page: Callable[..., Page]) -> None:
    page = new_page(width=390, height=844)
    _sign_in_and_plan(page, f"phone-{uuid.uuid4().hex[:8]}")
    first = page.locator("li.lesson").first
    expect(first).to_have_attribute("data-status", "completed", timeout=30_000)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert first.evaluate("el => getComputedStyle(el).flexDirection") == "column"
    assert _unnamed_controls(page) == []
    screenshot(page, "phone-1-roadmap")

    first.get_by_role("link", name=re.compile("^View lesson")).click()
    expect(page.get_by_text("Offline template — not AI-written")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert _unnamed_controls(page) == []
    screenshot(page, "phone-2-lesson")

    expect(page.locator("#counts")).to_contain_text("1 viewed")  # opening it marked it viewed
    page.get_by_role("link", name="← Back to the roadmap").click()
    page.get_by_role("link", name="← All roadmaps").click()
    expect(_stat(page, "Current streak").locator(".stat-value")).to_have_text("1 day")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert _unnamed_controls(page) == []
    screenshot(page, "phone-3-home-stats")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
