"""Group commit (``services.platform.groupcommit``): a group decides every request exactly as
the same requests run one at a time would, on SQLite and PostgreSQL.

Each example makes its own buyers and merchants twice, runs the drawn requests once through
the committer's groups (split where the example says) and once one by one through
``idempotency.run``, and compares every answer and every wallet's balance.
"""

from __future__ import annotations

import base64
import itertools
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError

from tests.api.conftest import TEST_DATA_KEY
from tests.profiles import examples
from tindahan import limits
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.observe.metrics import metrics
from tindahan.services.ledger import verify
from tindahan.services.payments import cash, payments, wallets
from tindahan.services.platform import chart, groupcommit, idempotency, parties
from tindahan.services.unit import Platform, Unit
from tindahan.store.vault import Vault

ALL = frozenset(SCOPES)
OPERATOR = Caller("op", None, ALL)
BUYERS, MERCHANTS = 3, 2
FUNDED = 60_000  # ₱600 a buyer: a few of the drawn payments run a wallet dry
_run = itertools.count()


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _party(platform: Platform, kind: str, name: str) -> str:
    if kind == "customer":
        new = parties.NewParty(kind=kind, name=name, tier="full")
    else:
        new = parties.NewParty(kind=kind, name=name, mcc="5411", city="Marikina", province="NCR")
    party_id: str = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    return party_id


def _wallet_ids(platform: Platform, party_id: str) -> dict[str, str]:
    found = platform.run(
        lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party_id=party_id), write=False
    )
    return {w["kind"]: w["id"] for w in found["data"]}


def _cast(platform: Platform) -> tuple[list[str], list[str]]:
    n = next(_run)
    buyers = [_party(platform, "customer", f"buyer {n}.{i}") for i in range(BUYERS)]
    merchants = [_party(platform, "merchant", f"store {n}.{i}") for i in range(MERCHANTS)]
    for buyer in buyers:
        wallet_id = _wallet_ids(platform, buyer)["main"]
        platform.run(partial(_fund, wallet_id=wallet_id))
    return buyers, merchants


def _fund(unit: Unit, wallet_id: str) -> Any:
    return cash.fund(unit, OPERATOR, wallet_id, FUNDED, "PHP", "test")


# A request: (payer index, payee: ("m", i) a merchant, ("b", i) a buyer, ("x", 0) nobody),
# amount, key slot (two requests drawing one slot share an Idempotency-Key).
requests_ = st.lists(
    st.tuples(
        st.integers(0, BUYERS - 1),
        st.one_of(
            st.tuples(st.just("m"), st.integers(0, MERCHANTS - 1)),
            st.tuples(st.just("b"), st.integers(0, BUYERS - 1)),
            st.just(("x", 0)),
        ),
        st.sampled_from([100, 2_500, 10_000, 25_000, 45_000]),
        st.integers(0, 40),
    ),
    min_size=1,
    max_size=14,
)


def _render(result: Any) -> idempotency.Response:
    return idempotency.Response(200, dict(result))


def _render_refusal(refusal: RefusalError) -> idempotency.Response:
    return idempotency.Response(400, {"error": {"code": refusal.code, "param": refusal.param}})


def _request(
    drawn: tuple[int, tuple[str, int], int, int], buyers: list[str], merchants: list[str]
) -> tuple[str, str, str, Any]:
    payer, (kind, index), amount_minor, slot = drawn
    payee = merchants[index] if kind == "m" else buyers[index] if kind == "b" else "party_x"
    caller = Caller(f"key-{payer}", buyers[payer], ALL)
    new = payments.NewPayment(payee_id=payee, amount_minor=amount_minor, currency="PHP")
    fingerprint = idempotency.request_hash("POST", "/v1/payments", [kind, index, amount_minor])
    return caller.scope, f"k{slot}", fingerprint, lambda u: payments.pay(u, caller, new)


def _locks(
    drawn: tuple[int, tuple[str, int], int, int], buyers: list[str], merchants: list[str]
) -> groupcommit.Locks:
    """What the request declares (its payer's and payee's wallets): on PostgreSQL its group
    locks them first and sums the members' changes to them into one update."""
    payer, (kind, index), _, _ = drawn
    payee = merchants[index] if kind == "m" else buyers[index] if kind == "b" else "party_x"
    return groupcommit.Locks((buyers[payer], payee))


def _answer(outcome: idempotency.Response | BaseException) -> Any:
    """What must agree: the status and the error, or the payment's own figures."""
    if isinstance(outcome, RefusalError):
        return ("raised", outcome.code)
    assert isinstance(outcome, idempotency.Response), outcome
    body = outcome.body
    if "error" in body:
        return (outcome.status_code, body["error"]["code"], outcome.replayed)
    figures = (body["kind"], body["amount_minor"], body["fee_minor"], body["status"])
    return (outcome.status_code, figures, outcome.replayed)


def _balances(platform: Platform, party_ids: list[str]) -> list[tuple[str, int]]:
    """Each party's wallets' balances and how many payments it has (a refused one leaves
    no row: a savepoint not rolled back would)."""
    return [
        found
        for party_id in party_ids
        for found in platform.run(partial(_owned, party_id=party_id), write=False)
    ]


def _owned(unit: Unit, party_id: str) -> list[tuple[str, int]]:
    listed = wallets.list_wallets(unit, OPERATOR, 10, None, party_id=party_id)
    paid = payments.list_payments(unit, OPERATOR, 100, None, party_id=party_id)
    found = sorted((w["kind"], int(w["balance_minor"])) for w in listed["data"])
    return [*found, ("payments", len(paid["data"]))]


@settings(
    max_examples=examples(8),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=requests_, cuts=st.lists(st.integers(1, 14), max_size=4))
def test_groups_answer_as_one_at_a_time(platform, drawn, cuts):
    grouped_cast, alone_cast = _cast(platform), _cast(platform)

    committer = groupcommit.Committer(platform, 0, limits.GROUP_COMMIT_MAX)
    made = [
        groupcommit.Request(
            *_request(d, *grouped_cast), _render, _render_refusal, _locks(d, *grouped_cast)
        )
        for d in drawn
    ]
    bounds = sorted({0, len(made), *(c for c in cuts if c < len(made))})
    for start, end in itertools.pairwise(bounds):
        committer.run_group(made[start:end])
    grouped = [_answer(r.future.exception() or r.future.result()) for r in made]

    alone = []
    for d in drawn:
        scope, key, fingerprint, work = _request(d, *alone_cast)
        try:
            alone.append(
                _answer(
                    idempotency.run(
                        platform, scope, key, fingerprint, work, _render, _render_refusal
                    )
                )
            )
        except RefusalError as refusal:
            alone.append(_answer(refusal))

    assert grouped == alone
    assert committer.split == 0
    assert _balances(platform, [*grouped_cast[0], *grouped_cast[1]]) == _balances(
        platform, [*alone_cast[0], *alone_cast[1]]
    )


def _grouped(outcome: str) -> float:
    """Payments counted so far in the ``tindahan_group_commit_size`` histogram's sum."""
    for family in metrics().group_commits.collect():
        for sample in family.samples:
            if sample.name.endswith("_sum") and sample.labels.get("outcome") == outcome:
                return float(sample.value)
    return 0.0


def test_a_refused_member_leaves_its_group_mates_committed(platform):
    (buyer, other, _), (merchant, _) = _cast(platform)
    counted = _grouped("together")
    committer = groupcommit.Committer(platform, 0, 8)
    drawn = [(0, ("m", 0), 10_000, 1), (0, ("m", 0), 70_000, 2), (1, ("m", 0), 5_000, 3)]
    cast = ([buyer, other, _], [merchant, merchant])
    made = [groupcommit.Request(*_request(d, *cast), _render, _render_refusal) for d in drawn]
    committer.run_group(made)
    answers = [_answer(r.future.result()) for r in made]
    assert answers[0][0] == 200 and answers[2][0] == 200
    assert answers[1] == (400, "insufficient_funds", False)
    assert _balances(platform, [buyer, other]) == [
        ("main", FUNDED - 10_000),
        ("payments", 2),
        ("main", FUNDED - 5_000),
        ("payments", 2),
    ]
    assert committer.groups == 1 and committer.members == 3
    assert _grouped("together") - counted == 3  # the metric's batch size (issue 23, item 4)
    assert verify.verify(platform.db).ok


def test_a_group_that_fails_whole_is_decided_one_by_one(platform, monkeypatch):
    """The group's transaction fails (as a lost connection would): each member is run alone,
    once; none is lost and none moves money twice."""
    (buyer, other, _), (merchant, _) = _cast(platform)
    cast = ([buyer, other, buyer], [merchant, merchant])
    committer = groupcommit.Committer(platform, 0, 8)
    real = committer._together

    def broken(conn, group, later):
        real(conn, group, later)
        raise DBAPIError("COMMIT", None, OSError("server closed the connection"))

    monkeypatch.setattr(committer, "_together", broken)
    counted = _grouped("split")
    drawn = [(0, ("m", 0), 10_000, 1), (1, ("m", 0), 90_000, 2), (1, ("m", 0), 5_000, 3)]
    made = [groupcommit.Request(*_request(d, *cast), _render, _render_refusal) for d in drawn]
    committer.run_group(made)
    answers = [_answer(r.future.result()) for r in made]
    assert [a[0] for a in answers] == [200, 400, 200]
    assert committer.split == 1 and committer.groups == 0
    assert _grouped("split") - counted == 3
    assert _balances(platform, [buyer, other]) == [
        ("main", FUNDED - 10_000),
        ("payments", 2),
        ("main", FUNDED - 5_000),
        ("payments", 2),
    ]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({groupcommit.ENV: "maybe"}, "TINDAHAN_GROUP_COMMIT is 'on', 'off' or 'auto'"),
        ({groupcommit.WINDOW_ENV: "soon"}, "TINDAHAN_GROUP_COMMIT_WINDOW_US must be a whole"),
        ({groupcommit.WINDOW_ENV: "-1"}, "TINDAHAN_GROUP_COMMIT_WINDOW_US is 0 to"),
        ({groupcommit.WINDOW_ENV: "1.5"}, "TINDAHAN_GROUP_COMMIT_WINDOW_US must be a whole"),
        ({groupcommit.MAX_ENV: "0"}, "TINDAHAN_GROUP_COMMIT_MAX is 1 to"),
        ({groupcommit.MAX_ENV: "2.5"}, "TINDAHAN_GROUP_COMMIT_MAX must be a whole number"),
    ],
)
def test_bad_settings_are_named(environ, message):
    with pytest.raises(groupcommit.GroupCommitSettingError, match=message):
        groupcommit.settings(environ)


def test_settings_default_off_and_read_on():
    assert groupcommit.settings({}) == groupcommit.Settings(False)
    assert groupcommit.settings({}, default="on").enabled
    assert groupcommit.settings({}, default="auto", sqlite=True).enabled
    assert not groupcommit.settings({}, default="auto", sqlite=False).enabled
    assert not groupcommit.settings({groupcommit.ENV: "off"}, default="auto", sqlite=True).enabled
    found = groupcommit.settings(
        {groupcommit.ENV: "ON", groupcommit.WINDOW_ENV: "2500", groupcommit.MAX_ENV: "16"}
    )
    assert found == groupcommit.Settings(True, 2500, 16)
