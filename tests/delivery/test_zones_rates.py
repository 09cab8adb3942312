"""Zones from real PSGC codes, and rate cards: parsing, pricing, the merchant's terms."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan.commerce import psgc
from tindahan.delivery import rates
from tindahan.delivery.zones import Zone, codes_from, zone_between
from tindahan.kernel.refusals import RefusalError


def at(barangay_code: str) -> psgc.Codes:
    """A real barangay's codes, as the list has them (KeyError if it is not real)."""
    return psgc.place_of(barangay_code).codes


def first_barangay(city_code: str) -> str:
    data = psgc._data()
    return data.in_city[city_code][0]


def town(city_code: str) -> psgc.Codes:
    return at(first_barangay(city_code))


QC = "1381300000"
MAKATI = "1380300000"
MANILA = "1380600000"
MALOLOS = "0301410000"
CEBU = "0730600000"
DAVAO = "1130700000"
PUERTO_PRINCESA = "1731500000"
BASCO = "0200901000"
JOLO = "0906602000"
MAMBAJAO = "1001804000"


def test_same_city_is_within_city() -> None:
    assert zone_between(at("1381300001"), at("1381300002")) == Zone.WITHIN_CITY


def test_manila_districts_are_one_city() -> None:
    manila = [code for code in psgc._data().in_city[MANILA]]
    assert zone_between(at(manila[0]), at(manila[-1])) == Zone.WITHIN_CITY


def test_across_metro_manila() -> None:
    assert zone_between(town(QC), town(MAKATI)) == Zone.METRO_MANILA


def test_metro_manila_to_bulacan_is_rest_of_luzon() -> None:
    assert zone_between(town(QC), town(MALOLOS)) == Zone.LUZON


def test_luzon_to_mindanao_crosses_islands() -> None:
    assert zone_between(town(QC), town(DAVAO)) == Zone.ISLAND_CROSSING
    assert zone_between(town(DAVAO), town(QC)) == Zone.ISLAND_CROSSING


def test_within_an_island_group() -> None:
    assert zone_between(town(CEBU), town("1804502000")) == Zone.VISAYAS  # Bago, Negros Occidental
    assert zone_between(town(DAVAO), town("1030500000")) == Zone.MINDANAO  # Cagayan de Oro


def test_offshore_provinces_cross_the_sea() -> None:
    assert zone_between(town(QC), town(PUERTO_PRINCESA)) == Zone.ISLAND_CROSSING
    assert zone_between(town("1030500000"), town(MAMBAJAO)) == Zone.ISLAND_CROSSING
    # within one offshore province the road goes there
    assert zone_between(town(MAMBAJAO), town("1001801000")) == Zone.MINDANAO


def test_remote_areas() -> None:
    assert zone_between(town(QC), town(BASCO)) == Zone.REMOTE
    assert zone_between(town(JOLO), town(DAVAO)) == Zone.REMOTE
    assert zone_between(at(first_barangay(JOLO)), town(JOLO)) == Zone.WITHIN_CITY


def test_every_region_has_an_island_group() -> None:
    for region in psgc._data().regions:
        city = next(c for c in psgc._data().cities if c.startswith(region[:2]))
        barangays = (
            psgc._data().in_city.get(city)
            or psgc._data().in_city[
                next(c for c in psgc._data().in_city if c.startswith(region[:2]))
            ]
        )
        assert zone_between(at(barangays[0]), town(QC)) in set(Zone)


def test_codes_refused_by_field() -> None:
    good = {
        "barangay_code": "1381300001",
        "city_code": QC,
        "province_code": "",
        "region_code": psgc.NCR,
    }
    assert codes_from(good, "origin").city == QC
    with pytest.raises(RefusalError) as bad:
        codes_from({**good, "city_code": "13813"}, "origin")
    assert bad.value.code == "psgc_invalid" and bad.value.param == "origin.city"
    with pytest.raises(RefusalError) as unknown:
        codes_from({**good, "region_code": "9900000000", "city_code": "9900100000"}, "to")
    assert unknown.value.code == "psgc_unknown"
    with pytest.raises(RefusalError) as missing:
        codes_from({"city_code": QC}, "to")
    assert missing.value.code == "psgc_invalid"


CARD: dict[str, Any] = {
    "name": "J&T Express",
    "cod_bps": 275,
    "cod_min_minor": 1_500,
    "zones": {
        "metro_manila": {
            "min_days": 1,
            "max_days": 3,
            "tiers": [
                {"max_weight_g": 500, "fee_minor": 8_500},
                {"max_weight_g": 3_000, "fee_minor": 15_500},
            ],
        },
        "island_crossing": {
            "min_days": 4,
            "max_days": 8,
            "tiers": [{"max_weight_g": 3_000, "fee_minor": 23_000}],
        },
    },
}


def test_card_round_trips_and_prices_by_tier() -> None:
    card = rates.parse_card("jnt", CARD)
    assert rates.parse_card("jnt", card.as_dict()) == card
    light = rates.quote(card, Zone.METRO_MANILA, 500)
    assert (light.fee_minor, light.min_days, light.max_days) == (8_500, 1, 3)
    assert rates.quote(card, Zone.METRO_MANILA, 501).fee_minor == 15_500
    assert rates.quote(card, Zone.ISLAND_CROSSING, 1).fee_minor == 23_000


def test_cod_fee_rounds_half_up_with_a_minimum() -> None:
    card = rates.parse_card("jnt", CARD)
    # 2.75% of ₱1,000.10 = 2750.275 centavos → 2750
    assert rates.quote(card, Zone.METRO_MANILA, 100, 100_010).cod_fee_minor == 2_750
    # 2.75% of ₱1,000.20 = 2750.55 → 2751
    assert rates.quote(card, Zone.METRO_MANILA, 100, 100_020).cod_fee_minor == 2_751
    assert rates.quote(card, Zone.METRO_MANILA, 100, 10_000).cod_fee_minor == 1_500
    no_cod = rates.parse_card("lbc", {**CARD, "cod_bps": None})
    assert rates.quote(no_cod, Zone.METRO_MANILA, 100, 10_000).cod_fee_minor is None


def test_a_card_cannot_price_what_it_does_not_serve() -> None:
    card = rates.parse_card("jnt", CARD)
    with pytest.raises(RefusalError) as zone:
        rates.quote(card, Zone.REMOTE, 500)
    assert zone.value.code == "no_rate_for_zone"
    with pytest.raises(RefusalError) as heavy:
        rates.quote(card, Zone.METRO_MANILA, 3_001)
    assert heavy.value.code == "too_heavy_for_courier"
    for weight in (0, -1, 50_001, True, 1.5):
        with pytest.raises(RefusalError) as bad:
            rates.quote(card, Zone.METRO_MANILA, weight)  # type: ignore[arg-type]
        assert bad.value.param == "weight_g"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"name": ""}, "name"),
        ({"currency": "USD"}, "currency"),
        ({"cod_bps": 5_000}, "cod_bps"),
        ({"zones": {}}, "zones"),
        ({"zones": {"mars": CARD["zones"]["metro_manila"]}}, "zones.mars"),
        (
            {"zones": {"luzon": {"min_days": 3, "max_days": 2, "tiers": [{}]}}},
            "zones.luzon.max_days",
        ),
        (
            {
                "zones": {
                    "luzon": {
                        "min_days": 1,
                        "max_days": 2,
                        "tiers": [
                            {"max_weight_g": 500, "fee_minor": 100},
                            {"max_weight_g": 500, "fee_minor": 200},
                        ],
                    }
                }
            },
            "zones.luzon.tiers.1.max_weight_g",
        ),
        (
            {
                "zones": {
                    "luzon": {
                        "min_days": 1,
                        "max_days": 2,
                        "tiers": [
                            {"max_weight_g": 500, "fee_minor": 200},
                            {"max_weight_g": 900, "fee_minor": 100},
                        ],
                    }
                }
            },
            "zones.luzon.tiers.1.fee_minor",
        ),
        (
            {"zones": {"luzon": {"min_days": 1, "max_days": 2, "tiers": []}}},
            "zones.luzon.tiers",
        ),
    ],
)
def test_bad_cards_name_the_field(change: dict[str, Any], param: str) -> None:
    with pytest.raises(RefusalError) as bad:
        rates.parse_card("jnt", {**CARD, **change})
    assert bad.value.param == param


def test_bad_courier_codes() -> None:
    for code in ("", "J&T", "a b", "x" * 25, 7):
        with pytest.raises(RefusalError) as bad:
            rates.parse_card(code, CARD)
        assert bad.value.code == "courier_code_invalid"


def test_merchant_terms_flat_fee_and_free_shipping() -> None:
    card = rates.parse_card("jnt", CARD)
    plain = rates.offer(card, Zone.METRO_MANILA, 400, 50_000, rates.Terms({}))
    assert (plain.fee_minor, plain.flat, plain.free) == (8_500, False, False)
    flat = rates.offer(card, Zone.ISLAND_CROSSING, 400, 50_000, rates.Terms({"jnt": 6_000}))
    assert (flat.fee_minor, flat.courier_fee_minor, flat.flat) == (6_000, 23_000, True)
    terms = rates.Terms({"jnt": 6_000}, free_over_minor=100_000)
    below = rates.offer(card, Zone.METRO_MANILA, 400, 99_999, terms)
    free = rates.offer(card, Zone.METRO_MANILA, 400, 100_000, terms)
    assert below.fee_minor == 6_000
    assert (free.fee_minor, free.courier_fee_minor, free.free, free.flat) == (0, 8_500, True, False)


@given(st.integers(1, 3_000), st.integers(1, 3_000))
@settings(max_examples=examples(50))
def test_heavier_never_costs_less(a: int, b: int) -> None:
    card = rates.parse_card("jnt", CARD)
    light, heavy = sorted((a, b))
    assert (
        rates.quote(card, Zone.METRO_MANILA, light).fee_minor
        <= rates.quote(card, Zone.METRO_MANILA, heavy).fee_minor
    )
