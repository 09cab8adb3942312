"""Wallets: balances and statements, read from the ledger accounts behind them.

A wallet's balance is its ledger account's ``credits_posted - debits_posted``; ``available``
also subtracts money held for pending transfers (a cash-out waiting for the agent). The
statement lists the ledger transfers that touched the account, newest first, with cursor
pagination (``starting_after`` = the last entry's id) and optional date bounds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, or_, select

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.ledger.model import Transfer, TransferFlags
from tindahan.ledger.port import LedgerPort
from tindahan.services.payments.views import WalletView
from tindahan.services.platform.listing import page
from tindahan.services.risk import holds
from tindahan.services.unit import Unit, iso
from tindahan.store import ledger as ledger_rows
from tindahan.store.payment_tables import parties, wallets
from tindahan.store.tables import accounts, transfers


def _query() -> Any:
    return select(
        wallets.c.id,
        wallets.c.party_id,
        wallets.c.kind,
        wallets.c.currency,
        wallets.c.account_id,
        wallets.c.created_at_ns,
        parties.c.status,
        accounts.c.debits_pending,
        accounts.c.debits_posted,
        accounts.c.credits_pending,
        accounts.c.credits_posted,
    ).select_from(
        wallets.join(parties, parties.c.id == wallets.c.party_id).join(
            accounts, accounts.c.id == wallets.c.account_id
        )
    )


def view(row: Any) -> WalletView:
    balance = row["credits_posted"] - row["debits_posted"]
    return {
        "id": row["id"],
        "object": "wallet",
        "party_id": row["party_id"],
        "kind": row["kind"],
        "currency": row["currency"],
        "status": row["status"],
        "balance_minor": balance,
        "available_minor": balance - row["debits_pending"],
        "pending_in_minor": row["credits_pending"],
        "pending_out_minor": row["debits_pending"],
        "account_id": row["account_id"],
        "created": iso(row["created_at_ns"]),
    }


def _row(unit: Unit, caller: Caller, wallet_id: str) -> Any:
    row = unit.conn.execute(_query().where(wallets.c.id == wallet_id)).mappings().first()
    if row is None or not caller.reaches(row["party_id"]):
        raise not_found("wallet", "id")
    return row


_FOUR = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


def _balanced(unit: Unit, rows: list[Any]) -> list[Any]:
    """On a TigerBeetle deployment (issue 22) the balances are the cluster's: the SQL
    accounts keep what they held at the switch. An account the cluster has not seen yet (a
    wallet opened since, never paid) keeps its SQL figures: zero."""
    ledger = unit.platform.ledger
    if ledger is None or not rows:
        return rows
    found = ledger.lookup_accounts([r["account_id"] for r in rows])
    out = []
    for r in rows:
        account = found.get(r["account_id"])
        out.append(r if account is None else {**r, **{k: getattr(account, k) for k in _FOUR}})
    return out


def under_review_minor(unit: Unit, caller: Caller, wallet_id: str) -> int:
    """What of the wallet's money is held for a risk review now (the owner sees that it is,
    in words; never why)."""
    caller.require("wallets:read")
    row = _row(unit, caller, wallet_id)
    return holds.held_from(unit, row["account_id"], row["party_id"])


def get(unit: Unit, caller: Caller, wallet_id: str) -> WalletView:
    caller.require("wallets:read")
    return view(_balanced(unit, [_row(unit, caller, wallet_id)])[0])


def list_wallets(
    unit: Unit, caller: Caller, limit: int, starting_after: str | None, party_id: str | None
) -> dict[str, Any]:
    caller.require("wallets:read")
    query = _query().order_by(wallets.c.id)
    if party_id is not None and not caller.reaches(party_id):
        raise not_found("party", "party_id")
    who = caller.party_id or party_id
    if who:
        query = query.where(wallets.c.party_id == who)
    if starting_after:
        query = query.where(wallets.c.id > starting_after)
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page([view(r) for r in _balanced(unit, found[:limit])], len(found) > limit)


def statement(
    unit: Unit,
    caller: Caller,
    wallet_id: str,
    limit: int,
    starting_after: str | None,
    created_gte_ns: int | None,
    created_lt_ns: int | None,
) -> dict[str, Any]:
    caller.require("wallets:read")
    account_id = _row(unit, caller, wallet_id)["account_id"]
    ledger = unit.platform.ledger
    if ledger is not None:
        bounds = (starting_after, created_gte_ns, created_lt_ns)
        found = _cluster_statement(ledger, account_id, limit, *bounds)
        entries = [_entry(t, account_id, wallet_id) for t in found[:limit]]
        return page(entries, len(found) > limit)
    query = (
        select(*ledger_rows._TRANSFER_COLUMNS)
        .where(
            or_(
                transfers.c.debit_account_id == account_id,
                transfers.c.credit_account_id == account_id,
            )
        )
        .order_by(transfers.c.timestamp.desc())
    )
    if starting_after:
        cursor = unit.conn.execute(
            select(
                transfers.c.timestamp, transfers.c.debit_account_id, transfers.c.credit_account_id
            ).where(transfers.c.id == starting_after)
        ).first()
        if cursor is None or account_id not in (cursor[1], cursor[2]):
            raise invalid(
                "cursor_invalid",
                "starting_after is not an entry of this statement",
                "starting_after",
            )
        query = query.where(transfers.c.timestamp < cursor[0])
    if created_gte_ns is not None:
        query = query.where(transfers.c.created_at_ns >= created_gte_ns)
    if created_lt_ns is not None:
        query = query.where(transfers.c.created_at_ns < created_lt_ns)
    found = [ledger_rows.transfer_from_row(r) for r in unit.conn.execute(query.limit(limit + 1))]
    entries = [_entry(t, account_id, wallet_id) for t in found[:limit]]
    return page(entries, len(found) > limit)


def _cluster_statement(
    ledger: LedgerPort,
    account_id: str,
    limit: int,
    starting_after: str | None,
    created_gte_ns: int | None,
    created_lt_ns: int | None,
) -> list[Transfer]:
    """On a TigerBeetle deployment (issue 22): at most ``limit + 1`` of the account's
    transfers in the cluster, newest first (``get_account_transfers``), with the same cursor
    and bounds as the SQL statement (a transfer's creation is its cluster timestamp). The
    history from before the switch stays in the SQL tables; the cluster's statement starts
    with the migration's opening balance."""
    before = created_lt_ns
    if starting_after:
        cursor = ledger.lookup_transfers([starting_after]).get(starting_after)
        if cursor is None or account_id not in (cursor.debit_account_id, cursor.credit_account_id):
            raise invalid(
                "cursor_invalid",
                "starting_after is not an entry of this statement",
                "starting_after",
            )
        before = cursor.timestamp if before is None else min(before, cursor.timestamp)
    found = ledger.account_transfers(account_id, limit=limit + 1, before_timestamp=before)
    if created_gte_ns is not None:  # newest first: what is older than the bound ends it
        found = [t for t in found if t.created_at_ns >= created_gte_ns]
    return found


def _entry(t: Any, account_id: str, wallet_id: str) -> dict[str, Any]:
    credit = t.credit_account_id == account_id
    if t.flags & TransferFlags.PENDING:
        phase = "pending"
    elif t.flags & TransferFlags.POST_PENDING:
        phase = "posted_hold"
    elif t.flags & TransferFlags.VOID_PENDING:
        phase = "voided_hold"
    else:
        phase = "posted"
    return {
        "id": t.id,
        "object": "statement_entry",
        "wallet_id": wallet_id,
        "direction": "credit" if credit else "debit",
        "amount_minor": t.amount,
        "signed_amount_minor": t.amount if credit else -t.amount,
        "currency": t.ledger,
        "phase": phase,
        "code": int(t.code),
        "payment_id": t.metadata.get("payment"),
        "refund_id": t.metadata.get("refund"),
        "inbound_transfer_id": t.metadata.get("inbound_transfer"),
        "fx": _fx(t.metadata),
        "counterparty_account_id": t.debit_account_id if credit else t.credit_account_id,
        "created": iso(t.created_at_ns),
    }


def _fx(metadata: Any) -> dict[str, Any] | None:
    """Money from abroad: the foreign amount, both rates and the margin the spread kept."""
    if "fx_amount" not in metadata:
        return None
    return {
        "amount": metadata["fx_amount"],
        "customer_rate": metadata["fx_customer_rate"],
        "mid_rate": metadata["fx_mid_rate"],
        "margin_minor": int(metadata["fx_margin_minor"]),
    }


def balance_before(unit: Unit, caller: Caller, wallet_id: str, before_ns: int) -> int:
    """The wallet's posted balance just before ``before_ns`` (a statement's opening balance,
    from which its running balance follows): credits minus debits of the posted transfers
    created earlier. Pending holds and their voids never changed the balance; a hold's
    post is its own transfer and counts at its own time."""
    caller.require("wallets:read")
    account_id = _row(unit, caller, wallet_id)["account_id"]
    ledger = unit.platform.ledger
    if ledger is not None:  # the cluster's balance at that moment (its ``history`` flag)
        if before_ns <= 1:
            return 0
        at = ledger.balance_at(account_id, before_ns - 1)
        return 0 if at is None else at.balance_posted
    posted = transfers.c.flags.op("&")(int(TransferFlags.PENDING | TransferFlags.VOID_PENDING)) == 0
    signed = case(
        (transfers.c.credit_account_id == account_id, transfers.c.amount), else_=-transfers.c.amount
    )
    total = unit.conn.execute(
        select(func.coalesce(func.sum(signed), 0)).where(
            or_(
                transfers.c.debit_account_id == account_id,
                transfers.c.credit_account_id == account_id,
            ),
            posted,
            transfers.c.created_at_ns < before_ns,
        )
    ).scalar_one()
    return int(total)
