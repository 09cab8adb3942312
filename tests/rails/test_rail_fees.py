"""Fees per rail (``rails.fees``): set by the operator per rail and kind, quoted before the
transfer, held with it in one linked batch, posted with it to the fees revenue account,
voided with a rejection, given back after a return unless the sender's account details were
wrong — on SQLite and PostgreSQL, with ``ledger verify`` checking the fee's legs."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tests.lending.conftest import OPERATOR
from tests.rails.conftest import FUNDED, Sender
from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import AccountCode
from tindahan.rails import xml as rails_xml
from tindahan.rails.fees import FeeKind, fee_refunded, setting_key
from tindahan.rails.model import ClearingSystem
from tindahan.services.ledger import transfers as ledger
from tindahan.services.ledger.verify import verify
from tindahan.services.platform import chart, fees
from tindahan.services.rails import quotes, transfers
from tindahan.services.unit import Platform
from tindahan.store.rails_tables import bank_transfers

INSTAPAY_FEE = 15_00
PESONET_FEE = 25_00


def set_fees(platform: Platform, **values: int) -> dict:
    return platform.run(lambda u: fees.put_fee_settings(u, OPERATOR, values))


@pytest.fixture
def priced(platform) -> None:
    set_fees(
        platform,
        instapay_send_fee_minor=INSTAPAY_FEE,
        pesonet_send_fee_minor=PESONET_FEE,
        instapay_payout_fee_minor=5_00,
    )


def send(platform: Platform, sender: Sender, account: str, amount: int) -> dict:
    new = transfers.NewBankTransfer(account, amount, "PHP")
    return platform.run(lambda u: transfers.create(u, sender.caller, new))


def wallet(platform: Platform, sender: Sender) -> tuple[int, int]:
    """(posted balance, pending debits) of the sender's main wallet."""
    found = ledger.lookup_accounts(platform.db, [sender.account_id])[sender.account_id]
    return found.credits_posted - found.debits_posted, found.debits_pending


def revenue(platform: Platform) -> tuple[int, int]:
    """(posted, pending) fees revenue over every shard."""
    ids = [f"op.fees.{i:02d}" for i in chart.SHARDS]
    found = ledger.lookup_accounts(platform.db, ids).values()
    assert all(account.code == AccountCode.FEES_REVENUE for account in found)
    posted = sum(a.credits_posted - a.debits_posted for a in found)
    return posted, sum(a.credits_pending for a in found)


def clearing(platform: Platform, rail: str = "instapay") -> int:
    name = f"op.rail.{rail}"
    found = ledger.lookup_accounts(platform.db, [name])[name]
    return found.credits_posted - found.debits_posted


def verified(platform: Platform) -> None:
    report = verify(platform.db)
    assert report.ok, report.violations


def test_the_rules():
    assert setting_key(ClearingSystem.INSTAPAY, FeeKind.PAYOUT) == "instapay_payout_fee_minor"
    assert setting_key("pesonet", FeeKind.SEND) == "pesonet_send_fee_minor"
    assert fee_refunded(1500, returned=False, reason="AC04") == 1500  # a rejection: always
    assert fee_refunded(1500, returned=True, reason="AC04") == 0  # closed account: kept
    assert fee_refunded(1500, returned=True, reason="AC01") == 0  # wrong number: kept
    assert fee_refunded(1500, returned=True, reason="FOCR") == 1500  # a recall agreed to
    assert fee_refunded(1500, returned=True, reason=None) == 1500
    assert fee_refunded(0, returned=True, reason="MS02") == 0


def test_no_fee_until_the_operator_sets_one(platform, sender, rail):
    quoted = platform.run(lambda u: quotes.quote(u, sender.caller, sender.bdo, 100_00))
    assert (quoted["fee_minor"], quoted["total_minor"], quoted["kind"]) == (0, 100_00, "send")
    made = send(platform, sender, sender.bdo, 100_00)
    assert (made["fee_minor"], made["total_minor"]) == (0, 100_00)
    assert wallet(platform, sender) == (FUNDED, 100_00)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("instapay_send_fee_minor", -1),
        ("pesonet_payout_fee_minor", limits.MAX_RAIL_FEE_MINOR + 1),
        ("instapay_payout_fee_minor", True),
        ("pesonet_send_fee_minor", "15"),
    ],
)
def test_a_bad_fee_is_refused_and_changes_nothing(platform, key, value):
    good = (
        "pesonet_payout_fee_minor"
        if key == "instapay_send_fee_minor"
        else "instapay_send_fee_minor"
    )
    with pytest.raises(RefusalError) as caught:
        set_fees(platform, **{good: 7_00, key: value})  # the good one is written first
    assert (caught.value.code, caught.value.param) == ("setting_invalid", key)
    shown = platform.run(lambda u: fees.fees_view(u, OPERATOR))
    assert shown[good] == 0  # and rolled back with the refusal


def test_quoted_then_charged_with_the_transfer_and_posted_to_fees(platform, sender, rail, priced):
    quoted = platform.run(lambda u: quotes.quote(u, sender.caller, sender.bdo, 1_000_00))
    assert (quoted["rail"], quoted["fee_minor"], quoted["total_minor"]) == (
        "instapay",
        INSTAPAY_FEE,
        1_000_00 + INSTAPAY_FEE,
    )
    payout_quote = platform.run(
        lambda u: quotes.quote(u, sender.caller, sender.bdo, 1_000_00, "payout")
    )
    assert payout_quote["fee_minor"] == 5_00
    pesonet = platform.run(lambda u: quotes.quote(u, sender.caller, sender.citi, 1_000_00))
    assert (pesonet["rail"], pesonet["fee_minor"]) == ("pesonet", PESONET_FEE)

    made = send(platform, sender, sender.bdo, 1_000_00)
    assert (made["fee_minor"], made["total_minor"], made["kind"]) == (
        INSTAPAY_FEE,
        1_000_00 + INSTAPAY_FEE,
        "send",
    )
    # held together: the wallet's pending debits are the amount and the fee
    assert wallet(platform, sender) == (FUNDED, 1_000_00 + INSTAPAY_FEE)
    assert revenue(platform) == (0, INSTAPAY_FEE)
    transfers.dispatch(platform, rail)
    (message,) = rail.sent
    (item,) = rails_xml.read(message).transactions
    assert item.amount_minor == 1_000_00  # the bank gets the amount, not the fee
    transfers.receive(platform, rail.status(made["uetr"], "ACSC"))
    assert wallet(platform, sender) == (FUNDED - 1_000_00 - INSTAPAY_FEE, 0)
    assert revenue(platform) == (INSTAPAY_FEE, 0)
    assert clearing(platform) == 1_000_00  # what reconciles against the switch: the amount
    verified(platform)


def test_a_rejection_voids_the_fee_with_the_hold(platform, sender, rail, priced):
    made = send(platform, sender, sender.bdo, 500_00)
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(made["uetr"], "RJCT", "AC04"))
    after = platform.run(lambda u: transfers.get(u, sender.caller, made["id"]))
    assert (after["status"], after["fee_minor"], after["fee_refunded_minor"]) == (
        "rejected",
        INSTAPAY_FEE,
        INSTAPAY_FEE,
    )
    assert wallet(platform, sender) == (FUNDED, 0)
    assert revenue(platform) == (0, 0)
    verified(platform)


@pytest.mark.parametrize(
    ("reason", "fee_back"),
    [("AC01", 0), ("BE01", 0), ("FOCR", INSTAPAY_FEE), ("MS02", INSTAPAY_FEE)],
)
def test_a_return_gives_the_fee_back_unless_the_account_was_wrong(
    platform, sender, rail, priced, reason, fee_back
):
    made = send(platform, sender, sender.bdo, 300_00)
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(made["uetr"], "ACSC"))
    assert transfers.receive(platform, rail.returned(made["uetr"], 300_00, reason)).applied
    again = transfers.receive(platform, rail.returned(made["uetr"], 300_00, reason))
    assert again.applied == []  # a second return changes nothing, the fee included
    after = platform.run(lambda u: transfers.get(u, sender.caller, made["id"]))
    assert (after["status"], after["fee_refunded_minor"]) == ("returned", fee_back)
    assert wallet(platform, sender) == (FUNDED - INSTAPAY_FEE + fee_back, 0)
    assert revenue(platform) == (INSTAPAY_FEE - fee_back, 0)
    assert clearing(platform) == 0
    verified(platform)


def test_the_balance_must_cover_the_fee_too(platform, sender, rail, priced):
    with pytest.raises(RefusalError) as caught:
        send(platform, sender, sender.citi, FUNDED - PESONET_FEE + 1)
    assert caught.value.code == "insufficient_funds"
    assert wallet(platform, sender) == (FUNDED, 0)
    made = send(platform, sender, sender.citi, FUNDED - PESONET_FEE)  # exactly all of it
    assert made["rail"] == "pesonet" and made["total_minor"] == FUNDED
    assert wallet(platform, sender) == (FUNDED, FUNDED)
    verified(platform)


def test_verify_catches_a_fee_edited_on_the_record(platform, sender, rail, priced):
    made = send(platform, sender, sender.bdo, 200_00)
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(made["uetr"], "RJCT", "AC04"))
    verified(platform)

    def edit(unit, **values):
        unit.conn.execute(
            update(bank_transfers).where(bank_transfers.c.id == made["id"]).values(**values)
        )

    platform.run(lambda u: edit(u, fee_refunded_minor=0))
    report = verify(platform.db)
    assert not report.ok
    assert any("fee_refunded_minor" in v for v in report.violations), report.violations
    platform.run(lambda u: edit(u, fee_refunded_minor=INSTAPAY_FEE, fee_minor=INSTAPAY_FEE + 1))
    report = verify(platform.db)
    assert any("fee_minor (its hold)" in v for v in report.violations), report.violations
