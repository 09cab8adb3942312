"""The console's delivery pages (issue 25): the operator edits a courier's rate card (every
wrong field said beside it, nothing saved until all are right, the change audit-logged),
and sees each courier's on-time rate by zone and the traffic picture learned from a
simulated history."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from tests.web.conftest import OPERATOR
from tests.web.test_courier_checkout import CARD
from tindahan.delivery import simulate
from tindahan.services.delivery import couriers, promises
from tindahan.services.platform import audit

LBC: dict[str, Any] = {
    "name": "LBC",
    "cod_bps": 150,
    "cod_min_minor": 2_000,
    "zones": {
        "metro_manila": {
            "min_days": 1,
            "max_days": 3,
            "tiers": [
                {"max_weight_g": 500, "fee_minor": 8_500},
                {"max_weight_g": 3_000, "fee_minor": 12_000},
            ],
        },
        "luzon": {
            "min_days": 2,
            "max_days": 5,
            "tiers": [{"max_weight_g": 3_000, "fee_minor": 16_000}],
        },
    },
}


def _edit(page: str) -> dict[str, str]:
    """The form as shown (the stored card), to change a field or two of."""
    return {
        "name": "LBC",
        "cod_percent": "1.5",
        "cod_min": "20.00",
        "metro_manila.served": "1",
        "metro_manila.min_days": "1",
        "metro_manila.max_days": "3",
        "metro_manila.w0": "500",
        "metro_manila.f0": "85",
        "metro_manila.w1": "3000",
        "metro_manila.f1": "120",
        "luzon.served": "1",
        "luzon.min_days": "2",
        "luzon.max_days": "5",
        "luzon.w0": "3000",
        "luzon.f0": "160",
        "note": "LBC's new card for January",
    }


def test_the_operator_edits_a_rate_card(browser, site):
    platform = site.platform
    platform.run(lambda u: couriers.set_card(u, OPERATOR, "lbc", LBC))
    browser.sign_in(site.operator)
    page = browser.get("/op/couriers/lbc")
    assert page.status_code == 200
    assert 'name="metro_manila.w1" value="3000"' in page.text
    assert 'name="metro_manila.f1" value="120.00"' in page.text
    assert 'name="cod_percent"' in page.text and 'value="1.50"' in page.text

    bad = {
        **_edit(page.text),
        "metro_manila.max_days": "0",  # before the first day
        "metro_manila.f1": "70",  # heavier but cheaper
        "luzon.w0": "heavy",
        "cod_percent": "12",  # over the 10% the platform allows
        "idempotency_key": browser.key(page.text),
    }
    refused = browser.post("/op/couriers/lbc", bad)
    assert refused.status_code == 400
    for said in (
        "The last day cannot be before the first.",
        "A heavier tier cannot cost less than a lighter one.",
        "Enter a whole number.",
        "Enter a percentage from 0 to 10, like 1.5.",
    ):
        assert said in refused.text
    assert 'value="heavy"' in refused.text  # what was typed stays
    stored = platform.run(lambda u: couriers.get_card(u, OPERATOR, "lbc"), write=False)
    assert stored["zones"]["metro_manila"]["tiers"][1]["fee_minor"] == 12_000  # nothing saved

    good = {
        **_edit(page.text),
        "metro_manila.f1": "135.50",
        "metro_manila.w2": "5000",  # a tier added in a spare row
        "metro_manila.f2": "180",
        "visayas.served": "1",  # a zone newly served
        "visayas.min_days": "3",
        "visayas.max_days": "6",
        "visayas.w0": "1000",
        "visayas.f0": "190",
        "luzon.served": "",  # a zone no longer served
        "cod_percent": "",
        "cod_min": "",
        "idempotency_key": browser.key(refused.text),
    }
    saved = browser.post("/op/couriers/lbc", good)
    assert saved.status_code == 303, saved.text
    stored = platform.run(lambda u: couriers.get_card(u, OPERATOR, "lbc"), write=False)
    assert stored["cod_bps"] is None and set(stored["zones"]) == {"metro_manila", "visayas"}
    assert stored["zones"]["metro_manila"]["tiers"] == [
        {"max_weight_g": 500, "fee_minor": 8_500},
        {"max_weight_g": 3_000, "fee_minor": 13_550},
        {"max_weight_g": 5_000, "fee_minor": 18_000},
    ]
    entries = platform.run(lambda u: audit.list_entries(u, OPERATOR, 10), write=False)["data"]
    changed = [e for e in entries if e["action"] == "courier.rates_set"]
    assert len(changed) == 2  # the card's creation, then the console's edit
    (latest,) = [e for e in changed if e["note"] == "LBC's new card for January"]
    assert latest["object_id"] == "lbc" and latest["actor"].startswith("lgn_")
    assert latest["details"]["before"]["zones"]["luzon"]["tiers"][0]["fee_minor"] == 16_000
    assert "luzon" not in latest["details"]["after"]["zones"]
    assert "Saved." in browser.get(saved.headers["location"]).text


def test_the_buyer_cannot_see_the_delivery_console(browser, site):
    site.platform.run(lambda u: couriers.set_card(u, OPERATOR, "jnt", CARD))
    browser.sign_in(site.buyer)
    assert browser.get("/op/delivery").status_code == 404
    assert browser.get("/op/couriers/jnt").status_code == 404
    refused = browser.post(
        "/op/couriers/jnt", {"name": "Cheap", "idempotency_key": str(uuid.uuid4())}
    )
    assert refused.status_code in (403, 404)
    stored = site.platform.run(lambda u: couriers.get_card(u, OPERATOR, "jnt"), write=False)
    assert stored["name"] == "J&T Express"


def test_on_time_rates_and_the_traffic_picture(browser, site):
    platform = site.platform
    history = simulate.simulate(700, seed=5, start=date(2026, 6, 1), days=120)
    for code, name in (("jnt", "J&T Express"), ("lbc", "LBC"), ("flash", "Flash Express")):
        card = {
            **LBC,
            "name": name,
            "zones": {
                **LBC["zones"],
                "metro_manila": {**LBC["zones"]["metro_manila"], "max_days": 2},
            },
        }
        platform.run(lambda u, code=code, card=card: couriers.set_card(u, OPERATOR, code, card))
    platform.run(lambda u: promises.import_history(u, OPERATOR, history.shipments, "simulated"))
    browser.sign_in(site.operator)
    page = browser.get("/op/delivery")
    assert page.status_code == 200, page.text
    assert "On time, by courier and zone" in page.text and "Across Metro Manila" in page.text
    assert '<svg class="chart heat"' in page.text and page.text.count('class="cell l') == 7 * 24
    assert 'class="cell l4"' in page.text  # the slowest hour is drawn darkest
    assert "The slowest: picked up" in page.text
    assert "/op/couriers/flash" in page.text
    fil = browser.get("/op/delivery", headers={"Accept-Language": "fil"})
    assert fil.status_code == 200
