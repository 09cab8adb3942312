"""Short codes for merchants and agents, typed on a phone's keypad (issue 24).

A code is seven digits: six random ones and a Luhn check digit. Digits only, because on a
feature phone a letter takes several presses of one key and the USSD screen shows no
keyboard; random, not counted, so a code tells nothing about how many shops there are; the
check digit catches one mistyped digit and most swapped neighbours before anyone is named
("no such merchant code" rather than paying the wrong store). The same code is printed on
the merchant's QR poster, so a buyer without a camera or data pays the same merchant.
"""

from __future__ import annotations

import secrets

DIGITS = 6  # random digits; the seventh is the check digit
LENGTH = DIGITS + 1


def check_digit(digits: str) -> str:
    """The Luhn digit that makes ``digits + it`` pass (ISO/IEC 7812-1, Annex B)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: the rightmost of the payload sits left of the check
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def new() -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
    if body[0] == "0":  # no leading zero: some keypads and spreadsheets drop it
        body = str(secrets.choice(range(1, 10))) + body[1:]
    return body + check_digit(body)


def normalize(text: str) -> str | None:
    """A typed code in its stored form, or None if it cannot be one (length, a non-digit,
    a wrong check digit)."""
    code = "".join(text.split()).replace("-", "")
    if len(code) != LENGTH or not code.isascii() or not code.isdigit():
        return None
    return code if check_digit(code[:-1]) == code[-1] else None
