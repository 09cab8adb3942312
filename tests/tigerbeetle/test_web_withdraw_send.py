"""The web Withdraw form and the web "Send to a bank account" form on a real TigerBeetle
cluster (issue 22): each runs the API route's own A (``payouts.cluster.reserving``,
``rails.cluster.reserving``) through the two-store order with its record, not a copy — a
double tap moves the money once and ``ledger verify`` stays clean.

The deployment is ``test_payments``'s (one per database kind, one replica); the bank set-up
(directory, ₱10.00 InstaPay fee, the buyer's BDO account) is ``test_bank_transfers``'.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.tigerbeetle import test_bank_transfers, test_payments
from tests.tigerbeetle.test_bank_transfers import FEE, _buyer
from tests.tigerbeetle.test_payments import Deployment, _announced
from tests.tigerbeetle.test_requests_qr import PIN, _Browser
from tindahan.services.payments import two_store
from tindahan.services.platform import logins
from tindahan.web.app import create_app as create_web_app

#: Journeys through a channel: on SQLite only (``one_database``, tests/tigerbeetle/conftest.py).
pytestmark = [pytest.mark.xdist_group("tigerbeetle-b"), pytest.mark.one_database]

deployment = test_payments.deployment
banked = test_bank_transfers.banked
merchant_banked = test_bank_transfers.merchant_banked


@pytest.fixture
def sign_in(deployment, shared_server, monkeypatch) -> Iterator[Callable[[Any], _Browser]]:
    """The web app on the deployment's platform; ``sign_in(party)`` gives a browser signed
    in as that party (its login with a PIN made once per deployment)."""
    d = deployment
    monkeypatch.setenv("TINDAHAN_WEB_INSECURE_COOKIES", "1")
    phones: dict[str, str] = d.__dict__.setdefault("web_phones", {})
    browsers: list[_Browser] = []

    def signed(party: Any) -> _Browser:
        if party.id not in phones:
            phone = phones[party.id] = "+63919" + str(uuid.uuid4().int)[:7]
            d.platform.run(
                lambda u: logins.create(u, None, party_id=party.id, phone=phone, secret=PIN)
            )
        made = _Browser(d.api.http.base_url)
        browsers.append(made)
        made.get("/signin")
        done = made.post("/signin", {"phone": phones[party.id], "secret": PIN})
        assert done.status_code == 303, done.text
        return made

    api_app = shared_server.app
    shared_server.app = create_web_app(d.platform)
    try:
        yield signed
    finally:
        for made in browsers:
            made.http.close()
        shared_server.app = api_app


def _state(d: Deployment, movement_id: str) -> str | None:
    return d.platform.run(lambda u: two_store.state_of(u, movement_id), write=False)


def test_the_web_withdraw_form_pays_out_on_the_cluster_once(deployment, sign_in):
    d = deployment
    merchant = d.world.merchant
    d.world.fund(merchant, 100_000, "settlement")
    settlement, main = (
        a.balance_posted for a in d.accounts((merchant, "settlement"), (merchant, "main"))
    )
    page = sign_in(merchant)
    page.get("/m/withdraw")
    shown = page.post("/m/withdraw/review", {"amount": "15.00"})
    assert shown.status_code == 200, shown.text
    sent = {"amount": page.field("amount"), "idempotency_key": page.field("idempotency_key")}
    done = page.post("/m/withdraw", sent)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/m/withdraw?done=po_")
    payout_id = done.headers["location"].removeprefix("/m/withdraw?done=")
    assert _state(d, payout_id) == "settled"
    again = page.post("/m/withdraw", sent)  # a double tap
    assert again.headers["location"] == done.headers["location"]
    after = d.accounts((merchant, "settlement"), (merchant, "main"))
    assert (after[0].balance_posted, after[1].balance_posted) == (settlement - 1_500, main + 1_500)
    assert _announced(d, "payout.succeeded", payout_id) == 1
    assert two_store.verify(d.db, d.ledger) == []


def test_the_web_withdraw_form_shows_a_refusal_beside_the_amount(deployment, sign_in):
    d = deployment
    merchant = d.world.merchant
    before = d.accounts((merchant, "settlement"), (merchant, "main"))
    page = sign_in(merchant)
    page.get("/m/withdraw")
    too_much = {"amount": "9999999.00", "idempotency_key": page.field("idempotency_key")}
    refused = page.post("/m/withdraw", too_much)  # past the review: A refuses, nothing moves
    assert refused.status_code == 400, refused.text
    assert "more than you can withdraw" in refused.text  # A's own refusal, not the ledger's
    assert d.accounts((merchant, "settlement"), (merchant, "main")) == before


def test_the_web_bank_send_form_holds_on_the_cluster_once(banked, sign_in):
    d, account = banked
    before = _buyer(d)
    page = sign_in(d.world.buyer)
    page.get("/b/send")
    shown = page.post("/b/send/review", {"account": account, "amount": "30.00"})
    assert shown.status_code == 200, shown.text
    sent = {
        "account": account,
        "amount": "30.00",
        "pin": PIN,
        "idempotency_key": page.field("idempotency_key"),
    }
    done = page.post("/b/send", sent)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/b/transfers/")
    transfer_id = done.headers["location"].removeprefix("/b/transfers/")
    assert _state(d, transfer_id) == "held"  # waits for the rail's answer, like the API's
    again = page.post("/b/send", sent)  # a double tap
    assert again.headers["location"] == done.headers["location"]
    held = _buyer(d)
    assert held.debits_pending == before.debits_pending + 3_000 + FEE
    assert held.balance_posted == before.balance_posted
    assert test_bank_transfers._get(d, transfer_id)["status"] == "pending"
    assert two_store.verify(d.db, d.ledger) == []


def test_the_web_withdraw_to_a_bank_form_pays_out_and_holds_once(merchant_banked, sign_in):
    """ "Withdraw to a bank account": ``bank_cluster.reserving`` through ``forms.submit``
    (record ``bank_payout``): one movement, a double tap moving nothing more."""
    d, account = merchant_banked
    merchant = d.world.merchant
    settlement, main = d.accounts((merchant, "settlement"), (merchant, "main"))
    page = sign_in(merchant)
    page.get("/m/withdraw")
    shown = page.post("/m/withdraw/bank/review", {"account": account, "bank_amount": "40.00"})
    assert shown.status_code == 200, shown.text
    sent = {
        "account": account,
        "amount": "40.00",
        "pin": PIN,
        "idempotency_key": page.field("idempotency_key"),
    }
    done = page.post("/m/withdraw/bank", sent)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/m/transfers/")
    transfer_id = done.headers["location"].removeprefix("/m/transfers/")
    assert _state(d, transfer_id) == "held"
    again = page.post("/m/withdraw/bank", sent)  # a double tap
    assert again.headers["location"] == done.headers["location"]
    total = 4_000 + test_bank_transfers.PAYOUT_FEE
    s, m = d.accounts((merchant, "settlement"), (merchant, "main"))
    assert s.balance_posted == settlement.balance_posted - total
    assert (m.balance_posted, m.debits_pending) == (
        main.balance_posted + total,
        main.debits_pending + total,
    )
    assert two_store.verify(d.db, d.ledger) == []
