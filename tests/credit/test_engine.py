"""The credit engine's rules, on small synthetic tables with a known truth (issue 6).

Dataset rules (target, column types, drops, protected attributes), the scorecard's points
and reason codes, the trees' monotone constraints and TreeSHAP contributions, Platt
calibration, the metrics, model folders, drift, and a leakage guard for cross-validation.
German Credit is not needed here; the CLI tests use it.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tindahan import limits
from tindahan.credit import artifact, dataset, drift, protected
from tindahan.credit.errors import CreditError
from tindahan.credit.evaluate import cross_validate
from tindahan.credit.gbm import Gbm
from tindahan.credit.metrics import calibration_curve, measure
from tindahan.credit.model import (
    FACTOR,
    MAX_REASONS,
    OFFSET,
    Scorer,
    half_up,
    to_points,
)
from tindahan.credit.scorecard import MIN_IV, Scorecard, _bin

#: One worker runs this module: its module-scoped fixtures are built once (make test, xdist).
pytestmark = pytest.mark.xdist_group("credit-engine")


def logistic(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def cell(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def table(frame: pd.DataFrame, target: str = "y", **kwargs) -> dataset.Table:
    """A training table through the public path (cells as text, as a CSV gives them)."""
    return dataset.prepare(frame.astype(object).map(cell), target, **kwargs)


def numbers(n: int = 40) -> list[str]:
    return [str(i) for i in range(n)]


def zero_one(events: int = 10, n: int = 40) -> list[str]:
    return ["0"] * (n - events) + ["1"] * events


# --- dataset: the target ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "event"),
    [
        (["0"] * 30 + ["1"] * 10, "1"),
        (["1"] * 30 + ["0"] * 10, "1"),  # 1 is the event even when it is the commoner value
        (["0.0"] * 30 + ["1.0"] * 10, "1.0"),
        (["false"] * 10 + ["true"] * 30, "true"),
        (["False"] * 30 + ["True"] * 10, "True"),
        (["no"] * 25 + ["yes"] * 15, "yes"),
        (["good"] * 10 + ["bad"] * 30, "bad"),  # the word wins over the rarer value
        (["paid"] * 30 + ["default"] * 10, "default"),
    ],
)
def test_two_valued_targets_take_the_documented_event(values, event):
    t = dataset.prepare(pd.DataFrame({"x": numbers(), "y": values}), "y")
    assert t.positive == event
    assert t.target.tolist() == [int(v == event) for v in values]
    assert t.target.dtype.kind in "iu"


def test_without_a_known_word_the_rarer_value_is_the_event_with_a_note():
    t = dataset.prepare(pd.DataFrame({"x": numbers(), "y": ["A"] * 30 + ["B"] * 10}), "y")
    assert t.positive == "B" and int(t.target.sum()) == 10
    assert any("rarer" in note and "'B'" in note for note in t.notes)


def test_two_equally_common_unknown_values_are_an_error_asking_for_positive():
    frame = pd.DataFrame({"x": numbers(), "y": ["A"] * 20 + ["B"] * 20})
    with pytest.raises(CreditError, match="--positive"):
        dataset.prepare(frame, "y")
    # …and with --positive the same column is fine.
    assert dataset.prepare(frame, "y", positive="A").target.sum() == 20


def test_more_than_two_values_need_positive():
    values = ["a"] * 20 + ["b"] * 10 + ["c"] * 10
    frame = pd.DataFrame({"x": numbers(), "y": values})
    with pytest.raises(CreditError, match=r"3 values.*--positive"):
        dataset.prepare(frame, "y")
    t = dataset.prepare(frame, "y", positive="c")
    assert t.positive == "c"
    assert t.target.tolist() == [int(v == "c") for v in values]


def test_positive_is_stripped_and_must_be_a_value_of_the_column():
    frame = pd.DataFrame({"x": numbers(), "y": ["good"] * 30 + ["bad"] * 10})
    assert dataset.prepare(frame, "y", positive=" good ").target.sum() == 30
    with pytest.raises(CreditError, match="'ugly' is not a value of 'y'"):
        dataset.prepare(frame, "y", positive="ugly")


def test_one_valued_target_and_absent_target_are_errors():
    with pytest.raises(CreditError, match="only one value"):
        dataset.prepare(pd.DataFrame({"x": numbers(), "y": ["0"] * 40}), "y")
    with pytest.raises(CreditError, match="only one class"):
        dataset.prepare(pd.DataFrame({"x": numbers(), "y": ["0"] * 40}), "y", positive="0")
    with pytest.raises(CreditError, match=r"no target column 'outcome'.*x, y"):
        dataset.prepare(pd.DataFrame({"x": numbers(), "y": zero_one()}), "outcome")


def test_rows_without_a_target_are_left_out_with_a_note():
    y: list[str | None] = zero_one(events=12, n=44)
    y[3] = None
    y[40] = "  "  # blank after stripping counts as missing
    t = dataset.prepare(pd.DataFrame({"x": numbers(44), "y": y}), "y")
    assert len(t.target) == 42 == len(t.features)
    assert any(note.startswith("2 rows without a target value") for note in t.notes)
    assert 3 not in t.features.index and 40 not in t.features.index


def test_too_few_rows_or_events_is_an_error():
    with pytest.raises(CreditError, match="too few rows"):
        dataset.prepare(pd.DataFrame({"x": numbers(10), "y": zero_one(3, 10)}), "y")
    with pytest.raises(CreditError, match="too few rows"):
        dataset.prepare(pd.DataFrame({"x": numbers(), "y": zero_one(1)}), "y")


def test_a_target_with_no_values_at_all_is_a_credit_error():
    with pytest.raises(CreditError):
        dataset.prepare(pd.DataFrame({"x": numbers(), "y": [None] * 40}), "y")


# --- dataset: columns ---------------------------------------------------------------------


def test_columns_are_typed_numeric_or_categorical_with_missing_values_kept():
    rng = np.random.default_rng(0)
    n = 60
    amount = rng.normal(100, 10, n).round(2).astype(str).astype(object)
    amount[[4, 9]] = None
    city = rng.choice(["Cebu", "Davao", "Iloilo"], n).astype(object)
    city[7] = None
    frame = pd.DataFrame({"amount": amount, "city": city, "y": zero_one(20, n)})
    t = dataset.prepare(frame, "y")
    kinds = {c.name: c.kind for c in t.columns}
    assert kinds == {"amount": "numeric", "city": "categorical"}
    assert t.features["amount"].dtype == np.float64
    assert t.features["amount"].isna().sum() == 2
    assert t.features["city"].isna().sum() == 1
    assert next(c for c in t.columns if c.name == "city").categories == ("Cebu", "Davao", "Iloilo")
    assert t.numeric == ["amount"] and t.categorical == ["city"]


def test_a_mostly_text_column_is_categorical_not_an_error():
    codes = [f"A{i % 4}" for i in range(40)]
    codes[:3] = ["1", "2", "3"]  # a few numbers among the text: still categories
    t = dataset.prepare(pd.DataFrame({"code": codes, "y": zero_one()}), "y")
    assert t.columns[0].kind == "categorical"


def test_text_in_a_numeric_column_names_the_column_the_line_and_the_value():
    x = numbers()
    x[37] = "n/a?"
    with pytest.raises(CreditError) as caught:
        dataset.prepare(pd.DataFrame({"income": x, "y": zero_one()}), "y")
    message = str(caught.value)
    # Row 37 is line 39 of the file: the header is line 1.
    assert "'income'" in message and "line 39" in message and "'n/a?'" in message


def test_text_in_a_numeric_column_line_counts_rows_left_out_for_a_missing_target():
    x, y = numbers(), zero_one()
    x[30], y[5] = "oops", None
    with pytest.raises(CreditError, match="line 32 holds 'oops'"):
        dataset.prepare(pd.DataFrame({"x": x, "y": y}), "y")


def test_infinity_counts_as_text_in_a_numeric_column():
    x = numbers()
    x[2] = "inf"
    with pytest.raises(CreditError, match="line 4 holds 'inf'"):
        dataset.prepare(pd.DataFrame({"x": x, "y": zero_one()}), "y")


def test_the_line_number_is_the_files_line_even_after_a_blank_line(tmp_path):
    lines = ["x,y", *[f"{i},{int(i % 3 == 0)}" for i in range(30)]]
    lines.insert(3, "")  # a blank line 4
    lines[20] = "oops,0"  # file line 21
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CreditError, match="line 21 "):
        dataset.load(path, "y")


def test_identifier_constant_and_all_missing_columns_are_dropped_with_notes():
    frame = pd.DataFrame(
        {
            "loan_id": [f"L{i:04d}" for i in range(40)],
            "branch": ["Makati"] * 40,
            "spare": [None] * 40,
            "x": numbers(),
            "y": zero_one(),
        }
    )
    t = dataset.prepare(frame, "y")
    assert [c.name for c in t.columns] == ["x"]
    assert t.dropped == ["loan_id", "branch", "spare"]
    assert list(t.features.columns) == ["x"]
    notes = " | ".join(t.notes)
    assert "loan_id: dropped, every value is different" in notes
    assert "branch: dropped, one value only ('Makati')" in notes
    assert "spare: dropped, all values are missing" in notes


def test_nothing_left_to_learn_from_is_an_error():
    frame = pd.DataFrame({"branch": ["Makati"] * 40, "spare": [None] * 40, "y": zero_one()})
    with pytest.raises(CreditError, match="no usable feature columns"):
        dataset.prepare(frame, "y")
    only_protected = pd.DataFrame({"gender": ["F", "M"] * 20, "y": zero_one()})
    with pytest.raises(CreditError, match="no usable feature columns"):
        dataset.prepare(only_protected, "y")


def test_read_csv_refuses_files_that_are_not_csv(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    png = tmp_path / "plot.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\xff\xfe")
    for path in (empty, png, tmp_path / "absent.csv", tmp_path):
        with pytest.raises(CreditError, match=str(path.name)):
            dataset.read_csv(path)


def test_two_columns_with_the_same_name_are_refused(tmp_path):
    twice = tmp_path / "twice.csv"
    twice.write_text("x,y,y\n" + "".join(f"{i},{i % 2},{i % 2}\n" for i in range(40)))
    with pytest.raises(CreditError, match="same name"):
        dataset.read_csv(twice)


def test_load_reads_gzip_and_records_the_files_sha256(tmp_path):
    import gzip
    import hashlib

    text = "x,y\n" + "".join(f"{i},{int(i % 4 == 0)}\n" for i in range(40))
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    t = dataset.load(path, "y")
    assert t.data_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert t.target.sum() == 10 and t.positive == "1"


# --- dataset: protected attributes ----------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "personal_status_and_sex",
        "Civil Status",
        "CivilStatus",
        "civil_status",
        "gender",
        "Gender",
        "SEX",
        "applicant-race",
        "marital_status",
        "Religion",
        "ethnic group",
        "nationality",
        "Personal Status",
    ],
)
def test_protected_names_are_matched(name):
    assert protected.matches(name, protected.DEFAULT)


@pytest.mark.parametrize(
    "name", ["essex_branch", "sextant", "raceway", "genders_x", "age", "status", "personal"]
)
def test_words_that_merely_contain_a_protected_word_are_not_matched(name):
    assert not protected.matches(name, protected.DEFAULT)


@pytest.mark.parametrize("name", ["MaritalStatus", "ApplicantGender"])
def test_camel_case_protected_names_are_matched(name):
    assert protected.matches(name, protected.DEFAULT)


def test_protected_option_parsing():
    assert protected.parse(None) == protected.DEFAULT
    assert protected.parse("") == ()
    assert protected.parse(" , ") == ()
    assert protected.parse("Sex, AGE ,Civil-Status") == ("sex", "age", "civil status")


def test_protected_columns_are_excluded_by_default_with_notes():
    frame = pd.DataFrame(
        {
            "personal_status_and_sex": ["A91", "A92"] * 20,
            "Civil Status": ["single", "married"] * 20,
            "gender": ["F", "M"] * 20,
            "essex_branch": ["E1", "E2", "E3", "E4"] * 10,
            "age": numbers(),
            "y": zero_one(),
        }
    )
    t = dataset.prepare(frame, "y")
    assert t.excluded == ["personal_status_and_sex", "Civil Status", "gender"]
    assert [c.name for c in t.columns] == ["essex_branch", "age"]
    assert not set(t.excluded) & set(t.features.columns)
    assert "gender: excluded as a protected attribute" in t.notes
    assert t.dropped == []


def test_an_empty_protected_list_excludes_nothing_and_a_custom_list_replaces_the_default():
    frame = pd.DataFrame(
        {"gender": ["F", "M"] * 20, "age": numbers(), "z": numbers()[::-1], "y": zero_one()}
    )
    everything = dataset.prepare(frame, "y", protected=protected.parse(""))
    assert everything.excluded == [] and {c.name for c in everything.columns} == {
        "gender",
        "age",
        "z",
    }
    custom = dataset.prepare(frame, "y", protected=protected.parse("age"))
    assert custom.excluded == ["age"]
    assert {c.name for c in custom.columns} == {"gender", "z"}


# --- for_scoring ------------------------------------------------------------------------


def test_for_scoring_types_rows_like_the_model_and_refuses_what_it_cannot():
    columns = [
        dataset.Column("x", "numeric"),
        dataset.Column("city", "categorical", ("Cebu", "Davao")),
    ]
    frame = pd.DataFrame({"x": ["1.5", None, "3"], "city": ["Cebu", "Manila", None], "w": "1"})
    rows, notes = dataset.for_scoring(frame, columns)
    assert list(rows.columns) == ["x", "city"]
    assert rows["x"].tolist()[0] == 1.5 and math.isnan(rows["x"].tolist()[1])
    assert rows["city"].iloc[0] == "Cebu" and pd.isna(rows["city"].iloc[1])
    assert notes == ["city: 1 unseen values scored as missing"]
    with pytest.raises(CreditError, match="lacks the model's columns: city"):
        dataset.for_scoring(frame.drop(columns=["city"]), columns)
    bad = frame.assign(x=["1", "2", "lots"])
    with pytest.raises(CreditError, match="'x' must be numeric but line 4 holds 'lots'"):
        dataset.for_scoring(bad, columns)


# --- the scorecard -------------------------------------------------------------------------

CAP = 4  # "at most 4 reasons" (issue 6)
SCORECARD_FEATURES = ("f1", "f2", "f3", "f4", "f5")
REGION_RISK = {"north": 0.0, "south": 0.4, "east": 0.8, "west": 1.2}


def scorecard_population(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Risk rises with every f (f1 the most) and by region; returns rows and true P(event)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.uniform(0, 10, n) for name in SCORECARD_FEATURES})
    frame["region"] = rng.choice(list(REGION_RISK), n)
    logit = (
        -4.6
        + 0.40 * frame["f1"]
        + 0.20 * frame["f2"]
        + 0.15 * frame["f3"]
        + 0.12 * frame["f4"]
        + 0.10 * frame["f5"]
        + frame["region"].map(REGION_RISK)
    )
    return frame, logistic(logit.to_numpy())


def draw(p: np.ndarray, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(len(p)) < p).astype(int)


@pytest.fixture(scope="module")
def scorecard_fit() -> tuple[Scorer, dataset.Table]:
    frame, p = scorecard_population(3000, seed=1)
    t = table(frame.assign(y=draw(p, 2)))
    return Scorer.fit("scorecard", t.features, t.target, t.columns, seed=0), t


def bin_of(b, value) -> int:
    """The bin a value falls in, computed here from the saved splits and groups."""
    missing = len(b.woe) - 1
    if b.kind == "numeric":
        if value is None or np.isnan(value):
            return missing
        return int(np.searchsorted(np.asarray(b.splits), value, side="right"))
    for i, group in enumerate(b.groups):
        if value in group:
            return i
    return missing


def value_in(b, index: int):
    """A value that falls in bin ``index`` (NaN for the missing bin)."""
    if index == len(b.woe) - 1:
        return np.nan
    if b.kind == "numeric":
        return b.splits[index - 1] if index > 0 else b.splits[0] - 1.0
    return b.groups[index][0]


def expected_lost(scorer: Scorer, row: pd.Series) -> dict[str, float]:
    """Points lost on each feature against its safest bin, from the tables."""
    lost = {}
    for b in scorer.model.bins:
        terms = np.asarray(b.woe) * b.coef
        lost[b.name] = FACTOR * scorer.slope * (terms[bin_of(b, row[b.name])] - terms.min())
    return lost


def test_scaling_is_600_points_at_50_to_1_and_20_points_to_double_the_odds():
    assert to_points(np.array([1 / 51]))[0] == pytest.approx(600)
    assert to_points(np.array([1 / 101]))[0] == pytest.approx(620)
    assert to_points(np.array([1 / 26]))[0] == pytest.approx(580)
    assert to_points(np.array([0.5]))[0] == pytest.approx(600 - 20 * math.log2(50))
    assert OFFSET + FACTOR * math.log(50) == pytest.approx(600)
    assert np.isfinite(to_points(np.array([0.0, 1.0]))).all()


def test_the_reason_cap_is_four():
    assert MAX_REASONS == CAP
    assert limits.CREDIT_MAX_REASONS == CAP


def test_half_up_never_rounds_half_to_even():
    assert [half_up(x) for x in (0.5, 1.5, 2.5, 2.4999, 599.5, -0.5)] == [1, 2, 3, 2, 600, 0]


def test_scorecard_points_fall_as_risk_rises(scorecard_fit):
    scorer, _t = scorecard_fit
    card = scorer.model
    assert isinstance(card, Scorecard)
    assert "f1" in card.features and scorer.slope > 0
    f1 = next(b for b in card.bins if b.name == "f1")
    assert len(f1.splits) >= 3
    points = [row["points"] for row in card.table(FACTOR, scorer.slope) if row["feature"] == "f1"]
    real = points[:-1]  # the last bin is "missing"
    assert all(a >= b for a, b in itertools.pairwise(real)), real
    grid = pd.DataFrame({name: 5.0 for name in SCORECARD_FEATURES}, index=range(41))
    grid["f1"] = np.linspace(0, 10, 41)
    grid["region"] = "south"
    scores = [d.points for d in scorer.decide(grid)]
    assert all(a >= b for a, b in itertools.pairwise(scores)), scores
    assert scores[0] - scores[-1] > 40  # f1 moves the log-odds by 4: about 115 points


def test_scorecard_categories_get_points_in_their_risk_order(scorecard_fit):
    scorer, _ = scorecard_fit
    rows = pd.DataFrame({name: 5.0 for name in SCORECARD_FEATURES}, index=range(4))
    rows["region"] = list(REGION_RISK)
    scores = [d.points for d in scorer.decide(rows)]
    assert scores[0] > scores[-1], scores  # north safest, west riskiest
    assert scores == sorted(scores, reverse=True)


def test_points_per_bin_plus_the_base_are_the_score_of_the_probability(scorecard_fit):
    scorer, t = scorecard_fit
    card = scorer.model
    base = OFFSET - FACTOR * (scorer.slope * card.intercept + scorer.intercept)
    table_rows = card.table(FACTOR, scorer.slope)
    points = {
        b.name: [r["points"] for r in table_rows if r["feature"] == b.name] for b in card.bins
    }
    rows = t.features.iloc[:300]
    p = scorer.probability(rows)
    decisions = scorer.decide(rows)
    for i in range(len(rows)):
        row = rows.iloc[i]
        total = base + sum(points[b.name][bin_of(b, row[b.name])] for b in card.bins)
        assert total == pytest.approx(to_points(p[i : i + 1])[0], abs=1e-6)
        assert decisions[i].points == half_up(total)
        assert decisions[i].probability == pytest.approx(p[i])


def test_reasons_are_the_features_that_lost_the_most_points(scorecard_fit):
    scorer, t = scorecard_fit
    rows = t.features.iloc[:300]
    saw_four = False
    for decision, (_, row) in zip(scorer.decide(rows), rows.iterrows(), strict=True):
        lost = expected_lost(scorer, row)
        ranked = sorted(lost, key=lambda name: -lost[name])
        wanted = [name for name in ranked[:CAP] if lost[name] >= 1.0]
        assert [r.code for r in decision.reasons] == wanted
        assert [r.points for r in decision.reasons] == [half_up(lost[n]) for n in wanted]
        assert all(r.points >= 1 for r in decision.reasons)
        assert all(r.code in r.text for r in decision.reasons)
        saw_four |= len(decision.reasons) == CAP
    assert saw_four  # six features: the cap of four was exercised


def test_the_safest_row_has_no_reasons_and_the_worst_row_has_four(scorecard_fit):
    scorer, _ = scorecard_fit
    bins = scorer.model.bins
    assert len(bins) > CAP
    safest = {b.name: value_in(b, int(np.argmin(np.asarray(b.woe) * b.coef))) for b in bins}
    worst = {b.name: value_in(b, int(np.argmax(np.asarray(b.woe) * b.coef))) for b in bins}
    rows = pd.DataFrame([safest, worst])
    for b in bins:  # the helper's values really fall in those bins
        assert b.index(rows[b.name]).tolist() == [bin_of(b, v) for v in rows[b.name]]
    good, bad = scorer.decide(rows)
    assert good.reasons == []
    assert len(bad.reasons) == CAP
    assert [r.points for r in bad.reasons] == sorted((r.points for r in bad.reasons), reverse=True)
    assert good.points > bad.points
    assert scorer.decide(rows, reasons=False)[1].reasons == []


def test_all_coefficients_read_the_right_way_round(scorecard_fit):
    scorer, t = scorecard_fit
    assert all(b.coef <= 0 for b in scorer.model.bins)
    rows = t.features.iloc[:300]
    assert (scorer.points_lost(rows) >= -1e-9).all()  # never a negative points lost


def test_a_wrong_signed_coefficient_is_dropped_and_the_regression_refitted():
    # x2 is correlated with x1 (so riskier on its own) but, given x1, safer: a suppressor.
    rng = np.random.default_rng(3)
    n = 2000
    x1 = rng.normal(size=n)
    x2 = 0.9 * x1 + math.sqrt(1 - 0.81) * rng.normal(size=n)
    y = draw(logistic(-1 + 2.0 * x1 - 1.5 * x2), 4)
    t = table(pd.DataFrame({"x1": x1, "x2": x2, "y": y}))
    binned = [_bin(c, t.features[c.name], t.target, None) for c in t.columns]
    assert all(b.iv >= MIN_IV for b in binned)  # both would be chosen on IV alone
    naive = LogisticRegression(max_iter=2000).fit(Scorecard._woe(t.features, binned), t.target)
    assert (naive.coef_[0] > 0).any()  # the situation the rule is for really happens
    card = Scorecard()
    card.fit(t.features, t.target, t.columns, seed=0)
    assert card.features == ["x1"]
    assert all(b.coef <= 0 for b in card.bins)


def test_scorecard_directions_force_a_monotone_binning():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, 3000)
    y = draw(logistic(-3 + 0.45 * x - 2.5 * ((x > 6) & (x < 7.5))), 6)
    t = table(pd.DataFrame({"x": x, "y": y}))
    card = Scorecard()
    card.fit(t.features, t.target, t.columns, seed=0, directions={"x": 1})
    woe = card.bins[0].woe[:-1]
    assert len(woe) >= 3
    assert all(a >= b for a, b in itertools.pairwise(woe)), woe  # safer first


def test_scorecard_state_round_trips_as_json(scorecard_fit):
    scorer, t = scorecard_fit
    state = json.loads(json.dumps(scorer.model.state()))
    again = Scorecard.from_state(state)
    np.testing.assert_array_equal(again.raw(t.features), scorer.model.raw(t.features))


# --- the trees -----------------------------------------------------------------------------

CATEGORY_RISK = {"a": 0.0, "b": 0.8, "c": 1.6}


def gbm_population(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Risk rises with x except for a dip on (6, 7.5); by category; w is noisy and sometimes
    missing."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    w = rng.normal(size=n)
    c = rng.choice(list(CATEGORY_RISK), n, p=[0.5, 0.3, 0.2])
    logit = -3.2 + 0.45 * x - 2.5 * ((x > 6) & (x < 7.5)) + pd.Series(c).map(CATEGORY_RISK)
    p = logistic(logit.to_numpy() + 0.3 * w)
    w[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"x": x, "w": w, "c": c}), p


@pytest.fixture(scope="module")
def gbm_data() -> dataset.Table:
    frame, p = gbm_population(3000, seed=11)
    return table(frame.assign(y=draw(p, 12)))


@pytest.fixture(scope="module")
def gbm_fit(gbm_data) -> Scorer:
    t = gbm_data
    return Scorer.fit("gbm", t.features, t.target, t.columns, seed=0, directions={"x": 1})


def grid(category: str = "a", w: float = 0.0) -> pd.DataFrame:
    x = np.linspace(0, 10, 201)
    return pd.DataFrame({"x": x, "w": w, "c": pd.Series([category] * len(x), dtype=object)})


def test_the_dip_is_learnable_without_a_constraint(gbm_data):
    free = Gbm()
    free.fit(gbm_data.features, gbm_data.target, gbm_data.columns, seed=0)
    raw = free.raw(grid())
    assert np.diff(raw).min() < -0.1  # the unconstrained trees do learn the dip


@pytest.mark.parametrize(("category", "w"), [("a", 0.0), ("c", 1.0), ("b", np.nan)])
def test_gbm_monotone_constraint_holds_despite_the_dip(gbm_fit, category, w):
    p = gbm_fit.probability(grid(category, w))
    assert np.diff(p).min() >= -1e-12
    assert p[-1] - p[0] > 0.2  # and the trend was learned, not flattened away


def test_gbm_handles_categories_and_unseen_ones(gbm_fit, gbm_data):
    rows = pd.DataFrame({"x": 3.0, "w": 0.0, "c": ["a", "b", "c"]})
    p = gbm_fit.probability(rows)
    assert p[0] < p[1] < p[2]
    text = pd.DataFrame({"x": ["3"], "w": [""], "c": ["zzz"]})
    scored, notes = dataset.for_scoring(text, gbm_data.columns)
    assert notes == ["c: 1 unseen values scored as missing"]
    q = gbm_fit.probability(scored)
    assert 0 < q[0] < 1


def test_gbm_contributions_plus_expected_value_are_the_raw_score(gbm_fit, gbm_data):
    model = gbm_fit.model
    assert isinstance(model, Gbm)
    rows = gbm_data.features.iloc[:200]
    full = model.booster.predict(model._frame(rows), pred_contrib=True)
    raw = model.booster.predict(model._frame(rows), raw_score=True)
    assert full.shape == (200, 4)
    np.testing.assert_allclose(full.sum(axis=1), raw, atol=1e-9)
    np.testing.assert_allclose(model.raw(rows), raw)
    np.testing.assert_allclose(model.contributions(rows), full[:, :-1])
    assert np.ptp(full[:, -1]) < 1e-12  # one expected value for every row


def test_gbm_reasons_are_the_largest_positive_contributions(gbm_fit, gbm_data):
    rows = gbm_data.features.iloc[:200]
    lost = gbm_fit.model.contributions(rows) * gbm_fit.slope * FACTOR
    names = gbm_fit.model.features
    some = 0
    for i, decision in enumerate(gbm_fit.decide(rows)):
        order = sorted(range(len(names)), key=lambda j: -lost[i, j])
        wanted = [names[j] for j in order[:CAP] if lost[i, j] >= 1.0]
        assert [r.code for r in decision.reasons] == wanted
        some += bool(wanted)
    assert some > 20


# --- calibration ----------------------------------------------------------------------------


def check_calibration(scorer: Scorer, frame: pd.DataFrame, p_true: np.ndarray) -> None:
    y = draw(p_true, 99)
    p = scorer.probability(frame)
    assert abs(p.mean() - y.mean()) < 0.03, (p.mean(), y.mean())
    assert abs(p.mean() - p_true.mean()) < 0.03, (p.mean(), p_true.mean())
    predicted, truth, _ = calibration_curve(p_true, p, bins=5)  # mean true P per fifth
    assert np.max(np.abs(np.asarray(predicted) - truth)) < 0.07, (predicted, truth)


def test_scorecard_probabilities_are_calibrated_on_new_rows(scorecard_fit):
    frame, p_true = scorecard_population(10_000, seed=21)
    check_calibration(scorecard_fit[0], frame, p_true)


def test_gbm_probabilities_are_calibrated_on_new_rows(gbm_fit):
    frame, p_true = gbm_population(10_000, seed=22)
    check_calibration(gbm_fit, frame, p_true)


def test_probability_is_platt_on_the_raw_score(gbm_fit, gbm_data):
    rows = gbm_data.features.iloc[:50]
    z = gbm_fit.slope * gbm_fit.model.raw(rows) + gbm_fit.intercept
    np.testing.assert_allclose(gbm_fit.probability(rows), 1 / (1 + np.exp(-z)))


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_on_a_hand_computed_example():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    m = measure(y, p)
    assert m.auc == pytest.approx(0.75)  # 3 of the 4 (event, non-event) pairs ordered right
    assert m.gini == pytest.approx(0.5)
    assert m.ks == pytest.approx(0.5)
    assert m.brier == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert (m.n, m.events) == (4, 2)
    assert m.as_dict() == {
        "auc": 0.75,
        "ks": 0.5,
        "gini": 0.5,
        "brier": 0.1581,
        "n": 4,
        "events": 2,
    }


def test_metrics_at_the_extremes():
    y = np.array([0, 0, 0, 1, 1])
    perfect = measure(y, np.array([0.0, 0.1, 0.2, 0.9, 1.0]))
    assert (perfect.auc, perfect.ks, perfect.gini) == (1.0, 1.0, 1.0)
    backwards = measure(y, np.array([0.9, 0.8, 0.7, 0.2, 0.1]))
    assert backwards.auc == 0.0 and backwards.gini == -1.0 and backwards.ks == 0.0
    ties = measure(y, np.full(5, 0.4))
    assert ties.auc == 0.5 and ties.ks == 0.0
    assert ties.brier == pytest.approx((3 * 0.16 + 2 * 0.36) / 5)
    assert measure(np.array([0, 1]), np.array([0.0, 1.0])).brier == 0.0


def test_calibration_curve_bins_by_predicted_quantile():
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    y = np.array([0, 0, 0, 1, 1, 1])
    predicted, observed, counts = calibration_curve(y, p, bins=3)
    assert predicted == pytest.approx([0.15, 0.35, 0.55])
    assert observed == [0.0, 0.5, 1.0]
    assert counts == [2, 2, 2]


# --- model folders ---------------------------------------------------------------------------


Saved = tuple[artifact.Trained, Path, dataset.Table]


@pytest.fixture(scope="module")
def trained_models(tmp_path_factory) -> dict[str, Saved]:
    frame, p = gbm_population(500, seed=31)
    frame["city"] = np.where(np.arange(500) % 3 == 0, "Cebu", "Davao")
    frame.loc[frame.index % 7 == 0, "city"] = None
    t = table(frame.assign(y=draw(p, 32), gender=["F", "M"] * 250))
    models = {}
    for kind in ("scorecard", "gbm"):
        trained = artifact.train(t, kind, seed=0, source="synthetic.csv")
        models[kind] = (trained, artifact.save(trained, tmp_path_factory.mktemp(kind)), t)
    return models


@pytest.fixture(params=["scorecard", "gbm"])
def saved(request, trained_models) -> Saved:
    return trained_models[request.param]


def copy_model(saved, tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(saved[1], folder)
    return folder


def test_save_then_load_gives_the_same_probabilities_and_decisions(saved):
    trained, folder, t = saved
    kind = trained.scorer.kind
    files = {p.name for p in folder.iterdir()}
    assert {"metadata.json", "model.json", "baseline.json"} <= files
    assert ("gbm.txt" in files) == (kind == "gbm")
    assert not any(name.endswith((".pkl", ".pickle", ".joblib")) for name in files)
    loaded = artifact.load(folder)
    assert loaded.scorer.kind == kind
    np.testing.assert_array_equal(
        loaded.scorer.probability(t.features), trained.scorer.probability(t.features)
    )
    assert loaded.scorer.decide(t.features) == trained.scorer.decide(t.features)
    m = loaded.metadata
    assert m["format_version"] == artifact.FORMAT_VERSION and m["kind"] == kind
    assert m["excluded_protected"] == ["gender"]
    assert m["rows"] == 500 and m["events"] == int(t.target.sum())
    assert [c["name"] for c in m["columns"]] == ["x", "w", "c", "city"]
    assert {"auc", "ks", "gini", "brier", "n"} <= set(m["validation"])
    assert m["validation"]["n"] == 125  # the 25% holdout
    assert set(loaded.baseline["features"]) == {"x", "w", "c", "city"}


def test_a_model_folder_of_another_format_version_is_refused(saved, tmp_path):
    folder = copy_model(saved, tmp_path)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["format_version"] = artifact.FORMAT_VERSION + 1
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(CreditError, match=r"format version 2.*retrain"):
        artifact.load(folder)
    meta["format"] = "something-else"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(CreditError, match="not a Tindahan credit model folder"):
        artifact.load(folder)


@pytest.mark.parametrize("name", ["metadata.json", "model.json", "baseline.json"])
def test_a_missing_file_is_refused(saved, tmp_path, name):
    folder = copy_model(saved, tmp_path)
    (folder / name).unlink()
    with pytest.raises(CreditError, match=f"lacks {name}"):
        artifact.load(folder)


@pytest.mark.parametrize("name", ["metadata.json", "model.json", "baseline.json"])
def test_corrupt_json_is_refused(saved, tmp_path, name):
    folder = copy_model(saved, tmp_path)
    (folder / name).write_text('{"format": "tindahan-credit-model", ')
    with pytest.raises(CreditError, match=f"{name} is unreadable"):
        artifact.load(folder)
    (folder / name).write_text("[1, 2]")
    with pytest.raises(CreditError, match=f"{name} is not a JSON object"):
        artifact.load(folder)


def test_a_model_json_without_its_tables_is_refused(saved, tmp_path):
    folder = copy_model(saved, tmp_path)
    (folder / "model.json").write_text('{"learner": {}}')
    with pytest.raises(CreditError, match="incomplete or damaged"):
        artifact.load(folder)


def test_not_a_folder_is_refused(tmp_path):
    with pytest.raises(CreditError, match="no model folder"):
        artifact.load(tmp_path / "nowhere")
    with pytest.raises(CreditError, match=r"lacks metadata\.json"):
        artifact.load(tmp_path)


def gbm_folder(trained_models, tmp_path) -> Path:
    return copy_model(trained_models["gbm"], tmp_path)


def test_a_missing_or_garbage_gbm_file_is_refused(trained_models, tmp_path):
    folder = gbm_folder(trained_models, tmp_path)
    (folder / "gbm.txt").write_text("this is not a LightGBM model\n")
    with pytest.raises(CreditError, match="changed or damaged since training"):
        artifact.load(folder)
    (folder / "gbm.txt").unlink()
    with pytest.raises(CreditError, match=r"gbm\.txt is missing"):
        artifact.load(folder)


LOAD_IN_A_CHILD = """
import sys
from tindahan.credit import artifact
from tindahan.credit.errors import CreditError
try:
    artifact.load(sys.argv[1])
except CreditError as error:
    print("CreditError:", error)
    sys.exit(2)
sys.exit(0)
"""


def test_a_truncated_gbm_file_is_a_credit_error_not_a_crash(trained_models, tmp_path):
    folder = gbm_folder(trained_models, tmp_path)
    text = (folder / "gbm.txt").read_text()
    (folder / "gbm.txt").write_text(text[: len(text) // 3])
    child = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_CHILD, str(folder)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
    )
    assert child.returncode == 2, (child.returncode, child.stderr[-300:])
    assert "CreditError" in child.stdout


def test_save_refuses_a_folder_that_is_not_a_model_folder(saved, tmp_path):
    trained = saved[0]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(CreditError, match="exists and is not a model folder"):
        artifact.save(trained, mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary left over
    empty = tmp_path / "empty"
    empty.mkdir()
    artifact.save(trained, empty)
    assert (empty / "metadata.json").exists()


def test_saving_over_an_older_model_folder_replaces_it(saved, tmp_path):
    trained, folder, _t = saved
    target = tmp_path / "model"
    shutil.copytree(folder, target)
    (target / "stale.txt").write_text("from the older model")
    if trained.scorer.kind == "scorecard":
        (target / "gbm.txt").write_text("an older model's trees")
    artifact.save(trained, target)
    names = {p.name for p in target.iterdir()}
    assert "stale.txt" not in names
    assert ("gbm.txt" in names) == (trained.scorer.kind == "gbm")
    assert artifact.load(target).scorer.kind == trained.scorer.kind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_save_refuses_a_folder_whose_metadata_json_is_not_a_models(trained_models, tmp_path):
    other = tmp_path / "project"
    other.mkdir()
    (other / "metadata.json").write_text('{"title": "my thesis"}')
    (other / "thesis.tex").write_text("years of work")
    try:
        with pytest.raises(CreditError, match="not a model folder"):
            artifact.save(trained_models["scorecard"][0], other)
    finally:
        assert (other / "thesis.tex").exists(), "save deleted a folder that was not a model's"


def test_save_refuses_a_file_in_the_way(trained_models, tmp_path):
    path = tmp_path / "model"
    path.write_text("a file, not a folder")
    with pytest.raises(CreditError):
        artifact.save(trained_models["scorecard"][0], path)


# --- drift -----------------------------------------------------------------------------------


def test_psi_of_a_sample_against_itself_is_zero_and_stable():
    rng = np.random.default_rng(41)
    x = pd.Series(rng.normal(size=2000))
    x[::17] = np.nan
    ref = drift.reference(x, "numeric")
    assert len(ref["edges"]) == 9 and len(ref["shares"]) == 11
    assert sum(ref["shares"]) == pytest.approx(1)
    assert drift.psi(ref, x) == pytest.approx(0, abs=1e-12)
    assert drift.flag(drift.psi(ref, x)) == "stable"
    # Another sample of the same population is stable too…
    again = pd.Series(np.random.default_rng(42).normal(size=2000))
    again[::17] = np.nan
    assert drift.flag(drift.psi(ref, again)) == "stable"
    # …but not once its values stop being missing: missing values are a bin of their own.
    assert drift.psi(ref, again.fillna(0.0)) > 0.25


def test_a_shifted_sample_is_a_significant_shift():
    rng = np.random.default_rng(43)
    ref = drift.reference(pd.Series(rng.normal(size=2000)), "numeric")
    shifted = pd.Series(rng.normal(loc=1.0, size=2000))
    value = drift.psi(ref, shifted)
    assert value > 0.25 and drift.flag(value) == "significant shift"
    slight = drift.psi(ref, pd.Series(rng.normal(loc=0.35, size=20_000)))
    assert drift.flag(slight) == "moderate shift", slight


def test_psi_for_categories_counts_missing_and_unseen_values():
    base = pd.Series(["a"] * 50 + ["b"] * 30 + [None] * 20, dtype=object)
    ref = drift.reference(base, "categorical")
    assert ref["categories"] == ["a", "b"]
    assert ref["shares"] == pytest.approx([0.5, 0.3, 0.2, 0.0])
    assert drift.psi(ref, base) == pytest.approx(0, abs=1e-12)
    moved = pd.Series(["a"] * 20 + ["b"] * 30 + ["zzz"] * 50, dtype=object)
    assert drift.psi(ref, moved) > 0.25


def test_drift_flags_at_the_thresholds():
    assert drift.flag(0.0) == "stable"
    assert drift.flag(0.0999) == "stable"
    assert drift.flag(0.10) == "moderate shift"
    assert drift.flag(0.2499) == "moderate shift"
    assert drift.flag(0.2501) == "significant shift"
    assert drift.flag(3.0) == "significant shift"


def test_drift_report_over_a_baseline():
    rng = np.random.default_rng(44)
    frame = pd.DataFrame({"x": rng.normal(size=1000), "c": rng.choice(["p", "q"], 1000)})
    columns = [dataset.Column("x", "numeric"), dataset.Column("c", "categorical", ("p", "q"))]
    points = rng.normal(550, 40, 1000)
    base = json.loads(json.dumps(drift.baseline(frame, columns, points)))  # as saved
    same = drift.report(base, frame, points)
    assert same["n"] == 1000 and same["score"] == {"psi": 0.0, "flag": "stable"}
    assert all(row["flag"] == "stable" for row in same["features"].values())
    later = frame.assign(x=frame["x"] + 2)
    moved = drift.report(base, later, points - 60)
    assert moved["score"]["flag"] == "significant shift"
    assert list(moved["features"]) == ["x", "c"]  # largest PSI first
    assert moved["features"]["x"]["flag"] == "significant shift"
    assert moved["thresholds"] == {"stable_below": 0.10, "significant_above": 0.25}


# --- cross-validation ---------------------------------------------------------------------


def leakage_table(shuffle: bool) -> dataset.Table:
    rng = np.random.default_rng(51)
    n = 400
    frame = pd.DataFrame({f"n{i}": rng.normal(size=n) for i in range(3)})
    frame["grp"] = rng.choice(list("abcdefgh"), n)
    y = draw(logistic(-1 + 1.5 * frame["n0"].to_numpy() - 1.0 * frame["n1"].to_numpy()), 52)
    if shuffle:
        y = np.random.default_rng(53).permutation(y)
    return table(frame.assign(y=y))


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_cross_validation_finds_a_signal_and_nothing_in_a_shuffled_target(kind):
    signal_table = leakage_table(shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as the CLI does: convergence notes and the like
        signal = cross_validate(signal_table, kind, folds=3, seed=7)
        noise = cross_validate(leakage_table(shuffle=True), kind, folds=3, seed=7).report
    # The same features and model find the real signal…
    assert signal.report["auc"] > 0.75
    # …and nothing once the target is shuffled: no test-fold information leaks into a fit.
    assert 0.40 <= noise["auc"] <= 0.60, noise
    report, p = signal.report, signal.probabilities
    assert {"auc", "ks", "gini", "brier", "n", "events", "auc_folds"} <= set(report)
    assert report["n"] == 400 and report["events"] == int(signal_table.target.sum())
    assert report["folds"] == 3 and report["seed"] == 7 and report["model"] == kind
    assert len(report["auc_folds"]) == 3
    assert len(p) == 400 and ((p > 0) & (p < 1)).all()
    assert report["auc"] == round(measure(signal_table.target, p).auc, 4)
    assert report["brier"] == round(measure(signal_table.target, p).brier, 4)


def test_cross_validation_refusals():
    t = leakage_table(shuffle=False)
    for folds in (0, 1, 21):
        with pytest.raises(CreditError, match="--folds must be between 2 and 20"):
            cross_validate(t, "scorecard", folds=folds)
    with pytest.raises(CreditError, match="unknown model 'forest'"):
        cross_validate(t, "forest", folds=2)
    few = dataset.prepare(pd.DataFrame({"x": numbers(), "y": zero_one(3)}), "y")
    with pytest.raises(CreditError, match="5 folds need at least 5 rows of each class"):
        cross_validate(few, "scorecard", folds=5)
