"""USSD payments to a store and sends to a mobile number on a real TigerBeetle cluster
(issue 22): the menu's last step (after the PIN) books through the two-store order with the
payment's own part of A (``two_store.reserve_payment``, ``sends.reserve_mobile``) under the
session's idempotency key, and answers in menu text; a resent step reads the same screen and
moves nothing more; a crash after each step moves the money once; refusals decided in A or
by the cluster are said in words and move nothing. Paying a request by its reference the same
way (``requests.reserve``); the menu's cash-out by the API's (``cash.reserve_cash_out``),
its code said to show the agent (the loan repayment's test is ``test_loans``', on its loans).

The deployment is ``test_payments``'s (one per database kind, one replica). The buyer's
registered mobile number is ``+639171234567`` (``tests.api.conftest``'s barangay); a login
with a PIN is made for it once per deployment.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies
from tests.ussd.conftest import PIN, Phone, make_party
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.platform import logins
from tindahan.store.payment_tables import parties, payments
from tindahan.store.web_tables import audit_log
from tindahan.ussd import codes

#: Journeys through a channel: on SQLite only (``one_database``, tests/tigerbeetle/conftest.py).
pytestmark = [pytest.mark.xdist_group("tigerbeetle-a"), pytest.mark.one_database]

deployment = test_payments.deployment
crash_after = test_payments.crash_after
reviewing = test_payments.reviewing

BUYER_PHONE = "+639171234567"
#: What a deployment was given once (the buyer's login, a recipient), by its database URL.
_MADE: dict[tuple[str, str], Any] = {}


def _phone(d: Deployment) -> Phone:
    """The buyer's phone (its login made once per deployment)."""
    if ("login", d.url) not in _MADE:
        d.platform.run(
            lambda u: logins.create(
                u, None, party_id=d.world.buyer.id, phone=BUYER_PHONE, secret=PIN
            )
        )
        _MADE["login", d.url] = True
    return Phone(d.api.http, BUYER_PHONE)


def _merchant_code(d: Deployment) -> str:
    query = select(parties.c.short_code).where(parties.c.id == d.world.merchant.id)
    return str(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def _ussd_payments(d: Deployment, request: bool = False) -> list[Any]:
    """The buyer's payments made over USSD to a store (reference ``USSD``), or of a request
    (``request``), oldest first."""
    made = payments.c.request_id.is_not(None) if request else payments.c.reference == "USSD"
    query = (
        select(payments.c.id, payments.c.status, payments.c.amount_minor)
        .where(payments.c.payer_id == d.world.buyer.id, made)
        .order_by(payments.c.created_at_ns)
    )
    return d.platform.run(lambda u: list(u.conn.execute(query)), write=False)


def _audited(d: Deployment, payment_id: str, action: str = "ussd.payment") -> int:
    query = select(func.count()).where(
        audit_log.c.action == action, audit_log.c.object_id == payment_id
    )
    return int(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_paying_a_store_by_its_code_books_in_the_cluster_once(deployment):
    d = deployment
    phone = _phone(d)
    code = _merchant_code(d)
    buyer, settlement, _ = d.balances()
    made = len(_ussd_payments(d))
    assert phone.run("3", code, "150").startswith("CON Pay P150.00 to ")
    paid = phone.dial("3", code, "150", PIN)
    name = d.platform.run(
        lambda u: u.conn.execute(
            select(parties.c.name).where(parties.c.id == d.world.merchant.id)
        ).scalar_one(),
        write=False,
    )
    assert paid.startswith(f"END Paid P150.00 to {name[:40]}. Ref "), paid
    # the network resends the last step: the same screen, nothing more moved
    assert phone.dial("3", code, "150", PIN) == paid
    rows = _ussd_payments(d)
    assert len(rows) == made + 1
    payment_id = rows[-1].id
    assert (rows[-1].status, rows[-1].amount_minor) == ("succeeded", 15_000)
    assert two_store.state_of_place(d.platform, payment_id) == "settled"
    fee = settlement + 15_000 - d.balances()[1]
    assert fee > 0  # the merchant discount, as on the SQL ledger
    assert d.balances()[0] == buyer - 15_000
    assert _announced(d, "payment.succeeded", payment_id) == 1
    assert _audited(d, payment_id) == 1  # written in A, with the payment row
    assert two_store.verify(d.db, d.ledger) == []


def test_an_unknown_code_at_the_last_step_is_said_in_words_and_moves_nothing(deployment):
    """The confirm screen checks the code, but the last step may name one nobody has (typed
    straight through): on the cluster A refuses it, and the menu says so."""
    d = deployment
    phone = _phone(d)
    code = _merchant_code(d)
    unknown = next(c for c in (codes.new() for _ in range(50)) if c != code)
    before, made = d.balances(), len(_ussd_payments(d))
    answer = phone.new_session().dial("3", unknown, "5", PIN)
    assert answer == f"END No store has merchant code {unknown}. Nothing moved."
    assert d.balances() == before and len(_ussd_payments(d)) == made


def test_paying_beyond_the_balance_is_refused_by_the_cluster_in_words(deployment):
    d = deployment
    phone = _phone(d)
    code = _merchant_code(d)
    before = d.balances()
    pesos = str(before[0] // 100 + 1)
    phone.run("3", code, pesos)
    answer = phone.dial("3", code, pesos, PIN)
    assert answer == "END Your balance is too low. Nothing moved.", answer
    assert phone.dial("3", code, pesos, PIN) == answer
    assert d.balances() == before


def _recipient(d: Deployment) -> str:
    """A customer with a registered number (made once per deployment), as the menu types it."""
    if ("recipient", d.url) not in _MADE:
        number = "+63918" + str(uuid.uuid4().int)[:7]
        made = make_party(d.platform, "customer", "Maria Clara Santos", number)
        _MADE["recipient", d.url] = (made, number)
    return "0" + _MADE["recipient", d.url][1].removeprefix("+63")


def _received(d: Deployment) -> int:
    party_id = _MADE["recipient", d.url][0]
    account = d.platform.run(
        lambda u: movement.holders(u, [party_id])[(party_id, "main")], write=False
    ).account_id
    found = d.ledger.lookup_accounts([account])
    return found[account].balance_posted if account in found else 0


def test_sending_to_a_mobile_number_books_in_the_cluster_once(deployment):
    d = deployment
    phone = _phone(d)
    mobile = _recipient(d)
    buyer = d.balances()[0]
    received = _received(d)
    assert phone.run("2", mobile, "25").startswith("CON Send P25.00 to Maria C. S. (")
    sent = phone.dial("2", mobile, "25", PIN)
    assert sent.startswith("END Sent P25.00 to Maria C. S., ref "), sent
    assert phone.dial("2", mobile, "25", PIN) == sent  # a resend: once
    assert d.balances()[0] == buyer - 2_500 and _received(d) == received + 2_500
    payment_id = _last_send(d)
    assert two_store.state_of_place(d.platform, payment_id) == "settled"
    assert _announced(d, "mobile_transfer.succeeded", payment_id) == 1
    assert _announced(d, "payment.succeeded", payment_id) == 0
    assert _audited(d, payment_id, "ussd.send") == 1
    assert two_store.verify(d.db, d.ledger) == []


def _last_send(d: Deployment) -> str:
    query = (
        select(payments.c.id)
        .where(payments.c.payer_id == d.world.buyer.id, payments.c.kind == "p2p")
        .order_by(payments.c.created_at_ns.desc())
        .limit(1)
    )
    return str(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


@pytest.mark.parametrize("flow", ["pay", "send", "request"])
@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_ussd_payment_moves_the_money_once(
    deployment, crash_after, step, flow
):
    d = deployment
    phone = _phone(d)
    typed = {
        "pay": lambda: ("3", _merchant_code(d), "12"),
        "send": lambda: ("2", _recipient(d), "12"),
        "request": lambda: ("5", _ask(d, 1_200)["short_ref"]),
    }[flow]()
    buyer, _, _ = d.balances()
    phone.run(*typed)
    crash_after(step)
    _dies(d, lambda: phone.post("*".join((*typed, PIN))))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    phone.http = d.api.http  # the client reconnects, as the aggregator would
    answer = phone.dial(*typed, PIN)
    assert answer.startswith("END Sent P12.00 to " if flow == "send" else "END Paid P12.00 to ")
    assert d.balances()[0] == buyer - 1_200
    if flow == "pay":
        payment_id, event, action = _ussd_payments(d)[-1].id, "payment.succeeded", "ussd.payment"
    elif flow == "request":
        payment_id = _ussd_payments(d, request=True)[-1].id
        event, action = "payment.succeeded", "ussd.payment"
        assert _announced(d, "payment_request.paid", _request_of(d, payment_id)) == 1
    else:
        payment_id, event, action = _last_send(d), "mobile_transfer.succeeded", "ussd.send"
    assert _announced(d, event, payment_id) == 1
    assert _audited(d, payment_id, action) == 1
    assert two_store.verify(d.db, d.ledger) == []


def _ask(d: Deployment, amount: int) -> Any:
    body = {"amount_minor": amount, "currency": "PHP", "description": "2 kilos rice"}
    return d.api.ok(d.api.post("/v1/payment_requests", d.world.merchant.key, body))


def _request_of(d: Deployment, payment_id: str) -> str:
    query = select(payments.c.request_id).where(payments.c.id == payment_id)
    return str(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_paying_a_request_by_its_reference_books_in_the_cluster_once(deployment):
    d = deployment
    phone = _phone(d)
    asked = _ask(d, 4_200)
    ref = asked["short_ref"]
    buyer = d.balances()[0]
    assert phone.run("5", ref).startswith("CON Pay P42.00 to ")
    paid = phone.dial("5", ref, PIN)
    assert paid.startswith("END Paid P42.00 to "), paid
    assert phone.dial("5", ref, PIN) == paid  # a resend: once
    assert d.balances()[0] == buyer - 4_200
    shown = d.api.ok(d.api.get(f"/v1/payment_requests/{asked['id']}", d.world.merchant.key))
    assert shown["status"] == "paid"
    payment_id = _ussd_payments(d, request=True)[-1].id
    assert two_store.state_of_place(d.platform, payment_id) == "settled"
    assert _announced(d, "payment_request.paid", asked["id"]) == 1
    assert _audited(d, payment_id) == 1
    # paid already: refused in words (the confirm screen), and at the last step (A) too
    assert phone.run("5", ref) == "END This request is already paid."
    assert phone.new_session().dial("5", ref, PIN) == "END This request is already paid."
    assert d.balances()[0] == buyer - 4_200
    assert two_store.verify(d.db, d.ledger) == []


def test_an_unknown_request_reference_at_the_last_step_moves_nothing(deployment):
    d = deployment
    before = d.balances()
    answer = _phone(d).new_session().dial("5", "ZZZZZZZZ", PIN)
    assert answer == "END No request has reference ZZZZZZZZ."
    assert d.balances() == before


def _agent_code(d: Deployment) -> str:
    query = select(parties.c.short_code).where(parties.c.id == d.world.agent.id)
    return str(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def _last_cash_out(d: Deployment) -> str:
    query = (
        select(payments.c.id)
        .where(payments.c.payer_id == d.world.buyer.id, payments.c.kind == "cash_out")
        .order_by(payments.c.created_at_ns.desc())
        .limit(1)
    )
    return str(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def _ready_screen(answer: str, amount: str) -> bool:
    return answer.startswith(f"END Cash-out of {amount} at ") and answer.endswith(
        " to the agent within 15 min."
    )


def _pending(d: Deployment) -> int:
    return d.accounts((d.world.buyer, "main"))[0].debits_pending


def test_a_cash_out_over_ussd_holds_in_the_cluster_once(deployment):
    """The menu's cash-out names ``cash.reserve_cash_out`` (the API's A): held once, its code
    said to show the agent, the same screen on a resend — also after the agent confirmed."""
    d = deployment
    phone = _phone(d)
    code = _agent_code(d)
    before, held = d.balances(), _pending(d)
    assert phone.run("4", code, "5").startswith("CON ")
    answer = phone.dial("4", code, "5", PIN)
    assert _ready_screen(answer, "P5.00"), answer
    assert phone.dial("4", code, "5", PIN) == answer  # a resend: once
    payment_id = _last_cash_out(d)
    assert two_store.state_of_place(d.platform, payment_id) == "held"
    assert _pending(d) == held + 500
    assert _announced(d, "cash_out.pending", payment_id) == 1
    assert _audited(d, payment_id, "ussd.cash_out") == 1
    confirm = f"/v1/cash_outs/{payment_id}/confirm"
    d.api.ok(d.api.post(confirm, d.world.agent.key, {}, idem=str(uuid.uuid4())))
    assert phone.dial("4", code, "5", PIN) == answer
    assert d.balances()[0] == before[0] - 500
    assert two_store.verify(d.db, d.ledger) == []


def test_an_unknown_agent_code_at_the_last_step_is_said_and_moves_nothing(deployment):
    d = deployment
    code = _agent_code(d)
    unknown = next(c for c in (codes.new() for _ in range(50)) if c != code)
    before = d.balances()
    answer = _phone(d).new_session().dial("4", unknown, "5", PIN)
    assert answer == f"END No agent has code {unknown}. Nothing moved."
    assert d.balances() == before


@pytest.mark.parametrize("step", two_store.CASH_OUT_STEPS["request"])
def test_a_crash_in_a_ussd_cash_out_holds_the_money_once(deployment, crash_after, step):
    d = deployment
    phone = _phone(d)
    typed = ("4", _agent_code(d), "7")
    held = _pending(d)
    phone.run(*typed)
    crash_after(step)
    _dies(d, lambda: phone.post("*".join((*typed, PIN))))
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    phone.http = d.api.http  # the client reconnects, as the aggregator would
    answer = phone.dial(*typed, PIN)
    assert _ready_screen(answer, "P7.00"), answer
    payment_id = _last_cash_out(d)
    assert _pending(d) == held + 700
    assert _announced(d, "cash_out.pending", payment_id) == 1
    assert _audited(d, payment_id, "ussd.cash_out") == 1
    cancel = f"/v1/cash_outs/{payment_id}/cancel"  # the money back: nothing left pending
    d.api.ok(d.api.post(cancel, d.world.buyer.key, {}, idem=str(uuid.uuid4())))
    assert _pending(d) == held
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []


#: What each of the catalog's languages says of money held for review (``_PAID_HELD``,
#: ``_SENT_HELD``): a payment to a store, and a send.
HELD_WORDS = {
    "en": (
        "END Paid P7.00 to ",
        ", held for review. Ref ",
        "END Sent P6.00 to ",
        "held for review",
    ),
    "fil": (
        "END Nabayaran ang P7.00 kay ",
        ", sinusuri pa. Ref ",
        "END Naipadala ang P6.00 kay ",
        "sinusuri pa",
    ),
    "ceb": (
        "END Nabayran ang P7.00 kang ",
        ", gisusi pa. Ref ",
        "END Napadala ang P6.00 kang ",
        "gisusi pa",
    ),
}


def _speaks(d: Deployment, language: str) -> None:
    where = parties.c.id == d.world.buyer.id
    d.platform.run(
        lambda u: u.conn.execute(parties.update().where(where).values(language=language))
    )


@pytest.mark.usefixtures("reviewing")
@pytest.mark.parametrize("language", sorted(HELD_WORDS))
def test_a_payment_and_a_send_held_for_review_say_so_in_the_menus_language(deployment, language):
    """The rules hold every payment and send (``test_payments.REVIEW_ALL``): the last
    screen says so, in the person's language, as the SQL path's does; a resend reads the
    same screen. The holds are released after (the module's other tests read no pending)."""
    d = deployment
    phone = _phone(d)
    code, mobile = _merchant_code(d), _recipient(d)
    paid_starts, paid_held, sent_starts, sent_held = HELD_WORDS[language]
    _speaks(d, language)
    try:
        phone.run("3", code, "7")
        paid = phone.dial("3", code, "7", PIN)
        assert phone.dial("3", code, "7", PIN) == paid
        phone.run("2", mobile, "6")
        sent = phone.dial("2", mobile, "6", PIN)
    finally:
        _speaks(d, "en")
    assert paid.startswith(paid_starts) and paid_held in paid, paid
    assert sent.startswith(sent_starts) and sent_held in sent, sent
    for payment_id in (_ussd_payments(d)[-1].id, _last_send(d)):
        principal = payment_id.replace("_", ".")
        test_payments._decide(d, test_payments._alert_of(d, principal)["id"], "release")
    assert two_store.verify(d.db, d.ledger) == []
