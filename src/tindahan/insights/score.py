"""What would raise a merchant's credit score: the credit reasons turned into actions.

A credit assessment keeps its reasons, the features that cost the most points, largest first
(``credit.model``). Each feature is moved by something the merchant does, so each maps to one
action; the actions of the reasons, in the reasons' order (the largest loss first), without
repeats, at most ``MAX_ACTIONS``, are the changes that would move the score most. They are
phrased as actions, never as a promised score: the score is the model's, on months of
behaviour to come.

A feature with no action (the average ticket, whose direction the model leaves free) gives
none; "not enough history" asks for more sales on Tindahan.
"""

from __future__ import annotations

from collections.abc import Iterable

from tindahan.credit import features

MAX_ACTIONS = 3
INSUFFICIENT = "insufficient_history"

#: feature (or reason code) → the action that moves it.
ACTIONS: dict[str, str] = {
    INSUFFICIENT: "sell_here",
    "tenure_days": "sell_here",
    "sales_month_avg": "sell_here",
    "sales_momentum": "sell_here",
    "sales_trend": "regular_days",
    "sales_volatility": "regular_days",
    "active_day_share": "regular_days",
    "distinct_buyers_90d": "buyers_by_qr",
    "repeat_buyer_share": "buyers_by_qr",
    "refund_rate": "fewer_refunds",
    "dispute_rate": "fewer_refunds",
    "balance_avg": "keep_balance",
    "balance_min": "keep_balance",
    "balance_cover_days": "keep_balance",
    "balance_min_cover_days": "keep_balance",
    "cash_out_share": "keep_balance",
    "loan_on_time_share": "pay_on_time",
    "loan_worst_dpd": "pay_on_time",
}
#: Every action a page must have words for.
KINDS = tuple(dict.fromkeys(ACTIONS.values()))
#: Features that no action moves.
NO_ACTION = frozenset(set(features.FEATURES) - set(ACTIONS))


def actions(reason_codes: Iterable[str]) -> list[str]:
    """The actions for reasons given largest loss first: in that order, once each, at most
    ``MAX_ACTIONS``; unknown codes and features without an action are skipped."""
    found: list[str] = []
    for code in reason_codes:
        action = ACTIONS.get(code)
        if action is not None and action not in found:
            found.append(action)
    return found[:MAX_ACTIONS]
