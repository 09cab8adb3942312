"""Parties (customers, merchants, agents), their wallets, KYC tiers and fee settings.

A party is created by the operator (onboarding is where KYC happens), with its wallets
opened on the ledger in the same transaction. Phone and ID numbers are encrypted before
they reach the database and never come back out through the API: a party's view shows the
last four digits of the phone and whether an ID was verified, nothing more.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from tindahan import limits
from tindahan.ledger.model import AccountCode, AccountFlags, NewAccount
from tindahan.payments import parties as rules
from tindahan.payments.access import Caller
from tindahan.payments.errors import conflict, invalid, not_found
from tindahan.payments.fees import check_bps
from tindahan.payments.model import (
    DEFAULT_TIER,
    WALLETS_BY_PARTY,
    PartyKind,
    PartyStatus,
    WalletKind,
)
from tindahan.payments.tiers import LIMIT_NAMES, TierLimits, tier_from
from tindahan.services import audit
from tindahan.services.ledger import open_accounts_in_transaction
from tindahan.services.platform import Platform, Unit, iso, ledger_id, new_id
from tindahan.store.payment_tables import kyc_tiers, parties, settings, wallets
from tindahan.store.tables import accounts

CURRENCY = "PHP"
BANK_ACCOUNT = "op.bank"
WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
_CODES = {
    WalletKind.MAIN: AccountCode.WALLET,
    WalletKind.SETTLEMENT: AccountCode.MERCHANT_SETTLEMENT,
    WalletKind.FLOAT: AccountCode.AGENT_FLOAT,
}
_PREFIX = {PartyKind.CUSTOMER: "cus", PartyKind.MERCHANT: "mer", PartyKind.AGENT: "agt"}


def bank_account(currency: str) -> str:
    """The operator's bank settlement account in ``currency`` (``op.bank`` for PHP)."""
    return BANK_ACCOUNT if currency == CURRENCY else f"op.bank.{currency}"


def fx_account(currency: str) -> str:
    return f"op.fx.{currency}"


#: The operator's own ledger accounts (no balance limits: they are the other side of
#: wallets). Fees and commissions are sharded (``limits.OPERATOR_ACCOUNT_SHARDS``) so that
#: concurrent payments do not all queue on one row lock.
SHARDS = range(limits.OPERATOR_ACCOUNT_SHARDS)
OPERATOR_ACCOUNTS = [
    *(
        NewAccount(f"op.fees.{i:02d}", CURRENCY, AccountCode.FEES_REVENUE, "operator")
        for i in SHARDS
    ),
    *(
        NewAccount(f"op.commissions.{i:02d}", CURRENCY, AccountCode.COMMISSION_EXPENSE, "operator")
        for i in SHARDS
    ),
    NewAccount("op.bank", CURRENCY, AccountCode.BANK_SETTLEMENT, "operator"),
    #: Buyers abroad: the operator's bank account in each foreign currency (fundings), and
    #: its FX liquidity in each currency, PHP included (see ``commerce.fx``).
    *(
        NewAccount(bank_account(code), code, AccountCode.BANK_SETTLEMENT, "operator")
        for code in limits.FX_CURRENCIES
    ),
    *(
        NewAccount(fx_account(code), code, AccountCode.FX_LIQUIDITY, "operator")
        for code in (CURRENCY, *limits.FX_CURRENCIES)
    ),
    #: Lending: the income a loan books (interest and penalties as earned, fees when
    #: charged, recoveries of written-off loans) and the losses it writes off.
    NewAccount("op.loan.interest", CURRENCY, AccountCode.INTEREST_INCOME, "operator"),
    NewAccount("op.loan.penalty", CURRENCY, AccountCode.PENALTY_INCOME, "operator"),
    NewAccount("op.loan.fees", CURRENCY, AccountCode.FEES_REVENUE, "operator"),
    NewAccount("op.loan.recoveries", CURRENCY, AccountCode.RECOVERY_INCOME, "operator"),
    NewAccount("op.loan.losses", CURRENCY, AccountCode.LOAN_LOSS_EXPENSE, "operator"),
]


def _shard(payment_id: str) -> int:
    return zlib.crc32(payment_id.encode()) % limits.OPERATOR_ACCOUNT_SHARDS


def fee_account(payment_id: str) -> str:
    """The fees shard a payment's merchant discount goes to (and its refunds come from)."""
    return f"op.fees.{_shard(payment_id):02d}"


def commission_account(payment_id: str) -> str:
    return f"op.commissions.{_shard(payment_id):02d}"


FEE_SETTINGS = {
    "merchant_discount_bps": limits.MERCHANT_DISCOUNT_BPS,
    "agent_commission_bps": limits.AGENT_COMMISSION_BPS,
    "marketplace_fee_bps": limits.MARKETPLACE_FEE_BPS,
    "escrow_auto_release_days": limits.ESCROW_AUTO_RELEASE_DAYS,
}


def _check_setting(key: str, value: object) -> int:
    if key != "escrow_auto_release_days":
        return check_bps(value, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("setting_invalid", f"{key} is a whole number of days", key)
    if not 1 <= value <= limits.MAX_AUTO_RELEASE_DAYS:
        raise invalid("setting_invalid", f"{key} is 1 to {limits.MAX_AUTO_RELEASE_DAYS}", key)
    return value


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


def ensure_operator_accounts(platform: Platform) -> None:
    """Open the operator's accounts if they are not there (idempotent; run at start-up)."""

    def work(unit: Unit) -> None:
        open_accounts_in_transaction(unit.db, unit.conn, OPERATOR_ACCOUNTS)

    platform.run(work)


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
    last4 = row.pop("phone_last4", None)
    now = unit.now()
    unit.conn.execute(
        insert(parties).values(
            id=party_id, kind=kind.value, status=PartyStatus.ACTIVE.value, created_at_ns=now, **row
        )
    )
    _open_wallets(unit, party_id, kind, now, _wallet_currency(kind, new.currency))
    view = get(unit, caller, party_id)
    view["phone_last4"] = last4
    return view


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
    held = unit.conn.execute(
        select(func.count())
        .select_from(wallets.join(accounts, accounts.c.id == wallets.c.account_id))
        .where(wallets.c.party_id == party_id)
        .where(
            (accounts.c.credits_posted != accounts.c.debits_posted)
            | (accounts.c.debits_pending != 0)
            | (accounts.c.credits_pending != 0)
        )
    ).scalar_one()
    if held:
        raise conflict("wallet_not_empty", "empty the party's wallets before closing it")


def page(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more}


# --- KYC tiers and fee settings --------------------------------------------------------------
def tiers(unit: Unit) -> list[TierLimits]:
    found = unit.conn.execute(select(kyc_tiers).order_by(kyc_tiers.c.name)).mappings()
    return [tier_from(r["name"], {k: r[k] for k in LIMIT_NAMES}) for r in found]


def list_tiers(unit: Unit, caller: Caller) -> dict[str, Any]:
    """Every party may see the tiers (they explain its own limits)."""
    caller.require("parties:read")
    return page([tier_view(t) for t in tiers(unit)], False)


def fees_view(unit: Unit, caller: Caller) -> dict[str, Any]:
    """The fee rates are part of the merchant agreement: any key may read them."""
    return {"object": "fee_settings", **fee_settings(unit)}


def tier_view(tier: TierLimits) -> dict[str, Any]:
    return {"object": "kyc_tier", "name": tier.name, **tier.figures()}


def put_tier(
    unit: Unit, caller: Caller, name: str, figures: Mapping[str, int | None]
) -> dict[str, Any]:
    caller.require_operator()
    tier = tier_from(name, figures)
    values = {**tier.figures(), "updated_at_ns": unit.now()}
    changed = unit.conn.execute(
        update(kyc_tiers).where(kyc_tiers.c.name == name).values(**values)
    ).rowcount
    if not changed:
        unit.conn.execute(insert(kyc_tiers).values(name=name, **values))
    return tier_view(tier)


class _FeeCache:
    """Fee rates per process for ``limits.SETTINGS_CACHE_SECONDS``: read on every merchant
    payment, changed perhaps once a quarter. A change made here clears it at once; other
    processes see it within the lifetime."""

    def __init__(self) -> None:
        self.value: dict[str, int] | None = None
        self.until_ns = 0

    def get(self) -> dict[str, int] | None:
        return self.value if time.monotonic_ns() < self.until_ns else None

    def put(self, value: dict[str, int] | None) -> None:
        self.value = value
        self.until_ns = time.monotonic_ns() + limits.SETTINGS_CACHE_SECONDS * 10**9


_fees = _FeeCache()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests; a process that changed them another way)."""
    _fees.put(None)


def fee_settings(unit: Unit) -> dict[str, int]:
    cached = _fees.get()
    if cached is not None:
        return dict(cached)
    value = _read_fee_settings(unit)
    _fees.put(value)
    return dict(value)


def _read_fee_settings(unit: Unit) -> dict[str, int]:
    found = dict(
        unit.conn.execute(
            select(settings.c.key, settings.c.value).where(settings.c.key.in_(FEE_SETTINGS))
        ).all()
    )
    return {k: int(found.get(k, default)) for k, default in FEE_SETTINGS.items()}


def put_fee_settings(unit: Unit, caller: Caller, values: Mapping[str, int]) -> dict[str, Any]:
    caller.require_operator()
    for key, value in values.items():
        if key not in FEE_SETTINGS:
            raise invalid("parameter_unknown", f"unknown setting {key!r}", key)
        _check_setting(key, value)
        done = unit.conn.execute(
            update(settings).where(settings.c.key == key).values(value=str(value))
        ).rowcount
        if not done:
            unit.conn.execute(insert(settings).values(key=key, value=str(value)))
    _fees.put(None)
    return {"object": "fee_settings", **_read_fee_settings(unit)}
