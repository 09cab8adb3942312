"""Wrong PINs sent at once, on real PostgreSQL: every try is counted before its PIN is
checked, in a short transaction of its own, so a burst cannot slip more guesses past the
limit than the limit allows, and exactly one wait results."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tests.logins.conftest import PHONE, PIN, People
from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.services.platform import logins
from tindahan.services.unit import Platform
from tindahan.store.web_tables import signin_throttles

pytestmark = pytest.mark.postgres
TRIES = 12


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


def test_a_burst_of_wrong_pins_gets_exactly_the_allowed_guesses(platform: Platform, people: People):
    barrier = threading.Barrier(TRIES)

    def one(_: int) -> str:
        barrier.wait()
        try:
            logins.sign_in(platform, PHONE, "975318", "203.0.113.9")
        except RefusalError as refusal:
            return refusal.code
        return "signed in"

    with ThreadPoolExecutor(TRIES) as pool:
        codes = list(pool.map(one, range(TRIES)))
    checked, throttled = codes.count("signin_failed"), codes.count("signin_locked")
    assert (checked, throttled) == (limits.SIGNIN_PAIR_TRIES, TRIES - limits.SIGNIN_PAIR_TRIES)
    query = select(signin_throttles.c.key, signin_throttles.c.strikes)
    rows = dict(platform.run(lambda u: list(u.conn.execute(query)), write=False))
    pairs = [strikes for key, strikes in rows.items() if key.startswith("pair:")]
    assert pairs == [1]  # one wait started, not several
    with pytest.raises(RefusalError) as caught:  # even the right PIN waits, from there
        logins.sign_in(platform, PHONE, PIN, "203.0.113.9")
    assert caught.value.code == "signin_locked"
    assert logins.sign_in(platform, PHONE, PIN, "198.51.100.7").viewer.login_id == people.login
