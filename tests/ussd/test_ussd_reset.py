"""Forgot PIN over USSD (issue 24): a reset code sent by SMS and typed into the session, with
the web's code rules and limits, on SQLite and PostgreSQL through the HTTP callback."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.ussd.conftest import BUYER_PHONE, PIN, Barangay, Phone
from tindahan import limits
from tindahan.services.platform import keys, logins, sms
from tindahan.services.unit import Platform
from tindahan.store.web_tables import audit_log, one_time_codes
from tindahan.worker.sms import LocalGateway

NEW_PIN = "582913"
ASK_CODE = "CON Enter the 6-digit code from the SMS:"


@pytest.fixture(autouse=True)
def test_environment(platform: Platform) -> None:
    """The local gateway's outbox is read back only in a test environment."""
    keys.set_environment(platform, "test")


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch) -> None:
    """Argon2id at its smallest: the hash's cost is not what these tests are about."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        logins, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def inbox(barangay: Barangay) -> list[str]:
    sms.deliver_due(barangay.platform, LocalGateway())
    return barangay.platform.run(lambda u: sms.sent_to(u, BUYER_PHONE), write=False)


def last_code(barangay: Barangay) -> str:
    found = re.search(r"\b(\d{6})\b", inbox(barangay)[-1])
    assert found
    return found.group(1)


def pays(phone: Phone, barangay: Barangay, pin: str) -> str:
    return phone.run("3", barangay.merchant_code, "10", pin)


def test_the_menu_offers_forgot_pin(phone: Phone) -> None:
    assert "9 Forgot PIN" in phone.dial()
    assert phone.run("9") == (
        "CON Forgot PIN. We send a code by SMS.\n1 Send me a code\n2 I have a code"
    )
    assert phone.run("7") == "CON Change PIN. Enter your current PIN:"  # unchanged
    assert phone.run("9", "3") == "END That is not one of the choices."


def test_a_pin_is_reset_by_the_texted_code_in_the_same_session(
    phone: Phone, barangay: Barangay
) -> None:
    assert phone.run("9", "1") == ASK_CODE
    code = last_code(barangay)
    assert len(inbox(barangay)) == 1
    assert phone.dial("9", "1", code) == "CON Enter a new PIN of 6 digits:"
    assert phone.dial("9", "1", code, NEW_PIN) == "CON Enter the new PIN again:"
    done = "END Your PIN is reset. Use the new PIN here and on the web."
    assert phone.dial("9", "1", code, NEW_PIN, NEW_PIN) == done
    assert phone.dial("9", "1", code, NEW_PIN, NEW_PIN) == done  # the network resends: same
    assert pays(phone, barangay, PIN) == "END Wrong PIN. 2 tries left. Nothing was done."
    assert pays(phone, barangay, NEW_PIN).startswith("END Paid P10.00")
    entries = barangay.platform.run(
        lambda u: u.conn.execute(
            select(audit_log.c.details).where(audit_log.c.action == "login.pin_reset")
        ).all(),
        write=False,
    )
    assert len(entries) == 1 and '"ussd"' in str(entries[0][0])


def test_a_code_received_earlier_is_typed_in_a_new_session(
    phone: Phone, barangay: Barangay
) -> None:
    phone.run("9", "1")  # the person hangs up to read the SMS
    code = last_code(barangay)
    assert phone.run("9", "2") == ASK_CODE
    done = phone.run("9", "2", code, NEW_PIN, NEW_PIN)
    assert done == "END Your PIN is reset. Use the new PIN here and on the web."
    # single use: the same code again does nothing
    again = phone.run("9", "2", code, "693027", "693027")
    assert again.startswith("END The code is wrong or has expired. Nothing was saved.")
    assert pays(phone, barangay, NEW_PIN).startswith("END Paid P10.00")


def test_a_locked_pin_is_unlocked_by_the_reset(phone: Phone, barangay: Barangay) -> None:
    for wrong in ("999111", "999112", "999113"):
        pays(phone, barangay, wrong)
    assert pays(phone, barangay, PIN).startswith("END Your PIN is locked.")
    phone.run("9", "1")
    phone.run("9", "2", last_code(barangay), NEW_PIN, NEW_PIN)
    assert pays(phone, barangay, NEW_PIN).startswith("END Paid P10.00")
    assert barangay.available(barangay.buyer) == 100_000 - 1_000


def test_wrong_codes_count_once_each_and_the_third_kills_the_code(
    phone: Phone, barangay: Barangay
) -> None:
    phone.run("9", "1")
    code = last_code(barangay)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = phone.run("9", "2", wrong, NEW_PIN, NEW_PIN)
    assert refused == (
        "END The code is wrong or has expired. Nothing was saved. Dial again for a new code."
    )
    assert phone.dial("9", "2", wrong, NEW_PIN, NEW_PIN) == refused  # a resend: counted once

    def tries() -> int:
        return int(
            barangay.platform.run(
                lambda u: u.conn.execute(select(one_time_codes.c.tries)).scalar_one(), write=False
            )
        )

    assert tries() == 1
    phone.run("9", "2", wrong, NEW_PIN, NEW_PIN)
    phone.run("9", "2", wrong, NEW_PIN, NEW_PIN)
    assert tries() == limits.OTP_MAX_TRIES
    assert phone.run("9", "2", code, NEW_PIN, NEW_PIN) == refused  # even the right one now
    assert pays(phone, barangay, PIN).startswith("END Paid P10.00")  # the old PIN stands


def test_bad_input_does_not_spend_the_code(phone: Phone, barangay: Barangay) -> None:
    phone.run("9", "1")
    code = last_code(barangay)
    assert phone.run("9", "2", "12345") == "END A code is 6 digits."
    assert phone.run("9", "2", code, NEW_PIN, "582914") == (
        "END The two PINs differ. Nothing was saved."
    )
    assert phone.run("9", "2", code, "123456").startswith("END This PIN is too easy")
    assert phone.run("9", "2", code, "12a456") == "END A PIN is 6 digits."
    assert phone.run("9", "2", code, NEW_PIN, NEW_PIN).startswith("END Your PIN is reset.")


def test_the_resend_cool_down_and_the_number_limit(phone: Phone, barangay: Barangay, clock) -> None:
    assert phone.run("9", "1") == ASK_CODE
    assert phone.run("9", "1") == ASK_CODE  # within the cool-down: no second SMS
    assert len(inbox(barangay)) == 1
    for _ in range(limits.OTP_NUMBER_SENDS - 1):
        clock.advance(limits.OTP_RESEND_AFTER_S + 1)
        assert phone.run("9", "1") == ASK_CODE
    assert len(inbox(barangay)) == limits.OTP_NUMBER_SENDS
    clock.advance(limits.OTP_RESEND_AFTER_S + 1)
    assert phone.run("9", "1").startswith("END Too many codes. Try again in ")
    assert len(inbox(barangay)) == limits.OTP_NUMBER_SENDS


def test_in_cebuano_the_screens_and_the_sms(phone: Phone, barangay: Barangay) -> None:
    assert phone.run("8", "3").startswith("END ")
    assert phone.run("9") == (
        "CON Nakalimtan ang PIN. Magpadala mi og code pinaagi sa SMS.\n"
        "1 Padad-i ko og code\n2 Naa na koy code"
    )
    assert phone.run("9", "1").startswith("CON Ibutang ang 6 ka numero nga code")
    assert "code" in inbox(barangay)[-1] and "Tindahan" in inbox(barangay)[-1]
