"""Issue 17, item 3: signing in reveals nothing about which numbers have a login, and
cannot be used to lock their owners out; guessing is throttled per client, per number, per
PIN and site-wide. On SQLite and PostgreSQL (the burst on PostgreSQL is in
tests/logins/test_signin_concurrency.py).

The attacks, as found: an unknown number answered "wrong phone number or PIN" forever while
a registered one answered "too many tries" after five (and faster), so six requests told
whether a number was registered and locked its owner out; and one client could try forty
numbers in fifteen seconds. The work a try costs is compared by counting Argon2
verifications (never by timing)."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from tests.logins.conftest import PHONE, PIN, People
from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.services.platform import logins, throttles
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import parties
from tindahan.store.web_tables import audit_log
from tindahan.store.web_tables import logins as login_table

UNKNOWN = "+639189999999"
_pins = iter(range(100_000, 999_999, 7))


def wrong() -> str:
    """A different wrong PIN each time (one PIN tried again and again is a spray)."""
    return str(next(_pins))


class CountingHasher(PasswordHasher):
    """Argon2id at its cheapest, counting verifications: the work each answer cost."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch, people: People, platform: Platform) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(logins, "_hasher", counting)
    monkeypatch.setattr(logins, "_dummy_hash", lambda: counting.hash("not anyone's"))
    query = update(login_table).values(secret_hash=counting.hash(PIN))
    platform.run(lambda u: u.conn.execute(query))  # the login's PIN under the cheap hash
    return counting


def attempt(platform: Platform, phone: str, secret: str, client: str, device: str | None = None):
    """(code, message, retry_after) of a refused try; ("ok", session, device) of a good one."""
    try:
        made = logins.sign_in(platform, phone, secret, client, device)
    except logins.SignInThrottledError as throttled:
        return throttled.code, throttled.message, throttled.retry_after
    except RefusalError as refused:
        return refused.code, refused.message, None
    return "ok", made.session_secret, made.device_secret


def throttled_entries(platform: Platform) -> list[Any]:
    query = select(audit_log).where(audit_log.c.action == "login.throttled")
    return platform.run(lambda u: list(u.conn.execute(query).mappings()), write=False)


def test_known_and_unknown_numbers_answer_alike_in_every_state_for_the_same_work(
    platform: Platform, people: People, hasher: CountingHasher
) -> None:
    def run(phone: str, client: str) -> tuple[list[Any], int]:
        before = hasher.verified
        count = limits.SIGNIN_PAIR_TRIES + 2  # a different wrong PIN each: no spray here
        answers = [attempt(platform, phone, f"97{n:04d}", client) for n in range(count)]
        return answers, hasher.verified - before

    known, known_work = run(PHONE, "203.0.113.1")
    unknown, unknown_work = run(UNKNOWN, "203.0.113.2")
    assert known == unknown  # the same answers, in the same order, with the same waits
    assert known_work == unknown_work == limits.SIGNIN_PAIR_TRIES  # a hash for every check
    tries = limits.SIGNIN_PAIR_TRIES
    assert [a[0] for a in known] == ["signin_failed"] * tries + ["signin_locked"] * 2
    assert known[-1][2] == limits.SIGNIN_PAIR_FIRST_WAIT_S

    # A closed party's login answers as an unknown number does, after the same work.
    platform.run(
        lambda u: u.conn.execute(
            update(parties).where(parties.c.id == people.merchant).values(status="closed")
        )
    )
    before = hasher.verified
    assert (
        attempt(platform, PHONE, PIN, "203.0.113.3")[:2]
        == attempt(platform, UNKNOWN, PIN, "203.0.113.4")[:2]
        == ("signin_failed", "wrong phone number or PIN")
    )
    assert hasher.verified - before == 2


def test_one_client_waits_longer_each_time_and_a_right_pin_clears_its_waits(
    platform: Platform, people: People, hasher: CountingHasher, clock, monkeypatch
) -> None:
    lenient = throttles.Rule("number", 1000, 60, 60, 60, cleared_by_success=True)
    monkeypatch.setattr(throttles, "NUMBER", lenient)  # this test is about the pair's waits
    here = "203.0.113.10"
    waits = []
    for _round in range(4):
        for _ in range(limits.SIGNIN_PAIR_TRIES):
            assert attempt(platform, PHONE, wrong(), here)[0] == "signin_failed"
        code, _message, wait = attempt(platform, PHONE, wrong(), here)
        assert code == "signin_locked"
        checked = hasher.verified
        assert attempt(platform, PHONE, PIN, here)[0] == "signin_locked"  # not even checked
        assert hasher.verified == checked
        waits.append(wait)
        clock.advance(wait)
    first = limits.SIGNIN_PAIR_FIRST_WAIT_S
    assert waits == [first, 2 * first, 4 * first, 8 * first]
    assert attempt(platform, PHONE, PIN, here)[0] == "ok"
    for _ in range(limits.SIGNIN_PAIR_TRIES):
        attempt(platform, PHONE, wrong(), here)
    assert attempt(platform, PHONE, wrong(), here)[2] == first  # the waits started over


def test_a_stranger_cannot_lock_the_owner_out(
    platform: Platform, people: People, hasher: CountingHasher, clock
) -> None:
    owner = attempt(platform, PHONE, PIN, "198.51.100.1")  # the owner's phone, before
    assert owner[0] == "ok"
    device = owner[2]

    # A botnet: every address tries within its own limit, together past the number's.
    made = 0
    while made < limits.SIGNIN_NUMBER_TRIES:
        client = f"203.0.113.{100 + made // limits.SIGNIN_PAIR_TRIES}"
        assert attempt(platform, PHONE, f"97{made:04d}", client)[0] == "signin_failed"
        made += 1
    code, _message, wait = attempt(platform, PHONE, "111222", "203.0.113.250")
    assert (code, wait) == ("signin_locked", limits.SIGNIN_NUMBER_FIRST_WAIT_S)
    # The owner at a new browser waits like everyone (at most the longest wait)...
    assert attempt(platform, PHONE, PIN, "198.51.100.2")[0] == "signin_locked"
    # ...but from the browser they signed in from, the strangers' tries do not count.
    assert attempt(platform, PHONE, PIN, "198.51.100.3", device)[0] == "ok"
    [notice] = throttled_entries(platform)  # the notice to the owner
    assert notice["object_id"] == people.login
    assert json.loads(notice["details"]) == {"wait_seconds": limits.SIGNIN_NUMBER_FIRST_WAIT_S}


def test_the_numbers_waits_grow_but_never_past_the_longest(
    platform: Platform, people: People, hasher: CountingHasher, clock
) -> None:
    waits = []
    client = 0
    for _round in range(6):
        for _ in range(limits.SIGNIN_NUMBER_TRIES):
            attempt(platform, UNKNOWN, f"97{client:04d}", f"10.9.{client // 5}.{client % 5}")
            client += 1
        code, _message, wait = attempt(platform, UNKNOWN, "111222", "10.99.0.1")
        assert code == "signin_locked"
        waits.append(wait)
        clock.advance(wait)
    first, longest = limits.SIGNIN_NUMBER_FIRST_WAIT_S, limits.SIGNIN_NUMBER_LONGEST_WAIT_S
    assert waits == [min(longest, first * 2**n) for n in range(6)]
    assert max(waits) == longest
    assert throttled_entries(platform) == []  # no login: nobody to tell, and nothing told


def test_one_client_trying_many_numbers_waits_out_the_window(
    platform: Platform, people: People, hasher: CountingHasher, clock
) -> None:
    here = "203.0.113.77"
    for n in range(limits.SIGNIN_CLIENT_TRIES):
        assert attempt(platform, f"+63918{n:07d}", f"97{n:04d}", here)[0] == "signin_failed"
    code, _message, wait = attempt(platform, "+639180000999", "240817", here)
    assert (code, wait) == ("signin_locked", limits.SIGNIN_CLIENT_WINDOW_S)
    assert attempt(platform, PHONE, PIN, here)[0] == "signin_locked"
    assert attempt(platform, PHONE, PIN, "198.51.100.9")[0] == "ok"  # others are not slowed
    clock.advance(limits.SIGNIN_CLIENT_WINDOW_S)
    assert attempt(platform, PHONE, PIN, here)[0] == "ok"


def test_one_pin_sprayed_over_many_numbers_is_throttled(
    platform: Platform, people: People, hasher: CountingHasher
) -> None:
    for n in range(limits.SIGNIN_SECRET_TRIES):
        assert attempt(platform, f"+63918{n:07d}", "123987", f"10.1.0.{n}")[0] == "signin_failed"
    assert attempt(platform, "+639180000999", "123987", "10.2.0.1")[0] == "signin_locked"
    assert attempt(platform, "+639180000999", "555111", "10.2.0.1")[0] == "signin_failed"


def test_the_site_wide_ceiling(
    platform: Platform, people: People, hasher: CountingHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttles, "SITE", throttles.Rule("site", 3, 60))
    for n in range(3):
        assert (
            attempt(platform, f"+63918{n:07d}", f"97{n:04d}", f"10.3.0.{n}")[0] == "signin_failed"
        )
    assert attempt(platform, PHONE, PIN, "10.4.0.1")[:1] == ("signin_locked",)
