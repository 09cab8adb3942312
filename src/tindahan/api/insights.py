"""Insights over HTTP: for the operator, the aggregates across merchants by province and
category (issue 26, item 6), as JSON and as a CSV to export; for a merchant, its sales mix
(item 1: by hour, repeat buyers, average basket, channels); and lessons (item 5): the
catalogue with the next lesson, a whole lesson, screens seen, quiz answers, the certificate,
and the operator's writing of a lesson's text.

The aggregates are for operator keys only (a merchant's key is refused ``operator_only``);
every figure about fewer than ten merchants is withheld, with the complementary withholding
that keeps it from being subtracted out (``insights.aggregates`` says how and why). The
sales mix is a merchant's own; another merchant's is "no such merchant" (404).
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.api.deps import CallerDep, IdempotencyKey, idempotent, read
from tindahan.api.schemas import Request as Body
from tindahan.kernel.refusals import invalid
from tindahan.services.insights import aggregates, calendar, cashflow, lessons, mix, products

router = APIRouter(prefix="/v1")
Json = dict[str, Any]
Days = Annotated[int, Query(ge=1, le=limits.INSIGHTS_MAX_AGGREGATE_DAYS)]


def _whose(who: Any, merchant_id: str | None) -> str:
    """The merchant a request is about: the one named (an operator must name one), else the
    caller's own party. Whether the caller may read it is the service's check."""
    merchant = merchant_id or who.party_id
    if merchant is None:
        raise invalid("parameter_missing", "an operator names the merchant", "merchant_id")
    return str(merchant)


@router.get("/insights/merchant_aggregates", response_model=Json, tags=["insights"])
def merchant_aggregates(
    request: Request, who: CallerDep, days: Days = limits.INSIGHTS_DEFAULT_AGGREGATE_DAYS
) -> Any:
    """Merchants, active merchants, digital sales and growth, borrowers, outstanding and PAR,
    by province and category over the last ``days`` complete days; withheld figures are
    ``null`` with their block named in ``withheld``."""
    return read(request, lambda u: aggregates.merchant_aggregates(u, who, days))


@router.get(
    "/insights/merchant_aggregates.csv",
    tags=["insights"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def merchant_aggregates_csv(
    request: Request, who: CallerDep, days: Days = limits.INSIGHTS_DEFAULT_AGGREGATE_DAYS
) -> Response:
    """The same table as CSV: cells, then totals (``all``); a withheld figure is ``x``."""
    report = read(request, lambda u: aggregates.merchant_aggregates(u, who, days))
    return Response(
        aggregates.to_csv(report),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="merchant-aggregates.csv"'},
    )


@router.get("/insights/sales_mix", response_model=Json, tags=["insights"])
def sales_mix(
    request: Request,
    who: CallerDep,
    merchant_id: Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)] = None,
    days: Annotated[int, Query(ge=1, le=mix.MAX_DAYS)] = 28,
) -> Any:
    """A merchant's sales by Manila hour, repeat buyers and their share, the average basket
    and the online / QR / payment-request split over the last ``days`` complete days. A
    merchant's key reads its own (``merchant_id`` may be left out); an operator's names one."""
    merchant = _whose(who, merchant_id)
    return read(request, lambda u: mix.sales_mix(u, who, merchant, days))


class ProductCost(Body):
    product_id: Annotated[str, Field(min_length=1, max_length=limits.ID_MAX_LENGTH)]
    #: What one piece costs the merchant, in centavos; null forgets it.
    cost_minor: Annotated[int | None, Field(ge=0, le=limits.MAX_AMOUNT_MINOR)]


@router.get("/insights/sales_calendar", response_model=Json, tags=["insights"])
def sales_calendar(
    request: Request,
    who: CallerDep,
    merchant_id: Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)] = None,
    weeks: Annotated[int, Query(ge=1, le=calendar.MAX_WEEKS)] = 13,
) -> Any:
    """The average sales of each weekday over the last ``weeks`` weeks (the best one and its
    lift over the average day), and what paydays, holidays and the Christmas season do to the
    store's sales over the last year: a factor against a usual day (2 places), ``more``,
    ``less``, ``same`` (within 10 %) or ``unseen``, and the days of each seen."""
    merchant = _whose(who, merchant_id)
    return read(request, lambda u: calendar.sales_calendar(u, who, merchant, weeks))


@router.get("/insights/cash_flow", response_model=Json, tags=["insights"])
def cash_flow(
    request: Request,
    who: CallerDep,
    merchant_id: Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)] = None,
    days: Annotated[int, Query(ge=1, le=cashflow.MAX_DAYS)] = 30,
) -> Any:
    """The next ``days`` days from today: expected sales (the forecast of the store's daily
    sales × its average sale, rounded down), open loan installments on their due dates (one
    past due on the first day), and regular outflows found in its history (kind, every how
    many days, amount), day by day with the net and the lowest running total if negative."""
    merchant = _whose(who, merchant_id)
    return read(request, lambda u: cashflow.cash_flow(u, who, merchant, days))


@router.post("/insights/product_costs", response_model=Json, tags=["insights"])
def record_cost(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: ProductCost
) -> JSONResponse:
    """Record what one piece of the merchant's product costs it (never shown to buyers), so
    its best sellers show margins."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: products.record_cost(u, who, payload.product_id, payload.cost_minor),
    )


class ProductLeadTime(Body):
    product_id: Annotated[str, Field(min_length=1, max_length=limits.ID_MAX_LENGTH)]
    #: Days the supplier takes to deliver it (0 to 60); null forgets it (the default is used).
    lead_time_days: Annotated[int | None, Field(ge=0, le=limits.INSIGHTS_MAX_LEAD_TIME_DAYS)]


@router.post("/insights/product_lead_times", response_model=Json, tags=["insights"])
def record_lead_time(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: ProductLeadTime
) -> JSONResponse:
    """Keep how many days the merchant's supplier takes to deliver a product: its reorder
    advice uses it instead of the reorder list's default lead time."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: products.record_lead_time(u, who, payload.product_id, payload.lead_time_days),
    )


@router.get("/insights/best_sellers", response_model=Json, tags=["insights"])
def best_sellers(
    request: Request,
    who: CallerDep,
    merchant_id: Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)] = None,
    days: Annotated[int, Query(ge=1, le=products.MAX_DAYS)] = 28,
) -> Any:
    """Each active product's units, revenue and, where its cost is recorded, margin over the
    last ``days`` complete days; best sellers first."""
    merchant = _whose(who, merchant_id)
    found = read(request, lambda u: products.best_sellers(u, who, merchant, days))
    return {"object": "list", "data": found, "has_more": False}


# --- lessons (item 5) ---------------------------------------------------------------------------
Lang = Annotated[Literal["en", "fil", "ceb"], Query()]
MerchantId = Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)]
Slug = Annotated[str, Path(max_length=40)]


@router.get("/lessons", response_model=Json, tags=["lessons"])
def list_lessons(
    request: Request, who: CallerDep, merchant_id: MerchantId = None, lang: Lang = "en"
) -> Any:
    """Every lesson in ``lang`` (English where not written in it: ``lang`` says) with the
    merchant's progress, and ``next``: the lesson its own data points to first."""
    merchant = _whose(who, merchant_id)
    return read(request, lambda u: lessons.catalogue(u, who, merchant, lang))


@router.get("/lessons/{slug}", response_model=Json, tags=["lessons"])
def get_lesson(
    request: Request, who: CallerDep, slug: Slug, merchant_id: MerchantId = None, lang: Lang = "en"
) -> Any:
    """A whole lesson: every screen as sanitised HTML, the quiz's questions (not their
    answers) and the merchant's progress."""
    merchant = _whose(who, merchant_id)
    return read(request, lambda u: lessons.lesson(u, who, merchant, slug, lang))


class ScreenSeen(Body):
    merchant_id: Annotated[str | None, Field(max_length=limits.ID_MAX_LENGTH)] = None
    screen: Annotated[int, Field(ge=1, le=limits.LESSON_MAX_SCREENS)]
    lang: Literal["en", "fil", "ceb"] = "en"


@router.post("/lessons/{slug}/progress", response_model=Json, tags=["lessons"])
def screen_seen(
    request: Request, who: CallerDep, key: IdempotencyKey, slug: Slug, payload: ScreenSeen
) -> JSONResponse:
    """Record that the merchant read a screen (the furthest one is kept); answers it."""
    merchant = _whose(who, payload.merchant_id)
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: lessons.open_screen(u, who, merchant, slug, payload.screen, payload.lang),
    )


class QuizAnswers(Body):
    merchant_id: Annotated[str | None, Field(max_length=limits.ID_MAX_LENGTH)] = None
    #: The chosen answer's index (from 0) for each question, in order.
    answers: Annotated[list[int], Field(min_length=1, max_length=limits.LESSON_MAX_QUESTIONS)]
    lang: Literal["en", "fil", "ceb"] = "en"


@router.post("/lessons/{slug}/answers", response_model=Json, tags=["lessons"])
def answer_quiz(
    request: Request, who: CallerDep, key: IdempotencyKey, slug: Slug, payload: QuizAnswers
) -> JSONResponse:
    """Grade the quiz: ``right`` per question; ``passed`` when all are (the first pass is the
    lesson's completion and its certificate's date)."""
    merchant = _whose(who, payload.merchant_id)
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: lessons.answer(u, who, merchant, slug, list(payload.answers), payload.lang),
    )


@router.get("/lessons/{slug}/certificate", response_model=Json, tags=["lessons"])
def lesson_certificate(
    request: Request, who: CallerDep, slug: Slug, merchant_id: MerchantId = None, lang: Lang = "en"
) -> Any:
    """The certificate of a completed lesson (409 ``lesson_not_completed`` before)."""
    merchant = _whose(who, merchant_id)
    return read(request, lambda u: lessons.certificate(u, who, merchant, slug, lang))


class LessonText(Body):
    lang: Literal["en", "fil", "ceb"]
    title: Annotated[str, Field(min_length=1, max_length=limits.LESSON_TITLE_MAX_CHARS)]
    summary: Annotated[str, Field(max_length=limits.LESSON_SUMMARY_MAX_CHARS)] = ""
    #: Markdown; a line of only ``---`` starts a new screen.
    body: Annotated[str, Field(min_length=1, max_length=limits.LESSON_BODY_MAX_CHARS)]
    #: ``? question`` lines, each followed by ``+ right`` (one) and ``- wrong`` answers.
    quiz: Annotated[str, Field(min_length=1, max_length=limits.LESSON_QUIZ_MAX_CHARS)]


@router.post("/lessons/{slug}/text", response_model=Json, tags=["lessons"])
def write_lesson(
    request: Request, who: CallerDep, key: IdempotencyKey, slug: Slug, payload: LessonText
) -> JSONResponse:
    """Write or replace a lesson in one language (operator keys only), checked whole: unsafe
    HTML, a picture that does not exist or a bad quiz is refused (``lesson_invalid``, the
    field in ``param``) and nothing is saved."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: lessons.save(
            u, who, slug, payload.lang, payload.title, payload.summary, payload.body, payload.quiz
        ),
    )


class _ImageSent(BaseModel):
    """What an upload's idempotency fingerprint covers: the file's hash."""

    sha256: str


@router.post("/lesson_images", response_model=Json, tags=["lessons"])
async def upload_lesson_image(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MB.")],
) -> JSONResponse:
    """Upload a picture for lessons (operator keys only; multipart/form-data): checked and
    re-encoded as a product photo is (metadata stripped, WebP), served at ``url``; paste
    ``markdown`` into a lesson's text. A lesson may show only pictures uploaded here or the
    shipped drawings."""
    who.require_operator()
    data = await file.read(limits.PHOTO_MAX_BYTES + 1)
    prepared = await run_in_threadpool(lessons.prepare_image, data)
    sent = _ImageSent(sha256=hashlib.sha256(data).hexdigest())
    return await run_in_threadpool(
        idempotent, request, who, key, sent, lambda u: lessons.upload_image(u, who, prepared)
    )


@router.get("/lesson_images", response_model=Json, tags=["lessons"])
def list_lesson_images(request: Request, who: CallerDep) -> Any:
    """The pictures uploaded for lessons, newest first (operator keys only)."""
    found = read(request, lambda u: lessons.images(u, who))
    return {"object": "list", "data": found, "has_more": False}
