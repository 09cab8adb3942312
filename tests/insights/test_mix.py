"""A store's sales mix by hand (``insights.mix``, no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tindahan.insights.mix import Channel, Sale, mix


def test_the_mix_by_hand() -> None:
    sales = [
        Sale(9, 10_000, "online", "ana"),
        Sale(9, 5_000, "qr", "ana"),
        Sale(18, 20_000, "qr", "ben"),
        Sale(18, 1_001, "request", "cora"),
        Sale(7, 3_000, "qr", "ana"),
    ]
    found = mix(sales)
    assert (found.sales, found.amount_minor) == (5, 39_001)
    assert found.by_hour[9] == (2, 15_000) and found.by_hour[18] == (2, 21_001)
    assert found.by_hour[7] == (1, 3_000) and sum(c for c, _ in found.by_hour) == 5
    assert found.busiest_hour == 18
    # Ana came three times: one repeat buyer of three; her 18,000 of 39,001 = 0.46153… → 0.4615
    assert (found.buyers, found.repeat_buyers) == (3, 1)
    assert found.repeat_buyer_share == Decimal("0.3333")
    assert found.repeat_sales_share == Decimal("0.4615")
    assert found.average_basket_minor == 7_800  # 39,001 / 5 = 7,800.2, down
    assert found.channels == {
        "online": Channel(1, 10_000, Decimal("0.2564")),  # 0.25640…
        "qr": Channel(3, 28_000, Decimal("0.7179")),  # 0.71793…
        "request": Channel(1, 1_001, Decimal("0.0257")),  # 0.02566…
    }


def test_no_sales_and_ties() -> None:
    empty = mix([])
    assert empty.busiest_hour is None and empty.average_basket_minor == 0
    assert empty.repeat_buyer_share == Decimal("0.0000") and empty.by_hour == ((0, 0),) * 24
    tie = mix([Sale(20, 500, "qr", "a"), Sale(8, 500, "qr", "b")])
    assert tie.busiest_hour == 8  # the earliest of equal hours
    assert tie.repeat_buyers == 0


@pytest.mark.parametrize(
    ("sale", "message"),
    [
        (Sale(24, 1, "qr", None), "hour 24"),
        (Sale(1, 1, "cash", None), "channel 'cash'"),
        (Sale(1, -1, "qr", None), "not negative"),
    ],
)
def test_bad_records_are_refused(sale: Sale, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mix([sale])
