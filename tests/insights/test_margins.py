"""Product costs and margins on the best sellers (issue 26), on SQLite and PostgreSQL.

The reorder tests' shop (``test_reorder_service``): Kape and Asukal each sold 4 a day at ₱25.00
for the half-year, so 112 pieces and ₱2,800.00 in the last 28 days. Kape costs ₱18.00 a
piece: margin 280,000 − 112 × 1,800 = 78,400 centavos, 28 % of revenue; Asukal has no cost
recorded: no margin.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.insights.test_reorder_service import OPERATOR, owner, shop
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog
from tindahan.services.insights import products
from tindahan.services.unit import Platform

__all__ = ["shop"]  # the fixture


def _run(shop: dict[str, Any], work: Any, write: bool = True) -> Any:
    platform: Platform = shop["platform"]
    return platform.run(work, write=write)


def test_margins_by_hand(shop: dict[str, Any]) -> None:
    me = owner(shop["merchant"])
    kape = shop["goods"]["Kape"]["id"]
    recorded = _run(shop, lambda u: products.record_cost(u, me, kape, 1_800))
    assert recorded == {"object": "product_cost", "product_id": kape, "cost_minor": 1_800}
    listed = _run(shop, lambda u: products.best_sellers(u, me, shop["merchant"], 28), False)
    by_title = {p["title"]: p for p in listed}
    assert by_title["Kape"]["units"] == 112 and by_title["Kape"]["revenue_minor"] == 280_000
    assert by_title["Kape"]["margin_minor"] == 78_400
    assert by_title["Kape"]["margin_share"] == "0.2800"
    assert by_title["Asukal"]["cost_minor"] is None and by_title["Asukal"]["margin_minor"] is None
    # Never sold but costed: margin 0, no share of no revenue.
    toyo = shop["goods"]["Toyo"]["id"]
    _run(shop, lambda u: products.record_cost(u, me, toyo, 900))
    listed = _run(shop, lambda u: products.best_sellers(u, me, shop["merchant"], 28), False)
    toyo_row = next(p for p in listed if p["title"] == "Toyo")
    assert (toyo_row["margin_minor"], toyo_row["margin_share"]) == (0, None)
    # Sold below cost: a negative margin, said as it is.
    _run(shop, lambda u: products.record_cost(u, me, kape, 3_000))
    listed = _run(shop, lambda u: products.best_sellers(u, me, shop["merchant"], 28), False)
    kape_row = next(p for p in listed if p["title"] == "Kape")
    assert kape_row["margin_minor"] == 280_000 - 112 * 3_000
    assert kape_row["margin_share"] == "-0.2000"
    # Forgotten; and the cost never shows in the product's own (public) view.
    _run(shop, lambda u: products.record_cost(u, me, kape, None))
    listed = _run(shop, lambda u: products.best_sellers(u, me, shop["merchant"], 28), False)
    assert next(p for p in listed if p["title"] == "Kape")["margin_minor"] is None
    view = _run(shop, lambda u: catalog.get_product(u, OPERATOR, kape), False)
    assert "cost_minor" not in view


def test_bad_costs_change_nothing(shop: dict[str, Any]) -> None:
    me = owner(shop["merchant"])
    kape = shop["goods"]["Kape"]["id"]
    _run(shop, lambda u: products.record_cost(u, me, kape, 1_000))
    for bad in (-1, True, 2**63, "5"):
        with pytest.raises(RefusalError) as refused:
            _run(shop, lambda u, b=bad: products.record_cost(u, me, kape, b))
        assert refused.value.param == "cost_minor"
    with pytest.raises(RefusalError) as refused:  # another merchant's product
        _run(shop, lambda u: products.record_cost(u, owner(shop["other"]), kape, 5))
    assert refused.value.code == "resource_missing"
    listed = _run(shop, lambda u: products.best_sellers(u, me, shop["merchant"], 28), False)
    assert next(p for p in listed if p["title"] == "Kape")["cost_minor"] == 1_000
