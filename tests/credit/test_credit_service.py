"""Credit assessments from the database: history read through the real services' rows, no
later data, balances that match the ledger, decisions stored with their reasons."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.api.conftest import TEST_DATA_KEY
from tindahan.credit import features as F
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.credit import assessments as credit
from tindahan.services.payments import cash, payments, refunds
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import chart, parties
from tindahan.services.unit import Platform
from tindahan.store.credit_tables import credit_assessments
from tindahan.store.payment_tables import wallets
from tindahan.store.tables import accounts
from tindahan.store.vault import Vault

OPERATOR = Caller("test", None, frozenset(DEFAULT_SCOPES))
DAY = 86_400
MERCHANT = {"kind": "merchant", "mcc": "5411", "city": "Tacloban", "province": "Leyte"}


@pytest.fixture
def platform(db) -> Platform:
    import base64

    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _party(platform: Platform, **fields) -> str:
    new = parties.NewParty(**fields)
    return platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]


def _wallet(platform: Platform, party_id: str, kind: str = "main") -> str:
    query = select(wallets.c.id).where(wallets.c.party_id == party_id, wallets.c.kind == kind)
    return platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False)


class Shop:
    """A merchant with 75 days of sales through the payments service, a refund and a
    cash-out at an agent; ``times`` marks when things happened."""

    def __init__(self, platform: Platform, clock, days: int = 75) -> None:
        self.platform, self.clock = platform, clock
        self.merchant = _party(
            platform,
            kind="merchant",
            name="Aling Nena",
            mcc="5411",
            city="Cebu City",
            province="Cebu",
        )
        self.buyers = [
            _party(platform, kind="customer", name=f"Buyer {i}", tier="full", id_number=f"ID-{i}")
            for i in range(3)
        ]
        agent = _party(platform, kind="agent", name="Ben")
        for party, kind in [*((b, "main") for b in self.buyers), (agent, "float")]:
            wallet = _wallet(platform, party, kind)
            platform.run(lambda u, w=wallet: cash.fund(u, OPERATOR, w, 4_000_000, "PHP", None))
        self.payments: list[PaymentView] = []
        for day in range(days):
            for k, buyer in enumerate(self.buyers[: 1 + day % 3]):
                clock.advance(DAY // 4)
                amount = 1_000 + 100 * day + k
                new = payments.NewPayment(self.merchant, amount, "PHP", payer_id=buyer)
                self.payments.append(platform.run(lambda u, n=new: payments.pay(u, OPERATOR, n)))
            clock.advance(DAY - DAY // 4 * (1 + day % 3))
            if day == 60:
                self.mid = clock()
                first = self.payments[0]["id"]
                platform.run(lambda u, p=first: refunds.create(u, OPERATOR, p, 500, "damaged"))
                main = _wallet(platform, self.merchant)
                platform.run(lambda u, w=main: cash.fund(u, OPERATOR, w, 30_000, "PHP", None))
                out = platform.run(
                    lambda u, a=agent: cash.cash_out(u, OPERATOR, a, 20_000, "PHP", self.merchant)
                )
                platform.run(lambda u, o=out["id"]: cash.confirm(u, OPERATOR, o))


def _balances(platform: Platform, party_id: str) -> int:
    query = (
        select(func.sum(accounts.c.credits_posted - accounts.c.debits_posted))
        .select_from(wallets.join(accounts, accounts.c.id == wallets.c.account_id))
        .where(wallets.c.party_id == party_id)
    )
    return int(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_history_from_the_database_matches_the_services(platform, clock):
    shop = Shop(platform, clock)
    now = clock()
    loaded = platform.run(
        lambda u: credit.load_events(u.conn, [shop.merchant], now + 1), write=False
    )
    assert len(loaded.sales) == len(shop.payments)
    assert loaded.sales["amount_minor"].sum() == sum(p["amount_minor"] for p in shop.payments)
    assert set(loaded.sales["buyer_id"]) == set(shop.buyers)
    assert list(loaded.refunds["amount_minor"]) == [500]
    assert list(loaded.cash_outs["amount_minor"]) == [20_000]
    # Every posted change to the merchant's wallets: their sum is the ledger's balance.
    assert loaded.postings["delta_minor"].sum() == _balances(platform, shop.merchant)


def test_no_leakage_from_the_database(platform, clock):
    shop = Shop(platform, clock)
    cut = shop.mid
    early = platform.run(lambda u: credit.load_events(u.conn, [shop.merchant], cut), write=False)
    everything = platform.run(
        lambda u: credit.load_events(u.conn, [shop.merchant], clock() + 1), write=False
    )
    for name in ("sales", "refunds", "cash_outs", "postings"):
        assert (getattr(early, name)["at_ns"] < cut).all()
    assert len(early.sales) < len(everything.sales)
    # Features as of the cut are the same whether the later rows were loaded or not.
    pd.testing.assert_frame_equal(F.compute(early, cut), F.compute(everything, cut))


def test_assessment_is_scored_with_reasons_and_stored(platform, clock, merchant_model):
    shop = Shop(platform, clock)
    result = platform.run(lambda u: credit.assess(u, OPERATOR, shop.merchant, merchant_model))
    assert result["decision"] == "scored"
    probability = float(result["probability_of_default"])
    assert 0 < probability < 1
    assert len(result["probability_of_default"].split(".")[1]) == 6
    assert result["model_version"] == merchant_model.metadata["version"]
    assert 300 < result["score"] < 900
    for reason in result["reasons"]:
        assert reason["points_lost"] >= 1 and reason["text"]
    assert result["features"]["tenure_days"] == 75
    stored = platform.run(lambda u: credit.get(u, OPERATOR, result["id"]), write=False)
    assert stored == result


def test_new_merchant_gets_insufficient_history_not_a_score(platform, merchant_model):
    merchant = _party(platform, **MERCHANT, name="Bago")
    result = platform.run(lambda u: credit.assess(u, OPERATOR, merchant, merchant_model))
    assert result["decision"] == "insufficient_history"
    assert result["score"] is None and result["probability_of_default"] is None
    texts = [r["text"] for r in result["reasons"]]
    assert texts[0].startswith("on Tindahan for 0 days")
    assert "0 sales in the last 90 days" in texts[1]


def test_refusals_write_nothing(platform, merchant_model):
    merchant = _party(platform, **MERCHANT, name="Mine")
    other = _party(platform, **MERCHANT, name="Theirs")
    customer = _party(platform, kind="customer", name="Juan")
    own = Caller("k", merchant, frozenset(DEFAULT_SCOPES))
    cases = [
        (own, other, "resource_missing"),  # another merchant's id: not found
        (OPERATOR, customer, "resource_missing"),  # not a merchant
        (OPERATOR, "pty_nope", "resource_missing"),
        (OPERATOR, None, "parameter_missing"),
        (Caller("k", merchant, frozenset({"payments:read"})), None, "scope_missing"),
    ]
    for caller, target, code in cases:
        with pytest.raises(RefusalError) as refused:
            platform.run(lambda u, c=caller, t=target: credit.assess(u, c, t, merchant_model))
        assert refused.value.code == code, refused.value.code
    count = platform.run(
        lambda u: u.conn.execute(select(func.count()).select_from(credit_assessments)).scalar_one()
    )
    assert count == 0
    # The merchant's own key, without naming itself, works.
    mine = platform.run(lambda u: credit.assess(u, own, None, merchant_model))
    assert mine["merchant_id"] == merchant


def test_no_model_installed_is_a_clear_refusal(platform, tmp_path, monkeypatch):
    merchant = _party(platform, **MERCHANT, name="Mine")
    monkeypatch.setenv(credit.MODEL_ENV, str(tmp_path / "none"))
    with pytest.raises(RefusalError) as refused:
        platform.run(lambda u: credit.assess(u, OPERATOR, merchant))
    assert refused.value.code == "credit_model_unavailable"
    assert "tindahan credit train" in refused.value.message


def test_stored_features_are_what_the_model_read(platform, clock, merchant_model):
    shop = Shop(platform, clock, days=70)
    result = platform.run(lambda u: credit.assess(u, OPERATOR, shop.merchant, merchant_model))
    row = platform.run(
        lambda u: (
            u.conn.execute(
                select(credit_assessments).where(credit_assessments.c.id == result["id"])
            )
            .mappings()
            .one()
        ),
        write=False,
    )
    stored = json.loads(row["features"])
    assert set(stored) == {"tenure_days", "sales_count_90d", *F.FEATURES}
    assert stored["loan_on_time_share"] is None  # no loans yet: missing, not zero


def test_platform_features_and_drift_over_every_merchant(platform, clock, merchant_model):
    from tindahan.credit import drift, model

    shop = Shop(platform, clock, days=70)
    _party(platform, **MERCHANT, name="Too new")  # not scorable: left out
    now = clock() + 1
    frame = platform.run(lambda u: credit.platform_features(u.conn, now), write=False)
    assert list(frame["merchant_id"]) == [shop.merchant]
    rows = F.as_table(frame).features
    points = model.to_points(merchant_model.scorer.probability(rows))
    report = drift.report(merchant_model.baseline, rows, points)
    assert report["n"] == 1
    assert "PSI needs about 100" in report["note"]
    assert set(report["features"]) == set(F.FEATURES)
