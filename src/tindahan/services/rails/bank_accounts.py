"""Parties' bank accounts: registered, listed masked, removed; the destination of transfers.

The account number and the holder's name are personal data (Data Privacy Act): they are
encrypted before they reach the database (AES-GCM bound to the account's id and field, as a
party's phone), and the number never comes back out through the API: a view shows the bank
and the number masked (``•••• 7890``). The holder's name is shown to the account's owner
and the operator (who must see whose account money goes to); it is never logged. A
registered account is one per party, bank and number (a keyed hash finds it without
decrypting): registering it again returns it (reactivated if it had been removed).

``destination`` opens an account for the one use that needs the number in clear: building
the pacs.008 that pays it (``services.rails`` transfers, and payouts to a bank account).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found, refused
from tindahan.rails import bank_accounts as rules
from tindahan.rails.directory import Participant
from tindahan.services.platform import audit, screening
from tindahan.services.platform.listing import page
from tindahan.services.platform.parties import owner_id
from tindahan.services.rails import participants as directory
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.rails_tables import bank_accounts


@dataclass(frozen=True)
class NewBankAccount:
    bank: object
    account_number: object
    account_name: object
    party_id: str | None = None  # an operator names the party; a party's key is itself


@dataclass(frozen=True)
class Destination:
    """A bank account opened to be paid: the bank, the number and the holder's name. A
    merchant's account read from another institution's QR Ph code is one with no ``id``
    (nothing registered: ``services.qr.interbank``)."""

    id: str | None
    party_id: str
    bank: Participant
    account_number: str
    account_name: str


def _view(unit: Unit, row: Any) -> dict[str, Any]:
    number = unit.vault.open(row["number_cipher"], f"bank_account_number:{row['id']}")
    name = unit.vault.open(row["name_cipher"], f"bank_account_name:{row['id']}")
    bank = directory.find(unit, row["participant_code"])
    return {
        "id": row["id"],
        "object": "bank_account",
        "party_id": row["party_id"],
        "bank": bank.code,
        "bank_name": bank.name,
        "bic": bank.bic,
        "account_number_masked": rules.masked(number),
        "account_name": name,
        "status": row["status"],
        "created": iso(row["created_at_ns"]),
        "removed": iso(row["removed_at_ns"]),
    }


def register(unit: Unit, caller: Caller, new: NewBankAccount) -> dict[str, Any]:
    caller.require("payments:write")
    owner = owner_id(unit, caller, new.party_id)
    if not isinstance(new.bank, str):
        raise invalid("parameter_invalid", "bank is a participant code, e.g. BDO", "bank")
    bank = directory.find(unit, new.bank)
    if not bank.active:
        raise refused("participant_inactive", f"{bank.name} is not reachable now", "bank")
    number = rules.account_number(new.account_number)
    name = rules.account_name(new.account_name)
    index = unit.vault.index(f"bank_account:{bank.code}:{number}")
    found = _existing(unit, owner, bank.code, index)
    if found is not None:
        return _again(unit, caller, found, name)
    _check_room(unit, owner)
    account_id = new_id("bac")
    unit.conn.execute(
        insert(bank_accounts).values(
            id=account_id,
            party_id=owner,
            participant_code=bank.code,
            number_index=index,
            number_cipher=unit.vault.seal(number, f"bank_account_number:{account_id}"),
            name_cipher=unit.vault.seal(name, f"bank_account_name:{account_id}"),
            status="active",
            created_at_ns=unit.now(),
        )
    )
    audit.record(unit, caller.scope, "bank_account.register", "bank_account", account_id)
    screening.screen_party(unit, owner, name, account_id)  # the counterparty of its transfers
    return get(unit, caller, account_id)


def _existing(unit: Unit, owner: str, code: str, index: str) -> Any:
    query = select(bank_accounts).where(
        bank_accounts.c.party_id == owner,
        bank_accounts.c.participant_code == code,
        bank_accounts.c.number_index == index,
    )
    return unit.conn.execute(query).mappings().first()


def _again(unit: Unit, caller: Caller, row: Any, name: str) -> dict[str, Any]:
    """The same account registered again: reactivated (with the name now given, screened) if
    removed — unless a confirmed screening hit removed it."""
    if row["status"] == "removed" and screening.blocked(unit, row["id"]):
        what = "this bank account cannot be used; contact support"
        raise refused("bank_account_blocked", what, "account_number")
    if row["status"] == "removed":
        _check_room(unit, row["party_id"])
        unit.conn.execute(
            update(bank_accounts)
            .where(bank_accounts.c.id == row["id"])
            .values(
                status="active",
                removed_at_ns=None,
                name_cipher=unit.vault.seal(name, f"bank_account_name:{row['id']}"),
            )
        )
        audit.record(unit, caller.scope, "bank_account.register", "bank_account", row["id"])
        screening.screen_party(unit, row["party_id"], name, row["id"])
    return get(unit, caller, row["id"])


def _check_room(unit: Unit, owner: str) -> None:
    count = unit.conn.execute(
        select(func.count())
        .select_from(bank_accounts)
        .where(bank_accounts.c.party_id == owner, bank_accounts.c.status == "active")
    ).scalar_one()
    if count >= limits.MAX_BANK_ACCOUNTS_PER_PARTY:
        message = f"a party keeps at most {limits.MAX_BANK_ACCOUNTS_PER_PARTY} bank accounts"
        raise refused("bank_accounts_full", message, "account_number")


def _row(unit: Unit, caller: Caller, account_id: str) -> Any:
    query = select(bank_accounts).where(bank_accounts.c.id == account_id)
    row = unit.conn.execute(query).mappings().first()
    if row is None or not caller.reaches(row["party_id"]):
        raise not_found("bank_account", "id")
    return row


def get(unit: Unit, caller: Caller, account_id: str) -> dict[str, Any]:
    caller.require("payments:read")
    return _view(unit, _row(unit, caller, account_id))


def list_accounts(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None = None,
    *,
    party_id: str | None = None,
    include_removed: bool = False,
) -> dict[str, Any]:
    """A party's bank accounts (an operator may list everyone's, or one party's)."""
    caller.require("payments:read")
    query = select(bank_accounts).order_by(bank_accounts.c.id).limit(limit + 1)
    if not caller.operator or party_id:
        query = query.where(bank_accounts.c.party_id == owner_id(unit, caller, party_id))
    if not include_removed:
        query = query.where(bank_accounts.c.status == "active")
    if starting_after:
        query = query.where(bank_accounts.c.id > starting_after)
    rows = unit.conn.execute(query).mappings().all()
    return page([_view(unit, row) for row in rows[:limit]], len(rows) > limit)


def remove(unit: Unit, caller: Caller, account_id: str) -> dict[str, Any]:
    """Stop using an account (kept, marked removed: past transfers still name it)."""
    caller.require("payments:write")
    row = _row(unit, caller, account_id)
    if row["status"] == "active":
        unit.conn.execute(
            update(bank_accounts)
            .where(bank_accounts.c.id == account_id)
            .values(status="removed", removed_at_ns=unit.now())
        )
        audit.record(unit, caller.scope, "bank_account.remove", "bank_account", account_id)
    return get(unit, caller, account_id)


def destination(unit: Unit, caller: Caller, account_id: str) -> Destination:
    """An active account of a party the caller reaches, opened to be paid."""
    row = _row(unit, caller, account_id)
    if row["status"] != "active":
        raise refused("bank_account_removed", "this bank account was removed", "bank_account_id")
    return _opened(unit, row)


def payable(unit: Unit, account_id: str) -> Destination:
    """An active account, opened to be paid, for a job that acts for its owner (the
    automatic daily payout to a bank account); a removed one is refused."""
    row = (
        unit.conn.execute(select(bank_accounts).where(bank_accounts.c.id == account_id))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("bank_account", "bank_account_id")
    if row["status"] != "active":
        raise refused("bank_account_removed", "this bank account was removed", "bank_account_id")
    return _opened(unit, row)


def opened(unit: Unit, account_id: str) -> Destination:
    """Any account, opened (for a message about a transfer already made to it)."""
    row = (
        unit.conn.execute(select(bank_accounts).where(bank_accounts.c.id == account_id))
        .mappings()
        .one()
    )
    return _opened(unit, row)


def _opened(unit: Unit, row: Any) -> Destination:
    return Destination(
        id=row["id"],
        party_id=row["party_id"],
        bank=directory.find(unit, row["participant_code"]),
        account_number=unit.vault.open(row["number_cipher"], f"bank_account_number:{row['id']}"),
        account_name=unit.vault.open(row["name_cipher"], f"bank_account_name:{row['id']}"),
    )
