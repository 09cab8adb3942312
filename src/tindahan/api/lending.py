"""Loans over HTTP: products (operator), offers with their disclosure, acceptance,
schedule, balance, repayment, restructuring and write-off (operator), the daily close, the
portfolio report and the loan tape.

A merchant's key sees its own offers and loans (anyone else's are 404) and is the only one
that may accept an offer or repay from its wallet; the operator's key runs the book. Every
POST takes an ``Idempotency-Key``: a retried acceptance or repayment moves money once.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from tindahan import limits
from tindahan.api.deps import CallerDep, IdempotencyKey, PathId, idempotent, platform, read
from tindahan.api.schemas import ObjectId
from tindahan.api.schemas import Request as Body
from tindahan.kernel.refusals import invalid
from tindahan.services.insights import loan_fit
from tindahan.services.lending import close as loan_close
from tindahan.services.lending import holidays as loan_holidays
from tindahan.services.lending import loans, operator_cluster
from tindahan.services.lending import offers as loan_offers
from tindahan.services.lending import reports as loan_reports
from tindahan.services.payments import loan_cluster, repayment_cluster, two_store

router = APIRouter(prefix="/v1")
Json = dict[str, Any]
Minor = Annotated[int, Field(strict=True, gt=0, le=limits.MAX_AMOUNT_MINOR)]
Term = Annotated[int, Field(strict=True, gt=0, le=limits.QUOTE_MAX_TERM)]
Percent = Annotated[str, Field(min_length=1, max_length=12)]
Text = Annotated[str, Field(max_length=limits.DESCRIPTION_MAX_LENGTH)]
Day = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class ProductCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX_LENGTH)]
    min_principal_minor: Minor
    max_principal_minor: Minor
    frequency: Annotated[str, Field(max_length=12)]
    min_term: Term
    max_term: Term
    rate_min: Percent
    rate_max: Percent
    method: Annotated[str, Field(max_length=40)] = "declining-equal-installment"
    day_count: Annotated[str, Field(max_length=12)] = "30/360"
    fee_bps: Annotated[int, Field(strict=True, ge=0, le=10_000)] = 0
    fee_mode: Annotated[str, Field(max_length=10)] = "deducted"
    penalty_rate: Percent = "0"
    grace_days: Annotated[int, Field(strict=True, ge=0, le=limits.MAX_GRACE_DAYS)] = 0
    auto_deduct_bps: Annotated[int, Field(strict=True, ge=0, le=limits.MAX_AUTO_DEDUCT_BPS)] = 0
    accrual: Annotated[str, Field(max_length=12)] = "daily"
    allocation_order: list[Annotated[str, Field(max_length=12)]] = Field(
        default=["penalty", "fee", "interest", "principal"], max_length=4
    )
    max_probability: Annotated[str, Field(min_length=1, max_length=12)] = "0.2"


class OfferCreate(Body):
    product_id: ObjectId
    merchant_id: ObjectId | None = None
    assessment_id: ObjectId | None = None
    principal_minor: Minor | None = None
    term: Term | None = None


class Repayment(Body):
    amount_minor: Minor
    source: Annotated[str, Field(max_length=12)] = "main"


class Restructure(Body):
    term: Term
    rate_monthly: Percent | None = None
    waive_penalties: bool = False
    note: Text | None = None


class WriteOff(Body):
    note: Text | None = None


class Close(Body):
    business_date: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class Holiday(Body):
    name: Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX_LENGTH)]


MerchantFilter = Annotated[ObjectId | None, Query()]


# --- products ------------------------------------------------------------------------------
@router.post("/loan_products", response_model=Json, tags=["loans"])
def create_product(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: ProductCreate
) -> JSONResponse:
    """The operator defines a loan product (refused if any covered loan it could make would
    break a legal ceiling)."""
    fields = payload.model_dump()
    fields["allocation_order"] = ",".join(fields["allocation_order"])
    new = loan_offers.NewProduct(**fields)
    return idempotent(request, who, key, payload, lambda u: loan_offers.create_product(u, who, new))


@router.get("/loan_products", response_model=Json, tags=["loans"])
def list_products(request: Request, who: CallerDep) -> Any:
    return read(request, lambda u: loan_offers.list_products(u, who))


@router.get("/loan_products/{product_id}", response_model=Json, tags=["loans"])
def get_product(request: Request, who: CallerDep, product_id: PathId) -> Any:
    return read(request, lambda u: loan_offers.get_product(u, who, product_id))


@router.post("/loan_products/{product_id}/retire", response_model=Json, tags=["loans"])
def retire_product(
    request: Request, who: CallerDep, key: IdempotencyKey, product_id: PathId
) -> JSONResponse:
    return idempotent(
        request, who, key, None, lambda u: loan_offers.retire_product(u, who, product_id)
    )


# --- offers --------------------------------------------------------------------------------
@router.post("/loan_offers", response_model=Json, tags=["loans"])
def create_offer(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: OfferCreate
) -> JSONResponse:
    """An offer from the merchant's latest (or the named) credit assessment, with its full
    Truth-in-Lending disclosure."""
    new = loan_offers.NewOffer(**payload.model_dump())
    return idempotent(request, who, key, payload, lambda u: loan_offers.create_offer(u, who, new))


@router.get("/loan_offers", response_model=Json, tags=["loans"])
def list_offers(request: Request, who: CallerDep, merchant_id: MerchantFilter = None) -> Any:
    return read(request, lambda u: loan_offers.list_offers(u, who, merchant_id))


@router.get("/loan_offers/{offer_id}", response_model=Json, tags=["loans"])
def get_offer(request: Request, who: CallerDep, offer_id: PathId) -> Any:
    """The offer with its disclosure and, while it is open, ``fit``: how many times the
    merchant's usual sales cover its largest installment (advice, never a gate)."""
    return read(request, lambda u: loan_fit.offer_with_fit(u, who, offer_id))


@router.post("/loan_offers/{offer_id}/accept", response_model=Json, tags=["loans"])
def accept_offer(
    request: Request, who: CallerDep, key: IdempotencyKey, offer_id: PathId
) -> JSONResponse:
    """The merchant accepts: the loan is booked and the net proceeds reach the wallet."""
    made = platform(request)
    if not two_store.applies(made):
        return idempotent(request, who, key, None, lambda u: loan_offers.accept(u, who, offer_id))
    return idempotent(  # a TigerBeetle ledger: the two-store order (``payments.loan_cluster``)
        request,
        who,
        key,
        None,
        lambda u: loan_offers.accept(u, who, offer_id),
        through=lambda scope, k, fp, _work, render, refuse: loan_cluster.accept(
            made, who, offer_id, scope, k, fp, render, refuse
        ),
    )


# --- loans ---------------------------------------------------------------------------------
@router.get("/loans", response_model=Json, tags=["loans"])
def list_loans(request: Request, who: CallerDep, merchant_id: MerchantFilter = None) -> Any:
    return read(request, lambda u: loans.list_loans(u, who, merchant_id))


@router.get("/loans/{loan_id}", response_model=Json, tags=["loans"])
def get_loan(request: Request, who: CallerDep, loan_id: PathId) -> Any:
    """The loan and its balance: what is owed by part, due today, the payoff."""
    return read(request, lambda u: loans.get(u, who, loan_id))


@router.get("/loans/{loan_id}/schedule", response_model=Json, tags=["loans"])
def get_schedule(request: Request, who: CallerDep, loan_id: PathId) -> Any:
    return read(request, lambda u: loans.schedule(u, who, loan_id))


@router.get("/loans/{loan_id}/transactions", response_model=Json, tags=["loans"])
def get_transactions(request: Request, who: CallerDep, loan_id: PathId) -> Any:
    return read(request, lambda u: loans.transactions(u, who, loan_id))


@router.post("/loans/{loan_id}/repayments", response_model=Json, tags=["loans"])
def repay(
    request: Request, who: CallerDep, key: IdempotencyKey, loan_id: PathId, payload: Repayment
) -> JSONResponse:
    amount, source = payload.amount_minor, payload.source
    made = platform(request)
    through = None
    if two_store.applies(made):  # the two-store order (``payments.repayment_cluster``)

        def through(scope, k, fp, _work, render, refuse):  # type: ignore[no-untyped-def]
            return repayment_cluster.repay(
                made, who, loan_id, amount, source, scope, k, fp, render, refuse
            )

    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: loans.repay(u, who, loan_id, amount, source),
        through=through,
    )


@router.post("/loans/{loan_id}/restructure", response_model=Json, tags=["loans"])
def restructure(
    request: Request, who: CallerDep, key: IdempotencyKey, loan_id: PathId, payload: Restructure
) -> JSONResponse:
    p = payload
    made = platform(request)
    through = None
    if two_store.applies(made):  # claimed, then booked (``lending.operator_cluster``)
        inputs = {
            "term": p.term,
            "rate_monthly": p.rate_monthly,
            "waive_penalties": p.waive_penalties,
            "note": p.note,
        }

        def through(scope, k, fp, _work, render, refuse):  # type: ignore[no-untyped-def]
            return operator_cluster.restructure(
                made, who, loan_id, inputs, scope, k, fp, render, refuse
            )

    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: loans.restructure(
            u, who, loan_id, p.term, p.rate_monthly, p.waive_penalties, p.note
        ),
        through=through,
    )


@router.post("/loans/{loan_id}/write_off", response_model=Json, tags=["loans"])
def write_off(
    request: Request, who: CallerDep, key: IdempotencyKey, loan_id: PathId, payload: WriteOff
) -> JSONResponse:
    note = payload.note
    made = platform(request)
    through = None
    if two_store.applies(made):  # claimed, then booked (``lending.operator_cluster``)

        def through(scope, k, fp, _work, render, refuse):  # type: ignore[no-untyped-def]
            return operator_cluster.write_off(
                made, who, loan_id, note, scope, k, fp, render, refuse
            )

    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: loans.write_off(u, who, loan_id, note),
        through=through,
    )


# --- the book ------------------------------------------------------------------------------
@router.get("/loan_portfolio", response_model=Json, tags=["loans"])
def portfolio(request: Request, who: CallerDep) -> Any:
    """Outstanding, disbursed, collected, PAR and write-offs, by product and province."""
    return read(request, lambda u: loan_reports.portfolio(u, who))


@router.get(
    "/loan_tape",
    tags=["loans"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def loan_tape(request: Request, who: CallerDep) -> Response:
    """Every loan, one CSV row each."""
    text = read(request, lambda u: loan_reports.tape(u, who))
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="loan-tape.csv"'},
    )


@router.post("/loan_closes", response_model=Json, tags=["loans"])
def run_close(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: Close
) -> JSONResponse:
    """The operator runs the daily close for a past business day (the worker does it
    every night; this is for catching up or for a controlled clock)."""
    try:
        day = date.fromisoformat(payload.business_date)
    except ValueError:
        raise invalid(
            "date_invalid", "business_date is a date YYYY-MM-DD", "business_date"
        ) from None

    def work(u: Any) -> dict[str, Any]:
        who.require_operator()
        if day >= loans.today(u):
            raise invalid(
                "date_invalid", "only a day that has ended can be closed", "business_date"
            )
        return {"object": "loan_close", "business_date": day.isoformat()}

    checked = idempotent(request, who, key, payload, work)
    if checked.status_code != 200:  # refused (not the operator, a day not ended): as is
        return checked
    platform = request.app.state.platform
    report = loan_close.run(platform, day)
    return JSONResponse(report.as_dict())


@router.get("/loan_holidays", response_model=Json, tags=["loans"])
def list_holidays(request: Request, who: CallerDep) -> Any:
    return read(request, lambda u: loan_holidays.list_holidays(u, who))


@router.put("/loan_holidays/{day}", response_model=Json, tags=["loans"])
def put_holiday(
    request: Request, who: CallerDep, key: IdempotencyKey, day: Day, payload: Holiday
) -> JSONResponse:
    name = payload.name
    return idempotent(
        request, who, key, payload, lambda u: loan_holidays.put_holiday(u, who, day, name)
    )
