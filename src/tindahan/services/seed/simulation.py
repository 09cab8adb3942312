"""Writing a simulated population (``credit.simulate``) into a real database, through the real
services, so that the credit pipeline can be tried end to end on a ledger that looks lived in.

Only events before a cut (by default the population's as-of date) are written: the future
stays in memory as the ground truth. Everything goes through the use cases a real merchant,
buyer, agent and operator would use, with a settable clock (as ``services.seed.demo`` does) so
every row carries its simulated time:

* each merchant is created (``parties.create``, its MCC, city and province) at its opening
  time; buyers (customers, KYC tier ``full``, with an ID number) are created the first time
  one of their purchases comes up, and the operator funds a buyer's wallet
  (``cash.fund``) whenever it is too low for the next purchase; each province gets its own
  cash agent;
* each sale is a merchant payment (``payments.pay``) from the buyer's wallet into the
  merchant's settlement wallet, less the merchant discount; each refund is
  ``refunds.create`` by the merchant; each cash-out is ``cash.cash_out`` at the province's
  agent, then ``cash.confirm`` by the agent.

Simulated buyers map onto a shared pool of buyer parties: within one merchant, distinct
simulated buyers stay distinct parties (so repeat buying survives), across merchants the
pool is shared. The pool is large enough for the biggest merchant's buyers and for the
monthly volume to stay well inside the full tier's limits; a refusal all the same (a limit,
a wallet too low) is counted by its code in ``Written.refused`` and the run goes on.

Where the database differs from the in-memory events, and why:

* **disputes**: a dispute needs an online order paid into escrow (storefront, product,
  stock, checkout, shipment), which a sale here is not; they stay in the in-memory events
  only (``Written.disputes_not_written``). Online orders (channel "order") are written as
  merchant payments, booked with the merchant discount as the in-memory postings are.
* **the settlement-to-main move**: a merchant's sales land in its settlement wallet, but a
  cash-out (``cash.cash_out``) takes money from the main wallet, and no service yet moves
  money from one to the other. Right before each cash-out, in the same transaction, the
  writer books that move itself with the ledger's API (one transfer, code ``SWEEP_CODE``,
  metadata ``{"simulation": "sweep"}``): the merchant's total over both wallets is then
  exactly the in-memory running balance, and ``ledger verify`` stays clean. A reader of
  the merchant's postings sees the move as a pair that sums to zero.
* **on a TigerBeetle ledger** (issue 22) the sales, fundings, refunds and the agents'
  confirmations go through the cluster's paths (``seed.booking``: the two-store order);
  the sweep is a raw ledger move with no such path, so it is refused there
  (``ledger_not_supported``, counted in ``Written.refused`` by that code) and with it the
  cash-out it was for: a simulated merchant's money stays in its settlement wallet.

Each call adds a new population (new parties); it does not look for an earlier one.

Speed (measured on SQLite, two shared cores): 20 merchants × 4 months of history at full
activity — 7,457 sales, 107 refunds, 454 cash-outs, 602 fundings, 406 buyers and 11 agents,
about 9,500 transactions — took 25 s (a run of the same size took 53 s while the machine
was busy with other work), some 200-400 transactions a second: each write is one
transaction through the payment path, with its fsync. Large populations take long; the
in-memory events (``tindahan simulate --memory-only``) are the fast path. (A bulk mode
through the ledger's batch API, which the issue allows for large populations, is not
written yet.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import numpy as np
import pandas as pd

from tindahan import limits
from tindahan.credit.simulate import Population
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError, refused
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import WalletKind
from tindahan.services.ledger import movement
from tindahan.services.payments import cash, payments
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import chart, parties
from tindahan.services.seed import booking
from tindahan.services.unit import Platform, SettableClock, Unit, ledger_id, new_id
from tindahan.store.database import connect
from tindahan.store.vault import Vault

T = TypeVar("T")
Progress = Callable[[int, int], None]
OPERATOR = Caller("simulation", None, frozenset(DEFAULT_SCOPES))
#: Ledger transfer code of the settlement-to-main move (not a ``payments.model.TransferCode``:
#: no service books it yet; see the module docstring).
SWEEP_CODE = 19
#: A buyer's wallet is topped up by at least this much (₱5,000) when it runs low.
TOPUP_MINOR = 500_000
#: A buyer is given at most this much a month (a quarter of the full tier's monthly limits),
#: which sets how many buyer parties the pool needs.
BUYER_MONTHLY_MINOR = limits.KYC_TIER_DEFAULTS["full"]["monthly_outgoing_max_minor"] // 4
#: Actions between two progress reports.
PROGRESS_EVERY = 25
MERCHANT, SALE, REFUND, CASH_OUT = range(4)
FIRST_NAMES = (
    "Nena", "Rosa", "Tonyo", "Joy", "Ben", "Lorna", "Rey", "Marites", "Jun", "Baby",
    "Cora", "Dodong", "Inday", "Boy", "Letty", "Caloy", "Mila", "Nonoy", "Tess", "Ramon",
)  # fmt: skip


@dataclass
class Written:
    """What a write did: counts, refusals by code, and the parties made."""

    merchants: int = 0
    buyers: int = 0
    agents: int = 0
    sales: int = 0
    refunds: int = 0
    cash_outs: int = 0
    fundings: int = 0
    #: Refused by the platform (``RefusalError``), by code.
    refused: dict[str, int] = field(default_factory=dict)
    #: Refunds not tried because their sale had been refused.
    skipped_refunds: int = 0
    disputes_not_written: int = 0
    #: Simulated merchant id → the platform's party id.
    party_ids: dict[str, str] = field(default_factory=dict)
    #: Wall time of the write, in whole milliseconds.
    milliseconds: int = 0

    @property
    def refusals(self) -> int:
        return sum(self.refused.values())


@dataclass(frozen=True)
class Plan:
    """What to write, in time order: (at_ns, action, row) with ``row`` an index into the
    frame of that action's events (merchants, sales, refunds, cash_outs)."""

    at_ns: list[int]
    action: list[int]
    row: list[int]
    #: For each sale row, its buyer's party number in the shared pool.
    buyer: list[int]
    pool: int
    disputes: int

    def __len__(self) -> int:
        return len(self.at_ns)


def plan(population: Population, cut_ns: int) -> Plan:
    """The actions before ``cut_ns``; on equal times, merchant first, then sales, refunds,
    cash-outs (the order the simulator's wallet pass assumed)."""
    e = population.events
    parts = [
        (e.merchants.opened_at_ns.to_numpy(), MERCHANT),
        (e.sales.at_ns.to_numpy(), SALE),
        (e.refunds.at_ns.to_numpy(), REFUND),
        (e.cash_outs.at_ns.to_numpy(), CASH_OUT),
    ]
    at_ns = np.concatenate([times for times, _ in parts])
    action = np.concatenate([np.full(len(times), code) for times, code in parts])
    row = np.concatenate([np.arange(len(times)) for times, _ in parts])
    keep = at_ns < cut_ns
    order = np.lexsort((row[keep], action[keep], at_ns[keep]))
    buyer, pool = _buyer_pool(e.sales, cut_ns)
    return Plan(
        at_ns=at_ns[keep][order].tolist(),
        action=action[keep][order].tolist(),
        row=row[keep][order].tolist(),
        buyer=buyer,
        pool=pool,
        disputes=int((e.disputes.at_ns < cut_ns).sum()),
    )


def _buyer_pool(sales: pd.DataFrame, cut_ns: int) -> tuple[list[int], int]:
    """Each sale's buyer party number: merchant m's k-th distinct buyer is party
    ``(offset_m + k) mod pool``, so a merchant's buyers stay distinct."""
    local = sales.groupby("merchant_id", sort=False).buyer_id.transform(
        lambda ids: pd.Series(pd.factorize(ids)[0], index=ids.index)
    )
    before = sales.at_ns < cut_ns
    month = (sales.at_ns[before] // (30 * 86_400 * 10**9)).to_numpy()
    monthly = pd.Series(sales.amount_minor[before].to_numpy()).groupby(month).sum()
    by_volume = -(-int(monthly.max() if len(monthly) else 0) // BUYER_MONTHLY_MINOR)
    widest = int(local[before].max() + 1) if before.any() else 1
    pool = max(1, widest, by_volume)
    merchant = pd.factorize(sales.merchant_id)[0]
    offset = merchant * 7_919 % pool  # spread merchants over the pool (7,919 is prime)
    return ((offset + local.to_numpy()) % pool).tolist(), pool


def write_with_history(
    db_url: str,
    vault: Vault,
    population: Population,
    *,
    cut_ns: int | None = None,
    progress: Progress | None = None,
    ledger: LedgerPort | None = None,
) -> Written:
    """Write through a database handle whose clock follows the simulated times (``ledger``:
    the deployment's TigerBeetle cluster, if it has one: see the module docstring)."""
    clock = SettableClock()
    with connect(db_url, clock=clock) as database:
        platform = Platform(database, vault, ledger=ledger)
        chart.ensure_operator_accounts(platform)
        return write(platform, clock.set, population, cut_ns=cut_ns, progress=progress)


def write(
    platform: Platform,
    clock: Callable[[int], None],
    population: Population,
    *,
    cut_ns: int | None = None,
    progress: Progress | None = None,
) -> Written:
    """Write ``population``'s events before ``cut_ns`` (default: its as-of date);
    ``clock(ns)`` sets the time the platform's services see."""
    started = time.perf_counter_ns()
    todo = plan(population, population.as_of_ns if cut_ns is None else cut_ns)
    writer = _Writer(platform, population, todo)
    steps = {
        MERCHANT: writer.merchant,
        SALE: writer.sale,
        REFUND: writer.refund,
        CASH_OUT: writer.cash_out,
    }
    for done, (at_ns, action, row) in enumerate(
        zip(todo.at_ns, todo.action, todo.row, strict=True)
    ):
        clock(at_ns)
        steps[action](row)
        if progress is not None and (done % PROGRESS_EVERY == 0):
            progress(done, len(todo))
    if progress is not None:
        progress(len(todo), len(todo))
    writer.written.disputes_not_written = todo.disputes
    writer.written.milliseconds = (time.perf_counter_ns() - started) // 1_000_000
    return writer.written


def _as(party_id: str) -> Caller:
    return Caller("simulation", party_id, frozenset(DEFAULT_SCOPES))


class _Writer:
    """The state of one write: the parties made, buyers' balances, payments to refund."""

    def __init__(self, platform: Platform, population: Population, todo: Plan) -> None:
        self.platform = platform
        self.events = population.events
        self.truth = population.truth.set_index("merchant_id")
        self.todo = todo
        self.written = Written()
        self.buyers: dict[int, tuple[str, str]] = {}  # pool number → (party id, wallet id)
        self.balances: dict[int, int] = {}  # pool number → what its wallet holds
        self.agents: dict[str, str] = {}  # province → agent party id
        self.paid: dict[int, tuple[str, int]] = {}  # sale row → (payment id, buyer number)
        self.refund_sale: list[int] = population.refund_sale.tolist()
        self.refunded = set(self.refund_sale)

    # --- running a use case ----------------------------------------------------------------
    def attempt(self, work: Callable[[Unit], T]) -> T | None:
        """Run one use case in its own transaction; a refusal is counted, not raised."""
        return self.attempt_book(lambda: self.platform.run(work))

    def attempt_book(self, book: Callable[[], T]) -> T | None:
        """``attempt`` for a movement made through ``seed.booking`` (either ledger's path)."""
        try:
            return book()
        except RefusalError as refusal:
            self.written.refused[refusal.code] = self.written.refused.get(refusal.code, 0) + 1
            return None

    def create(self, new: parties.NewParty) -> tuple[str, str]:
        """(party id, main wallet id) of a new party."""

        def work(unit: Unit) -> tuple[str, str]:
            party_id = str(parties.create(unit, OPERATOR, new)["id"])
            found = movement.holders(unit, (party_id,))
            return party_id, found[(party_id, WalletKind.MAIN)].wallet_id

        return self.platform.run(work)

    # --- the actions ---------------------------------------------------------------------
    def merchant(self, row: int) -> None:
        merchant_id = str(self.events.merchants.merchant_id.iat[row])
        facts = self.truth.loc[merchant_id]
        first = FIRST_NAMES[row % len(FIRST_NAMES)]
        name = f"{first}'s {str(facts['kind']).title()}"
        new = parties.NewParty(
            "merchant",
            name,
            mcc=str(facts["mcc"]),
            city=str(facts["city"]),
            province=str(facts["province"]),
        )
        self.written.party_ids[merchant_id] = self.create(new)[0]
        self.written.merchants += 1

    def sale(self, row: int) -> None:
        sales = self.events.sales
        payee = self.written.party_ids[str(sales.merchant_id.iat[row])]
        amount = int(sales.amount_minor.iat[row])
        number = self.todo.buyer[row]
        buyer_id = self.buyer(number, amount)
        new = payments.NewPayment(payee, amount, "PHP", description="simulated sale")
        made = self.attempt_book(partial(booking.pay, self.platform, _as(buyer_id), new))
        if made is None:
            return
        self.balances[number] -= amount
        self.written.sales += 1
        if row in self.refunded:
            self.paid[row] = (str(made["id"]), number)

    def buyer(self, number: int, amount: int) -> str:
        """The pool's buyer ``number``, created on first use and funded to pay ``amount``."""
        if number not in self.buyers:
            new = parties.NewParty(
                "customer",
                f"Buyer {number + 1}",
                tier="full",
                id_number=f"SIM-{number + 1:07d}",
            )
            self.buyers[number] = self.create(new)
            self.balances[number] = 0
            self.written.buyers += 1
        party_id, wallet_id = self.buyers[number]
        short = amount - self.balances[number]
        if short > 0:
            topup = max(TOPUP_MINOR, short)
            funded = self.attempt_book(
                partial(
                    booking.fund, self.platform, OPERATOR, wallet_id, topup, "PHP", "SIM-FUNDING"
                )
            )
            if funded is not None:
                self.balances[number] += topup
                self.written.fundings += 1
        return party_id

    def refund(self, row: int) -> None:
        sale = self.refund_sale[row]
        if sale not in self.paid:
            self.written.skipped_refunds += 1
            return
        payment_id, number = self.paid[sale]
        merchant = self.written.party_ids[str(self.events.sales.merchant_id.iat[sale])]
        amount = int(self.events.refunds.amount_minor.iat[row])
        made = self.attempt_book(
            partial(booking.refund, self.platform, _as(merchant), payment_id, amount, "returned")
        )
        if made is not None:
            self.balances[number] += amount
            self.written.refunds += 1

    def cash_out(self, row: int) -> None:
        merchant_id = str(self.events.cash_outs.merchant_id.iat[row])
        merchant = self.written.party_ids[merchant_id]
        agent = self.agent(str(self.truth.loc[merchant_id, "province"]))
        amount = int(self.events.cash_outs.amount_minor.iat[row])
        held = self.attempt(
            partial(_sweep_and_cash_out, merchant=merchant, agent=agent, amount=amount)
        )
        if held is None:
            return
        done = self.attempt_book(
            partial(booking.confirm, self.platform, _as(agent), str(held["id"]))
        )
        if done is not None:
            self.written.cash_outs += 1

    def agent(self, province: str) -> str:
        if province not in self.agents:
            city = str(self.truth.loc[self.truth.province == province, "city"].iat[0])
            new = parties.NewParty(
                "agent", f"Padala Center {province}", city=city, province=province
            )
            self.agents[province] = self.create(new)[0]
            self.written.agents += 1
        return self.agents[province]


def _sweep_and_cash_out(unit: Unit, merchant: str, agent: str, amount: int) -> PaymentView:
    """Move ``amount`` from the merchant's settlement wallet to its main wallet (see the
    module docstring), then ask the agent for the cash: one transaction."""
    found = movement.holders(unit, (merchant,))
    settlement = found[(merchant, WalletKind.SETTLEMENT)]
    main = found[(merchant, WalletKind.MAIN)]
    sweep = NewTransfer(
        ledger_id(new_id("sim")),
        settlement.account_id,
        main.account_id,
        amount,
        "PHP",
        SWEEP_CODE,
        metadata={"simulation": "sweep"},
    )
    low = refused("insufficient_funds", "the settlement wallet is too low", "amount_minor")
    movement.book(unit, [sweep], {"exceeds_credits": low})
    return cash.cash_out(unit, _as(merchant), agent, amount, "PHP", None)
