"""Signing up by oneself, and resetting a forgotten PIN, with a one-time code by SMS
(issue 24; until now the operator made every login).

* **Sign-up** makes a *customer*: a buyer's wallet at the default KYC tier (the lowest, with
  its limits, as for any customer the operator makes without an ID), with a web login whose
  PIN the person chose twice. The code proves the phone; the PIN is checked by the payment
  PIN's rules (``pins.check_pin``: six digits, not a run) and becomes the sign-in PIN, so a
  person who signed up has one PIN for everything until they set a separate payment PIN.
  Party, wallets, login, language and audit entry are one transaction.
* A number that already has a **party without a login** (a customer an agent or the operator
  registered by phone) gets the login on that party: the code proves it is theirs. A
  merchant's or agent's number is refused (their sign-in is made with their onboarding),
  and so is a number that has a login (sign in, or reset the PIN).
* **PIN reset** replaces the sign-in PIN and clears the payment PIN (someone who forgot one
  has usually forgotten both; payments then ask the new PIN until a payment PIN is set
  again), ends every open session of the login (whoever had the phone before is signed
  out), and is audited.
* The PINs are compared and checked before the code is: a typing slip does not spend it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import conflict, invalid
from tindahan.payments import parties as rules
from tindahan.payments.model import PartyKind
from tindahan.services.platform import audit, codes, logins, parties, pins, sms
from tindahan.services.unit import Platform, Unit
from tindahan.sms import texts
from tindahan.store.payment_tables import parties as party_table
from tindahan.store.web_tables import logins as login_table

#: Who makes a self-signed-up party and login (named in their audit entries).
SIGNUP = Caller("signup", None, frozenset(DEFAULT_SCOPES))


def _pins(pin: str, again: str) -> str:
    if not pin:
        raise invalid("pin_missing", "choose a PIN", "pin")
    pins.check_pin(pin)
    if pin != again:
        raise invalid("pin_mismatch", "the two PINs differ: type the same PIN twice", "pin_again")
    return pin


def check_details(phone: str, name: str) -> tuple[str, str]:
    """The number and name, normalised (before a code is sent for them)."""
    return rules.phone_number(phone), rules.name(name)


def sign_up(
    platform: Platform,
    *,
    phone: str,
    name: str,
    code: str,
    pin: str,
    pin_again: str,
    client: str,
    language: str | None,
    device: str | None = None,
) -> logins.SignedIn:
    """A customer with a login, proved by the sign-up code; signed in."""
    number, display = check_details(phone, name)
    chosen = _pins(pin, pin_again)
    lang = texts.language_of(language)

    def work(unit: Unit) -> None:
        codes.check(unit, number, "signup", code, client)
        index = unit.vault.index(number)
        codes.refuse_if_taken(unit, index)
        existing = _party_by_phone(unit, index)
        if existing is None:
            made = parties.create(unit, SIGNUP, parties.NewParty("customer", display, phone=number))
            party_id = str(made["id"])
        elif existing["kind"] != PartyKind.CUSTOMER:
            raise conflict(
                "phone_taken",
                "this number belongs to a business: ask the operator for its sign-in",
                "phone",
            )
        else:
            party_id = str(existing["id"])
        sms.set_language(unit, party_id, lang)
        logins.create(unit, SIGNUP, party_id=party_id, phone=number, secret=chosen)
        audit.record(unit, "signup", "party.signed_up", "party", party_id, None, {})

    platform.run(work)
    return logins.sign_in(platform, number, chosen, client, device)


def _party_by_phone(unit: Unit, index: str) -> Any:
    query = select(party_table.c.id, party_table.c.kind).where(party_table.c.phone_index == index)
    return unit.conn.execute(query).mappings().first()


def reset_pin(
    platform: Platform, *, phone: str, code: str, pin: str, pin_again: str, client: str
) -> None:
    """A new sign-in PIN for the login of ``phone``, proved by the reset code."""
    number = rules.phone_number(phone)
    hashed = logins.hash_secret(_pins(pin, pin_again))
    platform.run(lambda unit: reset_in(unit, number, code, hashed, client, {}))


def reset_in(
    unit: Unit, number: str, code: str, hashed: str, client: str, details: dict[str, Any]
) -> str:
    """The reset inside the caller's transaction (USSD runs it under its idempotency key):
    spends the code, sets the hashed new PIN, clears the payment PIN, ends the sessions,
    audits; the login's id. ``hashed`` is ``logins.hash_secret`` of a PIN ``_pins`` passed."""
    codes.check(unit, number, "reset", code, client)
    index = unit.vault.index(number)
    login_id = unit.conn.execute(
        select(login_table.c.id).where(login_table.c.phone_index == index)
    ).scalar_one_or_none()
    if login_id is None:  # no code is sent to such a number; one left over: the same answer
        raise codes.wrong()
    unit.conn.execute(
        update(login_table)
        .where(login_table.c.id == login_id)
        .values(secret_hash=hashed, pay_pin_hash=None)
    )
    ended = logins.end_sessions(unit, login_id)
    audit.record(
        unit,
        "reset",
        "login.pin_reset",
        "login",
        login_id,
        None,
        {"sessions_ended": ended, **details},
    )
    return str(login_id)


def check_new_pin(pin: str, again: str) -> str:
    """The new PIN typed twice, checked (``pin_missing``, ``pin_weak``, ``pin_mismatch``…)."""
    return _pins(pin, again)
