"""A hold's release or return is announced (issue 20, item 3): ``review.released`` and
``review.returned``, to both sides of the movement, in the decision's transaction — on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from tests.risk.test_live import OPERATOR, _alerts, _party, _pay, live, platform
from tindahan.services.platform import webhooks
from tindahan.services.risk import cases, holds
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import events, webhook_deliveries

__all__ = ["live", "platform"]  # the fixtures, shared with test_live


def _events(platform: Platform) -> list[dict]:
    query = select(events.c.id, events.c.type, events.c.data).order_by(events.c.created_at_ns)
    rows = platform.run(lambda u: u.conn.execute(query).all(), write=False)
    return [{"id": i, "type": t, **json.loads(d)} for i, t, d in rows if t.startswith("review.")]


def _deliveries(platform: Platform, endpoint_id: str) -> list[str]:
    query = select(webhook_deliveries.c.event_id).where(
        webhook_deliveries.c.endpoint_id == endpoint_id
    )
    return list(platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False))


def _subscribe(platform: Platform, party_id: str) -> str:
    kinds = ["review.released", "review.returned"]
    made = platform.run(
        lambda u: webhooks.create_endpoint(u, OPERATOR, "https://8.8.8.8/h", kinds, party_id)
    )
    return str(made["id"])


def test_release_and_return_are_announced_to_both_sides(live: Path, platform: Platform) -> None:
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    hooks = {who: _subscribe(platform, who) for who in (ana, ben)}
    for _ in range(3):
        _pay(platform, ana, ben, 100_000)  # the third of the hour is held (velocity)
    assert _events(platform) == []  # a hold alone announces nothing yet
    (first,) = _alerts(platform)
    platform.run(lambda u: holds.decide(u, OPERATOR, first["id"], "release", "known buyer"))
    (released,) = _events(platform)
    assert released["type"] == "review.released"
    assert released["data"] == {
        "object": "review",
        "id": first["hold_id"],
        "transfer_id": first["transfer_id"],
        "kind": "p2p",
        "amount_minor": 100_000,
        "currency": "PHP",
        "status": "released",
        "decided": released["data"]["decided"],
    }
    assert "velocity" not in json.dumps(released)  # never the rule
    for who in (ana, ben):
        assert _deliveries(platform, hooks[who]) == [released["id"]]

    _pay(platform, ana, ben, 100_000)  # the fourth: held again, joins Ana's case
    second = [a for a in _alerts(platform) if a["status"] == "open"]
    assert len(second) == 1
    case_id = second[0]["case_id"]
    platform.run(lambda u: cases.decide(u, OPERATOR, case_id, "return", "not her"))
    # both events may carry the same clock reading: found by type, not by their order
    announced = _events(platform)
    assert sorted(e["type"] for e in announced) == ["review.released", "review.returned"]
    (returned,) = [e for e in announced if e["type"] == "review.returned"]
    assert returned["data"]["transfer_id"] == second[0]["transfer_id"]
    assert returned["data"]["amount_minor"] == 100_000
    assert sorted(_deliveries(platform, hooks[ben])) == sorted([released["id"], returned["id"]])
