"""The USSD menus as a state machine over what was typed (issue 24, item 1).

An aggregator sends, at every step, *all* the inputs of the session so far joined by ``*``
(``"3*1234566*50"``): the state is the text itself. ``route`` walks it from the top each
time and answers one of:

* ``Prompt`` — a fixed screen (the main menu, "Enter the amount"); the session goes on;
* ``Refusal`` — bad input (a letter in an amount, an unknown choice); the session ends with
  a short reason and nothing is done. Ending, not re-asking: the wrong input stays in the
  text for the rest of the session, and a person redials in a second;
* ``Stage`` — a step the service must look something up for (a merchant's name, the
  balance) or act on (``stage == "do"``: money moves, after the PIN).

Every input is checked again at each step, so a later step never trusts an earlier one.
Amounts are whole pesos (a keypad's ``*`` is the separator, and there is no decimal point);
phone numbers are Philippine mobiles in any usual form (``0917…``, ``63917…``, ``+63917…``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tindahan import limits
from tindahan.ussd import codes
from tindahan.ussd.catalog import N_

#: What a keypad sends: digits, ``*`` and ``#`` (the separator is ``*``), ``+``, and letters
#: and spaces for a name (phones with a letter mode).
_TYPED = re.compile(r"[0-9A-Za-z +#'.,-]*")
_PH_MOBILE = re.compile(r"(?:\+?63|0)?(9\d{9})")


class Flow(enum.StrEnum):
    SIGNUP = "signup"
    MENU = "menu"
    BALANCE = "balance"
    SEND = "send"
    MERCHANT = "merchant"
    CASH_OUT = "cash_out"
    REQUEST = "request"
    LOAN = "loan"
    PIN = "pin"
    LANGUAGE = "language"
    RESET = "reset"


#: The main menu's choices, in the order shown.
CHOICES: Mapping[str, Flow] = {
    "1": Flow.BALANCE,
    "2": Flow.SEND,
    "3": Flow.MERCHANT,
    "4": Flow.CASH_OUT,
    "5": Flow.REQUEST,
    "6": Flow.LOAN,
    "7": Flow.PIN,
    "8": Flow.LANGUAGE,
    "9": Flow.RESET,
}
LANGUAGES: Mapping[str, str] = {"1": "en", "2": "fil", "3": "ceb"}
#: The main menu's lines (``main_screen``), each translated on its own.
LABELS: Mapping[str, str] = {
    "1": N_("Balance"),
    "2": N_("Send money"),
    "3": N_("Pay a store"),
    "4": N_("Cash out"),
    "5": N_("Pay a request"),
    "6": N_("Loan"),
    "7": N_("Change PIN"),
    "8": N_("Language"),
    "9": N_("Forgot PIN"),
}
#: The ``Prompt`` of the main menu (not a msgid: ``main_screen`` writes it).
MAIN = "main menu"
LANGUAGE_MENU = N_("Choose a language:\n1 English\n2 Filipino\n3 Cebuano")
RESET_MENU = N_("Forgot PIN. We send a code by SMS.\n1 Send me a code\n2 I have a code")
#: What the person is asked for the code (also after "1 Send me a code").
ASK_CODE = N_("Enter the {digits}-digit code from the SMS:")


def main_screen(translate: Callable[[str], str]) -> str:
    lines = [f"{key} {translate(label)}" for key, label in LABELS.items() if key in CHOICES]
    return "\n".join(["Tindahan", *lines])


@dataclass(frozen=True)
class Prompt:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    flow: Flow
    stage: str
    values: Mapping[str, Any] = field(default_factory=dict)
    #: What was typed at this step when it is a PIN (kept out of ``values`` and of any
    #: fingerprint: a PIN is never stored, hashed or logged outside the login's own hash).
    pin: str = ""
    #: A one-time code typed at this step, kept out of ``values`` for the same reason.
    code: str = ""


Step = Prompt | Refusal | Stage


class MalformedTextError(ValueError):
    """The session text is not what a phone can send."""


def inputs(text: str) -> list[str]:
    """The inputs typed so far: ``""`` is none; ``"1*2"`` is two."""
    if len(text) > limits.USSD_TEXT_MAX_LENGTH or not _TYPED.fullmatch(text.replace("*", "")):
        raise MalformedTextError("the session text holds characters a phone does not send")
    return text.split("*") if text else []


# --- typed values ----------------------------------------------------------------------------
def pesos(typed: str) -> int | None:
    """Whole pesos as centavos, or None: digits only, no sign, no decimals, not zero."""
    if not typed.isascii() or not typed.isdigit() or len(typed) > limits.USSD_AMOUNT_MAX_DIGITS:
        return None
    value = int(typed) * 100
    return value if value > 0 else None


def mobile(typed: str) -> str | None:
    """A Philippine mobile number in E.164 (``+639171234567``), or None."""
    match = _PH_MOBILE.fullmatch(typed.replace(" ", ""))
    return "+63" + match.group(1) if match else None


def pin_format(typed: str) -> bool:
    return typed.isascii() and typed.isdigit() and len(typed) == limits.PAY_PIN_DIGITS


def name(typed: str) -> str | None:
    clean = " ".join(typed.split())
    letters = sum(c.isalpha() for c in clean)
    if letters < 2 or len(clean) > limits.USSD_NAME_MAX_LENGTH:
        return None
    return clean


# --- the walk --------------------------------------------------------------------------------
def route(typed: Sequence[str], *, signup: bool) -> Step:
    """Where a session stands after ``typed`` (``signup``: the phone had no account when
    the session began)."""
    if any(not part for part in typed):
        return Refusal("Nothing was entered.")
    if signup:
        return _signup(typed)
    if not typed:
        return Prompt(MAIN)
    flow = CHOICES.get(typed[0])
    if flow is None:
        return Refusal("That is not one of the choices.")
    return _FLOWS[flow](typed[1:])


def _signup(typed: Sequence[str]) -> Step:
    if not typed:
        return Prompt("Welcome to Tindahan. To open a wallet, enter your full name:")
    full_name = name(typed[0])
    if full_name is None:
        return Refusal("Enter your name in letters.")
    if len(typed) == 1:
        return Prompt("Choose a PIN of {digits} digits:", {"digits": limits.PAY_PIN_DIGITS})
    if not pin_format(typed[1]):
        return Refusal("A PIN is {digits} digits.", {"digits": limits.PAY_PIN_DIGITS})
    if len(typed) == 2:
        return Stage(Flow.SIGNUP, "pin_chosen", pin=typed[1])
    if typed[2] != typed[1]:
        return Refusal("The two PINs differ. Nothing was saved.")
    if len(typed) == 3:
        return Stage(Flow.SIGNUP, "do", {"name": full_name}, pin=typed[1])
    return Refusal("This session is over.")


def _balance(typed: Sequence[str]) -> Step:
    return Stage(Flow.BALANCE, "show") if not typed else Refusal("This session is over.")


def _money_flow(
    flow: Flow, ask: str, read: Any, wrong: str, key: str, typed: Sequence[str]
) -> Step:
    """Who, how much, PIN: the shape of sending, paying a store and cashing out."""
    if not typed:
        return Prompt(ask)
    who = read(typed[0])
    if who is None:
        return Refusal(wrong)
    if len(typed) == 1:
        return Stage(flow, "payee", {key: who})
    amount = pesos(typed[1])
    if amount is None:
        return Refusal("Enter the amount in whole pesos, digits only.")
    values = {key: who, "amount_minor": amount}
    if len(typed) == 2:
        return Stage(flow, "confirm", values)
    if not pin_format(typed[2]):
        return Refusal("A PIN is {digits} digits.", {"digits": limits.PAY_PIN_DIGITS})
    if len(typed) == 3:
        return Stage(flow, "do", values, pin=typed[2])
    return Refusal("This session is over.")


def _send(typed: Sequence[str]) -> Step:
    ask = N_("Send money. Enter the mobile number:")
    wrong = N_("That is not a mobile number. Use 09XXXXXXXXX.")
    return _money_flow(Flow.SEND, ask, mobile, wrong, "mobile", typed)


def _merchant(typed: Sequence[str]) -> Step:
    ask = N_("Pay a store. Enter its merchant code:")
    wrong = N_("A merchant code is {digits} digits, as on the store's poster.")
    step = _money_flow(Flow.MERCHANT, ask, codes.normalize, wrong, "code", typed)
    return Refusal(wrong, {"digits": codes.LENGTH}) if step == Refusal(wrong) else step


def _cash_out(typed: Sequence[str]) -> Step:
    ask = N_("Cash out. Enter the agent code:")
    wrong = N_("An agent code is {digits} digits, as on the agent's poster.")
    step = _money_flow(Flow.CASH_OUT, ask, codes.normalize, wrong, "code", typed)
    return Refusal(wrong, {"digits": codes.LENGTH}) if step == Refusal(wrong) else step


def _request(typed: Sequence[str]) -> Step:
    if not typed:
        return Prompt("Pay a request. Enter its reference:")
    ref = typed[0].upper()
    if len(ref) != limits.USSD_REQUEST_REF_LENGTH or not ref.isalnum():
        return Refusal(
            "A reference is {length} letters and digits.",
            {"length": limits.USSD_REQUEST_REF_LENGTH},
        )
    if len(typed) == 1:
        return Stage(Flow.REQUEST, "confirm", {"ref": ref})
    if not pin_format(typed[1]):
        return Refusal("A PIN is {digits} digits.", {"digits": limits.PAY_PIN_DIGITS})
    if len(typed) == 2:
        return Stage(Flow.REQUEST, "do", {"ref": ref}, pin=typed[1])
    return Refusal("This session is over.")


def _loan(typed: Sequence[str]) -> Step:
    if not typed:
        return Stage(Flow.LOAN, "show")
    if typed[0] != "1":
        return Refusal("That is not one of the choices.")
    if len(typed) == 1:
        return Prompt("Repay. Enter the amount in pesos:")
    amount = pesos(typed[1])
    if amount is None:
        return Refusal("Enter the amount in whole pesos, digits only.")
    if len(typed) == 2:
        return Stage(Flow.LOAN, "confirm", {"amount_minor": amount})
    if not pin_format(typed[2]):
        return Refusal("A PIN is {digits} digits.", {"digits": limits.PAY_PIN_DIGITS})
    if len(typed) == 3:
        return Stage(Flow.LOAN, "do", {"amount_minor": amount}, pin=typed[2])
    return Refusal("This session is over.")


def _pin(typed: Sequence[str]) -> Step:
    digits = {"digits": limits.PAY_PIN_DIGITS}
    if not typed:
        return Prompt("Change PIN. Enter your current PIN:")
    if len(typed) == 1:
        return Prompt("Enter a new PIN of {digits} digits:", digits)
    if not pin_format(typed[1]):
        return Refusal("A PIN is {digits} digits.", digits)
    if len(typed) == 2:
        return Stage(Flow.PIN, "new", pin=typed[1])
    if typed[2] != typed[1]:
        return Refusal("The two PINs differ. Nothing was saved.")
    if len(typed) == 3:
        return Stage(Flow.PIN, "do", {"new": typed[1]}, pin=typed[0])
    return Refusal("This session is over.")


def _language(typed: Sequence[str]) -> Step:
    if not typed:
        return Prompt(LANGUAGE_MENU)
    chosen = LANGUAGES.get(typed[0])
    if chosen is None:
        return Refusal("That is not one of the choices.")
    if len(typed) == 1:
        return Stage(Flow.LANGUAGE, "do", {"language": chosen})
    return Refusal("This session is over.")


def code_format(typed: str) -> bool:
    return typed.isascii() and typed.isdigit() and len(typed) == limits.OTP_DIGITS


def _reset(typed: Sequence[str]) -> Step:
    """Forgot PIN: ``1`` sends a reset code by SMS and asks for it in the same session
    (phones that can read an SMS during a USSD session); ``2`` is for a code already
    received (phones that cannot: hang up, read it, dial again). Then the new PIN twice."""
    pin_digits = {"digits": limits.PAY_PIN_DIGITS}
    if not typed:
        return Prompt(RESET_MENU)
    if typed[0] not in ("1", "2"):
        return Refusal("That is not one of the choices.")
    if len(typed) == 1:
        if typed[0] == "1":
            return Stage(Flow.RESET, "send")
        return Prompt(ASK_CODE, {"digits": limits.OTP_DIGITS})
    if not code_format(typed[1]):
        return Refusal("A code is {digits} digits.", {"digits": limits.OTP_DIGITS})
    if len(typed) == 2:
        return Prompt("Enter a new PIN of {digits} digits:", pin_digits)
    if not pin_format(typed[2]):
        return Refusal("A PIN is {digits} digits.", pin_digits)
    if len(typed) == 3:
        return Stage(Flow.RESET, "new", pin=typed[2])
    if typed[3] != typed[2]:
        return Refusal("The two PINs differ. Nothing was saved.")
    if len(typed) == 4:
        return Stage(Flow.RESET, "do", pin=typed[2], code=typed[1])
    return Refusal("This session is over.")


_FLOWS = {
    Flow.BALANCE: _balance,
    Flow.SEND: _send,
    Flow.MERCHANT: _merchant,
    Flow.CASH_OUT: _cash_out,
    Flow.REQUEST: _request,
    Flow.LOAN: _loan,
    Flow.PIN: _pin,
    Flow.LANGUAGE: _language,
    Flow.RESET: _reset,
}
