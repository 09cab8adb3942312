"""The worker's commerce jobs: cancel unpaid orders, release escrow of delivered ones, and
tell the merchant and the buyer of a courier order past its delivery window (once).

Each order is its own transaction, like the cash-out expiry: one order that cannot be
released (its merchant's wallet frozen, say) is logged and left for the next round, and
does not hold up the rest. Both jobs re-check the order under its row lock, so two workers
(or a worker and a buyer confirming at the same moment) never act twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from tindahan import limits
from tindahan.commerce.orders import OrderStatus
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import escrow, escrow_cluster, orders
from tindahan.services.unit import Platform

log = logging.getLogger("tindahan.worker")


def expire_orders(platform: Platform) -> int:
    return _each(platform, OrderStatus.PENDING_PAYMENT, "expires_at_ns", orders.expire)


def release_orders(platform: Platform) -> int:
    """On a TigerBeetle ledger each release goes through the two-store order
    (``escrow_cluster.auto_release``: A, then the cluster, then C, not one transaction)."""
    if platform.ledger is not None:
        return _each_alone(platform, escrow_cluster.auto_release)
    return _each(platform, OrderStatus.DELIVERED, "release_at_ns", escrow.auto_release)


def flag_late_orders(platform: Platform) -> int:
    now = platform.now()
    found = platform.run(lambda unit: orders.late_due(unit, now, limits.SWEEP_BATCH), write=False)
    done = 0
    for order_id in found:
        try:
            done += platform.run(partial(orders.flag_late, order_id=order_id))
        except RefusalError as refusal:
            log.warning("order %s left for the next round: %s", order_id, refusal.message)
    return done


def _each(platform: Platform, status: OrderStatus, column: str, job: Callable[..., bool]) -> int:
    now = platform.now()
    found = platform.run(
        lambda unit: orders.due(unit, status, column, now, limits.SWEEP_BATCH), write=False
    )
    done = 0
    for order_id in found:
        try:
            done += platform.run(partial(job, order_id=order_id))
        except RefusalError as refusal:
            log.warning("order %s left for the next round: %s", order_id, refusal.message)
    return done


def _each_alone(platform: Platform, job: Callable[..., bool]) -> int:
    """``_each`` for a job that runs its own transactions (given the platform)."""
    now = platform.now()
    found = platform.run(
        lambda unit: orders.due(
            unit, OrderStatus.DELIVERED, "release_at_ns", now, limits.SWEEP_BATCH
        ),
        write=False,
    )
    done = 0
    for order_id in found:
        try:
            done += job(platform, order_id=order_id)
        except RefusalError as refusal:
            log.warning("order %s left for the next round: %s", order_id, refusal.message)
    return done
