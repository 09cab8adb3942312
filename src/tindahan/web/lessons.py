"""Lessons (issue 26, item 5): the merchant's list, the screens, the quiz and the certificate;
the operator's editor in the console; the lessons' drawings.

* ``/m/lessons``: every lesson with the merchant's progress, the one its own data points to
  first ("Next for you") with the reason in one sentence.
* ``/m/lessons/{slug}?screen=N``: one phone screen of the lesson (its HTML cleaned by the
  domain, ``insights.lessons``), back and next; the last screen leads to the quiz.
* ``/m/lessons/{slug}/quiz``: the questions as radio buttons; the answer says which were
  wrong (try again) or leads to the certificate.
* ``/m/lessons/{slug}/certificate``: the shop's name, the lesson, the date passed.
* ``/op/lessons`` and ``/op/lessons/{slug}/{lang}``: the operator's list and editor (Markdown
  and the quiz; a refusal beside its field, nothing saved).
* ``/op/lessons/{slug}/{lang}/images``: the editor's upload of a picture for lessons (checked
  and re-encoded as a product photo; served at ``/media/NAME.webp`` like them); the editor
  lists the pictures uploaded with the Markdown line that shows each.
* ``/lessons/pictures/NAME.svg``: the shipped drawings (no one needs to be signed in).

A lesson is read in the page's language; one the operator has not written in it yet is
shown in English, with a note.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tindahan import limits
from tindahan.insights import lessons as rules
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.insights import lessons
from tindahan.services.unit import Unit
from tindahan.web import forms, i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant, Operator

router = make_router()


def reason_text(slug: str) -> str:
    """Why the merchant's own data points to a lesson, in one sentence."""
    return {
        "eir": _("You have a loan offer open: learn what its EIR tells you before you accept."),
        "photos": _("Some of your products have no photo yet."),
        "descriptions": _("Some of your products have a short description."),
        "pricing": _("You have not recorded what some of your products cost you."),
        "shipping": _("Buyers are ordering from your shop online."),
        "credit-history": _("You have no loan yet: start building your history now."),
    }.get(slug, "")


def _merchant_id(viewer: Any) -> str:
    assert viewer.caller.party_id is not None
    return str(viewer.caller.party_id)


def _run(request: Request, work: Any, *, write: bool = False) -> Any:
    return session.platform(request).run(work, write=write)


@router.get("/lessons/pictures/{name}")
def lesson_picture(name: str) -> Response:
    found = rules.picture(name)
    if found is None:
        return Response(status_code=404)
    response = Response(found, media_type="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/m/lessons")
def lesson_list(request: Request, viewer: Merchant) -> Response:
    merchant, lang = _merchant_id(viewer), i18n.language()
    found = _run(request, lambda u: lessons.catalogue(u, viewer.caller, merchant, lang))
    chosen = found["next"]
    by_slug = {item["slug"]: item for item in found["data"]}
    return render.page(
        request,
        "merchant/lessons.html",
        catalogue=found,
        next_lesson=None if chosen is None else by_slug[chosen["slug"]],
        next_reason=reason_text(chosen["slug"]) if chosen and chosen["from_your_data"] else "",
    )


@router.get("/m/lessons/{slug}")
def lesson_screen(
    request: Request,
    slug: str,
    viewer: Merchant,
    screen: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    merchant, lang = _merchant_id(viewer), i18n.language()

    text = (screen or "1").strip()
    number = int(text) if text.isdigit() and 0 < int(text) <= 999 else 0

    def work(unit: Unit) -> dict[str, Any]:
        if number:
            try:
                shown = lessons.open_screen(unit, viewer.caller, merchant, slug, number, lang)
            except RefusalError as refusal:
                if refusal.param != "screen":
                    raise
            else:
                return {"lesson": shown, "asked_wrong": False}
        first = lessons.open_screen(unit, viewer.caller, merchant, slug, 1, lang)
        return {"lesson": first, "asked_wrong": True}

    found = _run(request, work, write=True)
    lesson = found["lesson"]
    return render.page(
        request,
        "merchant/lesson.html",
        400 if found["asked_wrong"] else 200,
        lesson=lesson,
        other_language=lesson["lang"] != lang,
        screen_error=_("There is no such screen: here is the first.")
        if found["asked_wrong"]
        else None,
    )


def _quiz_page(
    request: Request,
    lesson: dict[str, Any],
    *,
    status: int = 200,
    result: dict[str, Any] | None = None,
    chosen: list[int | None] | None = None,
    error: str | None = None,
) -> Response:
    return render.page(
        request,
        "merchant/lesson_quiz.html",
        status,
        lesson=lesson,
        result=result,
        chosen=chosen or [None] * len(lesson["questions"]),
        quiz_error=error,
        other_language=lesson["lang"] != i18n.language(),
    )


def _lesson(request: Request, viewer: Any, slug: str) -> dict[str, Any]:
    merchant, lang = _merchant_id(viewer), i18n.language()
    return dict(
        _run(
            request,
            lambda u: lessons.open_quiz(u, viewer.caller, merchant, slug, lang),
            write=True,
        )
    )


@router.get("/m/lessons/{slug}/quiz")
def lesson_quiz(request: Request, slug: str, viewer: Merchant) -> Response:
    merchant, lang = _merchant_id(viewer), i18n.language()

    found = _run(
        request, lambda u: lessons.open_quiz(u, viewer.caller, merchant, slug, lang), write=True
    )
    return _quiz_page(request, found)


@router.post("/m/lessons/{slug}/quiz")
async def answer_quiz(request: Request, slug: str, viewer: Merchant) -> Response:
    form = await forms.read(request)
    lesson = await run_in_threadpool(_lesson, request, viewer, slug)
    chosen: list[int | None] = []
    for number, question in enumerate(lesson["questions"]):
        raw = form.values.get(f"q{number}", "")
        ok = raw.isdigit() and int(raw) < len(question["choices"])
        chosen.append(int(raw) if ok else None)
    if any(c is None for c in chosen):
        return _quiz_page(
            request,
            lesson,
            status=400,
            chosen=chosen,
            error=_("Please answer every question."),
        )
    merchant, lang = _merchant_id(viewer), i18n.language()

    def work(unit: Unit) -> dict[str, Any]:
        return lessons.answer(unit, viewer.caller, merchant, slug, chosen, lang)

    result = await run_in_threadpool(_run, request, work, write=True)
    return _quiz_page(request, lesson, result=result, chosen=chosen)


@router.get("/m/lessons/{slug}/certificate")
def lesson_certificate(request: Request, slug: str, viewer: Merchant) -> Response:
    merchant, lang = _merchant_id(viewer), i18n.language()
    try:
        found = _run(request, lambda u: lessons.certificate(u, viewer.caller, merchant, slug, lang))
    except RefusalError as refusal:
        if refusal.code != "lesson_not_completed":
            raise
        return RedirectResponse(f"/m/lessons/{slug}/quiz", status_code=303)
    return render.page(request, "merchant/lesson_certificate.html", certificate=found)


# --- the operator's editor --------------------------------------------------------------------
@router.get("/op/lessons")
def console_lessons(request: Request, viewer: Operator) -> Response:
    def work(unit: Unit) -> list[dict[str, Any]]:
        rows = []
        for lang in rules.LANGUAGES:
            found = lessons.catalogue_for_operator(unit, viewer.caller, lang)
            rows.append({"lang": lang, "lessons": found})
        return rows

    return render.page(
        request,
        "console/lessons.html",
        by_language=_run(request, work),
    )


@router.get("/op/lessons/new")
def console_new_lesson(
    viewer: Operator, slug: Annotated[str, Query(max_length=40)] = ""
) -> Response:
    """A new lesson's editor, in English first (its address is its short name)."""
    return RedirectResponse(f"/op/lessons/{slug.strip().lower() or 'new'}/en", status_code=303)


_LESSON_FIELDS = ("title", "summary", "body", "quiz")


@router.get("/op/lessons/{slug}/{lang}")
def console_lesson(
    request: Request, slug: str, lang: str, viewer: Operator, saved: str = "", uploaded: str = ""
) -> Response:
    found = _run(request, lambda u: lessons.source(u, viewer.caller, slug, lang))
    return _editor(request, viewer, slug, lang, {k: found[k] for k in _LESSON_FIELDS},
                   saved=saved == "1", uploaded=uploaded)  # fmt: skip


def _editor(
    request: Request,
    viewer: Operator,
    slug: str,
    lang: str,
    values: dict[str, str],
    status: int = 200,
    errors: dict[str, str] | None = None,
    image_errors: dict[str, str] | None = None,
    saved: bool = False,
    uploaded: str = "",
) -> Response:
    pictures = _run(request, lambda u: lessons.images(u, viewer.caller))
    just = next((p for p in pictures if p["name"] == uploaded), None)
    return render.page(
        request,
        "console/lesson.html",
        status,
        slug=slug,
        lesson_lang=lang,
        values=values,
        errors=errors or {},
        image_errors=image_errors or {},
        saved=saved,
        uploaded=just,
        pictures=pictures,
        new=False,
    )


@router.post("/op/lessons/{slug}/{lang}/images")
async def upload_image(request: Request, slug: str, lang: str, viewer: Operator) -> Response:
    """A picture for lessons: refused beside the file field (not an image, too large, …),
    else kept and the editor shows the Markdown line to paste."""
    form = await forms.read(request)
    parsed = await request.form()
    try:
        sent = parsed.get("file")
        data: bytes | None = None
        if not isinstance(sent, UploadFile) or not sent.filename:
            form.fail("file", _("Choose a photo (JPEG, PNG or WebP)."))
        else:
            data = await sent.read(limits.PHOTO_MAX_BYTES + 1)
    finally:
        await parsed.close()
    if form.ok and data is not None:
        form.values["image_sha256"] = hashlib.sha256(data).hexdigest()  # the key's fingerprint
        try:
            prepared = await run_in_threadpool(lessons.prepare_image, data)

            def work(u: Unit) -> dict[str, Any]:
                return lessons.upload_image(u, viewer.caller, prepared)

            done = await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, {"file": "file"})
        else:
            query = urlencode({"uploaded": done["name"]})
            return RedirectResponse(f"/op/lessons/{slug}/{lang}?{query}", status_code=303)
    found = await run_in_threadpool(
        _run, request, lambda u: lessons.source(u, viewer.caller, slug, lang)
    )
    values = {k: found[k] for k in _LESSON_FIELDS}
    return await run_in_threadpool(
        lambda: _editor(request, viewer, slug, lang, values, 400, image_errors=form.errors)
    )


@router.post("/op/lessons/{slug}/{lang}")
async def save_lesson(request: Request, slug: str, lang: str, viewer: Operator) -> Response:
    form = await forms.read(request)
    values = {k: form.values.get(k, "") for k in _LESSON_FIELDS}

    def work(unit: Unit) -> dict[str, Any]:
        return lessons.save(unit, viewer.caller, slug, lang, **values)

    try:
        await forms.run_submit(request, viewer, form, work)
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        form.refusal(refusal, {p: p for p in (*_LESSON_FIELDS, "slug", "lang")})
    else:
        return RedirectResponse(f"/op/lessons/{slug}/{lang}?saved=1", status_code=303)
    return await run_in_threadpool(
        lambda: _editor(request, viewer, slug, lang, values, 400, errors=form.errors)
    )
