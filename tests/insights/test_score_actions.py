"""The credit reasons turned into actions (no database)."""

from __future__ import annotations

from tindahan.credit import features
from tindahan.insights import score


def test_every_feature_has_an_action_but_the_free_one() -> None:
    assert {"avg_ticket"} == score.NO_ACTION
    assert features.DIRECTIONS["avg_ticket"] == 0  # the model leaves its direction free


def test_actions_follow_the_reasons_order_once_each_at_most_three() -> None:
    codes = [
        "loan_worst_dpd",
        "active_day_share",
        "loan_on_time_share",  # the same action as the first: not repeated
        "avg_ticket",  # no action
        "unknown_code",
        "repeat_buyer_share",
        "balance_min",  # a fourth action: left out
    ]
    assert score.actions(codes) == ["pay_on_time", "regular_days", "buyers_by_qr"]
    assert score.actions(["insufficient_history", "insufficient_history"]) == ["sell_here"]
    assert score.actions([]) == []
