"""The steps every money movement shares, inside the caller's transaction.

A payment is: find the wallets (with their party and KYC tier) → check the parties may
move money and the per-transaction maximum → raise the wallets' daily and monthly running
totals and check them → record the payment → write its event to the outbox → book the
ledger transfers, linked (judged first by the live risk rules, ``risk_gate``, which may
refuse the movement or add a hold leg) → check the receiving wallet's maximum balance. Any
refusal raises, and the transaction rolls back whole: no partial move, no half-written
record.

Why this order:
* the running totals are raised with one upsert each, which locks that wallet's total row:
  two payments from one wallet take turns, so they cannot both fit under a limit that only
  one of them fits under;
* the ledger is booked *last*, just before the commit, because booking locks the accounts
  (the payer's wallet, the merchant's settlement, a fees shard) and those row locks are
  held until the commit: the less work after them, the shorter every other payment touching
  the same accounts waits.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ARRAY,
    Text,
    TextClause,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    insert,
    literal_column,
    select,
    text,
    update,
)

from tindahan import limits
from tindahan.kernel.refusals import RefusalError, conflict, invalid, refused
from tindahan.ledger.model import CreateTransferResult, NewTransfer, TransferFlags
from tindahan.money import MoneyError, currency
from tindahan.payments import parties as rules
from tindahan.payments import tiers
from tindahan.payments.model import PartyStatus, TransferCode, WalletKind
from tindahan.payments.periods import day_key, month_key
from tindahan.payments.tiers import (
    LIMIT_NAMES,
    TierLimits,
    check_amount,
    check_incoming_total,
    check_outgoing,
    tier_from,
)
from tindahan.services.ledger import risk_gate
from tindahan.services.ledger.transfers import AppliedBatch, apply_in_transaction
from tindahan.services.unit import Unit
from tindahan.store.hotpath import fetch_named
from tindahan.store.lending_tables import loans
from tindahan.store.payment_tables import kyc_tiers, parties, wallet_usage, wallets
from tindahan.store.pgarray import text_array

SUPPORTED_CURRENCIES = ("PHP",)
#: What wallets may hold: buyers abroad hold one of ``limits.FX_CURRENCIES`` and use it for
#: orders (through an FX quote) and fundings; every other movement is in PHP.
WALLET_CURRENCIES = ("PHP", *limits.FX_CURRENCIES)


@dataclass(frozen=True, slots=True)
class Holder:
    """A wallet, with what the payment path needs of its party."""

    wallet_id: str
    account_id: str
    kind: str
    currency: str
    party_id: str
    party_kind: str
    party_status: str
    party_name: str
    tier: TierLimits
    #: The party had an active loan repaid from its sales when this wallet was read (one
    #: ``EXISTS`` in the same statement): a sale to it must look its loan up
    #: (``lending.loans.set_aside``); False lets a sale skip that round trip (see
    #: ``payments.settlement.Sale.may_set_aside`` for why reading it here is as good).
    sets_aside: bool = True


#: Built once: constructing a statement costs more than running it from the cache.
_HOLDER = select(
    wallets.c.id,
    wallets.c.account_id,
    wallets.c.kind,
    wallets.c.currency,
    parties.c.id.label("party_id"),
    parties.c.kind.label("party_kind"),
    parties.c.status,
    parties.c.name,
    kyc_tiers.c.name.label("tier_name"),
    *(kyc_tiers.c[name] for name in LIMIT_NAMES),
    exists()
    .where(
        and_(
            loans.c.merchant_id == parties.c.id,
            # constants in the text: the statement runs on the driver with the caller's
            # parameters only (``fetch_named``)
            loans.c.status == literal_column("'active'"),
            loans.c.auto_deduct_bps > literal_column("0"),
        )
    )
    .label("sets_aside"),
).select_from(
    wallets.join(parties, parties.c.id == wallets.c.party_id).join(
        kyc_tiers, kyc_tiers.c.name == parties.c.tier
    )
)
_HOLDERS = _HOLDER.where(wallets.c.party_id.in_(bindparam("party_ids", expanding=True)))
#: The same on PostgreSQL, the parties as one ``text[]`` (``store.pgarray``): a constant
#: statement, run on the driver (``fetch_named``).
_HOLDERS_PG = _HOLDER.where(
    wallets.c.party_id == any_(cast(bindparam("party_ids", type_=Text()), ARRAY(Text())))
)
#: One wallet by its id, with its party and tier (``holder_of``).
_HOLDER_BY_WALLET = _HOLDER.where(wallets.c.id == bindparam("wallet_id"))


_HOLDER_KEYS = tuple(_HOLDER_BY_WALLET.selected_columns.keys())


def holder_of(unit: Unit, wallet_id: str) -> Holder | None:
    """The wallet ``wallet_id`` with what the payment path needs of its party, in one round
    trip (an inbound credit names the wallet, not its party); None when there is none. On
    PostgreSQL on the driver (``fetch_named``: a third of the statement's client CPU was
    SQLAlchemy's own per-statement work; every column is a string or an integer, which
    SQLAlchemy would not process anyway)."""
    params = {"wallet_id": wallet_id}
    holder = None
    if unit.conn.dialect.name == "postgresql":
        found = fetch_named(unit.conn, _HOLDER_BY_WALLET, params)
        if found:
            holder = _holder(dict(zip(_HOLDER_KEYS, found[0], strict=True)))
    else:
        row = unit.conn.execute(_HOLDER_BY_WALLET, params).mappings().first()
        holder = None if row is None else _holder(row)
    if holder is not None:  # the gate's owners read, saved for the movement to come
        risk_gate.learn_owners(unit, ((holder.account_id, holder.party_id),))
    return holder


def _holder(row: Any) -> Holder:
    tier = tier_from(row["tier_name"], {k: row[k] for k in LIMIT_NAMES})
    return Holder(
        row["id"],
        row["account_id"],
        row["kind"],
        row["currency"],
        row["party_id"],
        row["party_kind"],
        row["status"],
        row["name"],
        tier,
        bool(row["sets_aside"]),
    )


def holders(unit: Unit, party_ids: Iterable[str]) -> dict[tuple[str, str], Holder]:
    """Every wallet of these parties, keyed ``(party_id, wallet kind)``: one query."""
    wanted = sorted(set(party_ids))
    found: dict[tuple[str, str], Holder] = {}
    if unit.conn.dialect.name == "postgresql":  # on the driver, as ``holder_of``
        read = fetch_named(unit.conn, _HOLDERS_PG, {"party_ids": text_array(wanted)})
        rows: Iterable[Any] = (dict(zip(_HOLDER_KEYS, r, strict=True)) for r in read)
    else:
        rows = unit.conn.execute(_HOLDERS, {"party_ids": wanted}).mappings()
    for row in rows:
        found[(row["party_id"], row["kind"])] = _holder(row)
    # the gate's owners read, saved for the movement these wallets are about to make
    risk_gate.learn_owners(unit, ((h.account_id, h.party_id) for h in found.values()))
    return found


def amount(
    amount_minor: object, code: object, supported: tuple[str, ...] = SUPPORTED_CURRENCIES
) -> tuple[int, str]:
    """A positive whole number of minor units, in a currency this movement supports."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise invalid(
            "amount_invalid", "amount_minor is a whole number of centavos", "amount_minor"
        )
    if amount_minor <= 0:
        raise invalid("amount_invalid", "amount_minor must be positive", "amount_minor")
    if amount_minor > limits.MAX_AMOUNT_MINOR:
        raise invalid("amount_invalid", "amount_minor is too large", "amount_minor")
    try:
        known = currency(code if isinstance(code, str) else "")
    except MoneyError:
        raise invalid(
            "currency_invalid", f"{code!r} is not an ISO 4217 currency", "currency"
        ) from None
    if known.code not in supported:
        message = f"this is done in {', '.join(supported)}, not {known.code}"
        raise invalid("currency_unsupported", message, "currency")
    return amount_minor, known.code


def require_active(holder: Holder, param: str) -> None:
    if holder.party_status == PartyStatus.FROZEN:
        raise refused("wallet_frozen", f"the {param} wallet is frozen", param)
    if holder.party_status == PartyStatus.CLOSED:
        raise refused("wallet_closed", f"the {param} wallet is closed", param)


def book(
    unit: Unit,
    transfers: Sequence[NewTransfer],
    refusals: Mapping[str, RefusalError] | None = None,
) -> AppliedBatch:
    """Judge the movement by the live risk rules (``risk_gate``: it may add a hold leg, or
    refuse), then book the linked batch, or raise the refusal its first failure maps to."""
    sql_ledger_only(unit, transfers)
    transfers = risk_gate.judge(unit, transfers)
    applied = apply_in_transaction(unit.db, unit.conn, transfers)
    failure = applied.first_failure
    if failure is None:
        return applied
    if refusals and failure.result in refusals:
        raise refusals[failure.result]
    if failure.result == CreateTransferResult.EXCEEDS_CREDITS:
        raise refused(
            "insufficient_funds", "the paying wallet's balance is too low", "amount_minor"
        )
    # Anything else means the service built a wrong batch: a bug, not the caller's fault.
    raise RuntimeError(f"the ledger refused {failure.id}: {failure.result}")


def sql_ledger_only(unit: Unit, transfers: Sequence[NewTransfer]) -> None:
    """Refuse a movement that books on the SQL ledger when the deployment's ledger is a
    TigerBeetle cluster (issue 22): booking it in the main database would split the ledger
    in two. What is ported books through ``payments.two_store`` instead (payments, sends,
    cash-ins and -outs, fundings, payouts to the main wallet: ``payouts.cluster``);
    the refusal names the movement by its first transfer's code."""
    if unit.platform.ledger is None:
        return
    code = next((t.code for t in transfers if t.code is not None), None)
    try:
        name = TransferCode(code).name.lower() if code is not None else "movement"
    except ValueError:
        name = f"movement (code {code})"
    raise conflict(
        "ledger_not_supported",
        f"this deployment keeps its ledger on TigerBeetle, where {name} is not supported yet",
    )


#: One statement for both dialects: SQLite (3.35+) and PostgreSQL share the upsert syntax.
#: Every bind typed, so on PostgreSQL it runs on the driver (``fetch_named``) with each
#: value cast as SQLAlchemy would have sent it.
_RAISE_TOTALS = {
    count: text(
        "INSERT INTO wallet_usage (account_id, period, direction, total_minor) VALUES "  # noqa: S608 (placeholders only)
        + ", ".join(f"(:account_id, :period{i}, :direction, :amount)" for i in range(count))
        + " ON CONFLICT (account_id, period, direction) DO UPDATE "
        "SET total_minor = wallet_usage.total_minor + excluded.total_minor "
        "RETURNING period, total_minor"
    ).bindparams(
        bindparam("account_id", type_=wallet_usage.c.account_id.type),
        bindparam("direction", type_=wallet_usage.c.direction.type),
        bindparam("amount", type_=wallet_usage.c.total_minor.type),
        *(bindparam(f"period{i}", type_=wallet_usage.c.period.type) for i in range(count)),
    )
    for count in (1, 2)
}


def _add_usage(
    unit: Unit, account_id: str, direction: str, amount_minor: int, periods: Sequence[str]
) -> dict[str, int]:
    """Raise the running totals (an upsert per period, one statement); returns them."""
    params: dict[str, Any] = {
        "account_id": account_id,
        "direction": direction,
        "amount": amount_minor,
    }
    params.update({f"period{i}": period for i, period in enumerate(periods)})
    statement = _RAISE_TOTALS[len(periods)]
    if unit.conn.dialect.name == "postgresql":
        return {row[0]: row[1] for row in fetch_named(unit.conn, statement, params)}
    return {row[0]: row[1] for row in unit.conn.execute(statement, params)}


def precheck(holder: Holder, amount_minor: int, currency_code: str) -> None:
    """The per-transaction maximum, before anything is booked (so it wins over "insufficient
    funds": the answer that tells the person what to change). A wallet in another currency
    than the movement's is refused here, before the ledger is asked."""
    require_currency(holder, currency_code)
    if holder.kind == WalletKind.MAIN:
        check_amount(holder.tier, amount_minor, currency_code)


def require_currency(holder: Holder, currency_code: str) -> None:
    if holder.currency != currency_code:
        message = f"this wallet holds {holder.currency}, not {currency_code}"
        raise invalid("currency_mismatch", message, "currency")


def limit_outgoing(unit: Unit, holder: Holder, amount_minor: int, currency_code: str) -> None:
    """Tier checks on money leaving a main wallet (other wallets are business accounts)."""
    if holder.kind != WalletKind.MAIN:
        return
    check_amount(holder.tier, amount_minor, currency_code)
    now = unit.now()
    day, month = day_key(now), month_key(now)
    totals = _add_usage(unit, holder.account_id, "out", amount_minor, (day, month))
    check_outgoing(holder.tier, totals[day], totals[month], currency_code)


#: The day's and the month's outgoing usage raised beside a data-modifying CTE ``claimed``
#: (PostgreSQL; ``limit_outgoing_claimed``), with whether ``claimed`` inserted its row.
_RAISE_OUT_CLAIMED = (
    "raised AS (INSERT INTO wallet_usage (account_id, period, direction, total_minor) "
    "VALUES (:usage_account, :usage_day, 'out', :usage_amount), "
    "(:usage_account, :usage_month, 'out', :usage_amount) "
    "ON CONFLICT (account_id, period, direction) DO UPDATE "
    "SET total_minor = wallet_usage.total_minor + excluded.total_minor "
    "RETURNING period, total_minor) "
    "SELECT period, total_minor, (SELECT count(*) FROM claimed) FROM raised"
)


@functools.cache
def _out_claimed_statement(claim: TextClause) -> TextClause:
    return text(f"WITH claimed AS ({claim.text}), {_RAISE_OUT_CLAIMED}").bindparams(
        *claim._bindparams.values(),
        bindparam("usage_account", type_=wallet_usage.c.account_id.type),
        bindparam("usage_day", type_=wallet_usage.c.period.type),
        bindparam("usage_month", type_=wallet_usage.c.period.type),
        bindparam("usage_amount", type_=wallet_usage.c.total_minor.type),
    )


def limit_outgoing_claimed(
    unit: Unit,
    holder: Holder,
    amount_minor: int,
    currency_code: str,
    claim: TextClause,
    params: Mapping[str, Any],
) -> bool:
    """``limit_outgoing`` of a main wallet together with the insert of the row the money
    leaves for (issue 18: a merchant payment's row beside its payer's usage): ``claim`` is
    an ``INSERT … ON CONFLICT DO NOTHING RETURNING …`` (a constant statement; ``params`` its
    values). On PostgreSQL it runs as a data-modifying CTE of the usage's upsert: one round
    trip fewer; elsewhere the two run one after the other. The usage is raised either way;
    whether ``claim`` inserted its row is returned (not: its short reference was taken, and
    the caller draws again). The per-transaction maximum is checked first, before anything
    is written; a day's or a month's total over the tier's raises after both were written,
    and the caller's transaction rolls them back, as it does ``limit_outgoing``'s upsert."""
    if holder.kind != WalletKind.MAIN or unit.db.is_sqlite:  # the two apart
        limit_outgoing(unit, holder, amount_minor, currency_code)
        return unit.conn.execute(claim, params).first() is not None
    check_amount(holder.tier, amount_minor, currency_code)
    now = unit.now()
    day, month = day_key(now), month_key(now)
    usage = {"usage_account": holder.account_id, "usage_day": day, "usage_month": month}
    found = fetch_named(
        unit.conn, _out_claimed_statement(claim), {**params, **usage, "usage_amount": amount_minor}
    )
    totals = {row[0]: row[1] for row in found}
    check_outgoing(holder.tier, totals[day], totals[month], currency_code)
    return bool(found[0][2])


def limit_incoming(unit: Unit, holder: Holder, amount_minor: int, currency_code: str) -> None:
    """Tier checks on money arriving in a main wallet, before booking (see
    ``check_balance`` for the one that needs the booked balance)."""
    if holder.kind != WalletKind.MAIN:
        return
    check_amount(holder.tier, amount_minor, currency_code)
    month = month_key(unit.now())
    totals = _add_usage(unit, holder.account_id, "in", amount_minor, (month,))
    check_incoming_total(holder.tier, totals[month], currency_code)


#: The month's incoming usage raised for the row a data-modifying CTE ``claimed`` inserted
#: (PostgreSQL; ``limit_incoming_claimed``): nothing when it inserted nothing.
_RAISE_CLAIMED = (
    "raised AS (INSERT INTO wallet_usage (account_id, period, direction, total_minor) "
    "SELECT CAST(:usage_account AS VARCHAR), CAST(:usage_period AS VARCHAR), 'in', "
    "CAST(:usage_amount AS BIGINT) FROM claimed "
    "ON CONFLICT (account_id, period, direction) DO UPDATE "
    "SET total_minor = wallet_usage.total_minor + excluded.total_minor "
    "RETURNING total_minor) SELECT total_minor FROM raised"
)


@functools.cache
def _claimed_statement(claim: TextClause) -> TextClause:
    return text(f"WITH claimed AS ({claim.text}), {_RAISE_CLAIMED}").bindparams(
        *claim._bindparams.values()
    )


def limit_incoming_claimed(
    unit: Unit,
    holder: Holder,
    amount_minor: int,
    currency_code: str,
    claim: TextClause,
    params: Mapping[str, Any],
) -> bool:
    """``limit_incoming`` together with the insert of the row the money arrives for:
    ``claim`` is an ``INSERT … ON CONFLICT DO NOTHING RETURNING …`` (a constant statement;
    ``params`` its values). The month's usage is raised only when ``claim`` inserted its row
    — a duplicate counts nothing — and whether it did is returned. On PostgreSQL the two are
    one statement (the usage's upsert selects from the insert's ``RETURNING`` in a
    data-modifying CTE): one round trip fewer; on SQLite, two. The per-transaction maximum
    is checked first, before anything is written; a month's total over the tier's raises
    after both were written, and the caller's transaction rolls them back."""
    if holder.kind != WalletKind.MAIN:
        return unit.conn.execute(claim, params).first() is not None
    check_amount(holder.tier, amount_minor, currency_code)
    month = month_key(unit.now())
    if unit.db.is_sqlite:
        if unit.conn.execute(claim, params).first() is None:
            return False
        total = _add_usage(unit, holder.account_id, "in", amount_minor, (month,))[month]
    else:
        usage = {"usage_account": holder.account_id, "usage_period": month}
        # on the driver (``fetch_named``): a constant text() with every bind typed, so the
        # compiled statement casts each value as SQLAlchemy would have sent it
        found = fetch_named(
            unit.conn, _claimed_statement(claim), {**params, **usage, "usage_amount": amount_minor}
        )
        if not found:
            return False
        total = found[0][0]
    check_incoming_total(holder.tier, total, currency_code)
    return True


def check_balance(
    holder: Holder,
    applied: AppliedBatch,
    currency_code: str,
    to_php: Callable[[int], int] | None = None,
) -> None:
    """The maximum balance, on the balance the booking left (holds included); a wallet in
    another currency is counted in PHP by ``to_php`` (tier limits are PHP figures)."""
    if holder.kind != WalletKind.MAIN:
        return
    account = applied.accounts[holder.account_id]
    balance = account.credits_posted + account.credits_pending - account.debits_posted
    if to_php is not None:
        balance, currency_code = to_php(balance), "PHP"
    tiers.check_balance(holder.tier, balance, currency_code)


def release_outgoing(unit: Unit, holder: Holder, amount_minor: int, created_at_ns: int) -> None:
    """Give back what a failed payment counted against its day and month (the rows exist:
    the payment raised them; an upsert with a negative candidate row would trip the CHECK
    before it became an update)."""
    if holder.kind != WalletKind.MAIN:
        return
    periods = (day_key(created_at_ns), month_key(created_at_ns))
    unit.conn.execute(
        update(wallet_usage)
        .where(
            wallet_usage.c.account_id == holder.account_id,
            wallet_usage.c.direction == "out",
            wallet_usage.c.period.in_(periods),
        )
        .values(total_minor=wallet_usage.c.total_minor - amount_minor)
    )


def release_incoming(unit: Unit, holder: Holder, amount_minor: int, created_at_ns: int) -> None:
    """Give back what a failed payment counted against the receiving wallet's month."""
    if holder.kind != WalletKind.MAIN:
        return
    unit.conn.execute(
        update(wallet_usage)
        .where(
            wallet_usage.c.account_id == holder.account_id,
            wallet_usage.c.direction == "in",
            wallet_usage.c.period == month_key(created_at_ns),
        )
        .values(total_minor=wallet_usage.c.total_minor - amount_minor)
    )


def apply_batch(unit: Unit, transfers: Sequence[NewTransfer]) -> AppliedBatch:
    """Book without raising: the caller reads ``first_failure`` itself."""
    sql_ledger_only(unit, transfers)
    return apply_in_transaction(unit.db, unit.conn, transfers)


def linked(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The legs as one linked chain (each but the last flagged ``LINKED``): the ledger
    commits them all or none."""
    return [
        replace(t, flags=(t.flags | TransferFlags.LINKED) if i < len(legs) - 1 else t.flags)
        for i, t in enumerate(legs)
    ]


def optional_text(value: str | None, param: str, max_length: int) -> str | None:
    if value is None:
        return None
    return rules.text(value, param, max_length, required=False) or None


def metadata(payment_id: str, **extra: str) -> dict[str, str]:
    return {"payment": payment_id, **extra}


def encode_ids(ids: Sequence[str]) -> str:
    return json.dumps(list(ids))


def decode_ids(text: str) -> list[str]:
    return list(json.loads(text))


def insert_row(unit: Unit, table: Any, row: Mapping[str, Any]) -> None:
    """Values as parameters, not in the statement: SQLAlchemy compiles ``insert(table)`` once
    and reuses it (and psycopg prepares it), where ``.values(**row)`` compiles every time."""
    unit.conn.execute(insert(table), dict(row))
