"""The operator's fee settings (merchant discount, agent commission, marketplace fee, escrow
auto-release days, the bank rails' flat fees per rail and kind: ``rails.fees``) and the
process-wide cache that keeps them off every payment's path.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.payments.fees import check_bps
from tindahan.rails import fees as rail_fees
from tindahan.services.unit import Unit
from tindahan.store.payment_tables import settings

FEE_SETTINGS = {
    "merchant_discount_bps": limits.MERCHANT_DISCOUNT_BPS,
    "agent_commission_bps": limits.AGENT_COMMISSION_BPS,
    "marketplace_fee_bps": limits.MARKETPLACE_FEE_BPS,
    "escrow_auto_release_days": limits.ESCROW_AUTO_RELEASE_DAYS,
    **dict.fromkeys(rail_fees.SETTING_KEYS, 0),
}


def _check_setting(key: str, value: object) -> int:
    if key in rail_fees.SETTING_KEYS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid("setting_invalid", f"{key} is a whole number of centavos", key)
        if not 0 <= value <= limits.MAX_RAIL_FEE_MINOR:
            raise invalid(
                "setting_invalid", f"{key} is 0 to {limits.MAX_RAIL_FEE_MINOR} centavos", key
            )
        return value
    if key != "escrow_auto_release_days":
        return check_bps(value, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("setting_invalid", f"{key} is a whole number of days", key)
    if not 1 <= value <= limits.MAX_AUTO_RELEASE_DAYS:
        raise invalid("setting_invalid", f"{key} is 1 to {limits.MAX_AUTO_RELEASE_DAYS}", key)
    return value


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


def fees_view(unit: Unit, caller: Caller) -> dict[str, Any]:
    """The fee rates are part of the merchant agreement: any key may read them."""
    return {"object": "fee_settings", **fee_settings(unit)}
