"""The automatic daily payout: once per merchant and Manila day, at the merchant's time.

``run_due`` finds the merchants whose payout is on, whose time of day has come (Manila), and
whose day has no run yet, and runs each in a transaction of its own: the settlement wallet is
locked, the amount is everything available less the balance to leave
(``payments.payouts.automatic_amount``), and the payout is booked with its run row
(``payout_runs``, primary key ``(merchant_id, day)``) in the same transaction.

**Exactly once**, however many runners: the worker in every server process and ``tindahan
payouts run`` may all run at the same moment. The run row decides: a second runner's
insert of the same ``(merchant_id, day)`` waits for the first to commit (PostgreSQL) and then
fails as a duplicate; the unit of work retries the whole transaction, which now finds the day
done and moves nothing. SQLite takes one writer at a time, so the second simply finds it.

**Nothing to pay** (the holds and the balance to leave take it all) is a run too, outcome
``nothing``: the day is done, and a sale later that day waits for tomorrow's payout, so a
merchant's money moves at the time they chose, not whenever a sale arrives. **A refusal** (a
frozen merchant, a tier limit on the main wallet) rolls the payout back and is recorded in a
second transaction as a failed payout with its reason, announced as ``payout.failed``; the
day is done (tomorrow tries again). A day the worker never ran in is not paid later: the next
day's payout takes that money with it. **To a bank account** (the destination
``bank_account``): the payout and, in the same transaction, a transfer of its amount from
the main wallet to the account (``banks.send_on``); a refusal of the transfer (the account
removed since, no rail for the amount) fails the payout as above, nothing moved.

**On a TigerBeetle ledger** (``cluster``): the run's transaction is the payout's A (its row
``pending``, its place in the two-store order, the run row ``paid``); after the commit the
order goes on (hold, post, ``succeeded``), and a refusal by the cluster then makes the
payout and the day's run ``failed``. A crash after A leaves the payout to the recovery
round; the run row already says the day is done, so no runner pays it twice. To a bank
account: the payout and the transfer are one movement of that order
(``bank_cluster.begin_daily``, in the run's transaction), the payout ``succeeded`` once
the cluster booked it with the transfer's holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import and_, insert, select

from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.payments import payouts as rules
from tindahan.services.ledger import movement
from tindahan.services.payouts import bank_cluster, banks, cluster, payouts
from tindahan.services.unit import Platform, Unit
from tindahan.store.payout_tables import payout_runs, payout_settings


@dataclass
class RunReport:
    day: str
    paid: int = 0
    paid_minor: int = 0
    nothing: int = 0
    failed: int = 0
    already: int = 0
    payout_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": "payout_run",
            "day": self.day,
            "paid": self.paid,
            "paid_minor": self.paid_minor,
            "nothing": self.nothing,
            "failed": self.failed,
            "already": self.already,
            "payout_ids": self.payout_ids,
        }


#: On the cluster, the key of a payout to a bank account's movement id (its transfer's) in
#: what ``_attempt`` returns, for ``cluster.finish``.
PLACE = "_place"


class _RefusedError(Exception):
    """A payout refused inside its transaction, with the amount it was for."""

    def __init__(self, amount_minor: int, refusal: RefusalError) -> None:
        super().__init__(refusal.message)
        self.amount_minor = amount_minor
        self.refusal = refusal


def _due(unit: Unit, day: date, minute: int, after: str) -> list[str]:
    """Up to a chunk of merchants due at ``minute`` of ``day`` with no run yet."""
    done = select(payout_runs.c.merchant_id).where(
        and_(
            payout_runs.c.merchant_id == payout_settings.c.merchant_id,
            payout_runs.c.day == day.isoformat(),
        )
    )
    query = (
        select(payout_settings.c.merchant_id)
        .where(
            payout_settings.c.enabled.is_(True),
            payout_settings.c.minute_of_day <= minute,
            payout_settings.c.merchant_id > after,
            ~done.exists(),
        )
        .order_by(payout_settings.c.merchant_id)
        .limit(limits.PAYOUT_RUN_CHUNK)
    )
    return list(unit.conn.execute(query).scalars())


def _done(unit: Unit, merchant_id: str, day: str) -> bool:
    query = select(payout_runs.c.outcome).where(
        payout_runs.c.merchant_id == merchant_id, payout_runs.c.day == day
    )
    return unit.conn.execute(query).first() is not None


def _mark(unit: Unit, merchant_id: str, day: str, outcome: str, payout_id: str | None) -> None:
    unit.conn.execute(
        insert(payout_runs),
        {
            "merchant_id": merchant_id,
            "day": day,
            "outcome": outcome,
            "payout_id": payout_id,
            "created_at_ns": unit.now(),
        },
    )


def _attempt(unit: Unit, merchant_id: str, day: str, minute: int) -> tuple[str, Any]:
    if _done(unit, merchant_id, day):
        return "already", None
    setting = (
        unit.conn.execute(
            select(payout_settings).where(payout_settings.c.merchant_id == merchant_id)
        )
        .mappings()
        .first()
    )
    if setting is None or not setting["enabled"] or setting["minute_of_day"] > minute:
        return "off", None  # changed since it was found due
    found = payouts.wallets_of(unit, merchant_id)
    figures = payouts.availability(unit, merchant_id, found.settlement.account_id, lock=True)
    amount = rules.automatic_amount(figures, setting["keep_minor"])
    if amount <= 0:
        _mark(unit, merchant_id, day, "nothing", None)
        return "nothing", None
    try:
        movement.require_active(found.settlement, "merchant")
        to_bank = setting["destination"] == "bank_account"
        description = banks.DESCRIPTION if to_bank else None
        if unit.platform.ledger is not None and to_bank:
            made, place = bank_cluster.begin_daily(
                unit, merchant_id, found, amount, setting["bank_account_id"]
            )
            made = made | {PLACE: place}
        elif unit.platform.ledger is not None:
            made = cluster.begin_daily(unit, merchant_id, found, amount)
        else:
            made = payouts.book(
                unit, merchant_id, found, amount, automatic=True, description=description
            )
            if to_bank:
                banks.send_on(unit, found, made, setting["bank_account_id"])
    except RefusalError as refusal:
        raise _RefusedError(amount, refusal) from refusal
    _mark(unit, merchant_id, day, "paid", made["id"])
    return "paid", made


def _fail(unit: Unit, merchant_id: str, day: str, refused: _RefusedError) -> tuple[str, Any]:
    if _done(unit, merchant_id, day):
        return "already", None
    found = payouts.wallets_of(unit, merchant_id)
    made = payouts.record_failure(unit, merchant_id, found, refused.amount_minor, refused.refusal)
    _mark(unit, merchant_id, day, "failed", made["id"])
    return "failed", made


def run_one(platform: Platform, merchant_id: str, day: str, minute: int) -> tuple[str, Any]:
    """One merchant's payout for ``day``: ``paid``, ``nothing``, ``failed``, ``already`` (done
    before, by this runner or another) or ``off``."""
    try:
        outcome, made = platform.run(lambda u: _attempt(u, merchant_id, day, minute))
    except _RefusedError as refused:
        failure = refused
        return platform.run(lambda u: _fail(u, merchant_id, day, failure))
    if outcome == "paid" and made["status"] == "pending":  # on the cluster: the rest
        made = cluster.finish(platform, made["id"], made.get(PLACE))
        outcome = "paid" if made["status"] == "succeeded" else made["status"]
    return outcome, made


def run_due(platform: Platform, at_ns: int | None = None) -> RunReport:
    """Every payout due at ``at_ns`` (default: now) that has not run on its Manila day."""
    at = platform.now() if at_ns is None else at_ns
    day, minute = rules.moment(at)
    report = RunReport(day.isoformat())
    after = ""
    while True:
        chunk = platform.run(partial(_due, day=day, minute=minute, after=after), write=False)
        if not chunk:
            return report
        for merchant_id in chunk:
            outcome, made = run_one(platform, merchant_id, report.day, minute)
            _count(report, outcome, made)
        after = chunk[-1]


def _count(report: RunReport, outcome: str, made: Any) -> None:
    if outcome == "paid":
        report.paid += 1
        report.paid_minor += made["amount_minor"]
        report.payout_ids.append(made["id"])
    elif outcome == "failed":
        report.failed += 1
        report.payout_ids.append(made["id"])
    elif outcome == "nothing":
        report.nothing += 1
    elif outcome == "already":
        report.already += 1
