"""The teacher's pages in real Chromium on a phone-sized screen: axe-core finds no serious
or critical issue, touch targets are at least 48 px, keyboard focus is visible, and the
page loads nothing the CSP refuses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.helpers import axe_violations, login
from tests.support.factories import Classroom

CHROMIUM = os.environ.get("TANDEM_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    yield page
    context.close()
    assert problems == [], f"the CSP refused something: {problems}"


def small_targets(page: Page) -> list[str]:
    """Buttons, button-like links and form fields under 48 px high (checkboxes and radio
    buttons sit in a 48 px row with their label and are measured by that row)."""
    result: list[str] = page.evaluate(
        """() => [...document.querySelectorAll(
                'main button, main a.btn,'
                + ' main input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
                + ' main select, main textarea')]
            .filter((el) => el.getBoundingClientRect().height < 48)
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    result += page.evaluate(
        """() => [...document.querySelectorAll('main .checkbox, main .choice')]
            .filter((el) => el.getBoundingClientRect().height < 48)
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    return result


def focus_is_visible(page: Page, selector: str) -> bool:
    page.focus(selector)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    style: str = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle + ' ' + s.outlineWidth; }"
    )
    return not style.startswith("none") and not style.endswith(" 0px")


def check(page: Page) -> None:
    assert axe_violations(page) == [], page.url
    assert small_targets(page) == [], page.url
    no_sideways = page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    assert no_sideways, f"{page.url} scrolls sideways on a phone"


def test_teacher_pages_are_accessible_on_a_phone(
    page: Page, base_url: str, classroom: Classroom
) -> None:
    student = classroom.student
    login(page, base_url, classroom.teacher, next_path="/teacher")
    check(page)
    page.click(f"a[href='/teacher/students/{student.id}']")
    page.wait_for_url(f"**/teacher/students/{student.id}")
    check(page)
    assert focus_is_visible(page, f"a[href='/teacher/ieps/{student.iep_id}/edit']")
    page.goto(f"{base_url}/teacher/goals/{student.goals['task_analysis']}/edit")
    check(page)
    assert focus_is_visible(page, "#area")
    page.goto(f"{base_url}/teacher/students/{student.id}/iep/new")
    check(page)
    # A form shown again with its error is accessible too, and the error is announced.
    page.goto(f"{base_url}/teacher/ieps/{student.iep_id}/goals/new")
    page.fill("#area", "Social")
    page.fill("#description", "Greets peers")
    page.select_option("#measurement", "rating")
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("A rating goal needs")
    check(page)


def test_read_only_iep_page_for_an_aide_is_accessible(
    page: Page, base_url: str, classroom: Classroom
) -> None:
    login(page, base_url, classroom.aide, next_path=f"/teacher/students/{classroom.student.id}")
    check(page)
    assert page.locator("main form").count() == 0
