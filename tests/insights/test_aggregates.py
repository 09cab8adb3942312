"""k-anonymity of the operator's aggregates, by hand (``insights.aggregates``, no database).

A cell of fewer than k merchants is withheld (primary); in every row or column with its total
exactly one withheld entry is never left (complementary), so no withheld figure is one
subtraction away; each block (merchants, sales, loans) counts its own contributors.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan.insights.aggregates import Key, Merchant, lines, suppress, table


def _many(n: int, province: str, category: str, **facts: object) -> list[Merchant]:
    return [Merchant(province, category, **facts) for _ in range(n)]  # type: ignore[arg-type]


def test_a_cell_of_nine_is_withheld_and_one_more_in_its_row_and_column() -> None:
    # Batangas: 5411 × 12, 5812 × 9; Cebu: 5411 × 15, 5812 × 20.
    merchants = (
        _many(12, "Batangas", "5411", sold=True, sales_minor=1000)
        + _many(9, "Batangas", "5812", sold=True, sales_minor=500)
        + _many(15, "Cebu", "5411", sold=True, sales_minor=200)
        + _many(20, "Cebu", "5812", sold=True, sales_minor=300)
    )
    rows = table(merchants, 10).rows
    # Primary: Batangas × 5812 (9). Its row leaves Batangas × 5411 (12) alone to hide; its
    # column Cebu × 5812 (20); then Cebu's row has one hidden, so Cebu × 5411 goes too.
    for key in (("Batangas", "5812"), ("Batangas", "5411"), ("Cebu", "5812"), ("Cebu", "5411")):
        assert rows[key]["merchants"] is None and rows[key]["sales"] is None
    # The totals are shown (each of 21 or more), and they alone give no cell away.
    assert rows[("Batangas", None)]["merchants"] == {"merchants": 21, "active_merchants": 21}
    assert rows[(None, "5812")]["sales"] == {
        "sales_minor": 9 * 500 + 20 * 300,
        "previous_sales_minor": 0,
        "growth": None,
    }
    assert rows[(None, None)]["merchants"] == {"merchants": 56, "active_merchants": 56}


def test_cells_of_ten_are_shown_with_figures_by_hand() -> None:
    merchants = _many(
        10, "Cebu", "5411", sold=True, sold_before=True, sales_minor=1500, previous_minor=1200
    ) + _many(
        10,
        "Cebu",
        "5812",
        sold=True,
        sales_minor=700,
        borrower=True,
        outstanding_minor=3000,
    )
    # Three of the ten borrowers in 5812 are late: two 1–30 days, one over 30.
    for index, risk30 in ((10, 3000), (11, 0), (12, 0)):
        merchants[index] = Merchant(
            "Cebu", "5812", sales_minor=700, sold=True, borrower=True,
            outstanding_minor=3000, at_risk1_minor=3000, at_risk30_minor=risk30,
        )  # fmt: skip
    rows = table(merchants, 10).rows
    grocery = rows[("Cebu", "5411")]
    assert grocery["merchants"] == {"merchants": 10, "active_merchants": 10}
    # growth = (15000 − 12000) / 12000 = 0.25
    assert grocery["sales"] == {
        "sales_minor": 15_000,
        "previous_sales_minor": 12_000,
        "growth": Decimal("0.2500"),
    }
    # No borrower at all: zeros, shown (nobody's figure is in them).
    assert grocery["loans"] == {
        "borrowers": 0,
        "outstanding_minor": 0,
        "par1": Decimal("0.000000"),
        "par30": Decimal("0.000000"),
    }
    eating = rows[("Cebu", "5812")]["loans"]
    # PAR1 = 9000 / 30000 = 0.3; PAR30 = 3000 / 30000 = 0.1
    assert eating == {
        "borrowers": 10,
        "outstanding_minor": 30_000,
        "par1": Decimal("0.300000"),
        "par30": Decimal("0.100000"),
    }
    assert rows[(None, None)]["loans"] == eating  # the same ten borrowers


def test_sales_of_three_sellers_in_a_cell_of_forty_are_withheld() -> None:
    merchants = _many(3, "Leyte", "5411", sold=True, sales_minor=9000) + _many(37, "Leyte", "5411")
    rows = table(merchants, 10).rows
    assert rows[("Leyte", "5411")]["merchants"] == {"merchants": 40, "active_merchants": 3}
    assert rows[("Leyte", "5411")]["sales"] is None
    assert rows[(None, None)]["sales"] is None  # the total is the same three


def test_a_total_is_withheld_when_it_alone_would_give_a_province_away() -> None:
    # Three provinces of one category; Samar (4 merchants) is withheld with its total. The
    # column of 5411 (its total 45 shown) then needs a second withheld cell: the smallest,
    # Leyte (11), and Leyte's row its total; the provinces' totals then hold two withheld.
    merchants = _many(4, "Samar", "5411") + _many(11, "Leyte", "5411") + _many(30, "Cebu", "5411")
    rows = table(merchants, 10).rows
    assert rows[("Samar", None)]["merchants"] is None
    assert rows[("Leyte", None)]["merchants"] is None
    assert rows[("Cebu", None)]["merchants"] == {"merchants": 30, "active_merchants": 0}
    # The column of 5411 holds the three cells: two hidden already (Samar, Leyte), shown Cebu.
    assert rows[("Cebu", "5411")]["merchants"] is not None


def test_lines_pair_every_row_and_column_with_its_total() -> None:
    keys: list[Key] = [("A", "1"), ("A", "2"), ("B", "1"), ("A", None), ("B", None)]
    keys += [(None, "1"), (None, "2"), (None, None)]
    assert lines(keys) == [
        [("A", "1"), ("A", "2"), ("A", None)],
        [("B", "1"), ("B", None)],
        [("A", "1"), ("B", "1"), (None, "1")],
        [("A", "2"), (None, "2")],
        [("A", None), ("B", None), (None, None)],
        [(None, "1"), (None, "2"), (None, None)],
    ]


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k is at least 1"):
        table([], 0)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Abra", "Bohol", "Cebu", "Davao"]),
            st.sampled_from(["5411", "5812", "5999"]),
            st.integers(1, 25),
        ),
        max_size=12,
    )
)
@settings(max_examples=examples(200), deadline=None)
def test_no_line_ever_has_exactly_one_withheld_entry(
    groups: list[tuple[str, str, int]],
) -> None:
    merchants = [m for p, c, n in groups for m in _many(n, p, c)]
    counts: dict[tuple[str | None, str | None], int] = {}
    for m in merchants:
        for key in ((m.province, m.category), (m.province, None), (None, m.category)):
            counts[key] = counts.get(key, 0) + 1
    counts[(None, None)] = len(merchants)
    hidden = suppress(counts, 10)
    assert all(counts[key] in (0, *range(10, 999)) for key in counts if key not in hidden)
    assert all(counts[key] > 0 for key in counts if key != (None, None))
    for line in lines(counts):
        assert sum(key in hidden for key in line) != 1
