"""The population simulator: deterministic, well-formed, booked as the services book, seasonal,
shocked by typhoons, with a default rate in its band that history predicts but not perfectly;
and written through the real services into a database that agrees with it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import typer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sqlalchemy import func, select
from typer.testing import CliRunner

from tindahan.cli.simulate import simulate as simulate_command
from tindahan.credit import events as ev
from tindahan.credit import simulate as sim
from tindahan.money import Money, Rounding, apply_bps, bps_of
from tindahan.payments.model import PaymentKind, PaymentStatus
from tindahan.services.ledger.verify import verify
from tindahan.services.platform import chart
from tindahan.services.seed import simulation
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import parties, payments, wallets
from tindahan.store.tables import accounts
from tindahan.store.vault import Vault

#: One worker runs this module: its module-scoped fixtures are built once (make test, xdist).
pytestmark = pytest.mark.xdist_group("credit-simulate")

D = sim.DAY_NS
AS_OF = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp()) * 10**9 - sim.MANILA_OFFSET_NS
START = AS_OF - 365 * D


def _simulate(merchants: int, days: int, seed: int, params: sim.Params | None = None):
    return sim.simulate(
        params or sim.Params(),
        merchants=merchants,
        start_ns=AS_OF - days * D,
        as_of_ns=AS_OF,
        horizon_days=90,
        seed=seed,
    )


@pytest.fixture(scope="module")
def population() -> sim.Population:
    """2,000 merchants, a year of history, 90 days of future (about 3 s)."""
    return _simulate(2_000, 365, seed=11)


def _manila(at_ns: pd.Series) -> pd.Series:
    return pd.to_datetime(at_ns + sim.MANILA_OFFSET_NS, unit="ns")


# --- determinism and form -------------------------------------------------------------------
def test_the_same_seed_gives_the_same_population_and_another_seed_another():
    first, again, other = (_simulate(150, 60, seed) for seed in (5, 5, 6))
    for name in ev.SCHEMA:
        pd.testing.assert_frame_equal(getattr(first.events, name), getattr(again.events, name))
    pd.testing.assert_frame_equal(first.truth, again.truth)
    assert not first.events.sales.equals(other.events.sales)


def test_every_frame_matches_the_schema(population):
    for name, columns in ev.SCHEMA.items():
        frame = getattr(population.events, name)
        assert {c: str(t) for c, t in frame.dtypes.items()} == columns, name
    e = population.events
    assert len(e.installments) == 0
    assert (e.sales.amount_minor > 0).all() and (e.refunds.amount_minor > 0).all()
    assert (e.cash_outs.amount_minor % population.params.cash_out_unit_minor == 0).all()
    assert set(e.sales.channel) == {"qr", "order"}
    assert set(e.disputes.merchant_id) <= set(e.sales.merchant_id[e.sales.channel == "order"])
    end = AS_OF + 90 * D
    for name in ("sales", "refunds", "disputes", "cash_outs", "postings"):
        assert getattr(e, name).at_ns.max() < end, name


def test_merchants_open_at_different_times_some_young_some_quiet(population):
    e = population.events
    age = (AS_OF - e.merchants.opened_at_ns) / D
    assert age.min() > 13 and age.max() <= 366
    assert (age < 60).mean() > 0.1  # young merchants
    opened = e.merchants.set_index("merchant_id").opened_at_ns
    assert (e.sales.at_ns.to_numpy() > opened.loc[e.sales.merchant_id].to_numpy()).all()
    sold = e.sales[e.sales.at_ns < AS_OF].groupby("merchant_id").size()
    per_day = sold.reindex(opened.index, fill_value=0) / age.to_numpy()
    assert (per_day < 1).mean() > 0.03  # some barely use the platform


# --- money --------------------------------------------------------------------------------
def test_the_merchant_discount_is_the_services_half_up_fee():
    amounts = np.array([1, 49, 50, 51, 149, 150, 4_525, 99_999, 4_000_000], dtype=np.int64)
    for bps in (100, 250, 1000):
        expected = [bps_of(int(a), bps, Rounding.HALF_UP) for a in amounts]
        assert sim.discount(amounts, bps).tolist() == expected
    assert (
        bps_of(4_525, 100, Rounding.HALF_UP)
        == apply_bps(Money(4_525, "PHP"), 100, Rounding.HALF_UP).amount_minor
    )


def test_refunds_follow_their_sale_and_never_exceed_it(population):
    e = population.events
    sale = e.sales.iloc[population.refund_sale]
    assert (sale.merchant_id.to_numpy() == e.refunds.merchant_id.to_numpy()).all()
    assert (sale.at_ns.to_numpy() < e.refunds.at_ns.to_numpy()).all()
    assert (sale.amount_minor.to_numpy() >= e.refunds.amount_minor.to_numpy()).all()
    assert len(set(population.refund_sale.tolist())) == len(e.refunds)


def test_postings_are_what_the_wallet_gets_and_it_never_goes_negative(population):
    e, bps = population.events, population.params.fee_bps
    postings = e.postings.sort_values(["merchant_id", "at_ns"], kind="stable")
    running = postings.groupby("merchant_id").delta_minor.cumsum()
    assert running.min() >= 0
    # sale: +amount - fee; refund of R: -(R - fee share back); cash-out: -amount
    sold = e.sales.amount_minor - sim.discount(e.sales.amount_minor.to_numpy(), bps)
    paid = e.sales.amount_minor.iloc[population.refund_sale].to_numpy()
    fee = sim.discount(paid, bps)
    back = e.refunds.amount_minor - fee * e.refunds.amount_minor.to_numpy() // paid
    expected = (
        sold.groupby(e.sales.merchant_id).sum()
        .sub(back.groupby(e.refunds.merchant_id).sum(), fill_value=0)
        .sub(e.cash_outs.groupby("merchant_id").amount_minor.sum(), fill_value=0)
    )  # fmt: skip
    actual = e.postings.groupby("merchant_id").delta_minor.sum()
    assert (actual.sort_index() == expected.sort_index().astype(np.int64)).all()
    assert len(e.postings) == len(e.sales) + len(e.refunds) + len(e.cash_outs)


# --- seasonality and shocks --------------------------------------------------------------------
def test_paydays_and_december_sell_more(population):
    e = population.events
    history = e.sales[e.sales.at_ns < AS_OF]
    when = _manila(history.at_ns)
    daily = history.amount_minor.groupby(when.dt.normalize()).sum()
    days = daily.index
    month_end = days + pd.offsets.MonthEnd(0)
    near_end = ((month_end - days).days <= 1) | (days.day == 1)
    payday = days.day.isin([14, 15, 16]) | near_end
    middle = days.day.isin([7, 8, 9, 10, 11, 21, 22, 23, 24, 25])
    assert daily[payday].mean() > 1.08 * daily[middle].mean()
    settled = e.merchants.merchant_id[e.merchants.opened_at_ns < AS_OF - 200 * D]
    steady = history[history.merchant_id.isin(settled)]
    by_month = steady.amount_minor.groupby(_manila(steady.at_ns).dt.to_period("M")).sum()
    december, november = pd.Period("2025-12"), pd.Period("2025-11")
    assert by_month[december] / 31 > 1.15 * by_month[november] / 30


def test_a_typhoon_collapses_its_province_then_it_partly_recovers(population):
    storm = population.shocks[population.shocks.before_as_of].iloc[0]
    e = population.events
    province = e.merchants.set_index("merchant_id").province
    sales = e.sales.assign(province=province.loc[e.sales.merchant_id].to_numpy())

    def daily(where: pd.Series, first: int, last: int) -> float:
        start = storm.start_ns + first * D
        window = sales[where & (sales.at_ns >= start) & (sales.at_ns < start + (last - first) * D)]
        return window.amount_minor.sum() / (last - first)

    hit = sales.province == storm.province
    before, landfall, later = (daily(hit, a, b) for a, b in ((-28, 0), (0, 7), (21, 35)))
    control = daily(~hit, 0, 7) / daily(~hit, -28, 0)
    assert landfall / before < 0.75 * control
    assert landfall < later


# --- the ground truth --------------------------------------------------------------------------
def test_the_default_rate_is_in_its_band(population):
    assert 0.08 <= population.truth.defaulted.mean() <= 0.20


def _aggregates(population: sim.Population) -> pd.DataFrame:
    """A few honest aggregates: only events before as-of."""
    e = population.events
    ids = e.merchants.merchant_id

    def total(frame: pd.DataFrame, days: int, column: str = "amount_minor") -> pd.Series:
        window = frame[(frame.at_ns < AS_OF) & (frame.at_ns >= AS_OF - days * D)]
        return window.groupby("merchant_id")[column].sum().reindex(ids, fill_value=0)

    sales_30, sales_90 = total(e.sales, 30), total(e.sales, 90)
    balance = total(e.postings, 400, "delta_minor")
    cashed = total(e.cash_outs, 90)
    age = (AS_OF - e.merchants.set_index("merchant_id").opened_at_ns) / D
    return pd.DataFrame(
        {
            "log_sales": np.log1p(sales_30),
            "balance_to_sales": np.log1p(balance) - np.log1p(sales_30),
            "cashed_share": cashed / (sales_90 + 1),
            "log_age": np.log(age),
        }
    )


def test_history_predicts_defaults_but_not_perfectly(population):
    features = _aggregates(population)
    truth = population.truth.set_index("merchant_id").defaulted.loc[features.index]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000))
    scores = cross_val_predict(model, features, truth, cv=5, method="predict_proba")[:, 1]
    auc = roc_auc_score(truth, scores)
    assert 0.6 <= auc <= 0.95, auc


def test_the_future_holds_surprises(population):
    truth = population.truth
    hit = truth[truth.typhoon_after == 1]
    assert len(hit) > 10 and hit.defaulted.mean() > truth.defaulted.mean()
    struck = truth[truth.emergency_minor > 0]
    assert struck.defaulted.mean() > truth[truth.emergency_minor == 0].defaulted.mean()


# --- through the real services -----------------------------------------------------------------
def _platform(db) -> Platform:
    platform = Platform(db, Vault(b"s" * 32))
    chart.ensure_operator_accounts(platform)
    return platform


def _check_written(db, population: sim.Population, written: simulation.Written) -> None:
    """Payments, parties and wallets in the database agree with the in-memory events."""
    e = population.events
    party = pd.Series(written.party_ids)
    history = e.sales[e.sales.at_ns < AS_OF]
    expected = history.groupby(history.merchant_id.map(party)).amount_minor.agg(["size", "sum"])
    postings = e.postings[e.postings.at_ns < AS_OF]
    held = postings.groupby(postings.merchant_id.map(party)).delta_minor.sum()
    with db.begin(write=False) as conn:
        paid = conn.execute(
            select(payments.c.payee_id, func.count(), func.sum(payments.c.amount_minor))
            .where(payments.c.kind == PaymentKind.MERCHANT.value)
            .group_by(payments.c.payee_id)
        ).all()
        balances = conn.execute(
            select(
                wallets.c.party_id, func.sum(accounts.c.credits_posted - accounts.c.debits_posted)
            )
            .join(accounts, accounts.c.id == wallets.c.account_id)
            .where(wallets.c.party_id.in_(list(party)))
            .group_by(wallets.c.party_id)
        ).all()
        opened = dict(
            conn.execute(
                select(parties.c.id, parties.c.created_at_ns).where(parties.c.kind == "merchant")
            ).all()
        )
        cash_outs = conn.execute(
            select(func.count())
            .select_from(payments)
            .where(payments.c.kind == PaymentKind.CASH_OUT.value)
            .where(payments.c.status == PaymentStatus.SUCCEEDED.value)
        ).scalar_one()
    assert {p: (n, s) for p, n, s in paid} == {
        p: (int(r["size"]), int(r["sum"])) for p, r in expected.iterrows()
    }
    assert {p: b for p, b in balances} == {p: int(b) for p, b in held.items()}
    by_id = e.merchants.set_index("merchant_id").opened_at_ns
    assert opened == {party[m]: int(by_id[m]) for m in party.index}
    assert cash_outs == written.cash_outs == int((e.cash_outs.at_ns < AS_OF).sum())
    assert written.refunds == int((e.refunds.at_ns < AS_OF).sum())
    assert written.refusals == 0, written.refused
    report = verify(db)
    assert report.ok, report.violations


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_small_population_written_through_the_services_matches_memory(db, clock):
    population = _simulate(6, 60, seed=21, params=sim.Params().scaled(0.2))
    seen: list[tuple[int, int]] = []
    written = simulation.write(
        _platform(db),
        lambda ns: setattr(clock, "now", ns),
        population,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert written.merchants == 6 and written.sales > 50
    assert seen[-1][0] == seen[-1][1] and len(seen) > 2
    _check_written(db, population, written)


def test_a_tiny_population_writes_on_both_databases(db, clock):
    population = _simulate(3, 30, seed=22, params=sim.Params().scaled(0.1))
    written = simulation.write(_platform(db), lambda ns: setattr(clock, "now", ns), population)
    assert written.merchants == 3
    _check_written(db, population, written)


# --- the command -----------------------------------------------------------------------------
def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(simulate_command)
    return app


def test_memory_only_writes_the_truth_csv(tmp_path):
    truth, events = tmp_path / "truth.csv", tmp_path / "events"
    args = ["--memory-only", "--merchants", "40", "--months", "2", "--as-of", "2026-01-31"]
    args += ["--truth", str(truth), "--events", str(events), "--seed", "4"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(truth)
    assert len(written) == 40 and {"merchant_id", "kind", "defaulted"} <= set(written.columns)
    assert sorted(p.name for p in events.iterdir()) == sorted(f"{n}.csv" for n in ev.SCHEMA)
    assert "default rate" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--merchants", "-5"],
        ["--months", "0"],
        ["--horizon-days", "-1"],
        ["--as-of", "2026-02-30"],
        ["--as-of", (date.today() + timedelta(days=400)).isoformat()],
        ["--db", "mysql://nowhere/db"],
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, args):
    truth = tmp_path / "truth.csv"
    result = CliRunner().invoke(_cli(), [*args, "--truth", str(truth)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "error" in result.output.lower()
    assert not truth.exists()
