"""Reading the ledger's rows and sealing them; no rules live here (they are in
``ledger.engine``). The per-batch write path is in ``hotpath``.

Every function takes an open connection inside a transaction the service owns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from tindahan.ledger.model import Account, AccountFlags, Transfer, TransferFlags
from tindahan.store.tables import accounts, blocks, seals, transfers

_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.ledger,
    accounts.c.code,
    accounts.c.owner,
    accounts.c.flags,
    accounts.c.debits_pending,
    accounts.c.debits_posted,
    accounts.c.credits_pending,
    accounts.c.credits_posted,
    accounts.c.timestamp,
)
_TRANSFER_COLUMNS = (
    transfers.c.id,
    transfers.c.debit_account_id,
    transfers.c.credit_account_id,
    transfers.c.amount,
    transfers.c.ledger,
    transfers.c.code,
    transfers.c.flags,
    transfers.c.pending_id,
    transfers.c.timeout_seconds,
    transfers.c.expires_at_ns,
    transfers.c.metadata,
    transfers.c.timestamp,
    transfers.c.created_at_ns,
)
TRANSFER_SELECT = select(*_TRANSFER_COLUMNS)


def account_from_row(row: Sequence[Any]) -> Account:
    return Account(row[0], row[1], row[2], row[3], AccountFlags(row[4]), *map(int, row[5:10]))


def transfer_from_row(row: Sequence[Any]) -> Transfer:
    return Transfer(
        id=row[0],
        debit_account_id=row[1],
        credit_account_id=row[2],
        amount=int(row[3]),
        ledger=row[4],
        code=row[5],
        flags=TransferFlags(row[6]),
        pending_id=row[7],
        timeout_seconds=row[8],
        expires_at_ns=None if row[9] is None else int(row[9]),
        metadata=json.loads(row[10]),
        timestamp=int(row[11]),
        created_at_ns=int(row[12]),
    )


def encode_metadata(metadata: Mapping[str, str]) -> str:
    if not metadata:
        return "{}"
    return json.dumps(dict(sorted(metadata.items())), separators=(",", ":"), ensure_ascii=False)


# -- reads ------------------------------------------------------------------------------
def load_accounts(
    conn: Connection, ids: Iterable[str], *, lock: bool = False
) -> dict[str, Account]:
    """Accounts by id. With ``lock`` (PostgreSQL), rows are locked in ascending id order —
    the one fixed order every batch uses, so two batches can queue but never deadlock.
    SQLite needs no row locks: a write transaction holds the whole database."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    query = select(*_ACCOUNT_COLUMNS).where(accounts.c.id.in_(wanted))
    if lock and conn.dialect.name != "sqlite":
        query = query.order_by(accounts.c.id).with_for_update()
    return {row[0]: account_from_row(row) for row in conn.execute(query)}


def load_transfers(conn: Connection, ids: Iterable[str]) -> dict[str, Transfer]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(TRANSFER_SELECT.where(transfers.c.id.in_(wanted)))
    return {row[0]: transfer_from_row(row) for row in rows}


def load_resolutions(conn: Connection, pending_ids: Iterable[str]) -> dict[str, TransferFlags]:
    """For each pending id given, whether a post or a void of it exists."""
    wanted = list(set(pending_ids))
    if not wanted:
        return {}
    query = select(transfers.c.pending_id, transfers.c.flags).where(
        transfers.c.pending_id.in_(wanted)
    )
    return {
        pid: TransferFlags(flags) & (TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING)
        for pid, flags in conn.execute(query)
    }


def expired_pending_ids(conn: Connection, now_ns: int, limit: int) -> list[str]:
    resolution = transfers.alias("resolution")
    query = (
        select(transfers.c.id)
        .where(
            transfers.c.expires_at_ns.is_not(None),
            transfers.c.expires_at_ns <= now_ns,
            ~select(resolution.c.timestamp)
            .where(resolution.c.pending_id == transfers.c.id)
            .exists(),
        )
        .order_by(transfers.c.expires_at_ns)
        .limit(limit)
    )
    return list(conn.scalars(query))


# -- writes -----------------------------------------------------------------------------
# -- sealing ----------------------------------------------------------------------------
def chain_head(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(
        select(blocks.c.block_no, blocks.c.hash).order_by(blocks.c.block_no.desc()).limit(1)
    ).first()
    return None if row is None else (int(row[0]), row[1])


def unsealed_transfers(conn: Connection, limit: int) -> list[Transfer]:
    query = (
        TRANSFER_SELECT.join(seals, seals.c.transfer_timestamp == transfers.c.timestamp)
        .where(seals.c.block_no.is_(None))
        .order_by(transfers.c.timestamp)
        .limit(limit)
    )
    return [transfer_from_row(row) for row in conn.execute(query)]


def insert_block(conn: Connection, row: Mapping[str, Any], members: Sequence[int]) -> int:
    """Write a block and mark its transfers sealed; returns how many seal rows changed."""
    conn.execute(blocks.insert().values(**row))
    result = conn.execute(
        update(seals)
        .where(and_(seals.c.transfer_timestamp.in_(members), seals.c.block_no.is_(None)))
        .values(block_no=row["block_no"])
    )
    return int(result.rowcount)


def count_unsealed(conn: Connection) -> int:
    return int(
        conn.scalar(select(func.count()).select_from(seals).where(seals.c.block_no.is_(None))) or 0
    )


def blocks_from(conn: Connection, first: int) -> list[dict[str, Any]]:
    """The sealed blocks numbered ``first`` and up, in order (what the anchor has not seen)."""
    query = select(blocks).where(blocks.c.block_no >= first).order_by(blocks.c.block_no)
    return [dict(row) for row in conn.execute(query).mappings()]
