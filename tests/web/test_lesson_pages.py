"""Lessons on the merchant's pages and in the console (issue 26, item 5), over HTTP on SQLite
and PostgreSQL: the list with the next lesson from the shop's data, the screens, a quiz
failed then passed, the certificate, in English, Filipino and Cebuano; the operator's editor
refusing a broken picture and unsafe HTML beside the field with nothing saved."""

from __future__ import annotations

import re

from tests.web.conftest import Site

PHOTOS_RIGHT = {"q0": "1", "q1": "1"}


def _key(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_merchant_takes_the_photo_lesson(site: Site, browser):
    browser.sign_in(site.merchant)
    listed = browser.get("/m/lessons")
    assert listed.status_code == 200, listed.text
    html = listed.text
    assert "You have completed 0 lessons of 8." in html
    assert "Some of your products have no photo yet." in html  # the shop's own data
    assert 'href="/m/lessons/photos"' in html

    first = browser.get("/m/lessons/photos")
    assert first.status_code == 200 and "Screen 1 of 3" in first.text
    assert '<img src="/lessons/pictures/photo-light.svg"' in first.text
    assert 'href="/m/lessons/photos?screen=2"' in first.text
    last = browser.get("/m/lessons/photos?screen=3")
    assert 'href="/m/lessons/photos/quiz"' in last.text
    wrong = browser.get("/m/lessons/photos?screen=9")
    assert wrong.status_code == 400 and "There is no such screen" in wrong.text
    picture = browser.get("/lessons/pictures/photo-light.svg")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/svg+xml"
    assert browser.get("/lessons/pictures/nope.svg").status_code == 404

    quiz = browser.get("/m/lessons/photos/quiz")
    assert quiz.status_code == 200 and "Which light is best for a product photo?" in quiz.text
    unanswered = browser.post("/m/lessons/photos/quiz", {"q0": "1"})
    assert unanswered.status_code == 400 and "Please answer every question." in unanswered.text
    failed = browser.post("/m/lessons/photos/quiz", {"q0": "0", "q1": "1"})
    assert "1 of 2 answers are right." in failed.text
    assert browser.get("/m/lessons/photos/certificate").status_code == 303
    passed = browser.post("/m/lessons/photos/quiz", PHOTOS_RIGHT)
    assert "All 2 answers are right: you completed this lesson." in passed.text
    paper = browser.get("/m/lessons/photos/certificate")
    assert paper.status_code == 200
    assert "Aling Nena&#39;s Store" in paper.text and "Taking product photos" in paper.text
    listed = browser.get("/m/lessons").text
    assert "You have completed 1 lesson of 8." in listed

    browser.http.cookies.set("tdh_lang", "fil")
    assert "Pagkuha ng litrato ng produkto" in browser.get("/m/lessons/photos/certificate").text
    assert "Mga aralin" in browser.get("/m/lessons").text
    browser.http.cookies.set("tdh_lang", "ceb")
    shown = browser.get("/m/lessons/scams").text
    assert "Paglikay sa scam ug peke nga screenshot sa bayad" in shown


def test_another_merchant_and_a_buyer_see_none_of_it(site: Site, browser):
    browser.sign_in(site.other_merchant)
    assert "You have completed 0 lessons of 8." in browser.get("/m/lessons").text
    assert browser.get("/m/lessons/photos/certificate").status_code == 303
    assert browser.get("/m/lessons/no-such-lesson").status_code == 404
    browser.sign_in(site.buyer)
    assert browser.get("/m/lessons").status_code in (303, 403, 404)


def test_the_operator_edits_a_lesson(site: Site, browser):
    browser.sign_in(site.operator)
    table = browser.get("/op/lessons")
    assert table.status_code == 200 and "/op/lessons/eir/ceb" in table.text
    editor = browser.get("/op/lessons/eir/en")
    assert editor.status_code == 200 and "What a loan&#39;s EIR means" in editor.text
    body = "Fees count.\n\n![gone](/lessons/pictures/gone.svg)"
    quiz = "? What is EIR?\n+ The true cost\n- A fee"
    sent = {"title": "EIR", "summary": "", "body": body, "quiz": quiz}
    broken = browser.post("/op/lessons/eir/en", {**sent, "idempotency_key": _key(editor.text)})
    assert broken.status_code == 400
    assert "shows a picture that does not exist: /lessons/pictures/gone.svg" in broken.text
    assert 'id="e-body"' in broken.text and "gone.svg" in broken.text  # kept, beside the field
    unsafe = {**sent, "body": 'Fees <img src="/lessons/pictures/parcel.svg" onerror="x()">'}
    refused = browser.post("/op/lessons/eir/en", {**unsafe, "idempotency_key": _key(broken.text)})
    assert refused.status_code == 400 and "onerror=" in refused.text
    assert "What a loan&#39;s EIR means" in browser.get("/op/lessons/eir/en").text  # unchanged
    good = {**sent, "body": "Fees count.\n\n---\n\n![A box](/lessons/pictures/parcel.svg)"}
    editor = browser.get("/op/lessons/eir/en")
    saved = browser.post("/op/lessons/eir/en", {**good, "idempotency_key": _key(editor.text)})
    assert saved.status_code == 303, saved.text
    assert "Saved." in browser.get(saved.headers["location"]).text
    browser.sign_in(site.merchant)
    assert "Screen 1 of 2" in browser.get("/m/lessons/eir").text
