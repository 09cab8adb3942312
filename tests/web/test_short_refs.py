"""Short references (issue 21, item 8), on SQLite and PostgreSQL: every payment, order and
payment request gets eight characters of Crockford's base32, unique; a taken one is drawn
again without spoiling the transaction (and under concurrency on PostgreSQL); the migration
gives existing rows one; a merchant finds only its own by reference, the operator every
one; receipts and the API show it beside the long id."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import OPERATOR, Site
from tests.web.test_buyer_pages import caller, make_request
from tindahan.services.commerce import orders
from tindahan.services.payments import requests
from tindahan.services.platform import shortrefs
from tindahan.store import migrate
from tindahan.store.payment_tables import payment_requests

MIGRATION = "0025_short_refs"
CLASH = "7KQ2M9XD"
REAL_NEW = shortrefs.new
SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{8}$")  # Crockford: no I, L, O, U


def an_order(site: Site) -> dict[str, Any]:
    line = orders.CartLine(site.products[0]["id"], 1)
    made = site.platform.run(
        lambda u: orders.checkout(u, caller(site.buyer), site.storefront["id"], [line])
    )
    return dict(made)


def paid_request(site: Site) -> tuple[dict[str, Any], dict[str, Any]]:
    asked = make_request(site)
    paid = site.platform.run(lambda u: requests.pay(u, caller(site.buyer), asked["id"], None))
    return asked, dict(paid)


def test_normalize_reads_what_people_type() -> None:
    assert shortrefs.normalize(" 7kq2-m9xd ") == "7KQ2M9XD"
    assert shortrefs.normalize("7KQ2 M9XD") == "7KQ2M9XD"
    assert shortrefs.normalize("IL0O-ABCD") == "1100ABCD"  # Crockford's look-alikes
    assert shortrefs.normalize("7KQ2M9XU") is None  # U is not in the alphabet
    assert shortrefs.normalize("7KQ2M9X") is None
    assert shortrefs.shown("7KQ2M9XD") == "7KQ2-M9XD"
    assert all(SHAPE.match(shortrefs.new()) for _ in range(200))


def test_each_payment_order_and_request_has_its_own(site: Site) -> None:
    asked, paid = paid_request(site)
    order = an_order(site)
    refs = [asked["short_ref"], paid["short_ref"], order["short_ref"]]
    assert all(SHAPE.match(r) for r in refs) and len(set(refs)) == 3
    again = site.platform.run(lambda u: requests.get(u, OPERATOR, asked["id"]), write=False)
    assert again["short_ref"] == asked["short_ref"]


def _draws(first: str) -> Iterator[str]:
    """A taken reference first, then fresh ones (drawn by the real generator)."""
    return itertools.chain([first], iter(REAL_NEW, None))


def test_a_taken_reference_is_drawn_again(site: Site, monkeypatch) -> None:
    first = make_request(site)
    draws = _draws(first["short_ref"])
    monkeypatch.setattr(shortrefs, "new", lambda: next(draws))
    second = make_request(site)  # one transaction: the clash did not spoil it
    assert second["short_ref"] != first["short_ref"] and SHAPE.match(second["short_ref"])
    monkeypatch.setattr(shortrefs, "new", lambda: first["short_ref"])
    with pytest.raises(RuntimeError, match="no free short reference"):
        make_request(site)


def test_concurrent_clashes_all_end_with_unique_references(site: Site, monkeypatch, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is proved on PostgreSQL")
    local = threading.local()
    monkeypatch.setattr(shortrefs, "new", lambda: next(local.draws))
    start = threading.Barrier(6)
    made: list[str] = []
    failed: list[BaseException] = []

    def one() -> None:
        local.draws = itertools.chain([CLASH], iter(REAL_NEW, None))
        start.wait()
        try:
            made.append(make_request(site)["short_ref"])
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failed and len(made) == 6 and len(set(made)) == 6
    assert made.count(CLASH) == 1


def test_the_migration_gives_existing_rows_a_reference(site: Site) -> None:
    asked, paid = paid_request(site)
    order = an_order(site)
    db = site.platform.db
    before = migrate.downgrade(db, f"{MIGRATION}-1")  # the revision before short references
    assert before and before != MIGRATION
    assert migrate.upgrade(db) == migrate.head()
    refs = site.platform.run(
        lambda u: [
            requests.get(u, OPERATOR, asked["id"])["short_ref"],
            orders.get(u, OPERATOR, order["id"])["short_ref"],
        ],
        write=False,
    )
    assert all(SHAPE.match(r) for r in refs)
    count = site.platform.run(
        lambda u: u.conn.execute(
            payment_requests.select().where(payment_requests.c.short_ref == "")
        ).first(),
        write=False,
    )
    assert count is None
    found = site.platform.run(lambda u: shortrefs.find(u, OPERATOR, refs[0]), write=False)
    assert found == [shortrefs.Found("payment_request", asked["id"])]
    assert paid["id"]


def test_a_merchant_finds_its_own_and_the_operator_every_one(site: Site, browser) -> None:
    asked, paid = paid_request(site)
    order = an_order(site)
    browser.sign_in(site.merchant)
    page = browser.get("/m/orders")
    assert 'action="/m/find"' in page.text and shortrefs.shown(order["short_ref"]) in page.text
    typed = shortrefs.shown(order["short_ref"]).lower()
    hit = browser.get(f"/m/find?ref={typed}")
    assert hit.status_code == 303 and hit.headers["location"] == f"/m/orders/{order['id']}"
    listed = browser.get(f"/m/find?ref={paid['short_ref']}")
    assert listed.status_code == 200 and paid["id"] in listed.text
    assert shortrefs.shown(paid["short_ref"]) in listed.text
    bad = browser.get("/m/find?ref=ABC")
    assert bad.status_code == 200 and "8 letters and digits" in bad.text
    # Another merchant: nothing, as for a reference that does not exist.
    other = browser.__class__(str(browser.http.base_url))
    other.sign_in(site.other_merchant)
    none = other.get(f"/m/find?ref={order['short_ref']}")
    assert none.status_code == 200 and "Nothing found" in none.text and order["id"] not in none.text
    other.close()
    staff = browser.__class__(str(browser.http.base_url))
    staff.sign_in(site.operator)
    seen = staff.get(f"/op/find?ref={asked['short_ref']}")
    assert seen.status_code == 200 and asked["id"] in seen.text
    staff.close()


def test_the_receipt_shows_the_reference_large(site: Site, browser) -> None:
    asked, paid = paid_request(site)
    browser.sign_in(site.buyer)
    receipt = browser.get(f"/pay/{asked['id']}").text
    big = re.search(r'<p class="ref-big">.*?<strong>([^<]+)</strong>', receipt)
    assert big and big.group(1) == shortrefs.shown(paid["short_ref"])
    assert paid["id"] in receipt  # the long id beside it
