"""One merchant's decision by the single path (issue 18: plain arrays, no data frames) equals
the batch path's to the bit: features, probability, points and reasons.

* in memory: ``features.compute_one`` on one merchant's rows against ``features.compute`` on
  a simulated population (Hypothesis for odd histories: empty kinds, rows after the as-of
  time, loans, no sales);
* from the database: ``assessments.features_one`` (one statement on the driver's cursor,
  windows cut in SQL, older postings as their sum) against ``load_events`` plus
  ``compute``, for every merchant of the seeded demo, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.api.conftest import TEST_DATA_KEY
from tests.profiles import examples
from tindahan.credit import events as ev
from tindahan.credit import features as F
from tindahan.credit import simulate as simulator
from tindahan.services.credit import assessments as credit
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.store.payment_tables import parties
from tindahan.store.vault import Vault

D = F.DAY_NS
AS_OF = credit.SIMULATION_AS_OF_NS


def _alone(events: ev.Events, merchant: str) -> dict[str, F.Arrays]:
    """One merchant's rows of each kind, as the single path takes them."""
    tables = {}
    for name in F.TABLES:
        frame = getattr(events, name)
        mine = frame[frame["merchant_id"].to_numpy() == merchant]
        tables[name] = {c: mine[c].to_numpy() for c in frame.columns if c != "merchant_id"}
    return tables


def _same(batch: pd.Series, one: dict[str, float]) -> None:
    for name in ("sales_count_90d", *F.FEATURES):
        a, b = float(batch[name]), one[name]
        assert (math.isnan(a) and math.isnan(b)) or a == b, (name, a, b)


def _agree(events: ev.Events, as_of: int, model: object = None) -> int:
    frame = F.compute(events, as_of)
    opened = dict(events.merchants[["merchant_id", "opened_at_ns"]].itertuples(index=False))
    for _, row in frame.iterrows():
        one = F.compute_one(opened[row["merchant_id"]], _alone(events, row["merchant_id"]), as_of)
        _same(row, one)
    return len(frame)


def test_simulated_population_single_equals_batch(merchant_model):
    population = simulator.recent(40, as_of_ns=AS_OF, history_days=240, seed=5, activity=0.5)
    events = population.events
    frame = F.compute(events, AS_OF)
    scorable = frame[F.scorable(frame)].reset_index(drop=True)
    assert len(scorable) >= 20
    batch = merchant_model.scorer.decide(F.as_table(scorable).features, F.describe)
    opened = dict(events.merchants[["merchant_id", "opened_at_ns"]].itertuples(index=False))
    for i, row in scorable.iterrows():
        one = F.compute_one(opened[row["merchant_id"]], _alone(events, row["merchant_id"]), AS_OF)
        _same(row, one)
        single = credit.decide(merchant_model, one)
        assert single["score"] == batch[i].points
        assert single["probability_of_default"] == credit.probability_text(batch[i].probability)
        assert single["reasons"] == [r.as_dict() for r in batch[i].reasons]
    # Some merchants are below the thresholds: the same refusal by both paths.
    for _, row in frame[~F.scorable(frame)].iterrows():
        one = F.compute_one(opened[row["merchant_id"]], _alone(events, row["merchant_id"]), AS_OF)
        assert credit.decide(merchant_model, one) == credit.decide(merchant_model, row)


M = ("m1", "m2", "m3")
T0 = AS_OF - 300 * D
rows = st.lists(
    st.tuples(
        st.sampled_from(["sales", "refunds", "disputes", "cash_outs", "postings", "installments"]),
        st.sampled_from(M),
        st.integers(0, 330 * D),  # from 300 days before as-of to 30 days after
        st.integers(-(10**6), 10**7),
        st.integers(0, 5),
    ),
    max_size=60,
)


@settings(max_examples=examples(60), deadline=None)
@given(rows, st.lists(st.integers(0, 299), min_size=3, max_size=3))
def test_any_history_single_equals_batch(found, opened_days):
    data: dict[str, list[tuple[object, ...]]] = {name: [] for name in F.TABLES}
    data["merchants"] = [
        (m, T0 + days * D, "Cebu", "5411") for m, days in zip(M, opened_days, strict=True)
    ]
    for name, merchant, offset, amount, extra in found:
        at = T0 + offset
        data[name].append(
            {
                "sales": (merchant, f"b{extra}" if extra else "", at, abs(amount) + 1, "qr"),
                "refunds": (merchant, at, abs(amount)),
                "disputes": (merchant, at),
                "cash_outs": (merchant, at, abs(amount)),
                "postings": (merchant, at, amount),
                "installments": (merchant, at, at + (extra - 2) * D if extra else -1, 1_000),
            }[name]
        )
    events = ev.build(**{name: ev.frame(name, rows) for name, rows in data.items()})
    assert _agree(events, AS_OF) == 3


def test_a_merchant_opened_after_the_cut_is_refused():
    empty = {name: {"at_ns": np.array([], dtype=np.int64)} for name in F.TABLES}
    with pytest.raises(ValueError, match="opened"):
        F.compute_one(AS_OF, empty, AS_OF)


def test_database_single_path_equals_batch_path(db_url, seeded_demo, merchant_model):
    """Every merchant of the seeded demo (orders, refunds, disputes, cash-outs, loans), at
    three moments: the features read by the single path equal the batch path's, and so do
    the decisions."""
    import base64

    seeded_demo.copy_to(db_url)
    vault = Vault(base64.urlsafe_b64decode(TEST_DATA_KEY))
    with connect(db_url) as database:
        platform = Platform(database, vault)

        def check(unit) -> int:
            conn = unit.conn
            merchants = conn.execute(
                select(parties.c.id, parties.c.created_at_ns).where(parties.c.kind == "merchant")
            ).all()
            now = unit.now()
            compared = scored = 0
            for cut in (now + 1, now - 20 * D, now - 95 * D):
                ids = [m for m, opened in merchants if opened < cut]
                frame = F.compute(credit.load_events(conn, ids, cut), cut)
                frame = frame.set_index("merchant_id", drop=False)
                for merchant, opened in merchants:
                    if opened >= cut:
                        continue
                    one = credit.features_one(conn, merchant, cut)
                    _same(frame.loc[merchant], one)
                    single = credit.decide(merchant_model, one)
                    assert single == credit.decide(merchant_model, frame.loc[merchant])
                    compared += 1
                    scored += single["decision"] == "scored"
            assert scored > 0
            return compared

        assert platform.run(check, write=False) >= 3
