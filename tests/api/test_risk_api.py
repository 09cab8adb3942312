"""Risk over HTTP, on SQLite and PostgreSQL: the alert queue and a case's life through the
API (assign, note, approve, decide once per Idempotency-Key), the rules' modes, and tenancy
(a party's key is refused, whatever the id; nothing changes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import World
from tindahan import limits
from tindahan.services.ledger import risk_gate

RULES = """
[[rule]]
id = "new_payee"
version = 4
decision = "review"
explain = "a first {amount_minor} to a new payee"
[rule.params]
min_minor = 3000000
kinds = ["p2p"]
"""


@pytest.fixture
def held(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The buyer's first ₱40,000 to the other buyer: held for review, in one case."""
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))
    monkeypatch.setattr(limits, "RISK_FOUR_EYES_MINOR", 3_000_000)
    world.fund(world.buyer, 5_000_000)
    before = available(world)
    body = {"payee_id": world.other_buyer.id, "amount_minor": 4_000_000, "currency": "PHP"}
    paid = world.api.ok(world.api.post("/v1/payments", world.buyer.key, body))
    assert paid["under_review"] is True
    (case,) = world.api.ok(world.api.get("/v1/risk/cases", world.operator))["data"]
    assert available(world) == before  # held: seen, not spendable
    return {**case, "before": before, "payment_id": paid["id"]}


def available(world: World) -> int:
    """What the other buyer may spend now."""
    wallet_id = world.other_buyer.wallets["main"]
    wallet = world.api.ok(world.api.get(f"/v1/wallets/{wallet_id}", world.operator))
    return int(wallet["available_minor"])


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    found = response.json()["error"]
    assert found["code"] == code, found
    return found


def test_an_analyst_works_a_case_through_the_api(world: World, held: dict) -> None:
    api, op = world.api, world.operator
    for key in (world.buyer.key, world.other_buyer.key):  # both sides see it, never the rule
        payment = api.ok(api.get(f"/v1/payments/{held['payment_id']}", key))
        assert payment["under_review"] is True and "new_payee" not in str(payment)
    listed = api.ok(api.get("/v1/payments", world.other_buyer.key))["data"]
    assert [p["under_review"] for p in listed if p["id"] == held["payment_id"]] == [True]
    (alert,) = api.ok(api.get("/v1/risk/alerts", op))["data"]
    assert (alert["rule"], alert["rule_version"], alert["case_id"]) == ("new_payee", 4, held["id"])
    assert alert["evidence"]["amount_minor"] == 4_000_000
    assert (held["held_minor"], held["status"]) == (4_000_000, "open")
    case_url = f"/v1/risk/cases/{held['id']}"
    mine = api.ok(api.post(f"{case_url}/assign", op, {}))
    assert mine["status"] == "in_review" and mine["assignee"].startswith("key_")
    noted = api.ok(api.post(f"{case_url}/notes", op, {"body": "asked the buyer"}))
    assert [n["body"] for n in noted["notes"]] == ["asked the buyer"]
    found = error(
        api.post(f"{case_url}/decide", op, {"decision": "release"}), 402, "four_eyes_required"
    )
    assert found["param"] == "case_id"
    api.ok(api.post(f"{case_url}/approve", op, {"note": "fine by me"}))
    error(api.post(f"{case_url}/decide", op, {"decision": "release"}), 402, "four_eyes_required")
    second = api.ok(api.post("/v1/api_keys", op, {}))["secret"]
    first = api.post(f"{case_url}/decide", second, {"decision": "release"}, idem="rel-1")
    done = api.ok(first)
    again = api.post(f"{case_url}/decide", second, {"decision": "release"}, idem="rel-1")
    assert api.ok(again) == done and again.headers["Idempotent-Replayed"] == "true"
    assert (done["status"], done["decision"], done["held_minor"]) == ("closed", "release", 0)
    assert available(world) == held["before"] + 4_000_000
    for key in (world.buyer.key, world.other_buyer.key):
        payment = api.ok(api.get(f"/v1/payments/{held['payment_id']}", key))
        assert payment["under_review"] is False
    error(api.post(f"{case_url}/decide", second, {"decision": "return"}), 409, "case_closed")
    closed = api.ok(api.get("/v1/risk/cases", op, status="closed"))["data"]
    assert [c["id"] for c in closed] == [held["id"]]


def test_the_rules_modes_through_the_api(world: World, held: dict) -> None:
    api, op = world.api, world.operator
    listed = api.ok(api.get("/v1/risk/rules", op))
    assert listed["gate_on"] and [(r["id"], r["version"], r["mode"]) for r in listed["data"]] == [
        ("new_payee", 4, "on")
    ]
    off = api.ok(api.post("/v1/risk/rules/new_payee/mode", op, {"mode": "off"}))
    assert (off["mode"], off["file_mode"]) == ("off", "on")
    error(api.post("/v1/risk/rules/new_payee/mode", op, {"mode": "loud"}), 400, "parameter_invalid")
    error(api.post("/v1/risk/rules/nothing/mode", op, {"mode": "on"}), 404, "resource_missing")


def test_a_partys_key_reaches_no_risk_object(world: World, held: dict) -> None:
    api = world.api
    case_url = f"/v1/risk/cases/{held['id']}"
    for key in (world.buyer.key, world.merchant.key):
        error(api.get("/v1/risk/alerts", key), 403, "operator_only")
        error(api.get("/v1/risk/cases", key), 403, "operator_only")
        error(api.get(case_url, key), 403, "operator_only")
        error(api.get("/v1/risk/cases/case_nothing", key), 403, "operator_only")
        error(api.post(f"{case_url}/decide", key, {"decision": "release"}), 403, "operator_only")
        error(api.post(f"{case_url}/notes", key, {"body": "mine"}), 403, "operator_only")
        error(api.post("/v1/risk/rules/new_payee/mode", key, {"mode": "off"}), 403, "operator_only")
    error(api.get("/v1/risk/cases/case_nothing", world.operator), 404, "resource_missing")
    reader = api.ok(api.post("/v1/api_keys", world.operator, {"scopes": ["risk:read"]}))["secret"]
    api.ok(api.get(case_url, reader))
    error(api.post(f"{case_url}/notes", reader, {"body": "x"}), 403, "scope_missing")
    case = api.ok(api.get(case_url, world.operator))
    assert (case["status"], case["notes"], case["held_minor"]) == ("open", [], 4_000_000)
    assert available(world) == held["before"]  # still held


def test_screening_hits_of_names_and_bank_account_holders_are_decided_through_the_api(
    platform, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.api.conftest import make_party
    from tindahan.services.platform import screening
    from tindahan.services.rails import participants

    participants.ensure_seeded(platform)
    watch = tmp_path / "watch.csv"
    watch.write_text("id,name,aliases\nw1,Pedro Penduko,Pedring\nw2,Nena Reyes,\n")
    monkeypatch.setenv(screening.LISTS_ENV, str(watch))
    api, op = world.api, world.operator
    pedro = make_party(api, op, {"kind": "customer", "name": "Penduko, Pedro"})
    body = {"bank": "bdo", "account_number": "0012-3456 7890", "account_name": "Reyes, Nena"}
    account = api.ok(api.post("/v1/bank_accounts", world.buyer.key, body))
    api.ok(api.post("/v1/bank_accounts", world.buyer.key, {**body, "account_name": "Ana Cruz"}))
    error(api.get("/v1/risk/screening", world.buyer.key), 403, "operator_only")
    hits = {h["entry_ref"]: h for h in api.ok(api.get("/v1/risk/screening", op))["data"]}
    assert set(hits) == {"w1", "w2"}
    assert (hits["w1"]["party_id"], hits["w1"]["subject"], hits["w1"]["bank_account_id"]) == (
        pedro.id,
        "party",
        None,
    )
    assert (hits["w2"]["party_id"], hits["w2"]["subject"], hits["w2"]["bank_account_id"]) == (
        world.buyer.id,
        "bank_account",
        account["id"],
    )
    assert (hits["w2"]["matched_name"], hits["w2"]["score"]) == ("Nena Reyes", 100)
    decide = f"/v1/risk/screening/{hits['w2']['id']}/decide"
    error(api.post(decide, world.buyer.key, {"decision": "confirm"}), 403, "operator_only")
    confirmed = api.ok(api.post(decide, op, {"decision": "confirm", "note": "same person"}))
    assert (confirmed["status"], confirmed["decided_by"] is not None) == ("confirmed", True)
    error(api.post(decide, op, {"decision": "clear"}), 409, "hit_decided")
    # the account is blocked, for good; the buyer who registered it is not frozen
    assert api.ok(api.get("/v1/bank_accounts", world.buyer.key))["data"] == []
    error(api.post("/v1/bank_accounts", world.buyer.key, body), 402, "bank_account_blocked")
    world.fund(world.buyer, 100_000)
    paid = {"payee_id": world.other_buyer.id, "amount_minor": 10_000, "currency": "PHP"}
    api.ok(api.post("/v1/payments", world.buyer.key, paid))
    # a party's own hit, cleared: nothing frozen
    cleared = f"/v1/risk/screening/{hits['w1']['id']}/decide"
    assert api.ok(api.post(cleared, op, {"decision": "clear"}))["status"] == "cleared"
    assert api.ok(api.get("/v1/risk/screening", op))["data"] == []
    done = api.ok(api.get("/v1/risk/screening", op, status="confirmed"))["data"]
    assert [h["id"] for h in done] == [hits["w2"]["id"]]
    error(api.get("/v1/risk/screening", op, status="maybe"), 400, "parameter_invalid")


UNDER_REVIEW_RULES = """
[[rule]]
id = "structuring"
version = 1
decision = "review"
[rule.params]
thresholds_minor = [5000000]
band_percent = 10
window_hours = 24
min_count = 1
kinds = ["cash_in"]

[[rule]]
id = "new_payee"
version = 1
decision = "review"
[rule.params]
min_minor = 30000
kinds = ["merchant"]

[[rule]]
id = "refund_spike"
version = 1
decision = "review"
[rule.params]
window_days = 1
min_refunds = 1
ratio_percent = 1
"""


def test_under_review_on_cash_ins_orders_refunds_and_their_events(
    platform, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from sqlalchemy import select

    from tindahan.store.payment_tables import events

    path = tmp_path / "rules.toml"
    path.write_text(UNDER_REVIEW_RULES)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))
    api, buyer, merchant = world.api, world.buyer, world.merchant

    def event(kind: str, object_id: str) -> dict:
        rows = platform.run(
            lambda u: u.conn.execute(select(events.c.data).where(events.c.type == kind)).all(),
            write=False,
        )
        bodies = [json.loads(d)["data"] for (d,) in rows]
        (found,) = [b for b in bodies if b["id"] == object_id]
        return found

    # a cash-in just below ₱50,000: held in the customer's wallet
    body = {"customer_id": buyer.id, "amount_minor": 4_900_000, "currency": "PHP"}
    cashed = api.ok(api.post("/v1/cash_ins", world.agent.key, body))
    assert cashed["under_review"] is True
    assert event("cash_in.succeeded", cashed["id"])["under_review"] is True
    small = {**body, "amount_minor": 100_000}
    assert api.ok(api.post("/v1/cash_ins", world.agent.key, small))["under_review"] is False
    # an order's first payment to this merchant: held in escrow
    store = api.ok(api.post("/v1/storefronts", merchant.key, {"slug": "ube", "name": "Ube"}))
    jam = {"title": "Ube jam", "price_minor": 50_000, "stock": 5}
    product = api.ok(api.post(f"/v1/storefronts/{store['id']}/products", merchant.key, jam))
    lines = [{"product_id": product["id"], "quantity": 1}]
    order = api.ok(
        api.post("/v1/orders", buyer.key, {"storefront_id": store["id"], "lines": lines})
    )
    paid = api.ok(api.post(f"/v1/orders/{order['id']}/pay", buyer.key, {}))
    assert paid["under_review"] is True and "new_payee" not in str(paid)
    assert api.ok(api.get(f"/v1/orders/{order['id']}", merchant.key))["under_review"] is True
    assert event("order.paid", order["id"])["under_review"] is True
    # a merchant's refund of a direct payment: the refund held in the buyer's wallet
    world.fund(buyer, 1_000_000)
    pay = {"payee_id": merchant.id, "amount_minor": 20_000, "currency": "PHP"}
    payment = api.ok(api.post("/v1/payments", buyer.key, pay))
    assert payment["under_review"] is False  # under the new payee's ₱300
    refund_url = f"/v1/payments/{payment['id']}/refunds"
    asked = {"payment_id": payment["id"], "amount_minor": 5_000}
    refund = api.ok(api.post("/v1/refunds", merchant.key, asked))
    assert refund["under_review"] is True
    assert api.ok(api.get(f"/v1/refunds/{refund['id']}", buyer.key))["under_review"] is True
    listed = api.ok(api.get(refund_url, buyer.key))["data"]
    assert [r["under_review"] for r in listed] == [True]
    assert event("refund.succeeded", refund["id"])["under_review"] is True
    # decided: no longer under review
    for case in api.ok(api.get("/v1/risk/cases", world.operator))["data"]:
        api.ok(
            api.post(f"/v1/risk/cases/{case['id']}/decide", world.operator, {"decision": "return"})
        )
    assert api.ok(api.get(f"/v1/orders/{order['id']}", buyer.key))["under_review"] is False
    assert api.ok(api.get(f"/v1/refunds/{refund['id']}", buyer.key))["under_review"] is False
    assert api.ok(api.get(f"/v1/payments/{cashed['id']}", buyer.key))["under_review"] is False


def test_a_frozen_cases_hold_is_settled_alert_by_alert_through_the_api(
    platform, world: World, held: dict
) -> None:
    from tindahan.services.ledger.verify import verify

    api, op = world.api, world.operator
    case_url = f"/v1/risk/cases/{held['id']}"
    frozen = api.ok(api.post(f"{case_url}/decide", op, {"decision": "freeze", "note": "mule?"}))
    assert (frozen["status"], frozen["held_minor"]) == ("closed", 4_000_000)  # still held
    (alert,) = frozen["alerts"]
    url = f"/v1/risk/alerts/{alert['id']}"
    error(api.post(f"{url}/decide", world.buyer.key, {"decision": "return"}), 403, "operator_only")
    error(api.post(f"{url}/decide", op, {"decision": "close"}), 409, "alert_holds_money")
    error(api.post(f"{url}/decide", op, {"decision": "release"}), 402, "four_eyes_required")
    api.ok(api.post(f"{url}/approve", op, {"note": "checked"}))
    second = api.ok(api.post("/v1/api_keys", op, {}))["secret"]
    released = api.ok(api.post(f"{url}/decide", second, {"decision": "release"}))
    assert (released["status"], released["hold_id"]) == ("released", alert["hold_id"])
    assert available(world) == held["before"] + 4_000_000
    error(api.post(f"{url}/decide", second, {"decision": "return"}), 409, "alert_decided")
    assert verify(platform.db).ok


def test_a_refused_movements_kept_alert_is_closed_through_the_api(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES.replace('decision = "review"', 'decision = "block"'))
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))
    api, op = world.api, world.operator
    world.fund(world.buyer, 5_000_000)
    body = {"payee_id": world.other_buyer.id, "amount_minor": 4_000_000, "currency": "PHP"}
    error(api.post("/v1/payments", world.buyer.key, body), 402, "risk_blocked")
    (alert,) = api.ok(api.get("/v1/risk/alerts", op))["data"]
    assert (alert["status"], alert["hold_id"], alert["decision"]) == ("open", None, "block")
    url = f"/v1/risk/alerts/{alert['id']}/decide"
    error(api.post(url, op, {"decision": "release"}), 409, "alert_without_hold")
    closed = api.ok(api.post(url, op, {"decision": "close", "note": "a scam, stopped"}))
    assert (closed["status"], closed["decided_by"] is not None) == ("closed", True)
    assert api.ok(api.get("/v1/risk/alerts", op))["data"] == []
    error(api.post(url, op, {"decision": "close"}), 409, "alert_decided")
    error(
        api.post("/v1/risk/alerts/ra.nope/decide", op, {"decision": "close"}),
        404,
        "resource_missing",
    )
