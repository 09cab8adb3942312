"""Reasons a merchant can act on (issue 21, item 16): every feature moves the score the way
its direction says, and no reason presents good news as the cause of lost points."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tindahan.credit import features, simulate
from tindahan.services.credit.assessments import SIMULATION_AS_OF_NS


@pytest.fixture(scope="module")
def population():
    made = simulate.recent(300, as_of_ns=SIMULATION_AS_OF_NS, history_days=365, seed=8)
    frame = simulate.labelled(made)
    return frame[list(features.FEATURES)].astype(float)


#: Good news for a shop, and the words its reason must use if it still costs points.
GOOD_NEWS = {
    "sales_trend": (lambda x: x >= 0, features.STEADIER),
    "sales_momentum": (lambda x: x >= 0.995, "did not rise above|rose only"),
}


@pytest.mark.parametrize(
    ("feature", "value", "words"),
    [
        ("sales_trend", 0.3, "rose by 30% from the 3 months before: " + features.STEADIER),
        ("sales_trend", -0.2, "fell by 20% from the 3 months before"),
        ("sales_momentum", 1.2, "rose only 20% above the 3-month average"),
        ("sales_momentum", 1.0, "did not rise above the 3-month average"),
        ("sales_momentum", 0.8, "were 20% below the 3-month average"),
    ],
)
def test_rises_and_falls_are_said_the_right_way_round(feature, value, words):
    assert features.describe(feature, value).endswith(words)


def test_no_scored_reason_reads_as_a_penalty_for_good_news(merchant_model, population):
    decisions = merchant_model.scorer.decide(population, features.describe)
    given = [
        (reason, population[reason.code].iloc[i])
        for i, decision in enumerate(decisions)
        for reason in decision.reasons
    ]
    assert given  # the model does give reasons on this population
    for reason, value in given:
        good, words = GOOD_NEWS.get(reason.code, (None, ""))
        if good is not None and not np.isnan(value) and good(value):
            assert re.search(words, reason.text), reason


@pytest.mark.parametrize(
    "feature", [name for name, sign in features.DIRECTIONS.items() if sign in (-1, 1)]
)
def test_each_directed_feature_moves_the_score_its_way(merchant_model, population, feature):
    """Moving a feature the safe way (DIRECTIONS: +1, more of it is riskier) never costs
    points: the scorecard's bins are monotone where the direction is known."""
    sign = features.DIRECTIONS[feature]
    known = population[population[feature].notna()]
    step = float(known[feature].std() or 1.0)
    safer = known.copy()
    safer[feature] = known[feature] - sign * step
    before = merchant_model.scorer.probability(known)
    after = merchant_model.scorer.probability(safer)
    assert np.all(after <= before + 1e-12), feature
