"""Sign-in throttles: guessing PINs is slow for a stranger, and cannot lock the owner out.

The attack this answers (issue 17): a registered number was locked after five wrong tries
while an unknown one never was, so six requests told whether a number had a login *and*
locked its owner out for a quarter hour, at will; and nothing limited a client trying forty
numbers in fifteen seconds. Now every try is counted, before its PIN is checked, in five
scopes at once, the same way whether the number has a login or not:

========== ============================================ ===================================
scope      what it stops                                when its limit is reached
========== ============================================ ===================================
``pair``   one client guessing one number               that client waits, 1 min doubling
                                                        to 1 h (no one else is slowed)
``number`` many clients (a botnet) guessing one number  everyone but the owner's known
                                                        browsers waits, 1 min doubling to
                                                        15 min; the owner gets a notice
``client`` one address trying many numbers              that address waits out the window
``secret`` one PIN sprayed over many numbers            that PIN waits out the window
``site``   everything at once, from everywhere          all sign-ins wait out the minute
========== ============================================ ===================================

A *client* is the browser's owner cookie when it has one for this number, else the address
the request came from. A try is counted first (so a burst of parallel tries cannot slip
past a limit while their PINs are being checked) and given back when the PIN is right: in
effect only wrong tries count, and a right one also clears the number's growing waits.

Why the owner cannot be locked out: a stranger's wrong tries fill only his own ``pair``
and ``client`` buckets, and the ``number`` bucket, which does not apply to a browser the
owner has signed in from before (``signin_devices``). On a new browser the owner waits at
most ``limits.SIGNIN_NUMBER_LONGEST_WAIT_S`` while an attack goes on. A throttled answer is
the same ``429`` with ``Retry-After`` for a number with a login and one without.

Counters are keyed by keyed hashes (the vault's blind index) of the address, the number and
the PIN: the database never holds them in clear. Rows are locked in one order (by key) and
only for the short transaction that counts, never while Argon2 runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from tindahan import limits
from tindahan.services.unit import Unit
from tindahan.store.web_tables import signin_throttles

_SECOND = 10**9


@dataclass(frozen=True)
class Rule:
    scope: str
    tries: int  # counted tries allowed per window
    window_s: int
    first_wait_s: int = 0  # 0: wait until the window ends; else the first of growing waits
    longest_wait_s: int = 0
    cleared_by_success: bool = False  # a right PIN clears the count and the growing waits


PAIR = Rule(
    "pair",
    limits.SIGNIN_PAIR_TRIES,
    limits.SIGNIN_PAIR_WINDOW_S,
    limits.SIGNIN_PAIR_FIRST_WAIT_S,
    limits.SIGNIN_PAIR_LONGEST_WAIT_S,
    cleared_by_success=True,
)
NUMBER = Rule(
    "number",
    limits.SIGNIN_NUMBER_TRIES,
    limits.SIGNIN_NUMBER_WINDOW_S,
    limits.SIGNIN_NUMBER_FIRST_WAIT_S,
    limits.SIGNIN_NUMBER_LONGEST_WAIT_S,
    cleared_by_success=True,
)
CLIENT = Rule("client", limits.SIGNIN_CLIENT_TRIES, limits.SIGNIN_CLIENT_WINDOW_S)
SECRET = Rule("secret", limits.SIGNIN_SECRET_TRIES, limits.SIGNIN_SECRET_WINDOW_S)
SITE = Rule("site", limits.SIGNIN_SITE_TRIES, limits.SIGNIN_SITE_WINDOW_S)


@dataclass(frozen=True)
class Bucket:
    rule: Rule
    key: str


@dataclass(frozen=True)
class Taken:
    wait_s: int  # 0: go ahead; else seconds until a try may be made again
    started: tuple[str, ...] = ()  # scopes whose wait began with this try


def _row(unit: Unit, key: str, now: int) -> dict[str, Any]:
    query = select(signin_throttles).where(signin_throttles.c.key == key).with_for_update()
    found = unit.conn.execute(query).mappings().first()
    if found is not None:
        return dict(found)
    fresh: dict[str, Any] = {
        "key": key,
        "window_start_ns": now,
        "tries": 0,
        "blocked_until_ns": 0,
        "strikes": 0,
        "updated_at_ns": now,
    }
    # Two first tries at once: the loser's INSERT is a duplicate, and the unit of work
    # runs again from the start, finding the winner's row.
    unit.conn.execute(insert(signin_throttles).values(**fresh))
    return fresh


def _seconds(ns: int) -> int:
    return max(1, -(-ns // _SECOND))


def take(unit: Unit, buckets: Sequence[Bucket]) -> Taken:
    """Count one try in every bucket, or refuse it (counting nothing) if one is waiting."""
    now = unit.now()
    ordered = sorted(buckets, key=lambda b: b.key)  # one locking order: no deadlocks
    rows = [_row(unit, b.key, now) for b in ordered]
    waiting = [r["blocked_until_ns"] - now for r in rows if r["blocked_until_ns"] > now]
    if waiting:
        return Taken(_seconds(max(waiting)))
    wait_ns, started = 0, []
    for bucket, row in zip(ordered, rows, strict=True):
        rule = bucket.rule
        changes = _counted(rule, row, now)
        if changes["tries"] > rule.tries:
            until = _wait_until(rule, changes, now)
            changes.update(tries=0, blocked_until_ns=until, strikes=changes["strikes"] + 1)
            wait_ns = max(wait_ns, until - now)
            started.append(rule.scope)
        unit.conn.execute(
            update(signin_throttles).where(signin_throttles.c.key == bucket.key).values(**changes)
        )
    return Taken(_seconds(wait_ns) if wait_ns else 0, tuple(started))


def _counted(rule: Rule, row: dict[str, Any], now: int) -> dict[str, int]:
    window_start, tries, strikes = row["window_start_ns"], row["tries"], row["strikes"]
    if now - row["updated_at_ns"] >= limits.SIGNIN_STRIKES_FORGET_S * _SECOND:
        strikes = 0
    if now >= window_start + rule.window_s * _SECOND:
        window_start, tries = now, 0
    return {
        "window_start_ns": window_start,
        "tries": tries + 1,
        "blocked_until_ns": 0,
        "strikes": strikes,
        "updated_at_ns": now,
    }


def _wait_until(rule: Rule, row: dict[str, int], now: int) -> int:
    if not rule.first_wait_s:
        return row["window_start_ns"] + rule.window_s * _SECOND
    growth: int = 2 ** min(row["strikes"], 20)
    return now + min(rule.longest_wait_s, rule.first_wait_s * growth) * _SECOND


def give_back(unit: Unit, buckets: Sequence[Bucket]) -> None:
    """The PIN was right: the try no longer counts, and the number's waits start over."""
    for bucket in sorted(buckets, key=lambda b: b.key):
        where = signin_throttles.c.key == bucket.key
        if bucket.rule.cleared_by_success:
            unit.conn.execute(delete(signin_throttles).where(where))
        else:
            tries = signin_throttles.c.tries
            unit.conn.execute(
                update(signin_throttles).where(where, tries > 0).values(tries=tries - 1)
            )


def forget_all(unit: Unit) -> int:
    """Every counter (the data key changed, so their keys match nothing any more)."""
    return int(unit.conn.execute(delete(signin_throttles)).rowcount)


def purge(unit: Unit) -> int:
    """Counters untouched for a day (their windows and waits are long over)."""
    before = unit.now() - limits.SIGNIN_STRIKES_FORGET_S * _SECOND
    stale = delete(signin_throttles).where(signin_throttles.c.updated_at_ns < before)
    return int(unit.conn.execute(stale).rowcount)
