"""Background jobs, one round at a time: expire holds and unconfirmed cash-outs, cancel
unpaid orders and release escrow of delivered ones, run the loans' daily close, pay out the
merchants whose automatic daily payout is due, send bank transfers and apply the clearing
switch's answers (when ``TINDAHAN_RAILS_SWITCH_URL`` is set), seal the ledger, deliver
webhooks and SMS, forget stale idempotency keys and sign-in counters. With
``TINDAHAN_NATS_URL`` set, events also go to NATS JetStream and webhooks are delivered from
its durable consumer (``worker.stream``).

``tindahan worker`` runs rounds until stopped; ``tindahan serve`` runs the same loop in a
thread beside the HTTP server. Every job is safe to run in several processes at once
(deliveries are claimed with ``SKIP LOCKED`` leases; expiry and sealing are idempotent).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tindahan import limits
from tindahan.anchor.sinks import AnchorError
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.observe.metrics import metrics
from tindahan.rails.port import RailPort
from tindahan.services.commerce import jobs as order_jobs
from tindahan.services.ledger.anchoring import anchor_sealed
from tindahan.services.ledger.seal import seal
from tindahan.services.ledger.transfers import expire_pending
from tindahan.services.lending import close as loan_close
from tindahan.services.lending import operator_cluster
from tindahan.services.payments import (
    cash,
    loan_cluster,  # noqa: F401 (registers the loan record recovery finishes)
    recovery_cluster,  # noqa: F401 (registers the loan recovery record recovery finishes)
    refunds,
    repayment_cluster,  # noqa: F401 (registers the loan repayment record recovery finishes)
    requests,  # noqa: F401 (registers a payment request's follower recovery runs)
    two_store,
)
from tindahan.services.payouts import daily as daily_payouts
from tindahan.services.platform import (
    health,
    idempotency,
    keys,
    retention,
    throttles,
    webhooks,
)
from tindahan.services.platform import sms as outbox
from tindahan.services.rails import cluster as rails_cluster
from tindahan.services.rails import inbound as rails_inbound
from tindahan.services.rails import recall_cluster
from tindahan.services.unit import Platform
from tindahan.services.ussd import sessions as ussd_sessions
from tindahan.sms.port import SmsProvider
from tindahan.worker import rails
from tindahan.worker import sms as sms_providers
from tindahan.worker import stream as event_stream

log = logging.getLogger("tindahan.worker")


@dataclass(frozen=True)
class Tick:
    sealed: int
    expired: int
    cash_outs_failed: int = 0
    orders_expired: int = 0
    orders_released: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    loan_days_closed: int = 0
    payouts: int = 0
    bank_transfers: int = 0
    sms_sent: int = 0
    sms_failures: int = 0
    events_published: int = 0
    #: Payments on a TigerBeetle ledger that recovery finished (``payments.two_store``).
    payments_recovered: int = 0
    orders_late: int = 0
    #: The TigerBeetle cluster did not answer this round (its probe or a job on it gave up
    #: after ``limits.LEDGER_WORKER_TIMEOUT_MS``): the round counts as failed in
    #: ``/metrics`` and its beat tells ``/ready`` since when (``health.beat``).
    ledger_unreachable: bool = False


def tick(
    platform: Platform,
    send: webhooks.Sender | None = None,
    rail: RailPort | None = None,
    sms_provider: SmsProvider | None = None,
    stream: event_stream.EventStream | None = None,
) -> Tick:
    """One round of every job. Expiry first, so its voids are sealed in the same round."""
    # a crash's unfinished movements first (every record registered: ``rails_cluster``'s
    # bank transfers, ``rails_inbound``'s credits, ``refunds``', the orders' jobs'
    # (``escrow_cluster``) and the daily payout's module import theirs)
    assert rails_cluster.RECORD in two_store.RECORDS and rails_inbound.RECORD in two_store.RECORDS
    assert refunds.RECORD in two_store.RECORDS and recall_cluster.RECORD in two_store.RECORDS
    silent: list[str] = []  # the cluster's silence, once the probe or a job met it
    _probe(platform, silent)
    recovered = _on_cluster(two_store.recover, platform, silent)
    # restructures, write-offs
    recovered += _on_cluster(operator_cluster.recover, platform, silent)
    failed = _on_cluster(cash.expire_cash_outs, platform, silent)
    orders_expired = order_jobs.expire_orders(platform)
    released = order_jobs.release_orders(platform)
    late = order_jobs.flag_late_orders(platform)  # past their delivery window: tell both
    loan_days = loan_close.close_due(platform)  # the nightly close of every ended day
    paid_out = daily_payouts.run_due(platform)  # after the close: a loan's dues come first
    moved = rails.rails_round(platform, rail) if rail is not None else 0
    expired = expire_pending(platform.db)
    report = seal(platform.db)
    _anchor(platform)
    delivered = failures = published = 0
    if stream is not None:
        published, delivered, failures = _stream_round(platform, stream, send)
    if send is not None:
        grace = limits.NATS_SWEEP_GRACE_S if stream is not None else 0
        swept, sweep_failures = webhooks.deliver_due(platform, send, due_before_s=grace)
        delivered, failures = delivered + swept, failures + sweep_failures
    texted = text_failures = 0
    if sms_provider is not None:
        texted, text_failures = outbox.deliver_due(platform, sms_provider)
    idempotency.purge(platform)
    platform.run(throttles.purge)  # sign-in counters a day old
    ussd_sessions.purge(platform)  # USSD sessions a day old (their resends are long over)
    return Tick(
        report.transfers,
        expired,
        failed,
        orders_expired,
        released,
        delivered,
        failures,
        loan_days,
        paid_out.paid + paid_out.failed,
        moved,
        texted,
        text_failures,
        published,
        recovered,
        late,
        ledger_unreachable=bool(silent),
    )


#: What the worker asks the cluster at the start of each round (any name: an account the
#: cluster does not hold answers empty, which is an answer).
PROBE_ACCOUNT = "op.bank.PHP"


def _probe(platform: Platform, silent: list[str]) -> None:
    """Ask the cluster once, so that a quiet deployment's worker (nothing to recover or
    expire, so no job asks) still notices a silent cluster; the silence goes in ``silent``."""
    if platform.ledger is None:
        return
    try:
        platform.ledger.lookup_accounts([PROBE_ACCOUNT])
    except LedgerUnavailableError as exc:
        silent.append(str(exc))


def _on_cluster(job: Callable[[Platform], int], platform: Platform, silent: list[str]) -> int:
    """A job that talks to the TigerBeetle cluster. The worker opens it with a bound
    (``limits.LEDGER_WORKER_TIMEOUT_MS``): a cluster that does not answer within it is logged
    as an error and the round goes on with the jobs that need only the database; what the
    job left unfinished stays so in the database, and the next round tries again (every
    cluster write has a derived id, so a request the client still sends later is harmless).
    Once the probe or a job met silence (``silent``), the round's later jobs on the cluster
    wait for the next round at once rather than each waiting out the bound."""
    if silent:
        log.error("ledger cluster: %s; %s waits for the next round", silent[0], job.__name__)
        return 0
    try:
        return job(platform)
    except LedgerUnavailableError as exc:
        log.error("ledger cluster: %s; %s waits for the next round", exc, job.__name__)
        silent.append(str(exc))
        return 0


def _stream_round(
    platform: Platform, stream: event_stream.EventStream, send: webhooks.Sender | None
) -> tuple[int, int, int]:
    """The NATS relay, then the webhook consumer: (published, delivered, failed). NATS not
    answering is logged and the other jobs go on; the events wait in the outbox."""
    try:
        published = event_stream.relay_round(platform, stream)
        if send is None:
            return published, 0, 0
        delivered, failed = event_stream.deliver_round(platform, stream, send)
    except event_stream.StreamError as exc:
        log.error("events stream: %s", exc)
        return 0, 0, 0
    return published, delivered, failed


def _anchor(platform: Platform) -> int:
    """Sign the new blocks into the anchor. A refusal (the chain no longer extends what was
    signed, the anchor unreachable) is logged as an error every round, and the other jobs
    go on: payments must not stop because the anchor did."""
    if platform.anchor is None or platform.anchor.key is None:
        return 0
    try:
        return anchor_sealed(platform.db, platform.anchor).anchored
    except AnchorError as exc:
        log.error("anchoring refused: %s", exc)
        return 0


def webhook_client() -> httpx.Client:
    """The client webhooks go out through: short timeouts, no redirects, and no proxy from
    the environment (a proxy would look the name up again, undoing the address check)."""
    timeout = httpx.Timeout(limits.WEBHOOK_TIMEOUT_S, connect=limits.WEBHOOK_CONNECT_TIMEOUT_S)
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)


def run(
    platform: Platform, stop: threading.Event, on_tick: Callable[[Tick], None] | None = None
) -> None:
    """Run rounds until ``stop`` is set; a failing round is logged and the next one runs."""
    with webhook_client() as client:
        send = webhooks.http_sender(client)
        rail = rails.from_environment()  # the clearing switch, when one is configured
        texts = sms_providers.from_environment(keys.environment_of(platform))
        stream = event_stream.from_environment()  # events on NATS, when configured
        name, started = health.worker_name(), platform.now()
        next_purge = time.monotonic()
        while not stop.is_set():
            if time.monotonic() >= next_purge:
                _purge(platform)
                next_purge = time.monotonic() + limits.RETENTION_INTERVAL_S
            ok, down = True, None  # down: the cluster's state, unknown if the round failed
            started_round = time.perf_counter()
            try:
                result = tick(platform, send, rail, texts, stream)
            except Exception:  # keep the worker alive: the next round retries
                log.exception("worker round failed")
                ok = False
            else:
                _count(result)
                down = result.ledger_unreachable
                ok = not down  # a cluster that did not answer fails the round
                if on_tick is not None:
                    on_tick(result)
            seconds = time.perf_counter() - started_round
            metrics().worker_rounds.labels("ok" if ok else "failed").observe(seconds)
            _beat(platform, name, started, ok=ok, ledger_down=down)
            stop.wait(limits.WORKER_INTERVAL_S)
        if stream is not None:
            stream.close()


def _purge(platform: Platform) -> None:
    """The retention jobs (``services.platform.retention``); a failure waits for the next."""
    try:
        done = retention.purge(platform)
    except Exception:
        log.exception("retention purge failed")
        return
    jobs = metrics().worker_jobs
    jobs.labels("webhook_deliveries_forgotten").inc(done.deliveries)
    jobs.labels("web_sessions_forgotten").inc(done.sessions)


def _count(result: Tick) -> None:
    """What a round did, for ``/metrics``: each job's count added to its counter."""
    jobs = metrics().worker_jobs
    for job, count in dataclasses.asdict(result).items():
        if count and not isinstance(count, bool):  # a flag (the cluster's silence) is no job
            jobs.labels(job).inc(count)


def _beat(
    platform: Platform, name: str, started: int, *, ok: bool, ledger_down: bool | None
) -> None:
    """Tell ``/ready`` this worker is alive (and whether the cluster answered it); a
    database that is down is logged, not fatal."""
    try:
        health.beat(platform, name, started, ok=ok, ledger_down=ledger_down)
    except Exception:
        log.exception("worker heartbeat failed")
