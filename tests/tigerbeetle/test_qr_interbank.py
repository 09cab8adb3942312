"""Paying another institution's QR Ph code on a real TigerBeetle cluster (issue 22):
``POST /v1/qr/bank_transfers`` takes the outbound transfers' two-store order
(``rails.cluster.start`` with ``qr.interbank.checked``): held with no timeout, sent only once
held, posted on ACSC, voided on RJCT; a crash after each step of the request, recovery, the
code's refusals and the want of money holding nothing, ``ledger verify``; and the web scan
page's pay step, through the same order (``rails.cluster.reserve``), once per form key.

The deployment is ``test_payments``'s; the buyer pays a GCash merchant's code, the operator's
InstaPay send fee ₱10.00 (``test_bank_transfers``'s helpers read the wallet and the rail).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.rails.fake_rail import FakeRail
from tests.rails.test_qr_interbank import code
from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_bank_transfers import FEE, _buyer, _clearing, _get, _outgoing
from tests.tigerbeetle.test_mobile_sends import browser
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies
from tests.tigerbeetle.test_requests_qr import PIN
from tindahan import limits
from tindahan.services.payments import two_store
from tindahan.services.rails import participants, transfers

pytestmark = pytest.mark.xdist_group("tigerbeetle-b")

deployment = test_payments.deployment
crash_after = test_payments.crash_after
__all__ = ["browser"]  # the web app on the deployment, the buyer signed in (a fixture)


@pytest.fixture(scope="module")
def seeded(deployment: Deployment) -> Deployment:
    """The directory seeded (GCash is an InstaPay member), the send fee set."""
    participants.ensure_seeded(deployment.platform)
    body = {"instapay_send_fee_minor": FEE}
    deployment.api.ok(deployment.api.post("/v1/fee_settings", deployment.world.operator, body))
    return deployment


def _pay(d: Deployment, body: dict[str, Any], key: str | None = None) -> Any:
    return d.api.post(
        "/v1/qr/bank_transfers", d.world.buyer.key, body, idem=key or str(uuid.uuid4())
    )


def test_a_code_is_held_sent_and_settled_once(seeded):
    d = seeded
    rail = FakeRail()
    before, clearing = _buyer(d), _clearing(d)
    key = str(uuid.uuid4())
    made = d.api.ok(_pay(d, {"payload": code(amount=12_000)}, key))
    assert (made["status"], made["rail"], made["fee_minor"]) == ("pending", "instapay", FEE)
    assert made["bank_account_id"] is None and made["participant_code"] == "GCASH"
    assert _buyer(d).debits_pending == before.debits_pending + 12_000 + FEE
    hold_id = made["id"].replace("_", ".")
    assert d.ledger.lookup_transfers([hold_id])[hold_id].timeout_seconds == 0
    assert transfers.dispatch(d.platform, rail) == 1
    assert transfers.dispatch(d.platform, rail) == 0
    assert transfers.receive(d.platform, rail.status(made["uetr"], "ACSC")).applied == [
        made["uetr"]
    ]
    assert _get(d, made["id"])["status"] == "settled"
    after = _buyer(d)
    assert after.balance_posted == before.balance_posted - 12_000 - FEE
    assert after.debits_pending == before.debits_pending
    assert _clearing(d) == clearing + 12_000
    replay = _pay(d, {"payload": code(amount=12_000)}, key)
    assert replay.json() == made and replay.headers["Idempotent-Replayed"] == "true"
    assert _announced(d, "bank_transfer.succeeded", made["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


def test_a_rejection_voids_the_hold_and_the_fee(seeded):
    d = seeded
    rail = FakeRail()
    before, outgoing = _buyer(d), _outgoing(d)
    made = d.api.ok(_pay(d, {"payload": code(), "amount_minor": 4_000}))
    transfers.dispatch(d.platform, rail)
    transfers.receive(d.platform, rail.status(made["uetr"], "RJCT", "AC04"))
    shown = _get(d, made["id"])
    assert shown["status"] == "rejected" and shown["fee_refunded_minor"] == FEE
    after = _buyer(d)
    assert (after.balance_posted, after.debits_pending) == (
        before.balance_posted,
        before.debits_pending,
    )
    assert _outgoing(d) == outgoing
    assert _announced(d, "bank_transfer.failed", made["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.parametrize(
    ("body", "status", "wanted"),
    [
        (
            {"payload": code(), "amount_minor": limits.INSTAPAY_MAX_MINOR + 1},
            402,
            "qr_over_instapay_cap",
        ),
        ({"payload": code("ZZZZPHM1"), "amount_minor": 100}, 402, "qr_acquirer_unknown"),
        ({"payload": code(guid="com.p2pqrpay"), "amount_minor": 100}, 402, "qr_not_payable"),
        ({"payload": code()}, 400, "amount_required"),
    ],
)
def test_the_codes_refusals_hold_nothing(seeded, body, status, wanted):
    d = seeded
    rail = FakeRail()
    before = _buyer(d)
    refused = _pay(d, body)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == wanted
    assert transfers.dispatch(d.platform, rail) == 0
    assert _buyer(d).debits_pending == before.debits_pending


def test_a_code_the_wallet_cannot_cover_is_refused_and_never_sent(seeded):
    d = seeded
    rail = FakeRail()
    before, outgoing = _buyer(d), _outgoing(d)
    amount = before.balance_posted - before.debits_pending - FEE + 1
    assert amount <= limits.INSTAPAY_MAX_MINOR  # the cluster refuses it, not the cap
    refused = _pay(d, {"payload": code(), "amount_minor": amount})
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "insufficient_funds"
    assert transfers.dispatch(d.platform, rail) == 0
    assert _outgoing(d) == outgoing and _buyer(d).debits_pending == before.debits_pending


@pytest.mark.parametrize("step", two_store.CASH_OUT_STEPS["request"])
def test_a_crash_in_a_payment_holds_the_money_once_and_sends_it_once(seeded, crash_after, step):
    d = seeded
    rail = FakeRail()
    before = _buyer(d)
    key = str(uuid.uuid4())
    body = {"payload": code(amount=3_000)}
    crash_after(step)
    _dies(d, lambda: _pay(d, body, key))
    crash_after(None)
    if step == "A":  # its hold is not in the cluster yet: nothing may leave
        assert transfers.dispatch(d.platform, rail) == 0
    two_store.recover(d.platform, older_than_s=0)
    made = d.api.ok(_pay(d, body, key))
    assert made["status"] == "pending"
    assert _buyer(d).debits_pending == before.debits_pending + 3_000 + FEE
    assert transfers.dispatch(d.platform, rail) == 1
    assert transfers.dispatch(d.platform, rail) == 0
    transfers.receive(d.platform, rail.status(made["uetr"], "ACSC"))
    after = _buyer(d)
    assert after.balance_posted == before.balance_posted - 3_000 - FEE
    assert after.debits_pending == before.debits_pending
    assert _announced(d, "bank_transfer.succeeded", made["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.one_database
def test_the_web_scan_page_pays_a_code_on_the_cluster_once(seeded, browser: Any):
    d = seeded
    page, _mobile = browser
    rail = FakeRail()
    before = _buyer(d)
    payload = code()
    page.get("/b/scan")
    review = page.post("/b/scan/bank/review", {"payload": payload, "amount": "80"})
    assert review.status_code == 200 and "₱90.00" in review.text, review.text  # with the fee
    key = page.field("idempotency_key")
    sent = {"payload": payload, "amount": "80", "pin": PIN, "idempotency_key": key}
    paid = page.post("/b/scan/bank/pay", sent)
    assert paid.status_code == 303, paid.text
    assert paid.headers["location"].startswith("/b/transfers/btr_")
    again = page.post("/b/scan/bank/pay", sent)  # a double tap: the same transfer
    assert again.headers["location"] == paid.headers["location"]
    transfer_id = paid.headers["location"].removeprefix("/b/transfers/")
    assert _buyer(d).debits_pending == before.debits_pending + 8_000 + FEE
    assert transfers.dispatch(d.platform, rail) == 1
    uetr = _get(d, transfer_id)["uetr"]
    transfers.receive(d.platform, rail.status(uetr, "ACSC"))
    assert _get(d, transfer_id)["status"] == "settled"
    assert _buyer(d).balance_posted == before.balance_posted - 8_000 - FEE
    assert _announced(d, "bank_transfer.succeeded", transfer_id) == 1
    assert two_store.verify(d.db, d.ledger) == []
