"""The ledger port's contract: the same scenarios against the SQL ledger (SQLite and
PostgreSQL) and against a TigerBeetle cluster (skipped, naming how to build the server,
where no binary is found)."""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from tests.tigerbeetle.conftest import _cluster, need_binary
from tindahan.cli.app import app
from tindahan.ledger.model import (
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    TransferFlags,
)
from tindahan.ledger.port import LedgerPort
from tindahan.services.ledger.sql_port import SqlLedger
from tindahan.services.payments import two_store
from tindahan.tigerbeetle import verify as tb_verify
from tindahan.tigerbeetle.ledger import TigerBeetleLedger

#: One worker runs the TigerBeetle tests (make test, xdist): one cluster per module, not per worker.
pytestmark = pytest.mark.xdist_group("tigerbeetle-a")

R = CreateTransferResult
A = CreateAccountResult
F = TransferFlags
WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
_run = itertools.count()


class LedgerContract:
    """Scenarios every ledger store must answer alike; subclasses supply ``ledger``."""

    @pytest.fixture
    def p(self) -> str:
        return f"k{secrets.token_hex(3)}{next(_run)}-"

    @pytest.fixture
    def funded(self, ledger: LedgerPort, p: str) -> str:
        """A bank account and two wallets, the first holding 1,000 centavos."""
        outcomes = ledger.create_accounts(
            [
                NewAccount(f"{p}bank", "PHP", 510),
                NewAccount(f"{p}w1", "PHP", 100, owner="cust-1", flags=WALLET),
                NewAccount(f"{p}w2", "PHP", 100, flags=WALLET),
            ]
        )
        assert [o.result for o in outcomes] == [A.OK] * 3
        fund = NewTransfer(f"{p}fund", f"{p}bank", f"{p}w1", 1_000, "PHP", 1)
        assert ledger.create_transfers([fund])[0].result is R.OK
        return p

    def balances(self, ledger: LedgerPort, p: str) -> dict[str, tuple[int, int, int, int]]:
        found = ledger.lookup_accounts([f"{p}bank", f"{p}w1", f"{p}w2"])
        return {
            k.removeprefix(p): (
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
            )
            for k, a in found.items()
        }

    def test_accounts_open_once_and_a_repeat_is_answered(self, ledger, p):
        first = ledger.create_accounts([NewAccount(f"{p}a", "PHP", 100, owner="o", flags=WALLET)])
        assert first[0].result is A.OK and first[0].account is not None
        again = ledger.create_accounts(
            [
                NewAccount(f"{p}a", "PHP", 100, owner="o", flags=WALLET),
                NewAccount(f"{p}a", "PHP", 110, owner="o", flags=WALLET),
                NewAccount("bad id!", "PHP", 100),
            ]
        )
        assert [o.result for o in again] == [
            A.EXISTS,
            A.EXISTS_WITH_DIFFERENT_FIELDS,
            A.ID_INVALID,
        ]
        assert again[0].account is not None and again[0].account.code == 100
        found = ledger.lookup_accounts([f"{p}a", f"{p}missing"])
        assert list(found) == [f"{p}a"]
        account = found[f"{p}a"]
        assert (account.ledger, account.code, account.flags, account.owner) == (
            "PHP",
            100,
            WALLET,
            "o",
        )
        assert account.balance_posted == 0

    def test_a_transfer_moves_money_once_and_its_retry_answers_exists(self, ledger, funded):
        p = funded
        pay = NewTransfer(f"{p}t1", f"{p}w1", f"{p}w2", 300, "PHP", 2, metadata={"payment": "x"})
        done = ledger.create_transfers([pay])[0]
        assert done.result is R.OK and done.transfer is not None
        assert done.transfer.amount == 300 and done.transfer.debit_account_id == f"{p}w1"
        retry = ledger.create_transfers([pay])[0]
        assert retry.result is R.EXISTS
        assert retry.transfer is not None and retry.transfer.timestamp == done.transfer.timestamp
        other = NewTransfer(f"{p}t1", f"{p}w1", f"{p}w2", 301, "PHP", 2, metadata={"payment": "x"})
        assert ledger.create_transfers([other])[0].result is R.EXISTS_WITH_DIFFERENT_FIELDS
        relabelled = NewTransfer(
            f"{p}t1", f"{p}w1", f"{p}w2", 300, "PHP", 2, metadata={"payment": "y"}
        )
        assert ledger.create_transfers([relabelled])[0].result is R.EXISTS_WITH_DIFFERENT_FIELDS
        assert self.balances(ledger, p) == {
            "bank": (0, 1_000, 0, 0),
            "w1": (0, 300, 0, 1_000),
            "w2": (0, 0, 0, 300),
        }
        found = ledger.lookup_transfers([f"{p}t1"])[f"{p}t1"]
        assert (found.credit_account_id, found.amount, found.ledger, found.code) == (
            f"{p}w2",
            300,
            "PHP",
            2,
        )
        assert dict(found.metadata) == {"payment": "x"}

    def test_a_wallet_never_goes_below_zero(self, ledger, funded):
        p = funded
        too_much = NewTransfer(f"{p}t", f"{p}w1", f"{p}w2", 1_001, "PHP", 2)
        assert ledger.create_transfers([too_much])[0].result is R.EXCEEDS_CREDITS
        assert self.balances(ledger, p)["w1"] == (0, 0, 0, 1_000)

    def test_a_linked_chain_commits_whole_or_not_at_all(self, ledger, funded):
        p = funded
        batch = [
            NewTransfer(f"{p}a", f"{p}w1", f"{p}w2", 600, "PHP", 2, flags=F.LINKED),
            NewTransfer(f"{p}b", f"{p}w1", f"{p}w2", 600, "PHP", 2),
            NewTransfer(f"{p}c", f"{p}w1", f"{p}w2", 100, "PHP", 2),
            NewTransfer(f"{p}d", f"{p}w1", f"{p}w2", 0, "PHP", 2),
        ]
        results = [o.result for o in ledger.create_transfers(batch)]
        assert results == [
            R.LINKED_EVENT_FAILED,
            R.EXCEEDS_CREDITS,
            R.OK,
            R.AMOUNT_MUST_BE_POSITIVE,
        ]
        assert self.balances(ledger, p)["w2"] == (0, 0, 0, 100)
        chain = [
            NewTransfer(f"{p}e", f"{p}w1", f"{p}w2", 10, "PHP", 2, flags=F.LINKED),
            NewTransfer(f"{p}f", f"{p}w2", f"{p}w1", 5, "PHP", 2),
        ]
        assert [o.result for o in ledger.create_transfers(chain)] == [R.OK, R.OK]
        assert [o.result for o in ledger.create_transfers(chain)] == [R.EXISTS, R.EXISTS]
        open_chain = [NewTransfer(f"{p}g", f"{p}w1", f"{p}w2", 1, "PHP", 2, flags=F.LINKED)]
        assert ledger.create_transfers(open_chain)[0].result is R.LINKED_EVENT_CHAIN_OPEN

    def test_a_hold_is_posted_in_part_or_voided_once(self, ledger, funded):
        p = funded
        hold = NewTransfer(
            f"{p}h", f"{p}w1", f"{p}w2", 400, "PHP", 3, flags=F.PENDING, timeout_seconds=3600
        )
        made = ledger.create_transfers([hold])[0]
        assert made.result is R.OK and made.transfer is not None
        assert made.transfer.expires_at_ns == made.transfer.created_at_ns + 3600 * 10**9
        assert self.balances(ledger, p)["w1"] == (400, 0, 0, 1_000)
        post = NewTransfer(f"{p}hp", pending_id=f"{p}h", amount=250, flags=F.POST_PENDING)
        posted = ledger.create_transfers([post])[0]
        assert posted.result is R.OK and posted.transfer is not None
        assert (posted.transfer.debit_account_id, posted.transfer.amount) == (f"{p}w1", 250)
        assert self.balances(ledger, p)["w1"] == (0, 250, 0, 1_000)
        void = NewTransfer(f"{p}hv", pending_id=f"{p}h", flags=F.VOID_PENDING)
        assert ledger.create_transfers([void])[0].result is R.PENDING_TRANSFER_ALREADY_POSTED
        second = NewTransfer(f"{p}h2", f"{p}w1", f"{p}w2", 100, "PHP", 3, flags=F.PENDING)
        whole = NewTransfer(f"{p}h2v", pending_id=f"{p}h2", flags=F.VOID_PENDING)
        assert [o.result for o in ledger.create_transfers([second, whole])] == [R.OK, R.OK]
        assert self.balances(ledger, p)["w1"] == (0, 250, 0, 1_000)
        full = NewTransfer(f"{p}h3", f"{p}w1", f"{p}w2", 50, "PHP", 3, flags=F.PENDING)
        post_all = NewTransfer(f"{p}h3p", pending_id=f"{p}h3", flags=F.POST_PENDING)
        outcomes = ledger.create_transfers([full, post_all])
        assert outcomes[1].transfer is not None and outcomes[1].transfer.amount == 50
        missing = NewTransfer(f"{p}h4p", pending_id=f"{p}nothing", flags=F.POST_PENDING)
        assert ledger.create_transfers([missing])[0].result is R.PENDING_TRANSFER_NOT_FOUND

    def test_a_balancing_transfer_takes_what_there_is(self, ledger, funded):
        p = funded
        sweep = NewTransfer(f"{p}s", f"{p}w1", f"{p}w2", 5_000, "PHP", 4, flags=F.BALANCING_DEBIT)
        done = ledger.create_transfers([sweep])[0]
        assert done.result is R.OK and done.transfer is not None
        assert done.transfer.amount == 1_000
        assert self.balances(ledger, p)["w1"] == (0, 1_000, 0, 1_000)

    def test_statements_balances_at_a_moment_and_totals(self, ledger, funded):
        p = funded
        moves = [NewTransfer(f"{p}m{n}", f"{p}w1", f"{p}w2", 10 + n, "PHP", 2) for n in range(5)]
        made = [o.transfer for o in ledger.create_transfers(moves)]
        assert all(t is not None for t in made)
        page = ledger.account_transfers(f"{p}w1", limit=3)
        assert [t.id for t in page] == [f"{p}m4", f"{p}m3", f"{p}m2"]
        rest = ledger.account_transfers(f"{p}w1", limit=10, before_timestamp=page[-1].timestamp)
        assert [t.id for t in rest] == [f"{p}m1", f"{p}m0", f"{p}fund"]
        third = made[2]
        assert third is not None
        then = ledger.balance_at(f"{p}w1", third.timestamp)
        assert then is not None and then.balance_posted == 1_000 - (10 + 11 + 12)
        assert ledger.balance_at(f"{p}w2", 1) is None
        for totals in ledger.totals():
            assert totals.debits_posted == totals.credits_posted
            assert totals.debits_pending == totals.credits_pending


class TestSqlLedger(LedgerContract):
    @pytest.fixture
    def ledger(self, db) -> Iterator[LedgerPort]:
        yield SqlLedger(db)


@pytest.fixture(scope="module")
def tb_ledger(cluster) -> Iterator[TigerBeetleLedger]:
    need_binary()
    ledger = TigerBeetleLedger(cluster)
    yield ledger
    ledger.close()


class TestTigerBeetleLedger(LedgerContract):
    @pytest.fixture
    def ledger(self, tb_ledger) -> LedgerPort:
        return tb_ledger

    def test_a_failed_id_keeps_its_answer(self, ledger, funded):
        """TigerBeetle's difference, said by the port: a transient failure is final."""
        p = funded
        too_much = NewTransfer(f"{p}t", f"{p}w1", f"{p}w2", 1_001, "PHP", 2)
        assert ledger.create_transfers([too_much])[0].result is R.EXCEEDS_CREDITS
        ledger.create_transfers([NewTransfer(f"{p}more", f"{p}bank", f"{p}w1", 5, "PHP", 1)])
        assert ledger.create_transfers([too_much])[0].result is R.ID_ALREADY_FAILED


def test_the_bench_runs_against_the_cluster_with_the_same_json_keys(cluster):
    result = CliRunner().invoke(
        app,
        [
            "ledger",
            "bench",
            "--ledger",
            cluster.url,
            "--transfers",
            "300",
            "--clients",
            "2",
            "--accounts",
            "20",
            "--batch",
            "50",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["database"] == "tigerbeetle"
    assert {"transfers_per_s", "p50_ms", "p99_ms", "invariants_ok"} <= set(report)
    assert report["invariants_ok"] is True
    assert report["accepted"] == 300 and report["transfers_per_s"] > 0


def test_the_bench_refuses_a_bad_ledger_url():
    result = CliRunner().invoke(app, ["ledger", "bench", "--ledger", "tigerbeetle://x@1"])
    assert result.exit_code == 2
    assert "cluster id" in result.output


def test_verify_finds_a_balance_its_statement_does_not_give(tb_ledger, monkeypatch):
    """The TigerBeetle verify recomputes each account from its statement: shown failing by
    comparing against a statement that misses a transfer (TigerBeetle itself allows no edit)."""
    p = f"v{secrets.token_hex(3)}-"
    tb_ledger.create_accounts([NewAccount(f"{p}a", "PHP", 510), NewAccount(f"{p}b", "PHP", 100)])
    tb_ledger.create_transfers([NewTransfer(f"{p}t", f"{p}a", f"{p}b", 7, "PHP", 1)])
    assert tb_verify.verify(tb_ledger, [f"{p}a", f"{p}b"]).ok
    monkeypatch.setattr(tb_verify, "statement", lambda ledger, account_id: [])
    report = tb_verify.verify(tb_ledger, [f"{p}b"])
    assert not report.ok
    assert f"account '{p}b'" in report.violations[0]


def test_ledger_verify_passes_a_clean_cluster_then_names_a_post_no_payment_owns(db, tmp_path):
    """``ledger verify --ledger`` and ``two_store.verify``'s last check, on a cluster of the
    test's own (a post stays in a cluster for good, and this module's contract tests post
    holds of their own on the shared one): clean, it passes; a posted hold that no settled
    payment owns is then named, once; its hold and a plain transfer are not posts."""
    for address in _cluster(tmp_path / "own", 1):
        tb_ledger = TigerBeetleLedger(address)
        try:
            p = f"o{secrets.token_hex(3)}-"
            accounts = [NewAccount(f"{p}a", "PHP", 510), NewAccount(f"{p}b", "PHP", 100)]
            tb_ledger.create_accounts(accounts)
            tb_ledger.create_transfers([NewTransfer(f"{p}t", f"{p}a", f"{p}b", 3, "PHP", 1)])
            result = CliRunner().invoke(app, ["ledger", "verify", "--ledger", address.url])
            assert result.exit_code == 0, result.output
            assert "ledger OK" in result.output and "summing to zero" in result.output
            hold = NewTransfer(f"{p}h", f"{p}a", f"{p}b", 7, "PHP", 1, flags=F.PENDING)
            post = NewTransfer(f"{p}hp", pending_id=f"{p}h", amount=7, flags=F.POST_PENDING)
            assert [o.result for o in tb_ledger.create_transfers([hold, post])] == [R.OK] * 2
            named = [problem for problem in two_store.verify(db, tb_ledger) if p in problem]
            assert named == [f"posted transfer {p}hp belongs to no settled payment"]
        finally:
            tb_ledger.close()


def test_ledger_verify_refuses_a_cluster_that_does_not_answer():
    refused = CliRunner().invoke(app, ["ledger", "verify", "--ledger", "tigerbeetle://0@1"])
    assert refused.exit_code == 2
    assert "no replica of tigerbeetle://0@127.0.0.1:1 answers" in refused.output


def test_migrate_moves_every_balance_to_the_centavo(db, cluster, tb_ledger):
    p = f"g{secrets.token_hex(3)}-"
    sql = SqlLedger(db)
    sql.create_accounts(
        [
            NewAccount(f"{p}bank", "PHP", 510),
            NewAccount(f"{p}w1", "PHP", 100, owner="o1", flags=WALLET),
            NewAccount(f"{p}w2", "PHP", 100, flags=WALLET),
            NewAccount(f"{p}idle", "PHP", 100, flags=WALLET),
        ]
    )
    sql.create_transfers(
        [
            NewTransfer(f"{p}f", f"{p}bank", f"{p}w1", 12_345, "PHP", 1),
            NewTransfer(f"{p}m", f"{p}w1", f"{p}w2", 2_001, "PHP", 2),
        ]
    )
    url = str(db.url.render_as_string(hide_password=False))
    runner = CliRunner()
    dry = runner.invoke(
        app, ["ledger", "migrate-to-tigerbeetle", "--db", url, "--ledger", cluster.url, "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "would move" in dry.output
    assert tb_ledger.lookup_accounts([f"{p}w1"]) == {}
    done = runner.invoke(
        app, ["ledger", "migrate-to-tigerbeetle", "--db", url, "--ledger", cluster.url]
    )
    assert done.exit_code == 0, done.output
    assert "checked to the centavo" in done.output
    moved = tb_ledger.lookup_accounts([f"{p}bank", f"{p}w1", f"{p}w2", f"{p}idle"])
    assert {k.removeprefix(p): a.balance_posted for k, a in moved.items()} == {
        "bank": -12_345,
        "w1": 10_344,
        "w2": 2_001,
        "idle": 0,
    }
    assert moved[f"{p}w1"].flags == WALLET
    again = runner.invoke(
        app, ["ledger", "migrate-to-tigerbeetle", "--db", url, "--ledger", cluster.url]
    )
    assert again.exit_code == 0, again.output  # a rerun finds everything there: nothing twice
    assert tb_ledger.lookup_accounts([f"{p}w1"])[f"{p}w1"].balance_posted == 10_344
