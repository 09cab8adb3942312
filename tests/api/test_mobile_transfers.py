"""Send money to a mobile number (``services.payments.sends``), on SQLite and PostgreSQL:
the service (limits, refusals, idempotency, the risk gate) and ``POST /v1/mobile_transfers``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import risk_gate, verify
from tindahan.services.payments import cash, payments, sends, wallets
from tindahan.services.platform import chart, parties
from tindahan.services.unit import Platform, Unit
from tindahan.store.payment_tables import events
from tindahan.store.payment_tables import wallets as wallet_rows

ALL = frozenset(SCOPES)
OPERATOR = Caller("op", None, ALL)


@pytest.fixture
def ops(platform: Platform) -> Platform:
    chart.ensure_operator_accounts(platform)
    return platform


def _party(
    platform: Platform,
    name: str,
    phone: str | None,
    *,
    kind: str = "customer",
    tier: str = "full",
    funded: int = 0,
) -> str:
    extra = (
        {"mcc": "5411", "city": "Marikina", "province": "Metro Manila"}
        if kind == "merchant"
        else {}
    )
    new = parties.NewParty(kind=kind, name=name, phone=phone, tier=tier, **extra)
    party_id: str = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    if funded:
        wallet_id = _wallet(platform, party_id)
        platform.run(lambda u: cash.fund(u, OPERATOR, wallet_id, funded, "PHP", "test"))
    return party_id


def _wallet(platform: Platform, party_id: str) -> str:
    query = select(wallet_rows.c.id).where(
        wallet_rows.c.party_id == party_id, wallet_rows.c.kind == "main"
    )
    return str(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def _balance(platform: Platform, party_id: str) -> tuple[int, int]:
    """(balance, available now)."""
    wallet_id = _wallet(platform, party_id)
    found = platform.run(lambda u: wallets.get(u, OPERATOR, wallet_id), write=False)
    return found["balance_minor"], found["available_minor"]


def _as(party_id: str) -> Caller:
    return Caller("k_" + party_id, party_id, ALL)


def _send(platform: Platform, sender: str, mobile: str, amount: int, note: str | None = None):
    new = sends.MobileSend(mobile=mobile, amount_minor=amount, note=note)
    return platform.run(lambda u: sends.send_to_mobile(u, _as(sender), new))


def _events(platform: Platform, kind: str) -> list[dict]:
    query = select(events.c.data).where(events.c.type == kind)
    return [json.loads(d) for d in platform.run(lambda u: list(u.conn.execute(query).scalars()))]


def test_a_send_moves_main_to_main_once_with_a_line_on_both_statements(ops: Platform) -> None:
    ana = _party(ops, "Ana Reyes", "+639170000001", funded=100_000)
    ben = _party(ops, "Ben Dela Cruz", "+639170000002")
    sent = _send(ops, ana, "0917 000 0002", 12_345, "baon")  # typed the local way
    assert (sent["kind"], sent["status"], sent["fee_minor"]) == ("p2p", "succeeded", 0)
    assert (sent["payer_id"], sent["payee_id"], sent["description"]) == (ana, ben, "baon")
    assert sent["under_review"] is False and len(sent["transfer_ids"]) == 1
    assert _balance(ops, ana) == (100_000 - 12_345, 100_000 - 12_345)
    assert _balance(ops, ben) == (12_345, 12_345)
    for party, direction in ((ana, "debit"), (ben, "credit")):
        wallet_id = _wallet(ops, party)

        def read(u: Unit, p: str = party, w: str = wallet_id) -> dict[str, Any]:
            return wallets.statement(u, _as(p), w, 10, None, None, None)

        lines = ops.run(read, write=False)["data"]
        assert lines[0]["id"] == sent["transfer_ids"][0], lines[0]
        assert lines[0]["payment_id"] == sent["id"]
        assert lines[0]["direction"] == direction and lines[0]["amount_minor"] == 12_345
    (event,) = _events(ops, "mobile_transfer.succeeded")
    assert event["data"]["id"] == sent["id"]
    seen = ops.run(lambda u: payments.get(u, _as(ben), sent["id"]), write=False)
    assert seen["amount_minor"] == 12_345
    assert verify.verify(ops.db).ok


@pytest.mark.parametrize(
    ("mobile", "code"),
    [
        ("+639170000001", "recipient_is_sender"),
        ("+639179999999", "recipient_not_found"),
        ("12345", "phone_invalid"),
        ("+639170000003", "recipient_is_business"),
    ],
)
def test_refusals_move_nothing(ops: Platform, mobile: str, code: str) -> None:
    ana = _party(ops, "Ana", "+639170000001", funded=100_000)
    _party(ops, "Tindahan ni Aling Nena", "+639170000003", kind="merchant")
    with pytest.raises(RefusalError) as caught:
        _send(ops, ana, mobile, 1_000)
    assert caught.value.code == code
    assert caught.value.param == "mobile"
    assert _balance(ops, ana) == (100_000, 100_000)
    assert _events(ops, "mobile_transfer.succeeded") == []


def test_tier_limits_and_funds_apply_on_both_sides(ops: Platform) -> None:
    ana = _party(ops, "Ana", "+639170000001", funded=2_000_000)
    ben = _party(ops, "Ben", "+639170000002", tier="basic")
    with pytest.raises(RefusalError) as over:  # the recipient's basic tier: ₱10,000 a send
        _send(ops, ana, "+639170000002", 1_000_001)
    assert (over.value.code, over.value.param) == ("limit_exceeded", "per_transaction_max_minor")
    with pytest.raises(RefusalError) as poor:
        _send(ops, ben, "+639170000001", 1)
    assert poor.value.code == "insufficient_funds"
    assert _balance(ops, ana) == (2_000_000, 2_000_000)
    _send(ops, ana, "+639170000002", 1_000_000)
    assert _balance(ops, ben) == (1_000_000, 1_000_000)


def test_a_party_sends_only_as_itself(ops: Platform) -> None:
    ana = _party(ops, "Ana", "+639170000001", funded=10_000)
    ben = _party(ops, "Ben", "+639170000002", funded=10_000)
    _party(ops, "Cy", "+639170000003")
    new = sends.MobileSend(mobile="+639170000003", amount_minor=100, sender_id=ben)
    with pytest.raises(RefusalError) as caught:
        ops.run(lambda u: sends.send_to_mobile(u, _as(ana), new))
    assert caught.value.code == "resource_missing"
    with pytest.raises(RefusalError) as unnamed:  # an operator must say who sends
        ops.run(lambda u: sends.send_to_mobile(u, OPERATOR, new.__class__("+639170000003", 100)))
    assert unnamed.value.code == "parameter_missing"
    ops.run(lambda u: sends.send_to_mobile(u, OPERATOR, new))
    assert _balance(ops, ben)[0] == 9_900


def test_send_once_is_idempotent(ops: Platform) -> None:
    ana = _party(ops, "Ana", "+639170000001", funded=100_000)
    ben = _party(ops, "Ben", "+639170000002")
    new = sends.MobileSend(mobile="09170000002", amount_minor=5_000)
    first = sends.send_once(ops, _as(ana), "ussd-1", new)
    again = sends.send_once(ops, _as(ana), "ussd-1", new)
    assert again["id"] == first["id"]
    assert _balance(ops, ben) == (5_000, 5_000)
    with pytest.raises(RefusalError) as reused:
        sends.send_once(ops, _as(ana), "ussd-1", sends.MobileSend("09170000002", 6_000))
    assert reused.value.code == "idempotency_key_reused"
    too_much = sends.MobileSend("09170000002", 1_000_000)
    for _ in range(2):  # the refusal is the answer of that key from now on
        with pytest.raises(RefusalError) as poor:
            sends.send_once(ops, _as(ana), "ussd-2", too_much)
        assert poor.value.code == "insufficient_funds"
    assert _balance(ops, ana) == (95_000, 95_000)


def test_recipient_shows_a_masked_name(ops: Platform) -> None:
    ana = _party(ops, "Ana", "+639170000001")
    _party(ops, "Ben Dela Cruz", "+639170000002")
    found = ops.run(lambda u: sends.recipient(u, _as(ana), "0917-000-0002"), write=False)
    assert found == {"object": "recipient", "mobile": "+639170000002", "name": "Ben D. C."}


RULES = """
[[rule]]
id = "new_payee"
version = 1
decision = "DECISION"
[rule.params]
min_minor = 3000000
kinds = ["p2p"]
"""


@pytest.mark.parametrize("decision", ["review", "block"])
def test_the_live_risk_gate_judges_a_send(
    ops: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.replace("DECISION", decision))
    monkeypatch.setenv(risk_gate.RULES_ENV, str(rules))
    risk_gate._rules.cache_clear()
    ana = _party(ops, "Ana", "+639170000001", funded=5_000_000)
    ben = _party(ops, "Ben", "+639170000002")
    if decision == "block":
        with pytest.raises(RefusalError) as caught:
            _send(ops, ana, "+639170000002", 4_000_000)
        assert caught.value.code == "risk_blocked"
        assert _balance(ops, ben) == (0, 0)
        assert _events(ops, "mobile_transfer.succeeded") == []
    else:
        sent = _send(ops, ana, "+639170000002", 4_000_000)
        assert sent["under_review"] is True
        assert _balance(ops, ben) == (4_000_000, 0)  # seen, not spendable
        (event,) = _events(ops, "mobile_transfer.succeeded")
        assert event["data"]["under_review"] is True
    assert verify.verify(ops.db).ok


# --- the API ---------------------------------------------------------------------------------
def test_post_mobile_transfers(world) -> None:
    api = world.api
    body = {"mobile": "0917 123 4567", "amount_minor": 2_500, "currency": "PHP", "note": "load"}
    first = api.post("/v1/mobile_transfers", world.other_buyer.key, body, idem="s-1")
    sent = api.ok(first)
    assert (sent["kind"], sent["payee_id"], sent["description"]) == (
        "p2p",
        world.buyer.id,
        "load",
    )
    replay = api.post("/v1/mobile_transfers", world.other_buyer.key, body, idem="s-1")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["id"] == sent["id"]
    assert world.balance(world.buyer) == 1_002_500
    assert world.balance(world.other_buyer) == 997_500
    # Tenancy: the agent is neither side of it.
    assert api.get(f"/v1/payments/{sent['id']}", world.agent.key).status_code == 404
    assert api.ok(api.get(f"/v1/payments/{sent['id']}", world.buyer.key))["id"] == sent["id"]


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"mobile": "+639179999999"}, 404, "recipient_not_found", "mobile"),
        ({"mobile": "+639171234567"}, 400, "recipient_is_sender", "mobile"),
        ({"mobile": "hello"}, 400, "phone_invalid", "mobile"),
        ({"mobile": "+639171234567", "amount_minor": 0}, 400, None, "amount_minor"),
        ({"mobile": "+639171234567", "amount_minor": 1.5}, 400, None, "amount_minor"),
    ],
)
def test_post_mobile_transfers_refusals(world, body, status, code, param) -> None:
    sent = {"amount_minor": 100, "currency": "PHP", **body}
    response = world.api.post("/v1/mobile_transfers", world.buyer.key, sent)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param
    if code:
        assert error["code"] == code
    assert world.balance(world.buyer) == 1_000_000


def test_notifications_api_is_tenancy_scoped(world) -> None:
    api = world.api
    body = {"mobile": "+639171234567", "amount_minor": 700, "currency": "PHP"}
    api.ok(api.post("/v1/mobile_transfers", world.other_buyer.key, body))
    listed = api.ok(api.get("/v1/notifications", world.buyer.key, unread="true"))["data"]
    assert [(n["kind"], n["facts"]["amount_minor"]) for n in listed] == [
        ("mobile_transfer.received", 700)
    ]
    assert api.ok(api.get("/v1/notifications", world.other_buyer.key))["data"] == []
    theirs = {"ids": [listed[0]["id"]]}
    refused = api.post("/v1/notifications/read", world.other_buyer.key, theirs)
    assert refused.status_code == 404 and refused.json()["error"]["param"] == "ids"
    done = api.ok(api.post("/v1/notifications/read", world.buyer.key, theirs))
    assert (done["marked"], done["unread"]) == (1, 0)
    assert api.ok(api.get("/v1/notifications", world.buyer.key, unread="true"))["data"] == []
    no_party = api.get("/v1/notifications", world.operator)
    assert no_party.status_code == 400 and no_party.json()["error"]["param"] == "party_id"
    named = api.get("/v1/notifications", world.operator, party_id=world.buyer.id)
    assert len(api.ok(named)["data"]) == 1
