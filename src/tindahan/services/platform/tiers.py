"""KYC tiers: the limits each tier allows, which the operator reads and edits.

The rules (what a tier's figures mean, how they are checked) are the domain's
(``payments.tiers``); this module loads and stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update

from tindahan.kernel.callers import Caller
from tindahan.payments.tiers import LIMIT_NAMES, TierLimits, tier_from
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit
from tindahan.store.payment_tables import kyc_tiers


def tiers(unit: Unit) -> list[TierLimits]:
    found = unit.conn.execute(select(kyc_tiers).order_by(kyc_tiers.c.name)).mappings()
    return [tier_from(r["name"], {k: r[k] for k in LIMIT_NAMES}) for r in found]


def list_tiers(unit: Unit, caller: Caller) -> dict[str, Any]:
    """Every party may see the tiers (they explain its own limits)."""
    caller.require("parties:read")
    return page([tier_view(t) for t in tiers(unit)], False)


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
