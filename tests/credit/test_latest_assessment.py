"""``credit.latest``: the merchant's newest assessment as the loans page shows it — the
newest by time then id (the one ``loan_offers`` lends on), None before the first, a
merchant's own only (another's id is not found), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import insert

from tests.api.conftest import TEST_DATA_KEY
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.credit import assessments as credit
from tindahan.services.platform import chart, parties
from tindahan.services.unit import Platform
from tindahan.store.credit_tables import credit_assessments
from tindahan.store.vault import Vault

OPERATOR = Caller("test", None, frozenset(DEFAULT_SCOPES))
MERCHANT = {"kind": "merchant", "mcc": "5411", "city": "Tacloban", "province": "Leyte"}


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _party(platform: Platform, **fields) -> str:
    new = parties.NewParty(**fields)
    return platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]


def _stored(platform: Platform, merchant_id: str, assessment_id: str, at_ns: int) -> None:
    """An assessment row as ``credit.assess`` writes it, at a chosen time."""
    row = {
        "id": assessment_id,
        "merchant_id": merchant_id,
        "decision": "scored",
        "model_version": "test",
        "probability": "0.05",
        "score": 640,
        "reasons": json.dumps([{"code": "avg_ticket", "points_lost": 3.0, "text": "t"}]),
        "features": json.dumps({"avg_ticket": 12_345.0}),
        "as_of_ns": at_ns,
        "created_at_ns": at_ns,
    }
    platform.run(lambda u: u.conn.execute(insert(credit_assessments), row))


def _latest(platform: Platform, caller: Caller, merchant_id: str | None = None):
    return platform.run(lambda u: credit.latest(u, caller, merchant_id), write=False)


def test_none_before_the_first_then_the_newest_by_time_then_id(platform):
    merchant = _party(platform, **MERCHANT, name="Mine")
    own = Caller("k", merchant, frozenset(DEFAULT_SCOPES))
    assert _latest(platform, own) is None
    _stored(platform, merchant, "cra_b", 2_000)
    _stored(platform, merchant, "cra_c", 1_000)  # a higher id, but older
    assert _latest(platform, own)["id"] == "cra_b"
    _stored(platform, merchant, "cra_a", 2_000)  # the same time, a lower id
    found = _latest(platform, own)
    assert found["id"] == "cra_b"
    assert found["object"] == "credit_assessment"
    assert found["reasons"][0]["code"] == "avg_ticket"
    assert found["features"] == {"avg_ticket": 12_345.0}
    assert _latest(platform, own, merchant)["id"] == "cra_b"
    assert _latest(platform, OPERATOR, merchant)["id"] == "cra_b"


def test_only_the_merchants_own(platform):
    merchant = _party(platform, **MERCHANT, name="Mine")
    other = _party(platform, **MERCHANT, name="Theirs")
    customer = _party(platform, kind="customer", name="Juan")
    _stored(platform, other, "cra_theirs", 1_000)
    own = Caller("k", merchant, frozenset(DEFAULT_SCOPES))
    assert _latest(platform, own) is None  # theirs is never mine
    cases = [
        (own, other, "resource_missing"),
        (OPERATOR, customer, "resource_missing"),
        (OPERATOR, "pty_nope", "resource_missing"),
        (OPERATOR, None, "parameter_missing"),
        (Caller("k", merchant, frozenset({"payments:read"})), None, "scope_missing"),
    ]
    for caller, target, code in cases:
        with pytest.raises(RefusalError) as refused:
            _latest(platform, caller, target)
        assert refused.value.code == code, (caller, target)
    assert _latest(platform, OPERATOR, other)["id"] == "cra_theirs"
