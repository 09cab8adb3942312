"""The demo's suspicious traffic: a few laundering and fraud patterns among the barangay's
ordinary days, judged by the shipped rules so an operator finds alerts waiting.

Each pattern is made by people of its own (full KYC tier, funded from the bank), through the
same services as every other demo movement, with the risk gate turned on for them
(``risk_gate.rules_on``) whatever ``TINDAHAN_RISK_RULES`` says at seeding:

* structuring — three cash-ins of ₱48,000 at Ben's within ten minutes, each just under the
  ₱50,000 a transfer may carry: the third is held for review;
* a mule — five strangers send ₱3,000 each to one new wallet, which asks to cash out
  ₱11,000 minutes later: refused as under review (the alert is kept);
* a round trip — ₱20,000 goes round three wallets and ₱18,000 comes back: held;
* a refund spike — a new shop refunds five of its six ₱1,000 sales in two days: the fifth
  refund is held;
* dormant then large — a customer funded long before the demo's three weeks, silent since,
  pays ₱50,000 to Mang Tonyo's hardware: held.

``dormant_start`` runs before the demo's first day, ``seed`` in its last hour, after the
day's other movements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import risk_gate
from tindahan.services.payments import payments, wallets
from tindahan.services.platform import parties
from tindahan.services.seed import booking
from tindahan.services.seed.booking import Skipped
from tindahan.services.unit import Platform

OPERATOR = Caller("demo", None, frozenset(DEFAULT_SCOPES))
#: The patterns run five minutes apart, in the demo's last hour.
STEP_NS = 300 * 10**9
#: Long enough before the demo's first day to be dormant under the shipped 90 days.
DORMANT_DAYS = 120
#: What the seed counts a pattern's movement under when the rules refuse it (a review of
#: money leaving; on a TigerBeetle ledger, a review of a movement whose hold is not on the
#: cluster yet: a refund, an order's, a loan's).
UNDER_REVIEW = "movement the risk rules would hold for review"


@dataclass
class Typologies:
    platform: Platform
    clock: Callable[[int], None]
    agent: str
    hardware: str
    made: int = 0
    #: What a TigerBeetle ledger does not take yet (a risk hold there), left out.
    skipped: Skipped = field(default_factory=Skipped)

    def run(self, book: Callable[[], Any]) -> Any:
        """One movement (through ``booking``: either ledger's path), judged by the shipped
        rules; a refusal is part of the story."""
        with risk_gate.rules_on("default"):
            try:
                result = book()
            except RefusalError as refusal:
                self.skipped.note(UNDER_REVIEW, refusal)
                return None
        self.made += 1
        return result

    def person(self, name: str, kind: str = "customer", funded: int = 0) -> str:
        new = (
            parties.NewParty(kind, name, mcc="5732", city="Marikina", province="Metro Manila")
            if kind == "merchant"
            else parties.NewParty(kind, name, tier="full")
        )
        party: str = self.platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
        if funded:
            found = self.platform.run(
                lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party), write=False
            )["data"]
            main = next(w["id"] for w in found if w["kind"] == "main")
            self.run(lambda: booking.fund(self.platform, OPERATOR, main, funded, "PHP", "typology"))
        return party

    def pay(self, payer: str, payee: str, amount_minor: int) -> Any:
        new = payments.NewPayment(payee, amount_minor, "PHP", payer_id=payer)
        return self.run(lambda: booking.pay(self.platform, OPERATOR, new))


def dormant_start(platform: Platform, clock: Callable[[int], None], first_day_ns: int) -> str:
    """A customer funded ``DORMANT_DAYS`` before the demo begins, then silent."""
    clock(first_day_ns - DORMANT_DAYS * 86_400 * 10**9)
    seeds = Typologies(platform, clock, "", "")
    return seeds.person("Rogelio Magbanua", funded=5_000_000)


def seed(
    platform: Platform,
    clock: Callable[[int], None],
    at_ns: int,
    who: dict[str, str],
    skipped: Skipped | None = None,
) -> int:
    """The patterns, from ``at_ns`` on (``STEP_NS`` apart); ``who``: the agent, the hardware
    shop and the dormant customer. Returns how many movements were made; ``skipped`` counts
    what a TigerBeetle ledger did not take."""
    seeds = Typologies(platform, clock, who["agent"], who["hardware"])
    if skipped is not None:
        seeds.skipped = skipped
    clock(at_ns)
    _dormant(seeds, who["dormant"])
    _structuring(seeds, at_ns)
    _mule(seeds, at_ns + 3 * STEP_NS)
    _round_trip(seeds, at_ns + 5 * STEP_NS)
    _refund_spike(seeds, at_ns + 6 * STEP_NS)
    return seeds.made


def _dormant(seeds: Typologies, dormant: str) -> None:
    seeds.pay(dormant, seeds.hardware, 5_000_000)


def _structuring(seeds: Typologies, at_ns: int) -> None:
    agent = seeds.agent
    found = seeds.platform.run(
        lambda u: wallets.list_wallets(u, OPERATOR, 10, None, agent), write=False
    )["data"]
    float_id = next(w["id"] for w in found if w["kind"] == "float")
    for _ in range(3):
        seeds.run(
            lambda: booking.fund(seeds.platform, OPERATOR, float_id, 5_000_000, "PHP", "typology")
        )
    customer = seeds.person("Dante Villaflor")
    for n in range(3):
        seeds.clock(at_ns + n * STEP_NS)
        seeds.run(
            lambda: booking.cash_in(seeds.platform, OPERATOR, customer, 4_800_000, "PHP", agent)
        )


def _mule(seeds: Typologies, at_ns: int) -> None:
    seeds.clock(at_ns)
    mule = seeds.person("Jomar Tabios")
    for n in range(5):
        sender = seeds.person(f"Kaibigan {n + 1}", funded=500_000)
        seeds.pay(sender, mule, 300_000)
    seeds.clock(at_ns + STEP_NS)
    agent = seeds.agent
    seeds.run(lambda: booking.cash_out(seeds.platform, OPERATOR, agent, 1_100_000, "PHP", mule))


def _round_trip(seeds: Typologies, at_ns: int) -> None:
    seeds.clock(at_ns)
    one, two, three = (seeds.person(n, funded=3_000_000) for n in ("Lito", "Nestor", "Aida"))
    seeds.pay(one, two, 2_000_000)
    seeds.pay(two, three, 1_900_000)
    seeds.pay(three, one, 1_800_000)


def _refund_spike(seeds: Typologies, at_ns: int) -> None:
    seeds.clock(at_ns)
    shop = seeds.person("Gadget ni Kiko", kind="merchant")
    buyer = seeds.person("Marites Ocampo", funded=1_000_000)
    sales = [seeds.pay(buyer, shop, 100_000) for _ in range(6)]
    caller = Caller("demo", shop, frozenset(DEFAULT_SCOPES))
    for sale in sales[:5]:
        if sale is not None:
            seeds.run(partial(booking.refund, seeds.platform, caller, sale["id"], None, "returned"))
