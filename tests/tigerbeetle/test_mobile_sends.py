"""Sends to a mobile number on a real TigerBeetle cluster (issue 22): ``POST
/v1/mobile_transfers`` and the web Send page book through the two-store order with the
send's own part of A (``sends.reserve_mobile``), not a copy; C announces
``mobile_transfer.succeeded`` (not ``payment.succeeded``: the leg's channel tells it); the
refusals are the SQL path's; a crash after each step moves the money once and announces once;
``ledger verify`` checks the send's transfers.

The deployment is ``test_payments``'s (one per database kind, one replica). The buyer's
registered mobile number is ``+639171234567`` (``tests.api.conftest``'s barangay).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies
from tests.tigerbeetle.test_requests_qr import PIN, _Browser
from tindahan.services.payments import two_store
from tindahan.services.platform import logins
from tindahan.web.app import create_app as create_web_app

pytestmark = pytest.mark.xdist_group("tigerbeetle-a")

deployment = test_payments.deployment
crash_after = test_payments.crash_after
reviewing = test_payments.reviewing

BUYER_MOBILE = "0917 123 4567"


def _send(d: Deployment, amount: int, key: str, mobile: str = BUYER_MOBILE) -> httpx.Response:
    """The other buyer sends to the buyer's number."""
    body = {"mobile": mobile, "amount_minor": amount, "currency": "PHP", "note": "baon"}
    return d.api.post("/v1/mobile_transfers", d.world.other_buyer.key, body, idem=key)


def _state(d: Deployment, payment_id: str) -> str | None:
    return d.platform.run(lambda u: two_store.state_of(u, payment_id), write=False)


def test_a_send_to_a_mobile_number_books_in_the_cluster_once(deployment):
    d = deployment
    buyer, _, other = d.balances()
    key = str(uuid.uuid4())
    sent = d.api.ok(_send(d, 2_500, key))
    assert (sent["kind"], sent["status"], sent["payee_id"]) == (
        "p2p",
        "succeeded",
        d.world.buyer.id,
    )
    assert sent["description"] == "baon"
    assert d.balances()[0] == buyer + 2_500 and d.balances()[2] == other - 2_500
    assert _state(d, sent["id"]) == "settled"
    assert _announced(d, "mobile_transfer.succeeded", sent["id"]) == 1
    assert _announced(d, "payment.succeeded", sent["id"]) == 0
    replay = _send(d, 2_500, key)
    assert replay.json() == sent and replay.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[0] == buyer + 2_500
    assert _announced(d, "mobile_transfer.succeeded", sent["id"]) == 1
    # the recipient's notice comes from that event, as on the SQL path
    listed = d.api.ok(d.api.get("/v1/notifications", d.world.buyer.key, unread="true"))["data"]
    assert ("mobile_transfer.received", 2_500) in [
        (n["kind"], n["facts"]["amount_minor"]) for n in listed
    ]
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("reviewing")
def test_a_send_held_for_review_is_held_in_the_cluster_and_released(deployment):
    """``reserve_mobile`` judges the send as a payment is judged: held (the answer and the
    event say ``under_review``), the analyst's release frees it."""
    d = deployment
    buyer, settlement, other = d.balances()
    sent = d.api.ok(_send(d, 900, str(uuid.uuid4())))
    assert (sent["status"], sent["under_review"]) == ("succeeded", True)
    (account,) = d.accounts((d.world.buyer, "main"))
    assert (account.balance_posted, account.debits_pending) == (buyer + 900, 900)
    assert _announced(d, "mobile_transfer.succeeded", sent["id"]) == 1
    alert = test_payments._alert_of(d, sent["transfer_ids"][0])
    test_payments._decide(d, alert["id"], "release")
    assert d.balances() == (buyer + 900, settlement, other - 900)
    assert two_store.verify(d.db, d.ledger) == []


def test_a_merchant_s_p2p_payment_is_still_announced_as_a_payment(deployment):
    """Only a send by number is told apart: a P2P payment by party id keeps its event."""
    d = deployment
    paid = d.api.ok(d.pay(d.world.other_buyer, 300, str(uuid.uuid4())))
    assert _announced(d, "payment.succeeded", paid["id"]) == 1
    assert _announced(d, "mobile_transfer.succeeded", paid["id"]) == 0


@pytest.mark.parametrize(
    ("mobile", "status", "code"),
    [
        ("+639179999999", 404, "recipient_not_found"),
        ("hello", 400, "phone_invalid"),
    ],
)
def test_a_send_refused_in_a_moves_nothing(deployment, mobile, status, code):
    d = deployment
    before = d.balances()
    refused = _send(d, 100, str(uuid.uuid4()), mobile)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == code
    assert d.balances() == before


def test_a_send_to_oneself_is_refused(deployment):
    d = deployment
    body = {"mobile": BUYER_MOBILE, "amount_minor": 100, "currency": "PHP"}
    refused = d.api.post("/v1/mobile_transfers", d.world.buyer.key, body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "recipient_is_sender"


def test_a_send_beyond_the_balance_is_refused_by_the_cluster_as_on_sql(deployment):
    d = deployment
    before = d.balances()
    key = str(uuid.uuid4())
    refused = _send(d, before[2] + 1, key)
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "insufficient_funds"
    assert d.balances() == before
    again = _send(d, before[2] + 1, key)
    assert again.json() == refused.json() and again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_send_moves_the_money_once(deployment, crash_after, step):
    d = deployment
    buyer, _, other = d.balances()
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _send(d, 1_100, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_send(d, 1_100, key))
    assert answer["status"] == "succeeded"
    assert (d.balances()[0], d.balances()[2]) == (buyer + 1_100, other - 1_100)
    assert _announced(d, "mobile_transfer.succeeded", answer["id"]) == 1
    assert _announced(d, "payment.succeeded", answer["id"]) == 0
    assert two_store.verify(d.db, d.ledger) == []


# -- the web Send page ----------------------------------------------------------------------


@pytest.fixture
def browser(deployment, shared_server, monkeypatch) -> Iterator[tuple[_Browser, str]]:
    """The web app on the deployment's platform, the buyer signed in with a PIN; with the
    other buyer's number (a web sign-in's: a registered number)."""
    d = deployment
    monkeypatch.setenv("TINDAHAN_WEB_INSECURE_COOKIES", "1")
    phones: dict[str, str] | None = getattr(d, "send_phones", None)
    if phones is None:  # the two logins, once per deployment
        phones = {
            who.id: "+63918" + str(uuid.uuid4().int)[:7]
            for who in (d.world.buyer, d.world.other_buyer)
        }
        for party_id, phone in phones.items():
            d.platform.run(
                lambda u, p=party_id, n=phone: logins.create(
                    u, None, party_id=p, phone=n, secret=PIN
                )
            )
        d.send_phones = phones
    api_app = shared_server.app
    shared_server.app = create_web_app(d.platform)
    made = _Browser(d.api.http.base_url)
    try:
        made.get("/signin")
        signed = made.post("/signin", {"phone": phones[d.world.buyer.id], "secret": PIN})
        assert signed.status_code == 303, signed.text
        yield made, phones[d.world.other_buyer.id]
    finally:
        made.http.close()
        shared_server.app = api_app


@pytest.mark.one_database
def test_the_web_send_page_sends_on_the_cluster_once(deployment, browser: Any):
    d = deployment
    page, mobile = browser
    buyer, _, other = d.balances()
    page.get("/b/send-money")
    shown = page.post("/b/send-money", {"mobile": mobile, "amount": "7.50", "note": "load"})
    assert shown.status_code == 200, shown.text
    sent = {
        "mobile": mobile,
        "amount": "7.50",
        "note": "load",
        "pin": PIN,
        "idempotency_key": page.field("idempotency_key"),
    }
    done = page.post("/b/send-money/confirm", sent)
    assert done.status_code == 303 and done.headers["location"].startswith("/b/payments/pay_")
    payment_id = done.headers["location"].removeprefix("/b/payments/")
    assert _state(d, payment_id) == "settled"
    again = page.post("/b/send-money/confirm", sent)  # a double tap
    assert again.headers["location"] == done.headers["location"]
    assert (d.balances()[0], d.balances()[2]) == (buyer - 750, other + 750)
    assert _announced(d, "mobile_transfer.succeeded", payment_id) == 1
