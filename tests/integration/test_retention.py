"""The worker's retention (issue 23, item 9): delivered webhooks past their replay window,
failed ones past theirs, and web sessions long over are deleted; nothing younger is."""

from __future__ import annotations

import base64

import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert, select

from tests.api.conftest import TEST_DATA_KEY
from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.platform import chart, logins, parties, retention
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import (
    events,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from tindahan.store.vault import Vault
from tindahan.store.web_tables import web_sessions

OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))
DAY = retention.DAY_NS


@pytest.fixture
def platform(db, monkeypatch) -> Platform:
    monkeypatch.setattr(logins, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _ids(platform: Platform, table) -> set[str]:
    rows = platform.run(lambda u: u.conn.execute(select(table.c.id)).all(), write=False)
    return {row[0] for row in rows}


def test_old_deliveries_and_sessions_go_and_young_ones_stay(platform, monkeypatch):
    now = platform.now()
    keep_delivered = limits.WEBHOOK_DELIVERED_KEEP_DAYS * DAY
    keep_failed = limits.WEBHOOK_FAILED_KEEP_DAYS * DAY

    monkeypatch.setattr(limits, "RETENTION_BATCH", 10)
    platform.run(_seed_rows(now, keep_delivered, keep_failed))
    new = parties.NewParty("customer", "Rosa", phone="+639175550101")
    rosa = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    login = platform.run(
        lambda u: logins.create(u, OPERATOR, party_id=rosa, phone="+639175550101", secret="240816")
    )
    keep_sessions = limits.WEB_SESSION_KEEP_DAYS * DAY
    sessions = {
        "ws_ended_long_ago": (now - keep_sessions - 5 * DAY, now - keep_sessions - DAY),
        "ws_expired_long_ago": (now - keep_sessions - DAY, None),
        "ws_ended_lately": (now + DAY, now - DAY),
        "ws_live": (now + DAY, None),
    }
    for number, (session, (expires, ended)) in enumerate(sessions.items()):
        platform.run(
            lambda u, s=session, e=expires, x=ended, n=number: u.conn.execute(
                insert(web_sessions).values(
                    id=s,
                    secret_hash=f"{n:064x}",
                    login_id=login["id"],
                    created_at_ns=0,
                    last_seen_ns=0,
                    expires_at_ns=e,
                    ended_at_ns=x,
                )
            )
        )

    done = retention.purge(platform)
    assert done == retention.Purged(deliveries=2, sessions=2)
    assert _ids(platform, webhook_deliveries) == {
        "wd_young_delivered",
        "wd_young_failed",
        "wd_pending",
    }
    attempts = platform.run(
        lambda u: u.conn.execute(select(webhook_attempts.c.delivery_id)).all(), write=False
    )
    assert {row[0] for row in attempts} == {"wd_young_delivered", "wd_young_failed", "wd_pending"}
    assert _ids(platform, events) == {f"evt_{n}" for n in range(5)}  # the record stays
    assert _ids(platform, web_sessions) == {"ws_ended_lately", "ws_live"}
    assert retention.purge(platform) == retention.Purged()  # nothing more to do


def _seed_rows(now: int, keep_delivered: int, keep_failed: int):
    rows = {  # id: (status, created, delivered)
        "wd_old_delivered": (
            "delivered",
            now - keep_delivered - 2 * DAY,
            now - keep_delivered - DAY,
        ),
        "wd_young_delivered": (
            "delivered",
            now - keep_delivered - 2 * DAY,
            now - keep_delivered + DAY,
        ),
        "wd_old_failed": ("failed", now - keep_failed - DAY, None),
        "wd_young_failed": ("failed", now - keep_delivered - DAY, None),
        "wd_pending": ("pending", now - keep_failed - DAY, None),
    }

    def work(unit) -> None:
        unit.conn.execute(
            insert(webhook_endpoints).values(
                id="we_1",
                url="https://example.com/h",
                secret_cipher="x",
                enabled_events=",*,",
                status="enabled",
                created_at_ns=0,
            )
        )
        for number, (delivery, (status, created, delivered)) in enumerate(rows.items()):
            event = f"evt_{number}"
            unit.conn.execute(
                insert(events).values(
                    id=event, type="payment.succeeded", data="{}", created_at_ns=0
                )
            )
            unit.conn.execute(
                insert(webhook_deliveries).values(
                    id=delivery,
                    event_id=event,
                    endpoint_id="we_1",
                    status=status,
                    attempts=1,
                    next_attempt_at_ns=created,
                    locked_until_ns=0,
                    delivered_at_ns=delivered,
                    created_at_ns=created,
                )
            )
            unit.conn.execute(
                insert(webhook_attempts).values(
                    delivery_id=delivery, attempted_at_ns=created, status_code=200, duration_ms=5
                )
            )

    return work
