"""A merchant's automatic daily payout: on or off, the time of day (Manila), the balance to
leave in the settlement wallet, the destination: the main wallet, or one of the merchant's
own active bank accounts (``bank_account`` with ``bank_account_id``: the payout then goes on
from the main wallet as a transfer, ``services.payouts.banks``).

A merchant without a row has the defaults, off: nothing is paid out unless the merchant (or
the operator for it) turns it on. The run itself is ``services.payouts.daily``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments import payouts as rules
from tindahan.services.payouts.payouts import CURRENCY, merchant_of
from tindahan.services.rails import bank_accounts
from tindahan.services.unit import Unit, iso
from tindahan.store.payout_tables import SETTING_DESTINATIONS, payout_settings


@dataclass(frozen=True)
class NewSettings:
    enabled: object
    time_of_day: object = rules.time_of_day(limits.PAYOUT_DEFAULT_MINUTE)
    keep_minor: object = 0
    destination: object = "wallet"
    merchant_id: str | None = None  # the operator names the merchant
    bank_account_id: object = None  # with destination "bank_account"


def view(merchant_id: str, row: Any) -> dict[str, Any]:
    if row is None:
        row = {
            "enabled": False,
            "minute_of_day": limits.PAYOUT_DEFAULT_MINUTE,
            "keep_minor": 0,
            "destination": "wallet",
            "bank_account_id": None,
            "updated_at_ns": None,
        }
    return {
        "object": "payout_settings",
        "merchant_id": merchant_id,
        "enabled": bool(row["enabled"]),
        "time_of_day": rules.time_of_day(row["minute_of_day"]),
        "timezone": "Asia/Manila",
        "keep_minor": row["keep_minor"],
        "currency": CURRENCY,
        "destination": row["destination"],
        "bank_account_id": row["bank_account_id"],
        "updated": iso(row["updated_at_ns"]),
    }


def _bank_account(unit: Unit, caller: Caller, merchant_id: str, new: NewSettings) -> str | None:
    """The destination's bank account: an active one of this merchant's, named exactly when
    the destination is ``bank_account`` (another's id is 404, as everywhere)."""
    if new.destination != "bank_account":
        if new.bank_account_id is not None:
            message = "bank_account_id goes with the destination 'bank_account' only"
            raise invalid("parameter_unexpected", message, "bank_account_id")
        return None
    if not isinstance(new.bank_account_id, str) or not new.bank_account_id:
        message = "the destination 'bank_account' needs bank_account_id"
        raise invalid("parameter_missing", message, "bank_account_id")
    target = bank_accounts.destination(unit, caller, new.bank_account_id)
    if target.party_id != merchant_id:
        raise not_found("bank_account", "bank_account_id")
    return target.id


def _row(unit: Unit, merchant_id: str) -> Any:
    query = select(payout_settings).where(payout_settings.c.merchant_id == merchant_id)
    return unit.conn.execute(query).mappings().first()


def get(unit: Unit, caller: Caller, merchant_id: str | None = None) -> dict[str, Any]:
    caller.require("payments:read")
    who = merchant_of(unit, caller, merchant_id)
    return view(who, _row(unit, who))


def update_settings(unit: Unit, caller: Caller, new: NewSettings) -> dict[str, Any]:
    caller.require("payments:write")
    if not isinstance(new.enabled, bool):
        raise invalid("enabled_invalid", "enabled is true or false", "enabled")
    minute = rules.parse_time_of_day(new.time_of_day)
    keep = new.keep_minor
    if (
        isinstance(keep, bool)
        or not isinstance(keep, int)
        or not 0 <= keep <= limits.MAX_AMOUNT_MINOR
    ):
        message = "keep_minor is a whole number of centavos, 0 or more"
        raise invalid("keep_invalid", message, "keep_minor")
    if new.destination not in SETTING_DESTINATIONS:
        message = "the destination is 'wallet' (the main wallet) or 'bank_account'"
        raise invalid("destination_invalid", message, "destination")
    who = merchant_of(unit, caller, new.merchant_id)
    values = {
        "enabled": new.enabled,
        "minute_of_day": minute,
        "keep_minor": keep,
        "destination": new.destination,
        "bank_account_id": _bank_account(unit, caller, who, new),
        "updated_at_ns": unit.now(),
    }
    if _row(unit, who) is None:
        unit.conn.execute(insert(payout_settings).values(merchant_id=who, **values))
    else:
        unit.conn.execute(
            update(payout_settings).where(payout_settings.c.merchant_id == who).values(**values)
        )
    return view(who, _row(unit, who))
