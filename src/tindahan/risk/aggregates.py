"""Running aggregates, kept in memory, that the rules read: sliding windows per party.

Each window is a queue of ``(at, amount_minor)`` with its count and total kept as items
enter and leave, so reading "how much did this party send in the last hour" costs the items
that expired since the last look, never a scan of history. Everything is whole seconds and
integer minor units. The engine reads these *before* it records a movement (so a rule sees
the history without the movement it judges, and adds the movement itself), and records a
movement only when it was not blocked: a blocked movement moved nothing.

Which movements count where (``movement`` says who is who):

* outgoing (velocity, payees, round trips): the sender of ``p2p``, ``merchant``,
  ``cash_out``, ``bank_out`` and ``refund`` — the party spending from a wallet; an agent's
  cash-ins and a bank's credits are not the agent's or the bank's spending;
* cash (covered transactions, structuring of cash): the customer side (``cash_party``),
  per Manila calendar day (UTC+8);
* fan-in (mules): the first movement from a sender to a receiver, of kind ``p2p`` or
  ``bank_in`` (a shop's first-time buyers are its business, not a fan-in);
* last seen (dormancy): both sides, except the agent or bank of a cash or bank movement;
* origins (velocity per device or IP): a spending movement's device and IP address, when
  known, each an hour and a day window under its own key (``origins``);
* different wallets per origin: each origin's wallets *counted* within its window (a wallet
  is counted when it spends through the origin and was not counted there within the
  window, so each wallet counts once per window: a distinct count kept as a running count).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tindahan import limits
from tindahan.risk.movement import CASH_KINDS, OUTFLOW_KINDS, Kind, Movement

HOUR = 3600
DAY = 24 * HOUR
#: The Philippines keeps UTC+8 all year; a banking day is a Manila calendar day.
MANILA_OFFSET = limits.BUSINESS_UTC_OFFSET_HOURS * HOUR

SPENDING = frozenset({Kind.P2P, Kind.MERCHANT, Kind.CASH_OUT, Kind.BANK_OUT, Kind.REFUND})
FAN_IN = frozenset({Kind.P2P, Kind.BANK_IN})
#: Kinds whose sender is an agent or a bank, and whose receiver is: not parties to watch.
SENDER_IS_INSTITUTION = frozenset({Kind.CASH_IN, Kind.BANK_IN})
RECEIVER_IS_INSTITUTION = frozenset({Kind.CASH_OUT, Kind.BANK_OUT})


#: The keys the windows of a device and of an IP address are kept under (``origins``), beside
#: the parties' (a party id never has this form).
DEVICE_PREFIX, IP_PREFIX = "device:", "ip:"


def origins(m: Movement) -> list[tuple[str, str]]:
    """``(origin, key)`` of each known origin of a spending movement: the device's and the
    IP address's windows count what was spent through them (velocity per device or IP)."""
    if m.kind not in SPENDING:
        return []
    found = []
    if m.device:
        found.append(("device", DEVICE_PREFIX + m.device))
    if m.ip:
        found.append(("ip", IP_PREFIX + m.ip))
    return found


def manila_day(at: int) -> int:
    """The Manila calendar day of a moment, as days since 1970-01-01."""
    return (at + MANILA_OFFSET) // DAY


class Window:
    """Count and total of the items of the last ``span`` seconds."""

    __slots__ = ("count", "items", "span", "total")

    def __init__(self, span: int) -> None:
        self.span = span
        self.items: deque[tuple[int, int]] = deque()
        self.count = 0
        self.total = 0

    def trim(self, now: int) -> Window:
        cutoff = now - self.span
        items = self.items
        while items and items[0][0] <= cutoff:
            self.total -= items.popleft()[1]
            self.count -= 1
        return self

    def add(self, at: int, amount_minor: int) -> None:
        self.items.append((at, amount_minor))
        self.count += 1
        self.total += amount_minor


@dataclass(frozen=True, slots=True)
class Spans:
    """The windows the rule set asks for, in seconds, and what structuring counts."""

    near: int
    mule: int
    refunds: int
    thresholds_minor: tuple[int, ...]
    band_percent: int
    near_kinds: frozenset[Kind]
    #: The windows of the different-wallets rules per device and per IP address.
    device_wallets: int = DAY
    ip_wallets: int = DAY

    def wallets_span(self, origin: str) -> int:
        return self.device_wallets if origin == "device" else self.ip_wallets


class Wallets:
    """The wallets counted through one origin within its window: a window of counts, and
    when each wallet was last counted (it counts again once that left the window)."""

    __slots__ = ("counted", "span", "window")

    def __init__(self, span: int) -> None:
        self.span = span
        self.window = Window(span)
        self.counted: dict[str, int] = {}

    def fresh(self, wallet: str, at: int) -> bool:
        """Whether ``wallet`` is not yet counted in the window ending at ``at``."""
        last = self.counted.get(wallet)
        return last is None or last <= at - self.span


class PartyState:
    __slots__ = (
        "cash_day",
        "cash_total",
        "day",
        "disputes",
        "fan_in",
        "hour",
        "last_seen",
        "month",
        "near",
        "outflow",
        "payees",
        "recent_payees",
        "refunds",
        "sales",
    )

    def __init__(self, spans: Spans) -> None:
        self.last_seen: int | None = None
        self.hour = Window(HOUR)
        self.day = Window(DAY)
        self.month = Window(30 * DAY)
        self.cash_day = -1
        self.cash_total = 0
        self.near = Window(spans.near)
        self.fan_in = Window(spans.mule)
        self.outflow = Window(spans.mule)
        self.sales = Window(spans.refunds)
        self.refunds = Window(spans.refunds)
        #: A merchant's open disputes by the day each opened (live only: a dispute is a
        #: claim, not a movement; taken off when it is resolved, whatever the outcome).
        self.disputes = Window(spans.refunds)
        self.payees: set[str] = set()
        #: payee → (when, amount) of the last payment to it, oldest first, bounded.
        self.recent_payees: dict[str, tuple[int, int]] = {}


class Aggregates:
    """Every party's windows, and each sender-receiver pair's day count."""

    def __init__(self, spans: Spans) -> None:
        self.spans = spans
        self.parties: dict[str, PartyState] = {}
        self.pairs: dict[tuple[str, str], Window] = {}
        #: Per origin key (``origins``): the different wallets spending through it.
        self.wallets: dict[str, Wallets] = {}

    def distinct_wallets(self, origin: str, key: str, wallet: str, at: int) -> int:
        """How many different wallets spent through this origin within its window, with
        ``wallet`` spending now."""
        seen = self.wallets.get(key)
        if seen is None:
            return 1
        return seen.window.trim(at).count + (1 if seen.fresh(wallet, at) else 0)

    def party(self, ref: str) -> PartyState:
        state = self.parties.get(ref)
        if state is None:
            state = self.parties[ref] = PartyState(self.spans)
        return state

    def near_threshold(self, m: Movement) -> int | None:
        """The structuring threshold ``m`` sits just below, if any."""
        if m.kind not in self.spans.near_kinds:
            return None
        for threshold in self.spans.thresholds_minor:
            if m.amount_minor < threshold and m.amount_minor * 100 >= threshold * (
                100 - self.spans.band_percent
            ):
                return threshold
        return None

    def cash_total(self, party: str, at: int) -> int:
        """The party's cash so far on the Manila day of ``at``."""
        state = self.parties.get(party)
        if state is None or state.cash_day != manila_day(at):
            return 0
        return state.cash_total

    def pair_day(self, sender: str, receiver: str, now: int) -> int:
        window = self.pairs.get((sender, receiver))
        return 0 if window is None else window.trim(now).count

    def has_paid(self, sender: str, receiver: str) -> bool:
        state = self.parties.get(sender)
        return state is not None and receiver in state.payees

    def return_path(self, m: Movement, window: int, max_hops: int) -> tuple[int, int, str] | None:
        """Money from ``m.receiver`` that comes back to it with ``m``: ``(hops, first leg's
        amount, path)``, for a path of two or three wallets begun within ``window``."""
        origin = self.parties.get(m.receiver)
        if origin is None:
            return None
        oldest = m.at - window
        leg = origin.recent_payees.get(m.sender)
        if leg is not None and leg[0] > oldest:
            return 2, leg[1], f"{m.receiver}>{m.sender}>{m.receiver}"
        if max_hops < 3:
            return None
        for middle, (at, amount) in origin.recent_payees.items():
            if at <= oldest or middle == m.sender:
                continue
            hop = self.parties.get(middle)
            second = None if hop is None else hop.recent_payees.get(m.sender)
            if second is not None and second[0] >= at:
                return 3, amount, f"{m.receiver}>{middle}>{m.sender}>{m.receiver}"
        return None

    def record(self, m: Movement) -> None:
        """Add a movement that happened (allowed, or held for review)."""
        at, amount, kind = m.at, m.amount_minor, m.kind
        sender = self.party(m.sender)
        receiver = self.party(m.receiver)
        if kind not in SENDER_IS_INSTITUTION:
            sender.last_seen = at
        if kind not in RECEIVER_IS_INSTITUTION:
            receiver.last_seen = at
        if kind in SPENDING:
            self._spend(sender, m)
            for origin, key in origins(m):
                state = self.party(key)
                state.hour.add(at, amount)
                state.day.add(at, amount)
                self._count_wallet(origin, key, m.sender, at)
        if kind in FAN_IN and m.receiver not in sender.payees:
            receiver.fan_in.add(at, amount)
        if kind is not Kind.CASH_IN and kind is not Kind.BANK_IN:
            sender.payees.add(m.receiver)
        if kind is Kind.MERCHANT:
            receiver.sales.add(at, amount)
        if kind in CASH_KINDS:
            self._cash(self.party(m.cash_party), m)
        if self.near_threshold(m) is not None:
            near = self.party(m.cash_party if kind in CASH_KINDS else m.sender)
            near.near.add(at, amount)

    def _spend(self, sender: PartyState, m: Movement) -> None:
        at, amount = m.at, m.amount_minor
        sender.hour.add(at, amount)
        sender.day.add(at, amount)
        sender.month.add(at, amount)
        pair = self.pairs.get((m.sender, m.receiver))
        if pair is None:
            pair = self.pairs[(m.sender, m.receiver)] = Window(DAY)
        pair.add(at, amount)
        if m.kind in OUTFLOW_KINDS:
            sender.outflow.add(at, amount)
        if m.kind is Kind.REFUND:
            sender.refunds.add(at, amount)
        recent = sender.recent_payees
        recent.pop(m.receiver, None)
        recent[m.receiver] = (at, amount)
        if len(recent) > limits.RISK_MAX_RECENT_PAYEES:
            del recent[next(iter(recent))]

    def _count_wallet(self, origin: str, key: str, wallet: str, at: int) -> None:
        seen = self.wallets.get(key)
        if seen is None:
            seen = self.wallets[key] = Wallets(self.spans.wallets_span(origin))
        if seen.fresh(wallet, at):
            seen.counted[wallet] = at
            seen.window.add(at, 0)

    @staticmethod
    def _cash(state: PartyState, m: Movement) -> None:
        day = manila_day(m.at)
        if state.cash_day != day:
            state.cash_day, state.cash_total = day, 0
        state.cash_total += m.amount_minor
