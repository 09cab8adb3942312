"""KYC tiers and the limits the payment path enforces on a party's main wallet.

Each check names the limit it applies: a refusal says ``limit_exceeded`` with the limit's
name as ``param``, so an app can tell "try a smaller amount" from "try tomorrow". Totals are
checked *after* adding the new payment, inside the payment's transaction, so two payments
racing each other cannot both squeeze under a limit (see ``services.payments.payments``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from tindahan import limits
from tindahan.kernel.refusals import RefusalError, invalid, refused
from tindahan.money import Money, format_money

TIER_NAME = re.compile(r"[a-z][a-z0-9_]*")
LIMIT_NAMES = (
    "per_transaction_max_minor",
    "daily_outgoing_max_minor",
    "monthly_outgoing_max_minor",
    "monthly_incoming_max_minor",
    "max_balance_minor",
)
_LABELS = {
    "per_transaction_max_minor": "the per-transaction maximum",
    "daily_outgoing_max_minor": "the daily outgoing limit",
    "monthly_outgoing_max_minor": "the monthly outgoing limit",
    "monthly_incoming_max_minor": "the monthly incoming limit",
    "max_balance_minor": "the maximum wallet balance",
}


@dataclass(frozen=True, slots=True)
class TierLimits:
    """One tier's limits in PHP centavos; ``None`` means unlimited."""

    name: str
    per_transaction_max_minor: int | None
    daily_outgoing_max_minor: int | None
    monthly_outgoing_max_minor: int | None
    monthly_incoming_max_minor: int | None
    max_balance_minor: int | None

    def figures(self) -> dict[str, int | None]:
        values = asdict(self)
        values.pop("name")
        return values


def tier_from(name: str, figures: Mapping[str, object]) -> TierLimits:
    """Validate a tier (from the defaults, the database or an operator's request)."""
    if not isinstance(name, str) or not TIER_NAME.fullmatch(name):
        raise invalid("tier_invalid", "a tier name is lowercase letters, digits and _", "name")
    if len(name) > limits.TIER_NAME_MAX_LENGTH:
        raise invalid("tier_invalid", "the tier name is too long", "name")
    unknown = set(figures) - set(LIMIT_NAMES)
    if unknown:
        raise invalid("tier_invalid", f"unknown limit {sorted(unknown)[0]!r}", sorted(unknown)[0])
    values: dict[str, int | None] = {}
    for key in LIMIT_NAMES:
        value = figures.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 < value <= limits.MAX_AMOUNT_MINOR
        ):
            raise invalid("tier_invalid", f"{key} is a positive whole number of centavos", key)
        values[key] = value
    return TierLimits(name, **values)


def default_tiers() -> list[TierLimits]:
    return [tier_from(name, figures) for name, figures in limits.KYC_TIER_DEFAULTS.items()]


def _over(limit_name: str, limit: int | None, value: int, currency: str) -> RefusalError | None:
    if limit is None or value <= limit:
        return None
    shown = format_money(Money(limit, currency), locale="en_PH")
    message = f"this would exceed {_LABELS[limit_name]} ({shown})"
    return refused("limit_exceeded", message, limit_name)


def check_amount(tier: TierLimits, amount_minor: int, currency: str) -> None:
    refusal = _over(
        "per_transaction_max_minor", tier.per_transaction_max_minor, amount_minor, currency
    )
    if refusal:
        raise refusal


def check_outgoing(tier: TierLimits, day_total: int, month_total: int, currency: str) -> None:
    """Totals include the payment being made."""
    for name, limit, total in (
        ("daily_outgoing_max_minor", tier.daily_outgoing_max_minor, day_total),
        ("monthly_outgoing_max_minor", tier.monthly_outgoing_max_minor, month_total),
    ):
        refusal = _over(name, limit, total, currency)
        if refusal:
            raise refusal


def check_incoming(tier: TierLimits, month_total: int, balance: int, currency: str) -> None:
    """``balance`` is the wallet's balance after the payment, holds included."""
    check_incoming_total(tier, month_total, currency)
    check_balance(tier, balance, currency)


def check_incoming_total(tier: TierLimits, month_total: int, currency: str) -> None:
    refusal = _over(
        "monthly_incoming_max_minor", tier.monthly_incoming_max_minor, month_total, currency
    )
    if refusal:
        raise refusal


def check_balance(tier: TierLimits, balance: int, currency: str) -> None:
    refusal = _over("max_balance_minor", tier.max_balance_minor, balance, currency)
    if refusal:
        raise refusal
