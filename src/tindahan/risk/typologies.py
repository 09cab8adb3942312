"""Labelled traffic: a barangay's ordinary movements with money-laundering typologies
injected, to measure the rules' precision and recall (and their speed) on known answers.

Ordinary traffic: customers pay shops (₱20–₱2,000), send money to a few friends and family
(₱100–₱5,000), cash in at agents (₱500–₱10,000) and some receive salaries from a bank; shops
send to their bank weekly. Ordinary traffic also holds what the rules should find hard,
so the precision is honest: friends lending ₱12,000–₱40,000 and being paid back within
days (a round trip of two wallets), families of workers abroad who receive ₱60,000–
₱120,000 only every four months or so (a dormant wallet suddenly active), and shops that
cash in ₱45,000–₱49,900 to restock (just below ₱50,000). Injected, each instance labelled
with its typology:

* ``structuring`` — three or four cash-ins within a day or two, each 1–9% below ₱50,000
  (or ₱500,000);
* ``mule`` — a wallet paid by six to ten strangers within two days, then 85–95% of it
  cashed out or sent to a bank within a day;
* ``round_trip`` — ₱20,000–₱90,000 around three wallets and back to the first within a
  day, a little less at each hop;
* ``dormant`` — a wallet used in the first weeks, silent for four months or more, then
  moving ₱60,000–₱150,000.

Deterministic for a seed: the same seed gives the same movements, ids and labels.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from tindahan.risk.aggregates import DAY, HOUR
from tindahan.risk.movement import Kind, Movement

TYPOLOGIES = ("structuring", "mule", "round_trip", "dormant")
#: The rule meant to catch each typology.
RULE_OF = {t: t for t in TYPOLOGIES}
START = 1_767_225_600  # 2026-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class Labelled:
    movement: Movement
    typology: str  # "" for ordinary traffic
    instance: int  # which injected instance (−1 for ordinary traffic)


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"m{self.n:08d}"


def generate(
    customers: int = 2000, days: int = 180, instances: int = 20, seed: int = 20
) -> list[Labelled]:
    """Ordinary traffic of ``customers`` over ``days``, plus ``instances`` of each typology,
    in time order."""
    rng = random.Random(seed)
    ids = _Ids()
    shops = [f"shop{i}" for i in range(max(2, customers // 25))]
    agents = [f"agent{i}" for i in range(max(1, customers // 200))]
    people = [f"cust{i}" for i in range(customers)]
    out = list(_ordinary(rng, ids, people, shops, agents, days))
    injectors = (_structuring, _mule, _round_trip, _dormant)
    for typology, inject in zip(TYPOLOGIES, injectors, strict=True):
        for instance in range(instances):
            out.extend(
                Labelled(m, typology, instance) for m in inject(rng, ids, instance, agents, days)
            )
    out.sort(key=lambda item: (item.movement.at, item.movement.id))
    return out


def _ordinary(
    rng: random.Random,
    ids: _Ids,
    people: list[str],
    shops: list[str],
    agents: list[str],
    days: int,
) -> Iterator[Labelled]:
    friends = {p: rng.sample(people, 3) for p in people}
    home_agent = {p: rng.choice(agents) for p in people}
    favourite_shops = {p: rng.sample(shops, min(4, len(shops))) for p in people}
    salaried = {p for p in people if rng.random() < 0.1}
    remitted = {f"family{i}": rng.randrange(0, 20) for i in range(max(1, len(people) // 100))}
    for day in range(days):
        base = START + day * DAY
        for person in people:
            for _ in range(rng.randrange(0, 3)):
                at = base + rng.randrange(7 * HOUR, 21 * HOUR)
                shop = rng.choice(favourite_shops[person])
                amount = rng.randrange(20_00, 2_000_00)
                yield _plain(ids(), at, Kind.MERCHANT, person, shop, amount)
            if rng.random() < 0.15:
                at = base + rng.randrange(7 * HOUR, 22 * HOUR)
                friend = rng.choice(friends[person])
                yield _plain(ids(), at, Kind.P2P, person, friend, rng.randrange(100_00, 5_000_00))
            if rng.random() < 0.12:
                at = base + rng.randrange(8 * HOUR, 20 * HOUR)
                amount = rng.randrange(500_00, 10_000_00)
                yield _plain(ids(), at, Kind.CASH_IN, home_agent[person], person, amount)
            if rng.random() < 0.002:
                yield from _loan(rng, ids, base, person, rng.choice(friends[person]))
            if day % 15 == 0 and person in salaried:
                at = base + 9 * HOUR + rng.randrange(HOUR)
                yield _plain(ids(), at, Kind.BANK_IN, "bank:payroll", person, 15_000_00)
        for family in remitted:
            if day == remitted[family] or day == remitted[family] + 125:
                at = base + 11 * HOUR
                amount = rng.randrange(60_000_00, 120_000_00)
                yield _plain(ids(), at, Kind.BANK_IN, "bank:remit", family, amount)
        for shop in shops:
            if rng.random() < 0.3:
                at = base + rng.randrange(6 * HOUR, 10 * HOUR)
                amount = rng.randrange(45_000_00, 49_900_00)
                yield _plain(ids(), at, Kind.CASH_IN, rng.choice(agents), shop, amount)
        if day % 7 == 6:
            for shop in shops:
                at = base + 18 * HOUR + rng.randrange(3 * HOUR)
                yield _plain(
                    ids(),
                    at,
                    Kind.BANK_OUT,
                    shop,
                    f"bank:{shop}",
                    rng.randrange(5_000_00, 40_000_00),
                )


def _loan(rng: random.Random, ids: _Ids, base: int, lender: str, friend: str) -> Iterator[Labelled]:
    amount = rng.randrange(12_000_00, 40_000_00)
    at = base + rng.randrange(8 * HOUR, 20 * HOUR)
    yield _plain(ids(), at, Kind.P2P, lender, friend, amount)
    yield _plain(ids(), at + rng.randrange(1, 5) * DAY, Kind.P2P, friend, lender, amount)


def _plain(ident: str, at: int, kind: Kind, sender: str, receiver: str, amount: int) -> Labelled:
    return Labelled(Movement(ident, at, kind, sender, receiver, amount, "PHP"), "", -1)


def _m(ident: str, at: int, kind: Kind, sender: str, receiver: str, amount: int) -> Movement:
    return Movement(ident, at, kind, sender, receiver, amount, "PHP")


def _start(rng: random.Random, days: int, margin: int = 10) -> int:
    return START + rng.randrange(margin, max(margin + 1, days - margin)) * DAY + 8 * HOUR


def _structuring(
    rng: random.Random, ids: _Ids, n: int, agents: list[str], days: int
) -> list[Movement]:
    who, at = f"struct{n}", _start(rng, days)
    threshold = 500_000_00 if n % 4 == 0 else 50_000_00
    moves = []
    for _ in range(rng.choice((3, 4))):
        amount = threshold - threshold * rng.randrange(1, 10) // 100 - rng.randrange(1, 100_00)
        moves.append(_m(ids(), at, Kind.CASH_IN, rng.choice(agents), who, amount))
        at += rng.randrange(2 * HOUR, 14 * HOUR)
    return moves


def _mule(rng: random.Random, ids: _Ids, n: int, agents: list[str], days: int) -> list[Movement]:
    who, at = f"mule{n}", _start(rng, days)
    moves, total = [], 0
    for s in range(rng.randrange(6, 11)):
        amount = rng.randrange(3_000_00, 20_000_00)
        total += amount
        moves.append(_m(ids(), at, Kind.P2P, f"victim{n}_{s}", who, amount))
        at += rng.randrange(HOUR, 5 * HOUR)
    out = total * rng.randrange(85, 96) // 100
    kind = Kind.CASH_OUT if n % 2 else Kind.BANK_OUT
    receiver = rng.choice(agents) if kind is Kind.CASH_OUT else f"bank:{who}"
    moves.append(_m(ids(), at + rng.randrange(HOUR, 20 * HOUR), kind, who, receiver, out))
    return moves


def _round_trip(
    rng: random.Random, ids: _Ids, n: int, agents: list[str], days: int
) -> list[Movement]:
    a, b, c = f"loop{n}a", f"loop{n}b", f"loop{n}c"
    at, amount = _start(rng, days), rng.randrange(20_000_00, 90_000_00)
    moves = [_m(ids(), at - 3 * DAY, Kind.CASH_IN, rng.choice(agents), a, amount)]
    for sender, receiver in ((a, b), (b, c), (c, a)):
        moves.append(_m(ids(), at, Kind.P2P, sender, receiver, amount))
        amount = amount * rng.randrange(95, 100) // 100
        at += rng.randrange(HOUR, 6 * HOUR)
    return moves


def _dormant(rng: random.Random, ids: _Ids, n: int, agents: list[str], days: int) -> list[Movement]:
    who = f"sleeper{n}"
    early = START + rng.randrange(0, 10) * DAY + 10 * HOUR
    late = early + rng.randrange(120, max(121, days - 15)) * DAY
    moves = [
        _m(ids(), early, Kind.CASH_IN, rng.choice(agents), who, rng.randrange(1_000_00, 5_000_00))
    ]
    amount = rng.randrange(60_000_00, 150_000_00)
    if n % 2:
        moves.append(_m(ids(), late, Kind.BANK_IN, f"bank:{who}", who, amount))
    else:
        moves.append(_m(ids(), late, Kind.CASH_IN, rng.choice(agents), who, amount))
    return moves
