"""One-time codes, self sign-up and PIN reset (services): six digits, single use, five
minutes, three tries, a resend cool-down, stored hashed, limits per number and per address,
the same answer for numbers with and without an account."""

from __future__ import annotations

import contextlib
import re
from functools import partial

import pytest
from sqlalchemy import select

from tests.sms.conftest import OPERATOR, person
from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.services.platform import codes, logins, signup, sms
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import parties
from tindahan.store.web_tables import audit_log, one_time_codes
from tindahan.worker.sms import LocalGateway

PHONE = "+639171234567"
HERE = "203.0.113.7"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch) -> None:
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        logins, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def inbox(platform: Platform, phone: str = PHONE) -> list[str]:
    sms.deliver_due(platform, LocalGateway())
    return platform.run(lambda u: sms.sent_to(u, phone), write=False)


def last_code(platform: Platform, phone: str = PHONE) -> str:
    found = re.search(r"\b(\d{6})\b", inbox(platform, phone)[-1])
    assert found
    return found.group(1)


def join(
    platform: Platform, code: str, pin: str = "240816", again: str | None = None, client: str = HERE
) -> logins.SignedIn:
    return signup.sign_up(
        platform,
        phone=PHONE,
        name="Maria Santos",
        code=code,
        pin=pin,
        pin_again=again if again is not None else pin,
        client=client,
        language="ceb",
    )


def refused(call) -> RefusalError:
    with pytest.raises(RefusalError) as caught:
        call()
    return caught.value


def test_sign_up_with_the_texted_code(platform: Platform) -> None:
    sent = codes.send(platform, "0917 123 4567", "signup", HERE, "ceb")
    assert sent.phone == PHONE
    text = inbox(platform)[-1]
    assert text.startswith("Tindahan: ") and "code sa pag-sign up" in text  # Cebuano
    made = join(platform, last_code(platform))
    assert made.viewer.kind == "customer" and made.viewer.name == "Maria Santos"
    party = platform.run(
        lambda u: (
            u.conn.execute(select(parties).where(parties.c.id == made.viewer.party_id))
            .mappings()
            .one()
        ),
        write=False,
    )
    assert party["language"] == "ceb" and party["tier"]
    # the code is spent: the same code does not work twice
    assert refused(lambda: join(platform, last_code(platform))).code in (
        "code_wrong",
        "phone_taken",
    )


def test_codes_are_stored_hashed_never_in_clear(platform: Platform) -> None:
    codes.send(platform, PHONE, "signup", HERE, None)
    code = last_code(platform)
    row = platform.run(
        lambda u: u.conn.execute(select(one_time_codes)).mappings().one(), write=False
    )
    assert code not in str(dict(row)) and PHONE not in str(dict(row))
    assert len(row["code_hash"]) == 64


def test_a_code_expires_after_five_minutes(platform: Platform, clock) -> None:
    codes.send(platform, PHONE, "signup", HERE, None)
    code = last_code(platform)
    clock.advance(limits.OTP_TTL_S)
    assert refused(lambda: join(platform, code)).code == "code_wrong"


def test_three_wrong_tries_kill_the_code(platform: Platform) -> None:
    codes.send(platform, PHONE, "signup", HERE, None)
    code = last_code(platform)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(limits.OTP_MAX_TRIES):
        assert refused(lambda: join(platform, wrong)).code == "code_wrong"
    assert refused(lambda: join(platform, code)).code == "code_wrong"  # even the right one
    assert platform.run(lambda u: u.conn.execute(select(parties)).first(), write=False) is None


def test_mismatched_or_weak_pins_do_not_spend_the_code(platform: Platform) -> None:
    codes.send(platform, PHONE, "signup", HERE, None)
    code = last_code(platform)
    assert refused(lambda: join(platform, code, "240816", "240817")).code == "pin_mismatch"
    assert refused(lambda: join(platform, code, "123456")).code == "pin_weak"
    assert refused(lambda: join(platform, code, "12ab")).code == "pin_invalid"
    assert join(platform, code).viewer.kind == "customer"


def test_resend_waits_for_the_cool_down_and_kills_the_old_code(platform: Platform, clock) -> None:
    codes.send(platform, PHONE, "signup", HERE, None)
    first = last_code(platform)
    wait = refused(lambda: codes.send(platform, PHONE, "signup", HERE, None))
    assert isinstance(wait, codes.ResendTooSoonError) and 0 < wait.retry_after <= 60
    clock.advance(limits.OTP_RESEND_AFTER_S)
    codes.send(platform, PHONE, "signup", HERE, None)
    second = last_code(platform)
    if first != second:
        assert refused(lambda: join(platform, first)).code == "code_wrong"
    assert join(platform, second).viewer.kind == "customer"


def test_codes_per_number_are_limited(platform: Platform, clock) -> None:
    for i in range(limits.OTP_NUMBER_SENDS):
        codes.send(platform, PHONE, "signup", f"198.51.100.{i}", None)
        clock.advance(limits.OTP_RESEND_AFTER_S)
    caught = refused(lambda: codes.send(platform, PHONE, "signup", "198.51.100.99", None))
    assert isinstance(caught, codes.CodeThrottledError) and caught.retry_after > 0
    assert len(inbox(platform)) == limits.OTP_NUMBER_SENDS  # no more SMS to that phone


def test_one_address_cannot_walk_through_numbers(platform: Platform) -> None:
    for i in range(limits.OTP_CLIENT_SENDS):
        codes.send(platform, f"+6391700000{i:02d}", "signup", HERE, None)
    caught = refused(lambda: codes.send(platform, "+639170000099", "signup", HERE, None))
    assert isinstance(caught, codes.CodeThrottledError)
    codes.send(platform, "+639170000099", "signup", "192.0.2.1", None)  # others are not held


def test_one_address_cannot_spray_guesses(platform: Platform) -> None:
    numbers = [f"+6391800000{i:02d}" for i in range(limits.OTP_CLIENT_CHECKS // 3 + 2)]
    for i, number in enumerate(numbers):
        codes.send(platform, number, "signup", f"192.0.2.{i}", None)
    answers = []
    for number in numbers:
        for _ in range(limits.OTP_MAX_TRIES):
            try:
                platform.run(
                    partial(codes.check, phone=number, purpose="signup", code="000000", client=HERE)
                )
            except codes.CodeThrottledError:
                answers.append("throttled")
            except RefusalError as wrong:
                answers.append(wrong.code)
    assert answers[: limits.OTP_CLIENT_CHECKS] == ["code_wrong"] * limits.OTP_CLIENT_CHECKS
    assert set(answers[limits.OTP_CLIENT_CHECKS :]) == {"throttled"}
    # another address is not held by this one's guesses
    with pytest.raises(RefusalError) as other:
        platform.run(lambda u: codes.check(u, numbers[-1], "signup", "000000", "192.0.2.200"))
    assert other.value.code == "code_wrong"


def test_reset_codes_go_only_to_numbers_with_a_login_and_the_answer_is_the_same(
    platform: Platform,
) -> None:
    unknown = codes.send(platform, "+639189999999", "reset", HERE, None)
    assert unknown.resend_after_s == limits.OTP_RESEND_AFTER_S
    assert inbox(platform, "+639189999999") == []  # nothing sent, the same answer


def test_pin_reset_ends_sessions_and_clears_the_payment_pin(platform: Platform, clock) -> None:
    codes.send(platform, PHONE, "signup", HERE, "fil")
    made = join(platform, last_code(platform))
    clock.advance(limits.OTP_RESEND_AFTER_S)
    codes.send(platform, PHONE, "reset", HERE, "fil")
    text = inbox(platform)[-1]
    assert "palitan ang PIN" in text
    code = last_code(platform)
    signup.reset_pin(
        platform, phone=PHONE, code=code, pin="907153", pin_again="907153", client=HERE
    )
    assert logins.viewer(platform, made.session_secret) is None  # signed out everywhere
    with pytest.raises(RefusalError):
        logins.sign_in(platform, PHONE, "240816", HERE)
    assert logins.sign_in(platform, PHONE, "907153", HERE).viewer.party_id == made.viewer.party_id
    actions = platform.run(
        lambda u: list(u.conn.execute(select(audit_log.c.action)).scalars()), write=False
    )
    assert "login.pin_reset" in actions and "party.signed_up" in actions
    # the reset code is single use
    again = refused(
        lambda: signup.reset_pin(
            platform, phone=PHONE, code=code, pin="907153", pin_again="907153", client=HERE
        )
    )
    assert again.code == "code_wrong"


def test_a_customer_registered_by_phone_gets_the_login_on_their_party(platform: Platform) -> None:
    existing = person(platform, "Maria S.", PHONE)
    codes.send(platform, PHONE, "signup", HERE, None)
    assert join(platform, last_code(platform)).viewer.party_id == existing


def test_a_business_number_and_a_number_with_a_login_are_refused(platform: Platform, clock) -> None:
    person(platform, "Nena Store", PHONE, kind="merchant")
    codes.send(platform, PHONE, "signup", HERE, None)
    assert refused(lambda: join(platform, last_code(platform))).code == "phone_taken"
    other = "+639181112222"
    owner = person(platform, "Ben", other)
    platform.run(lambda u: logins.create(u, OPERATOR, party_id=owner, phone=other, secret="240816"))
    codes.send(platform, other, "signup", HERE, None)
    caught = refused(
        lambda: signup.sign_up(
            platform,
            phone=other,
            name="X",
            code=last_code(platform, other),
            pin="907153",
            pin_again="907153",
            client=HERE,
            language=None,
        )
    )
    assert caught.code == "phone_taken"


def test_a_throttled_number_texts_its_owner_once_per_wait(platform: Platform) -> None:
    owner = person(platform, "Ben", PHONE, language="fil")
    platform.run(lambda u: logins.create(u, OPERATOR, party_id=owner, phone=PHONE, secret="240816"))
    for i in range(limits.SIGNIN_NUMBER_TRIES + 3):
        with contextlib.suppress(RefusalError):
            logins.sign_in(platform, PHONE, f"{i:06d}", f"198.51.100.{i}")
    texts = inbox(platform)
    assert len(texts) == 1 and texts[0].startswith("Tindahan: Maraming maling PIN")
