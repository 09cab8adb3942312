"""Merchant payments, P2P sends, cash-ins, fundings and cash-outs through the API with the
ledger on a real TigerBeetle cluster (issue 22): the two-store write order, a crash after each
of its steps, recovery, refusals, movements not ported yet, and verify.

One deployment per database kind for the whole module (a one-replica cluster, a small
barangay funded on the SQL ledger and moved over with the migration, as a deployment would
switch), so the tests compare balances before and after rather than from zero.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY, Api, Party, World, make_party
from tests.conftest import PG_URL, postgres_available
from tests.lending.conftest import OPERATOR
from tests.tigerbeetle.conftest import need_binary
from tindahan.api.app import create_app
from tindahan.cli.app import app as cli
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import Account, NewTransfer
from tindahan.services.ledger import cluster_booking, movement, risk_gate
from tindahan.services.payments import cash, refunds, two_store, wallets
from tindahan.services.platform import books
from tindahan.services.platform.chart import bank_account
from tindahan.services.risk import holds as risk_holds
from tindahan.services.unit import Platform
from tindahan.store import ledger_names
from tindahan.store.database import Database, connect
from tindahan.store.payment_tables import events, payments, two_store_payments, wallet_usage
from tindahan.store.risk_tables import risk_alerts
from tindahan.store.tables import tigerbeetle_names
from tindahan.store.vault import Vault
from tindahan.tigerbeetle.ids import id128
from tindahan.tigerbeetle.ledger import TigerBeetleLedger, ledger_number
from tindahan.tigerbeetle.verify import verify as verify_cluster

#: One worker runs the TigerBeetle tests (make test, xdist): one cluster per module. The
#: crash matrices' reference: every step on both databases (tests/tigerbeetle/conftest.py).
pytestmark = [pytest.mark.xdist_group("tigerbeetle-b"), pytest.mark.every_step]


class Crash(Exception):
    """What the hook raises: the process dies after that step."""


@dataclass
class Deployment:
    db: Database
    url: str
    platform: Platform
    ledger: TigerBeetleLedger
    cluster_url: str
    api: Api
    world: World

    def accounts(self, *wallets: tuple[Party, str]) -> list[Account]:
        def ids(unit: Any) -> list[str]:
            found = movement.holders(unit, [p.id for p, _ in wallets])
            return [found[(p.id, kind)].account_id for p, kind in wallets]

        wanted = self.platform.run(ids, write=False)
        got = self.ledger.lookup_accounts(wanted)
        return [got[i] for i in wanted]

    def balances(self) -> tuple[int, int, int]:
        w = self.world
        rows = self.accounts((w.buyer, "main"), (w.merchant, "settlement"), (w.other_buyer, "main"))
        assert all(a.debits_pending == a.credits_pending == 0 for a in rows)
        return rows[0].balance_posted, rows[1].balance_posted, rows[2].balance_posted

    def pay(self, payee: Party, amount: int, key: str, payer: Party | None = None) -> Any:
        body = {"payee_id": payee.id, "amount_minor": amount, "currency": "PHP"}
        return self.api.post("/v1/payments", (payer or self.world.buyer).key, body, idem=key)


def _database(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "tindahan.db")
        yield f"sqlite:///{folder / 'tindahan.db'}"
        return
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    pools = request.getfixturevalue("postgres_pools")
    pool = pools[True]  # a copy of the migrated template
    name = pool.take()
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        pool.give(name)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def deployment(request, tmp_path_factory, shared_server, deployment_images) -> Iterator[Deployment]:
    """The module's own copy of the worker's deployment image (tests/tigerbeetle/images.py):
    the barangay funded on the SQL ledger and moved to a one-replica cluster."""
    need_binary()
    image = deployment_images.get(request.param)
    folder = tmp_path_factory.mktemp("tbpay")
    databases = image.database(folder)
    url = next(databases)
    clusters = image.cluster(folder / "cluster")
    address = next(clusters)
    db = connect(url)
    tb = TigerBeetleLedger.connect(address.url)
    try:
        platform = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)), ledger=tb)
        with shared_server.serving(create_app(platform)) as base:
            api = Api(base)
            merchant, buyer, other, agent = image.parties_copy()
            parties = [merchant, buyer, other, agent]
            world = World(api, image.operator, merchant, buyer, other, agent, parties)
            yield Deployment(db, url, platform, tb, address.url, api, world)
            api.http.close()
    finally:
        tb.close()
        db.dispose()
        for rest in (clusters, databases):
            for _ in rest:
                pass


#: The fresh clients' TLS context, made once: each new ``httpx.Client`` would otherwise load
#: the CA bundle again (about 30 ms of CPU, for a loopback server spoken to in plain HTTP).
_TLS = httpx.create_ssl_context()


def _dies(d: Deployment, send: Callable[[], httpx.Response]) -> None:
    """The request dies with the process: a 500, or the connection dropped. The client then
    connects afresh (a new client, new connections), as a client would to the restarted
    server."""
    try:
        response = send()
    except httpx.TransportError:
        response = None
    base = d.api.http.base_url
    d.api.http.close()
    d.api.http = httpx.Client(base_url=base, timeout=30, verify=_TLS)
    assert response is None or response.status_code == 500, response.text


@pytest.fixture
def crash_after(monkeypatch) -> Any:
    def arm(step: str | None) -> None:
        def hook(done: str) -> None:
            if done == step:
                raise Crash(step)

        monkeypatch.setattr(two_store, "crash_hook", hook)

    return arm


def test_a_merchant_payment_books_in_the_cluster_and_answers_once(deployment):
    d = deployment
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    paid = d.api.ok(d.pay(d.world.merchant, 25_000, key))
    assert paid["status"] == "succeeded" and paid["kind"] == "merchant"
    fee = paid["fee_minor"]
    assert fee > 0  # the merchant discount, as on the SQL ledger
    assert d.balances()[:2] == (buyer - 25_000, settlement + 25_000 - fee)
    # the API shows the cluster's balances, not what the SQL accounts held at the switch
    assert d.world.balance(d.world.buyer) == buyer - 25_000
    assert d.world.balance(d.world.merchant, "settlement") == settlement + 25_000 - fee
    listed = d.api.ok(d.api.get("/v1/wallets", d.world.buyer.key))["data"]
    assert [w["balance_minor"] for w in listed if w["kind"] == "main"] == [buyer - 25_000]
    transfers = {t.removeprefix(paid["id"].replace("_", ".")) for t in paid["transfer_ids"]}
    assert transfers == {"", ".post", ".fee"}
    again = d.pay(d.world.merchant, 25_000, key)
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[:2] == (buyer - 25_000, settlement + 25_000 - fee)


def test_a_p2p_send_books_in_the_cluster(deployment):
    d = deployment
    buyer, _, other = d.balances()
    sent = d.api.ok(d.pay(d.world.other_buyer, 1_234, str(uuid.uuid4())))
    assert sent["kind"] == "p2p" and sent["status"] == "succeeded"
    assert (d.balances()[0], d.balances()[2]) == (buyer - 1_234, other + 1_234)


def _usage(d: Deployment) -> int:
    def read(unit: Any) -> int:
        account = movement.holders(unit, [d.world.buyer.id])[(d.world.buyer.id, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == account.account_id,
                wallet_usage.c.direction == "out",
            )
        )
        return sum(rows.scalars())

    return d.platform.run(read, write=False)


def test_not_enough_money_is_refused_as_on_sql_and_gives_the_totals_back(deployment):
    d = deployment
    before, used = d.balances(), _usage(d)
    key = str(uuid.uuid4())
    # within the buyer's tier limits (full KYC), above its balance
    refused = d.pay(d.world.other_buyer, before[0] + 1, key)
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "insufficient_funds"
    assert d.balances() == before
    assert _usage(d) == used  # the running totals A raised are back where they were
    again = d.pay(d.world.other_buyer, before[0] + 1, key)
    assert again.status_code == 402 and again.json() == refused.json()
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_moves_the_money_once(deployment, crash_after, step):
    """The README's table, row by row: the process dies after ``step``; the recovery round
    finishes what was begun; the client's retry gets the one answer; money moved once."""
    d = deployment
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: d.pay(d.world.merchant, 10_000, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(d.pay(d.world.merchant, 10_000, key))
    assert answer["status"] == "succeeded"
    fee = answer["fee_minor"]
    assert d.balances()[:2] == (buyer - 10_000, settlement + 10_000 - fee)
    replay = d.pay(d.world.merchant, 10_000, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[:2] == (buyer - 10_000, settlement + 10_000 - fee)
    got = d.api.ok(d.api.get(f"/v1/payments/{answer['id']}", d.world.buyer.key))
    assert got["status"] == "succeeded"


def test_a_retry_finishes_an_unfinished_payment_itself(deployment, crash_after):
    """No worker round needed: the client's retry with its key goes on from where it was."""
    d = deployment
    buyer, _, other = d.balances()
    key = str(uuid.uuid4())
    crash_after("B")
    _dies(d, lambda: d.pay(d.world.other_buyer, 777, key))
    crash_after(None)
    assert d.api.ok(d.pay(d.world.other_buyer, 777, key))["status"] == "succeeded"
    assert (d.balances()[0], d.balances()[2]) == (buyer - 777, other + 777)


def test_movements_not_ported_are_refused_not_booked_on_sql(deployment):
    """A SQL-ledger path reached on a TigerBeetle deployment (the API routes refunds through
    the two-store order, but the demo seed calls ``refunds.create`` itself) is refused at
    ``movement.book``, not booked in the main database beside the cluster."""
    d = deployment
    paid = d.api.ok(d.pay(d.world.merchant, 300, str(uuid.uuid4())))
    merchant = Caller("test", d.world.merchant.id, frozenset(DEFAULT_SCOPES))
    with pytest.raises(RefusalError) as refused:
        d.platform.run(lambda u: refunds.create(u, merchant, paid["id"], 100, None))
    assert refused.value.code == "ledger_not_supported" and "refund" in refused.value.message
    got = d.api.ok(d.api.get(f"/v1/payments/{paid['id']}", d.world.merchant.key))
    assert got["refunded_minor"] == 0 and got["status"] == "succeeded"


def test_verify_checks_every_payment_against_its_transfers(deployment):
    d = deployment
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok
    result = CliRunner().invoke(
        cli, ["ledger", "verify", "--db", d.url], env={"TINDAHAN_LEDGER_URL": d.cluster_url}
    )
    assert result.exit_code == 0, result.output
    assert "payments match their transfers" in result.output
    # a settled payment whose legs never reached the cluster is named
    paid = d.api.ok(d.pay(d.world.other_buyer, 5, str(uuid.uuid4())))

    def forge(unit: Any, legs: str) -> None:
        unit.conn.execute(
            two_store_payments.update()
            .where(two_store_payments.c.payment_id == paid["id"])
            .values(legs=legs)
        )

    real = d.platform.run(
        lambda u: u.conn.execute(
            select(two_store_payments.c.legs).where(two_store_payments.c.payment_id == paid["id"])
        ).scalar_one()
    )
    forged = real.replace('"amount": 5', '"amount": 6')
    d.platform.run(lambda u: forge(u, forged))
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert len(problems) == 1 and "moved 5, not 6" in problems[0], problems
    finally:
        d.platform.run(lambda u: forge(u, real))


# -- cash-ins: the same order (``cash.cash_in_on_cluster``) ---------------------------------


def _cash_balances(d: Deployment) -> tuple[int, int, int]:
    """The agent's float, the customer's (the buyer's) wallet, the agent's main wallet."""
    w = d.world
    rows = d.accounts((w.agent, "float"), (w.buyer, "main"), (w.agent, "main"))
    assert all(a.debits_pending == a.credits_pending == 0 for a in rows)
    return rows[0].balance_posted, rows[1].balance_posted, rows[2].balance_posted


def _cash_in(d: Deployment, amount: int, key: str, agent: Party | None = None) -> Any:
    body = {"customer_id": d.world.buyer.id, "amount_minor": amount, "currency": "PHP"}
    return d.api.post("/v1/cash_ins", (agent or d.world.agent).key, body, idem=key)


def _incoming(d: Deployment) -> int:
    """The buyer's running total of money in (what a cash-in counts against its month)."""

    def read(unit: Any) -> int:
        account = movement.holders(unit, [d.world.buyer.id])[(d.world.buyer.id, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == account.account_id,
                wallet_usage.c.direction == "in",
            )
        )
        return sum(rows.scalars())

    return d.platform.run(read, write=False)


def _announced(d: Deployment, event_type: str, payment_id: str) -> int:
    """How many ``event_type`` events in the outbox are about this payment."""
    rows = d.platform.run(
        lambda u: list(u.conn.execute(select(events.c.data).where(events.c.type == event_type))),
        write=False,
    )
    return sum(json.loads(data)["data"]["id"] == payment_id for (data,) in rows)


def test_a_cash_in_books_in_the_cluster_and_answers_once(deployment):
    d = deployment
    float_, buyer, agent_main = _cash_balances(d)
    incoming = _incoming(d)
    key = str(uuid.uuid4())
    cashed = d.api.ok(_cash_in(d, 20_000, key))
    assert cashed["kind"] == "cash_in" and cashed["status"] == "succeeded"
    commission = cashed["commission_minor"]
    assert commission == 100  # 0.5 % of ₱200, as on the SQL ledger
    assert _cash_balances(d) == (float_ - 20_000, buyer + 20_000, agent_main + commission)
    assert _incoming(d) == incoming + 20_000
    transfers = {t.removeprefix(cashed["id"].replace("_", ".")) for t in cashed["transfer_ids"]}
    assert transfers == {"", ".post", ".commission"}
    assert _announced(d, "cash_in.succeeded", cashed["id"]) == 1
    again = _cash_in(d, 20_000, key)
    assert again.json() == cashed and again.headers["Idempotent-Replayed"] == "true"
    assert _cash_balances(d) == (float_ - 20_000, buyer + 20_000, agent_main + commission)
    assert _announced(d, "cash_in.succeeded", cashed["id"]) == 1
    got = d.api.ok(d.api.get(f"/v1/payments/{cashed['id']}", d.world.buyer.key))
    assert got["status"] == "succeeded" and got["kind"] == "cash_in"


def test_a_cash_in_beyond_the_float_is_refused_as_on_sql(deployment):
    """An agent opened after the switch, with no float: the hold is refused by the cluster,
    ``402 insufficient_float`` (the SQL path's code), the customer's monthly total back."""
    d = deployment
    agent = make_party(d.api, d.world.operator, {"kind": "agent", "name": "Walang Float"})
    _, buyer, _ = _cash_balances(d)
    incoming = _incoming(d)
    key = str(uuid.uuid4())
    refused = _cash_in(d, 5_000, key, agent)
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "insufficient_float"
    assert refused.json()["error"]["param"] == "amount_minor"
    assert _cash_balances(d)[1] == buyer and _incoming(d) == incoming
    again = _cash_in(d, 5_000, key, agent)
    assert again.status_code == 402 and again.json() == refused.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert two_store.unfinished(d.platform) == 0


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_cash_in_moves_the_money_once(deployment, crash_after, step):
    """The README's table for a cash-in: the process dies after ``step``; recovery (or the
    retry) finishes it; the float, the customer and the agent's commission moved once, and
    ``cash_in.succeeded`` is in the outbox once."""
    d = deployment
    float_, buyer, agent_main = _cash_balances(d)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _cash_in(d, 30_000, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_cash_in(d, 30_000, key))
    assert answer["status"] == "succeeded" and answer["kind"] == "cash_in"
    moved = (float_ - 30_000, buyer + 30_000, agent_main + answer["commission_minor"])
    assert _cash_balances(d) == moved
    replay = _cash_in(d, 30_000, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert _cash_balances(d) == moved
    assert _announced(d, "cash_in.succeeded", answer["id"]) == 1


def test_verify_checks_every_cash_in_against_its_transfers(deployment):
    d = deployment
    cashed = d.api.ok(_cash_in(d, 40_000, str(uuid.uuid4())))
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok

    def legs(unit: Any, value: str | None = None) -> str:
        where = two_store_payments.c.payment_id == cashed["id"]
        if value is not None:
            unit.conn.execute(two_store_payments.update().where(where).values(legs=value))
        return str(unit.conn.execute(select(two_store_payments.c.legs).where(where)).scalar_one())

    real = d.platform.run(legs)
    commission = cashed["commission_minor"]
    forged = real.replace(f'"amount": {commission}', f'"amount": {commission + 1}')
    d.platform.run(lambda u: legs(u, forged))
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert len(problems) == 1, problems
        assert ".commission" in problems[0]
        assert f"moved {commission}, not {commission + 1}" in problems[0]
    finally:
        d.platform.run(lambda u: legs(u, real))
    assert two_store.verify(d.db, d.ledger) == []


# -- operator fundings: the same order (``cash.fund_on_cluster``) ---------------------------


def _fund(d: Deployment, party: Party, amount: int, key: str, currency: str = "PHP") -> Any:
    body = {"wallet_id": party.wallets["main"], "amount_minor": amount, "currency": currency}
    return d.api.post("/v1/fundings", d.world.operator, body, idem=key)


def test_a_funding_books_in_the_cluster_and_answers_once(deployment):
    d = deployment
    _, buyer, _ = _cash_balances(d)
    incoming = _incoming(d)
    key = str(uuid.uuid4())
    funded = d.api.ok(_fund(d, d.world.buyer, 12_345, key))
    assert funded["kind"] == "funding" and funded["status"] == "succeeded"
    assert _cash_balances(d)[1] == buyer + 12_345
    assert _incoming(d) == incoming + 12_345
    transfers = {t.removeprefix(funded["id"].replace("_", ".")) for t in funded["transfer_ids"]}
    assert transfers == {"", ".post"}
    assert _announced(d, "funding.succeeded", funded["id"]) == 1
    again = _fund(d, d.world.buyer, 12_345, key)
    assert again.json() == funded and again.headers["Idempotent-Replayed"] == "true"
    assert _cash_balances(d)[1] == buyer + 12_345
    assert _announced(d, "funding.succeeded", funded["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


def _abroad(d: Deployment, mid_rate: str = "58.25") -> Party:
    """A customer whose wallet holds USD, and the operator's USD rate for the day."""
    d.api.ok(d.api.post("/v1/fx_rates/USD", d.world.operator, {"mid_rate": mid_rate}))
    body = {"kind": "customer", "name": "Tita Baby", "currency": "USD", "tier": "full"}
    return make_party(d.api, d.world.operator, body)


def _incoming_of(d: Deployment, party: Party) -> int:
    """The party's main wallet's running total of money in (PHP figures)."""

    def read(unit: Any) -> int:
        account = movement.holders(unit, [party.id])[(party.id, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == account.account_id,
                wallet_usage.c.direction == "in",
            )
        )
        return sum(rows.scalars())

    return d.platform.run(read, write=False)


def _usd(d: Deployment, party: Party) -> tuple[Account, Account]:
    """The party's USD wallet and the operator's USD bank account, from the cluster."""
    (wallet,) = d.accounts((party, "main"))
    bank = d.ledger.lookup_accounts([bank_account("USD")])[bank_account("USD")]
    return wallet, bank


def test_a_funding_in_another_currency_books_on_its_own_ledger(deployment):
    """USD on the cluster's USD ledger (840), never mixed with PHP's (608): the wallet and
    ``op.bank.USD`` are there, the per-ledger sums stay zero, and the cluster refuses a
    transfer between a USD and a PHP account. The month counts the PHP figure, as on SQL."""
    d = deployment
    abroad = _abroad(d)
    key = str(uuid.uuid4())
    funded = d.api.ok(_fund(d, abroad, 10_000, key, "USD"))  # US$100.00 at 58.25
    assert (funded["status"], funded["currency"]) == ("succeeded", "USD")
    wallet, bank = _usd(d, abroad)
    assert wallet.ledger == bank.ledger == "USD" and ledger_number("USD") == 840
    assert wallet.balance_posted == 10_000
    assert _incoming_of(d, abroad) == 582_500
    again = _fund(d, abroad, 10_000, key, "USD")
    assert again.json() == funded and again.headers["Idempotent-Replayed"] == "true"
    assert _usd(d, abroad)[0].balance_posted == 10_000
    totals = {t.ledger: t for t in d.ledger.totals()}
    usd, php = totals["USD"], totals["PHP"]
    assert usd.debits_posted == usd.credits_posted and usd.debits_pending == usd.credits_pending
    assert php.debits_posted == php.credits_posted
    # a transfer across the two ledgers is refused by the cluster itself
    php_wallet = d.accounts((d.world.buyer, "main"))[0]
    mixed = NewTransfer(f"mix.{uuid.uuid4().hex}", wallet.id, php_wallet.id, 1, "USD")
    (outcome,) = d.ledger.create_transfers([mixed])
    assert not outcome.ok, outcome
    assert _usd(d, abroad)[0].balance_posted == 10_000
    assert d.accounts((d.world.buyer, "main"))[0].balance_posted == php_wallet.balance_posted
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_in_a_funding_in_another_currency_moves_it_once(deployment, crash_after, step):
    d = deployment
    abroad = _abroad(d)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _fund(d, abroad, 2_500, key, "USD"))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_fund(d, abroad, 2_500, key, "USD"))
    assert (answer["status"], answer["currency"]) == ("succeeded", "USD")
    replay = _fund(d, abroad, 2_500, key, "USD")
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert _usd(d, abroad)[0].balance_posted == 2_500
    assert _incoming_of(d, abroad) == 145_625  # US$25.00 at 58.25, once
    assert _announced(d, "funding.succeeded", answer["id"]) == 1


def test_a_funding_refused_after_the_rate_changed_gives_back_what_it_counted(
    deployment, crash_after
):
    """A crash after A, the reservation's time over before recovery, and the day's rate
    changed meanwhile: the refusal gives back the PHP figure A counted (kept with its legs),
    not today's."""
    d = deployment
    abroad = _abroad(d)
    key = str(uuid.uuid4())
    crash_after("A")
    _dies(d, lambda: _fund(d, abroad, 2_500, key, "USD"))
    crash_after(None)
    assert _incoming_of(d, abroad) == 145_625

    def past_deadline(unit: Any) -> None:
        unfinished = two_store_payments.c.state == "reserving"
        unit.conn.execute(two_store_payments.update().where(unfinished).values(deadline_ns=0))

    d.platform.run(past_deadline)
    d.api.ok(d.api.post("/v1/fx_rates/USD", d.world.operator, {"mid_rate": "61.00"}))
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert _incoming_of(d, abroad) == 0
    wallet = d.platform.run(lambda u: movement.holders(u, [abroad.id])[(abroad.id, "main")])
    assert d.ledger.lookup_accounts([wallet.account_id]) == {}  # nothing reached the cluster
    answer = _fund(d, abroad, 2_500, key, "USD")
    assert answer.status_code == 402, answer.text
    assert answer.json()["error"]["code"] == "reservation_expired"
    assert two_store.verify(d.db, d.ledger) == []


def test_verify_names_a_funding_on_another_ledger_than_its_currency_s(deployment):
    d = deployment
    abroad = _abroad(d)
    funded = d.api.ok(_fund(d, abroad, 700, str(uuid.uuid4()), "USD"))

    def legs(unit: Any, text: str | None = None) -> str:
        where = two_store_payments.c.payment_id == funded["id"]
        if text is not None:
            unit.conn.execute(two_store_payments.update().where(where).values(legs=text))
        return str(unit.conn.execute(select(two_store_payments.c.legs).where(where)).scalar_one())

    real = d.platform.run(legs)
    d.platform.run(lambda u: legs(u, real.replace('"ledger": "USD"', '"ledger": "PHP"')))
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert len(problems) == 1 and "on the USD ledger, not PHP" in problems[0], problems
    finally:
        d.platform.run(lambda u: legs(u, real))


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_funding_moves_the_money_once(deployment, crash_after, step):
    d = deployment
    _, buyer, _ = _cash_balances(d)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _fund(d, d.world.buyer, 4_321, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_fund(d, d.world.buyer, 4_321, key))
    assert answer["status"] == "succeeded" and answer["kind"] == "funding"
    assert _cash_balances(d)[1] == buyer + 4_321
    replay = _fund(d, d.world.buyer, 4_321, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert _cash_balances(d)[1] == buyer + 4_321
    assert _announced(d, "funding.succeeded", answer["id"]) == 1


def test_another_process_shows_the_names_not_tb_hex(deployment):
    """A second adapter (as a restarted or another process would open) names the accounts,
    transfers and metadata of a payment booked by the first, from the name table; without
    the table it could only show ``tb:<hex>``."""
    d = deployment
    paid = d.api.ok(d.pay(d.world.merchant, 4_321, str(uuid.uuid4())))
    buyer = d.accounts((d.world.buyer, "main"))[0].id
    fresh, bare = TigerBeetleLedger.connect(d.cluster_url), TigerBeetleLedger.connect(d.cluster_url)
    try:
        replace(d.platform, ledger=fresh)  # the platform hands it the database's name table
        newest = fresh.account_transfers(buyer, limit=5)
        ids = [t.id for t in newest]
        assert set(paid["transfer_ids"]) & set(ids), ids
        for t in newest:
            names = [t.id, t.debit_account_id, t.credit_account_id, t.pending_id or ""]
            assert not any(n.startswith("tb:") for n in names), names
            assert "tigerbeetle_user_data_128" not in t.metadata
        hold = next(t for t in newest if t.id == paid["transfer_ids"][0])
        assert hold.metadata.get("payment") == paid["id"]
        post = fresh.lookup_transfers([paid["transfer_ids"][1]])[paid["transfer_ids"][1]]
        assert post.pending_id == paid["transfer_ids"][0]
        # every account of the cluster, the migration's included, has its name
        assert not [a.id for a in fresh.all_accounts() if a.id.startswith("tb:")]
        # the same reads without the table: the numbers only
        assert all(t.id.startswith("tb:") for t in bare.account_transfers(buyer, limit=5))
    finally:
        fresh.close()
        bare.close()


def test_the_statement_and_the_payment_s_transfers_read_the_cluster(deployment):
    """A wallet's statement (``GET /v1/wallets/{id}/transactions``) and
    ``GET /v1/payments/{id}/transfers`` show what the cluster booked: the SQL ledger's tables
    never saw this payment."""
    d = deployment
    wallet = d.world.buyer.wallets["main"]
    paid = d.api.ok(d.pay(d.world.merchant, 2_500, str(uuid.uuid4())))
    hold, post, fee = paid["transfer_ids"]
    path = f"/v1/wallets/{wallet}/transactions"
    newest = d.api.ok(d.api.get(path, d.world.buyer.key, limit=2))
    assert newest["has_more"] is True
    assert [(e["id"], e["phase"], e["signed_amount_minor"]) for e in newest["data"]] == [
        (post, "posted_hold", -2_500),
        (hold, "pending", -2_500),
    ]
    assert {e["payment_id"] for e in newest["data"]} == {paid["id"]}
    assert (
        newest["data"][0]["counterparty_account_id"]
        == d.accounts((d.world.merchant, "settlement"))[0].id
    )
    # the next page starts after the cursor; a date bound ends it
    older = d.api.ok(d.api.get(path, d.world.buyer.key, limit=100, starting_after=hold))
    assert older["data"] and hold not in [e["id"] for e in older["data"]]
    since = d.api.ok(d.api.get(path, d.world.buyer.key, limit=100, created_gte=paid["created"]))
    assert [e["id"] for e in since["data"]] == [post, hold]
    bad = d.api.get(path, d.world.buyer.key, starting_after="pay.nothing")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "cursor_invalid"
    # the payment's transfers, from the cluster, with the merchant discount as its own leg
    legs = d.api.ok(d.api.get(f"/v1/payments/{paid['id']}/transfers", d.world.buyer.key))
    got = {t["id"]: t for t in legs["data"]}
    assert set(got) == {hold, post, fee}
    assert got[hold]["flags"] == ["pending"] and got[post]["pending_id"] == hold
    assert got[post]["amount_minor"] == 2_500 and got[fee]["amount_minor"] == paid["fee_minor"]


def test_the_statement_s_running_balance_starts_from_the_cluster_s_balance(deployment):
    """What the merchant's statement page and its CSV compute: the posted balance before a
    moment (``balance_before``, from the cluster's balance history) plus the entries after
    it is the wallet's balance now."""
    d = deployment
    wallet = d.world.merchant.wallets["settlement"]
    start = d.platform.now()
    paid = d.api.ok(d.pay(d.world.merchant, 3_000, str(uuid.uuid4())))
    operator = Caller("test", None, frozenset(DEFAULT_SCOPES))

    def read(unit: Any) -> tuple[int, list[dict[str, Any]], int]:
        opening = wallets.balance_before(unit, operator, wallet, start)
        entries = wallets.statement(unit, operator, wallet, 100, None, start, None)["data"]
        return opening, entries, wallets.balance_before(unit, operator, wallet, d.platform.now())

    opening, entries, closing = d.platform.run(read, write=False)
    moved = sum(e["signed_amount_minor"] for e in entries if e["phase"] != "pending")
    now = d.world.balance(d.world.merchant, "settlement")
    assert moved == 3_000 - paid["fee_minor"]
    assert opening + moved == now == closing
    assert opening == now - 3_000 + paid["fee_minor"]


def test_a_party_whose_money_is_in_the_cluster_cannot_be_closed(deployment):
    """Closing a party asks for empty wallets: the cluster's balances, not what the SQL
    accounts held at the switch (a wallet opened since is at zero there)."""
    d = deployment
    body = {"kind": "customer", "name": "Rosa", "tier": "full"}
    paid_to, empty = (make_party(d.api, d.world.operator, body) for _ in range(2))
    d.api.ok(d.pay(paid_to, 500, str(uuid.uuid4())))
    refused = d.api.post(f"/v1/parties/{paid_to.id}", d.world.operator, {"status": "closed"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "wallet_not_empty"
    closed = d.api.post(f"/v1/parties/{empty.id}", d.world.operator, {"status": "closed"})
    assert d.api.ok(closed)["status"] == "closed"


# -- cash-outs: held, then confirmed, canceled or expired (``cash.*_on_cluster``) -----------


def _cash_out(d: Deployment, amount: int, key: str | None = None) -> Any:
    body = {"agent_id": d.world.agent.id, "amount_minor": amount, "currency": "PHP"}
    return d.api.post("/v1/cash_outs", d.world.buyer.key, body, idem=key)


def _then(d: Deployment, payment_id: str, what: str, key: str | None = None) -> Any:
    """``confirm`` (by the agent) or ``cancel`` (by the customer) a cash-out."""
    who = d.world.agent if what == "confirm" else d.world.buyer
    return d.api.post(f"/v1/cash_outs/{payment_id}/{what}", who.key, {}, idem=key)


def _held(d: Deployment) -> tuple[int, int]:
    """What the cluster holds out of the buyer's wallet and into the agent's float."""
    buyer, float_ = d.accounts((d.world.buyer, "main"), (d.world.agent, "float"))
    return buyer.debits_pending, float_.credits_pending


def test_a_cash_out_is_held_then_posted_when_the_agent_confirms(deployment):
    d = deployment
    float_, buyer, agent_main = _cash_balances(d)
    used = _usage(d)
    key = str(uuid.uuid4())
    asked = d.api.ok(_cash_out(d, 15_000, key))
    assert asked["kind"] == "cash_out" and asked["status"] == "pending"
    assert _held(d) == (15_000, 15_000)
    assert _usage(d) == used + 2 * 15_000  # the day's and the month's running totals
    assert _announced(d, "cash_out.pending", asked["id"]) == 1
    again = _cash_out(d, 15_000, key)
    assert again.json() == asked and again.headers["Idempotent-Replayed"] == "true"
    assert _held(d) == (15_000, 15_000)
    confirm_key = str(uuid.uuid4())
    done = d.api.ok(_then(d, asked["id"], "confirm", confirm_key))
    assert done["status"] == "succeeded" and done["commission_minor"] == 75  # 0.5 %
    assert _cash_balances(d) == (float_ + 15_000, buyer - 15_000, agent_main + 75)
    transfers = {t.removeprefix(done["id"].replace("_", ".")) for t in done["transfer_ids"]}
    assert transfers == {"", ".post", ".commission"}
    assert _announced(d, "cash_out.succeeded", asked["id"]) == 1
    # the commission leg, added by the confirmation, has its name in the table too
    commission = done["transfer_ids"][-1]
    number = id128(commission)
    named = d.platform.run(lambda u: ledger_names.load(u.conn, [number]), write=False)
    assert named == {number: commission}
    replay = _then(d, asked["id"], "confirm", confirm_key)
    assert replay.json() == done and replay.headers["Idempotent-Replayed"] == "true"
    assert _cash_out(d, 15_000, key).json() == asked  # the request's answer stays pending
    late = _then(d, asked["id"], "cancel")
    assert late.status_code == 409 and late.json()["error"]["code"] == "cash_out_not_pending"
    assert _cash_balances(d) == (float_ + 15_000, buyer - 15_000, agent_main + 75)
    assert two_store.verify(d.db, d.ledger) == []


def test_a_canceled_cash_out_voids_its_hold_and_gives_the_totals_back(deployment):
    d = deployment
    before, used = _cash_balances(d), _usage(d)
    asked = d.api.ok(_cash_out(d, 6_000))
    assert _held(d) == (6_000, 6_000)
    key = str(uuid.uuid4())
    canceled = d.api.ok(_then(d, asked["id"], "cancel", key))
    assert canceled["status"] == "failed"
    assert canceled["transfer_ids"][-1].endswith(".void")
    assert _cash_balances(d) == before and _usage(d) == used
    assert _announced(d, "cash_out.failed", asked["id"]) == 1
    replay = _then(d, asked["id"], "cancel", key)
    assert replay.json() == canceled and replay.headers["Idempotent-Replayed"] == "true"
    late = _then(d, asked["id"], "confirm")
    assert late.status_code == 409 and late.json()["error"]["code"] == "cash_out_not_pending"
    assert _cash_balances(d) == before


def test_an_expired_cash_out_is_voided_by_the_sweep(deployment):
    d = deployment
    before, used = _cash_balances(d), _usage(d)
    asked = d.api.ok(_cash_out(d, 2_500))
    d.platform.run(
        lambda u: u.conn.execute(
            payments.update().where(payments.c.id == asked["id"]).values(expires_at_ns=1)
        )
    )
    assert cash.expire_cash_outs(d.platform) == 1
    assert _cash_balances(d) == before and _usage(d) == used
    got = d.api.ok(d.api.get(f"/v1/payments/{asked['id']}", d.world.buyer.key))
    assert got["status"] == "failed"
    assert _announced(d, "cash_out.failed", asked["id"]) == 1
    assert cash.expire_cash_outs(d.platform) == 0


@pytest.mark.parametrize("step", two_store.CASH_OUT_STEPS["request"])
def test_a_crash_in_a_cash_out_request_holds_the_money_once(deployment, crash_after, step):
    d = deployment
    float_, buyer, agent_main = _cash_balances(d)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _cash_out(d, 7_000, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (1 if step in ("A", "holds") else 0)
    assert two_store.unfinished(d.platform) == 0
    asked = d.api.ok(_cash_out(d, 7_000, key))
    assert asked["status"] == "pending"
    assert _held(d) == (7_000, 7_000)
    assert _announced(d, "cash_out.pending", asked["id"]) == 1
    done = d.api.ok(_then(d, asked["id"], "confirm"))
    fee = done["commission_minor"]
    assert _cash_balances(d) == (float_ + 7_000, buyer - 7_000, agent_main + fee)


@pytest.mark.parametrize("step", two_store.CASH_OUT_STEPS["confirm"])
def test_a_crash_in_a_cash_out_confirmation_pays_once(deployment, crash_after, step):
    d = deployment
    float_, buyer, agent_main = _cash_balances(d)
    asked = d.api.ok(_cash_out(d, 8_000))
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _then(d, asked["id"], "confirm", key))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step == "C" else 1)
    done = d.api.ok(_then(d, asked["id"], "confirm", key))
    assert done["status"] == "succeeded"
    fee = done["commission_minor"]
    assert _cash_balances(d) == (float_ + 8_000, buyer - 8_000, agent_main + fee)
    replay = _then(d, asked["id"], "confirm", key)
    assert replay.json() == done and replay.headers["Idempotent-Replayed"] == "true"
    assert _announced(d, "cash_out.succeeded", asked["id"]) == 1


@pytest.mark.parametrize("step", two_store.CASH_OUT_STEPS["cancel"])
def test_a_crash_in_a_cash_out_cancel_releases_once(deployment, crash_after, step):
    d = deployment
    before, used = _cash_balances(d), _usage(d)
    asked = d.api.ok(_cash_out(d, 9_000))
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _then(d, asked["id"], "cancel", key))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert two_store.unfinished(d.platform) == 0
    canceled = d.api.ok(_then(d, asked["id"], "cancel", key))
    assert canceled["status"] == "failed"
    assert _cash_balances(d) == before and _usage(d) == used
    assert _announced(d, "cash_out.failed", asked["id"]) == 1


def test_backfill_names_what_was_booked_before_the_name_table(deployment):
    """A deployment switched before migration 0047: its numbers have no names (emptied here)
    until ``ledger backfill-names`` derives them from the accounts and the two-store legs."""
    d = deployment
    paid = d.api.ok(d.pay(d.world.merchant, 1_111, str(uuid.uuid4())))
    buyer = d.accounts((d.world.buyer, "main"))[0].id
    d.platform.run(lambda u: u.conn.execute(tigerbeetle_names.delete()))

    def newest() -> list[str]:
        fresh = TigerBeetleLedger.connect(d.cluster_url)
        try:
            replace(d.platform, ledger=fresh)
            found = fresh.account_transfers(buyer, limit=3)
            return [n for t in found for n in (t.id, t.debit_account_id, t.credit_account_id)]
        finally:
            fresh.close()

    assert all(n.startswith("tb:") or n == buyer for n in newest())
    result = CliRunner().invoke(cli, ["ledger", "backfill-names", "--db", d.url])
    assert result.exit_code == 0, result.output
    assert "named the accounts" in result.output
    names = newest()
    assert paid["transfer_ids"][0] in names and not [n for n in names if n.startswith("tb:")]
    again = CliRunner().invoke(cli, ["ledger", "backfill-names", "--db", d.url])
    assert again.exit_code == 0, again.output


def test_the_trial_balance_reads_the_cluster(deployment):
    """The operator's trial balance (``/op``) sums the cluster's balances: a payment's fee
    shows in the fees, and every currency ledger still balances (the migration's account,
    which only the cluster has, included)."""
    d = deployment
    operator = Caller("test", None, frozenset(DEFAULT_SCOPES))

    def fees() -> tuple[int, bool]:
        book = d.platform.run(lambda u: books.trial_balance(u, operator), write=False)
        php = next(b for b in book["ledgers"] if b["currency"] == "PHP")
        group = next(g for g in php["groups"] if g["group"] == "fees")
        return group["credit_balance_minor"], php["balanced"]

    before, balanced = fees()
    assert balanced
    paid = d.api.ok(d.pay(d.world.merchant, 7_000, str(uuid.uuid4())))
    assert fees() == (before + paid["fee_minor"], True)


# -- held for review: payments, sends and cash-ins (``two_store.judged``) ----------------------

#: Every payment and send (velocity: any amount in an hour) and every cash-in (covered cash
#: over nothing) held for review.
REVIEW_ALL = """
[[rule]]
id = "velocity"
version = 1
decision = "review"
[rule.params]
hour_max_count = 1000000
hour_max_minor = 0
day_max_count = 1000000
day_max_minor = 1000000000000
month_max_count = 1000000
month_max_minor = 1000000000000
pair_day_max_count = 1000000

[[rule]]
id = "covered_cash"
version = 1
decision = "review"
[rule.params]
threshold_minor = 0
"""


@pytest.fixture
def reviewing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(REVIEW_ALL)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(rules))


def _alert_of(d: Deployment, transfer_id: str) -> dict[str, Any]:
    """The movement's one alert (its principal transfer's)."""
    query = select(risk_alerts).where(risk_alerts.c.transfer_id == transfer_id)
    (alert,) = d.platform.run(lambda u: list(u.conn.execute(query).mappings()), write=False)
    return dict(alert)


def _decide(d: Deployment, alert_id: str, decision: str) -> dict[str, Any]:
    return d.platform.run(lambda u: risk_holds.decide(u, OPERATOR, alert_id, decision, None))


def _wallet(d: Deployment, party: Party, kind: str = "main") -> tuple[int, int]:
    """(posted, held: pending debits) of a wallet in the cluster."""
    (account,) = d.accounts((party, kind))
    return account.balance_posted, account.debits_pending


def _held_shown(d: Deployment, party: Party, kind: str = "main") -> int:
    """The wallet's "held for review" figure, as the web pages read it (the party's own)."""
    caller = Caller("test", party.id, frozenset(DEFAULT_SCOPES))
    wallet = party.wallets[kind]
    return d.platform.run(lambda u: wallets.under_review_minor(u, caller, wallet), write=False)


def _reviewed(d: Deployment, payment_id: str, key: str) -> bool:
    got = d.api.ok(d.api.get(f"/v1/payments/{payment_id}", key))
    return bool(got["under_review"])


@pytest.mark.usefixtures("reviewing")
def test_a_payment_held_for_review_is_held_in_the_cluster_and_released(deployment):
    """Succeeded and held, as on SQL: the answer, the event and ``GET`` say ``under_review``;
    the hold (settlement wallet → ``op.risk.holds``, the net, pending, no timeout) booked in
    the post chain; the analyst's release voids it; verify checks the hold against its alert."""
    d = deployment
    buyer, settlement, other = d.balances()
    key = str(uuid.uuid4())
    paid = d.api.ok(d.pay(d.world.merchant, 5_000, key))
    net = 5_000 - paid["fee_minor"]
    assert (paid["status"], paid["under_review"]) == ("succeeded", True)
    assert _wallet(d, d.world.merchant, "settlement") == (settlement + net, net)
    alert = _alert_of(d, paid["transfer_ids"][0])
    assert (alert["status"], alert["rule"], alert["hold_id"] in paid["transfer_ids"]) == (
        "open",
        "velocity",
        True,
    )
    hold = d.ledger.lookup_transfers([alert["hold_id"]])[alert["hold_id"]]
    assert (hold.amount, hold.timeout_seconds) == (net, 0)
    assert _reviewed(d, paid["id"], d.world.merchant.key)
    # the pages' figure reads the cluster: the payee's wallet, not the payer's
    assert _held_shown(d, d.world.merchant, "settlement") == net
    assert _held_shown(d, d.world.buyer) == 0
    (event,) = [
        json.loads(data)["data"]
        for (data,) in d.platform.run(
            lambda u: list(
                u.conn.execute(select(events.c.data).where(events.c.type == "payment.succeeded"))
            ),
            write=False,
        )
        if json.loads(data)["data"]["id"] == paid["id"]
    ]
    assert event["under_review"] is True
    assert d.pay(d.world.merchant, 5_000, key).json() == paid
    assert two_store.verify(d.db, d.ledger) == []
    _decide(d, alert["id"], "release")
    assert d.balances() == (buyer - 5_000, settlement + net, other)
    assert _held_shown(d, d.world.merchant, "settlement") == 0
    assert not _reviewed(d, paid["id"], d.world.buyer.key)
    assert two_store.verify(d.db, d.ledger) == []
    # an alert that says open while the cluster voided its hold is named
    where = risk_alerts.c.id == alert["id"]
    d.platform.run(
        lambda u: u.conn.execute(risk_alerts.update().where(where).values(status="open"))
    )
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert problems == [
            f"payment {paid['id']}: its review hold {alert['hold_id']} is open, not so in the "
            "cluster"
        ]
    finally:
        d.platform.run(
            lambda u: u.conn.execute(risk_alerts.update().where(where).values(status="released"))
        )


@pytest.mark.usefixtures("reviewing")
def test_a_send_held_for_review_is_returned_to_the_payer_in_the_cluster(deployment):
    d = deployment
    before = d.balances()
    sent = d.api.ok(d.pay(d.world.other_buyer, 700, str(uuid.uuid4())))
    assert (sent["kind"], sent["under_review"]) == ("p2p", True)
    assert _wallet(d, d.world.other_buyer) == (before[2] + 700, 700)
    assert _held_shown(d, d.world.other_buyer) == 700
    alert = _alert_of(d, sent["transfer_ids"][0])
    assert _decide(d, alert["id"], "return")["status"] == "returned"
    assert _held_shown(d, d.world.other_buyer) == 0
    assert d.balances() == before  # posted to op.risk.holds and paid back to the buyer
    assert not _reviewed(d, sent["id"], d.world.other_buyer.key)
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("reviewing")
def test_a_cash_in_held_for_review_is_held_in_the_cluster_and_released(deployment):
    d = deployment
    float_, buyer, agent_main = _cash_balances(d)
    cashed = d.api.ok(_cash_in(d, 3_000, str(uuid.uuid4())))
    assert (cashed["status"], cashed["under_review"]) == ("succeeded", True)
    assert _wallet(d, d.world.buyer) == (buyer + 3_000, 3_000)
    alert = _alert_of(d, cashed["transfer_ids"][0])
    assert alert["rule"] == "covered_cash"
    _decide(d, alert["id"], "release")
    commission = cashed["commission_minor"]
    assert _cash_balances(d) == (float_ - 3_000, buyer + 3_000, agent_main + commission)
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("reviewing")
@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_in_a_payment_held_for_review_holds_it_once(deployment, crash_after, step):
    d = deployment
    buyer, settlement, other = d.balances()
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: d.pay(d.world.other_buyer, 400, key))
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(d.pay(d.world.other_buyer, 400, key))
    assert (answer["status"], answer["under_review"]) == ("succeeded", True)
    assert _wallet(d, d.world.other_buyer) == (other + 400, 400)  # moved once, held once
    alert = _alert_of(d, answer["transfer_ids"][0])  # one alert
    _decide(d, alert["id"], "release")
    assert d.balances() == (buyer - 400, settlement, other + 400)
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("reviewing")
def test_a_payment_held_for_review_given_up_at_its_deadline_closes_its_alert(
    deployment, crash_after, monkeypatch
):
    """Refused with nothing moved: the alert A stored holds nothing, so it is closed."""
    d = deployment
    before = d.balances()
    monkeypatch.setattr(two_store, "RESERVATION_TIMEOUT_S", 0)
    key = str(uuid.uuid4())
    crash_after("A")
    _dies(d, lambda: d.pay(d.world.other_buyer, 300, key))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == 1
    refused = d.pay(d.world.other_buyer, 300, key)
    assert refused.json()["error"]["code"] == "reservation_expired", refused.text
    payment_id = d.platform.run(
        lambda u: u.conn.execute(
            select(two_store_payments.c.payment_id).where(two_store_payments.c.idem_key == key)
        ).scalar_one(),
        write=False,
    )
    principal = f"{payment_id.replace('_', '.')}"
    alert = _alert_of(d, principal)
    assert (alert["status"], alert["hold_id"]) == ("closed", None)
    assert d.balances() == before
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("reviewing")
@pytest.mark.parametrize("decision", ["release", "return"])
def test_a_decision_that_died_after_the_cluster_refuses_the_other_then_finishes(
    deployment, monkeypatch, decision
):
    """The analyst's decision booked in the cluster, its transaction dead before its commit
    (the alert still open): the other decision is refused ``alert_decided_in_ledger`` with
    nothing changed (the money moved as the first said, and cannot be moved back); the same
    decision again books nothing twice and records it."""
    d = deployment
    buyer, settlement, other = d.balances()
    sent = d.api.ok(d.pay(d.world.other_buyer, 600, str(uuid.uuid4())))
    alert = _alert_of(d, sent["transfer_ids"][0])
    book = cluster_booking.book_within

    def dies(*args: Any) -> None:
        book(*args)
        raise Crash("after the cluster")

    monkeypatch.setattr(cluster_booking, "book_within", dies)
    with pytest.raises(Crash):
        _decide(d, alert["id"], decision)
    monkeypatch.setattr(cluster_booking, "book_within", book)
    assert _alert_of(d, sent["transfer_ids"][0])["status"] == "open"
    assert _held_shown(d, d.world.other_buyer) == 0  # open, but no longer held in the cluster
    moved = (
        (buyer - 600, settlement, other + 600)
        if decision == "release"
        else (buyer, settlement, other)
    )
    assert d.balances() == moved  # the cluster holds the first decision
    opposite = "return" if decision == "release" else "release"
    with pytest.raises(RefusalError) as refused:
        _decide(d, alert["id"], opposite)
    assert refused.value.code == "alert_decided_in_ledger", refused.value
    assert f"{decision} it to record" in refused.value.message
    assert _alert_of(d, sent["transfer_ids"][0])["status"] == "open" and d.balances() == moved
    decided = _decide(d, alert["id"], decision)
    assert decided["status"] == ("released" if decision == "release" else "returned")
    assert d.balances() == moved
    assert two_store.verify(d.db, d.ledger) == []


# -- a hold that expires before its post (the ``reservation_expired`` path) -----------------


def _usage_of(d: Deployment, party: Party, direction: str) -> int:
    """A main wallet's running total (``out``: its day and month paid; ``in``: received)."""

    def read(unit: Any) -> int:
        account = movement.holders(unit, [party.id])[(party.id, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == account.account_id,
                wallet_usage.c.direction == direction,
            )
        )
        return sum(rows.scalars())

    return d.platform.run(read, write=False)


def _until_released(d: Deployment, party: Party, seconds: float = 20) -> None:
    """Wait until the cluster has voided every hold on the party's main wallet by its timeout
    (its pending debits back to 0): the holds are then expired, whatever the machine's load."""
    deadline = time.monotonic() + seconds
    while d.accounts((party, "main"))[0].debits_pending:
        assert time.monotonic() < deadline, "the cluster never expired the hold"
        time.sleep(0.1)


def test_a_hold_expired_before_its_post_is_refused_and_moves_nothing(
    deployment, crash_after, monkeypatch
):
    """The holds' timeout at 1 s (TigerBeetle's is in seconds). One P2P send dies after B
    (its hold booked, ``reserved``); a merchant payment's request stalls after its own B until
    both holds have expired. The stalled request's post is refused by the cluster: it answers
    ``402 reservation_expired``; recovery refuses the dead one the same way. Neither moves a
    centavo, both give their running totals back, their retries answer the same refusal, and
    ``ledger verify`` is clean."""
    d = deployment
    w = d.world
    monkeypatch.setattr(two_store, "RESERVATION_TIMEOUT_S", 1)
    before = d.balances()
    paid, got = _usage_of(d, w.buyer, "out"), _usage_of(d, w.other_buyer, "in")
    dead, stalled = str(uuid.uuid4()), str(uuid.uuid4())
    crash_after("B")
    _dies(d, lambda: d.pay(w.other_buyer, 700, dead))
    assert _usage_of(d, w.buyer, "out") > paid  # A counted it (the payer's day and month)
    assert _usage_of(d, w.other_buyer, "in") > got

    def stall(done: str) -> None:  # a request slowed down between B and its post
        if done == "B":
            _until_released(d, w.buyer)

    monkeypatch.setattr(two_store, "crash_hook", stall)
    answer = d.pay(w.merchant, 9_000, stalled)
    assert answer.status_code == 402, answer.text
    assert answer.json()["error"]["code"] == "reservation_expired"
    monkeypatch.setattr(two_store, "crash_hook", two_store._no_crash)

    assert two_store.unfinished(d.platform) == 1  # the dead send, left ``reserved``
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert two_store.unfinished(d.platform) == 0
    assert d.balances() == before  # nothing moved, nothing still held
    assert _usage_of(d, w.buyer, "out") == paid  # both payments' totals given back
    assert _usage_of(d, w.other_buyer, "in") == got
    for key, payee, amount in ((stalled, w.merchant, 9_000), (dead, w.other_buyer, 700)):
        again = d.pay(payee, amount, key)
        assert again.status_code == 402, again.text
        assert again.json()["error"]["code"] == "reservation_expired"
        assert d.pay(payee, amount, key).headers["Idempotent-Replayed"] == "true"
    refused = d.platform.run(
        lambda u: u.conn.execute(
            select(payments.c.status)
            .join(two_store_payments, two_store_payments.c.payment_id == payments.c.id)
            .where(two_store_payments.c.refusal_code == "reservation_expired")
        ).all(),
        write=False,
    )
    assert len(refused) >= 2 and {s for (s,) in refused} == {"failed"}
    assert d.balances() == before
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok
