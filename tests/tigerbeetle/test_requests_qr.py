"""QR payments, payment requests and the web pages' pay forms on a real TigerBeetle cluster
(issue 22): they book through the two-store order by naming their part of A
(``qrpay.reserve``, ``requests.reserve``) to the same idempotent runner the API's payments
use, not by a copy; a request is marked paid in A, announced at C, and opened again when its
payment fails; a crash after each step of a request's payment moves the money once.

The deployment is ``test_payments``'s (one per database kind, one replica, the barangay
moved over with the migration).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies
from tindahan.services.payments import two_store
from tindahan.services.platform import logins
from tindahan.store.payment_tables import payments
from tindahan.web.app import create_app as create_web_app

pytestmark = pytest.mark.xdist_group("tigerbeetle-a")

deployment = test_payments.deployment
crash_after = test_payments.crash_after


def _ask(d: Deployment, amount: int) -> dict[str, Any]:
    body = {"amount_minor": amount, "currency": "PHP", "reference": "INV-" + uuid.uuid4().hex[:8]}
    return d.api.ok(d.api.post("/v1/payment_requests", d.world.merchant.key, body))


def _pay_request(d: Deployment, request_id: str, key: str, payer: Any = None) -> httpx.Response:
    who = payer or d.world.buyer
    return d.api.post(f"/v1/payment_requests/{request_id}/pay", who.key, {}, idem=key)


def _request(d: Deployment, request_id: str) -> dict[str, Any]:
    return d.api.ok(d.api.get(f"/v1/payment_requests/{request_id}", d.world.merchant.key))


def _request_events(d: Deployment, request_id: str) -> int:
    return _announced(d, "payment_request.paid", request_id)


def test_a_static_qr_code_pays_on_the_cluster_once(deployment):
    d = deployment
    buyer, settlement, _ = d.balances()
    code = d.api.ok(d.api.get(f"/v1/parties/{d.world.merchant.id}/qr", d.world.merchant.key))
    body = {"payload": code["payload"], "amount_minor": 4_200}
    key = str(uuid.uuid4())
    paid = d.api.ok(d.api.post("/v1/qr/payments", d.world.buyer.key, body, idem=key))
    assert paid["status"] == "succeeded" and paid["kind"] == "merchant"
    fee = paid["fee_minor"]
    assert d.balances()[:2] == (buyer - 4_200, settlement + 4_200 - fee)
    # booked through the two-store order: its place settled, its transfers in the cluster
    assert d.platform.run(lambda u: two_store.state_of(u, paid["id"]), write=False) == "settled"
    again = d.api.post("/v1/qr/payments", d.world.buyer.key, body, idem=key)
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[:2] == (buyer - 4_200, settlement + 4_200 - fee)


def test_a_payment_request_is_paid_once_on_the_cluster(deployment):
    d = deployment
    buyer, settlement, other = d.balances()
    asked = _ask(d, 3_000)
    key = str(uuid.uuid4())
    paid = d.api.ok(_pay_request(d, asked["id"], key))
    assert paid["status"] == "succeeded" and paid["request_id"] == asked["id"]
    fee = paid["fee_minor"]
    assert d.balances()[:2] == (buyer - 3_000, settlement + 3_000 - fee)
    shown = _request(d, asked["id"])
    assert shown["status"] == "paid" and shown["payment_id"] == paid["id"]
    assert _request_events(d, asked["id"]) == 1
    assert _announced(d, "payment.succeeded", paid["id"]) == 1
    replay = _pay_request(d, asked["id"], key)
    assert replay.json() == paid and replay.headers["Idempotent-Replayed"] == "true"
    second = _pay_request(d, asked["id"], str(uuid.uuid4()), d.world.other_buyer)
    assert second.status_code == 409 and second.json()["error"]["code"] == "payment_request_paid"
    assert d.balances() == (buyer - 3_000, settlement + 3_000 - fee, other)
    assert _request_events(d, asked["id"]) == 1


def test_a_dynamic_qr_code_pays_its_request_on_the_cluster(deployment):
    d = deployment
    buyer, _, _ = d.balances()
    asked = _ask(d, 1_500)
    code = d.api.ok(d.api.get(f"/v1/payment_requests/{asked['id']}/qr", d.world.merchant.key))
    body = {"payload": code["payload"]}
    paid = d.api.ok(d.api.post("/v1/qr/payments", d.world.buyer.key, body))
    assert paid["request_id"] == asked["id"] and paid["status"] == "succeeded"
    assert d.balances()[0] == buyer - 1_500
    assert _request(d, asked["id"])["status"] == "paid"
    again = d.api.post("/v1/qr/payments", d.world.buyer.key, body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "payment_request_paid"


def test_a_request_whose_payment_is_refused_is_open_again(deployment):
    """The cluster refuses the payment (not enough money): the request goes back to open,
    the failed payment is no longer its payment, and the payer pays it once topped up."""
    d = deployment
    buyer = d.balances()[0]
    asked = _ask(d, buyer + 100)
    refused = _pay_request(d, asked["id"], str(uuid.uuid4()))
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "insufficient_funds"
    shown = _request(d, asked["id"])
    assert shown["status"] == "open" and shown["payment_id"] is None
    assert _request_events(d, asked["id"]) == 0
    d.world.fund(d.world.buyer, 200)  # an operator's funding, booked on the cluster
    paid = d.api.ok(_pay_request(d, asked["id"], str(uuid.uuid4())))
    assert paid["status"] == "succeeded"
    assert _request(d, asked["id"])["payment_id"] == paid["id"]
    assert d.balances()[0] == 100
    d.world.fund(d.world.buyer, buyer)  # the next tests' money back

    def failed(unit: Any) -> list[Any]:
        query = select(payments.c.request_id).where(
            payments.c.status == "failed", payments.c.reference == asked["reference"]
        )
        return list(unit.conn.execute(query).scalars())

    assert None in d.platform.run(failed, write=False)  # the refused one, unlinked


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_request_s_payment_pays_it_once(deployment, crash_after, step):
    d = deployment
    buyer, settlement, _ = d.balances()
    asked = _ask(d, 2_000)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _pay_request(d, asked["id"], key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_pay_request(d, asked["id"], key))
    assert answer["status"] == "succeeded"
    fee = answer["fee_minor"]
    assert d.balances()[:2] == (buyer - 2_000, settlement + 2_000 - fee)
    shown = _request(d, asked["id"])
    assert shown["status"] == "paid" and shown["payment_id"] == answer["id"]
    assert _request_events(d, asked["id"]) == 1
    assert _announced(d, "payment.succeeded", answer["id"]) == 1


# -- the web pages' pay forms ---------------------------------------------------------------


class _Browser:
    """Just enough of ``tests.web``'s browser: cookies, the CSRF token and the form's key."""

    def __init__(self, base: httpx.URL) -> None:
        self.http = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        self.last = ""

    def get(self, path: str) -> httpx.Response:
        response = self.http.get(path)
        self.last = response.text
        return response

    def field(self, name: str) -> str:
        marker = f'name="{name}" value="'
        start = self.last.index(marker) + len(marker)
        return self.last[start : self.last.index('"', start)]

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        response = self.http.post(path, data={"csrf_token": self.field("csrf_token"), **data})
        if "text/html" in response.headers.get("content-type", ""):
            self.last = response.text
        return response


PIN = "246810"
_PHONES: dict[str, str] = {}


@pytest.fixture
def browser(deployment, shared_server, monkeypatch) -> Iterator[_Browser]:
    """The web app on the deployment's platform, the buyer signed in with a PIN."""
    d = deployment
    monkeypatch.setenv("TINDAHAN_WEB_INSECURE_COOKIES", "1")
    phone = _PHONES.get(d.url)
    if phone is None:  # the buyer's login, once per deployment
        phone = _PHONES[d.url] = "+63917" + str(uuid.uuid4().int)[:7]
        d.platform.run(
            lambda u: logins.create(u, None, party_id=d.world.buyer.id, phone=phone, secret=PIN)
        )
    api_app = shared_server.app
    shared_server.app = create_web_app(d.platform)
    made = _Browser(d.api.http.base_url)
    try:
        made.get("/signin")
        signed = made.post("/signin", {"phone": phone, "secret": PIN})
        assert signed.status_code == 303, signed.text
        yield made
    finally:
        made.http.close()
        shared_server.app = api_app


@pytest.mark.one_database
def test_the_web_scan_form_pays_on_the_cluster_once(deployment, browser):
    d = deployment
    buyer, settlement, _ = d.balances()
    code = d.api.ok(d.api.get(f"/v1/parties/{d.world.merchant.id}/qr", d.world.merchant.key))
    browser.get("/b/scan")
    shown = browser.post("/b/scan", {"payload": code["payload"]})
    assert shown.status_code == 200, shown.text
    sent = {
        "payload": code["payload"],
        "amount": "12.00",
        "pin": PIN,
        "idempotency_key": browser.field("idempotency_key"),
    }
    paid = browser.post("/b/scan/pay", sent)
    assert paid.status_code == 303 and paid.headers["location"].startswith("/b/payments/pay_")
    payment_id = paid.headers["location"].removeprefix("/b/payments/")
    assert d.platform.run(lambda u: two_store.state_of(u, payment_id), write=False) == "settled"
    again = browser.post("/b/scan/pay", sent)  # a double tap
    assert again.headers["location"] == paid.headers["location"]
    fee = d.api.ok(d.api.get(f"/v1/payments/{payment_id}", d.world.buyer.key))["fee_minor"]
    assert d.balances()[:2] == (buyer - 1_200, settlement + 1_200 - fee)


@pytest.mark.one_database
def test_the_web_request_form_pays_on_the_cluster_once(deployment, browser):
    d = deployment
    buyer = d.balances()[0]
    asked = _ask(d, 800)
    browser.get(f"/pay/{asked['id']}")
    sent = {"pin": PIN, "idempotency_key": browser.field("idempotency_key")}
    paid = browser.post(f"/pay/{asked['id']}", sent)
    assert paid.status_code == 303, paid.text
    shown = _request(d, asked["id"])
    assert shown["status"] == "paid"
    state = d.platform.run(lambda u: two_store.state_of(u, shown["payment_id"]), write=False)
    assert state == "settled"
    assert d.balances()[0] == buyer - 800
