"""The demo seeded on a TigerBeetle deployment (issue 22): ``serve --demo --ledger URL``'s
seeding books the demo's money through the cluster's paths (``seed.booking``), leaves out and
names what the cluster does not take yet, writes nothing to the SQL ledger, and the result
passes ``ledger verify --ledger URL --db URL``.

Cheap: the demo's three weeks cut to one day and the five shops' half year of history to one
shop's four weeks (the same code, less of it), without the couriers' history and the
products' photos (no money in them); lending is left out (it needs the trained
credit model). SQLite only: the seed's booking is the same on PostgreSQL, whose two-store
paths each movement's own tests cover, and the seed is the suite's cost here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.tigerbeetle import test_payments
from tests.tigerbeetle.conftest import _cluster
from tindahan.cli import app as cli_app
from tindahan.services.payments import two_store
from tindahan.services.seed import demo
from tindahan.store.commerce_tables import order_places, orders
from tindahan.store.database import connect
from tindahan.store.payment_tables import payments
from tindahan.store.tables import transfers
from tindahan.tigerbeetle.ledger import TigerBeetleLedger

#: Not in the "tigerbeetle" xdist group: its cluster is its own test's, not a module's, so it
#: can run on the other worker while the group's modules run theirs (the group is one worker's
#: serial share of the suite; tests/tigerbeetle/conftest.py).


@pytest.fixture(params=["sqlite"])
def empty(request, tmp_path) -> Iterator[tuple[str, str]]:
    """An empty migrated database and a fresh one-replica cluster: (database URL, ledger URL)."""
    databases = test_payments._database(request, tmp_path)
    clusters = _cluster(tmp_path / "cluster", 1)
    try:
        yield next(databases), next(clusters).url
    finally:
        for rest in (clusters, databases):
            for _ in rest:
                pass


def _count(platform: Any, table: Any) -> int:
    query = select(func.count()).select_from(table)
    return int(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def _paid_in_dollars(platform: Any) -> int:
    """Orders paid at an FX quote whose payment went through the cluster (a place)."""
    query = (
        select(func.count())
        .select_from(orders.join(order_places, order_places.c.order_id == orders.c.id))
        .where(orders.c.quote_id.is_not(None), orders.c.status == "paid")
    )
    return int(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_a_demo_seeded_on_a_cluster_passes_ledger_verify(empty, media_folder, monkeypatch, capsys):
    url, ledger_url = empty
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setattr(demo, "DAYS", 1)
    monkeypatch.setattr(demo, "CREDIT_SHOPS", 1)
    monkeypatch.setattr(demo, "CREDIT_HISTORY_DAYS", 28)  # the simulator's shortest
    # no money in them: the couriers' half year of deliveries and the products' photos
    monkeypatch.setattr(demo, "_delivery_history", lambda _demo: None)
    monkeypatch.setattr(demo, "_photo", lambda *_args: None)
    ledger = TigerBeetleLedger.connect(ledger_url)
    try:
        with connect(url) as database:
            platform = cli_app._prepare(database, ledger)  # as ``serve --ledger`` does
            made, history = cli_app._seed_demo(url, platform)
            people = demo.seed_logins(platform)
            assert made > 10 and history > 0 and people
            said = capsys.readouterr().out
            # what the cluster does not take yet is left out and said so; every order is
            # paid into escrow through the cluster, the buyer abroad's in dollars too
            assert "skipped" in said and demo.ORDER_PAYMENT not in said
            assert _count(platform, order_places) > 0
            assert _paid_in_dollars(platform) == 1
            # every movement went through the cluster: nothing on the SQL ledger
            assert _count(platform, transfers) == 0
            assert _count(platform, payments) > made // 2
            assert two_store.unfinished(platform) == 0
    finally:
        ledger.close()
    verified = CliRunner().invoke(
        cli_app.app, ["ledger", "verify", "--ledger", ledger_url, "--db", url]
    )
    assert verified.exit_code == 0, verified.output
    assert "payments match their transfers" in verified.output
