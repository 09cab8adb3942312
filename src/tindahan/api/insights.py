"""Insights over HTTP: for the operator, the aggregates across merchants by province and
category (issue 26, item 6), as JSON and as a CSV to export; for a merchant, its sales mix
(item 1: by hour, repeat buyers, average basket, channels).

The aggregates are for operator keys only (a merchant's key is refused ``operator_only``);
every figure about fewer than ten merchants is withheld, with the complementary withholding
that keeps it from being subtracted out (``insights.aggregates`` says how and why). The
sales mix is a merchant's own; another merchant's is "no such merchant" (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from tindahan import limits
from tindahan.api.deps import CallerDep, IdempotencyKey, idempotent, read
from tindahan.api.schemas import Request as Body
from tindahan.kernel.refusals import invalid
from tindahan.services.insights import aggregates, mix, products

router = APIRouter(prefix="/v1")
Json = dict[str, Any]
Days = Annotated[int, Query(ge=1, le=limits.INSIGHTS_MAX_AGGREGATE_DAYS)]


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
    merchant = merchant_id or who.party_id
    if merchant is None:
        raise invalid("parameter_missing", "an operator names the merchant", "merchant_id")
    return read(request, lambda u: mix.sales_mix(u, who, merchant, days))


class ProductCost(Body):
    product_id: Annotated[str, Field(min_length=1, max_length=limits.ID_MAX_LENGTH)]
    #: What one piece costs the merchant, in centavos; null forgets it.
    cost_minor: Annotated[int | None, Field(ge=0, le=limits.MAX_AMOUNT_MINOR)]


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


@router.get("/insights/best_sellers", response_model=Json, tags=["insights"])
def best_sellers(
    request: Request,
    who: CallerDep,
    merchant_id: Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)] = None,
    days: Annotated[int, Query(ge=1, le=products.MAX_DAYS)] = 28,
) -> Any:
    """Each active product's units, revenue and, where its cost is recorded, margin over the
    last ``days`` complete days; best sellers first."""
    merchant = merchant_id or who.party_id
    if merchant is None:
        raise invalid("parameter_missing", "an operator names the merchant", "merchant_id")
    found = read(request, lambda u: products.best_sellers(u, who, merchant, days))
    return {"object": "list", "data": found, "has_more": False}
