"""Wrong PINs sent at once, on real PostgreSQL: the login row is taken FOR UPDATE, so the
tries queue, each is counted, and exactly one lock-out results."""

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
from tindahan.store.web_tables import audit_log
from tindahan.store.web_tables import logins as login_table

pytestmark = pytest.mark.postgres
TRIES = 10


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


def test_ten_wrong_pins_at_once_lock_the_login_exactly_once(platform: Platform, people: People):
    barrier = threading.Barrier(TRIES)
    counts: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # the count, as other transactions see it, while the tries run
        query = select(login_table.c.failed_attempts).where(login_table.c.id == people.login)
        while not stop.is_set():
            counts.append(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))

    def one(_: int) -> str:
        barrier.wait()
        try:
            logins.sign_in(platform, PHONE, "975318")
        except RefusalError as refusal:
            return refusal.code
        return "signed in"

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(TRIES) as pool:
            codes = list(pool.map(one, range(TRIES)))
    finally:
        stop.set()
        watcher.join()
    failed, locked = codes.count("signin_failed"), codes.count("signin_locked")
    assert (failed, locked) == (limits.SIGNIN_MAX_FAILURES, TRIES - limits.SIGNIN_MAX_FAILURES)
    assert counts and max(counts) < limits.SIGNIN_MAX_FAILURES
    query = select(audit_log).where(audit_log.c.action == "login.locked")
    assert len(platform.run(lambda u: list(u.conn.execute(query)), write=False)) == 1
    with pytest.raises(RefusalError) as caught:
        logins.sign_in(platform, PHONE, PIN)
    assert caught.value.code == "signin_locked"
