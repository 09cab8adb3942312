"""Payouts through the real services, on SQLite and PostgreSQL: what stays for refunds and for
the loan, one ledger transfer per payout, refusals that move nothing, tenancy, and the daily
payout that runs once per merchant and day; ``ledger verify`` passes after each."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.lending.conftest import (
    ALL,
    DAY0,
    OPERATOR,
    PRODUCT,
    BusinessClock,
    Shop,
    make_party,
    merchant,
    product,
    wallet_of,
)
from tests.payouts.helpers import available, balances, event_types, pay_out, sell
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.payments.model import TransferCode
from tindahan.services.ledger import verify
from tindahan.services.lending import loans
from tindahan.services.lending import offers as loan_offers
from tindahan.services.payments import refunds
from tindahan.services.payouts import daily, payouts, settings
from tindahan.services.platform import parties
from tindahan.services.unit import Platform
from tindahan.store.payout_tables import payout_runs
from tindahan.store.tables import transfers

WINDOW_LATER = timedelta(days=8)  # past the 7-day refund window


def refused(code: str, call) -> RefusalError:
    with pytest.raises(RefusalError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


def verified(platform: Platform) -> None:
    report = verify.verify(platform.db)
    assert report.ok, report.violations


def test_recent_sales_stay_for_refunds_then_pay_out(platform, shop: Shop, clock: BusinessClock):
    paid = sell(platform, shop, 150_000)  # ₱1,500; the 1% fee leaves ₱1,485 in settlement
    figures = available(platform, shop.merchant)
    assert figures["settlement_balance_minor"] == 148_500
    assert figures["refund_hold_minor"] == 148_500
    assert figures["available_minor"] == 0
    refused("payout_exceeds_available", lambda: pay_out(platform, shop.merchant, 1))
    assert balances(platform, shop.merchant_id) == (148_500, 0)

    # a partial refund takes its part of the hold with it: the hold stays what a full one costs
    platform.run(lambda u: refunds.create(u, shop.merchant, paid["id"], 50_000, None))
    figures = available(platform, shop.merchant)
    assert figures["settlement_balance_minor"] == 99_000
    assert figures["refund_hold_minor"] == 99_000  # ₱1,000 left less ₱10 fee still to return

    clock.at_day(DAY0 + WINDOW_LATER)
    figures = available(platform, shop.merchant)
    assert (figures["refund_hold_minor"], figures["available_minor"]) == (0, 99_000)
    made = pay_out(platform, shop.merchant, 60_000, description="pang-grocery")
    assert made["status"] == "succeeded" and made["amount_minor"] == 60_000
    assert made["automatic"] is False and made["description"] == "pang-grocery"
    assert balances(platform, shop.merchant_id) == (39_000, 60_000)
    moved = platform.run(
        lambda u: (
            u.conn.execute(select(transfers).where(transfers.c.id == made["transfer_id"]))
            .mappings()
            .one()
        ),
        write=False,
    )
    assert moved["code"] == TransferCode.PAYOUT and moved["amount"] == 60_000
    assert (
        moved["debit_account_id"]
        == wallet_of(platform, shop.merchant_id, "settlement")["account_id"]
    )
    assert moved["credit_account_id"] == wallet_of(platform, shop.merchant_id)["account_id"]
    assert event_types(platform).count("payout.succeeded") == 1
    found = platform.run(lambda u: payouts.list_payouts(u, shop.merchant, 10, None))
    assert [p["id"] for p in found["data"]] == [made["id"]]
    assert platform.run(lambda u: payouts.get(u, OPERATOR, made["id"])) == made
    refused("payout_exceeds_available", lambda: pay_out(platform, shop.merchant, 39_001))
    verified(platform)


def test_the_loans_next_installment_stays_behind(platform, shop: Shop, clock: BusinessClock):
    monthly = dataclasses.replace(PRODUCT, name="Buwanan", frequency="monthly", min_term=1)
    made = loan_offers.NewOffer(product(platform, monthly)["id"], principal_minor=500_000, term=4)
    offer = platform.run(lambda u: loan_offers.create_offer(u, shop.merchant, made))
    loan = platform.run(lambda u: loan_offers.accept(u, shop.merchant, offer["id"]))
    sell(platform, shop, 150_000)  # 20% (₱300) of it set aside into the loan's reserve
    clock.at_day(DAY0 + WINDOW_LATER)
    view = platform.run(lambda u: loans.get(u, shop.merchant, loan["id"]), write=False)
    reserve = view["balance"]["reserve_minor"]
    assert reserve == 30_000
    need = view["next_due"]["amount_minor"] - reserve
    settlement, _ = balances(platform, shop.merchant_id)
    assert settlement == 148_500 - reserve
    figures = available(platform, shop.merchant)
    assert figures["loan_hold_minor"] == need > 0
    assert figures["available_minor"] == settlement - need > 0
    refused(
        "payout_exceeds_available",
        lambda: pay_out(platform, shop.merchant, figures["available_minor"] + 1),
    )
    pay_out(platform, shop.merchant, figures["available_minor"])
    assert balances(platform, shop.merchant_id)[0] == need  # what the installment still needs
    platform.run(lambda u: loans.repay(u, shop.merchant, loan["id"], need, "settlement"))
    verified(platform)


def test_tenancy_and_bad_input_move_nothing(platform, shop: Shop, clock: BusinessClock):
    sell(platform, shop, 150_000)
    clock.at_day(DAY0 + WINDOW_LATER)
    other_id, other = merchant(platform, "Ate Joy")
    mine = pay_out(platform, shop.merchant, 10_000)
    before = balances(platform, shop.merchant_id)
    refused("resource_missing", lambda: platform.run(lambda u: payouts.get(u, other, mine["id"])))
    refused("resource_missing", lambda: pay_out(platform, other, 1, merchant_id=shop.merchant_id))
    refused("resource_missing", lambda: available(platform, other, shop.merchant_id))
    assert platform.run(lambda u: payouts.list_payouts(u, other, 10, None))["data"] == []
    refused("merchant_only", lambda: pay_out(platform, shop.customer, 1))
    refused("parameter_missing", lambda: pay_out(platform, OPERATOR, 1))
    refused("amount_invalid", lambda: pay_out(platform, shop.merchant, "100"))
    refused("amount_invalid", lambda: pay_out(platform, shop.merchant, 0))
    refused("currency_unsupported", lambda: pay_out(platform, shop.merchant, 1, currency="USD"))
    refused("destination_invalid", lambda: pay_out(platform, shop.merchant, 1, destination="x"))
    reader = Caller("k_read", shop.merchant_id, frozenset({"payments:read"}))
    refused("scope_missing", lambda: pay_out(platform, reader, 1))
    assert balances(platform, shop.merchant_id) == before
    by_operator = pay_out(platform, OPERATOR, 5_000, merchant_id=shop.merchant_id)
    assert by_operator["merchant_id"] == shop.merchant_id
    refused(
        "cursor_invalid",
        lambda: platform.run(lambda u: payouts.list_payouts(u, other, 10, mine["id"])),
    )
    assert other_id != shop.merchant_id
    verified(platform)


def turn_on(platform: Platform, caller: Caller, **fields) -> dict:
    new = settings.NewSettings(enabled=True, **fields)
    return platform.run(lambda u: settings.update_settings(u, caller, new))


def test_the_daily_payout_runs_once_a_day_at_its_time(platform, shop: Shop, clock: BusinessClock):
    assert platform.run(lambda u: settings.get(u, shop.merchant))["enabled"] is False
    shown = turn_on(platform, shop.merchant, time_of_day="21:00", keep_minor=10_000)
    assert (shown["time_of_day"], shown["keep_minor"]) == ("21:00", 10_000)
    sell(platform, shop, 150_000)
    later = DAY0 + WINDOW_LATER
    clock.at_day(later, 20)
    clock.set(clock() + 59 * 60 * 10**9)  # 20:59 Manila
    assert daily.run_due(platform).as_dict()["paid"] == 0
    clock.set(clock() + 60 * 10**9)  # 21:00
    report = daily.run_due(platform)
    assert (report.day, report.paid, report.paid_minor) == (later.isoformat(), 1, 138_500)
    assert balances(platform, shop.merchant_id) == (10_000, 138_500)
    again = daily.run_due(platform)
    assert (again.paid, again.nothing, again.failed) == (0, 0, 0)
    outcome, _ = daily.run_one(platform, shop.merchant_id, later.isoformat(), 21 * 60)
    assert outcome == "already"
    clock.at_day(later + timedelta(days=1), 22)
    assert daily.run_due(platform).nothing == 1  # only the ₱100 to leave is there
    assert balances(platform, shop.merchant_id) == (10_000, 138_500)
    listed = platform.run(lambda u: payouts.list_payouts(u, shop.merchant, 10, None))["data"]
    assert [(p["automatic"], p["amount_minor"]) for p in listed] == [(True, 138_500)]
    assert event_types(platform).count("payout.succeeded") == 1
    runs = platform.run(
        lambda u: u.conn.execute(select(payout_runs.c.outcome)).scalars().all(), write=False
    )
    assert sorted(runs) == ["nothing", "paid"]
    verified(platform)


def test_a_refused_daily_payout_is_recorded_and_moves_nothing(
    platform, shop: Shop, clock: BusinessClock
):
    turn_on(platform, shop.merchant, time_of_day="09:00")
    sell(platform, shop, 150_000)
    clock.at_day(DAY0 + WINDOW_LATER, 10)
    platform.run(lambda u: parties.update_party(u, OPERATOR, shop.merchant_id, "frozen", None))
    report = daily.run_due(platform)
    assert report.failed == 1
    assert balances(platform, shop.merchant_id) == (148_500, 0)
    failed = platform.run(lambda u: payouts.get(u, shop.merchant, report.payout_ids[0]))
    assert failed["status"] == "failed" and failed["transfer_id"] is None
    assert failed["failure"]["code"] == "wallet_frozen" and failed["amount_minor"] == 148_500
    assert "payout.failed" in event_types(platform)
    assert daily.run_due(platform).failed == 0  # the day is done; tomorrow tries again
    verified(platform)


def test_settings_refuse_bad_input_and_other_merchants(platform, shop: Shop):
    other_id, other = merchant(platform, "Ate Joy")
    customer = Caller("k_c", make_party(platform, kind="customer", name="Pedro"), ALL)
    for fields, code in [
        ({"enabled": "yes"}, "enabled_invalid"),
        ({"enabled": True, "time_of_day": "25:00"}, "time_invalid"),
        ({"enabled": True, "keep_minor": -1}, "keep_invalid"),
        ({"enabled": True, "keep_minor": 1.5}, "keep_invalid"),
        ({"enabled": True, "destination": "bank"}, "destination_invalid"),
        ({"enabled": True, "merchant_id": shop.merchant_id}, "resource_missing"),
    ]:
        new = settings.NewSettings(**fields)
        refused(code, lambda n=new: platform.run(lambda u: settings.update_settings(u, other, n)))
    refused("merchant_only", lambda: platform.run(lambda u: settings.get(u, customer)))
    assert platform.run(lambda u: settings.get(u, OPERATOR, other_id))["enabled"] is False
    assert platform.run(lambda u: settings.get(u, shop.merchant))["enabled"] is False
