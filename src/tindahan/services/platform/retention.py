"""Forgetting on schedule: what the platform stops keeping once its purpose is over.

The Data Privacy Act's proportionality principle (RA 10173 §11(e)): personal data is kept
only as long as its purpose needs. The worker runs ``purge`` every
``limits.RETENTION_INTERVAL_S``; each run deletes at most ``limits.RETENTION_BATCH`` rows
per kind, oldest first, so a backlog goes over several short transactions:

* webhook deliveries delivered more than ``WEBHOOK_DELIVERED_KEEP_DAYS`` ago (the window in
  which ``tindahan webhooks replay`` can send them again), failed ones after
  ``WEBHOOK_FAILED_KEEP_DAYS``, each with its logged attempts; the events themselves stay
  (they are the business record the deliveries carried);
* web sessions ended or expired more than ``WEB_SESSION_KEEP_DAYS`` ago.

Idempotency records, sign-in counters and USSD sessions have their own purges, run by the
worker every round (``services.platform.idempotency`` and the others).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select

from tindahan import limits
from tindahan.services.unit import Platform, Unit
from tindahan.store.payment_tables import webhook_attempts, webhook_deliveries
from tindahan.store.web_tables import web_sessions

DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Purged:
    deliveries: int = 0
    sessions: int = 0


def purge(platform: Platform) -> Purged:
    return platform.run(lambda unit: Purged(_deliveries(unit), _sessions(unit)))


def _deliveries(unit: Unit) -> int:
    now = unit.now()
    d = webhook_deliveries.c
    delivered = and_(
        d.status == "delivered",
        d.delivered_at_ns < now - limits.WEBHOOK_DELIVERED_KEEP_DAYS * DAY_NS,
    )
    failed = and_(
        d.status == "failed", d.created_at_ns < now - limits.WEBHOOK_FAILED_KEEP_DAYS * DAY_NS
    )
    ids = [
        row[0]
        for row in unit.conn.execute(
            select(d.id)
            .where(or_(delivered, failed))
            .order_by(d.created_at_ns)
            .limit(limits.RETENTION_BATCH)
        )
    ]
    if not ids:
        return 0
    unit.conn.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids)))
    return int(unit.conn.execute(delete(webhook_deliveries).where(d.id.in_(ids))).rowcount)


def _sessions(unit: Unit) -> int:
    s = web_sessions.c
    over = func.coalesce(s.ended_at_ns, s.expires_at_ns)
    cutoff = unit.now() - limits.WEB_SESSION_KEEP_DAYS * DAY_NS
    old = select(s.id).where(over < cutoff).order_by(over).limit(limits.RETENTION_BATCH)
    ids = [row[0] for row in unit.conn.execute(old)]
    if not ids:
        return 0
    return int(unit.conn.execute(delete(web_sessions).where(s.id.in_(ids))).rowcount)
