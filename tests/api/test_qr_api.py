"""Pay by QR through the API (issue 4): static and dynamic QR Ph codes, off-us codes."""

from __future__ import annotations

import pytest

from tindahan import qr
from tindahan.services.ledger.verify import verify


def _static(world) -> str:
    code = world.api.ok(world.api.get(f"/v1/parties/{world.merchant.id}/qr", world.merchant.key))
    assert code["kind"] == "static" and code["merchant_id"] == world.merchant.id
    return str(code["payload"])


def test_the_static_code_is_strictly_valid_qr_ph(world):
    payload = _static(world)
    tree, warnings = qr.decode(payload, strict=True)
    assert warnings == []
    summary = qr.summarize(tree)
    assert summary.kind == "p2m" and summary.merchant_id == world.merchant.id
    assert tree.objects["53"] == "608" and tree.objects["58"] == "PH"
    assert tree.objects["01"] == "11" and "54" not in tree.objects


def test_paying_a_static_code_is_a_merchant_payment_with_the_fee(world, platform):
    paid = world.api.ok(
        world.api.post(
            "/v1/qr/payments", world.buyer.key, {"payload": _static(world), "amount_minor": 25_000}
        )
    )
    assert paid["kind"] == "merchant" and paid["payee_id"] == world.merchant.id
    assert paid["fee_minor"] == 250
    assert world.balance(world.buyer) == 1_000_000 - 25_000
    assert world.balance(world.merchant, "settlement") == 25_000 - 250
    assert verify(platform.db).ok


def test_a_static_code_needs_an_amount(world):
    response = world.api.post("/v1/qr/payments", world.buyer.key, {"payload": _static(world)})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_required"


def test_a_dynamic_code_pays_its_request_once(world):
    api = world.api
    made = api.ok(
        api.post(
            "/v1/payment_requests",
            world.merchant.key,
            {"amount_minor": 45_000, "currency": "PHP", "reference": "ORDER-7"},
        )
    )
    code = api.ok(api.get(f"/v1/payment_requests/{made['id']}/qr", world.merchant.key))
    tree, _ = qr.decode(code["payload"], strict=True)
    assert tree.objects["54"] == "450.00" and tree.objects["01"] == "12"
    paid = api.ok(api.post("/v1/qr/payments", world.buyer.key, {"payload": code["payload"]}))
    assert paid["request_id"] == made["id"] and paid["amount_minor"] == 45_000
    again = api.post("/v1/qr/payments", world.other_buyer.key, {"payload": code["payload"]})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payment_request_paid"
    assert world.balance(world.other_buyer) == 1_000_000
    assert (
        api.ok(api.get(f"/v1/payment_requests/{made['id']}", world.merchant.key))["status"]
        == "paid"
    )


def test_a_dynamic_code_fixes_the_amount(world):
    api = world.api
    made = api.ok(
        api.post(
            "/v1/payment_requests", world.merchant.key, {"amount_minor": 45_000, "currency": "PHP"}
        )
    )
    code = api.ok(api.get(f"/v1/payment_requests/{made['id']}/qr", world.merchant.key))
    response = api.post(
        "/v1/qr/payments", world.buyer.key, {"payload": code["payload"], "amount_minor": 1}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_mismatch"
    assert world.balance(world.buyer) == 1_000_000


def _foreign(acquirer: str = "RCBCPHMMXXX", guid: str = "ph.ppmi.p2m") -> str:
    return qr.encode(
        qr.QrDescription(
            accounts=(qr.AccountTemplate("28", guid, {"01": acquirer, "03": "M000123"}),),
            mcc="5311",
            name="SM Department Store",
            city="Pasay",
        )
    )


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        pytest.param(_foreign(), 402, "qr_off_us", id="another acquirer"),
        pytest.param(_foreign(guid="com.p2pqrpay"), 402, "qr_off_us", id="an InstaPay P2P code"),
        pytest.param(_foreign(guid="br.gov.bcb.pix"), 402, "qr_off_us", id="another scheme"),
        pytest.param("hello", 400, "qr_invalid", id="garbage"),
        pytest.param(_foreign()[:-4] + "0000", 400, "qr_invalid", id="wrong CRC"),
        pytest.param("✓" * 300, 400, "qr_invalid", id="non-ASCII"),
    ],
)
def test_codes_that_cannot_be_paid_here_are_refused_and_move_nothing(world, payload, status, code):
    response = world.api.post(
        "/v1/qr/payments", world.buyer.key, {"payload": payload, "amount_minor": 1_000}
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["param"] == "payload"
    assert world.balance(world.buyer) == 1_000_000


def test_the_printable_poster_is_svg_with_the_name(world):
    response = world.api.get(f"/v1/parties/{world.merchant.id}/qr.svg", world.merchant.key)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg") and "Aling Nena" in response.text


def test_another_party_cannot_fetch_a_merchants_code(world):
    for path in (f"/v1/parties/{world.merchant.id}/qr", f"/v1/parties/{world.merchant.id}/qr.svg"):
        response = world.api.get(path, world.buyer.key)
        assert response.status_code == 404


def test_qr_payments_keep_the_tier_limits(world, operator_key):
    api = world.api
    basic = api.ok(
        api.post("/v1/parties", operator_key, {"kind": "customer", "name": "Lito", "tier": "basic"})
    )
    key = api.ok(api.post("/v1/api_keys", operator_key, {"party_id": basic["id"]}))["secret"]
    response = api.post(
        "/v1/qr/payments", key, {"payload": _static(world), "amount_minor": 1_000_001}
    )
    assert response.status_code == 402
    assert response.json()["error"]["param"] == "per_transaction_max_minor"
