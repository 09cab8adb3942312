"""Learned delivery windows at checkout, on SQLite and PostgreSQL (issue 25, item 2): the
card's window (an estimate) until the history has enough of a courier in a zone, then the
model's 80% window, kept on the order; the history and the typhoon advisories refused
whole on bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.delivery.test_checkout_couriers import (  # noqa: F401  (fixtures)
    DAVAO,
    OPERATOR,
    QUEZON_CITY,
    checkout,
    offers,
    platform,
    shop,
)
from tindahan.delivery import simulate
from tindahan.kernel.refusals import RefusalError
from tindahan.services.delivery import promises
from tindahan.services.unit import Platform
from tindahan.store.commerce_tables import shipment_history
from tindahan.store.database import connect


@pytest.fixture(scope="module")
def simulated() -> simulate.Simulation:
    return simulate.simulate(1_200, seed=4, start=date(2026, 5, 1), days=150)


def _count(platform: Platform) -> int:  # noqa: F811
    return platform.run(
        lambda u: u.conn.execute(select(func.count()).select_from(shipment_history)).scalar_one(),
        write=False,
    )


def test_windows_are_learned_once_a_courier_has_history(
    platform: Platform,  # noqa: F811
    shop: dict[str, Any],  # noqa: F811
    simulated: simulate.Simulation,
):
    before = offers(platform, shop, QUEZON_CITY)
    assert all(o["estimate"] for o in before["offers"])
    imported = platform.run(
        lambda u: promises.import_history(u, OPERATOR, simulated.shipments, "simulated")
    )
    assert imported["imported"] == 1_200 and _count(platform) == 1_200
    after = offers(platform, shop, QUEZON_CITY)
    learned = {o["courier"]: o for o in after["offers"]}
    assert set(learned) == {"jnt", "lbc"}
    for offer in learned.values():
        assert offer["estimate"] is False
        assert 1 <= offer["min_days"] <= offer["max_days"] <= 6
    assert learned["lbc"]["fee_minor"] == 6_000  # the price is untouched
    far = offers(platform, shop, DAVAO)
    (jnt,) = far["offers"]
    assert jnt["estimate"] is False and jnt["max_days"] > learned["jnt"]["max_days"]
    order = checkout(platform, shop, DAVAO, "jnt")
    assert order["delivery"]["estimate"] is False
    assert (order["delivery"]["min_days"], order["delivery"]["max_days"]) == (
        jnt["min_days"],
        jnt["max_days"],
    )


def test_a_courier_without_history_in_the_zone_keeps_its_card(
    platform: Platform,  # noqa: F811
    shop: dict[str, Any],  # noqa: F811
    simulated: simulate.Simulation,
):
    only_flash = [replace(s, courier="flash") for s in simulated.shipments]
    platform.run(lambda u: promises.import_history(u, OPERATOR, only_flash, "simulated"))
    found = offers(platform, shop, QUEZON_CITY)
    assert [(o["courier"], o["estimate"]) for o in found["offers"]] == [
        ("lbc", True),
        ("jnt", True),
    ]
    order = checkout(platform, shop, QUEZON_CITY, "jnt")
    assert order["delivery"]["estimate"] is True


def test_bad_history_and_advisories_are_refused_whole(
    platform: Platform,  # noqa: F811
    simulated: simulate.Simulation,
):
    first = simulated.shipments[:10]
    platform.run(lambda u: promises.import_history(u, OPERATOR, first, "imported"))
    again = [*simulated.shipments[10:20], first[3]]
    with pytest.raises(RefusalError) as caught:
        platform.run(lambda u: promises.import_history(u, OPERATOR, again, "imported"))
    assert caught.value.code == "shipment_exists" and first[3].shipment_id in caught.value.message
    unknown = [replace(simulated.shipments[30], destination="1399999999")]
    with pytest.raises(RefusalError) as caught:
        platform.run(lambda u: promises.import_history(u, OPERATOR, unknown, "imported"))
    assert caught.value.code == "psgc_unknown"
    assert _count(platform) == 10
    with pytest.raises(RefusalError) as caught:
        platform.run(lambda u: promises.set_advisory(u, OPERATOR, "Bicol", [date(2026, 9, 1)]))
    assert caught.value.param == "area"
    platform.run(
        lambda u: promises.set_advisory(
            u, OPERATOR, "0500500000", [date(2026, 9, 1), date(2026, 9, 2)]
        )
    )
    marked = platform.run(promises.advisories, write=False)
    assert marked.days == {"0500500000": frozenset({date(2026, 9, 1), date(2026, 9, 2)})}


def test_the_demo_comes_with_a_delivery_history(db_url, seeded_demo):
    seeded_demo.copy_to(db_url)
    with connect(db_url) as database, database.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM shipment_history")).scalar_one()
        couriers = conn.execute(text("SELECT DISTINCT courier_code FROM shipment_history")).all()
        areas = conn.execute(
            text("SELECT count(DISTINCT area_psgc) FROM typhoon_advisories")
        ).scalar_one()
    assert count == 3_000 and {c[0] for c in couriers} == {"jnt", "lbc", "flash"}
    assert areas == len(simulate.TYPHOON_AREAS)
