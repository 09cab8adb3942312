"""``tindahan ledger migrate-to-tigerbeetle``: the SQL ledger's accounts and posted balances
moved into another ledger store (a fresh TigerBeetle cluster) as opening transfers from a
migration account per currency, then checked account by account to the centavo (the plan
is ``ledger.migration``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from tindahan import limits
from tindahan.ledger.migration import MigrationPlan, migration_account, plan_migration
from tindahan.ledger.port import LedgerPort
from tindahan.store import ledger as repo
from tindahan.store import ledger_names
from tindahan.store.database import Database


class MigrationError(ValueError):
    """The move was refused before anything was written, or its check failed."""


@dataclass
class MigrationReport:
    accounts: int
    transfers: int
    moved_minor: dict[str, int]
    dry_run: bool
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        money = ", ".join(f"{k} {v}" for k, v in sorted(self.moved_minor.items())) or "nothing"
        verb = "would move" if self.dry_run else "moved"
        return (
            f"{verb} {self.accounts} accounts and {self.transfers} opening balances "
            f"({money} in minor units, credits side)"
        )


def plan(db: Database) -> MigrationPlan:
    def read(conn: Connection) -> MigrationPlan:
        rows = conn.execute(select(*repo._ACCOUNT_COLUMNS))
        return plan_migration(repo.account_from_row(r) for r in rows)

    return db.transact(read, write=False)


def migrate(db: Database, target: LedgerPort | None, *, dry_run: bool) -> MigrationReport:
    """Move (or, with ``dry_run``, only plan and count) the SQL ledger into ``target``."""
    moving = plan(db)
    if moving.pending:
        raise MigrationError(
            f"{len(moving.pending)} account(s) hold pending amounts (first: "
            f"{moving.pending[0]}): post or void the holds (or let them expire) first"
        )
    moved: dict[str, int] = {}
    for t in moving.transfers:
        if t.credit_account_id != migration_account(t.ledger or ""):
            moved[t.ledger or ""] = moved.get(t.ledger or "", 0) + (t.amount or 0)
    report = MigrationReport(len(moving.accounts), len(moving.transfers), moved, dry_run)
    if dry_run or target is None:
        return report
    if target.kind == "tigerbeetle":  # its names first, before the cluster holds them
        record_names(db, moving)
    size = limits.MAX_BATCH - 1
    for start in range(0, len(moving.accounts), size):
        for opened in target.create_accounts(moving.accounts[start : start + size]):
            if opened.result not in ("ok", "exists"):
                raise MigrationError(f"account {opened.id} was refused: {opened.result}")
    for start in range(0, len(moving.transfers), size):
        for moved_one in target.create_transfers(moving.transfers[start : start + size]):
            if not moved_one.ok:
                raise MigrationError(
                    f"opening balance {moved_one.id} was refused: {moved_one.result}"
                )
    report.problems = check(moving, target)
    return report


def record_names(db: Database, moving: MigrationPlan) -> None:
    """The accounts' ids and owners and the opening transfers' ids, in the name table."""
    from tindahan.tigerbeetle.ids import account_names, names_of

    owners = [a.owner for a in moving.accounts if a.owner]
    rows = account_names(a.id for a in moving.accounts) + names_of(moving.transfers, owners)
    db.transact(lambda conn: ledger_names.record(conn, rows))


def check(moving: MigrationPlan, target: LedgerPort) -> list[str]:
    """Every account's posted balance in the target equals the source's; every migration
    account is back at zero."""
    problems = []
    ids = list(moving.expected)
    found = {}
    for start in range(0, len(ids), limits.MAX_BATCH):
        found.update(target.lookup_accounts(ids[start : start + limits.MAX_BATCH]))
    for account_id, balance in moving.expected.items():
        there = found.get(account_id)
        if there is None:
            problems.append(f"account {account_id} is missing in the target")
        elif there.balance_posted != balance:
            problems.append(
                f"account {account_id}: {there.balance_posted} in the target, {balance} here"
            )
    middles = [a.id for a in moving.accounts if a.id.startswith("tindahan.migration.")]
    for account_id, account in target.lookup_accounts(middles).items():
        if account.balance_posted != 0 or account.debits_pending or account.credits_pending:
            problems.append(f"{account_id} ends at {account.balance_posted}, not 0")
    return problems
