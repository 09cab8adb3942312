"""Group commit survives ``kill -9`` of the process holding a group (issue 18), on PostgreSQL.

A child process runs a group of payments through its own ``Committer`` and stops at one of
the two moments that matter: with every member written but the group's COMMIT not sent, or
with the COMMIT done but no member answered yet. The test kills it there with SIGKILL, then
sends every request again with its key through a committer of its own, as a client retrying
after a lost connection would. Either way each payment is applied exactly once, the retry
answers with the payment (``replayed`` when the lost group had committed) and the ledger
verifies. The full drill under HTTP load is ``make drill-killnine`` (README).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.api.conftest import TEST_DATA_KEY
from tests.integration.test_group_commit import (
    FUNDED,
    Cast,
    _balances,
    _cast,
    _render,
    _render_refusal,
    _request,
)
from tindahan import limits
from tindahan.services.ledger import verify
from tindahan.services.platform import chart, groupcommit
from tindahan.services.unit import Platform
from tindahan.store.vault import Vault

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
START_NS = 1_700_000_000 * 10**9  # the tests' settable clock starts there (tests/conftest.py)
READY_TIMEOUT_S = 120
DRAWN = [
    ("pay", 0, ("m", 0), 10_000, 1),
    ("pay", 1, ("m", 0), 5_000, 2),
    ("pay", 2, ("m", 1), 2_500, 3),
]

#: The child: the same requests, one group, a stop (``READY`` on stdout) before or after the
#: group's COMMIT; the test kills it there.
CHILD = textwrap.dedent(
    """
    import base64, contextlib, json, sys, time
    from tests.api.conftest import TEST_DATA_KEY
    from tests.integration.test_group_commit import Cast, _render, _render_refusal, _request
    from tindahan.services.platform import groupcommit
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect
    from tindahan.store.vault import Vault

    url, when, (buyers, merchants, agent), drawn = json.loads(sys.argv[1])
    cast = Cast(buyers, merchants, agent, [], [])
    db = connect(url, clock=lambda: START_NS)
    platform = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))

    def stop():
        print("READY", flush=True)
        time.sleep(600)

    class Stopping(groupcommit.Committer):
        def _together(self, conn, group, later):
            decided = super()._together(conn, group, later)
            if when == "before_commit":
                stop()
            return decided

    real_begin = db.begin

    @contextlib.contextmanager
    def begin(**kwargs):
        with real_begin(**kwargs) as conn:
            yield conn
        if when == "after_commit":
            stop()

    db.begin = begin
    made = [
        groupcommit.Request(*_request(tuple(d), cast)[:4], _render, _render_refusal)
        for d in drawn
    ]
    Stopping(platform, 0, 8).run_group(made)
    """
).replace("START_NS", str(START_NS))


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _killed_in_its_group(url: str, when: str, cast: Cast) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    people = [cast.buyers, cast.merchants, cast.agent]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps([url, when, people, DRAWN])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the child stops in its group (or dies)
        if line.strip() != b"READY":
            child.kill()
            _, err = child.communicate(timeout=30)
            pytest.fail(f"the child never reached its group: {err.decode()[-2000:]}")
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(READY_TIMEOUT_S)
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()


@pytest.mark.parametrize(("when", "replayed"), [("before_commit", False), ("after_commit", True)])
def test_a_group_killed_mid_commit_is_decided_once_on_retry(platform, db, when, replayed):
    cast = _cast(platform, people_only=True)
    b0, b1, b2 = cast.buyers
    _killed_in_its_group(db.url.render_as_string(hide_password=False), when, cast)

    retried = [groupcommit.Request(*_request(d, cast)[:4], _render, _render_refusal) for d in DRAWN]
    groupcommit.Committer(platform, 0, limits.GROUP_COMMIT_MAX).run_group(retried)
    answers = [r.future.result() for r in retried]
    assert [(a.status_code, a.replayed) for a in answers] == [(200, replayed)] * len(DRAWN)
    assert len({a.body["id"] for a in answers}) == len(DRAWN)
    assert _balances(platform, [b0, b1, b2]) == [  # each payment applied once
        ("main", FUNDED - 10_000),
        ("payments", 2),  # its funding and its payment
        ("main", FUNDED - 5_000),
        ("payments", 2),  # its funding and its payment
        ("main", FUNDED - 2_500),
        ("payments", 2),  # its funding and its payment
    ]
    assert verify.verify(platform.db).ok
