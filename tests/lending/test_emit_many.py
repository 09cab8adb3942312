"""``events.emit_many`` (the daily close's batch) reaches exactly the endpoints ``emit``
would: the parties' own endpoints subscribed to the type or to everything, and the
operator's; never a disabled one, another party's, or one listening to other types."""

from __future__ import annotations

from sqlalchemy import insert, select

from tests.lending.conftest import make_party
from tindahan.services.platform import events
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import webhook_deliveries, webhook_endpoints


def endpoint(platform: Platform, name: str, party: str | None, listens: str, status="enabled"):
    row = {
        "id": f"we_{name}",
        "party_id": party,
        "url": "https://example.com/hook",
        "secret_cipher": "x",
        "enabled_events": listens,
        "status": status,
        "created_at_ns": platform.now(),
    }
    platform.run(lambda u: u.conn.execute(insert(webhook_endpoints), row))


def heard(platform: Platform, event_id: str) -> set[str]:
    query = select(webhook_deliveries.c.endpoint_id).where(
        webhook_deliveries.c.event_id == event_id
    )
    return set(platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False))


def test_emit_many_reaches_what_emit_reaches(platform: Platform):
    a = make_party(platform, kind="merchant", name="A", mcc="5411", city="X", province="Y")
    b = make_party(platform, kind="merchant", name="B", mcc="5411", city="X", province="Y")
    endpoint(platform, "a_due", a, ",loan.payment_due,")
    endpoint(platform, "a_all", a, ",*,")
    endpoint(platform, "a_other", a, ",payment.succeeded,")
    endpoint(platform, "a_off", a, ",*,", status="disabled")
    endpoint(platform, "b_due", b, ",loan.payment_due,loan.overdue,")
    endpoint(platform, "op_all", None, ",*,")
    endpoint(platform, "op_overdue", None, ",loan.overdue,")
    items = [
        ("loan.payment_due", {"n": 1}, (a,)),
        ("loan.overdue", {"n": 2}, (a,)),
        ("loan.overdue", {"n": 3}, (b,)),
        ("loan.closed", {"n": 4}, (a, b)),
    ]
    batched = platform.run(lambda u: events.emit_many(u, items))
    single = [platform.run(lambda u, i=i: events.emit(u, *i)) for i in items]
    for many, one in zip(batched, single, strict=True):
        assert heard(platform, many) == heard(platform, one)
    assert heard(platform, batched[0]) == {"we_a_due", "we_a_all", "we_op_all"}
    assert heard(platform, batched[2]) == {"we_b_due", "we_op_all", "we_op_overdue"}
    assert platform.run(lambda u: events.emit_many(u, []), write=False) == []
