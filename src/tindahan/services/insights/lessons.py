"""Lessons for merchants (issue 26, item 5): the catalogue in the reader's language, a
merchant's progress and quiz answers, the certificate, the next lesson from the merchant's
own data, and the operator's editing.

A lesson in a language is the operator's saved one (``lessons``) if there is one, else the
shipped one (``insights.lessons.shipped``); a lesson without the asked language is shown
in English and says so (``lang`` in the answer). Progress is one row per merchant and
lesson: the furthest screen seen, the last quiz's score, and the first pass, which a later
failed try does not undo (the certificate stays).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update

from tindahan.commerce import photos as photo_rules
from tindahan.commerce.photos import Prepared
from tindahan.insights import lessons as rules
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.payments.model import PartyKind
from tindahan.services.platform import audit
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit, iso
from tindahan.store.commerce_tables import orders, product_photos, products, storefronts
from tindahan.store.lending_tables import loan_offers, loans
from tindahan.store.lesson_tables import lesson_images, lesson_progress, lessons
from tindahan.store.media import NAME


def _merchant(unit: Unit, caller: Caller, merchant_id: str) -> dict[str, Any]:
    caller.require("payments:read")
    row = party_row(unit, caller, merchant_id)
    if row["kind"] != PartyKind.MERCHANT:
        raise not_found("merchant", "merchant_id")
    return dict(row)


def _lang(lang: str) -> str:
    if lang not in rules.LANGUAGES:
        raise invalid("parameter_invalid", "lang is one of en, fil, ceb", "lang")
    return lang


def _saved(unit: Unit) -> dict[tuple[str, str], Any]:
    return {(r.slug, r.lang): r for r in unit.conn.execute(select(lessons))}


def _slugs(saved: dict[tuple[str, str], Any]) -> list[str]:
    """Shipped lessons in their order, then the operator's new ones by position."""
    extra: dict[str, int] = {}
    for (slug, _lang), row in saved.items():
        if slug not in rules.SLUGS:
            extra[slug] = min(extra.get(slug, row.position), row.position)
    return list(rules.SLUGS) + sorted(extra, key=lambda s: (extra[s], s))


class _Stored:
    """Any uploaded picture's name: a saved row's pictures were checked against
    ``lesson_images`` when it was saved, and those rows are never deleted."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and NAME.fullmatch(name) is not None


def _load(saved: dict[tuple[str, str], Any], slug: str, lang: str) -> rules.Lesson | None:
    for want in dict.fromkeys((lang, "en", *rules.LANGUAGES)):
        row = saved.get((slug, want))
        if row is not None:
            return rules.lesson(slug, want, row.title, row.summary, row.body, row.quiz, _Stored())
        found = rules.shipped(slug, want)
        if found is not None:
            return found
    return None


def _lesson(unit: Unit, slug: str, lang: str) -> rules.Lesson:
    found = _load(_saved(unit), slug, _lang(lang))
    if found is None:
        raise not_found("lesson", "slug")
    return found


def _progress(unit: Unit, merchant_id: str) -> dict[str, Any]:
    rows = unit.conn.execute(
        select(lesson_progress).where(lesson_progress.c.merchant_id == merchant_id)
    )
    return {r.slug: r for r in rows}


def _progress_view(row: Any) -> dict[str, Any]:
    if row is None:
        return {"screen": 0, "score": None, "questions": None, "completed_at": None}
    return {
        "screen": int(row.screen),
        "score": row.score,
        "questions": row.questions,
        "completed_at": iso(row.completed_at_ns),
    }


def catalogue(unit: Unit, caller: Caller, merchant_id: str, lang: str) -> dict[str, Any]:
    """Every lesson with the merchant's progress, and the one to take next."""
    _merchant(unit, caller, merchant_id)
    saved = _saved(unit)
    progress = _progress(unit, merchant_id)
    listed: list[dict[str, Any]] = []
    for slug in _slugs(saved):
        found = _load(saved, slug, _lang(lang))
        if found is None:
            continue
        listed.append(
            {
                "slug": slug,
                "lang": found.lang,
                "title": found.title,
                "summary": found.summary,
                "screens": len(found.screens),
                "questions": len(found.questions),
                "progress": _progress_view(progress.get(slug)),
            }
        )
    done = {s for s, r in progress.items() if r.completed_at_ns is not None}
    chosen = rules.suggest(facts(unit, merchant_id), [x["slug"] for x in listed], done)
    return {
        "object": "lessons",
        "merchant_id": merchant_id,
        "data": listed,
        "completed": sum(1 for x in listed if x["slug"] in done),
        "next": None if chosen is None else {"slug": chosen[0], "from_your_data": chosen[1]},
    }


def facts(unit: Unit, merchant_id: str) -> rules.Facts:
    """What the merchant's records say, for the next lesson."""
    own = (
        select(products.c.id)
        .join(storefronts, storefronts.c.id == products.c.storefront_id)
        .where(storefronts.c.merchant_id == merchant_id, products.c.active == 1)
    )
    mine = own.subquery()
    total = unit.conn.scalar(select(func.count()).select_from(mine)) or 0
    with_photo = (
        unit.conn.scalar(
            select(func.count(func.distinct(product_photos.c.product_id))).where(
                product_photos.c.product_id.in_(select(mine.c.id))
            )
        )
        or 0
    )
    short = unit.conn.scalar(
        select(func.count())
        .select_from(products)
        .where(
            products.c.id.in_(select(mine.c.id)),
            func.length(func.coalesce(products.c.description, "")) < rules.SHORT_DESCRIPTION_CHARS,
        )
    )
    costless = unit.conn.scalar(
        select(func.count())
        .select_from(products)
        .where(products.c.id.in_(select(mine.c.id)), products.c.cost_minor.is_(None))
    )
    paid = unit.conn.scalar(
        select(func.count())
        .select_from(orders)
        .where(orders.c.merchant_id == merchant_id, orders.c.paid_at_ns.is_not(None))
    )
    offer = unit.conn.scalar(
        select(func.count())
        .select_from(loan_offers)
        .where(
            loan_offers.c.merchant_id == merchant_id,
            loan_offers.c.status == "open",
            loan_offers.c.expires_at_ns > unit.now(),
        )
    )
    borrowed = unit.conn.scalar(
        select(func.count()).select_from(loans).where(loans.c.merchant_id == merchant_id)
    )
    return rules.Facts(
        open_offer=bool(offer),
        products_without_photo=int(total) - int(with_photo),
        products_short_description=int(short or 0),
        products_without_cost=int(costless or 0),
        paid_orders=int(paid or 0),
        has_loan=bool(borrowed),
    )


def _view(found: rules.Lesson, screen: int | None, row: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "object": "lesson",
        "slug": found.slug,
        "lang": found.lang,
        "title": found.title,
        "summary": found.summary,
        "screens": len(found.screens),
        "questions": [{"text": q.text, "choices": list(q.choices)} for q in found.questions],
        "progress": _progress_view(row),
    }
    if screen is not None:
        shown["screen"] = screen
        shown["html"] = rules.render(found.screens[screen - 1])
    return shown


def lesson(unit: Unit, caller: Caller, merchant_id: str, slug: str, lang: str) -> dict[str, Any]:
    """A whole lesson, every screen as safe HTML, with the merchant's progress (read only)."""
    _merchant(unit, caller, merchant_id)
    found = _lesson(unit, slug, lang)
    shown = _view(found, None, _progress(unit, merchant_id).get(slug))
    shown["screens_html"] = [rules.render(part) for part in found.screens]
    return shown


def open_screen(
    unit: Unit, caller: Caller, merchant_id: str, slug: str, screen: int, lang: str
) -> dict[str, Any]:
    """Screen ``screen`` (from 1) of a lesson, as safe HTML; the furthest screen seen is
    kept."""
    _merchant(unit, caller, merchant_id)
    found = _lesson(unit, slug, lang)
    if isinstance(screen, bool) or not isinstance(screen, int):
        raise invalid("parameter_invalid", "screen is a whole number", "screen")
    if not 1 <= screen <= len(found.screens):
        raise invalid("parameter_invalid", f"screen is from 1 to {len(found.screens)}", "screen")
    row = _touch(unit, merchant_id, found, screen=screen)
    return _view(found, screen, row)


def open_quiz(unit: Unit, caller: Caller, merchant_id: str, slug: str, lang: str) -> dict[str, Any]:
    """The lesson's questions (every screen counts as seen)."""
    _merchant(unit, caller, merchant_id)
    found = _lesson(unit, slug, lang)
    row = _touch(unit, merchant_id, found, screen=len(found.screens))
    return _view(found, None, row)


def _touch(
    unit: Unit,
    merchant_id: str,
    found: rules.Lesson,
    *,
    screen: int | None = None,
    score: int | None = None,
    passed: bool = False,
) -> Any:
    now = unit.now()
    key = (lesson_progress.c.merchant_id == merchant_id, lesson_progress.c.slug == found.slug)
    row = unit.conn.execute(select(lesson_progress).where(*key)).first()
    if row is None:
        unit.conn.execute(
            insert(lesson_progress).values(
                merchant_id=merchant_id,
                slug=found.slug,
                screen=screen or 0,
                lang=found.lang,
                started_at_ns=now,
                updated_at_ns=now,
            )
        )
    values: dict[str, Any] = {"updated_at_ns": now, "lang": found.lang}
    if screen is not None:
        current = 0 if row is None else int(row.screen)
        values["screen"] = max(current, screen)
    if score is not None:
        values["score"] = score
        values["questions"] = len(found.questions)
        values["screen"] = len(found.screens)
        if passed and (row is None or row.completed_at_ns is None):
            values["completed_at_ns"] = now
    unit.conn.execute(update(lesson_progress).where(*key).values(**values))
    return unit.conn.execute(select(lesson_progress).where(*key)).first()


def answer(
    unit: Unit,
    caller: Caller,
    merchant_id: str,
    slug: str,
    answers: Sequence[int | None],
    lang: str,
) -> dict[str, Any]:
    """Grade the quiz: every answer right passes (the first pass is kept as completion)."""
    _merchant(unit, caller, merchant_id)
    found = _lesson(unit, slug, lang)
    if len(answers) != len(found.questions):
        raise invalid(
            "parameter_invalid",
            f"answers has one entry per question ({len(found.questions)})",
            "answers",
        )
    for number, (given, question) in enumerate(zip(answers, found.questions, strict=True), 1):
        if given is not None and (
            isinstance(given, bool)
            or not isinstance(given, int)
            or not 0 <= given < len(question.choices)
        ):
            raise invalid(
                "parameter_invalid",
                f"the answer to question {number} is a choice from 0 to "
                f"{len(question.choices) - 1}",
                "answers",
            )
    right = rules.grade(found.questions, answers)
    passed = all(right)
    row = _touch(unit, merchant_id, found, score=sum(right), passed=passed)
    return {
        **_view(found, None, row),
        "object": "lesson_attempt",
        "right": right,
        "passed": passed,
        "score": sum(right),
    }


def certificate(
    unit: Unit, caller: Caller, merchant_id: str, slug: str, lang: str
) -> dict[str, Any]:
    """What the certificate of a completed lesson says; a lesson not passed has none."""
    merchant = _merchant(unit, caller, merchant_id)
    found = _lesson(unit, slug, lang)
    row = _progress(unit, merchant_id).get(slug)
    if row is None or row.completed_at_ns is None:
        raise conflict("lesson_not_completed", "the lesson's quiz is not passed yet", "slug")
    return {
        "object": "lesson_certificate",
        "merchant_id": merchant_id,
        "name": merchant["name"],
        "slug": slug,
        "lang": found.lang,
        "title": found.title,
        "completed_at": iso(row.completed_at_ns),
        "completed_at_ns": int(row.completed_at_ns),
    }


# --- the operator ---------------------------------------------------------------------------
def source(unit: Unit, caller: Caller, slug: str, lang: str) -> dict[str, Any]:
    """A lesson's Markdown and quiz as the console edits them (the shipped one until saved)."""
    caller.require_operator()
    saved = _saved(unit)
    row = saved.get((slug, _lang(lang)))
    if row is not None:
        return {
            "slug": slug,
            "lang": lang,
            "title": row.title,
            "summary": row.summary,
            "body": row.body,
            "quiz": row.quiz,
            "saved": True,
        }
    found = rules.shipped(slug, lang)
    if found is None:  # a new lesson, or one not written in this language yet
        if not rules.SLUG.match(slug) or len(slug) > rules.SLUG_MAX_CHARS:
            raise not_found("lesson", "slug")
        return {"slug": slug, "lang": lang, "title": "", "summary": "", "body": "",
                "quiz": "", "saved": False}  # fmt: skip
    return {
        "slug": slug,
        "lang": lang,
        "title": found.title,
        "summary": found.summary,
        "body": found.body,
        "quiz": found.quiz,
        "saved": False,
    }


def catalogue_for_operator(unit: Unit, caller: Caller, lang: str) -> list[dict[str, Any]]:
    """Every lesson in one language for the console: its title, whether the operator saved
    its own, and how many merchants completed it."""
    caller.require_operator()
    saved = _saved(unit)
    done: dict[str, int] = dict(
        unit.conn.execute(
            select(lesson_progress.c.slug, func.count())
            .where(lesson_progress.c.completed_at_ns.is_not(None))
            .group_by(lesson_progress.c.slug)
        ).all()
    )
    listed = []
    for slug in _slugs(saved):
        found = _load(saved, slug, _lang(lang))
        listed.append(
            {
                "slug": slug,
                "title": found.title if found is not None else slug,
                "written": found is not None and found.lang == lang,
                "saved": (slug, lang) in saved,
                "completed": int(done.get(slug, 0)),
            }
        )
    return listed


def save(
    unit: Unit,
    caller: Caller,
    slug: str,
    lang: str,
    title: str,
    summary: str,
    body: str,
    quiz: str,
) -> dict[str, Any]:
    """Write (or replace) a lesson in one language, checked whole first: a broken picture,
    unsafe HTML or a bad quiz is refused naming the field, and nothing is written."""
    caller.require_operator()
    try:
        checked = rules.lesson(slug, lang, title, summary, body, quiz, _uploaded(unit, body))
    except rules.LessonError as error:
        raise invalid("lesson_invalid", error.message, error.field) from None
    saved = _saved(unit)
    slugs = _slugs(saved)
    position = slugs.index(slug) if slug in slugs else len(slugs)
    values = {
        "position": position,
        "title": checked.title,
        "summary": checked.summary,
        "body": checked.body,
        "quiz": checked.quiz,
        "updated_by": caller.key_id,
        "updated_at_ns": unit.now(),
    }
    if (slug, lang) in saved:
        unit.conn.execute(
            update(lessons).where(lessons.c.slug == slug, lessons.c.lang == lang).values(**values)
        )
    else:
        unit.conn.execute(insert(lessons).values(slug=slug, lang=lang, **values))
    audit.record(unit, caller.key_id, "lesson.saved", "lesson", f"{slug}/{lang}")
    return {
        "object": "lesson",
        "slug": slug,
        "lang": lang,
        "title": checked.title,
        "screens": len(checked.screens),
        "questions": len(checked.questions),
    }


def _uploaded(unit: Unit, body: str) -> frozenset[str]:
    """The uploaded pictures among the ``/media/`` names ``body`` mentions."""
    names = {m for m in _MEDIA.findall(body)}
    if not names:
        return frozenset()
    found = select(lesson_images.c.name).where(lesson_images.c.name.in_(sorted(names)))
    return frozenset(unit.conn.execute(found).scalars())


_MEDIA = re.compile(re.escape(rules.UPLOAD_PREFIX) + r"([0-9a-f]{64}\.webp)")


def prepare_image(data: bytes) -> Prepared:
    """An upload checked and re-encoded as a product photo is (no unit: call it before
    opening one; a refusal, param ``file``, stores nothing)."""
    return photo_rules.prepare(data)


def upload_image(unit: Unit, caller: Caller, prepared: Prepared) -> dict[str, Any]:
    """Keep a picture for lessons (operator only): its renditions in the media store, its
    row named by the widest. The same picture uploaded again answers the same name."""
    caller.require_operator()
    widest = prepared.renditions[-1]
    for rendition in prepared.renditions:
        unit.platform.media.put(rendition.name, rendition.data)
    row = unit.conn.execute(
        select(lesson_images).where(lesson_images.c.name == widest.name)
    ).first()
    if row is None:
        renditions = [{"w": r.width, "h": r.height, "name": r.name} for r in prepared.renditions]
        unit.conn.execute(
            insert(lesson_images).values(
                name=widest.name,
                width=prepared.width,
                height=prepared.height,
                renditions=json.dumps(renditions),
                uploaded_by=caller.key_id,
                created_at_ns=unit.now(),
            )
        )
        digest = widest.name.removesuffix(".webp")  # the audit's subject fits 64 characters
        audit.record(unit, caller.key_id, "lesson_image.uploaded", "lesson_image", digest)
    return image_view(widest.name, prepared.width, prepared.height)


def image_view(name: str, width: int, height: int) -> dict[str, Any]:
    url = rules.UPLOAD_PREFIX + name
    return {
        "object": "lesson_image",
        "name": name,
        "url": url,
        "width": width,
        "height": height,
        #: What to paste into a lesson's text (the words in brackets: what it shows).
        "markdown": f"![what it shows]({url})",
    }


def images(unit: Unit, caller: Caller) -> list[dict[str, Any]]:
    """The pictures uploaded for lessons, newest first (operator only)."""
    caller.require_operator()
    rows = unit.conn.execute(
        select(lesson_images).order_by(lesson_images.c.created_at_ns.desc(), lesson_images.c.name)
    )
    return [image_view(r.name, r.width, r.height) for r in rows]


def completions(unit: Unit) -> dict[str, int]:
    """Lessons completed per merchant (for the operator's aggregates)."""
    rows = unit.conn.execute(
        select(lesson_progress.c.merchant_id, func.count())
        .where(lesson_progress.c.completed_at_ns.is_not(None))
        .group_by(lesson_progress.c.merchant_id)
    )
    return {merchant: int(count) for merchant, count in rows}
