"""Populations of Philippine micro-merchants with a known future, to build and test credit
models on (issue 6) before real loans have matured.

Why a simulator: a score is learned from merchants whose loans ended, and Tindahan has none
yet. So we generate merchants whose *hidden* traits (discipline, volatility, trend, exposure
to a typhoon) drive both what the platform sees before the as-of date (sales, refunds,
disputes, cash-outs, the wallet) and what happens after it (whether a notional loan offered
at as-of is repaid). History is then predictive, but not perfectly: the future holds
surprises that no feature can see (a typhoon after as-of, a family emergency, a trend that
turns), so an honest model should land well short of perfect.

The world, in ``Params`` (every figure is a default the caller may change):

* **Merchant types** (``Kind``): sari-sari store (MCC 5411), carinderia (5812), market stall
  (5499), online seller (5651, most sales are online orders, which buyers may dispute) and
  farm supplier (5191), each with its share, digital payments a day, ticket size (lognormal),
  buyer pool and repeat-buyer propensity, margin, refund and dispute propensity, cash-out
  habit and exposure to storms. Merchants sit in real Philippine provinces.
* **Seasonality**: payday bumps on and just after the 15th and the last day of the month
  (Philippine salaries are paid semi-monthly), a December peak (13th-month pay, Christmas),
  a January lull, a weekly rhythm.
* **Shocks**: typhoons, each hitting one province for a couple of weeks — sales collapse,
  then recover partly, then slowly in full. Some strike before as-of (visible in history),
  some after (the surprise).
* **Trends**: each merchant grows or declines; the trend after as-of follows the one before
  only in part.

Units: times are int64 nanoseconds since the epoch, UTC (days are Manila days, UTC+8);
amounts are int64 centavos. Floats appear only as rates and intensities inside the
generator; every amount is rounded to whole centavos with a named rounding (``_half_up``
for prices and flows, ``HALF_UP`` merchant discount exactly as ``payments.fees``, ``DOWN``
to whole ₱100 bills for cash-outs, ``CEILING`` for installments).

The wallet is booked as the real services book it (``services.payments.payments``
and ``services.payments.refunds``): a sale credits the merchant ``amount - fee``
(fee = ``fee_bps`` of the amount, rounded half up); a refund of R debits ``R - fee_back`` (fee_back
= ⌊fee·R/amount⌋, the refund's share of the fee, which the operator returns); a cash-out
debits its amount. A refund or cash-out that would overdraw the wallet does not happen.

The default process (hidden from features): at as-of each merchant is offered a loan of about
``loan_sales_months`` of its recent sales, repaid in equal weekly installments over
``loan_weeks`` weeks. The principal buys stock that comes back as cash as fast as sales run
(so a sales collapse hurts twice); the merchant's margin on sales, minus its living expenses
(set by its *discipline* against the income it was used to), minus any emergency, goes to
cash (at as-of: its wallet plus savings outside the platform), which pays what is due. It
defaults if the unpaid amount exceeds ``default_shortfall_installments`` installments or an
installment is ``default_days_past_due`` days late within the horizon. With the defaults
(2,000-5,000 merchants, a year of history, 90 days): 12-14% default; cross-validated AUC
about 0.74 for a logistic regression on four aggregates or on ``features.compute``, 0.75
for gradient boosting on those features, and about 0.81 even for a model given the hidden
traits themselves — the future is not in the past.

Speed: 5,000 merchants × 12 months of history + 90 days (about 9 million sales) take 6-9 s
on one core (measured on a shared two-core machine) and about 1.5 GB of memory; everything
is vectorised with numpy except the wallet pass, a loop over refunds and cash-outs only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from tindahan import limits
from tindahan.credit import events as ev
from tindahan.credit import features  # reads events only, never the truth

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

SECOND_NS = 10**9
HOUR_NS = 3_600 * SECOND_NS
DAY_NS = 24 * HOUR_NS
MS_NS = 10**6
#: Philippine Standard Time is UTC+8 all year: a fixed offset is exact.
MANILA_OFFSET_NS = 8 * HOUR_NS
#: Bounds of a call (the CLI states them too): more merchants than this do not fit in memory
#: with a year of history; a merchant needs a couple of weeks to show anything.
MAX_MERCHANTS = 200_000
MIN_HISTORY_DAYS = 28
MAX_HISTORY_DAYS = 5 * 366
MAX_HORIZON_DAYS = 366


@dataclass(frozen=True)
class Kind:
    """One type of Philippine micro-merchant and how its trade behaves (typical merchant)."""

    name: str
    #: ISO 18245 merchant category code, as the party is created with.
    mcc: str
    #: Share of the population (normalised over the kinds).
    share: float
    #: Digital payments (QR or online order) on an ordinary open day, at activity 1.
    daily_sales: float
    #: Median ticket in centavos, and the log-sd of one sale around the merchant's median.
    ticket_median_minor: int
    ticket_sigma: float
    #: Distinct buyers a typical merchant sells to, and the chance a sale is to one of its
    #: regulars (``Params.regular_share`` of the pool) rather than anyone in the pool.
    buyer_pool: int
    repeat: float
    #: Gross margin: the share of a sale that is the merchant's own income.
    margin: float
    #: Share of sales refunded, in part or whole.
    refund_rate: float
    #: Share of sales that are online orders (channel "order"); the rest are QR payments.
    order_share: float
    #: Share of online orders the buyer disputes.
    dispute_rate: float
    #: Mean days between cash-outs at an agent.
    cash_out_days: float
    #: 0..1: how much of a typhoon's blow reaches this trade (farm supply the most).
    typhoon_exposure: float


KINDS: tuple[Kind, ...] = (
    Kind(
        "sari-sari store", "5411", share=0.40, daily_sales=8.0, ticket_median_minor=4_500,
        ticket_sigma=0.8, buyer_pool=120, repeat=0.8, margin=0.15, refund_rate=0.004,
        order_share=0.0, dispute_rate=0.0, cash_out_days=3.0, typhoon_exposure=0.8,
    ),
    Kind(
        "carinderia", "5812", share=0.20, daily_sales=9.0, ticket_median_minor=8_500,
        ticket_sigma=0.5, buyer_pool=150, repeat=0.7, margin=0.35, refund_rate=0.003,
        order_share=0.0, dispute_rate=0.0, cash_out_days=2.0, typhoon_exposure=0.8,
    ),
    Kind(
        "market stall", "5499", share=0.18, daily_sales=6.0, ticket_median_minor=16_000,
        ticket_sigma=0.7, buyer_pool=200, repeat=0.5, margin=0.22, refund_rate=0.006,
        order_share=0.0, dispute_rate=0.0, cash_out_days=3.0, typhoon_exposure=0.9,
    ),
    Kind(
        "online seller", "5651", share=0.15, daily_sales=3.0, ticket_median_minor=45_000,
        ticket_sigma=0.6, buyer_pool=400, repeat=0.25, margin=0.30, refund_rate=0.03,
        order_share=0.75, dispute_rate=0.02, cash_out_days=7.0, typhoon_exposure=0.5,
    ),
    Kind(
        "farm supplier", "5191", share=0.07, daily_sales=2.5, ticket_median_minor=110_000,
        ticket_sigma=0.9, buyer_pool=80, repeat=0.6, margin=0.12, refund_rate=0.01,
        order_share=0.05, dispute_rate=0.01, cash_out_days=6.0, typhoon_exposure=1.0,
    ),
)  # fmt: skip

#: (province, a city in it, weight): where merchants are, roughly by population.
PROVINCES: tuple[tuple[str, str, float], ...] = (
    ("Metro Manila", "Quezon City", 14.0),
    ("Cebu", "Cebu City", 7.0),
    ("Cavite", "Bacoor", 6.0),
    ("Davao del Sur", "Davao City", 5.0),
    ("Laguna", "Calamba", 5.0),
    ("Bulacan", "Malolos", 5.0),
    ("Pampanga", "San Fernando", 4.0),
    ("Rizal", "Antipolo", 4.0),
    ("Batangas", "Batangas City", 4.0),
    ("Pangasinan", "Dagupan", 4.0),
    ("Iloilo", "Iloilo City", 3.5),
    ("Negros Occidental", "Bacolod", 3.5),
    ("Misamis Oriental", "Cagayan de Oro", 3.0),
    ("Nueva Ecija", "Cabanatuan", 3.0),
    ("Quezon", "Lucena", 3.0),
    ("Camarines Sur", "Naga", 3.0),
    ("Albay", "Legazpi", 2.5),
    ("Leyte", "Tacloban", 2.5),
    ("Isabela", "Ilagan", 2.5),
    ("Cagayan", "Tuguegarao", 2.0),
    ("Bohol", "Tagbilaran", 2.0),
    ("Zamboanga del Sur", "Pagadian", 2.0),
    ("South Cotabato", "Koronadal", 2.0),
    ("Palawan", "Puerto Princesa", 2.0),
    ("Samar", "Catbalogan", 1.5),
)


@dataclass(frozen=True)
class Params:
    """Every parameter of the simulation. Rates are per merchant unless said otherwise."""

    kinds: tuple[Kind, ...] = KINDS
    provinces: tuple[tuple[str, str, float], ...] = PROVINCES

    # --- who the merchants are -------------------------------------------------------------
    #: Share of merchants opened shortly before as-of, and how many days before (low, high).
    young_share: float = 0.15
    young_days: tuple[int, int] = (14, 60)
    #: Share of "casual" merchants who barely use the platform, and their activity factor.
    casual_share: float = 0.06
    casual_activity: float = 0.08
    #: Log-sd of a merchant's activity (payments a day relative to its kind) and of its
    #: price level (ticket median relative to its kind).
    activity_sigma: float = 0.5
    price_sigma: float = 0.3
    #: Discipline ~ Beta(a, b), 0..1: the hidden trait behind expenses, cash-out habits,
    #: days closed, savings and service quality.
    discipline_beta: tuple[float, float] = (4.0, 2.0)
    #: Day-to-day volatility of sales: log-sd ~ lognormal(median, sigma); persistence of the
    #: daily AR(1) noise.
    volatility_median: float = 0.3
    volatility_sigma: float = 0.5
    noise_persistence: float = 0.7
    #: Sales trend, log change a year ~ N(mean, sd); after as-of the trend is
    #: ``persistence × trend + N(0, surprise)``.
    trend_mean: float = 0.0
    trend_sd: float = 0.4
    trend_persistence: float = 0.6
    trend_surprise: float = 0.7
    #: A new merchant's sales ramp up with this time constant (days).
    ramp_days: float = 21.0
    #: Chance a merchant keeps its store shut on a day: base + slope × (1 - discipline).
    closed_base: float = 0.01
    closed_slope: float = 0.12
    #: Share of a merchant's buyer pool that are its regulars (see ``Kind.repeat``).
    regular_share: float = 0.2
    #: Largest ticket (centavos): below the full KYC tier's per-transaction maximum.
    ticket_max_minor: int = 4_000_000

    # --- seasonality ---------------------------------------------------------------------
    #: Extra sales on payday (15th and last day of the month), the day after, two days after.
    payday_lift: tuple[float, float, float] = (0.35, 0.2, 0.1)
    #: Sales factor by month, January to December: a January lull, a December peak.
    month_factors: tuple[float, ...] = (
        0.88, 0.94, 0.98, 1.0, 1.02, 0.98, 0.96, 0.97, 0.98, 1.0, 1.05, 1.35,
    )  # fmt: skip
    #: Sales factor by weekday, Monday to Sunday.
    weekday_factors: tuple[float, ...] = (0.95, 0.95, 0.97, 1.0, 1.06, 1.1, 0.97)

    # --- shocks --------------------------------------------------------------------------
    #: Typhoons striking (one province each) in the history and in the horizon.
    typhoons_in_history: int = 2
    typhoons_in_horizon: int = 1
    #: Days of the storm's window; the collapse on landfall (share of sales lost by the most
    #: exposed); the share of normal sales reached by the window's end; days to full recovery
    #: after it.
    typhoon_days: int = 14
    typhoon_depth: float = 0.85
    typhoon_recovery: float = 0.6
    typhoon_tail_days: int = 45

    # --- money ---------------------------------------------------------------------------
    #: The platform's merchant discount (``limits.MERCHANT_DISCOUNT_BPS``), rounded half up.
    fee_bps: int = limits.MERCHANT_DISCOUNT_BPS
    #: Mean days from a sale to its refund (after at least 10 minutes); share refunded whole.
    refund_delay_days: float = 1.5
    full_refund_share: float = 0.6
    #: Days from an online order to its dispute (low, high).
    dispute_delay_days: tuple[float, float] = (2.0, 10.0)
    #: Cash-outs are whole multiples of this (₱100 bills) and at least one of it.
    cash_out_unit_minor: int = 10_000
    #: Share of the wallet taken at a cash-out: base + slope × (1 - discipline) + N(0, sd).
    cash_out_share_base: float = 0.35
    cash_out_share_slope: float = 0.65
    cash_out_share_sd: float = 0.08

    # --- the notional loan and the default process (hidden from features) -----------------
    #: Loan offered at as-of: this many months of the last 30 days' sales, in ₱100s, at least
    #: ``loan_min_minor``; repaid weekly over ``loan_weeks`` with a flat finance charge of
    #: ``loan_charge`` of the principal (≈ 4% a month: under BSP Circular 1133's cap).
    loan_sales_months: float = 1.0
    loan_min_minor: int = 100_000
    loan_weeks: int = 12
    loan_charge: float = 0.12
    #: Living expenses as a share of the margin income the merchant was used to before
    #: as-of: base + slope × (1 - discipline) + N(0, sd).
    expense_base: float = 0.4
    expense_slope: float = 0.7
    expense_sd: float = 0.35
    #: Savings outside the platform: up to this many months of margin income, × discipline².
    savings_months: float = 1.5
    #: Chance of an emergency in the horizon, and its cost in months of margin income.
    emergency_rate: float = 0.1
    emergency_months: tuple[float, float] = (0.5, 2.0)
    #: Default: unpaid above this many installments, or an installment this many days late.
    default_shortfall_installments: float = 2.0
    default_days_past_due: int = 30

    def scaled(self, activity: float) -> Params:
        """The same world with ``activity`` times as many sales (e.g. 0.2 for a small test
        population to write through the services quickly)."""
        kinds = tuple(replace(k, daily_sales=k.daily_sales * activity) for k in self.kinds)
        return replace(self, kinds=kinds)


@dataclass(frozen=True)
class Population:
    """A simulated population: every event (before and after ``as_of_ns``) and the truth."""

    events: ev.Events
    #: One row per merchant: merchant_id, kind, province, city, mcc, opened_at_ns,
    #: defaulted (0/1), the latent traits and the loan (see ``_truth``).
    truth: pd.DataFrame
    params: Params
    as_of_ns: int
    #: Typhoons: province, start_ns, end_ns (the storm's window), before_as_of (bool).
    shocks: pd.DataFrame
    #: For each row of ``events.refunds``, the row of ``events.sales`` it gives money back
    #: for (what the database writer refunds).
    refund_sale: Ints


# --- calendar ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Calendar:
    day0_ns: int  # Manila midnight of the first day, as UTC nanoseconds
    days: int
    as_of_ns: int
    as_of_day: int  # the day holding as_of
    horizon_days: int
    end_ns: int  # as_of + horizon: nothing happens from then on
    dom: Ints  # day of month, 1..31
    month: Ints  # 1..12
    weekday: Ints  # Monday = 0
    last: Bools  # last day of its month


def _calendar(start_ns: int, as_of_ns: int, horizon_days: int) -> _Calendar:
    first = (start_ns + MANILA_OFFSET_NS) // DAY_NS
    day0 = first * DAY_NS - MANILA_OFFSET_NS
    end = as_of_ns + horizon_days * DAY_NS
    days = -(-(end - day0) // DAY_NS)
    one_day = np.timedelta64(1, "D")
    dates = np.datetime64(int(first), "D") + np.arange(days) * one_day
    months = dates.astype("datetime64[M]")
    return _Calendar(
        day0_ns=day0,
        days=days,
        as_of_ns=as_of_ns,
        as_of_day=(as_of_ns - day0) // DAY_NS,
        horizon_days=horizon_days,
        end_ns=end,
        dom=((dates - months).astype(np.int64) + 1),
        month=(months.astype(np.int64) % 12 + 1),
        weekday=((first + np.arange(days) + 3) % 7).astype(np.int64),
        last=((dates + one_day).astype("datetime64[M]") != months),
    )


def _season(params: Params, cal: _Calendar) -> Floats:
    """Sales factor of each day: month × weekday × payday."""
    lift = np.zeros(cal.days)
    on, after, two_after = params.payday_lift
    lift[(cal.dom == 15) | cal.last] = on
    lift[(cal.dom == 16) | (cal.dom == 1)] = after
    lift[(cal.dom == 17) | (cal.dom == 2)] = two_after
    month = np.asarray(params.month_factors)[cal.month - 1]
    weekday = np.asarray(params.weekday_factors)[cal.weekday]
    season: Floats = month * weekday * (1.0 + lift)
    return season


# --- merchants ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Traits:
    kind: Ints
    province: Ints
    open_day: Ints
    opened_ns: Ints
    activity: Floats
    price: Floats
    discipline: Floats
    quality: Floats
    volatility: Floats
    trend: Floats
    future_trend: Floats
    exposure: Floats
    closed_rate: Floats
    cash_out_days: Floats
    cash_out_share: Floats
    expense_share: Floats
    savings_months: Floats
    pool: Ints
    repeat: Floats

    @property
    def count(self) -> int:
        return len(self.kind)


def _kind_column(params: Params, kind: Ints, name: str) -> Floats:
    return np.asarray([getattr(k, name) for k in params.kinds], dtype=np.float64)[kind]


def _open_days(rng: np.random.Generator, params: Params, cal: _Calendar, n: int) -> Ints:
    """Young merchants opened 14-60 days before as-of; the rest any time before that."""
    low, high = params.young_days
    young = rng.random(n) < params.young_share
    young_age = rng.integers(low, high, n)
    old_age = rng.integers(min(high, cal.as_of_day), cal.as_of_day + 1, n)
    age = np.where(young, young_age, old_age)
    opened: Ints = np.clip(cal.as_of_day - age, 0, cal.as_of_day - low).astype(np.int64)
    return opened


def _traits(rng: np.random.Generator, params: Params, cal: _Calendar, n: int) -> _Traits:
    shares = np.asarray([k.share for k in params.kinds])
    kind = rng.choice(len(params.kinds), n, p=shares / shares.sum()).astype(np.int64)
    weights = np.asarray([w for _, _, w in params.provinces])
    province = rng.choice(len(weights), n, p=weights / weights.sum()).astype(np.int64)
    open_day = _open_days(rng, params, cal, n)
    opened_ns = cal.day0_ns + open_day * DAY_NS + 7 * HOUR_NS + rng.integers(0, 2 * HOUR_NS, n)
    casual = rng.random(n) < params.casual_share
    activity = rng.lognormal(0.0, params.activity_sigma, n)
    activity = np.where(casual, activity * params.casual_activity, activity)
    discipline = rng.beta(*params.discipline_beta, n)
    trend = rng.normal(params.trend_mean, params.trend_sd, n)
    return _Traits(
        kind=kind,
        province=province,
        open_day=open_day,
        opened_ns=opened_ns.astype(np.int64),
        activity=activity,
        price=rng.lognormal(0.0, params.price_sigma, n),
        discipline=discipline,
        quality=np.clip(discipline + rng.normal(0.0, 0.2, n), 0.0, 1.0),
        volatility=params.volatility_median * rng.lognormal(0.0, params.volatility_sigma, n),
        trend=trend,
        future_trend=params.trend_persistence * trend + rng.normal(0.0, params.trend_surprise, n),
        exposure=_kind_column(params, kind, "typhoon_exposure") * rng.uniform(0.5, 1.0, n),
        closed_rate=params.closed_base + params.closed_slope * (1.0 - discipline),
        cash_out_days=_kind_column(params, kind, "cash_out_days") * (0.4 + 1.2 * discipline),
        cash_out_share=np.clip(
            params.cash_out_share_base
            + params.cash_out_share_slope * (1.0 - discipline)
            + rng.normal(0.0, params.cash_out_share_sd, n),
            0.2,
            1.0,
        ),
        expense_share=params.expense_base
        + params.expense_slope * (1.0 - discipline)
        + rng.normal(0.0, params.expense_sd, n),
        savings_months=params.savings_months * discipline**2 * rng.random(n),
        pool=np.maximum(
            2, np.rint(_kind_column(params, kind, "buyer_pool") * rng.lognormal(0, 0.4, n))
        ).astype(np.int64),
        repeat=np.clip(_kind_column(params, kind, "repeat") + rng.normal(0, 0.1, n), 0.0, 1.0),
    )


# --- shocks ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Typhoon:
    province: int
    start_day: int
    before_as_of: bool


def _typhoons(rng: np.random.Generator, params: Params, cal: _Calendar) -> list[_Typhoon]:
    """Storms in the history (whole window visible before as-of) and in the horizon."""
    weights = np.asarray([w for _, _, w in params.provinces])
    chosen = rng.choice(len(weights), len(weights), replace=False, p=weights / weights.sum())
    window = params.typhoon_days
    found = []
    for i in range(params.typhoons_in_history):
        latest = cal.as_of_day - window - 1
        start = int(rng.integers(min(30, latest), latest + 1)) if latest > 0 else 0
        found.append(_Typhoon(int(chosen[i % len(chosen)]), start, True))
    horizon = cal.days - cal.as_of_day
    for i in range(params.typhoons_in_horizon):
        latest = max(1, horizon - window)
        start = cal.as_of_day + int(rng.integers(1, latest + 1))
        index = (params.typhoons_in_history + i) % len(chosen)
        found.append(_Typhoon(int(chosen[index]), start, False))
    return found


def _storm_profile(params: Params, cal: _Calendar, start_day: int) -> Floats:
    """Share of normal sales left each day for the most exposed merchant: collapse on
    landfall, partial recovery by the window's end, full recovery over the tail."""
    t = np.arange(cal.days, dtype=np.float64) - start_day
    window, tail = params.typhoon_days, max(1, params.typhoon_tail_days)
    low, back = 1.0 - params.typhoon_depth, params.typhoon_recovery
    during = low + (back - low) * t / window
    after = back + (1.0 - back) * np.minimum(1.0, (t - window) / tail)
    return np.where(t < 0, 1.0, np.where(t < window, during, after))


def _shock(params: Params, cal: _Calendar, traits: _Traits, storms: list[_Typhoon]) -> Floats:
    shock = np.ones((traits.count, cal.days))
    for storm in storms:
        hit = traits.province == storm.province
        loss = 1.0 - _storm_profile(params, cal, storm.start_day)
        shock[hit] *= 1.0 - traits.exposure[hit, None] * loss[None, :]
    return shock


# --- sales ------------------------------------------------------------------------------------
def _ar1(rng: np.random.Generator, sd: Floats, days: int, persistence: float) -> Floats:
    """Stationary AR(1) noise per merchant (rows) over days, with log-sd ``sd``."""
    innovations = rng.standard_normal((len(sd), days)) * (sd * np.sqrt(1 - persistence**2))[:, None]
    noise: Floats = np.empty_like(innovations)
    noise[:, 0] = rng.standard_normal(len(sd)) * sd
    for day in range(1, days):
        noise[:, day] = persistence * noise[:, day - 1] + innovations[:, day]
    return noise


def _intensity(
    rng: np.random.Generator,
    params: Params,
    cal: _Calendar,
    traits: _Traits,
    storms: list[_Typhoon],
) -> Floats:
    """Expected payments of each merchant (rows) on each day (columns)."""
    day = np.arange(cal.days)
    years = (day - cal.as_of_day)[None, :] / 365.0
    slope = np.where(years < 0, traits.trend[:, None], traits.future_trend[:, None])
    age = day[None, :] - traits.open_day[:, None]
    ramp = np.where(age > 0, 1.0 - np.exp(-np.maximum(age, 0) / params.ramp_days), 0.0)
    noise = _ar1(rng, traits.volatility, cal.days, params.noise_persistence)
    level = _kind_column(params, traits.kind, "daily_sales") * traits.activity
    rate = level[:, None] * _season(params, cal)[None, :]
    rate *= np.exp(slope * years + noise - traits.volatility[:, None] ** 2 / 2)
    rate *= ramp * _shock(params, cal, traits, storms)
    closed = rng.random(rate.shape) < traits.closed_rate[:, None]
    rate[closed] = 0.0
    return rate


@dataclass(frozen=True)
class _Sales:
    merchant: Ints
    at_ns: Ints
    amount: Ints
    fee: Ints
    buyer: Ints  # the buyer's number within its merchant's pool
    order: Bools
    key: Ints  # merchant, then time to the millisecond: sorts and searches sales


def _key(cal: _Calendar, merchant: Ints, at_ns: Ints) -> Ints:
    span = cal.days * DAY_NS // MS_NS + 1
    return merchant * span + (at_ns - cal.day0_ns) // MS_NS


def _half_up(values: Floats) -> Ints:
    """Whole centavos from non-negative centavo values, rounding HALF_UP."""
    return np.floor(values + 0.5).astype(np.int64)


def discount(amount_minor: Ints, bps: int) -> Ints:
    """The merchant discount on each amount, HALF_UP to the centavo, exactly as
    ``payments.fees.merchant_discount``: ``money.bps_of(amount, bps, Rounding.HALF_UP)``
    over a whole array at once (its integer form for amounts ≥ 0, which a test holds equal
    to ``bps_of`` — a simulation of millions of sales cannot call it one by one)."""
    return (amount_minor * bps + 5_000) // 10_000


def _tickets(rng: np.random.Generator, params: Params, traits: _Traits, merchant: Ints) -> Ints:
    """Prices end in 25 centavos (HALF_UP to a quarter), from 25 centavos to the maximum."""
    median = _kind_column(params, traits.kind, "ticket_median_minor") * traits.price
    sigma = _kind_column(params, traits.kind, "ticket_sigma")
    raw = median[merchant] * np.exp(sigma[merchant] * rng.standard_normal(len(merchant)))
    quarters = _half_up(raw / 25.0)
    return np.clip(quarters * 25, 25, params.ticket_max_minor).astype(np.int64)


def _sale_times(rng: np.random.Generator, cal: _Calendar, rate: Floats) -> tuple[Ints, Ints]:
    """(merchant, at_ns) of every sale, sorted: Poisson counts per merchant-day, times in
    opening hours (6:00-22:00 Manila, busiest at 14:00) to the millisecond. Sorting one int64
    key (cell, then time of day) is much faster than an argsort of the sales."""
    counts = rng.poisson(rate)
    rows, days = np.nonzero(counts)  # cells in merchant, then day order
    per_cell = counts[rows, days]
    cell = np.repeat(np.arange(len(rows), dtype=np.int64), per_cell)
    span = 16 * HOUR_NS // MS_NS
    mid_day = (rng.random(len(cell)) + rng.random(len(cell))) / 2  # triangular, peak at 14:00
    offset = (mid_day * span).astype(np.int64)
    key = np.sort(cell * span + offset)
    cell, offset = key // span, key % span
    at_ns = cal.day0_ns + days[cell] * DAY_NS + 6 * HOUR_NS + offset * MS_NS
    keep = at_ns < cal.end_ns
    return rows[cell][keep].astype(np.int64), at_ns[keep].astype(np.int64)


def _buyers(rng: np.random.Generator, params: Params, traits: _Traits, merchant: Ints) -> Ints:
    """Each sale's buyer, a number in its merchant's pool: with the merchant's ``repeat``
    chance one of its regulars (the first ``regular_share`` of the pool), else anyone."""
    pool = traits.pool[merchant]
    regulars = np.maximum(1, np.ceil(pool * params.regular_share))
    regular = rng.random(len(merchant)) < traits.repeat[merchant]
    among = np.where(regular, regulars, pool)
    buyer: Ints = np.floor(rng.random(len(merchant)) * among).astype(np.int64)
    return buyer


def _sales(
    rng: np.random.Generator, params: Params, cal: _Calendar, traits: _Traits, rate: Floats
) -> _Sales:
    merchant, at_ns = _sale_times(rng, cal, rate)
    amount = _tickets(rng, params, traits, merchant)
    buyer = _buyers(rng, params, traits, merchant)
    share = _kind_column(params, traits.kind, "order_share")[merchant]
    return _Sales(
        merchant=merchant,
        at_ns=at_ns,
        amount=amount,
        fee=discount(amount, params.fee_bps),
        buyer=buyer,
        order=rng.random(len(merchant)) < share,
        key=_key(cal, merchant, at_ns),
    )


# --- refunds, disputes, cash-outs -------------------------------------------------------------
@dataclass(frozen=True)
class _Debits:
    """Candidate refunds and cash-outs, sorted by merchant then time (refunds first on a
    tie), before the wallet pass decides which happen."""

    merchant: Ints
    at_ns: Ints
    sale: Ints  # the refunded sale's row; -1 for a cash-out
    amount: Ints  # refund: given back to the buyer; cash-out: 0 until decided
    debit: Ints  # refund: taken from the wallet (amount less the fee returned)
    key: Ints  # as ``_Sales.key``


def _refunds(
    rng: np.random.Generator, params: Params, cal: _Calendar, traits: _Traits, sales: _Sales
) -> tuple[Ints, Ints, Ints, Ints]:
    """(sale row, at_ns, amount, debit) of each refund."""
    rate = _kind_column(params, traits.kind, "refund_rate")
    chance = rate * (0.4 + 1.8 * (1.0 - traits.quality))
    picked = np.flatnonzero(rng.random(len(sales.merchant)) < chance[sales.merchant])
    delay = 600 * SECOND_NS + rng.exponential(params.refund_delay_days * DAY_NS, len(picked))
    at_ns = sales.at_ns[picked] + delay.astype(np.int64) // MS_NS * MS_NS
    paid = sales.amount[picked]
    whole = rng.random(len(picked)) < params.full_refund_share
    part = np.maximum(1, np.floor(paid * rng.uniform(0.1, 0.9, len(picked)))).astype(np.int64)
    amount = np.where(whole, paid, part)
    fee_back = sales.fee[picked] * amount // paid  # payments.fees.fee_returned, one refund
    keep = at_ns < cal.end_ns
    return picked[keep], at_ns[keep], amount[keep], (amount - fee_back)[keep]


def _disputes(
    rng: np.random.Generator, params: Params, cal: _Calendar, traits: _Traits, sales: _Sales
) -> tuple[Ints, Ints]:
    """(merchant, at_ns) of each dispute on an online order."""
    rate = _kind_column(params, traits.kind, "dispute_rate")
    chance = rate * (0.4 + 1.8 * (1.0 - traits.quality))
    picked = np.flatnonzero(sales.order & (rng.random(len(sales.order)) < chance[sales.merchant]))
    low, high = params.dispute_delay_days
    delay = (rng.uniform(low, high, len(picked)) * DAY_NS).astype(np.int64)
    at_ns = sales.at_ns[picked] + delay // MS_NS * MS_NS
    keep = at_ns < cal.end_ns
    return sales.merchant[picked][keep], at_ns[keep]


def _cash_out_times(rng: np.random.Generator, cal: _Calendar, traits: _Traits) -> tuple[Ints, Ints]:
    """(merchant, at_ns) of each cash-out a merchant means to make: at an agent's store in
    the early evening, on days drawn at the merchant's own rhythm."""
    day = np.arange(cal.days)
    open_days = day[None, :] > traits.open_day[:, None]
    wanted = rng.random((traits.count, cal.days)) < (1.0 / traits.cash_out_days)[:, None]
    rows, days = np.nonzero(open_days & wanted)
    hour = 17 * HOUR_NS + rng.integers(0, 3 * HOUR_NS // MS_NS, len(rows)) * MS_NS
    at_ns = cal.day0_ns + days * DAY_NS + hour
    keep = at_ns < cal.end_ns
    return rows[keep].astype(np.int64), at_ns[keep].astype(np.int64)


def _candidates(
    cal: _Calendar, refunds: tuple[Ints, Ints, Ints, Ints], sales: _Sales, cash: tuple[Ints, Ints]
) -> _Debits:
    sale, refund_at, amount, debit = refunds
    merchant = np.concatenate([sales.merchant[sale], cash[0]])
    at_ns = np.concatenate([refund_at, cash[1]])
    kind = np.concatenate([np.zeros(len(sale)), np.ones(len(cash[0]))])
    key = _key(cal, merchant, at_ns)
    order = np.lexsort((kind, key))
    zeros = np.zeros(len(cash[0]), dtype=np.int64)
    return _Debits(
        merchant=merchant[order],
        at_ns=at_ns[order],
        sale=np.concatenate([sale, zeros - 1])[order],
        amount=np.concatenate([amount, zeros])[order],
        debit=np.concatenate([debit, zeros])[order],
        key=key[order],
    )


# --- the wallet -------------------------------------------------------------------------------
def _income_before(cal: _Calendar, sales: _Sales, debits: _Debits) -> list[int]:
    """Each debit's merchant's net sales strictly before it (sales at the same millisecond
    are not counted, so no order of equal times can overdraw)."""
    net = np.concatenate([[0], np.cumsum(sales.amount - sales.fee)])
    here = np.searchsorted(sales.key, debits.key, side="left")
    start = np.full_like(debits.at_ns, cal.day0_ns)
    first = np.searchsorted(sales.key, _key(cal, debits.merchant, start), side="left")
    income: list[int] = (net[here] - net[first]).tolist()
    return income


def _settle(
    params: Params, cal: _Calendar, traits: _Traits, sales: _Sales, debits: _Debits
) -> Ints:
    """Walk each merchant's refunds and cash-outs in time order against its wallet: a refund
    happens if the wallet covers its debit; a cash-out takes ``cash_out_share`` of the
    wallet, DOWN to whole ₱100 bills, if that is at least one bill. Returns the amount
    debited by each candidate (0: did not happen)."""
    income = _income_before(cal, sales, debits)
    merchants = debits.merchant.tolist()
    wanted = debits.debit.tolist()
    is_cash = (debits.sale < 0).tolist()
    share = traits.cash_out_share.tolist()
    unit = params.cash_out_unit_minor
    taken = [0] * len(merchants)
    current, spent = -1, 0
    for i, merchant in enumerate(merchants):
        if merchant != current:
            current, spent = merchant, 0
        balance = income[i] - spent
        if is_cash[i]:
            amount = int(balance * share[merchant]) // unit * unit
            if amount >= unit:
                taken[i] = amount
                spent += amount
        elif wanted[i] <= balance:
            taken[i] = wanted[i]
            spent += wanted[i]
    return np.asarray(taken, dtype=np.int64)


# --- the loan and whether it is repaid ------------------------------------------------------------
@dataclass(frozen=True)
class _Outcome:
    defaulted: Bools
    loan: Ints
    installment: Ints
    base_daily: Floats  # mean sales a day over the last 30 days before as-of (centavos)
    balance: Ints  # wallet at as-of
    savings: Ints
    emergency: Ints  # its cost, 0 if none
    typhoon_after: Bools
    default_day: Ints  # days after as-of, -1 if repaid or still current


def _daily_after(cal: _Calendar, traits: _Traits, sales: _Sales, horizon: int) -> Floats:
    """Sales of each merchant on each day after as-of (rows, columns), in centavos."""
    after = (sales.at_ns >= cal.as_of_ns) & (sales.at_ns < cal.end_ns)
    day = (sales.at_ns[after] - cal.as_of_ns) // DAY_NS
    cell = sales.merchant[after] * horizon + day
    total = np.bincount(cell, weights=sales.amount[after], minlength=traits.count * horizon)
    daily: Floats = total.astype(np.float64).reshape(traits.count, horizon)
    return daily


def _recent(cal: _Calendar, traits: _Traits, sales: _Sales) -> Floats:
    """Mean daily sales over the last 30 days before as-of (or since opening)."""
    since = cal.as_of_ns - 30 * DAY_NS
    window = (sales.at_ns >= since) & (sales.at_ns < cal.as_of_ns)
    total = np.bincount(
        sales.merchant[window], weights=sales.amount[window], minlength=traits.count
    )
    days = np.clip((cal.as_of_ns - np.maximum(traits.opened_ns, since)) / DAY_NS, 1.0, 30.0)
    return total / days


def _balance_at(cal: _Calendar, traits: _Traits, postings: tuple[Ints, Ints, Ints]) -> Ints:
    merchant, at_ns, delta = postings
    before = at_ns < cal.as_of_ns
    total = np.bincount(merchant[before], weights=delta[before], minlength=traits.count)
    return np.rint(total).astype(np.int64)  # sums of int64 centavos below 2**53: exact


def _emergencies(
    rng: np.random.Generator, params: Params, monthly_margin: Floats, horizon: int
) -> tuple[Ints, Ints]:
    """(cost, day) of each merchant's emergency in the horizon; cost 0 when none."""
    n = len(monthly_margin)
    struck = rng.random(n) < params.emergency_rate
    low, high = params.emergency_months
    cost = _half_up(monthly_margin * rng.uniform(low, high, n)) * struck
    return cost.astype(np.int64), rng.integers(0, max(1, horizon), n).astype(np.int64)


def _usual(params: Params, cal: _Calendar, traits: _Traits, base: Floats) -> Floats:
    """The daily sales a merchant lives by: its recent sales, or for a young merchant still
    ramping up, what they will be once it is established (its household's needs predate
    the store)."""
    age = (cal.as_of_ns - traits.opened_ns) / DAY_NS - 15.0  # the middle of the last 30 days
    ramp = 1.0 - np.exp(-np.maximum(age, 1.0) / params.ramp_days)
    usual: Floats = base / np.maximum(ramp, 0.3)
    return usual


def _flows(
    params: Params, traits: _Traits, future: Floats, base: Floats, usual: Floats, loan: Ints
) -> tuple[Ints, Ints]:
    """(inflow each day, expense a day): margin on sales plus the loan's stock coming back
    as fast as sales run against the recent ones, and living expenses set by the usual
    income."""
    margin = _kind_column(params, traits.kind, "margin")
    pace = np.clip(future / np.maximum(base, 1.0)[:, None], 0.0, 1.5)
    stock_back = (loan / (params.loan_weeks * 7.0))[:, None] * pace
    inflow = _half_up(margin[:, None] * future + stock_back)
    expense = _half_up(np.maximum(traits.expense_share, 0.0) * margin * usual)
    return inflow, expense


def _repay(
    params: Params,
    inflow: Ints,
    expense: Ints,
    start: Ints,
    installment: Ints,
    shock: Ints,
    shock_day: Ints,
) -> Ints:
    """Day by day: cash pays what is due; returns the day each merchant defaulted, or -1."""
    n, horizon = inflow.shape
    cash, owed = start.copy(), np.zeros(n, dtype=np.int64)
    due_count = np.zeros(n, dtype=np.int64)
    defaulted = np.full(n, -1, dtype=np.int64)
    limit = params.default_shortfall_installments * installment
    for day in range(horizon):
        cash += inflow[:, day] - expense - np.where(shock_day == day, shock, 0)
        if day % 7 == 6 and day // 7 < params.loan_weeks:
            owed += installment
            due_count += 1
        paid = np.clip(np.minimum(cash, owed), 0, None)
        cash -= paid
        owed -= paid
        unpaid = -(-owed // installment)  # CEILING: installments not yet paid in full
        oldest_due = 7 * (due_count - unpaid) + 6
        late = (unpaid > 0) & (day - oldest_due > params.default_days_past_due)
        failed = (owed > limit) | late
        defaulted = np.where((defaulted < 0) & failed, day, defaulted)
    return defaulted


def _outcome(
    rng: np.random.Generator,
    params: Params,
    cal: _Calendar,
    traits: _Traits,
    sales: _Sales,
    postings: tuple[Ints, Ints, Ints],
    storms: list[_Typhoon],
) -> _Outcome:
    horizon = cal.horizon_days
    base = _recent(cal, traits, sales)
    loan = np.maximum(
        params.loan_min_minor, _half_up(params.loan_sales_months * 30 * base / 10_000) * 10_000
    )
    installment = np.ceil(loan * (1 + params.loan_charge) / params.loan_weeks).astype(np.int64)
    monthly_margin = 30 * base * _kind_column(params, traits.kind, "margin")
    balance = _balance_at(cal, traits, postings)
    savings = _half_up(traits.savings_months * monthly_margin)
    shock, shock_day = _emergencies(rng, params, monthly_margin, horizon)
    future = _daily_after(cal, traits, sales, horizon)
    inflow, expense = _flows(params, traits, future, base, _usual(params, cal, traits, base), loan)
    failed = _repay(params, inflow, expense, balance + savings, installment, shock, shock_day)
    later = [s.province for s in storms if not s.before_as_of]
    return _Outcome(
        defaulted=failed >= 0,
        loan=loan.astype(np.int64),
        installment=installment,
        base_daily=base,
        balance=balance,
        savings=savings,
        emergency=shock,
        typhoon_after=np.isin(traits.province, later),
        default_day=failed,
    )


# --- frames -------------------------------------------------------------------------------------
def _objects(values: list[str], index: Ints) -> pd.Series:
    """Strings as an object column (the ``events.SCHEMA`` dtype), shared, not copied."""
    return pd.Series(np.asarray(values, dtype=object)[index], dtype=object)


def _postings(sales: _Sales, debits: _Debits, taken: Ints) -> tuple[Ints, Ints, Ints]:
    """(merchant, at_ns, delta) of every change of the wallet, by merchant then time: the
    debits that happened merged into the sorted sales (after the sales of their
    millisecond, which is how the wallet pass counted them)."""
    happened = np.flatnonzero(taken > 0)
    spot = np.searchsorted(sales.key, debits.key[happened], side="right")
    spot += np.arange(len(happened))
    total = len(sales.key) + len(happened)
    is_sale = np.ones(total, dtype=np.bool_)
    is_sale[spot] = False
    columns = []
    for sale_values, debit_values in (
        (sales.merchant, debits.merchant[happened]),
        (sales.at_ns, debits.at_ns[happened]),
        (sales.amount - sales.fee, -taken[happened]),
    ):
        merged = np.empty(total, dtype=np.int64)
        merged[is_sale] = sale_values
        merged[spot] = debit_values
        columns.append(merged)
    return columns[0], columns[1], columns[2]


def _merchant_ids(n: int) -> list[str]:
    width = max(5, len(str(n)))
    return [f"m{i:0{width}d}" for i in range(n)]


def _buyer_ids(ids: list[str], traits: _Traits) -> tuple[list[str], Ints]:
    """Every buyer of every pool, and where each merchant's pool starts in that list."""
    start = np.concatenate([[0], np.cumsum(traits.pool)[:-1]]).astype(np.int64)
    names = [
        f"{m}-b{b:04d}"
        for m, size in zip(ids, traits.pool.tolist(), strict=True)
        for b in range(size)
    ]
    return names, start


def _events(
    params: Params,
    traits: _Traits,
    sales: _Sales,
    debits: _Debits,
    taken: Ints,
    disputes: tuple[Ints, Ints],
    postings: tuple[Ints, Ints, Ints],
) -> tuple[ev.Events, Ints]:
    ids = _merchant_ids(traits.count)
    buyers, pool_start = _buyer_ids(ids, traits)
    provinces = [p for p, _, _ in params.provinces]
    mccs = [k.mcc for k in params.kinds]
    refund = (debits.sale >= 0) & (taken > 0)
    cash = (debits.sale < 0) & (taken > 0)
    frames = {
        "merchants": pd.DataFrame(
            {
                "merchant_id": _objects(ids, np.arange(traits.count)),
                "opened_at_ns": traits.opened_ns,
                "province": _objects(provinces, traits.province),
                "mcc": _objects(mccs, traits.kind),
            }
        ),
        "sales": pd.DataFrame(
            {
                "merchant_id": _objects(ids, sales.merchant),
                "buyer_id": _objects(buyers, pool_start[sales.merchant] + sales.buyer),
                "at_ns": sales.at_ns,
                "amount_minor": sales.amount,
                "channel": _objects(["qr", "order"], sales.order.astype(np.int64)),
            }
        ),
        "refunds": pd.DataFrame(
            {
                "merchant_id": _objects(ids, debits.merchant[refund]),
                "at_ns": debits.at_ns[refund],
                "amount_minor": debits.amount[refund],
            }
        ),
        "disputes": pd.DataFrame(
            {
                "merchant_id": _objects(ids, disputes[0]),
                "at_ns": disputes[1],
            }
        ),
        "cash_outs": pd.DataFrame(
            {
                "merchant_id": _objects(ids, debits.merchant[cash]),
                "at_ns": debits.at_ns[cash],
                "amount_minor": taken[cash],
            }
        ),
        "postings": pd.DataFrame(
            {
                "merchant_id": _objects(ids, postings[0]),
                "at_ns": postings[1],
                "delta_minor": postings[2],
            }
        ),
    }
    return ev.build(**frames), debits.sale[refund]


def _truth(params: Params, traits: _Traits, outcome: _Outcome) -> pd.DataFrame:
    ids = _merchant_ids(traits.count)
    return pd.DataFrame(
        {
            "merchant_id": _objects(ids, np.arange(traits.count)),
            "kind": _objects([k.name for k in params.kinds], traits.kind),
            "mcc": _objects([k.mcc for k in params.kinds], traits.kind),
            "province": _objects([p for p, _, _ in params.provinces], traits.province),
            "city": _objects([c for _, c, _ in params.provinces], traits.province),
            "opened_at_ns": traits.opened_ns,
            "defaulted": outcome.defaulted.astype(np.int64),
            "default_day": outcome.default_day,
            "discipline": traits.discipline,
            "quality": traits.quality,
            "volatility": traits.volatility,
            "trend": traits.trend,
            "future_trend": traits.future_trend,
            "activity": traits.activity,
            "typhoon_exposure": traits.exposure,
            "expense_share": traits.expense_share,
            "typhoon_after": outcome.typhoon_after.astype(np.int64),
            "emergency_minor": outcome.emergency,
            "savings_minor": outcome.savings,
            "balance_minor": outcome.balance,
            "loan_minor": outcome.loan,
            "installment_minor": outcome.installment,
        }
    )


def _shocks_frame(params: Params, cal: _Calendar, storms: list[_Typhoon]) -> pd.DataFrame:
    names = [params.provinces[s.province][0] for s in storms]
    start = [cal.day0_ns + s.start_day * DAY_NS for s in storms]
    return pd.DataFrame(
        {
            "province": pd.Series(names, dtype=object),
            "start_ns": pd.Series(start, dtype=np.int64),
            "end_ns": pd.Series([s + params.typhoon_days * DAY_NS for s in start], dtype=np.int64),
            "before_as_of": pd.Series([s.before_as_of for s in storms], dtype=bool),
        }
    )


# --- the entry point ------------------------------------------------------------------------------
def check(merchants: int, start_ns: int, as_of_ns: int, horizon_days: int) -> None:
    """Refuse a call the simulator cannot honour, with one clear sentence."""
    if not 1 <= merchants <= MAX_MERCHANTS:
        raise ValueError(f"merchants must be 1 to {MAX_MERCHANTS}, not {merchants}")
    history = (as_of_ns - start_ns) / DAY_NS
    if not MIN_HISTORY_DAYS <= history <= MAX_HISTORY_DAYS:
        raise ValueError(
            f"the history must be {MIN_HISTORY_DAYS} to {MAX_HISTORY_DAYS} days, not {history:.1f}"
        )
    if not 0 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ValueError(f"horizon_days must be 0 to {MAX_HORIZON_DAYS}, not {horizon_days}")


def simulate(
    params: Params, *, merchants: int, start_ns: int, as_of_ns: int, horizon_days: int, seed: int
) -> Population:
    """A population of ``merchants``, each from its own opening day (between ``start_ns``
    and shortly before ``as_of_ns``) to ``as_of_ns + horizon_days``; the same seed gives the
    same population."""
    check(merchants, start_ns, as_of_ns, horizon_days)
    rng = np.random.default_rng(seed)
    cal = _calendar(start_ns, as_of_ns, horizon_days)
    traits = _traits(rng, params, cal, merchants)
    storms = _typhoons(rng, params, cal)
    sales = _sales(rng, params, cal, traits, _intensity(rng, params, cal, traits, storms))
    refunds = _refunds(rng, params, cal, traits, sales)
    disputes = _disputes(rng, params, cal, traits, sales)
    debits = _candidates(cal, refunds, sales, _cash_out_times(rng, cal, traits))
    taken = _settle(params, cal, traits, sales, debits)
    postings = _postings(sales, debits, taken)
    outcome = _outcome(rng, params, cal, traits, sales, postings, storms)
    events, refund_sale = _events(params, traits, sales, debits, taken, disputes, postings)
    return Population(
        events=events,
        truth=_truth(params, traits, outcome),
        params=params,
        as_of_ns=as_of_ns,
        shocks=_shocks_frame(params, cal, storms),
        refund_sale=refund_sale,
    )


def recent(
    merchants: int,
    *,
    as_of_ns: int,
    history_days: int,
    seed: int,
    activity: float = 1.0,
    horizon_days: int = 90,
) -> Population:
    """``merchants`` with up to ``history_days`` of history before ``as_of_ns``, in the
    default world (at ``activity`` times its sales): what the demo, the platform's first
    model and the benchmark ask for."""
    return simulate(
        Params().scaled(activity),
        merchants=merchants,
        start_ns=as_of_ns - history_days * DAY_NS,
        as_of_ns=as_of_ns,
        horizon_days=horizon_days,
        seed=seed,
    )


def labelled(population: Population) -> pd.DataFrame:
    """Training rows: each scorable merchant's features strictly from before as-of
    (``credit.features``), with ``defaulted`` from after it (the hidden truth)."""
    frame = features.compute(population.events, population.as_of_ns)
    frame = frame[features.scorable(frame)]
    outcome = population.truth.set_index("merchant_id")["defaulted"]
    return frame.assign(defaulted=outcome.loc[frame["merchant_id"]].to_numpy(dtype=np.int8))
