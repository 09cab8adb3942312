"""Lessons in Chromium at 360 px (issue 26, item 5): a merchant opens them from the dashboard,
follows the suggestion, reads the screens, fails the quiz, passes it and sees the
certificate — then the list and a lesson in Filipino and Cebuano; nothing is wider than the
phone, and every page passes the accessibility checks."""

from __future__ import annotations

from tests.web import test_browser as journeys
from tests.web.test_browser import go, shots, sign_in

db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_a_lesson_on_a_phone_in_three_languages(site, open_page):
    page = open_page()
    sign_in(page, site.merchant)
    go(page, "/m")
    page.get_by_role("link", name="Lessons").click()
    page.wait_for_load_state()
    assert page.get_by_text("Some of your products have no photo yet.").is_visible()
    shots(page, "lessons")
    page.get_by_role("link", name="Start the lesson").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Taking product photos").is_visible()
    picture = page.get_by_role("img", name="A product on a plain sheet beside a window")
    assert picture.is_visible()
    assert page.evaluate("document.querySelector('#lesson-screen img').naturalWidth") > 0
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "lesson-screen")
    for _ in range(2):
        page.get_by_role("link", name="Next").click()
        page.wait_for_load_state()
    page.get_by_role("link", name="Take the quiz").click()
    page.wait_for_load_state()
    page.get_by_label("The camera's flash, close up").check()
    page.get_by_label("Take one photo beside your hand or a coin").check()
    page.get_by_role("button", name="Check my answers").click()
    page.wait_for_load_state()
    assert page.get_by_text("1 of 2 answers are right.").is_visible()
    page.get_by_label("Daylight from a window").check()
    page.get_by_role("button", name="Check my answers").click()
    page.wait_for_load_state()
    assert page.get_by_text("you completed this lesson").is_visible()
    shots(page, "lesson-quiz")
    page.get_by_role("link", name="See your certificate").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Certificate of completion").is_visible()
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "lesson-certificate")

    page.context.add_cookies([{"name": "tdh_lang", "value": "fil", "url": page.base}])
    go(page, "/m/lessons")
    assert page.get_by_text("Natapos mo ang 1 aralin sa 8.").is_visible()
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "lessons-fil")
    page.context.add_cookies([{"name": "tdh_lang", "value": "ceb", "url": page.base}])
    go(page, "/m/lessons/scams?screen=1")
    assert page.get_by_role("heading", name="Paglikay sa scam").is_visible()
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "lesson-screen-ceb")
