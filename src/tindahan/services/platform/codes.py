"""One-time codes sent by SMS: proof that a person holds a phone number (self sign-up, PIN
reset; issue 24).

Why it is built this way:
* **Six random digits** (``secrets``), **single use**, **five minutes**, **three tries**
  (``limits.OTP_*``; NIST SP 800-63B 5.1.3). A wrong try counts against the code; the third
  wrong one kills it, and a new code must be asked for. A right one is spent at once.
* **Stored as a keyed hash**: HMAC-SHA256 under the vault's blind-index key over the code's
  own id and the code (``vault.index``), so a copy of the database holds no code, and a
  million guesses against it need the key. The number is stored the same way (its blind
  index), never in clear.
* **One live code per number and purpose**: asking again replaces the old one, but not
  before ``limits.OTP_RESEND_AFTER_S`` (the resend cool-down; the answer says how long to
  wait).
* **Limits against enumeration and spraying**, in the sign-in throttles' table
  (``throttles``): codes sent per number per hour (nobody's phone is bombarded, and an SMS
  costs the operator), per client address per hour (one address cannot walk through
  numbers), site-wide per minute (an SMS-pumping attack costs at most that), and codes
  *checked* per address per quarter hour (guessing over many numbers' codes stops there).
* **The same answer whatever the number**: asking for a code says "sent" for every valid
  number; a PIN-reset code is only actually sent to a number with a login, and a sign-up
  code to a number that has one is refused only once the code is proved (to the phone's
  holder, who may learn it). A wrong, expired, used or never-sent code all get the same
  ``code_wrong`` refusal.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError, conflict, invalid
from tindahan.payments import parties as rules
from tindahan.services.platform import sms, throttles
from tindahan.services.unit import Platform, Unit, new_id
from tindahan.store.web_tables import logins, one_time_codes

PURPOSES = ("signup", "reset")
_KIND = {"signup": "code_signup", "reset": "code_reset"}
_SECOND = 10**9

NUMBER_SENDS = throttles.Rule("otp-number", limits.OTP_NUMBER_SENDS, limits.OTP_NUMBER_WINDOW_S)
CLIENT_SENDS = throttles.Rule("otp-client", limits.OTP_CLIENT_SENDS, limits.OTP_CLIENT_WINDOW_S)
SITE_SENDS = throttles.Rule("otp-site", limits.OTP_SITE_SENDS, limits.OTP_SITE_WINDOW_S)
CLIENT_CHECKS = throttles.Rule(
    "otp-check", limits.OTP_CLIENT_CHECKS, limits.OTP_CLIENT_CHECK_WINDOW_S
)


class CodeThrottledError(RefusalError):
    """Too many codes asked for or checked from here or for this number: wait."""

    def __init__(self, retry_after: int) -> None:
        message = f"too many codes: wait {retry_after} seconds, then try again"
        super().__init__(Category.AUTHENTICATION, "code_throttled", message, None)
        self.retry_after = retry_after


class ResendTooSoonError(RefusalError):
    def __init__(self, retry_after: int) -> None:
        message = f"a code was just sent: wait {retry_after} seconds to ask for another"
        super().__init__(Category.CONFLICT, "code_resend_wait", message, None)
        self.retry_after = retry_after


def wrong() -> RefusalError:
    message = "this code is wrong or has expired: check the SMS, or ask for a new code"
    return RefusalError(Category.AUTHENTICATION, "code_wrong", message, "code")


def _purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise invalid("purpose_invalid", "a code is for signup or reset", "purpose")
    return purpose


def _hash(unit: Unit, code_id: str, code: str) -> str:
    return unit.vault.index(f"otp:{code_id}:{code}")


def _take(unit: Unit, buckets: list[throttles.Bucket]) -> None:
    taken = throttles.take(unit, buckets)
    if taken.wait_s:
        raise CodeThrottledError(taken.wait_s)


def _live(unit: Unit, index: str, purpose: str) -> Any:
    """The number's newest code for this purpose, if any (spent or not)."""
    query = (
        select(one_time_codes)
        .where(one_time_codes.c.phone_index == index, one_time_codes.c.purpose == purpose)
        .order_by(one_time_codes.c.created_at_ns.desc())
        .limit(1)
    )
    return unit.conn.execute(query).mappings().first()


@dataclass(frozen=True)
class Sent:
    phone: str  # the number as normalised (+639…)
    resend_after_s: int


def send(platform: Platform, phone: str, purpose: str, client: str, language: str | None) -> Sent:
    """Send a code for ``purpose`` to ``phone``, asked from ``client`` (the address). The
    same answer whether or not the number has a login (see the module's docstring)."""
    number = rules.phone_number(phone)
    _purpose(purpose)

    def work(unit: Unit) -> Sent:
        index = unit.vault.index(number)
        address = unit.vault.index(f"client:{client}")
        now = unit.now()
        last = _live(unit, index, purpose)
        if last is not None:
            ready_at = last["created_at_ns"] + limits.OTP_RESEND_AFTER_S * _SECOND
            if now < ready_at:
                raise ResendTooSoonError(max(1, -(-(ready_at - now) // _SECOND)))
        _take(
            unit,
            [
                throttles.Bucket(SITE_SENDS, "otp-site"),
                throttles.Bucket(CLIENT_SENDS, f"otp-client:{address}"),
                throttles.Bucket(NUMBER_SENDS, f"otp-number:{index}:{purpose}"),
            ],
        )
        if last is not None and last["used_at_ns"] is None:  # the old code dies
            unit.conn.execute(
                update(one_time_codes)
                .where(one_time_codes.c.id == last["id"])
                .values(used_at_ns=now)
            )
        code = f"{secrets.randbelow(10**limits.OTP_DIGITS):0{limits.OTP_DIGITS}d}"
        code_id = new_id("otp")
        unit.conn.execute(
            insert(one_time_codes).values(
                id=code_id,
                phone_index=index,
                purpose=purpose,
                code_hash=_hash(unit, code_id, code),
                tries=0,
                created_at_ns=now,
                expires_at_ns=now + limits.OTP_TTL_S * _SECOND,
                used_at_ns=None,
            )
        )
        has_login = (
            unit.conn.execute(select(logins.c.id).where(logins.c.phone_index == index)).first()
            is not None
        )
        if purpose == "signup" or has_login:  # a reset code only to a number with a login
            sms.queue_to_number(unit, number, language, _KIND[purpose], {"code": code})
        return Sent(number, limits.OTP_RESEND_AFTER_S)

    return platform.run(work)


def check(unit: Unit, phone: str, purpose: str, code: str, client: str) -> str:
    """Spend the code (inside the caller's transaction, which then does what the code
    allows); the number, normalised. ``code_wrong`` for anything but the live right code;
    a wrong try is counted even though the caller's transaction rolls back (``aftermath``).
    """
    number = rules.phone_number(phone)
    _purpose(purpose)
    index = unit.vault.index(number)
    address = unit.vault.index(f"client:{client}")
    _take(unit, [throttles.Bucket(CLIENT_CHECKS, f"otp-check:{address}")])
    now = unit.now()
    found = _live(unit, index, purpose)
    typed = "".join(code.split())
    usable = (
        found is not None
        and found["used_at_ns"] is None
        and now < found["expires_at_ns"]
        and found["tries"] < limits.OTP_MAX_TRIES
    )
    if not usable or found is None:
        raise wrong()
    right = (
        len(typed) == limits.OTP_DIGITS
        and typed.isascii()
        and typed.isdigit()
        and secrets.compare_digest(_hash(unit, found["id"], typed), found["code_hash"])
    )
    if not right:
        refusal = wrong()
        refusal.aftermath = lambda later: _count_wrong(later, found["id"], address)
        raise refusal
    spent = unit.conn.execute(
        update(one_time_codes)
        .where(one_time_codes.c.id == found["id"], one_time_codes.c.used_at_ns.is_(None))
        .values(used_at_ns=now)
    )
    if spent.rowcount != 1:  # spent by a twin request a moment ago: single use
        raise wrong()
    return number


def _count_wrong(unit: Unit, code_id: str, address: str) -> None:
    """A wrong try, kept although the request rolled back: the code's count, and the
    address's check (its count was rolled back with the request)."""
    tries = one_time_codes.c.tries
    unit.conn.execute(
        update(one_time_codes)
        .where(one_time_codes.c.id == code_id, tries < limits.OTP_MAX_TRIES)
        .values(tries=tries + 1)
    )
    throttles.take(unit, [throttles.Bucket(CLIENT_CHECKS, f"otp-check:{address}")])


def refuse_if_taken(unit: Unit, index: str) -> None:
    if unit.conn.execute(select(logins.c.id).where(logins.c.phone_index == index)).first():
        raise conflict(
            "phone_taken",
            "this number already has an account: sign in, or reset your PIN",
            "phone",
        )
