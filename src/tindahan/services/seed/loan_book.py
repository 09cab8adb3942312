"""A synthetic loan book: many active loans written straight to the tables and the ledger.

The daily close's benchmark (``python -m tindahan.bench.loans``) needs 100,000 active loans
in minutes; going through offers, acceptances and disbursements one by one would take
hours and measure the wrong thing. Each loan here is what a disbursement leaves behind (the
party, an accepted offer, the loan and its schedule, its ledger accounts, the disbursement
and, for every third loan, a reserve set aside), from the same domain functions the
services use (``lending.schedule.build``, ``services.lending.loans.schedule_rows``), so the
close sees a book indistinguishable from a real one. Seeded: the same seed, the same book.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from tindahan import limits
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.ledger.model import NewTransfer
from tindahan.lending.schedule import build
from tindahan.lending.terms import DayCount, Frequency, Method, due_dates, periodic_rate
from tindahan.services.ledger.transfers import create_accounts, create_transfers
from tindahan.services.lending import loans
from tindahan.services.lending import offers as loan_offers
from tindahan.services.unit import Platform
from tindahan.store.credit_tables import credit_assessments
from tindahan.store.lending_tables import loan_installments
from tindahan.store.lending_tables import loan_offers as offer_table
from tindahan.store.lending_tables import loans as loan_table
from tindahan.store.payment_tables import parties as party_table

OPERATOR = Caller("bench", None, frozenset(SCOPES))
FIRST = date(2026, 6, 1)  # the warm-up close; timed runs close the days after it
MIX = ((Frequency.WEEKLY, 8, 70), (Frequency.DAILY, 60, 20), (Frequency.MONTHLY, 4, 10))
CHUNK = 2000
RATE = Decimal("0.03")  # 3% a month
PENALTY = "0.03"


def _product(platform: Platform) -> str:
    new = loan_offers.NewProduct(
        "bench", 100_000, 5_000_000, "weekly", 1, 60, "3", "3", penalty_rate="3", grace_days=2
    )
    return str(platform.run(lambda u: loan_offers.create_product(u, OPERATOR, new))["id"])


def _frequency(rng: random.Random) -> tuple[Frequency, int]:
    pick = rng.randrange(100)
    for frequency, term, share in MIX:
        if pick < share:
            return frequency, term
        pick -= share
    raise AssertionError


def _rows(i: int, rng: random.Random, product_id: str, now: int) -> dict[str, Any]:
    """One loan's rows: party, offer, loan, lines, and its ledger movements."""
    frequency, term = _frequency(rng)
    start = FIRST - timedelta(days=rng.randrange(1, 31))
    principal = rng.randrange(1_000, 50_000) * 100
    rate = periodic_rate(RATE, frequency, DayCount.THIRTY_360)
    lines = build(
        principal, rate, Method.EQUAL_INSTALLMENT, start, due_dates(start, frequency, term)
    )
    lid, mid = f"loan_bench{i:09d}", f"mer_bench{i:010d}"
    reserve = lines[0].total_minor if i % 3 == 0 else 0
    return {
        "party": {
            "id": mid,
            "kind": "merchant",
            "status": "active",
            "tier": "business",
            "name": f"shop {i}",
            "mcc": "5411",
            "province": "Laguna",
            "created_at_ns": now,
        },
        "offer": {
            "id": f"lno_bench{i:010d}",
            "merchant_id": mid,
            "product_id": product_id,
            "assessment_id": "cra_bench",
            "limit_minor": principal,
            "principal_minor": principal,
            "term": term,
            "rate": "0.03",
            "fee_minor": 0,
            "net_proceeds_minor": principal,
            "finance_charge_minor": sum(x.interest_minor for x in lines),
            "total_of_payments_minor": principal + sum(x.interest_minor for x in lines),
            "eir_monthly": "0.03",
            "monthly_rate_ppm": 30000,
            "eir_monthly_ppm": 30000,
            "penalty_rate_ppm": 30000,
            "covered": 0,
            "start_date": start.isoformat(),
            "disclosure": "{}",
            "status": "accepted",
            "loan_id": lid,
            "expires_at_ns": now,
            "accepted_at_ns": now,
            "created_at_ns": now,
        },
        "loan": {
            "id": lid,
            "merchant_id": mid,
            "product_id": product_id,
            "offer_id": f"lno_bench{i:010d}",
            "currency": "PHP",
            "principal_minor": principal,
            "term": term,
            "frequency": frequency.value,
            "method": Method.EQUAL_INSTALLMENT.value,
            "day_count": "30/360",
            "rate": "0.03",
            "fee_minor": 0,
            "fee_mode": "deducted",
            "penalty_rate": PENALTY,
            "grace_days": 2,
            "auto_deduct_bps": 1500,
            "accrual": "daily",
            "allocation_order": "penalty,fee,interest,principal",
            "covered": 0,
            "status": "active",
            "start_date": start.isoformat(),
            "version": 1,
            "accrual_base_minor": 0,
            "principal_paid_minor": 0,
            "interest_accrued_minor": 0,
            "interest_paid_minor": 0,
            "fee_booked_minor": 0,
            "fee_paid_minor": 0,
            "penalty_minor": 0,
            "penalty_paid_minor": 0,
            "waived_minor": 0,
            "reserve_minor": reserve,
            "written_off_minor": 0,
            "recovered_minor": 0,
            "dpd": 0,
            "max_dpd": 0,
            "bucket": "current",
            "closed_through": (start - timedelta(days=1)).isoformat(),
            "disbursed_at_ns": now,
            "closed_at_ns": None,
            "updated_at_ns": now,
        },
        "lines": loans.schedule_rows(lid, lines),
        "accounts": loans.new_accounts(lid, mid),
        "transfers": [
            NewTransfer(
                f"{lid}.disburse".replace("_", "."),
                loans.account(lid, "principal"),
                "op.bank",
                principal,
                "PHP",
                80,
            ),
            *(
                [
                    NewTransfer(
                        f"{lid}.seed".replace("_", "."),
                        "op.bank",
                        loans.account(lid, "reserve"),
                        reserve,
                        "PHP",
                        85,
                    )
                ]
                if reserve
                else []
            ),
        ],
    }


def _batched(items: list[Any], size: int = limits.MAX_BATCH) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _parties(unit: Any, made: list[dict[str, Any]], first: bool, now: int) -> None:
    unit.conn.execute(insert(party_table), [m["party"] for m in made])
    if first:  # the offers' assessment (one for the whole book: it is not what is timed)
        row = {
            "id": "cra_bench",
            "merchant_id": made[0]["party"]["id"],
            "decision": "insufficient_history",
            "reasons": "[]",
            "features": "{}",
            "as_of_ns": now,
            "created_at_ns": now,
        }
        unit.conn.execute(insert(credit_assessments), row)


def build_book(
    platform: Platform, count: int, seed: int, progress: Callable[[int], None] | None = None
) -> None:
    """``count`` active loans (a seeded mix of weekly, daily and monthly ones), written in
    chunks straight to the tables and the ledger, with ``progress(done)`` after each."""
    rng = random.Random(seed)
    product_id = _product(platform)
    now = platform.now()
    done = 0
    while done < count:
        made = [_rows(i, rng, product_id, now) for i in range(done, min(count, done + CHUNK))]
        first = done == 0

        def parties(u: Any, m: list[dict[str, Any]] = made, first: bool = first) -> None:
            _parties(u, m, first, now)

        platform.run(parties)

        def tables(u: Any, m: list[dict[str, Any]] = made) -> None:
            u.conn.execute(insert(offer_table), [x["offer"] for x in m])
            u.conn.execute(insert(loan_table), [x["loan"] for x in m])
            u.conn.execute(insert(loan_installments), [line for x in m for line in x["lines"]])

        platform.run(tables)
        for part in _batched([a for x in made for a in x["accounts"]]):
            create_accounts(platform.db, part)
        for part in _batched([t for x in made for t in x["transfers"]]):
            outcomes = create_transfers(platform.db, part)
            failed = [o for o in outcomes if not o.ok]
            if failed:
                raise RuntimeError(f"the loan book's ledger was refused: {failed[:3]}")
        done += len(made)
        if progress is not None:
            progress(done)
