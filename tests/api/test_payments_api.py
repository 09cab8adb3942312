"""Payments through the HTTP API, end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from tindahan.services.ledger.verify import verify


def test_merchant_payment_books_fee_in_the_same_batch(world, platform):
    api = world.api
    paid = api.ok(
        api.post(
            "/v1/payments",
            world.buyer.key,
            {
                "payee_id": world.merchant.id,
                "amount_minor": 12_345,
                "currency": "PHP",
                "reference": "OR-1",
            },
        )
    )
    assert paid["kind"] == "merchant" and paid["status"] == "succeeded"
    assert paid["fee_minor"] == 123  # 1% of ₱123.45, HALF_UP
    assert world.balance(world.buyer) == 1_000_000 - 12_345
    assert world.balance(world.merchant, "settlement") == 12_345 - 123
    transfers = api.ok(api.get(f"/v1/payments/{paid['id']}/transfers", world.buyer.key))["data"]
    assert [t["id"] for t in transfers] == paid["transfer_ids"]
    assert "linked" in transfers[0]["flags"]
    assert verify(platform.db).ok


def test_p2p_send_moves_main_to_main(world):
    api = world.api
    sent = api.ok(
        api.post(
            "/v1/payments",
            world.buyer.key,
            {"payee_id": world.other_buyer.id, "amount_minor": 5_000, "currency": "PHP"},
        )
    )
    assert sent["kind"] == "p2p" and sent["fee_minor"] == 0
    assert world.balance(world.other_buyer) == 1_005_000
