"""Lessons in Chromium at 360 px (issue 26, item 5): a merchant opens them from the dashboard,
follows the suggestion, reads the screens, fails the quiz, passes it and sees the
certificate — then the list and a lesson in Filipino and Cebuano; the operator uploads a
picture in the console's editor and the lesson's last screen shows it; nothing is wider than
the phone, and every page passes the accessibility checks."""

from __future__ import annotations

from PIL import Image

from tests.web import test_browser as journeys
from tests.web.test_browser import go, shots, sign_in

db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"
#: Resolves once an <img> has finished loading (or failing): read its size after it.
LOADED = "img => img.complete || new Promise(done => img.addEventListener('load', done))"


def test_a_lesson_on_a_phone_in_three_languages(site, open_page, tmp_path):
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
    picture.wait_for(state="visible")
    picture.evaluate(LOADED)
    assert picture.evaluate("img => img.naturalWidth") > 0
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

    # The operator uploads a picture in the console's editor and shows it in a lesson; the
    # merchant's screen loads it (served at /media/, allowed by the pages' CSP).
    staff = open_page()
    sign_in(staff, site.operator)
    go(staff, "/op/lessons/scams/en")
    photo = tmp_path / "shelf.jpg"
    Image.new("RGB", (800, 600), (40, 140, 90)).save(photo, "JPEG")
    staff.get_by_label("Picture", exact=True).set_input_files(str(photo))
    staff.get_by_role("button", name="Upload the picture").click()
    staff.wait_for_load_state()
    line = staff.locator("#pictures .notice code").inner_text()
    assert line.startswith("![what it shows](/media/") and line.endswith(".webp)")
    # The answer page may still be loading its picture when the notice is read: wait for the
    # picture itself, then read its size.
    picture = "document.querySelector('#pictures li img')"
    staff.wait_for_function(f"() => {picture} !== null && {picture}.complete")
    assert staff.evaluate(f"{picture}.naturalWidth") == 800
    shots(staff, "lesson-editor-picture")
    body = staff.get_by_label("Text, in Markdown")
    shown_line = line.replace("what it shows", "A tidy shelf of goods")
    body.fill(body.input_value() + "\n\n" + shown_line)  # on the last screen
    staff.get_by_role("button", name="Save").click()
    staff.wait_for_load_state()
    assert staff.get_by_text("Saved.").is_visible()
    page.context.add_cookies([{"name": "tdh_lang", "value": "en", "url": page.base}])
    go(page, "/m/lessons/scams?screen=3")
    shown = page.get_by_role("img", name="A tidy shelf of goods")
    assert shown.is_visible()
    shown.evaluate(LOADED)
    assert shown.evaluate("img => img.naturalWidth") > 0
    assert page.evaluate(NO_SIDEWAYS)
