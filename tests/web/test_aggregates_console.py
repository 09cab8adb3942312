"""The console's "Merchants by province" page and its CSV (issue 26, item 6), for staff only.

The site's two merchants (Metro Manila, 5411 and 5251) and 48 more made here — Laguna and Cebu,
12 each of 5411 and 5251 — so by hand: Metro Manila's two cells and its total are withheld
(one merchant each); the 5411 column then needs a second withheld cell (Cebu's, first by
name among the two of 12), Cebu's row its 5251 cell, and the provinces' totals a second one
(Cebu's, 24, first by name): shown are Laguna's two cells, Laguna's total (24), each
category's total (25) and the grand total (50).
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import OPERATOR
from tindahan.services.platform import parties


def _more(site: Any) -> None:
    def work(unit: Any) -> None:
        for province in ("Laguna", "Cebu"):
            for mcc in ("5411", "5251"):
                for i in range(12):
                    new = parties.NewParty("merchant", f"{province} {mcc} {i}", mcc=mcc,
                                           city="Town", province=province)  # fmt: skip
                    parties.create(unit, OPERATOR, new)

    site.platform.run(work)


def test_the_page_withholds_small_cells(browser, site):
    _more(site)
    browser.sign_in(site.operator)
    page = browser.get("/op/insights")
    assert page.status_code == 200
    text = page.text
    assert "Merchants by province" in text and "fewer than 10 merchants" in text
    assert 'href="/op/insights.csv?days=30"' in text
    csv_text = browser.get("/op/insights.csv?days=90")
    assert csv_text.status_code == 200
    assert "merchant-aggregates-90d.csv" in csv_text.headers["content-disposition"]
    lines = csv_text.text.splitlines()
    assert lines[0].startswith("province,category,merchants,active_merchants,sales_minor")
    rows = {tuple(line.split(",")[:2]): line.split(",")[2] for line in lines[1:]}
    assert rows[("Metro Manila", "5411")] == "x" and rows[("Metro Manila", "all")] == "x"
    assert rows[("Cebu", "5411")] == "x" and rows[("Cebu", "5251")] == "x"
    assert rows[("Cebu", "all")] == "x"
    assert rows[("Laguna", "5411")] == "12" and rows[("Laguna", "all")] == "24"
    assert rows[("all", "5411")] == "25" and rows[("all", "all")] == "50"
    # The page shows the same: Laguna's total row with its 24 merchants; an odd period is 30.
    assert "Laguna" in text and ">24<" in text and ">50<" in text
    odd = browser.get("/op/insights?days=12").text
    assert 'aria-current="page">30 days<' in odd


def test_only_staff_see_it(browser, site):
    browser.sign_in(site.merchant)
    assert browser.get("/op/insights").status_code == 404
    assert browser.get("/op/insights.csv").status_code == 404
