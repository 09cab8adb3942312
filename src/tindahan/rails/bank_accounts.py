"""A party's bank account as a destination: what a number and a name must look like.

People write account numbers with spaces and dashes (``0012-3456-7890``); the number kept
(encrypted, see ``services.rails.bank_accounts``) is its digits only, so one account is one
number. It is shown masked, the last four digits after bullets (``•••• 7890``), as on a bank
card. The account name is the holder's name as the bank has it (``BE01`` is the rejection a
mismatch earns), at most ``limits.NAME_MAX_LENGTH`` characters.
"""

from __future__ import annotations

import re

from tindahan import limits
from tindahan.kernel.refusals import invalid
from tindahan.payments.parties import text

_SEPARATORS = re.compile(r"[\s-]")
_DIGITS = re.compile(r"[0-9]+")


def account_number(raw: object) -> str:
    value = _SEPARATORS.sub("", raw) if isinstance(raw, str) else ""
    low, high = limits.BANK_ACCOUNT_NUMBER_MIN_DIGITS, limits.BANK_ACCOUNT_NUMBER_MAX_DIGITS
    if not _DIGITS.fullmatch(value) or not low <= len(value) <= high:
        message = f"an account number is {low} to {high} digits (spaces and dashes allowed)"
        raise invalid("account_number_invalid", message, "account_number")
    return value


def account_name(raw: object) -> str:
    if not isinstance(raw, str):
        raise invalid("parameter_invalid", "account_name is text", "account_name")
    return text(raw, "account_name", limits.NAME_MAX_LENGTH)


def masked(number: str) -> str:
    """``"001234567890"`` → ``"•••• 7890"``."""
    return "•••• " + number[-4:]
