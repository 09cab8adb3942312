"""Insights over HTTP for the operator: the aggregates across merchants by province and
category (issue 26, item 6), as JSON and as a CSV to export.

Operator keys only (a merchant's key is refused ``operator_only``); every figure about fewer
than ten merchants is withheld, with the complementary withholding that keeps it from being
subtracted out (``insights.aggregates`` says how and why).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tindahan import limits
from tindahan.api.deps import CallerDep, read
from tindahan.services.insights import aggregates

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
