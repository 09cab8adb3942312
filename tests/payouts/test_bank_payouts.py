"""A payout to a bank account, through the real services on SQLite and PostgreSQL: the payout
and the transfer made together (or neither), the money held on the rail until the clearing
house answers, the rail, fee and arrival quoted first; the automatic daily payout to a bank
account, and refused when the account was removed; ``ledger verify`` passes after each."""

from __future__ import annotations

import pytest

from tests.lending.conftest import DAY0, BusinessClock, Shop, merchant
from tests.payouts.helpers import balances, sell
from tests.rails.fake_rail import FakeRail
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import verify
from tindahan.services.payouts import banks, daily, payouts, settings
from tindahan.services.rails import bank_accounts, participants, quotes, transfers
from tindahan.services.unit import Platform

from .test_payouts_service import WINDOW_LATER, turn_on


def account(platform: Platform, caller: Caller, bank: str = "BDO") -> str:
    participants.ensure_seeded(platform)
    new = bank_accounts.NewBankAccount(bank, "0012-3456-7890", "Aling Nena Cruz")
    return platform.run(lambda u: bank_accounts.register(u, caller, new))["id"]


def sold(platform: Platform, shop: Shop, clock: BusinessClock) -> None:
    """₱1,485 in settlement, out of the refund window."""
    sell(platform, shop, 150_000)
    clock.at_day(DAY0 + WINDOW_LATER)


def withdraw(platform: Platform, caller: Caller, account_id: str, amount: int) -> dict:
    new = banks.NewBankPayout(account_id, amount)
    return platform.run(lambda u: banks.create(u, caller, new))


def verified(platform: Platform) -> None:
    report = verify.verify(platform.db)
    assert report.ok, report.violations


def test_withdraw_to_a_bank_then_credited(platform, shop: Shop, clock: BusinessClock):
    sold(platform, shop, clock)
    bdo = account(platform, shop.merchant)
    quoted = platform.run(lambda u: quotes.quote(u, shop.merchant, bdo, 100_000), write=False)
    assert (quoted["rail"], quoted["fee_minor"], quoted["leaves_at"]) == ("instapay", 0, None)
    assert quoted["bank_account"]["account_number_masked"] == "•••• 7890"

    made = withdraw(platform, shop.merchant, bdo, 100_000)
    payout, sent = made["payout"], made["bank_transfer"]
    assert payout["status"] == "succeeded" and payout["description"] == banks.DESCRIPTION
    assert (sent["status"], sent["rail"], sent["amount_minor"]) == ("pending", "instapay", 100_000)
    # the payout is posted; the transfer holds the main wallet's money on the rail
    assert balances(platform, shop.merchant_id) == (48_500, 100_000)
    main = platform.run(
        lambda u: payouts.wallets_of(u, shop.merchant_id).main.wallet_id, write=False
    )
    rail = FakeRail()
    assert transfers.dispatch(platform, rail) == 1
    transfers.receive(platform, rail.status(sent["uetr"], "ACSC"))
    done = platform.run(lambda u: transfers.get(u, shop.merchant, sent["id"]), write=False)
    assert done["status"] == "settled" and done["wallet_id"] == main
    assert balances(platform, shop.merchant_id) == (48_500, 0)
    verified(platform)


def test_a_refused_transfer_takes_the_payout_back(platform, shop: Shop, clock: BusinessClock):
    sold(platform, shop, clock)
    bdo = account(platform, shop.merchant)
    citi = account(platform, shop.merchant, "CITI")
    platform.run(lambda u: bank_accounts.remove(u, shop.merchant, citi))
    for account_id, amount, code in (
        (citi, 10_000, "bank_account_removed"),
        (bdo, 148_501, "payout_exceeds_available"),
    ):
        with pytest.raises(RefusalError) as caught:
            withdraw(platform, shop.merchant, account_id, amount)
        assert caught.value.code == code
    # another merchant's account is not found, whoever asks
    _, other = merchant(platform, "Mang Tonyo")
    theirs = account(platform, other)
    with pytest.raises(RefusalError) as caught:
        withdraw(platform, shop.merchant, theirs, 10_000)
    assert caught.value.code == "resource_missing"
    assert balances(platform, shop.merchant_id) == (148_500, 0)
    listed = platform.run(lambda u: payouts.list_payouts(u, shop.merchant, 10, None), write=False)
    assert listed["data"] == []
    verified(platform)


def test_pesonet_quote_names_the_next_cutoff(platform, shop: Shop, clock: BusinessClock):
    sold(platform, shop, clock)
    citi = account(platform, shop.merchant, "CITI")  # PESONet only
    quoted = platform.run(lambda u: quotes.quote(u, shop.merchant, citi, 50_000), write=False)
    assert quoted["rail"] == "pesonet" and quoted["leaves_at"] is not None
    gcash = account(platform, shop.merchant, "GCASH")  # InstaPay only: not above ₱50,000
    with pytest.raises(RefusalError) as caught:
        platform.run(lambda u: quotes.quote(u, shop.merchant, gcash, 5_000_001), write=False)
    assert caught.value.code == "no_rail"


def test_the_daily_payout_to_a_bank_account(platform, shop: Shop, clock: BusinessClock):
    bdo = account(platform, shop.merchant)
    shown = turn_on(platform, shop.merchant, destination="bank_account", bank_account_id=bdo)
    assert (shown["destination"], shown["bank_account_id"]) == ("bank_account", bdo)
    sell(platform, shop, 150_000)
    clock.at_day(DAY0 + WINDOW_LATER, 22)  # after the default 21:00
    report = daily.run_due(platform)
    assert (report.paid, report.paid_minor) == (1, 148_500)
    (sent,) = platform.run(lambda u: transfers.list_transfers(u, shop.merchant, 10), write=False)[
        "data"
    ]
    assert (sent["status"], sent["amount_minor"], sent["bank_account_id"]) == (
        "pending",
        148_500,
        bdo,
    )
    made = platform.run(lambda u: payouts.get(u, shop.merchant, report.payout_ids[0]))
    assert made["description"] == banks.DESCRIPTION and made["automatic"] is True
    rail = FakeRail()
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(sent["uetr"], "ACSC"))
    assert balances(platform, shop.merchant_id) == (0, 0)  # all of it at the bank
    verified(platform)


def test_a_daily_payout_to_a_removed_account_fails_and_moves_nothing(
    platform, shop: Shop, clock: BusinessClock
):
    bdo = account(platform, shop.merchant)
    turn_on(platform, shop.merchant, destination="bank_account", bank_account_id=bdo)
    platform.run(lambda u: bank_accounts.remove(u, shop.merchant, bdo))
    sell(platform, shop, 150_000)
    clock.at_day(DAY0 + WINDOW_LATER, 22)
    report = daily.run_due(platform)
    assert report.failed == 1
    failed = platform.run(lambda u: payouts.get(u, shop.merchant, report.payout_ids[0]))
    assert failed["failure"]["code"] == "bank_account_removed"
    assert balances(platform, shop.merchant_id) == (148_500, 0)
    verified(platform)


def test_the_settings_name_an_own_active_account_only(platform, shop: Shop):
    bdo = account(platform, shop.merchant)
    _, other = merchant(platform, "Mang Tonyo")
    theirs = account(platform, other)
    for fields, code in (
        ({"destination": "bank_account"}, "parameter_missing"),
        ({"destination": "wallet", "bank_account_id": bdo}, "parameter_unexpected"),
        ({"destination": "bank_account", "bank_account_id": theirs}, "resource_missing"),
        ({"destination": "bank", "bank_account_id": bdo}, "destination_invalid"),
    ):
        with pytest.raises(RefusalError) as caught:
            turn_on(platform, shop.merchant, **fields)
        assert caught.value.code == code, fields
    assert platform.run(lambda u: settings.get(u, shop.merchant))["enabled"] is False
