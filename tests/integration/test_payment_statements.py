"""A merchant payment's statements (issue 18): on PostgreSQL every statement is a round trip,
so their number is the payment's floor; and what the merged statements write is what the
separate ones wrote, on SQLite and PostgreSQL.

The payment runs as ``POST /v1/payments`` runs it (``idempotency.run`` around
``payments.pay``). On PostgreSQL it is eight statements besides ``BEGIN``/``COMMIT``: the
key's look-up, the wallets (with whether the merchant repays a loan from sales), the
payer's usage, the payment row, the ledger's lock and write, the event with its SMS, the
key's insert — no loan look-up for a merchant without one, no read of the risk holds just
booked (the batch says), no SMS insert of its own."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from tests.api.conftest import TEST_DATA_KEY
from tindahan.api.errors import refusal_response
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.services.ledger import verify
from tindahan.services.payments import cash, payments, wallets
from tindahan.services.platform import chart, idempotency, parties
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import events, idempotency_keys, sms_messages
from tindahan.store.payment_tables import payments as payment_rows
from tindahan.store.vault import Vault

OPERATOR = Caller("op1", None, frozenset(SCOPES))


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _party(platform: Platform, **fields: str) -> tuple[str, str]:
    def work(unit: Any) -> tuple[str, str]:
        party_id = str(parties.create(unit, OPERATOR, parties.NewParty(**fields))["id"])
        found = wallets.list_wallets(unit, OPERATOR, 10, None, party_id)["data"]
        return party_id, str(next(w["id"] for w in found if w["kind"] == "main"))

    return platform.run(work)


def _pay(platform: Platform, buyer: str, merchant: str, key: str) -> idempotency.Response:
    who = Caller("key_" + buyer, buyer, frozenset(SCOPES))
    new = payments.NewPayment(payee_id=merchant, amount_minor=12_345, currency="PHP")
    body = {"payee_id": merchant, "amount_minor": 12_345, "currency": "PHP"}
    return idempotency.run(
        platform,
        who.scope,
        key,
        idempotency.request_hash("POST", "/v1/payments", body),
        lambda u: payments.pay(u, who, new),
        lambda result: idempotency.Response(200, dict(result)),
        refusal_response,
    )


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement psycopg sends (SQLAlchemy's and those on the driver alike)."""
    sent: list[str] = []
    for cls in (psycopg.Cursor, psycopg.ClientCursor):
        execute, executemany = cls.execute, cls.executemany

        def one(self: Any, query: Any, *args: Any, _run: Any = execute, **kw: Any) -> Any:
            sent.append(str(query))
            return _run(self, query, *args, **kw)

        def many(self: Any, query: Any, *args: Any, _run: Any = executemany, **kw: Any) -> Any:
            sent.append(str(query))
            return _run(self, query, *args, **kw)

        monkeypatch.setattr(cls, "execute", one)
        monkeypatch.setattr(cls, "executemany", many)
    yield sent


def test_a_merchant_payment_writes_what_it_did_in_fewer_statements(
    platform: Platform, request: pytest.FixtureRequest
) -> None:
    buyer, wallet = _party(platform, kind="customer", name="Ana", tier="full")
    platform.run(lambda u: cash.fund(u, OPERATOR, wallet, 1_000_000, "PHP", "test"))
    merchant, _ = _party(
        platform, kind="merchant", name="Sari-sari", mcc="5411", city="Marikina", province="Rizal"
    )
    _pay(platform, buyer, merchant, "warm")  # the fee settings and the gate's owners, cached
    postgres = not platform.db.is_sqlite
    sent = request.getfixturevalue("counted") if postgres else []
    response = _pay(platform, buyer, merchant, "k1")
    if postgres:
        assert len(sent) == 8, sent
        assert not any(s.startswith(("SELECT loans.", "SELECT risk_alerts.")) for s in sent)
    assert response.status_code == 200 and response.body["under_review"] is False
    paid = response.body
    again = _pay(platform, buyer, merchant, "k1")  # the stored answer, nothing run again
    assert again.replayed and again.body == json.loads(json.dumps(paid))

    def stored(unit: Any) -> tuple[Any, ...]:
        row = unit.conn.execute(select(payment_rows).where(payment_rows.c.id == paid["id"]))
        texts = unit.conn.execute(select(sms_messages).order_by(sms_messages.c.kind)).mappings()
        found = unit.conn.execute(select(events.c.id, events.c.type)).all()
        keys = unit.conn.execute(select(idempotency_keys.c.key)).scalars().all()
        return row.mappings().one(), [dict(t) for t in texts], found, sorted(keys)

    row, texts, found, keys = platform.run(stored, write=False)
    assert row["short_ref"] == paid["short_ref"] and row["amount_minor"] == 12_345
    assert keys == ["k1", "warm"]

    def data(t: dict[str, Any]) -> dict[str, Any]:
        return dict(json.loads(platform.vault.open(t["data_cipher"], f"sms:{t['id']}")))

    mine = [t for t in texts if data(t)["ref"] == paid["short_ref"]]
    assert [(t["kind"], t["party_id"]) for t in mine] == [
        ("payment_received", merchant),
        ("payment_sent", buyer),
    ]
    payment_events = {i for i, kind in found if kind == "payment.succeeded"}
    for t in mine:  # the array-built row is the row ``_row`` made: sealed, pending, due now
        assert t["event_id"] in payment_events and t["event_id"] == mine[0]["event_id"]
        assert t["status"] == "pending" and t["attempts"] == 0 and t["locked_until_ns"] == 0
        assert t["to_cipher"] is None and t["language"] is None and t["to_last4"] is None
        assert t["next_attempt_at_ns"] == t["created_at_ns"] > 0
        assert data(t)["amount_minor"] == 12_345
    assert verify.verify(platform.db).ok
