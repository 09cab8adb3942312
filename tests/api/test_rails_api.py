"""Bank rails API: the participants directory and bank accounts (issue 19, item 2), on
SQLite and PostgreSQL through the real server: conventions, tenancy, encryption at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tindahan.rails.directory import read_csv
from tindahan.services.rails import participants
from tindahan.store.rails_tables import bank_accounts
from tindahan.store.web_tables import audit_log


@pytest.fixture
def seeded(platform, world):
    participants.ensure_seeded(platform)
    return world


def test_the_directory_is_seeded_once_from_the_csv_and_read_by_any_key(platform, seeded):
    rows = participants.seed_rows()
    assert participants.ensure_seeded(platform) == 0  # not empty: never seeded twice
    api = seeded.api
    listed = api.ok(api.get("/v1/rails/participants", seeded.buyer.key, limit=200))
    assert [row["code"] for row in listed["data"]] == sorted(row.code for row in rows)
    bdo = api.ok(api.get("/v1/rails/participants/BDO", seeded.merchant.key))
    assert (bdo["bic"], bdo["instapay"], bdo["pesonet"], bdo["active"]) == (
        "BNORPHMM",
        True,
        True,
        True,
    )
    first = api.ok(api.get("/v1/rails/participants", seeded.buyer.key, limit=2))
    assert first["has_more"] is True
    after = api.get("/v1/rails/participants", seeded.buyer.key, starting_after="BDO", limit=200)
    assert all(row["code"] > "BDO" for row in api.ok(after)["data"])


def test_the_operator_keeps_the_directory_and_nobody_else_may(platform, seeded):
    api, operator = seeded.api, seeded.operator
    body = {
        "code": "cardbank",
        "bic": "CARDPHM2",
        "name": "CARD Bank",
        "instapay": True,
        "pesonet": False,
    }
    made = api.ok(api.post("/v1/rails/participants", operator, body))
    assert made["code"] == "CARDBANK" and made["active"] is True
    refused = api.post("/v1/rails/participants", seeded.merchant.key, {**body, "code": "X2"})
    assert refused.status_code == 403
    again = api.post("/v1/rails/participants", operator, body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "participant_exists"
    taken = api.post("/v1/rails/participants", operator, {**body, "code": "OTHER"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "bic_taken"
    bad = api.post("/v1/rails/participants", operator, {**body, "code": "NEW", "bic": "NOT A BIC"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "bic"
    changed = api.ok(
        api.post("/v1/rails/participants/GCASH", operator, {"active": False, "pesonet": True})
    )
    assert (changed["active"], changed["pesonet"], changed["instapay"]) == (False, True, True)
    assert (
        api.post("/v1/rails/participants/GCASH", seeded.buyer.key, {"active": True}).status_code
        == 403
    )
    missing = api.post("/v1/rails/participants/NOPE", operator, {"active": False})
    assert missing.status_code == 404
    actions = platform.run(
        lambda u: u.conn.execute(
            select(audit_log.c.action, audit_log.c.object_id).where(
                audit_log.c.object_type == "participant"
            )
        ).all()
    )
    assert sorted(actions) == [("participant.change", "GCASH"), ("participant.create", "CARDBANK")]


def test_a_bank_account_is_encrypted_at_rest_shown_masked_and_reached_only_by_its_owner(
    platform, seeded
):
    api, merchant = seeded.api, seeded.merchant
    body = {"bank": "bdo", "account_number": "0012-3456 7890", "account_name": "Nena Reyes"}
    made = api.ok(api.post("/v1/bank_accounts", merchant.key, body))
    assert made["account_number_masked"] == "•••• 7890"
    assert (made["bank"], made["bic"], made["account_name"], made["party_id"]) == (
        "BDO",
        "BNORPHMM",
        "Nena Reyes",
        merchant.id,
    )
    assert "001234567890" not in str(made)
    stored = platform.run(
        lambda u: u.conn.execute(select(bank_accounts)).mappings().one(), write=False
    )
    assert "001234567890" not in str(dict(stored)) and "Nena Reyes" not in str(dict(stored))
    # the same account again (written differently) is the same account
    again = api.ok(
        api.post("/v1/bank_accounts", merchant.key, {**body, "account_number": "001234567890"})
    )
    assert again["id"] == made["id"]
    # tenancy: another party sees nothing, the operator sees it
    assert api.get(f"/v1/bank_accounts/{made['id']}", seeded.buyer.key).status_code == 404
    assert api.ok(api.get("/v1/bank_accounts", seeded.buyer.key))["data"] == []
    assert api.post(f"/v1/bank_accounts/{made['id']}/remove", seeded.buyer.key).status_code == 404
    mine = api.ok(api.get("/v1/bank_accounts", seeded.operator, party_id=merchant.id))
    assert [row["id"] for row in mine["data"]] == [made["id"]]
    other = api.post("/v1/bank_accounts", seeded.buyer.key, {**body, "party_id": merchant.id})
    assert other.status_code == 404
    # removed: kept, listed only when asked, registered again = reactivated
    removed = api.ok(api.post(f"/v1/bank_accounts/{made['id']}/remove", merchant.key))
    assert removed["status"] == "removed" and removed["removed"] is not None
    assert api.ok(api.get("/v1/bank_accounts", merchant.key))["data"] == []
    listed = api.ok(api.get("/v1/bank_accounts", merchant.key, include_removed="true"))
    assert [row["status"] for row in listed["data"]] == ["removed"]
    back = api.ok(api.post("/v1/bank_accounts", merchant.key, body))
    assert (back["id"], back["status"], back["removed"]) == (made["id"], "active", None)


BAD = [
    ({"account_number": "12-34"}, 400, "account_number_invalid"),
    ({"account_number": "0012345678901234567890"}, 400, "account_number_invalid"),
    ({"account_number": "ABCD123456"}, 400, "account_number_invalid"),
    ({"account_name": "   "}, 400, "parameter_missing"),
    ({"bank": "NOSUCHBANK"}, 404, "resource_missing"),
    ({"bank": "MAYA"}, 402, "participant_inactive"),
    ({"surprise": 1}, 400, None),
]


def test_bad_bank_accounts_are_refused_with_the_error_object_and_change_nothing(platform, seeded):
    api = seeded.api
    api.ok(api.post("/v1/rails/participants/MAYA", seeded.operator, {"active": False}))
    for change, status, code in BAD:
        body = {"bank": "BPI", "account_number": "1234567890", "account_name": "Juan", **change}
        response = api.post("/v1/bank_accounts", seeded.buyer.key, body)
        assert response.status_code == status, (change, response.text)
        error = response.json()["error"]
        assert {"type", "code", "message", "param"} <= error.keys()
        assert code is None or error["code"] == code, (change, error)
    count = platform.run(lambda u: len(u.conn.execute(select(bank_accounts)).all()), write=False)
    assert count == 0
    # and registering is idempotent under its key: same body, same answer; other body refused
    body = {"bank": "UBP", "account_number": "109876543210", "account_name": "Juan dela Cruz"}
    first = api.ok(api.post("/v1/bank_accounts", seeded.buyer.key, body, idem="bank-1"))
    assert api.ok(api.post("/v1/bank_accounts", seeded.buyer.key, body, idem="bank-1")) == first
    changed = {**body, "account_name": "X"}
    assert (
        api.post("/v1/bank_accounts", seeded.buyer.key, changed, idem="bank-1").status_code == 409
    )


def test_the_seed_csv_reads_and_its_rules_hold():
    rows = read_csv(_seed_text())
    assert len(rows) >= 15 and len({row.bic for row in rows}) == len(rows)
    with pytest.raises(Exception, match="row 2: flags are yes or no"):
        read_csv(
            "code,bic,name,instapay,pesonet,active,checked\nBDO,BNORPHMM,BDO,maybe,yes,yes,bic"
        )
    with pytest.raises(Exception, match="header"):
        read_csv("code,bic\nBDO,BNORPHMM")


def _seed_text() -> str:
    from importlib import resources

    return (resources.files("tindahan.rails") / "participants.csv").read_text()


def test_a_bank_transfer_through_the_api_is_held_sent_and_settled(platform, seeded):
    from tests.rails.fake_rail import FakeRail
    from tindahan.services.rails import transfers

    api, buyer = seeded.api, seeded.buyer
    body = {"bank": "BDO", "account_number": "001234567890", "account_name": "Juan"}
    account = api.ok(api.post("/v1/bank_accounts", buyer.key, body))
    send = {"bank_account_id": account["id"], "amount_minor": 1_500_00}
    made = api.ok(api.post("/v1/bank_transfers", buyer.key, send, idem="bt-1"))
    assert (made["status"], made["rail"], made["reason"]) == ("pending", "instapay", None)
    assert api.ok(api.post("/v1/bank_transfers", buyer.key, send, idem="bt-1")) == made
    assert seeded.balance(buyer) == 1_000_000  # held, not yet gone
    assert api.get(f"/v1/bank_transfers/{made['id']}", seeded.merchant.key).status_code == 404
    assert api.ok(api.get("/v1/bank_transfers", seeded.merchant.key))["data"] == []
    refusals = [
        ({**send, "amount_minor": 1.5}, 400),
        ({**send, "currency": "USD"}, 400),
        ({**send, "bank_account_id": "bac_nope"}, 404),
        ({**send, "amount_minor": 1_000_000}, 402),  # what is left after the hold is less
    ]
    for bad, status in refusals:
        response = api.post("/v1/bank_transfers", buyer.key, bad)
        assert response.status_code == status, (bad, response.text)
    other = api.post("/v1/bank_transfers", seeded.merchant.key, send)
    assert other.status_code == 404  # another party's account
    rail = FakeRail()
    assert transfers.dispatch(platform, rail) == 1
    transfers.receive(platform, rail.status(made["uetr"], "ACSC"))
    done = api.ok(api.get(f"/v1/bank_transfers/{made['id']}", buyer.key))
    assert done["status"] == "settled" and done["sent"] is not None
    assert seeded.balance(buyer) == 1_000_000 - 1_500_00
    listed = api.ok(api.get("/v1/bank_transfers", buyer.key))["data"]
    assert [row["id"] for row in listed] == [made["id"]]


def test_rail_fees_are_set_by_the_operator_quoted_and_charged(platform, seeded):
    from tests.rails.fake_rail import FakeRail
    from tindahan.services.rails import transfers

    api, buyer = seeded.api, seeded.buyer
    fees = {"instapay_send_fee_minor": 15_00, "pesonet_send_fee_minor": 25_00}
    response = api.post("/v1/fee_settings", buyer.key, fees)
    assert response.status_code == 403  # the operator's
    shown = api.ok(api.post("/v1/fee_settings", seeded.operator, fees))
    assert (shown["instapay_send_fee_minor"], shown["instapay_payout_fee_minor"]) == (15_00, 0)
    too_much = api.post("/v1/fee_settings", seeded.operator, {"pesonet_send_fee_minor": 50_001})
    assert too_much.status_code == 400
    assert api.ok(api.get("/v1/fee_settings", buyer.key))["pesonet_send_fee_minor"] == 25_00

    body = {"bank": "BDO", "account_number": "001234567890", "account_name": "Juan"}
    account = api.ok(api.post("/v1/bank_accounts", buyer.key, body))
    asked = {"bank_account_id": account["id"], "amount_minor": 1_500_00}
    quoted = api.ok(api.get("/v1/bank_transfers/quote", buyer.key, **asked))
    assert (quoted["rail"], quoted["fee_minor"], quoted["total_minor"], quoted["kind"]) == (
        "instapay",
        15_00,
        1_515_00,
        "send",
    )
    big = api.ok(
        api.get("/v1/bank_transfers/quote", buyer.key, **{**asked, "amount_minor": 6_000_000})
    )
    assert (big["rail"], big["fee_minor"], big["leaves_at"] is not None) == ("pesonet", 25_00, True)
    for bad in ({**asked, "kind": "gift"}, {**asked, "amount_minor": 0}, {"amount_minor": 5}):
        assert api.get("/v1/bank_transfers/quote", buyer.key, **bad).status_code == 400, bad
    theirs = api.get("/v1/bank_transfers/quote", seeded.merchant.key, **asked)
    assert theirs.status_code == 404

    made = api.ok(api.post("/v1/bank_transfers", buyer.key, asked, idem="fee-1"))
    assert (made["fee_minor"], made["total_minor"], made["fee_refunded_minor"]) == (
        15_00,
        1_515_00,
        0,
    )
    rail = FakeRail()
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(made["uetr"], "RJCT", "AC04"))
    done = api.ok(api.get(f"/v1/bank_transfers/{made['id']}", buyer.key))
    assert (done["status"], done["fee_refunded_minor"]) == ("rejected", 15_00)
    assert seeded.balance(buyer) == 1_000_000
