"""Payouts through HTTP, on SQLite and PostgreSQL: the available figure, a payout once per
Idempotency-Key, the error object for each refusal, tenancy (404, never another's payout),
paging, the settings, and the payout events an endpoint may subscribe to."""

from __future__ import annotations

from tests.api.conftest import World


def settle(world: World, amount_minor: int) -> None:
    """Money in the merchant's settlement wallet that no recent sale claims (a funding)."""
    world.fund(world.merchant, amount_minor, "settlement")


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    found = response.json()["error"]
    assert found["code"] == code, found
    return found


def test_a_payout_moves_the_money_once_per_key(world: World):
    api, merchant = world.api, world.merchant
    settle(world, 100_000)
    body = {"payee_id": merchant.id, "amount_minor": 50_000, "currency": "PHP"}
    api.ok(api.post("/v1/payments", world.buyer.key, body))  # ₱495 held for its refund
    shown = api.ok(api.get("/v1/payouts/available", merchant.key))
    assert shown["settlement_balance_minor"] == 149_500
    assert (shown["refund_hold_minor"], shown["available_minor"]) == (49_500, 100_000)
    first = api.post("/v1/payouts", merchant.key, {"amount_minor": 30_000}, idem="po-1")
    made = api.ok(first)
    again = api.post("/v1/payouts", merchant.key, {"amount_minor": 30_000}, idem="po-1")
    assert api.ok(again) == made and again.headers["Idempotent-Replayed"] == "true"
    assert world.balance(merchant, "settlement") == 119_500
    assert world.balance(merchant) == 30_000
    other = api.post("/v1/payouts", merchant.key, {"amount_minor": 1}, idem="po-1")
    error(other, 409, "idempotency_key_reused")
    found = error(
        api.post("/v1/payouts", merchant.key, {"amount_minor": 70_001}),
        402,
        "payout_exceeds_available",
    )
    assert found["type"] == "payment_error" and found["param"] == "amount_minor"
    assert world.balance(merchant, "settlement") == 119_500
    assert api.ok(api.get(f"/v1/payouts/{made['id']}", world.operator)) == made


def test_tenancy_and_bad_input(world: World):
    api, merchant = world.api, world.merchant
    settle(world, 100_000)
    made = api.ok(api.post("/v1/payouts", merchant.key, {"amount_minor": 1_000}))
    error(api.get(f"/v1/payouts/{made['id']}", world.buyer.key), 404, "resource_missing")
    error(api.post("/v1/payouts", world.buyer.key, {"amount_minor": 1}), 403, "merchant_only")
    mine = {"amount_minor": 1, "merchant_id": merchant.id}
    error(api.post("/v1/payouts", world.buyer.key, mine), 404, "resource_missing")
    error(
        api.get("/v1/payouts/available", world.buyer.key, merchant_id=merchant.id),
        404,
        "resource_missing",
    )
    assert api.ok(api.get("/v1/payouts", world.buyer.key))["data"] == []
    error(api.post("/v1/payouts", world.operator, {"amount_minor": 1}), 400, "parameter_missing")
    for body in (
        {"amount_minor": "1"},
        {"amount_minor": 1.5},
        {"amount_minor": 0},
        {"amount_minor": 1, "destination": "bank"},
        {"amount_minor": 1, "extra": True},
    ):
        response = api.post("/v1/payouts", merchant.key, body)
        assert response.status_code == 400, response.text
        found = response.json()["error"]
        assert found["type"] == "invalid_request_error" and found["param"], found
    error(
        api.post("/v1/payouts", merchant.key, {"amount_minor": 1, "currency": "USD"}),
        400,
        "currency_unsupported",
    )
    by_operator = api.ok(api.post("/v1/payouts", world.operator, mine))
    assert by_operator["merchant_id"] == merchant.id
    assert world.balance(merchant, "settlement") == 100_000 - 1_001


def test_payouts_are_paged_newest_first(world: World):
    api, merchant = world.api, world.merchant
    settle(world, 100_000)
    made = [api.ok(api.post("/v1/payouts", merchant.key, {"amount_minor": n})) for n in (1, 2, 3)]
    first = api.ok(api.get("/v1/payouts", merchant.key, limit=2))
    assert len(first["data"]) == 2 and first["has_more"]
    after = first["data"][-1]["id"]
    rest = api.ok(api.get("/v1/payouts", merchant.key, limit=2, starting_after=after))
    assert len(rest["data"]) == 1 and not rest["has_more"]
    # newest first, ties (the test clock stands still) broken by id: every payout once
    assert sorted(p["id"] for p in first["data"] + rest["data"]) == sorted(p["id"] for p in made)
    listed = api.ok(api.get("/v1/payouts", world.operator, merchant_id=merchant.id))
    assert len(listed["data"]) == 3
    bad = api.get("/v1/payouts", merchant.key, starting_after="po_nosuchpayout")
    error(bad, 400, "cursor_invalid")


def test_settings_and_the_payout_events(world: World):
    api, merchant = world.api, world.merchant
    shown = api.ok(api.get("/v1/payout_settings", merchant.key))
    assert (shown["enabled"], shown["time_of_day"], shown["timezone"]) == (
        False,
        "21:00",
        "Asia/Manila",
    )
    body = {"enabled": True, "time_of_day": "18:30", "keep_minor": 50_000}
    changed = api.ok(api.post("/v1/payout_settings", merchant.key, body))
    assert (changed["enabled"], changed["time_of_day"], changed["keep_minor"]) == (
        True,
        "18:30",
        50_000,
    )
    assert api.ok(api.get("/v1/payout_settings", world.operator, merchant_id=merchant.id)) == (
        changed
    )
    error(
        api.post("/v1/payout_settings", merchant.key, {"enabled": True, "time_of_day": "7:00 "}),
        400,
        "time_invalid",
    )
    error(api.post("/v1/payout_settings", world.buyer.key, {"enabled": True}), 403, "merchant_only")
    hook = {
        "url": "https://example.com/hooks",
        "enabled_events": ["payout.succeeded", "payout.failed"],
    }
    api.ok(api.post("/v1/webhook_endpoints", merchant.key, hook))
