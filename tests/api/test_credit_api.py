"""``POST /v1/credit/assessments`` through HTTP: a merchant scores itself, the operator scores
any merchant, nobody else's merchant is reachable, bad requests change nothing, and a
merchant with months of sales gets a score with reasons in words."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.api.conftest import make_party
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.credit import assessments as credit
from tindahan.services.payments import payments
from tindahan.store.credit_tables import credit_assessments

OPERATOR = Caller("test", None, frozenset(DEFAULT_SCOPES))
PATH = "/v1/credit/assessments"


@pytest.fixture
def model_env(monkeypatch, merchant_model):
    monkeypatch.setenv(credit.MODEL_ENV, str(merchant_model.folder))
    return merchant_model


def _count(platform) -> int:
    query = select(func.count()).select_from(credit_assessments)
    return platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False)


def test_a_new_merchant_is_told_why_it_cannot_be_scored_yet(world, model_env):
    made = world.api.ok(world.api.post(PATH, world.merchant.key, {}))
    assert made["object"] == "credit_assessment"
    assert made["merchant_id"] == world.merchant.id
    assert made["decision"] == "insufficient_history"
    assert made["score"] is None and made["probability_of_default"] is None
    assert "needs 60 days of sales history" in made["reasons"][0]["text"]
    again = world.api.ok(world.api.get(f"{PATH}/{made['id']}", world.merchant.key))
    assert again == made


def test_months_of_sales_give_a_score_with_reasons(world, platform, clock, model_env):
    """Four months of daily sales through the payments service, then an assessment."""
    buyers = [world.buyer, world.other_buyer]
    for day in range(120):
        buyer = buyers[day % 2]
        amount = 1_500 + 40 * (day % 9)
        new = payments.NewPayment(world.merchant.id, amount, "PHP", payer_id=buyer.id)
        platform.run(lambda u, n=new: payments.pay(u, OPERATOR, n))
        clock.advance(86_400)
    made = world.api.ok(world.api.post(PATH, world.operator, {"merchant_id": world.merchant.id}))
    assert made["decision"] == "scored"
    assert made["model_version"] == model_env.metadata["version"]
    assert 0 < float(made["probability_of_default"]) < 1
    assert isinstance(made["score"], int)
    assert made["reasons"], made
    for reason in made["reasons"]:
        assert reason["points_lost"] >= 1 and len(reason["text"]) > 10
    assert made["features"]["distinct_buyers_90d"] == 2
    # The merchant can read its own assessment; another merchant cannot.
    assert world.api.get(f"{PATH}/{made['id']}", world.merchant.key).status_code == 200


def test_idempotent_replay_scores_once(world, platform, model_env):
    first = world.api.post(PATH, world.merchant.key, {}, idem="score-me")
    second = world.api.post(PATH, world.merchant.key, {}, idem="score-me")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert _count(platform) == 1


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("buyer", {"merchant_id": "MERCHANT"}, 404, "resource_missing"),
        ("other", {"merchant_id": "MERCHANT"}, 404, "resource_missing"),
        ("operator", {}, 400, "parameter_missing"),
        ("operator", {"merchant_id": "BUYER"}, 404, "resource_missing"),
        ("operator", {"merchant_id": "mer_nosuchmerchant"}, 404, "resource_missing"),
        ("operator", {"merchant_id": "bad id!"}, 400, None),
        ("operator", {"merchant_id": 12}, 400, None),
        ("operator", {"merchant_id": "MERCHANT", "extra": 1}, 400, None),
        (None, {}, 401, None),
    ],
)
# Which merchant a key reaches is decided in Python before any query: one database shows it
# (the scored path, tenancy and replays run on both).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_refusals_change_nothing(world, platform, model_env, who, body, status, code):
    keys = {"buyer": world.buyer.key, "operator": world.operator, None: None}
    if who == "other":
        other = make_party(
            world.api,
            world.operator,
            {"kind": "merchant", "name": "Iba", "mcc": "5411", "city": "Pasig", "province": "NCR"},
        )
        keys["other"] = other.key
    ids = {"MERCHANT": world.merchant.id, "BUYER": world.buyer.id}
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = world.api.post(PATH, keys[who], payload)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"]["code"] == code
    assert _count(platform) == 0


def test_no_model_is_a_conflict_with_the_fix(world, platform, monkeypatch, tmp_path):
    monkeypatch.setenv(credit.MODEL_ENV, str(tmp_path / "missing"))
    response = world.api.post(PATH, world.merchant.key, {})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "credit_model_unavailable"
    assert "tindahan credit train" in error["message"]
    assert _count(platform) == 0


def test_another_merchants_assessment_is_not_found(world, model_env):
    made = world.api.ok(world.api.post(PATH, world.merchant.key, {}))
    other = make_party(
        world.api,
        world.operator,
        {"kind": "merchant", "name": "Iba", "mcc": "5411", "city": "Pasig", "province": "NCR"},
    )
    assert world.api.get(f"{PATH}/{made['id']}", other.key).status_code == 404
    assert world.api.get(f"{PATH}/{made['id']}", world.buyer.key).status_code == 404
    assert world.api.get(f"{PATH}/{made['id']}", world.operator).status_code == 200
