"""Parties (customers, merchants, agents) and their wallets.

A party is created by the operator (onboarding is where KYC happens), with its wallets
opened on the ledger in the same transaction. Phone and ID numbers are encrypted before
they reach the database and never come back out through the API: a party's view shows the
last four digits of the phone and whether an ID was verified, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.ledger.model import AccountCode, AccountFlags, NewAccount
from tindahan.payments import parties as rules
from tindahan.payments.model import (
    DEFAULT_TIER,
    WALLETS_BY_PARTY,
    PartyKind,
    PartyStatus,
    WalletKind,
)
from tindahan.services.ledger.transfers import open_accounts_in_transaction
from tindahan.services.platform import audit, screening
from tindahan.services.platform.chart import CURRENCY
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, ledger_id, new_id
from tindahan.store.payment_tables import kyc_tiers, parties, wallets
from tindahan.store.tables import accounts
from tindahan.ussd import codes

WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
_CODES = {
    WalletKind.MAIN: AccountCode.WALLET,
    WalletKind.SETTLEMENT: AccountCode.MERCHANT_SETTLEMENT,
    WalletKind.FLOAT: AccountCode.AGENT_FLOAT,
}
_PREFIX = {PartyKind.CUSTOMER: "cus", PartyKind.MERCHANT: "mer", PartyKind.AGENT: "agt"}


@dataclass(frozen=True)
class NewParty:
    kind: str
    name: str
    phone: str | None = None
    id_number: str | None = None
    tier: str | None = None
    mcc: str | None = None
    city: str | None = None
    province: str | None = None
    #: A buyer abroad holds a customer wallet in CNY, EUR or USD; everyone else holds PHP.
    currency: str | None = None


# --- parties -------------------------------------------------------------------------------
def create(unit: Unit, caller: Caller, new: NewParty) -> dict[str, Any]:
    caller.require("parties:write")
    caller.require_operator()
    try:
        kind = PartyKind(new.kind)
    except ValueError:
        raise invalid("kind_invalid", "kind is customer, merchant or agent", "kind") from None
    row = _profile(kind, new)
    row["tier"] = _known_tier(unit, new.tier or DEFAULT_TIER[kind])
    party_id = new_id(_PREFIX[kind])
    if new.phone is not None:
        phone = rules.phone_number(new.phone)
        index = unit.vault.index(phone)
        taken = unit.conn.execute(select(parties.c.id).where(parties.c.phone_index == index))
        if taken.first():
            raise conflict("phone_taken", "another party has this phone number", "phone")
        row["phone_cipher"] = unit.vault.seal(phone, f"phone:{party_id}")
        row["phone_index"] = index
        row["phone_last4"] = phone[-4:]
    if new.id_number is not None:
        row["id_number_cipher"] = unit.vault.seal(
            rules.id_number(new.id_number), f"id_number:{party_id}"
        )
    if kind in (PartyKind.MERCHANT, PartyKind.AGENT):
        row["short_code"] = free_short_code(unit)
    last4 = row.pop("phone_last4", None)
    now = unit.now()
    unit.conn.execute(
        insert(parties).values(
            id=party_id, kind=kind.value, status=PartyStatus.ACTIVE.value, created_at_ns=now, **row
        )
    )
    _open_wallets(unit, party_id, kind, now, _wallet_currency(kind, new.currency))
    screening.screen_party(unit, party_id, row["name"])
    view = get(unit, caller, party_id)
    view["phone_last4"] = last4
    return view


def free_short_code(unit: Unit) -> str:
    """A merchant's or agent's code (``ussd.codes``) no party holds. A concurrent party
    drawing the same code loses on the UNIQUE index, and its unit of work runs again."""
    for _ in range(limits.USSD_CODE_TRIES):
        code = codes.new()
        taken = unit.conn.execute(select(parties.c.id).where(parties.c.short_code == code))
        if taken.first() is None:
            return code
    raise RuntimeError(f"no free merchant code after {limits.USSD_CODE_TRIES} draws")


def _profile(kind: PartyKind, new: NewParty) -> dict[str, Any]:
    row: dict[str, Any] = {"name": rules.name(new.name)}
    if kind is PartyKind.MERCHANT:
        for field in ("mcc", "city", "province"):
            if getattr(new, field) is None:
                raise invalid("parameter_missing", f"a merchant needs {field}", field)
        row["mcc"] = rules.merchant_category_code(new.mcc or "")
    elif new.mcc is not None:
        raise invalid("parameter_invalid", "only merchants have a category code", "mcc")
    for field in ("city", "province"):
        value = getattr(new, field)
        if value is not None:
            row[field] = rules.text(value, field, limits.CITY_MAX_LENGTH)
    return row


def _known_tier(unit: Unit, name: str) -> str:
    found = unit.conn.execute(select(kyc_tiers.c.name).where(kyc_tiers.c.name == name)).first()
    if not found:
        raise invalid("tier_invalid", f"no KYC tier named {name!r}", "tier")
    return name


def _wallet_currency(kind: PartyKind, code: str | None) -> str:
    if code is None or code == CURRENCY:
        return CURRENCY
    if kind is not PartyKind.CUSTOMER:
        message = "only a customer (a buyer abroad) holds a wallet in another currency"
        raise invalid("currency_unsupported", message, "currency")
    if code not in limits.FX_CURRENCIES:
        known = ", ".join((CURRENCY, *limits.FX_CURRENCIES))
        raise invalid("currency_unsupported", f"wallets hold {known}", "currency")
    return code


def _open_wallets(unit: Unit, party_id: str, kind: PartyKind, now: int, code: str) -> None:
    rows, accounts = [], []
    for wallet_kind in WALLETS_BY_PARTY[kind]:
        wallet_id = new_id("wal")
        account_id = ledger_id(wallet_id)
        accounts.append(NewAccount(account_id, code, _CODES[wallet_kind], party_id, WALLET))
        rows.append(
            {
                "id": wallet_id,
                "party_id": party_id,
                "kind": wallet_kind.value,
                "currency": code,
                "account_id": account_id,
                "created_at_ns": now,
            }
        )
    outcomes = open_accounts_in_transaction(unit.db, unit.conn, accounts)
    assert all(o.result == "ok" for o in outcomes), outcomes
    unit.conn.execute(insert(wallets), rows)


def party_row(unit: Unit, caller: Caller, party_id: str) -> Any:
    """The party, if the caller reaches it; else "no such party" (404)."""
    if not caller.reaches(party_id):
        raise not_found("party", "id")
    row = unit.conn.execute(select(parties).where(parties.c.id == party_id)).mappings().first()
    if row is None:
        raise not_found("party", "id")
    return row


def owner_id(unit: Unit, caller: Caller, party_id: str | None) -> str:
    """Whose record a party-owned resource (an address, a bank account) is: the caller's own
    party, or for an operator the ``party_id`` it must name; another party's id is "no such
    party" (404), never a hint that it exists."""
    if caller.operator:
        if not party_id:
            raise invalid("parameter_missing", "an operator key must give party_id", "party_id")
        wanted = party_id
    elif party_id not in (None, caller.party_id):
        raise not_found("party", "party_id")
    else:
        assert caller.party_id is not None
        wanted = caller.party_id
    return str(party_row(unit, caller, wanted)["id"])


def get(unit: Unit, caller: Caller, party_id: str) -> dict[str, Any]:
    caller.require("parties:read")
    return _view(unit, party_row(unit, caller, party_id))


def _view(unit: Unit, row: Any) -> dict[str, Any]:
    last4 = None
    if row["phone_cipher"]:
        last4 = unit.vault.open(row["phone_cipher"], f"phone:{row['id']}")[-4:]
    business = None
    if row["kind"] == PartyKind.MERCHANT:
        business = {"mcc": row["mcc"], "city": row["city"], "province": row["province"]}
    return {
        "id": row["id"],
        "object": "party",
        "kind": row["kind"],
        "status": row["status"],
        "tier": row["tier"],
        "name": row["name"],
        "business": business,
        "city": row["city"],
        "province": row["province"],
        "phone_last4": last4,
        "id_verified": row["id_number_cipher"] is not None,
        "created": iso(row["created_at_ns"]),
    }


def list_parties(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None,
    *,
    kind: str | None = None,
    name_contains: str | None = None,
) -> dict[str, Any]:
    """Parties by id; optionally of one ``kind`` and whose name contains ``name_contains``
    (any case; names are stored in clear, unlike phone and ID numbers)."""
    caller.require("parties:read")
    query = select(parties).order_by(parties.c.id).limit(limit + 1)
    if not caller.operator:
        query = query.where(parties.c.id == caller.party_id)
    if starting_after:
        query = query.where(parties.c.id > starting_after)
    if kind is not None:
        if kind not in set(PartyKind):
            raise invalid("kind_invalid", "kind is customer, merchant or agent", "kind")
        query = query.where(parties.c.kind == kind)
    if name_contains:
        if len(name_contains) > limits.NAME_MAX_LENGTH:
            raise invalid("parameter_invalid", "the name to search is too long", "name")
        escaped = name_contains.lower().replace("\\", "\\\\").replace("%", "\\%")
        pattern = "%" + escaped.replace("_", "\\_") + "%"
        query = query.where(func.lower(parties.c.name).like(pattern, escape="\\"))
    found = list(unit.conn.execute(query).mappings())
    return page([_view(unit, r) for r in found[:limit]], len(found) > limit)


def update_party(
    unit: Unit,
    caller: Caller,
    party_id: str,
    status: str | None,
    tier: str | None,
    note: str | None = None,
) -> dict[str, Any]:
    """Operator: freeze, unfreeze or close a party; move it to another KYC tier. A change
    is written to the audit log (``party.updated``) with the operator's note."""
    caller.require("parties:write")
    caller.require_operator()
    note = audit.check_note(note)
    row = party_row(unit, caller, party_id)
    changes: dict[str, Any] = {}
    if tier is not None:
        changes["tier"] = _known_tier(unit, tier)
    if status is not None:
        try:
            new_status = PartyStatus(status)
        except ValueError:
            message = "status is active, frozen or closed"
            raise invalid("status_invalid", message, "status") from None
        if row["status"] == PartyStatus.CLOSED and new_status != PartyStatus.CLOSED:
            raise conflict("party_closed", "a closed party stays closed", "status")
        if new_status == PartyStatus.CLOSED:
            _require_empty_wallets(unit, party_id)
        changes["status"] = new_status.value
    if changes:
        unit.conn.execute(update(parties).where(parties.c.id == party_id).values(**changes))
    changed = {k: [row[k], v] for k, v in sorted(changes.items()) if row[k] != v}
    if changed:
        audit.record(unit, caller.key_id, "party.updated", "party", party_id, note, changed)
    return get(unit, caller, party_id)


def _require_empty_wallets(unit: Unit, party_id: str) -> None:
    query = (
        select(accounts.c.id)
        .select_from(wallets.join(accounts, accounts.c.id == wallets.c.account_id))
        .where(wallets.c.party_id == party_id)
    )
    ledger = unit.platform.ledger
    if ledger is not None:  # issue 22: the cluster's balances, not the SQL accounts' old ones
        found = ledger.lookup_accounts(list(unit.conn.execute(query).scalars()))
        if any(a.balance_posted or a.debits_pending or a.credits_pending for a in found.values()):
            raise conflict("wallet_not_empty", "empty the party's wallets before closing it")
        query = query.where(accounts.c.id.not_in(list(found)))  # never opened in the cluster
    held = unit.conn.execute(
        query.where(
            (accounts.c.credits_posted != accounts.c.debits_posted)
            | (accounts.c.debits_pending != 0)
            | (accounts.c.credits_pending != 0)
        )
    ).first()
    if held:
        raise conflict("wallet_not_empty", "empty the party's wallets before closing it")
