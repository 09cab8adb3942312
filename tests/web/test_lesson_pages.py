"""Lessons on the merchant's pages and in the console (issue 26, item 5), over HTTP on SQLite
and PostgreSQL: the list with the next lesson from the shop's data, the screens, a quiz
failed then passed, the certificate, in English, Filipino and Cebuano; the operator's editor
refusing a broken picture and unsafe HTML beside the field with nothing saved."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image

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


def _upload(browser, data: bytes, name: str = "shelf.jpg") -> httpx.Response:
    html = browser.get("/op/lessons/eir/en").text
    form = html[html.index('enctype="multipart/form-data"') :]
    body = {"csrf_token": browser.token(form), "idempotency_key": browser.key(form)}
    files = {"file": (name, data, "image/jpeg")}
    return browser.http.post("/op/lessons/eir/en/images", data=body, files=files)


def test_the_operator_uploads_a_picture_for_a_lesson(site: Site, browser):
    """The editor's upload: a picture kept as WebP and served at /media/, the Markdown line to
    paste said; a file that is no picture refused beside the field; a lesson naming a
    /media/ picture never uploaded refused; a merchant cannot upload."""
    browser.sign_in(site.merchant)
    assert _denied(browser)
    browser.sign_in(site.operator)
    refused = _upload(browser, b"%PDF-1.4 not a photo", "menu.jpg")
    assert refused.status_code == 400 and 'id="e-file"' in refused.text
    out = io.BytesIO()
    Image.new("RGB", (1000, 750), (90, 40, 160)).save(out, "JPEG")
    done = _upload(browser, out.getvalue())
    assert done.status_code == 303, done.text
    page = browser.get(done.headers["location"]).text
    line = re.search(r"<code>(!\[what it shows\]\((/media/[0-9a-f]{64}\.webp)\))</code>", page)
    assert line and "Picture uploaded." in page
    served = browser.http.get(line.group(2))
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(served.content)) as kept:
        assert kept.format == "WEBP" and kept.size == (1000, 750) and not kept.info.get("exif")

    quiz = "? What is EIR?\n+ The true cost\n- A fee"
    made_up = "/media/" + "e" * 64 + ".webp"
    sent = {"title": "EIR", "summary": "", "body": f"![x]({made_up})", "quiz": quiz}
    editor = browser.get("/op/lessons/eir/en")
    broken = browser.post("/op/lessons/eir/en", {**sent, "idempotency_key": _key(editor.text)})
    assert broken.status_code == 400
    assert f"shows a picture that does not exist: {made_up}" in broken.text
    good = {**sent, "body": "Fees count.\n\n" + line.group(1).replace("what it shows", "A jar")}
    editor = browser.get("/op/lessons/eir/en")
    saved = browser.post("/op/lessons/eir/en", {**good, "idempotency_key": _key(editor.text)})
    assert saved.status_code == 303, saved.text
    browser.sign_in(site.merchant)
    shown = browser.get("/m/lessons/eir").text
    assert f'<img src="{line.group(2)}" alt="A jar">' in shown


def _denied(browser) -> bool:
    """A merchant reaches neither the editor nor its upload."""
    return browser.get("/op/lessons/eir/en").status_code in (303, 403, 404) and (
        browser.http.post("/op/lessons/eir/en/images", data={}).status_code in (303, 403, 404)
    )
