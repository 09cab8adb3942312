"""``tindahan ledger verify``: recompute the ledger from its transfers and check the chain.

Balances on account rows are a cache kept for speed; the transfers are the truth. Verify
recomputes the four balances of every account from the transfers with SQL aggregates (the
rules of ``ledger.audit``: single-phase and post transfers are posted, pending ones are
pending until posted or voided), checks every currency ledger sums to zero and no flagged
account is past its limit, then re-hashes every sealed block and follows the links. A
transfer that was edited, deleted or inserted by hand breaks at least one of these.

Someone who can write every table can also recompute all of that, so with an anchor
(``tindahan.anchor``) verify then reads the signed heads kept outside the database, checks
their signatures and links (``ledger.anchor``), and refuses a chain shorter than, or
different from, what was signed, and sealed blocks the anchor never got. The anchor is
read after the database snapshot, so a block sealed meanwhile is already anchored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from tindahan.anchor.config import Anchor
from tindahan.anchor.sinks import AnchorError
from tindahan.commerce.orders import OPEN
from tindahan.ledger import audit
from tindahan.ledger.anchor import chain_problems, read_lines
from tindahan.ledger.chain import GENESIS_HASH, block_hash
from tindahan.ledger.model import Account, AccountCode, AccountFlags, TransferFlags
from tindahan.ledger.port import LedgerPort
from tindahan.services.ledger.records import record_violations
from tindahan.services.unit import ledger_id
from tindahan.store import ledger as repo
from tindahan.store.commerce_tables import orders
from tindahan.store.database import Database
from tindahan.store.lending_tables import loans
from tindahan.store.tables import accounts, blocks, seals, transfers

MAX_LISTED = 50


@dataclass
class VerifyReport:
    accounts: int = 0
    transfers: int = 0
    ledgers: int = 0
    blocks: int = 0
    sealed: int = 0
    unsealed: int = 0
    escrow_orders: int = 0
    escrow_held_minor: int = 0
    loans: int = 0
    records: int = 0
    violations: list[str] = field(default_factory=list)
    #: Every sealed block's hash by number, for the anchor check.
    chain: dict[int, str] = field(default_factory=dict, repr=False)
    #: What the anchor check said: "not checked …" or the heads it matched.
    anchor_note: str = "not checked against an anchor (no anchor key is configured)"

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if not self.ok:
            return f"ledger verify FAILED: {len(self.violations)} violation(s)"
        return (
            f"ledger ok: {self.accounts} accounts, {self.transfers} transfers in "
            f"{self.ledgers} currency ledger(s) sum to zero; balances match the transfers; "
            f"no account past its limit; hash chain ok: {self.blocks} blocks seal "
            f"{self.sealed} transfers, {self.unsealed} not sealed yet; escrow ok: "
            f"{self.escrow_held_minor} held for {self.escrow_orders} open order(s), "
            "each order's escrow account matching its books; loans ok: "
            f"{self.loans} loan(s), each loan's accounts matching its books; records ok: "
            f"{self.records} payment(s), refund(s), request(s), order(s), payout(s) and loan "
            "event(s) saying what their transfers do; "
            f"anchor: {self.anchor_note}"
        )


def verify(db: Database, anchor: Anchor | None = None) -> VerifyReport:
    """Check everything in one read transaction (one consistent snapshot on PostgreSQL),
    then the chain against each readable anchor."""
    report = db.transact(_verify, write=False)
    if anchor is not None:
        problems = _anchor_violations(anchor, report)
        report.violations += problems
    return report


def _anchor_violations(anchor: Anchor, report: VerifyReport) -> list[str]:
    problems = []
    notes = []
    for source in anchor.readable:
        try:
            lines = source.lines()
        except AnchorError as exc:
            problems.append(f"anchor {source.name} cannot be read: {exc}")
            continue
        reading = read_lines(source.name, lines, anchor.verifier.key_id, anchor.verifier.check)
        found = reading.problems + chain_problems(reading, report.chain)
        problems += found
        newest = reading.newest
        if not found:
            notes.append(
                f"{source.name} signs the chain up to block {newest.block_no}"
                if newest
                else f"{source.name} is empty, as is the chain"
            )
    report.anchor_note = f"key {anchor.verifier.key_id}: " + "; ".join(notes) if notes else "FAILED"
    return problems


def _verify(conn: Connection) -> VerifyReport:
    report = VerifyReport()
    stored = [repo.account_from_row(r) for r in conn.execute(select(*repo._ACCOUNT_COLUMNS))]
    report.accounts = len(stored)
    report.transfers = int(conn.scalar(select(func.count()).select_from(transfers)) or 0)
    sums = audit.totals(stored)
    report.ledgers = len(sums)
    problems = audit.balance_violations(_balances(stored), _recomputed(conn))
    problems += audit.limit_violations(stored)
    problems += audit.sum_violations(sums)
    problems += _chain_violations(conn, report)
    problems += _escrow_violations(conn, {a.id: a for a in stored}, report)
    problems += _loan_violations(conn, {a.id: a for a in stored}, report)
    report.records, found = record_violations(conn)
    problems += found
    if len(problems) > MAX_LISTED:
        problems = [*problems[:MAX_LISTED], f"… and {len(problems) - MAX_LISTED} more"]
    report.violations = problems
    return report


def _balances(stored: list[Account]) -> dict[str, audit.Balances]:
    return {
        a.id: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
        for a in stored
    }


def _recomputed(conn: Connection) -> dict[str, audit.Balances]:
    flags = transfers.c.flags
    resolution = transfers.alias("resolution")
    unresolved = (
        ~select(resolution.c.timestamp).where(resolution.c.pending_id == transfers.c.id).exists()
    )
    posted = (flags.op("&")(int(TransferFlags.PENDING | TransferFlags.VOID_PENDING))) == 0
    pending = (flags.op("&")(int(TransferFlags.PENDING)) != 0) & unresolved
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for slot, side, condition in (
        (0, transfers.c.debit_account_id, pending),
        (1, transfers.c.debit_account_id, posted),
        (2, transfers.c.credit_account_id, pending),
        (3, transfers.c.credit_account_id, posted),
    ):
        query = select(side, func.sum(transfers.c.amount)).where(condition).group_by(side)
        for account_id, total in conn.execute(query):
            out[account_id][slot] = int(total)
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def _chain_violations(conn: Connection, report: VerifyReport) -> list[str]:
    problems = []
    prev_hash, expected_no = GENESIS_HASH, 1
    for block in conn.execute(select(blocks).order_by(blocks.c.block_no)).mappings():
        if block["block_no"] != expected_no or block["prev_hash"] != prev_hash:
            problems.append(f"block {block['block_no']}: does not link to block {expected_no - 1}")
        members = [
            repo.transfer_from_row(row)
            for row in conn.execute(
                repo.TRANSFER_SELECT.join(
                    seals, seals.c.transfer_timestamp == transfers.c.timestamp
                )
                .where(seals.c.block_no == block["block_no"])
                .order_by(transfers.c.timestamp)
            )
        ]
        digest, count = block_hash(block["prev_hash"], block["block_no"], members)
        if count != block["transfer_count"] or digest != block["hash"]:
            problems.append(
                f"block {block['block_no']}: hash mismatch — its {block['transfer_count']} "
                f"sealed transfers were changed, removed or added ({count} found)"
            )
        report.blocks += 1
        report.sealed += count
        report.chain[block["block_no"]] = block["hash"]
        prev_hash, expected_no = block["hash"], block["block_no"] + 1
    report.unsealed = repo.count_unsealed(conn)
    untracked = conn.execute(
        select(transfers.c.id)
        .outerjoin(seals, seals.c.transfer_timestamp == transfers.c.timestamp)
        .where(seals.c.transfer_timestamp.is_(None))
        .limit(MAX_LISTED)
    ).scalars()
    problems += [
        f"transfer {tid!r} was not written by the ledger (no seal entry)" for tid in untracked
    ]
    return problems


def account_count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(accounts)) or 0)


def _escrow_violations(
    conn: Connection, stored: dict[str, Account], report: VerifyReport
) -> list[str]:
    """Escrow held on the ledger equals what open orders say they hold, order by order
    (``services.commerce.escrow``): every escrow account belongs to an order and its balance is the
    order's ``held_minor``; an order that ended holds nothing."""
    if not conn.dialect.has_table(conn, "orders"):
        return []  # a ledger-only database (the ledger benchmark's)
    problems = []
    owned = set()
    open_states = [s.value for s in OPEN]
    query = select(orders.c.id, orders.c.status, orders.c.held_minor, orders.c.escrow_account_id)
    for order_id, status, held, account_id in conn.execute(
        query.where(orders.c.escrow_account_id.is_not(None))
    ):
        owned.add(account_id)
        account = stored.get(account_id)
        balance = 0 if account is None else account.credits_posted - account.debits_posted
        if account is None or account.debits_pending or account.credits_pending:
            problems.append(f"order {order_id}: escrow account {account_id} missing or on hold")
        if balance != held:
            problems.append(f"order {order_id}: escrow holds {balance}, the order says {held}")
        if status not in open_states and held:
            problems.append(f"order {order_id} is {status} but still holds {held}")
        if status in open_states:
            report.escrow_orders += 1
            report.escrow_held_minor += held
    ledger_total = 0
    for account in stored.values():
        if account.code == AccountCode.ESCROW:
            ledger_total += account.credits_posted - account.debits_posted
            if account.id not in owned:
                problems.append(f"escrow account {account.id} belongs to no order")
    if ledger_total != report.escrow_held_minor:
        said = report.escrow_held_minor
        problems.append(f"escrow accounts hold {ledger_total} in all; open orders say {said}")
    return problems


_LOAN_ROLES = ("principal", "interest", "fee", "penalty", "reserve")


def loan_violations_in_cluster(
    conn: Connection, ledger: LedgerPort, skip: Collection[str] = ()
) -> list[str]:
    """On a TigerBeetle deployment: each loan's five accounts in the cluster hold what its
    row says, as ``verify`` checks them on SQL; an account the cluster has not opened yet
    (it is opened by the first transfer touching it) holds nothing. ``skip``: loans whose
    disbursement is still in the two-store order (checked there). A loan a movement holds
    between the two stores (``loans.ledger_hold``: a repayment before its C, a daily close's
    chunk that crashed before its commit) is left out too: its rows catch up with the cluster
    when that movement ends (recovery, the close's rerun)."""
    rows = conn.execute(select(loans.c.id, loans.c.ledger_hold))
    held = {loan_id for loan_id, hold in rows if hold is not None}
    skip = {*skip, *held}
    ids = [
        ledger_id(loan_id, role)
        for (loan_id,) in conn.execute(select(loans.c.id))
        if loan_id not in skip
        for role in _LOAN_ROLES
    ]
    found: dict[str, Account] = {}
    for start in range(0, len(ids), 8000):
        found.update(ledger.lookup_accounts(ids[start : start + 8000]))
    stored = {
        i: found.get(i) or Account(i, "PHP", 0, None, AccountFlags.NONE, 0, 0, 0, 0, 0) for i in ids
    }
    return _loan_violations(conn, stored, VerifyReport(), skip)


def _loan_violations(
    conn: Connection, stored: dict[str, Account], report: VerifyReport, skip: Collection[str] = ()
) -> list[str]:
    """Each loan's five ledger accounts hold what its row says (``services.lending.loans``): the
    receivables what is still owed of each part (nothing once written off or cancelled), the
    reserve what sales set aside."""
    if not conn.dialect.has_table(conn, "loans"):
        return []
    problems = []
    for row in conn.execute(select(loans)).mappings():
        if row["id"] in skip:
            continue
        report.loans += 1
        gone = row["status"] in ("written_off", "cancelled")  # nothing owed
        expected = {
            "principal": 0 if gone else row["principal_minor"] - row["principal_paid_minor"],
            "interest": 0 if gone else row["interest_accrued_minor"] - row["interest_paid_minor"],
            "fee": 0 if gone else row["fee_booked_minor"] - row["fee_paid_minor"],
            "penalty": 0 if gone else row["penalty_minor"] - row["penalty_paid_minor"],
            "reserve": -row["reserve_minor"],
        }
        for role, want in expected.items():
            account = stored.get(ledger_id(row["id"], role))
            have = None if account is None else account.debits_posted - account.credits_posted
            if have != want:
                problems.append(
                    f"loan {row['id']}: the {role} account holds {have}, the loan says {want}"
                )
    return problems
