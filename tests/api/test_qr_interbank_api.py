"""Paying another institution's QR Ph merchant code through the API (issue 19, item 3):
``POST /v1/qr/bank_transfers/quote`` says the fee first, ``POST /v1/qr/bank_transfers``
holds the money once per idempotency key, the existing ``POST /v1/qr/payments`` points
there, refusals are the error object and hold nothing — SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.rails.test_qr_interbank import code
from tindahan import limits
from tindahan.services.rails import participants


@pytest.fixture
def seeded(platform, world):
    participants.ensure_seeded(platform)
    return world


def test_quote_then_pay_once_per_key(seeded):
    api, buyer = seeded.api, seeded.buyer
    api.ok(api.post("/v1/fee_settings", seeded.operator, {"instapay_send_fee_minor": 10_00}))
    payload = code(amount=120_00, reference="R1")
    body = {"payload": payload}
    said = api.ok(api.post("/v1/qr/bank_transfers/quote", buyer.key, body))
    assert (said["bank"], said["fee_minor"], said["total_minor"]) == ("GCASH", 10_00, 130_00)
    assert said["amount_fixed"] is True and said["reference"] == "R1"
    before = seeded.balance(buyer)
    first = api.ok(api.post("/v1/qr/bank_transfers", buyer.key, body, idem="qr-bank-1"))
    again = api.ok(api.post("/v1/qr/bank_transfers", buyer.key, body, idem="qr-bank-1"))
    assert first == again
    assert (first["object"], first["rail"], first["status"]) == (
        "bank_transfer",
        "instapay",
        "pending",
    )
    assert first["bank_account_id"] is None and first["participant_code"] == "GCASH"
    assert first["total_minor"] == 130_00
    listed = api.ok(api.get("/v1/bank_transfers", buyer.key))["data"]
    assert [t["id"] for t in listed] == [first["id"]]
    other = api.get(f"/v1/bank_transfers/{first['id']}", seeded.other_buyer.key)
    assert other.status_code == 404
    changed = api.post("/v1/qr/bank_transfers", buyer.key, {"payload": code()}, idem="qr-bank-1")
    assert changed.status_code == 409
    assert seeded.balance(buyer) == before  # held, not yet posted: the worker sends it


@pytest.mark.parametrize(
    ("body", "status", "wanted"),
    [
        (
            {"payload": code(), "amount_minor": limits.INSTAPAY_MAX_MINOR + 1},
            402,
            "qr_over_instapay_cap",
        ),
        ({"payload": code()}, 400, "amount_required"),
        ({"payload": code("ZZZZPHM1"), "amount_minor": 100}, 402, "qr_acquirer_unknown"),
        ({"payload": code(guid="com.p2pqrpay"), "amount_minor": 100}, 402, "qr_not_payable"),
        ({"payload": "nope", "amount_minor": 100}, 400, "qr_invalid"),
    ],
)
def test_refusals_are_the_error_object_and_hold_nothing(seeded, body, status, wanted):
    api, buyer = seeded.api, seeded.buyer
    for path in ("/v1/qr/bank_transfers", "/v1/qr/bank_transfers/quote"):
        response = api.post(path, buyer.key, body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == wanted
    assert api.ok(api.get("/v1/bank_transfers", buyer.key))["data"] == []
    assert seeded.balance(buyer) == 1_000_000


def test_the_on_us_endpoint_points_to_the_interbank_one(seeded):
    api = seeded.api
    response = api.post(
        "/v1/qr/payments", seeded.buyer.key, {"payload": code(), "amount_minor": 100}
    )
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "qr_off_us" and "/v1/qr/bank_transfers" in error["message"]
