"""Loans through the real services, on SQLite and PostgreSQL: the life cycle on a
controllable clock with ``ledger verify`` and the loan's ledger accounts checked at every
step, refusals that change nothing, write-off and recovery, and an idempotent daily close."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.lending.conftest import (
    ALL,
    DAY0,
    OPERATOR,
    PRODUCT,
    BusinessClock,
    Shop,
    assess,
    merchant,
    wallet_of,
)
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import risk_gate, verify
from tindahan.services.ledger import transfers as ledger
from tindahan.services.lending import close as loan_close
from tindahan.services.lending import loans, reports
from tindahan.services.lending import offers as loan_offers
from tindahan.services.lending.views import LoanView, OfferView
from tindahan.services.payments import cash, payments
from tindahan.services.risk import holds
from tindahan.services.unit import Platform
from tindahan.store import lending_tables as lt
from tindahan.store.payment_tables import events
from tindahan.store.risk_tables import risk_alerts
from tindahan.store.tables import accounts, transfers

RECEIVABLES = ("principal", "interest", "fee", "penalty")


# --- helpers ---------------------------------------------------------------------------------
def net(platform: Platform, account_id: str) -> int:
    """credits − debits posted of one ledger account."""
    found = ledger.lookup_accounts(platform.db, [account_id])[account_id]
    return found.credits_posted - found.debits_posted


def loan_view(platform: Platform, caller: Caller, loan_id: str) -> LoanView:
    return platform.run(lambda u: loans.get(u, caller, loan_id), write=False)


def check(platform: Platform, caller: Caller, loan_id: str) -> LoanView:
    """``ledger verify`` holds and the loan's view equals its ledger accounts."""
    report = verify.verify(platform.db)
    assert report.ok, report.violations
    view = loan_view(platform, caller, loan_id)
    ids = [loans.account(loan_id, role) for role in (*RECEIVABLES, "reserve")]
    found = ledger.lookup_accounts(platform.db, ids)
    receivable = sum(
        found[loans.account(loan_id, r)].debits_posted
        - found[loans.account(loan_id, r)].credits_posted
        for r in RECEIVABLES
    )
    reserve = found[ids[-1]]
    assert view["balance"]["receivable_minor"] == receivable
    assert view["balance"]["reserve_minor"] == reserve.credits_posted - reserve.debits_posted
    return view


def refused(code: str, call) -> RefusalError:
    with pytest.raises(RefusalError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


def snapshot(platform: Platform) -> dict[str, Any]:
    """Every lending row and every ledger account's posted totals, and the transfer count."""

    def read(u) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for table in (
            lt.loans,
            lt.loan_offers,
            lt.loan_installments,
            lt.loan_transactions,
            lt.loan_products,
        ):
            rows = u.conn.execute(select(table)).mappings()
            out[table.name] = sorted((tuple(sorted(r.items())) for r in rows), key=repr)
        out["accounts"] = sorted(
            tuple(r)
            for r in u.conn.execute(
                select(accounts.c.id, accounts.c.debits_posted, accounts.c.credits_posted)
            )
        )
        out["transfers"] = u.conn.execute(select(func.count()).select_from(transfers)).scalar()
        return out

    return platform.run(read, write=False)


def refused_unchanged(platform: Platform, code: str, call) -> RefusalError:
    before = snapshot(platform)
    error = refused(code, lambda: platform.run(lambda u: call(u)))
    assert snapshot(platform) == before
    return error


def offer(platform: Platform, shop: Shop, **fields) -> OfferView:
    new = loan_offers.NewOffer(shop.product["id"], **fields)
    return platform.run(lambda u: loan_offers.create_offer(u, shop.merchant, new))


def take(platform: Platform, shop: Shop, **fields) -> LoanView:
    made = offer(platform, shop, **fields)
    return platform.run(lambda u: loan_offers.accept(u, shop.merchant, made["id"]))


def sell(platform: Platform, shop: Shop, amount: int = 150_000) -> None:
    new = payments.NewPayment(shop.merchant_id, amount, "PHP")
    platform.run(lambda u: payments.pay(u, shop.customer, new))


def transfer_count(platform: Platform) -> int:
    query = select(func.count()).select_from(transfers)
    return platform.run(lambda u: u.conn.execute(query).scalar(), write=False)


# --- 1. the life cycle -----------------------------------------------------------------------
def test_life_cycle_keeps_ledger_and_loan_in_step(platform, shop, clock: BusinessClock):
    main = wallet_of(platform, shop.merchant_id)["account_id"]
    before_main = net(platform, main)
    made = offer(platform, shop, term=8)
    disclosure = made["disclosure"]
    loan = platform.run(lambda u: loan_offers.accept(u, shop.merchant, made["id"]))
    loan_id = loan["id"]
    view = check(platform, shop.merchant, loan_id)
    assert view["status"] == "active"
    assert view["balance"]["receivable_minor"] == made["principal_minor"] == 1_000_000
    # the net proceeds (principal less the deducted 3% fee) landed in the main wallet
    assert disclosure["net_proceeds_minor"] == 970_000
    assert net(platform, main) - before_main == 970_000
    assert net(platform, loans.OP_FEES) == 30_000

    grace = shop.product["grace_days"]
    seen_dpd, seen_buckets, penalty_seen = [], set(), False
    last_penalty = 0
    for k in range(1, 40):
        clock.next_day()
        loan_close.close_due(platform)
        if k < 12 or k > 25:  # sales (with their set-aside) stop for two weeks
            sell(platform, shop)
        view = check(platform, shop.merchant, loan_id)
        dpd, penalty = view["days_past_due"], view["balance"]["penalty_minor"]
        seen_dpd.append(dpd)
        seen_buckets.add(view["bucket"])
        if dpd <= grace:
            # within grace no new penalty is booked
            assert penalty <= last_penalty, (k, dpd, penalty)
        if penalty > last_penalty:
            penalty_seen = True
            assert dpd > grace, (k, dpd, penalty)
        last_penalty = penalty
        if k == 12:
            assert view["balance"]["reserve_minor"] > 0
        if k == 30:
            assert view["balance"]["penalty_minor"] > 0
            owed_before = view["balance"]["receivable_minor"]
            waived_penalty = view["balance"]["penalty_minor"]
            view = platform.run(
                lambda u: loans.restructure(u, OPERATOR, loan_id, 6, waive_penalties=True)
            )
            assert view["balance"]["penalty_minor"] == 0
            assert view["waived_minor"] == waived_penalty
            assert view["balance"]["receivable_minor"] == owed_before - waived_penalty
            last_penalty = 0
            restructured_on = k
            check(platform, shop.merchant, loan_id)
        if k == 32:
            # the next close ages the new schedule: nothing of it is late yet
            assert restructured_on == 30
            assert view["days_past_due"] == 0 and view["bucket"] == "current"
        if k == 33:
            before = view["balance"]["receivable_minor"]
            view = platform.run(lambda u: loans.repay(u, shop.merchant, loan_id, 100_000))
            assert view["balance"]["receivable_minor"] < before
            check(platform, shop.merchant, loan_id)

    # installments were missed: the loan aged day by day into a bucket, then recovered
    assert max(seen_dpd) >= 10
    assert "1-30" in seen_buckets and "current" in seen_buckets
    run = seen_dpd[seen_dpd.index(1) : seen_dpd.index(1) + 10]
    assert run == list(range(1, 11))
    assert penalty_seen

    view = loan_view(platform, shop.merchant, loan_id)
    payoff = view["balance"]["payoff_minor"]
    view = platform.run(lambda u: loans.repay(u, shop.merchant, loan_id, payoff))
    assert view["status"] == "closed"
    assert all(v == 0 for v in view["balance"].values()), view["balance"]
    check(platform, shop.merchant, loan_id)
    for role in (*RECEIVABLES, "reserve"):
        assert net(platform, loans.account(loan_id, role)) == 0, role


# --- 2. refusals that change nothing ---------------------------------------------------------
def test_expired_offer(platform, shop, clock: BusinessClock):
    made = offer(platform, shop)
    clock.at_day(DAY0 + timedelta(days=8))
    refused_unchanged(
        platform, "offer_expired", lambda u: loan_offers.accept(u, shop.merchant, made["id"])
    )
    seen = platform.run(lambda u: loan_offers.get_offer(u, shop.merchant, made["id"]))
    assert seen["status"] == "expired"


def test_someone_elses_offer(platform, shop):
    made = offer(platform, shop)
    _, other = merchant(platform, "Mang Tomas")
    refused_unchanged(
        platform, "resource_missing", lambda u: loan_offers.accept(u, other, made["id"])
    )


def test_accepting_twice_and_second_offer_while_open(platform, shop):
    made = offer(platform, shop)
    platform.run(lambda u: loan_offers.accept(u, shop.merchant, made["id"]))
    refused_unchanged(
        platform,
        "offer_already_accepted",
        lambda u: loan_offers.accept(u, shop.merchant, made["id"]),
    )
    new = loan_offers.NewOffer(shop.product["id"])
    refused_unchanged(
        platform,
        "loan_already_open",
        lambda u: loan_offers.create_offer(u, shop.merchant, new),
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"principal_minor": 99_999}, "amount_out_of_range"),
        ({"principal_minor": 1_000_100}, "amount_out_of_range"),
        ({"term": 3}, "term_out_of_range"),
        ({"term": 17}, "term_out_of_range"),
    ],
)
def test_offer_outside_the_product(platform, shop, fields, code):
    new = loan_offers.NewOffer(shop.product["id"], **fields)
    refused_unchanged(platform, code, lambda u: loan_offers.create_offer(u, shop.merchant, new))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        # 7% a month on a ₱5,000 4-week loan: above the 6% nominal ceiling
        (
            {"min_principal_minor": 500_000, "max_principal_minor": 500_000, "rate_max": "7"},
            "legal_cap_exceeded:nominal_rate",
        ),
        # a 10% fee deducted from a 4-week loan: the EIR is far above 12% a month
        (
            {
                "min_principal_minor": 500_000,
                "max_principal_minor": 500_000,
                "max_term": 4,
                "fee_bps": 1000,
            },
            "legal_cap_exceeded:eir",
        ),
        ({"method": "flat"}, "method_not_allowed:method"),
    ],
)
def test_products_the_law_or_bsp_forbid(platform, changes, code):
    """``code:param``: the refusal names the ceiling (or rule) it would break."""
    from dataclasses import replace

    code, param = code.split(":")
    new = replace(PRODUCT, **changes)
    error = refused_unchanged(
        platform, code, lambda u: loan_offers.create_product(u, OPERATOR, new)
    )
    assert error.param == param, error


def test_repayment_refusals(platform, shop):
    loan = take(platform, shop, principal_minor=100_000, term=4)
    loan_id = loan["id"]
    for amount in (0, -5):
        refused_unchanged(
            platform,
            "amount_invalid",
            lambda u, a=amount: loans.repay(u, shop.merchant, loan_id, a),
        )
    refused_unchanged(platform, "merchant_only", lambda u: loans.repay(u, OPERATOR, loan_id, 1_000))
    payoff = loan_view(platform, shop.merchant, loan_id)["balance"]["payoff_minor"]
    refused_unchanged(
        platform, "overpayment", lambda u: loans.repay(u, shop.merchant, loan_id, payoff + 1)
    )
    # the merchant's main wallet holds only the net proceeds: top it up to pay off
    main = wallet_of(platform, shop.merchant_id)["id"]
    platform.run(lambda u: cash.fund(u, OPERATOR, main, 100_000, "PHP", None))
    view = platform.run(lambda u: loans.repay(u, shop.merchant, loan_id, payoff))
    assert view["status"] == "closed"
    check(platform, shop.merchant, loan_id)
    refused_unchanged(
        platform, "loan_closed", lambda u: loans.repay(u, shop.merchant, loan_id, 100)
    )


def test_operator_cannot_accept_for_a_merchant(platform, shop):
    made = offer(platform, shop)
    refused_unchanged(
        platform, "merchant_only", lambda u: loan_offers.accept(u, OPERATOR, made["id"])
    )


@pytest.mark.parametrize(
    "assessment",
    [{"decision": "insufficient_history", "probability": None}, {"probability": "0.5"}],
)
def test_credit_not_approved(platform, shop, clock: BusinessClock, assessment):
    clock.at_day(DAY0, 11)  # an hour later: the newest assessment is the one used
    assess(platform, shop.merchant_id, **assessment)
    new = loan_offers.NewOffer(shop.product["id"])
    refused_unchanged(
        platform, "credit_not_approved", lambda u: loan_offers.create_offer(u, shop.merchant, new)
    )


# --- 3. write-off and recovery ---------------------------------------------------------------
def test_write_off_then_recovery(platform, shop, clock: BusinessClock):
    loan = take(platform, shop, principal_minor=200_000, term=4)
    loan_id = loan["id"]
    sell(platform, shop)  # something in the reserve, returned at write-off
    settlement = wallet_of(platform, shop.merchant_id, "settlement")["account_id"]
    clock.at_day(DAY0 + timedelta(days=110))
    while loan_close.close_due(platform):
        pass
    view = check(platform, shop.merchant, loan_id)
    assert view["days_past_due"] > 90 and view["bucket"] == "90+"
    reserve = view["balance"]["reserve_minor"]
    settled = net(platform, settlement)
    losses = net(platform, loans.OP_LOSSES)

    view = platform.run(lambda u: loans.write_off(u, OPERATOR, loan_id, "gone"))
    assert view["status"] == "written_off"
    check(platform, shop.merchant, loan_id)
    assert view["balance"]["receivable_minor"] == 0
    for role in (*RECEIVABLES, "reserve"):
        assert net(platform, loans.account(loan_id, role)) == 0, role
    written = view["written_off_minor"]
    assert written > 0
    assert losses - net(platform, loans.OP_LOSSES) == written
    assert net(platform, settlement) - settled == reserve

    recoveries = net(platform, loans.OP_RECOVERIES)
    view = platform.run(lambda u: loans.repay(u, shop.merchant, loan_id, 1_000))
    assert view["recovered_minor"] == 1_000 and view["status"] == "written_off"
    assert net(platform, loans.OP_RECOVERIES) - recoveries == 1_000
    check(platform, shop.merchant, loan_id)
    refused_unchanged(
        platform,
        "overpayment",
        lambda u: loans.repay(u, shop.merchant, loan_id, written - 1_000 + 1),
    )


# --- 4. the daily close ----------------------------------------------------------------------
def test_daily_close_is_idempotent_and_catches_up(platform, shop, clock: BusinessClock):
    loan = take(platform, shop, term=8)
    clock.next_day()
    first = loan_close.run(platform, DAY0)
    assert not first.already and first.loans == 1
    booked = transfer_count(platform)
    state = snapshot(platform)
    again = loan_close.run(platform, DAY0)
    assert again.already and again.loans == 1
    assert transfer_count(platform) == booked
    assert snapshot(platform) == state
    check(platform, shop.merchant, loan["id"])

    clock.at_day(DAY0 + timedelta(days=6))  # five days not closed: DAY0+1 … DAY0+5
    assert loan_close.close_due(platform) == 5
    assert loan_close.close_due(platform) == 0
    row = platform.run(
        lambda u: (
            u.conn.execute(select(lt.loans).where(lt.loans.c.id == loan["id"])).mappings().one()
        ),
        write=False,
    )
    assert row["closed_through"] == (DAY0 + timedelta(days=5)).isoformat()
    assert transfer_count(platform) > booked  # each day's interest was booked
    view = check(platform, shop.merchant, loan["id"])
    assert view["balance"]["interest_minor"] > 0


def test_other_merchant_caller_is_scoped(platform, shop):
    loan = take(platform, shop)
    other = Caller("x", "pty_nobody", ALL)
    refused("resource_missing", lambda: loan_view(platform, other, loan["id"]))


# --- 5. loans feed the credit features ---------------------------------------------------------
def test_loan_behaviour_feeds_the_credit_features(platform, shop, clock: BusinessClock):
    """Installments on Tindahan become ``loan_on_time_share`` and ``loan_worst_dpd``, cut at
    the as-of moment like every other feature: a late installment counts as late only from
    its due date, and a payment after the cut does not count."""
    from tindahan.credit import features
    from tindahan.services.credit import assessments as credit

    def loan_features(at_ns: int) -> tuple[float, float]:
        frame = platform.run(
            lambda u: features.compute(
                credit.load_events(u.conn, [shop.merchant_id], at_ns), at_ns
            ),
            write=False,
        )
        row = frame.iloc[0]
        return float(row["loan_on_time_share"]), float(row["loan_worst_dpd"])

    loan = take(platform, shop, term=4)
    first_due = loans_schedule(platform, shop, loan["id"])[0]["due_date"]
    clock.at_day(DAY0 + timedelta(days=1))
    share, worst = loan_features(clock())
    assert share != share and worst != worst  # NaN: nothing due yet
    for _ in range(10):  # the first installment (due on day 7) goes unpaid, 4 days late
        clock.next_day()
        loan_close.close_due(platform)
    assert first_due == (DAY0 + timedelta(days=7)).isoformat()
    late_cut = clock()
    share, worst = loan_features(late_cut)
    assert share == 0.0 and worst >= 3
    view = loan_view(platform, shop.merchant, loan["id"])
    platform.run(
        lambda u: loans.repay(u, shop.merchant, loan["id"], view["balance"]["due_today_minor"])
    )
    assert loan_features(late_cut) == (share, worst)  # paid after the cut: unchanged
    clock.next_day()
    share_after, worst_after = loan_features(clock())
    assert share_after == 0.0 and worst_after >= worst  # paid late is still late


def loans_schedule(platform: Platform, shop: Shop, loan_id: str) -> list[dict[str, Any]]:
    return platform.run(lambda u: loans.schedule(u, shop.merchant, loan_id), write=False)["data"]


# --- 6. day count ---------------------------------------------------------------------------
def test_actual_365_charges_each_month_its_days(platform, shop, clock: BusinessClock):
    """Under actual/365 a 31-day month costs more interest than a 28-day one on the same
    balance. Accepting on a later day, when the months (and so the amounts) would differ
    from the disclosure, is refused."""
    monthly = loan_offers.NewProduct(
        "Buwanan",
        100_000,
        1_000_000,
        "monthly",
        3,
        3,
        "3",
        "3",
        method="declining-equal-principal",
        day_count="actual/365",
    )
    made_product = platform.run(lambda u: loan_offers.create_product(u, OPERATOR, monthly))
    clock.at_day(date(2027, 1, 28))  # then 28 Feb (31 days), 28 Mar (28), 28 Apr (31)
    _, caller = merchant(platform, "Mang Tonyo")
    new = loan_offers.NewOffer(made_product["id"], principal_minor=900_000)
    made = platform.run(lambda u: loan_offers.create_offer(u, caller, new))
    lines = made["disclosure"]["schedule"]
    assert [line["due_date"] for line in lines] == ["2027-02-28", "2027-03-28", "2027-04-28"]

    def interest(balance: int, days: int) -> int:  # balance × 3% × 12 × days / 365, HALF_UP
        exact = Decimal(balance) * Decimal("0.36") * days / 365
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    expected = [interest(900_000, 31), interest(600_000, 28), interest(300_000, 31)]
    assert [line["interest_minor"] for line in lines] == expected
    assert expected[1] < expected[0] * 2 / 3  # a short February, on two thirds of the balance
    clock.at_day(date(2027, 2, 1))  # now 1 Mar (28 days), 1 Apr (31), 1 May (30)
    error = refused(
        "offer_changed",
        lambda: platform.run(lambda u: loan_offers.accept(u, caller, made["id"])),
    )
    assert "new offer" in error.message


def test_verify_names_loan_records_rewritten_in_the_database(platform, shop):
    from sqlalchemy import text

    loan = take(platform, shop, principal_minor=200_000, term=4)
    platform.run(lambda u: loans.repay(u, shop.merchant, loan["id"], 30_000))
    check(platform, shop.merchant, loan["id"])
    with platform.db.begin() as conn:  # issue 17: the schedule and the history rewritten
        conn.execute(text("UPDATE loan_installments SET principal_paid_minor = 0"))
        conn.execute(text("UPDATE loan_transactions SET amount_minor = amount_minor + 1"))
    problems = "\n".join(verify.verify(platform.db).violations)
    assert f"loan {loan['id']}: its lines were paid 0 of principal" in problems
    assert "loan transaction ltx_" in problems and "amount_minor is" in problems


# --- 6. a disbursement returned after a risk review cancels the loan --------------------------
#: Every disbursement held for review: a first bank-in to a new payee, any amount.
DISBURSEMENTS_REVIEWED = """
[[rule]]
id = "new_payee"
version = 1
decision = "review"
[rule.params]
min_minor = 1
kinds = ["bank_in"]
"""


def _reviewing(tmp_path, monkeypatch) -> None:
    rules = tmp_path / "loan_rules.toml"
    rules.write_text(DISBURSEMENTS_REVIEWED)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(rules))


def _disbursement_alert(platform: Platform, loan_id: str) -> dict[str, Any]:
    query = select(risk_alerts).where(
        risk_alerts.c.transfer_id == loans.account(loan_id, "disburse")
    )
    (alert,) = platform.run(lambda u: list(u.conn.execute(query).mappings()), write=False)
    return dict(alert)


def _events(platform: Platform, event_type: str, loan_id: str) -> int:
    query = select(events.c.data).where(events.c.type == event_type)
    rows = platform.run(lambda u: list(u.conn.execute(query)), write=False)
    return sum(json.loads(data)["data"]["id"] == loan_id for (data,) in rows)


@pytest.mark.parametrize("fee_mode", ["deducted", "added"])
def test_a_disbursement_returned_after_review_cancels_the_loan(
    platform, shop, clock: BusinessClock, tmp_path, monkeypatch, fee_mode
):
    """The analyst returns a disbursement held for review: the net proceeds go back to the
    principal and, in the same transaction, the fee leg is reversed and the loan is
    ``cancelled`` — every receivable at zero, no fee income kept, verify clean. A cancelled
    loan is not repayable, the daily close and the credit features ignore it, and the
    merchant can take a new loan."""
    if fee_mode == "added":
        new = replace(PRODUCT, name="Puhunan plus", fee_mode="added")
        shop.product = platform.run(lambda u: loan_offers.create_product(u, OPERATOR, new))
    fees = net(platform, loans.OP_FEES)
    wallet = wallet_of(platform, shop.merchant_id)["account_id"]
    _reviewing(tmp_path, monkeypatch)
    loan = take(platform, shop, principal_minor=500_000, term=4)
    loan_id, fee = loan["id"], loan["fee_minor"]
    assert loan["status"] == "active" and fee == 15_000
    proceeds = 500_000 - (0 if fee_mode == "added" else fee)
    assert net(platform, wallet) == proceeds
    assert net(platform, loans.OP_FEES) - fees == fee  # booked as income at disbursement
    alert = _disbursement_alert(platform, loan_id)
    assert alert["hold_id"] is not None and alert["amount_minor"] == proceeds

    platform.run(lambda u: holds.decide(u, OPERATOR, alert["id"], "return"))
    view = check(platform, shop.merchant, loan_id)
    assert view["status"] == "cancelled" and view["closed"] is not None
    assert view["next_due"] is None
    assert all(v == 0 for v in view["balance"].values()), view["balance"]
    for role in (*RECEIVABLES, "reserve"):
        assert net(platform, loans.account(loan_id, role)) == 0, role
    assert net(platform, loans.OP_FEES) == fees  # the fee reversed
    assert net(platform, wallet) == 0  # the merchant never had the money
    assert verify.verify(platform.db).violations == []
    assert _events(platform, "loan.cancelled", loan_id) == 1
    entries = platform.run(lambda u: loans.transactions(u, OPERATOR, loan_id), write=False)
    kinds = [t["kind"] for t in entries["data"]]
    assert sorted(kinds) == ["cancellation", "disbursement"]

    refused_unchanged(
        platform, "loan_cancelled", lambda u: loans.repay(u, shop.merchant, loan_id, 1_000)
    )
    booked = transfer_count(platform)
    clock.at_day(DAY0 + timedelta(days=10))  # past the first due date (day 7)
    for n in range(10):
        assert loan_close.run(platform, DAY0 + timedelta(days=n)).loans == 0
    assert transfer_count(platform) == booked  # no interest, no penalty
    assert loan_view(platform, shop.merchant, loan_id)["days_past_due"] == 0
    portfolio = platform.run(lambda u: reports.portfolio(u, OPERATOR), write=False)
    assert portfolio["total"]["loans"] == 0 and portfolio["total"]["disbursed_minor"] == 0

    from tindahan.credit import features
    from tindahan.services.credit import assessments as credit

    at = clock()
    frame = platform.run(
        lambda u: features.compute(credit.load_events(u.conn, [shop.merchant_id], at), at),
        write=False,
    )
    share = frame.iloc[0]["loan_on_time_share"]
    assert share != share  # NaN: a cancelled loan's lines are not the merchant's record

    monkeypatch.delenv("TINDAHAN_RISK_RULES")
    assess(platform, shop.merchant_id)
    again = take(platform, shop, principal_minor=200_000, term=4)
    assert again["status"] == "active"
    check(platform, shop.merchant, again["id"])


@pytest.mark.parametrize("days", [2, 11])
def test_a_return_days_later_also_reverses_what_the_closes_booked(
    platform, shop, clock: BusinessClock, tmp_path, monkeypatch, days
):
    """Held for two days (a sale set money aside, two closes booked interest) or eleven (no
    sale; the first installment, due on day 7, is past its grace: penalties). The return
    still cancels the loan, reversing the interest and penalty income and giving the
    reserve back to the settlement wallet, in the same batch: every account of the loan at
    zero, verify clean."""
    _reviewing(tmp_path, monkeypatch)
    income = (loans.OP_INTEREST, loans.OP_PENALTY)
    before = [net(platform, a) for a in income]
    settlement = wallet_of(platform, shop.merchant_id, "settlement")["account_id"]
    loan = take(platform, shop, principal_minor=500_000, term=4)
    if days == 2:
        sell(platform, shop)
    settled = net(platform, settlement)
    for n in range(days):
        clock.next_day()
        assert loan_close.run(platform, DAY0 + timedelta(days=n)).loans == 1
    view = check(platform, shop.merchant, loan["id"])
    reserve, accrued = view["balance"]["reserve_minor"], view["balance"]["interest_minor"]
    assert accrued > 0 and (reserve > 0) == (days == 2)
    assert (view["balance"]["penalty_minor"] > 0) == (days == 11)
    booked = view["balance"]["penalty_minor"]
    assert [net(platform, a) for a in income] == [before[0] + accrued, before[1] + booked]
    alert = _disbursement_alert(platform, loan["id"])
    platform.run(lambda u: holds.decide(u, OPERATOR, alert["id"], "return"))
    view = check(platform, shop.merchant, loan["id"])
    assert view["status"] == "cancelled"
    assert all(v == 0 for v in view["balance"].values()), view["balance"]
    for role in (*RECEIVABLES, "reserve"):
        assert net(platform, loans.account(loan["id"], role)) == 0, role
    assert [net(platform, a) for a in income] == before
    assert net(platform, settlement) - settled == reserve
    assert verify.verify(platform.db).violations == []


def test_a_return_after_a_repayment_is_refused(platform, shop, tmp_path, monkeypatch):
    """The merchant repaid part of the loan while its disbursement was held: the return
    would have to give the payment back (not built), so it is refused and nothing changes."""
    _reviewing(tmp_path, monkeypatch)
    loan = take(platform, shop, principal_minor=500_000, term=4)
    sell(platform, shop)
    platform.run(lambda u: loans.repay(u, shop.merchant, loan["id"], 1_000, "settlement"))
    alert = _disbursement_alert(platform, loan["id"])
    refused_unchanged(
        platform, "loan_moved", lambda u: holds.decide(u, OPERATOR, alert["id"], "return")
    )
    assert loan_view(platform, shop.merchant, loan["id"])["status"] == "active"
