"""The loans' daily close at scale: how long one business day's close takes for a book of
``--loans`` active loans (target: 100,000 loans in under 2 minutes on this machine).

The book is written straight into the tables (bulk inserts, not one acceptance at a time,
which would take longer than the close itself), and into the ledger through the ledger
service (accounts and transfers, so ``verify`` can check the result). It is a stressed
book, the close's worst case:

* 70% weekly loans (8 installments), 20% daily (60), 10% monthly (4), started on days
  spread over the 30 days before the first close, so installments fall due every day;
* every loan accrues interest daily (one ledger transfer per loan per day);
* a third hold a reserve from sales that the close applies to what falls due; nobody
  else pays, so lines fall past due and accrue penalties after 2 days' grace.

A warm-up close (not timed) catches the book up to the first timed day; then each timed
run closes the next business day for every loan. Reported: per-run seconds, the median, and
loans per second. ``--check`` runs ``ledger verify`` at the end.

    .venv/bin/python bench/loan_bench.py                     # 100,000 loans, 3 days
    .venv/bin/python bench/loan_bench.py --loans 10000 --runs 3 --json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from tindahan import limits
from tindahan.ledger.model import NewTransfer
from tindahan.lending.calendar import day_start_ns
from tindahan.lending.schedule import build
from tindahan.lending.terms import DayCount, Frequency, Method, due_dates, periodic_rate
from tindahan.payments.access import SCOPES, Caller
from tindahan.services import loan_close, loan_offers, loans, parties, verify
from tindahan.services.ledger import create_accounts, create_transfers
from tindahan.services.platform import Platform, SettableClock
from tindahan.store import migrate
from tindahan.store.credit_tables import credit_assessments
from tindahan.store.database import connect
from tindahan.store.lending_tables import loan_installments
from tindahan.store.lending_tables import loan_offers as offer_table
from tindahan.store.lending_tables import loans as loan_table
from tindahan.store.payment_tables import parties as party_table
from tindahan.store.vault import Vault

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


def build_book(platform: Platform, count: int, seed: int) -> None:
    rng = random.Random(seed)
    product_id = _product(platform)
    now = platform.now()
    done = 0
    while done < count:
        made = [_rows(i, rng, product_id, now) for i in range(done, min(count, done + CHUNK))]
        platform.run(lambda u, m=made, first=done == 0: _parties(u, m, first, now))

        def tables(u: Any, m: list[dict[str, Any]] = made) -> None:
            u.conn.execute(insert(offer_table), [x["offer"] for x in m])
            u.conn.execute(insert(loan_table), [x["loan"] for x in m])
            u.conn.execute(insert(loan_installments), [line for x in m for line in x["lines"]])

        platform.run(tables)
        for part in _batched([a for x in made for a in x["accounts"]]):
            create_accounts(platform.db, part)
        for part in _batched([t for x in made for t in x["transfers"]]):
            outcomes = create_transfers(platform.db, part)
            assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok][:3]
        done += len(made)
        print(f"  book: {done:,} loans", file=sys.stderr, end="\r")
    print(file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="timed days, one close each")
    parser.add_argument("--db", help="database URL (default: a scratch SQLite file)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="ledger verify at the end")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="tindahan-loan-bench-")
    url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
    clock = SettableClock()
    clock.set(day_start_ns(FIRST) - 3600 * 10**9)
    with connect(url, clock=clock) as db:
        migrate.upgrade(db)
        platform = Platform(db, Vault(b"\0" * 32))
        parties.ensure_operator_accounts(platform)
        started = time.perf_counter()
        build_book(platform, args.loans, args.seed)
        setup = time.perf_counter() - started
        clock.set(day_start_ns(FIRST + timedelta(days=1)) + 3600 * 10**9)
        warm = loan_close.run(platform, FIRST)
        runs = []
        for k in range(1, args.runs + 1):
            day = FIRST + timedelta(days=k)
            clock.set(day_start_ns(day + timedelta(days=1)) + 3600 * 10**9)
            report = loan_close.run(platform, day)
            runs.append(report.as_dict())
            print(
                f"  close {day}: {report.milliseconds / 1000:.1f} s for {report.loans:,} loans",
                file=sys.stderr,
            )
        checked = verify.verify(db).ok if args.check else None
    seconds = [r["milliseconds"] / 1000 for r in runs]
    median = statistics.median(seconds)
    result = {
        "loans": args.loans,
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "setup_seconds": round(setup, 1),
        "warm_up_seconds": round(warm.milliseconds / 1000, 1),
        "runs_seconds": seconds,
        "median_seconds": median,
        "loans_per_second": round(args.loans / median) if median else None,
        "target_seconds": 120,
        "last_run": runs[-1] if runs else None,
        "verify_ok": checked,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
