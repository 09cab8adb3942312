"""Group commit (``services.platform.groupcommit``): a group decides every request exactly as
the same requests run one at a time would, on SQLite and PostgreSQL.

Each example makes its cast twice (buyers, merchants, an agent, two merchant payments to
refund, and orders: one open, one cancelled), runs the drawn requests — payments,
refunds (full, partial, some over what is left), cash-outs (some over the balance) and
order payments (some on an order already paid or cancelled) — once through the committer's
groups (split where the example says, each declaring what it locks as its API route does)
and once one by one through ``idempotency.run``, and compares every answer, every wallet's
balance and available amount, every payment's and order's state.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from tests.api.conftest import TEST_DATA_KEY
from tests.profiles import examples
from tindahan import limits
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.observe.metrics import metrics
from tindahan.services.commerce import catalog, escrow, orders
from tindahan.services.ledger import verify
from tindahan.services.payments import cash, payments, refunds, wallets
from tindahan.services.platform import chart, groupcommit, idempotency, parties
from tindahan.services.unit import Platform, Unit, new_id
from tindahan.store.commerce_tables import orders as order_table
from tindahan.store.payment_tables import idempotency_keys, sms_messages
from tindahan.store.payment_tables import payments as payment_table
from tindahan.store.payment_tables import wallets as wallets_table
from tindahan.store.tables import accounts
from tindahan.store.vault import Vault

ALL = frozenset(SCOPES)
OPERATOR = Caller("op", None, ALL)
BUYERS, MERCHANTS = 3, 2
FUNDED = 60_000  # ₱600 a buyer: a few of the drawn payments run a wallet dry
#: The merchant payments made before the requests, for refunds: buyer i pays merchant i.
PAID = (20_000, 10_000)
PRICE = 15_000  # an order's total (one item, no shipping fee)
#: Buyer i's order, as the requests find it; one paid already is the open one paid twice
#: (a checkout and a payment more for every cast would cost the example as much again).
ORDERS = ("open", "cancelled")
_run = itertools.count()


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


@dataclass(frozen=True)
class Cast:
    buyers: list[str]
    merchants: list[str]
    agent: str
    paid: list[str]  # PAID's payments, buyer i to merchant i
    orders: list[str]  # merchant 0's: buyer 0's open, buyer 1's cancelled


def _as(party_id: str) -> Caller:
    return Caller(f"key-{party_id}", party_id, ALL)


def _party(unit: Unit, kind: str, name: str) -> str:
    if kind == "customer":
        new = parties.NewParty(kind=kind, name=name, tier="full")
    elif kind == "merchant":
        new = parties.NewParty(kind=kind, name=name, mcc="5411", city="Marikina", province="NCR")
    else:
        new = parties.NewParty(kind=kind, name=name)
    party_id: str = parties.create(unit, OPERATOR, new)["id"]
    return party_id


def _wallet_ids(unit: Unit, party_id: str) -> dict[str, str]:
    found = wallets.list_wallets(unit, OPERATOR, 10, None, party_id=party_id)
    return {w["kind"]: w["id"] for w in found["data"]}


def _cast(platform: Platform, *, people_only: bool = False) -> Cast:
    """A fresh cast, in one transaction (the example's setup is most of its cost);
    ``people_only``: its buyers (funded), merchants and agent, no payments or orders yet."""
    return platform.run(partial(_made, n=next(_run), people_only=people_only))


def _made(unit: Unit, n: int, people_only: bool) -> Cast:
    buyers = [_party(unit, "customer", f"buyer {n}.{i}") for i in range(BUYERS)]
    merchants = [_party(unit, "merchant", f"store {n}.{i}") for i in range(MERCHANTS)]
    agent = _party(unit, "agent", f"agent {n}")
    for buyer in buyers:
        cash.fund(unit, OPERATOR, _wallet_ids(unit, buyer)["main"], FUNDED, "PHP", "test")
    if people_only:
        return Cast(buyers, merchants, agent, [], [])
    paid = [
        payments.pay(
            unit,
            _as(buyers[i]),
            payments.NewPayment(payee_id=merchants[i], amount_minor=amount, currency="PHP"),
        )["id"]
        for i, amount in enumerate(PAID)
    ]
    shop = _as(merchants[0])
    store = catalog.create_storefront(unit, shop, slug=f"group-{n}", name=f"Group {n}")
    product = catalog.create_product(
        unit, shop, store["id"], catalog.NewProduct("Ube halaya 350 g", PRICE, stock=100)
    )
    line = [orders.CartLine(product["id"], 1)]
    placed = [orders.checkout(unit, _as(b), store["id"], line)["id"] for b in buyers[:2]]
    escrow.cancel(unit, _as(buyers[1]), placed[1], "changed my mind")
    return Cast(buyers, merchants, agent, paid, placed)


# A request, with its key slot last (two requests drawing one slot share an Idempotency-Key):
# ("pay", payer index, payee: ("m", i) a merchant, ("b", i) a buyer, ("x", 0) nobody, amount)
# ("refund", which of PAID, amount or None for all that is left)
# ("cash_out", buyer index, amount) at the cast's agent
# ("order", which order) paid by its buyer
slots = st.integers(0, 40)
requests_ = st.lists(
    st.one_of(
        st.tuples(
            st.just("pay"),
            st.integers(0, BUYERS - 1),
            st.one_of(
                st.tuples(st.just("m"), st.integers(0, MERCHANTS - 1)),
                st.tuples(st.just("b"), st.integers(0, BUYERS - 1)),
                st.just(("x", 0)),
            ),
            st.sampled_from([100, 2_500, 10_000, 25_000, 45_000]),
            slots,
        ),
        st.tuples(
            st.just("refund"),
            st.integers(0, len(PAID) - 1),
            st.sampled_from([None, 2_500, 9_000, 15_000]),
            slots,
        ),
        st.tuples(
            st.just("cash_out"),
            st.integers(0, BUYERS - 1),
            st.sampled_from([2_500, 45_000, 70_000]),
            slots,
        ),
        st.tuples(st.just("order"), st.integers(0, len(ORDERS) - 1), slots),
    ),
    min_size=1,
    max_size=14,
)


def _render(result: Any) -> idempotency.Response:
    return idempotency.Response(200, dict(result))


def _render_refusal(refusal: RefusalError) -> idempotency.Response:
    return idempotency.Response(400, {"error": {"code": refusal.code, "param": refusal.param}})


def _request(drawn: tuple[Any, ...], cast: Cast) -> tuple[str, str, str, Any, groupcommit.Locks]:
    """The request's scope, key, fingerprint and work, and what it declares as its API
    route does (on PostgreSQL its group locks that first and sums the members' changes to
    the accounts among it into one update)."""
    what, *args, slot = drawn
    fingerprint = idempotency.request_hash("POST", f"/v1/{what}", [what, *args])
    if what == "pay":
        payer, (kind, index), amount_minor = args
        payee = (
            cast.merchants[index]
            if kind == "m"
            else cast.buyers[index]
            if kind == "b"
            else "party_x"
        )
        caller = _as(cast.buyers[payer])
        new = payments.NewPayment(payee_id=payee, amount_minor=amount_minor, currency="PHP")
        # its id chosen first, as the route does: its fee shard declared, and its rows
        # written with its group's (``store.deferred``) on PostgreSQL
        payment_id = new_id("pay")
        work: Any = partial(payments.pay, caller=caller, new=new, payment_id=payment_id)
        locks = payments.group_locks(caller, new, payment_id)
    elif what == "refund":
        which, amount_minor = args
        payment_id = cast.paid[which]
        caller = _as(cast.merchants[which])
        work = partial(
            refunds.create,
            caller=caller,
            payment_id=payment_id,
            amount_minor=amount_minor,
            reason=None,
        )
        locks = refunds.group_locks(payment_id)
    elif what == "cash_out":
        buyer, amount_minor = args
        caller = _as(cast.buyers[buyer])
        work = partial(
            cash.cash_out,
            caller=caller,
            agent_id=cast.agent,
            amount_minor=amount_minor,
            currency="PHP",
            customer_id=None,
        )
        locks = cash.cash_out_locks(caller, cast.agent, None)
    else:
        (which,) = args
        caller = _as(cast.buyers[which])  # order i is buyer i's
        order_id = cast.orders[which]
        work = partial(escrow.pay, caller=caller, order_id=order_id, quote_id=None)
        locks = escrow.pay_locks(order_id, None)
    return caller.scope, f"k{slot}", fingerprint, work, locks


#: What must agree in an answer (ids differ between the two casts).
FIGURES = (
    "object",
    "kind",
    "status",
    "amount_minor",
    "fee_minor",
    "fee_returned_minor",
    "total_minor",
    "buyer_paid_minor",
    "under_review",
)


def _answer(outcome: idempotency.Response | BaseException) -> Any:
    """What must agree: the status and the error, or the movement's own figures."""
    if isinstance(outcome, RefusalError):
        return ("raised", outcome.code)
    assert isinstance(outcome, idempotency.Response), outcome
    body = outcome.body
    if "error" in body:
        return (outcome.status_code, body["error"]["code"], outcome.replayed)
    figures = tuple(body.get(name) for name in FIGURES)
    return (outcome.status_code, figures, outcome.replayed)


def _state(platform: Platform, cast: Cast) -> list[Any]:
    """Every wallet's four balance figures, how many payments each party has (a refused one
    leaves no row: a savepoint not rolled back would), what is refunded of each paid payment
    and each order's status and escrow: read from the tables, in a few statements (the
    example's cost is mostly its reads and its cast)."""
    return platform.run(partial(_read_state, cast=cast), write=False)


def _read_state(unit: Unit, cast: Cast) -> list[Any]:
    held = [*cast.buyers, *cast.merchants, cast.agent]
    by_party = sorted(
        unit.conn.execute(
            select(
                wallets_table.c.party_id,
                wallets_table.c.kind,
                accounts.c.debits_pending,
                accounts.c.debits_posted,
                accounts.c.credits_pending,
                accounts.c.credits_posted,
            )
            .join(accounts, accounts.c.id == wallets_table.c.account_id)
            .where(wallets_table.c.party_id.in_(held))
        ).all(),
        key=lambda r: (held.index(r[0]), r[1]),
    )
    counted: dict[str, int] = dict(
        unit.conn.execute(
            select(payment_table.c.payer_id, func.count())
            .where(payment_table.c.payer_id.in_(held))
            .group_by(payment_table.c.payer_id)
        ).all()
    )
    paid = {
        r[0]: tuple(r[1:])
        for r in unit.conn.execute(
            select(
                payment_table.c.id, payment_table.c.status, payment_table.c.refunded_minor
            ).where(payment_table.c.id.in_(cast.paid))
        ).all()
    }
    placed = {
        r[0]: tuple(r[1:])
        for r in unit.conn.execute(
            select(
                order_table.c.id,
                order_table.c.status,
                order_table.c.buyer_paid_minor,
                order_table.c.held_minor,
            ).where(order_table.c.id.in_(cast.orders))
        ).all()
    }
    # what the payments wrote besides their money, batched in a group on PostgreSQL: the
    # keys stored under each caller's scope, the texts queued for each party
    keys: dict[str, int] = dict(
        unit.conn.execute(
            select(idempotency_keys.c.scope, func.count())
            .where(idempotency_keys.c.scope.in_([_as(p).scope for p in held]))
            .group_by(idempotency_keys.c.scope)
        ).all()
    )
    texted: dict[str, int] = dict(
        unit.conn.execute(
            select(sms_messages.c.party_id, func.count())
            .where(sms_messages.c.party_id.in_(held))
            .group_by(sms_messages.c.party_id)
        ).all()
    )
    return [
        [tuple(r[1:]) for r in by_party],
        [counted.get(p, 0) for p in held],
        [keys.get(_as(p).scope, 0) for p in held],
        [texted.get(p, 0) for p in held],
        [paid[p] for p in cast.paid],
        [placed[o] for o in cast.orders],
    ]


@settings(
    max_examples=examples(8),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=requests_, cuts=st.lists(st.integers(1, 14), max_size=4))
def test_groups_answer_as_one_at_a_time(platform, drawn, cuts):
    grouped_cast, alone_cast = _cast(platform), _cast(platform)

    committer = groupcommit.Committer(platform, 0, limits.GROUP_COMMIT_MAX)
    made = []
    for d in drawn:
        scope, key, fingerprint, work, locks = _request(d, grouped_cast)
        made.append(
            groupcommit.Request(scope, key, fingerprint, work, _render, _render_refusal, locks)
        )
    bounds = sorted({0, len(made), *(c for c in cuts if c < len(made))})
    for start, end in itertools.pairwise(bounds):
        committer.run_group(made[start:end])
    grouped = [_answer(r.future.exception() or r.future.result()) for r in made]

    alone = []
    for d in drawn:
        scope, key, fingerprint, work, _ = _request(d, alone_cast)
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
    assert _state(platform, grouped_cast) == _state(platform, alone_cast)


def _grouped(outcome: str) -> float:
    """Payments counted so far in the ``tindahan_group_commit_size`` histogram's sum."""
    for family in metrics().group_commits.collect():
        for sample in family.samples:
            if sample.name.endswith("_sum") and sample.labels.get("outcome") == outcome:
                return float(sample.value)
    return 0.0


def _balances(platform: Platform, party_ids: list[str]) -> list[tuple[str, int]]:
    """Each party's wallets' balances and how many payments it has."""
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


def _mains(platform: Platform, party_ids: list[str]) -> list[tuple[int, int]]:
    """Each party's main wallet's balance and how many payments it has."""

    def read(unit: Unit) -> list[tuple[int, int]]:
        found = []
        for party_id in party_ids:
            listed = wallets.list_wallets(unit, OPERATOR, 10, None, party_id=party_id)
            main = next(w for w in listed["data"] if w["kind"] == "main")
            paid = payments.list_payments(unit, OPERATOR, 100, None, party_id=party_id)
            found.append((int(main["balance_minor"]), len(paid["data"])))
        return found

    return platform.run(read, write=False)


def _pays(cast: Cast, drawn: list[tuple[Any, ...]]) -> list[groupcommit.Request]:
    return [groupcommit.Request(*_request(d, cast)[:4], _render, _render_refusal) for d in drawn]


def test_a_refused_member_leaves_its_group_mates_committed(platform):
    cast = _cast(platform, people_only=True)
    buyer, other, _ = cast.buyers
    before = _mains(platform, [buyer, other])
    counted = _grouped("together")
    committer = groupcommit.Committer(platform, 0, 8)
    drawn = [
        ("pay", 0, ("m", 0), 10_000, 1),
        ("pay", 0, ("m", 0), 70_000, 2),
        ("pay", 1, ("m", 0), 5_000, 3),
    ]
    made = _pays(cast, drawn)
    committer.run_group(made)
    answers = [_answer(r.future.result()) for r in made]
    assert answers[0][0] == 200 and answers[2][0] == 200
    assert answers[1] == (400, "insufficient_funds", False)
    (b0, n0), (b1, n1) = before
    assert _mains(platform, [buyer, other]) == [(b0 - 10_000, n0 + 1), (b1 - 5_000, n1 + 1)]
    assert committer.groups == 1 and committer.members == 3
    assert _grouped("together") - counted == 3  # the metric's batch size (issue 23, item 4)
    assert verify.verify(platform.db).ok


def test_a_group_that_fails_whole_is_decided_one_by_one(platform, monkeypatch):
    """The group's transaction fails (as a lost connection would): each member is run alone,
    once; none is lost and none moves money twice."""
    cast = _cast(platform, people_only=True)
    buyer, other, _ = cast.buyers
    before = _mains(platform, [buyer, other])
    committer = groupcommit.Committer(platform, 0, 8)
    real = committer._together

    def broken(conn, group, later):
        real(conn, group, later)
        raise DBAPIError("COMMIT", None, OSError("server closed the connection"))

    monkeypatch.setattr(committer, "_together", broken)
    counted = _grouped("split")
    drawn = [
        ("pay", 0, ("m", 0), 10_000, 1),
        ("pay", 1, ("m", 0), 90_000, 2),
        ("pay", 1, ("m", 0), 5_000, 3),
    ]
    made = _pays(cast, drawn)
    committer.run_group(made)
    answers = [_answer(r.future.result()) for r in made]
    assert [a[0] for a in answers] == [200, 400, 200]
    assert committer.split == 1 and committer.groups == 0
    assert _grouped("split") - counted == 3
    (b0, n0), (b1, n1) = before
    assert _mains(platform, [buyer, other]) == [(b0 - 10_000, n0 + 1), (b1 - 5_000, n1 + 1)]


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
