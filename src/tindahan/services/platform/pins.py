"""The PIN asked before money leaves the web app (issue 21, item 7): paying an order or a
payment request, and accepting a loan, on a phone that may have been left unlocked.

Why it is built this way:
* **Which secret.** The person's payment PIN (``limits.PAY_PIN_DIGITS`` digits, set on their
  PIN page) when they have set one, else their sign-in secret (a PIN or a password): nobody
  is asked for a PIN they never chose. Both are Argon2id hashes (``logins.hash_secret``).
* **When.** Within ``limits.PAY_FRESH_SIGNIN_S`` of signing in, nothing is asked: the secret
  was just typed (the session's start is the proof). After that, every payment asks.
* **The same lock-out as signing in, one implementation.** Each try is counted by
  ``logins.take_try`` in the very buckets a sign-in on the same number uses (per number and
  browser, per number, per address, per PIN, site-wide): wrong PINs at the till and wrong
  PINs at the sign-in page add up, a throttled try is refused (``SignInThrottledError``)
  without checking the PIN, and a right PIN gives its try back.
* **Changing the payment PIN asks for the sign-in secret** (through the same throttles), so a
  borrowed phone cannot set a new PIN and then pay with it; the change is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError, invalid
from tindahan.services.platform import audit, logins, throttles
from tindahan.services.platform.logins import Viewer
from tindahan.services.unit import Platform, Unit
from tindahan.store.web_tables import logins as login_table

_SECOND = 10**9


def needed(platform: Platform, viewer: Viewer) -> bool:
    """Whether paying now asks for the PIN (not within the fresh-sign-in window)."""
    fresh_until = viewer.signed_in_ns + limits.PAY_FRESH_SIGNIN_S * _SECOND
    return platform.now() >= fresh_until


def check_pin(pin: str) -> str:
    """A payment PIN: exactly ``PAY_PIN_DIGITS`` digits, not one digit repeated or a run."""
    if not (pin.isascii() and pin.isdigit() and len(pin) == limits.PAY_PIN_DIGITS):
        raise invalid("pin_invalid", f"a PIN is {limits.PAY_PIN_DIGITS} digits", "pin")
    try:
        logins.check_secret(pin)  # six digits: only the runs check can refuse it
    except RefusalError as weak:
        raise invalid("pin_weak", weak.message, "pin") from weak
    return pin


def _wrong(param: str) -> RefusalError:
    return RefusalError(Category.AUTHENTICATION, "pin_wrong", "wrong PIN", param)


def _row(unit: Unit, login_id: str) -> Any:
    query = select(login_table.c.phone_index, login_table.c.secret_hash, login_table.c.pay_pin_hash)
    return unit.conn.execute(query.where(login_table.c.id == login_id)).mappings().one()


def _check(
    platform: Platform,
    viewer: Viewer,
    secret: str,
    client: str,
    device: str | None,
    *,
    sign_in_secret: bool,
    param: str,
) -> None:
    row = platform.run(lambda unit: _row(unit, viewer.login_id), write=False)
    buckets = logins.take_try(platform, row["phone_index"], secret, client, device)
    encoded = row["secret_hash"] if sign_in_secret else row["pay_pin_hash"] or row["secret_hash"]
    if len(secret) > limits.PASSWORD_MAX_LENGTH or not logins.verify(encoded, secret):
        raise _wrong(param)
    platform.run(lambda unit: throttles.give_back(unit, buckets))


def confirm(platform: Platform, viewer: Viewer, pin: str, client: str, device: str | None) -> None:
    """Let money leave: nothing when the sign-in is fresh, else the right PIN (refused:
    ``pin_wrong``, or ``SignInThrottledError`` after too many wrong tries)."""
    if not needed(platform, viewer):
        return
    if not pin:
        raise invalid("pin_missing", "enter your PIN", "pin")
    _check(platform, viewer, pin, client, device, sign_in_secret=False, param="pin")


def has_pin(platform: Platform, viewer: Viewer) -> bool:
    row = platform.run(lambda unit: _row(unit, viewer.login_id), write=False)
    return row["pay_pin_hash"] is not None


def set_pin(
    platform: Platform,
    viewer: Viewer,
    secret: str,
    new_pin: str,
    client: str,
    device: str | None,
) -> None:
    """Set or change the payment PIN, proved by the sign-in ``secret``."""
    check_pin(new_pin)
    if not secret:
        raise invalid("secret_missing", "enter your sign-in PIN or password", "secret")
    _check(platform, viewer, secret, client, device, sign_in_secret=True, param="secret")
    hashed = logins.hash_secret(new_pin)

    def store(unit: Unit) -> None:
        had = _row(unit, viewer.login_id)["pay_pin_hash"] is not None
        change = update(login_table).where(login_table.c.id == viewer.login_id)
        unit.conn.execute(change.values(pay_pin_hash=hashed))
        action = "login.pay_pin_changed" if had else "login.pay_pin_set"
        audit.record(unit, viewer.login_id, action, "login", viewer.login_id)

    platform.run(store)
