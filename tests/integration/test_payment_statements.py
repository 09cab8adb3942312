"""A merchant payment's statements (issue 18): on PostgreSQL every statement is a round trip,
so their number is the payment's floor; and what the merged statements write is what the
separate ones wrote, on SQLite and PostgreSQL.

The payment runs as ``POST /v1/payments`` runs it (``idempotency.run`` around
``payments.pay``). On PostgreSQL it is seven statements besides ``BEGIN``/``COMMIT``: the
key's look-up, the wallets (with whether the merchant repays a loan from sales), the
payer's usage with the payment row (one statement: ``movement.limit_outgoing_claimed``),
the ledger's lock and write, the event with its SMS, the key's insert — no loan look-up
for a merchant without one, no read of the risk holds just booked (the batch says), no
SMS insert of its own. In a group (``groupcommit``) the payments' rows are written one
statement a table (``store.deferred``): a fixed number a group plus four a payment."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from tests.api.conftest import TEST_DATA_KEY
from tindahan import limits
from tindahan.api.errors import refusal_response
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import verify
from tindahan.services.payments import cash, payments, wallets
from tindahan.services.platform import (
    chart,
    fees,
    groupcommit,
    idempotency,
    parties,
    shortrefs,
    webhooks,
)
from tindahan.services.unit import Platform, new_id
from tindahan.store.payment_tables import (
    events,
    idempotency_keys,
    sms_messages,
    wallet_usage,
    webhook_deliveries,
)
from tindahan.store.payment_tables import payments as payment_rows
from tindahan.store.payment_tables import wallets as wallet_rows
from tindahan.store.vault import Vault

OPERATOR = Caller("op1", None, frozenset(SCOPES))


@pytest.fixture
def platform(db, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    """The fee settings' cache lives an hour here (five seconds in a server), so a loaded
    machine's pause between the warm-up payment and the counted one cannot expire it and add
    the settings' read to the count; forgotten afterwards, as the cache is per process."""
    monkeypatch.setattr(limits, "SETTINGS_CACHE_SECONDS", 3600)
    fees.reset_settings_cache()
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    yield made
    fees.reset_settings_cache()


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
        assert len(sent) == 7, sent
        assert not any(s.startswith(("SELECT loans.", "SELECT risk_alerts.")) for s in sent)
        assert not any(s.startswith("INSERT INTO payments") for s in sent)  # in the usage's
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
    assert _usage(platform, wallet)["out"] == [2 * 12_345, 2 * 12_345]  # the day, the month

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


def _usage(platform: Platform, wallet_id: str) -> dict[str, list[int]]:
    """A wallet's running totals by direction, the day's before the month's."""

    def read(unit: Any) -> dict[str, list[int]]:
        account = unit.conn.execute(
            select(wallet_rows.c.account_id).where(wallet_rows.c.id == wallet_id)
        ).scalar_one()
        found = unit.conn.execute(
            select(wallet_usage.c.direction, wallet_usage.c.period, wallet_usage.c.total_minor)
            .where(wallet_usage.c.account_id == account)
            .order_by(wallet_usage.c.direction, func.length(wallet_usage.c.period).desc())
        ).all()
        totals: dict[str, list[int]] = {}
        for direction, _period, total in found:
            totals.setdefault(direction, []).append(int(total))
        return totals

    return platform.run(read, write=False)


def test_a_taken_short_reference_is_drawn_again_and_the_usage_counted_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payment's row rides in its payer's usage upsert: a drawn reference that another
    payment holds inserts no row there, the usage is still raised (once), and the row is
    written under a new reference; over the tier's day the upsert and the row roll back."""
    buyer, wallet = _party(platform, kind="customer", name="Ana", tier="full")
    platform.run(lambda u: cash.fund(u, OPERATOR, wallet, 1_000_000, "PHP", "test"))
    merchant, _ = _party(
        platform, kind="merchant", name="Sari-sari", mcc="5411", city="Marikina", province="Rizal"
    )
    first = _pay(platform, buyer, merchant, "a").body["short_ref"]
    draws = iter([first, "7KQ2M9XD"])
    monkeypatch.setattr(shortrefs, "new", lambda: next(draws))
    again = _pay(platform, buyer, merchant, "b")
    assert again.status_code == 200 and again.body["short_ref"] == "7KQ2M9XD"
    assert _usage(platform, wallet)["out"] == [2 * 12_345, 2 * 12_345]
    monkeypatch.undo()  # the references random again
    who = Caller("key_" + buyer, buyer, frozenset(SCOPES))
    most = limits.KYC_TIER_DEFAULTS["full"]["per_transaction_max_minor"]  # half the day's
    platform.run(lambda u: cash.fund(u, OPERATOR, wallet, most, "PHP", "test"))
    platform.run(lambda u: cash.fund(u, OPERATOR, wallet, most, "PHP", "test"))
    big = payments.NewPayment(payee_id=merchant, amount_minor=most, currency="PHP")
    platform.run(lambda u: payments.pay(u, who, big))
    with pytest.raises(RefusalError) as refused:  # past the day's limit: nothing kept
        platform.run(lambda u: payments.pay(u, who, big))
    assert refused.value.code == "limit_exceeded"
    assert _usage(platform, wallet)["out"] == [2 * 12_345 + most, 2 * 12_345 + most]

    def count(unit: Any) -> int:
        paid = select(func.count()).where(payment_rows.c.payee_id == merchant)
        return int(unit.conn.execute(paid).scalar_one())

    assert platform.run(count, write=False) == 3  # the refused one's row rolled back


def _group(pairs: list[tuple[str, str]], tag: str) -> list[groupcommit.Request]:
    """Merchant payments as ``POST /v1/payments`` hands them to the committer: each with its
    id chosen first and what it locks declared (``payments.group_locks``)."""
    made = []
    for i, (buyer, merchant) in enumerate(pairs):
        who = Caller("key_" + buyer, buyer, frozenset(SCOPES))
        new = payments.NewPayment(payee_id=merchant, amount_minor=12_345, currency="PHP")
        payment_id = new_id("pay")
        body = {"payee_id": merchant, "amount_minor": 12_345, "currency": "PHP"}
        made.append(
            groupcommit.Request(
                who.scope,
                f"{tag}{i}",
                idempotency.request_hash("POST", "/v1/payments", body),
                partial(payments.pay, caller=who, new=new, payment_id=payment_id),
                lambda result: idempotency.Response(200, dict(result)),
                refusal_response,
                payments.group_locks(who, new, payment_id),
            )
        )
    return made


def test_a_group_of_payments_writes_each_table_once(
    platform: Platform, request: pytest.FixtureRequest
) -> None:
    """A group's merchant payments are written with one statement a table (PostgreSQL): the
    group's statements are a fixed number plus, a member, only its savepoint, its wallets'
    read, its running totals' upsert and the savepoint's release — ten a member when each
    wrote its own rows. What is written is what one at a time writes (the rows, the texts,
    the keys, each answer again from its key, the ledger's verify)."""
    if platform.db.is_sqlite:
        pytest.skip("SQLite writes member by member (one writer, no round trips)")
    buyers = [_party(platform, kind="customer", name=f"Ana {i}", tier="full") for i in range(4)]
    for _, wallet in buyers:
        platform.run(partial(_fund, wallet=wallet))
    merchant, _ = _party(
        platform, kind="merchant", name="Sari-sari", mcc="5411", city="Marikina", province="Rizal"
    )
    hooks = [  # who hears what (``events.emit``): the merchant's and the operator's do
        _hook(platform, ["payment.succeeded"], merchant),
        _hook(platform, ["*"], None),
        _hook(platform, ["refund.succeeded"], buyers[0][0]),
    ]
    _pay(platform, buyers[0][0], merchant, "warm")
    committer = groupcommit.Committer(platform, 0, 64)
    committer.run_group(_group([(buyers[0][0], merchant)], "w"))  # prepared once
    sent = request.getfixturevalue("counted")
    counts = {}
    for size in (2, 6):
        del sent[:]
        made = _group([(buyers[i % 4][0], merchant) for i in range(size)], f"g{size}-")
        committer.run_group(made)
        answers = [r.future.result() for r in made]
        assert all(a.status_code == 200 and not a.replayed for a in answers), answers
        counts[size] = len(sent)
    per_member = (counts[6] - counts[2]) / 4
    assert per_member == 4, sent
    # the locks, the keys, the clock, the payments, the transfers, the events with their
    # texts and hearers, the deliveries, the keys' records, the summed balances
    assert counts[2] - 2 * per_member == 9, sent
    assert committer.split == 0

    def stored(unit: Any) -> tuple[Any, ...]:
        rows = unit.conn.execute(
            select(payment_rows).where(payment_rows.c.payee_id == merchant)
        ).mappings()
        texts = unit.conn.execute(select(sms_messages.c.event_id, sms_messages.c.kind))
        found = unit.conn.execute(select(events.c.id, events.c.type, events.c.data)).all()
        keys = unit.conn.execute(select(idempotency_keys.c.key)).scalars().all()
        heard = unit.conn.execute(
            select(webhook_deliveries.c.event_id, webhook_deliveries.c.endpoint_id)
        ).all()
        return [dict(r) for r in rows], texts.all(), found, set(keys), heard

    rows, texts, found, keys, heard = platform.run(stored, write=False)
    assert len(rows) == 1 + 1 + 2 + 6  # warm, the prepared one, the two groups
    assert {f"g6-{i}" for i in range(6)} <= keys and {"g2-0", "g2-1"} <= keys
    paid = {r["id"]: r for r in rows}
    announced = {
        json.loads(data)["data"]["id"]: event_id
        for event_id, kind, data in found
        if kind == "payment.succeeded"
    }
    assert set(announced) == set(paid)
    per_event: dict[str, list[str]] = {}
    for event_id, kind in texts:
        per_event.setdefault(event_id, []).append(kind)
    hearers: dict[str, list[str]] = {}
    for event_id, endpoint_id in heard:
        hearers.setdefault(event_id, []).append(endpoint_id)
    for payment_id, event_id in announced.items():
        assert sorted(per_event[event_id]) == ["payment_received", "payment_sent"], payment_id
        assert sorted(hearers[event_id]) == sorted(hooks[:2]), payment_id
    for r in made:  # each answer again from its key, as stored
        buyer_scope, key = r.scope, r.key
        again = committer_again(platform, r)
        assert again.replayed and again.body == json.loads(json.dumps(r.future.result().body))
        assert paid[again.body["id"]]["short_ref"] == again.body["short_ref"], (buyer_scope, key)
    assert verify.verify(platform.db).ok


def _hook(platform: Platform, kinds: list[str], party_id: str | None) -> str:
    made = platform.run(
        lambda u: webhooks.create_endpoint(u, OPERATOR, "https://8.8.8.8/h", kinds, party_id)
    )
    return str(made["id"])


def _fund(unit: Any, wallet: str) -> Any:
    return cash.fund(unit, OPERATOR, wallet, 1_000_000, "PHP", "test")


def committer_again(platform: Platform, r: groupcommit.Request) -> idempotency.Response:
    return idempotency.run(
        platform, r.scope, r.key, r.fingerprint, r.work, r.render, r.render_refusal
    )
