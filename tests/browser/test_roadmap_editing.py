"""Editing a roadmap in the browser: a module added by prompt, a lesson removed after a
confirmation, a module moved with the keyboard; the written lesson stays as it was."""

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_learner_page import _sign_in_and_plan, _unnamed_controls

pytestmark = pytest.mark.timeout(180)


def _counts(page: Page, lessons: int) -> None:
    expect(page.locator("#counts")).to_contain_text(re.compile(rf"^{lessons} lessons · "))


def test_learner_adds_a_module_by_prompt_removes_a_lesson_and_moves_a_module(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    _sign_in_and_plan(page, f"editor-{uuid.uuid4().hex[:8]}")
    modules = page.locator("#modules section.module")
    first_lesson = page.locator("li.lesson").first
    expect(first_lesson).to_have_attribute("data-status", "completed", timeout=30_000)
    expect(modules).to_have_count(4)
    _counts(page, 8)

    toggle = page.get_by_role("button", name="Edit roadmap")
    toggle.click()
    expect(page.get_by_role("button", name="Done editing")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert _unnamed_controls(page) == []

    # A module planned from a prompt: added at the end, its lessons waiting to be written.
    adding = page.get_by_role("form", name="Add a module by prompt")
    adding.get_by_label("What should the new module be about?").fill("a module on window functions")
    adding.get_by_role("button", name="Add module by prompt").click()
    added = modules.nth(4)
    expect(added.get_by_role("heading", level=2)).to_have_text("Module 5: Window functions")
    expect(added.locator("li.lesson")).to_have_count(3)
    expect(added.locator("li.lesson[data-status=pending]")).to_have_count(3)
    expect(page.get_by_text(re.compile("“Window functions” is added at the end"))).to_be_visible()
    _counts(page, 11)
    screenshot(page, "desktop-edit-1-module-added-by-prompt")

    # A lesson removed, once the learner confirms it.
    doomed = modules.nth(0).locator("li.lesson").nth(1)
    doomed_id = doomed.get_attribute("data-lesson-id")
    doomed.get_by_role("button", name=re.compile("^Remove lesson: ")).click()
    confirm = page.get_by_role("group", name="Confirm removal")
    expect(confirm).to_contain_text("Written content and your progress on it are deleted")
    expect(confirm.get_by_role("button", name="Keep")).to_be_focused()
    confirm.get_by_role("button", name="Remove", exact=True).click()
    expect(page.locator(f'li.lesson[data-lesson-id="{doomed_id}"]')).to_have_count(0)
    expect(modules.nth(0).locator("li.lesson")).to_have_count(1)
    _counts(page, 10)
    # The written lesson is untouched, and still readable.
    expect(first_lesson).to_have_attribute("data-status", "completed")
    expect(page.locator("#counts")).to_contain_text("1 ready")

    # A module moved down with the keyboard alone: the focus stays on its controls.
    first_title = modules.nth(0).get_by_role("heading", level=2).inner_text().split(": ", 1)[1]
    second_title = modules.nth(1).get_by_role("heading", level=2).inner_text().split(": ", 1)[1]
    move = modules.nth(0).get_by_role("button", name=re.compile("^Move module down: "))
    move.focus()
    page.keyboard.press("Enter")
    expect(modules.nth(0).get_by_role("heading", level=2)).to_have_text(f"Module 1: {second_title}")
    expect(modules.nth(1).get_by_role("heading", level=2)).to_have_text(f"Module 2: {first_title}")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == f"Move module down: {first_title}"
    assert _unnamed_controls(page) == []
    screenshot(page, "desktop-edit-2-lesson-removed-module-moved")

    # The server holds the same: a reload shows the edited roadmap.
    page.reload()
    expect(modules).to_have_count(5)
    expect(modules.nth(1).get_by_role("heading", level=2)).to_have_text(f"Module 2: {first_title}")
    _counts(page, 10)
    first_lesson = modules.nth(1).locator("li.lesson").first
    first_lesson.get_by_role("link", name=re.compile("^View lesson")).click()
    expect(page.get_by_text("Offline template — not AI-written")).to_be_visible()


def test_edit_controls_fit_a_phone_screen(new_page: Callable[..., Page]) -> None:
    page = new_page(width=390, height=844)
    _sign_in_and_plan(page, f"phone-editor-{uuid.uuid4().hex[:8]}")
    page.get_by_role("button", name="Edit roadmap").click()
    expect(page.get_by_role("form", name="Add a module by prompt")).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert _unnamed_controls(page) == []
    screenshot(page, "phone-edit-roadmap")
