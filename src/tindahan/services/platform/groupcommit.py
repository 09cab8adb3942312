"""Group commit: concurrent money movements of one server process share one transaction.

Why: a merchant payment alone pays its own ``BEGIN``, its own ``COMMIT`` and the fsync behind
it, a connection checkout, and (on SQLite, one writer by nature) the write lock for all of
that; on a busy merchant every payment also queues for the settlement account's row lock
until the commit before it is on disk. Gathered, a group of payments pays those once.

Where it sits (DESIGN.md's layers): a service, below the faces. ``api.deps.idempotent``
hands a POST whose route opts in (``grouped=True``: merchant and P2P payments) to the
process's ``Committer`` instead of ``idempotency.run``; nothing else changes, and with
``TINDAHAN_GROUP_COMMIT=off`` (the default outside ``tindahan serve``) nothing is grouped.

What it does: one committer thread per process takes the first request waiting, then what
arrives within ``window_us`` more (until ``limit``), and runs them in ONE transaction, each
request exactly as ``idempotency.run`` would run it alone (the key looked up, the use case,
the response stored under the key) but inside its own SAVEPOINT:

* a refusal by a rule (insufficient funds, a limit, a frozen wallet, a closed order…) rolls
  back that request's savepoint only; its refusal is stored under its key (and the risk
  gate's ``aftermath``, if any, kept) in another savepoint, and its batch-mates go on;
* the group then commits once (one fsync); only after the commit does any request get its
  answer, and only then run its ``after_commit`` steps;
* a failure of the group as a whole (deadlock, serialization failure, lock timeout, a lost
  connection, a failed COMMIT) rolls back or loses the whole transaction: every member is
  then run again ALONE through ``idempotency.run``, the unbatched path with its own retries.
  Since each member's idempotency record was in the same transaction as its money, a
  member whose group did commit after all (a connection lost after the COMMIT reached the
  server) finds its stored response and moves nothing twice: each is decided exactly once.
* a member whose key insert collides with a twin outside the group (a unique violation in
  its savepoint) is also run alone after the group, and so answers what the twin answered.

Locks. A group holds every member's row locks until its one COMMIT, so two groups taking
the same rows in opposite orders would deadlock. So on PostgreSQL a group first locks, in
ONE statement and in ascending id order (the order the ledger itself locks in), every
ledger account its members declared (``Locks``: their parties' wallets and named accounts,
such as a merchant payment's fee shard); the members then find those rows already theirs.
Two processes' groups on disjoint accounts run side by side; on shared accounts the later
one waits at its first statement, holding nothing, so groups never deadlock among
themselves. An account a member locks without having declared it (a loan set-aside's, a
risk hold's) is locked then, out of that order: a deadlock stays possible there (and
against an ungrouped transaction); PostgreSQL's detector or ``lock_timeout`` ends it, and
the group is rerun member by member as above. SQLite has a single writer anyway.

Hot accounts: in a group every payment to a merchant takes the merchant's settlement row
once for the whole group, so a rush of buyers to one merchant no longer queues payment
behind payment, each waiting for the last one's fsync. On PostgreSQL the members' balance
changes to the accounts locked first are kept and summed (``ledger.transfers.GroupBalances``)
and written in one UPDATE before the COMMIT: one row version a group for a hot account, not
one a payment. The balance checks are unchanged, made per member on the locked rows plus
what the earlier members kept.

Tuning: ``TINDAHAN_GROUP_COMMIT_WINDOW_US`` (µs; default ``limits.GROUP_COMMIT_WINDOW_US``) is
how long the committer waits for more once one request is there: longer groups more under
light load and adds up to that much latency; under load the window hardly matters, since
requests gather while the previous group commits. ``TINDAHAN_GROUP_COMMIT_MAX`` bounds a
group (``limits.GROUP_COMMIT_MAX``): the locks of the whole group are held until its commit.
"""

from __future__ import annotations

import contextvars
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.observe.metrics import metrics
from tindahan.services.ledger.transfers import GROUP_BALANCES, GroupBalances
from tindahan.services.platform import groupwrite, idempotency
from tindahan.services.platform.idempotency import Response
from tindahan.services.unit import Platform, Unit
from tindahan.store import deferred, hotpath
from tindahan.store.database import is_duplicate

log = logging.getLogger(__name__)

ENV = "TINDAHAN_GROUP_COMMIT"
WINDOW_ENV = "TINDAHAN_GROUP_COMMIT_WINDOW_US"
MAX_ENV = "TINDAHAN_GROUP_COMMIT_MAX"
#: How long an idle committer thread waits before it ends (a new request starts another).
IDLE_S = 5.0


class GroupCommitSettingError(ValueError):
    """A group-commit setting in the environment that cannot be used."""


@dataclass(frozen=True)
class Settings:
    enabled: bool
    window_us: int = limits.GROUP_COMMIT_WINDOW_US
    limit: int = limits.GROUP_COMMIT_MAX


def settings(
    environ: dict[str, str] | None = None, *, default: str = "off", sqlite: bool = False
) -> Settings:
    """From ``TINDAHAN_GROUP_COMMIT`` (``on``, ``off`` or ``auto``: on for SQLite only, where
    it measured faster; see README), ``…_WINDOW_US`` and ``…_MAX``; a bad value is refused
    with the setting named, never guessed at."""
    env = dict(os.environ if environ is None else environ)
    switch = (env.get(ENV) or default).strip().lower()
    if switch not in ("on", "off", "auto"):
        raise GroupCommitSettingError(f"{ENV} is 'on', 'off' or 'auto', not {switch!r}")
    if switch == "auto":
        switch = "on" if sqlite else "off"
    window_us = _number(env, WINDOW_ENV, limits.GROUP_COMMIT_WINDOW_US)
    if not 0 <= window_us <= limits.GROUP_COMMIT_WINDOW_MAX_US:
        raise GroupCommitSettingError(
            f"{WINDOW_ENV} is 0 to {limits.GROUP_COMMIT_WINDOW_MAX_US} µs, not {window_us}"
        )
    limit = _number(env, MAX_ENV, limits.GROUP_COMMIT_MAX)
    if not 1 <= limit <= limits.GROUP_COMMIT_MAX_BOUND:
        raise GroupCommitSettingError(
            f"{MAX_ENV} is 1 to {limits.GROUP_COMMIT_MAX_BOUND}, not {limit}"
        )
    return Settings(switch == "on", window_us, limit)


def _number(env: dict[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise GroupCommitSettingError(f"{name} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True)
class Locks:
    """What a member will lock, declared up front so its group can lock it first, in order:
    the ``orders`` and ``payments`` rows named (a refund locks its payment, an order's
    payment its order) and every wallet of the parties on them, every wallet of
    ``parties``, and the ledger ``accounts`` named."""

    parties: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    payments: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()
    #: Its rows may wait for the group's end (``store.deferred``): it reads back nothing it
    #: or an earlier member wrote but its key's record (a merchant or P2P payment).
    batched: bool = False


@dataclass
class Request:
    """One idempotent request waiting for its group: what ``idempotency.run`` takes."""

    scope: str
    key: str
    fingerprint: str
    work: Callable[[Unit], Any]
    render: Callable[[Any], Response]
    render_refusal: Callable[[RefusalError], Response]
    #: What it will lock (``Locks``); None: nothing declared, it locks as it goes.
    locks: Locks | None = None
    future: Future[Response] = field(default_factory=Future)
    #: The request thread's context (its language, its log and trace fields): the work
    #: runs in it on the committer's thread, as it would have run on the request's own.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    def alone(self, platform: Platform) -> None:
        """The unbatched path, with its own retries: the answer this request gets."""
        try:
            self.future.set_result(
                self.context.run(
                    idempotency.run,
                    platform,
                    self.scope,
                    self.key,
                    self.fingerprint,
                    self.work,
                    self.render,
                    self.render_refusal,
                )
            )
        except BaseException as exc:  # the caller's thread raises it, as alone it would
            self.future.set_exception(exc)


@dataclass
class _Decided:
    request: Request
    outcome: Response | BaseException
    after_commit: list[Callable[[], None]]


class Committer:
    """The process's committer: ``submit`` blocks until the request's group committed."""

    def __init__(self, platform: Platform, window_us: int, limit: int) -> None:
        self.platform = platform
        self.window_us = window_us
        self.limit = limit
        self._queue: queue.SimpleQueue[Request] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: Groups committed, members in them, and groups rerun member by member.
        self.groups = 0
        self.members = 0
        self.split = 0

    def submit(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        work: Callable[[Unit], Any],
        render: Callable[[Any], Response],
        render_refusal: Callable[[RefusalError], Response],
        locks: Locks | None = None,
    ) -> Response:
        """Like ``idempotency.run``: the response, or the key's own refusal raised."""
        idempotency.check_key(key)
        request = Request(scope, key, fingerprint, work, render, render_refusal, locks)
        with self._lock:
            self._queue.put(request)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="tindahan-group-commit", daemon=True
                )
                self._thread.start()
        return request.future.result()

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            group = self._gather(first)
            try:
                self.run_group(group)
            except BaseException as exc:  # never leave a caller waiting for ever
                log.exception("group commit failed outside a transaction")
                for request in group:
                    if not request.future.done():
                        request.future.set_exception(exc)

    def _gather(self, first: Request) -> list[Request]:
        group = [first]
        deadline_ns = time.monotonic_ns() + self.window_us * 1000
        while len(group) < self.limit:
            try:
                group.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining_ns = deadline_ns - time.monotonic_ns()
            if remaining_ns <= 0:
                break
            try:
                group.append(self._queue.get(timeout=remaining_ns / 1e9))
            except queue.Empty:
                break
        return group

    def run_group(self, group: list[Request]) -> None:
        """Decide every member of ``group``: together in one transaction if it commits,
        else each alone. Each future gets its answer only once its money is committed."""
        later: list[Request] = []
        try:
            with self.platform.db.begin() as conn:
                decided = self._together(conn, group, later)
        except Exception:
            log.warning("a group of %d failed as a whole; run one by one", len(group))
            self.split += 1
            metrics().group_commits.labels("split").observe(len(group))
            for request in group:
                request.alone(self.platform)
            return
        self.groups += 1
        self.members += len(decided)
        metrics().group_commits.labels("together").observe(len(decided))
        for done in decided:
            try:
                for step in done.after_commit:
                    done.request.context.run(step)
            except Exception as exc:  # as ``Platform.run`` raises it to the caller
                done.request.future.set_exception(exc)
                continue
            if isinstance(done.outcome, BaseException):
                done.request.future.set_exception(done.outcome)
            else:
                done.request.future.set_result(done.outcome)
        for request in later:
            request.alone(self.platform)

    def _together(
        self, conn: Connection, group: list[Request], later: list[Request]
    ) -> list[_Decided]:
        balances = None
        if not self.platform.db.is_sqlite:
            balances = lock_first(conn, [r.locks for r in group if r.locks is not None])
            conn.info[GROUP_BALANCES] = balances
        rows = _deferred(conn, group) if balances is not None else None
        try:
            decided: list[_Decided] = []
            for request in group:
                batched = rows is not None and _batched(request)
                if rows is not None and not batched:  # it may read them: written first
                    groupwrite.write(self.platform, conn, rows)
                    rows.looked_up = {}  # it may store a key: the table is asked again
                if batched:
                    conn.info[deferred.KEY] = rows
                try:
                    found = request.context.run(self._member, conn, request)
                finally:
                    conn.info.pop(deferred.KEY, None)
                if found is None:
                    later.append(request)  # a twin outside the group: alone, after it
                else:
                    decided.append(found)
            if rows is not None:  # the members' rows, one statement a table
                groupwrite.write(self.platform, conn, rows)
            if balances is not None:  # the summed changes, in one update, before COMMIT
                hotpath.add_balances(conn, balances.kept)
        finally:
            conn.info.pop(GROUP_BALANCES, None)  # the connection goes back to the pool
        return decided

    def _member(self, conn: Connection, request: Request) -> _Decided | None:
        """One request in its own savepoint: its answer, or None to run it alone later."""
        unit = Unit(self.platform, conn)
        try:
            with _kept_if_released(conn), conn.begin_nested():
                response = idempotency.attempt(
                    unit,
                    request.scope,
                    request.key,
                    request.fingerprint,
                    request.work,
                    request.render,
                )
        except RefusalError as refusal:
            return self._refused(conn, request, refusal)
        except IntegrityError as exc:
            if not is_duplicate(exc):
                raise
            return None
        except DBAPIError:
            raise  # the connection or the transaction: the group as a whole
        except Exception as exc:  # a bug in one use case fails that request only
            return _Decided(request, exc, [])
        return _Decided(request, response, list(unit.after_commit))

    def _refused(self, conn: Connection, request: Request, refusal: RefusalError) -> _Decided:
        """As ``Platform.run`` and ``idempotency.run`` do after a refusal, in a savepoint:
        the aftermath kept, the refusal stored under the key."""
        if refusal.category is Category.IDEMPOTENCY:
            return _Decided(request, refusal, [])
        aftermath, refusal.aftermath = refusal.aftermath, None
        response = request.render_refusal(refusal)
        with _kept_if_released(conn), conn.begin_nested():
            if aftermath is not None:
                aftermath(Unit(self.platform, conn))
            stored = idempotency.store_refusal(
                Unit(self.platform, conn),
                request.scope,
                request.key,
                request.fingerprint,
                response,
            )
        return _Decided(request, stored, [])


def _batched(request: Request) -> bool:
    return request.locks is not None and request.locks.batched


def _deferred(conn: Connection, group: list[Request]) -> deferred.Deferred | None:
    """Where the group's batching members leave their rows, with their keys' records read
    in one statement; None when no member batches."""
    wanted = [(r.scope, r.key) for r in group if _batched(r)]
    if not wanted:
        return None
    rows = deferred.Deferred()
    rows.looked_up = idempotency.look_up_many(conn, wanted)
    return rows


def lock_first(conn: Connection, declared: list[Locks]) -> GroupBalances:
    """Lock what the group's members declared: their orders' rows, then their payments'
    (each ascending; the order every ungrouped use case takes its own row in, before any
    account), then every account, in one statement, ascending — the declared parties'
    wallets and those of the parties on the rows just locked. The accounts' rows read, for
    the members' balance changes to them to be summed (``GroupBalances``)."""
    if not declared:
        return GroupBalances({})
    orders = sorted({o for locks in declared for o in locks.orders})
    payments = sorted({p for locks in declared for p in locks.payments})
    on_rows = hotpath.lock_rows_of(conn, orders, payments) if orders or payments else set()
    parties = sorted({p for locks in declared for p in locks.parties} | on_rows)
    accounts = sorted({a for locks in declared for a in locks.accounts})
    return GroupBalances(hotpath.lock_wallets_and_accounts(conn, parties, accounts))


@contextmanager
def _kept_if_released(conn: Connection) -> Iterator[None]:
    """A member's balance changes to the group's accounts, and the rows it left for the
    group's write, count once its savepoint is released, and are forgotten if it is rolled
    back."""
    balances: GroupBalances | None = conn.info.get(GROUP_BALANCES)
    rows = deferred.of(conn)
    try:
        yield
    except BaseException:
        if balances is not None:
            balances.drop()
        if rows is not None:
            rows.drop()
        raise
    if balances is not None:
        balances.keep()
    if rows is not None:
        rows.keep()


def from_environment(platform: Platform, *, default: str = "off") -> Committer | None:
    """The process's committer, or None when group commit is off. The database is asked
    whether it is SQLite only when ``auto`` needs it, so an app built without a platform
    (the OpenAPI document's) starts with group commit off."""
    auto = (os.environ.get(ENV) or default).strip().lower() == "auto"
    found = settings(default=default, sqlite=auto and platform.db.is_sqlite)
    if not found.enabled:
        return None
    return Committer(platform, found.window_us, found.limit)
