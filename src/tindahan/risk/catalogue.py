"""Every rule the engine knows: its parameters (with their kinds), the values it reports and
its default settings.

A rule is data: an id, a version, a mode (on, shadow, off), a decision when it trips, an
explanation template and parameters. This catalogue is what a rules file is validated
against: an unknown rule id, an unknown or missing parameter, or a value of the wrong kind
is refused with the field named. Amounts are minor units (centavos); windows are hours or
days; shares are whole percents.

Default thresholds and why (``default_rules.toml`` carries them; an operator tunes them with
``tindahan risk backtest`` before changing them):

* ``covered_cash`` — cash over ₱500,000 in one banking day is a covered transaction (AMLA,
  RA 9160 §3(b) as amended by RA 9194): reported to the AMLC, never blocked, so its decision
  is *allow* and it exists for the report.
* ``structuring`` — three or more movements within 10% below ₱500,000 (the covered
  threshold) or below ₱50,000 (the InstaPay cap, a limit people split around) within 48 h.
* ``velocity`` — per sender: 30 movements or ₱200,000 an hour, 100 or ₱500,000 a day, 1,000
  or ₱5,000,000 in 30 days; 10 a day to one counterparty. Far above a sari-sari store's
  week, well below what a bot does in minutes.
* ``device_velocity`` — per device (the web session's device cookie, or the API's
  ``Tindahan-Device-Id``), across every wallet that spends through it: 20 movements or
  ₱100,000 an hour, 60 or ₱300,000 a day. One phone paying for many wallets is a mule farm
  (or a takeover kit); a family sharing a phone or a store owner paying for neighbours
  stays far below. Shipped in **shadow**: an API device id is whatever the client says and
  can be rotated, so it is evidence, not a gate, until a backtest on real traffic says
  where the line is.
* ``ip_velocity`` — per client IP address: 200 movements or ₱1,000,000 an hour, 1,000 or
  ₱5,000,000 a day. Philippine mobile networks put thousands of phones behind one carrier
  NAT address, so an IP alone is weak: the limits are high and the rule ships in
  **shadow** (alerts for the analyst, no decision).
* ``device_wallets`` — how many *different* wallets spent through one device within 24 h:
  more than 5 (the 6th) trips it. A farm of mule wallets worked from one phone, or a
  takeover kit, shows as many payers on one device even when each pays little (which
  ``device_velocity`` misses); a family sharing a phone, or a store owner paying for a few
  neighbours, stays at 5 or fewer. Shipped in **shadow**, for ``device_velocity``'s reason.
* ``ip_wallets`` — the same per client IP address: more than 100 different wallets within
  24 h. Behind a carrier NAT far more phones than that share an address, so alone it says
  little (a fixed line or a server with a hundred payers says more): **shadow**.
* ``mule`` — five or more first-time senders into one wallet within 72 h, then 70% or more
  of that money leaving by cash-out or bank transfer in the same window.
* ``dormant`` — a party unseen for 90 days moving ₱50,000 or more.
* ``new_payee`` — a first payment of ₱100,000 or more to a payee never paid before.
* ``round_trip`` — money back at its origin through two or three wallets within 72 h, the
  returning leg at least 80% of the first, legs of ₱10,000 or more.
* ``refund_spike`` — a merchant with five or more refunds in 7 days worth 30% or more of its
  sales in those days; live, its open disputes count as refunds of what escrow holds for
  them (by the day each opened) until they are resolved.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class ParamKind(enum.StrEnum):
    MINOR = "an amount in minor units (a whole number, 0 or more)"
    MINORS = "a list of amounts in minor units"
    COUNT = "a whole number, 1 or more"
    HOURS = "a whole number of hours, 1 or more"
    DAYS = "a whole number of days, 1 or more"
    PERCENT = "a whole percent, 0 to 100"
    KINDS = "a list of movement kinds"


@dataclass(frozen=True, slots=True)
class RuleType:
    """What a rule id means: its parameters and the values its explanation may name."""

    id: str
    params: Mapping[str, ParamKind]
    values: tuple[str, ...]


M, C, H, D, P, K = (
    ParamKind.MINOR,
    ParamKind.COUNT,
    ParamKind.HOURS,
    ParamKind.DAYS,
    ParamKind.PERCENT,
    ParamKind.KINDS,
)

CATALOGUE: Mapping[str, RuleType] = {
    t.id: t
    for t in (
        RuleType(
            "covered_cash", {"threshold_minor": M}, ("party", "total_minor", "threshold_minor")
        ),
        RuleType(
            "structuring",
            {
                "thresholds_minor": ParamKind.MINORS,
                "band_percent": P,
                "window_hours": H,
                "min_count": C,
                "kinds": K,
            },
            ("party", "count", "threshold_minor", "window_hours"),
        ),
        RuleType(
            "velocity",
            {
                "hour_max_count": C,
                "hour_max_minor": M,
                "day_max_count": C,
                "day_max_minor": M,
                "month_max_count": C,
                "month_max_minor": M,
                "pair_day_max_count": C,
            },
            ("party", "window", "count", "amount_minor", "limit"),
        ),
        *(
            RuleType(
                f"{origin}_velocity",
                {
                    "hour_max_count": C,
                    "hour_max_minor": M,
                    "day_max_count": C,
                    "day_max_minor": M,
                },
                ("party", "window", "count", "amount_minor", "limit", origin),
            )
            for origin in ("device", "ip")
        ),
        *(
            RuleType(
                f"{origin}_wallets",
                {"window_hours": H, "max_wallets": C},
                ("party", "wallets", "limit", "window_hours", origin),
            )
            for origin in ("device", "ip")
        ),
        RuleType(
            "mule",
            {"window_hours": H, "min_senders": C, "out_share_percent": P, "min_in_minor": M},
            ("party", "senders", "in_minor", "out_minor", "window_hours"),
        ),
        RuleType(
            "dormant",
            {"dormant_days": D, "min_minor": M},
            ("party", "idle_days", "amount_minor"),
        ),
        RuleType("new_payee", {"min_minor": M, "kinds": K}, ("party", "payee", "amount_minor")),
        RuleType(
            "round_trip",
            {"window_hours": H, "max_hops": C, "return_percent": P, "min_minor": M, "kinds": K},
            ("party", "hops", "first_minor", "amount_minor", "path"),
        ),
        RuleType(
            "refund_spike",
            {"window_days": D, "min_refunds": C, "ratio_percent": P},
            ("party", "refunds", "refund_minor", "sales_minor", "window_days", "open_disputes"),
        ),
    )
}

#: The error a rule raised, as its alert reports it (the movement is held for review).
RULE_ERROR_VALUES = ("error",)
