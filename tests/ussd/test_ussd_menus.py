"""Every USSD menu through the HTTP callback, on SQLite and PostgreSQL (issue 24): sign-up,
balance, paying a store, cashing out, paying a request, the loan, the PIN and the language;
timeouts, resends, wrong PINs and bad input, each answered in words with nothing moved."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select

from tests.ussd.conftest import BUYER_PHONE, OPERATOR, PIN, Barangay, Phone
from tindahan import limits
from tindahan.services.payments import requests
from tindahan.services.unit import Platform, Unit
from tindahan.store.payment_tables import parties, payments
from tindahan.ussd import codes

T = TypeVar("T")


def _count_payments(barangay: Barangay) -> int:
    return int(
        barangay.platform.run(
            lambda u: u.conn.execute(select(func.count()).select_from(payments)).scalar_one(),
            write=False,
        )
    )


def test_the_first_step_offers_the_menu(phone: Phone) -> None:
    answer = phone.dial()
    assert answer.startswith("CON Tindahan\n1 Balance")
    assert "2 Send money\n3 Pay a store" in answer and "8 Language" in answer


def test_an_unknown_phone_signs_up_with_a_name_and_a_pin_twice(http, barangay) -> None:
    newcomer = Phone(http, "+639181112222")
    assert newcomer.dial().startswith("CON Welcome to Tindahan")
    assert "PIN of 6 digits" in newcomer.dial("Maria Santos")
    assert newcomer.dial("Maria Santos", "280419") == "CON Enter the same PIN again:"
    done = newcomer.dial("Maria Santos", "280419", "280419")
    assert done.startswith("END Welcome, Maria Santos!")
    # The network resends the last step: the same answer, one party.
    assert newcomer.dial("Maria Santos", "280419", "280419") == done
    found = barangay.platform.run(
        lambda u: u.conn.execute(
            select(parties.c.kind, parties.c.tier).where(parties.c.name == "Maria Santos")
        ).all(),
        write=False,
    )
    assert [(r.kind, r.tier) for r in found] == [("customer", "basic")]
    # The next session is the menu, and the PIN chosen pays.
    assert newcomer.new_session().dial().startswith("CON Tindahan")
    barangay.fund(found and _party_id(barangay, "Maria Santos"), 5_000)
    paid = newcomer.run("3", barangay.merchant_code, "20", "280419")
    assert paid.startswith("END Paid P20.00 to Aling Nena's Sari-Sari Store. Ref ")


def _party_id(barangay: Barangay, name: str) -> str:
    return str(
        barangay.platform.run(
            lambda u: u.conn.execute(
                select(parties.c.id).where(parties.c.name == name)
            ).scalar_one(),
            write=False,
        )
    )


def test_sign_up_refuses_differing_and_weak_pins_and_saves_nothing(http, barangay) -> None:
    newcomer = Phone(http, "+639181113333")
    assert newcomer.run("Pedro Reyes", "280419", "280418") == (
        "END The two PINs differ. Nothing was saved."
    )
    assert newcomer.run("Pedro Reyes", "123456") == (
        "END This PIN is too easy to guess. Choose another."
    )
    assert newcomer.run("Pedro Reyes", "12a4") == "END A PIN is 6 digits."
    assert newcomer.run("1234") == "END Enter your name in letters."
    assert newcomer.new_session().dial().startswith("CON Welcome")  # still no account


def test_balance_and_the_last_five_movements(phone: Phone, barangay: Barangay, clock) -> None:
    assert phone.run("1") == "END Balance P1,000.00\n" + _today_line(barangay, "P1,000.00 Top-up")
    for amount in ("10", "20", "30", "40", "50", "60"):
        clock.advance(1)  # the test clock stands still otherwise: newest first needs time
        assert phone.run("3", barangay.merchant_code, amount, PIN).startswith("END Paid")
    lines = phone.run("1").split("\n")
    assert lines[0] == "END Balance P790.00"
    assert [line.split(" ")[1] for line in lines[1:]] == [
        "-P60.00",
        "-P50.00",
        "-P40.00",
        "-P30.00",
        "-P20.00",
    ]
    assert all(line.endswith("Aling Nena's") for line in lines[1:])


def _today_line(barangay: Barangay, rest: str) -> str:
    from tindahan.services.ussd.channel import _day

    return f"{_day(barangay.platform.now())} {rest}"


def test_paying_a_store_by_its_code_moves_money_once(phone: Phone, barangay: Barangay) -> None:
    code = barangay.merchant_code
    assert phone.run("3") == "CON Pay a store. Enter its merchant code:"
    assert phone.run("3", code) == (
        "CON Pay Aling Nena's Sari-Sari Store.\nEnter the amount in pesos:"
    )
    assert phone.run("3", code, "150") == (
        "CON Pay P150.00 to Aling Nena's Sari-Sari Store?\nEnter your PIN:"
    )
    before = _count_payments(barangay)
    paid = phone.dial("3", code, "150", PIN)
    assert paid.startswith("END Paid P150.00 to Aling Nena's Sari-Sari Store. Ref ")
    # The network resends the final step: the same answer, the money moved once.
    assert phone.dial("3", code, "150", PIN) == paid
    assert _count_payments(barangay) == before + 1
    assert barangay.available(barangay.buyer) == 85_000
    assert barangay.available(barangay.merchant, "settlement") > 0


def test_bad_input_is_refused_in_words_and_moves_nothing(phone: Phone, barangay: Barangay) -> None:
    code = barangay.merchant_code
    wrong_check = code[:-1] + str((int(code[-1]) + 1) % 10)
    unknown = next(c for c in (codes.new() for _ in range(50)) if c != code)
    before = _count_payments(barangay)
    expect = {
        ("0",): "END That is not one of the choices.",
        ("3", wrong_check): "END A merchant code is 7 digits, as on the store's poster.",
        ("3", unknown): f"END No store has merchant code {unknown}. Nothing moved.",
        ("3", code, "12.50"): "END Enter the amount in whole pesos, digits only.",
        ("3", code, "1e3"): "END Enter the amount in whole pesos, digits only.",
        ("3", code, "0"): "END Enter the amount in whole pesos, digits only.",
        ("3", code, "50", "12"): "END A PIN is 6 digits.",
        ("3", code, "5000", PIN): "END Your balance is too low. Nothing moved.",
        ("4", barangay.merchant_code): (
            f"END No agent has code {barangay.merchant_code}. Nothing moved."
        ),
        ("1", "1"): "END This session is over.",
        ("3", ""): "END Nothing was entered.",
    }
    for typed, answer in expect.items():
        assert phone.run(*typed) == answer, typed
    assert _count_payments(barangay) == before


def test_the_kyc_limit_applies_as_on_the_api(phone: Phone, barangay: Barangay) -> None:
    barangay.fund(barangay.buyer, 1_000_000)  # the basic tier allows ₱10,000 a payment
    barangay.fund(barangay.buyer, 500_000)
    answer = phone.run("3", barangay.merchant_code, "10001", PIN)
    assert answer == "END This is over your wallet's limit. Nothing moved."


def test_malformed_requests_unknown_codes_and_strangers(phone: Phone, http) -> None:
    assert phone.post("", serviceCode="*999#").text == "END This service code is not served here."
    assert phone.post("3*<script>").text == "END The session could not be read. Dial again."
    assert phone.post("", phoneNumber="12345").text == (
        "END This phone number cannot use this service."
    )
    too_long = "1" * (limits.USSD_TEXT_MAX_LENGTH + 1)
    assert phone.post(too_long).text.startswith("END The session could not be read.")
    missing = http.post("/ussd", data={"sessionId": "x", "phoneNumber": BUYER_PHONE})
    assert missing.status_code == 400 and missing.text.startswith("END ")
    # A session id is one phone's: another phone using it is refused.
    phone.dial()
    other = Phone(http, "+639189990000")
    other.session = phone.session
    assert other.dial() == "END The session could not be read. Dial again."


def test_a_session_times_out_and_moves_nothing(phone: Phone, barangay: Barangay, clock) -> None:
    code = barangay.merchant_code
    phone.run("3", code, "100")
    clock.advance(limits.USSD_SESSION_TIMEOUT_S + 1)
    answer = phone.dial("3", code, "100", PIN)
    assert answer == "END The session timed out. Nothing was done. Dial again."
    assert barangay.available(barangay.buyer) == 100_000


def test_three_wrong_pins_lock_the_pin(phone: Phone, barangay: Barangay, clock) -> None:
    code = barangay.merchant_code
    first = phone.run("3", code, "100", "999111")
    assert first == "END Wrong PIN. 2 tries left. Nothing was done."
    assert phone.run("3", code, "100", "999112") == "END Wrong PIN. 1 tries left. Nothing was done."
    assert phone.run("3", code, "100", "999113") == (
        "END Wrong PIN. Your PIN is locked for 15 min. Nothing was done."
    )
    locked = phone.run("3", code, "100", PIN)  # the right PIN, too late
    assert locked.startswith("END Your PIN is locked. Try again in ")
    assert barangay.available(barangay.buyer) == 100_000
    clock.advance(limits.USSD_PIN_FIRST_WAIT_S + 1)
    assert phone.run("3", code, "100", PIN).startswith("END Paid P100.00")


def test_cash_out_at_an_agent_holds_the_amount(phone: Phone, barangay: Barangay) -> None:
    code = barangay.agent_code
    assert phone.run("4", code) == "CON Cash out at Mang Tonyo Padala.\nEnter the amount in pesos:"
    answer = phone.run("4", code, "200", PIN)
    assert answer.startswith("END Cash-out of P200.00 at Mang Tonyo Padala is ready. Show ref ")
    assert answer.endswith("to the agent within 15 min.")
    assert barangay.available(barangay.buyer) == 80_000
    pending = barangay.platform.run(
        lambda u: u.conn.execute(
            select(payments.c.status).where(payments.c.kind == "cash_out")
        ).scalar_one(),
        write=False,
    )
    assert pending == "pending"


def test_paying_a_request_by_its_short_reference(phone: Phone, barangay: Barangay) -> None:
    merchant = OPERATOR
    made = barangay.platform.run(
        lambda u: requests.create(
            u,
            merchant,
            amount_minor=12_000,
            currency="PHP",
            merchant_id=barangay.merchant,
            description="2 kilos rice",
        )
    )
    ref = made["short_ref"]
    assert phone.run("5", ref.lower()) == (
        "CON Pay P120.00 to Aling Nena's Sari-Sari Store for 2 kilos rice?\nEnter your PIN:"
    )
    paid = phone.run("5", ref, PIN)
    assert paid.startswith("END Paid P120.00 to Aling Nena's Sari-Sari Store. Ref ")
    assert phone.run("5", ref) == "END This request is already paid."
    assert phone.run("5", "ZZZZZZZZ") == "END No request has reference ZZZZZZZZ."
    assert phone.run("5", "AB") == "END A reference is 8 letters and digits."
    assert barangay.available(barangay.buyer) == 88_000


def test_no_loan_to_repay_for_a_buyer(phone: Phone) -> None:
    assert phone.run("6") == "END You have no loan to repay."
    assert phone.run("6", "2") == "END That is not one of the choices."


def test_changing_the_pin(phone: Phone, barangay: Barangay) -> None:
    assert phone.run("7") == "CON Change PIN. Enter your current PIN:"
    assert phone.run("7", PIN) == "CON Enter a new PIN of 6 digits:"
    assert phone.run("7", PIN, "111111") == "END This PIN is too easy to guess. Choose another."
    assert phone.run("7", PIN, "280419", "280418") == "END The two PINs differ. Nothing was saved."
    assert phone.run("7", "999999", "280419", "280419").startswith("END Wrong PIN.")
    assert phone.run("7", PIN, "280419", "280419") == "END Your PIN is changed."
    assert phone.run("3", barangay.merchant_code, "5", PIN).startswith("END Wrong PIN.")
    assert phone.run("3", barangay.merchant_code, "5", "280419").startswith("END Paid P5.00")


def test_choosing_a_language(phone: Phone, barangay: Barangay) -> None:
    assert phone.run("8") == "CON Choose a language:\n1 English\n2 Filipino\n3 Cebuano"
    assert phone.run("8", "2") == "END Wika: Filipino."
    assert (
        phone.new_session()
        .dial()
        .startswith("CON Tindahan\n1 Balanse\n2 Magpadala ng pera\n3 Magbayad")
    )
    assert phone.run("3", barangay.merchant_code, "12.5") == (
        "END Ilagay ang halaga sa buong piso, mga numero lamang."
    )
    assert phone.run("8", "3") == "END Pinulongan: Cebuano."
    assert phone.run("1").startswith("END Balanse P1,000.00")
    assert phone.run("3", barangay.merchant_code, "5000", PIN) == (
        "END Kulang ang imong balanse. Walay kwarta nga milihok."
    )
    assert phone.run("8", "4") == "END Wala kana sa mga pilianan."


def test_the_qr_poster_prints_the_merchant_code(barangay: Barangay) -> None:
    from tindahan.services.qr import codes as qrcodes
    from tindahan.services.qr import pay as qrpay

    def poster(unit: Unit) -> str:
        payload = qrpay.merchant_code(unit, OPERATOR, barangay.merchant)["payload"]
        short = qrpay.merchant_short_code(unit, OPERATOR, barangay.merchant)
        return qrcodes.svg(payload, "Aling Nena", note=f"Merchant code {short}").decode()

    image = barangay.platform.run(poster, write=False)
    assert f">Merchant code {barangay.merchant_code}</text>" in image
    agent = barangay.platform.run(
        lambda u: qrpay.merchant_short_code(u, OPERATOR, barangay.agent), write=False
    )
    assert agent == barangay.agent_code and codes.normalize(agent) == agent


def test_sessions_are_forgotten_a_day_after_they_began(
    phone: Phone, barangay: Barangay, clock
) -> None:
    from tindahan.services.ussd import sessions

    phone.dial()
    assert sessions.purge(barangay.platform) == 0
    clock.advance(limits.USSD_SESSION_KEEP_S + 1)
    assert sessions.purge(barangay.platform) == 1


def test_the_demo_banner_names_a_phone_a_pin_and_a_store_code(barangay: Barangay, capsys) -> None:
    from tindahan.cli import app as cli_app

    people = [
        {
            "who": "merchant",
            "name": "Aling Nena",
            "phone": "+639170000003",
            "pin": "514263",
            "party_id": barangay.merchant,
        },
        {
            "who": "buyer",
            "name": "Juan",
            "phone": "+639170000005",
            "pin": "739451",
            "party_id": barangay.buyer,
        },
    ]
    cli_app._ussd_banner(barangay.platform, people)
    shown = capsys.readouterr().out
    assert "tindahan ussd --phone +639170000005" in shown and "PIN 739451" in shown
    assert f"merchant code {barangay.merchant_code}" in shown


def test_sending_money_to_a_mobile_number(phone: Phone, barangay: Barangay) -> None:
    from tests.ussd.conftest import make_party

    make_party(barangay.platform, "customer", "Maria Clara Santos", "+639181234567")
    assert phone.run("2") == "CON Send money. Enter the mobile number:"
    assert phone.run("2", "0918 123 4567") == "CON Send to Maria C. S.\nEnter the amount in pesos:"
    assert phone.run("2", "09181234567", "250") == (
        "CON Send P250.00 to Maria C. S. (+639181234567)?\nEnter your PIN:"
    )
    before = _count_payments(barangay)
    sent = phone.dial("2", "09181234567", "250", PIN)
    assert sent.startswith("END Sent P250.00 to Maria C. S., ref ")
    assert phone.dial("2", "09181234567", "250", PIN) == sent  # a resend: once
    assert _count_payments(barangay) == before + 1
    assert barangay.available(barangay.buyer) == 75_000
    assert phone.run("2", BUYER_PHONE) == "END You cannot send money to yourself."
    assert phone.run("2", "09180000000") == "END No wallet has this number. Nothing moved."
    assert phone.run("2", "12345") == "END That is not a mobile number. Use 09XXXXXXXXX."
    assert phone.run("2", "09181234567", "2000", PIN) == (
        "END Your balance is too low. Nothing moved."
    )


def test_a_merchant_sees_what_is_due_and_repays_the_loan(http, barangay: Barangay) -> None:
    from tests.lending.conftest import PRODUCT, assess
    from tests.ussd.conftest import make_login
    from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
    from tindahan.services.lending import loans
    from tindahan.services.lending import offers as loan_offers

    platform = barangay.platform
    store_phone = "+639175550000"
    make_login(platform, barangay.merchant, store_phone)
    assess(platform, barangay.merchant)
    product = platform.run(lambda u: loan_offers.create_product(u, OPERATOR, PRODUCT))
    merchant = Caller("k_nena", barangay.merchant, frozenset(DEFAULT_SCOPES))
    new = loan_offers.NewOffer(product["id"], principal_minor=500_000, term=4)
    made = platform.run(lambda u: loan_offers.create_offer(u, merchant, new))
    loan = platform.run(lambda u: loan_offers.accept(u, merchant, made["id"]))
    store = Phone(http, store_phone)
    shown = store.run("6")
    payoff = loan["balance"]["payoff_minor"]
    from tindahan.ussd.catalog import pesos

    assert shown.startswith("CON Next due ") and shown.endswith("\n1 Repay")
    assert f"To close today {pesos(payoff)}" in shown
    assert store.run("6", "1") == "CON Repay. Enter the amount in pesos:"
    assert store.run("6", "1", "100") == "CON Repay P100.00 on your loan?\nEnter your PIN:"
    too_much = str(payoff // 100 + 1)
    assert store.run("6", "1", too_much, PIN) == (
        "END That is more than you owe today. Nothing moved."
    )
    repaid = store.run("6", "1", "100", PIN)
    after = platform.run(lambda u: loans.get(u, merchant, loan["id"]), write=False)
    assert repaid == f"END Repaid P100.00. Still to pay {pesos(after['balance']['payoff_minor'])}."
    assert (
        after["paid"]["principal_minor"]
        + after["paid"]["interest_minor"]
        + after["paid"]["fee_minor"]
        + after["paid"]["penalty_minor"]
        == 10_000
    )


def test_later_steps_read_the_session_and_write_nothing(
    phone: Phone, barangay: Barangay, clock
) -> None:
    """The session row is written once, at the first step: a later step's transaction is
    read only (no write lock on SQLite, no WAL flush on PostgreSQL)."""
    from tindahan.store.ussd_tables import ussd_sessions

    def row() -> tuple[int, int, int]:
        found = barangay.platform.run(
            lambda u: u.conn.execute(
                select(
                    ussd_sessions.c.started_at_ns,
                    ussd_sessions.c.last_step_ns,
                    ussd_sessions.c.steps,
                )
            ).one(),
            write=False,
        )
        return (found[0], found[1], found[2])

    phone.dial()
    first = row()
    clock.advance(5)
    assert phone.dial("3").startswith("CON Pay a store")
    assert phone.dial("3", barangay.merchant_code).startswith("CON Pay Aling Nena")
    assert row() == first


def test_a_look_up_screen_is_one_read_only_transaction(
    phone: Phone, barangay: Barangay, monkeypatch
) -> None:
    """A later step reads the person, the session and what its screen shows (the store's
    name, the confirmation, the balance) in one read-only transaction, not two."""
    runs: list[bool] = []
    real = Platform.run

    def counted(self: Platform, work: Callable[[Unit], T], *, write: bool = True) -> T:
        runs.append(write)
        return real(self, work, write=write)

    phone.dial()
    monkeypatch.setattr(Platform, "run", counted)
    steps = [
        (("3", barangay.merchant_code), "CON Pay Aling Nena"),
        (("3", barangay.merchant_code, "25"), "CON Pay P25.00 to Aling Nena"),
    ]
    for typed, shown in steps:
        runs.clear()
        assert phone.dial(*typed).startswith(shown)
        assert runs == [False], typed
    runs.clear()
    assert phone.new_session().dial().startswith("CON ")  # a first step: the session's write
    runs.clear()
    assert phone.dial("1").startswith("END Balance")
    assert runs == [False]
