"""What a party's profile must look like: names, Philippine phone numbers, merchant MCCs.

Phone numbers are normalised to E.164 (``+639171234567``) before they are encrypted, so the
same number written ``0917 123 4567`` or ``+63 917-123-4567`` is one number.
"""

from __future__ import annotations

import re
import unicodedata

from tindahan import limits
from tindahan.kernel.refusals import invalid

_SEPARATORS = re.compile(r"[\s().-]")
#: Philippine mobile numbers: +63 9XX XXX XXXX (the 0 trunk prefix written locally).
_PH_MOBILE = re.compile(r"(?:\+63|0)(9[0-9]{9})")
_MCC = re.compile(r"[0-9]{4}")
_ID_NUMBER = re.compile(r"[A-Z0-9-]+")


def phone_number(raw: str) -> str:
    match = _PH_MOBILE.fullmatch(_SEPARATORS.sub("", raw))
    if not match:
        raise invalid(
            "phone_invalid", "a Philippine mobile number looks like +639171234567", "phone"
        )
    return "+63" + match.group(1)


def text(raw: str, param: str, max_length: int, *, required: bool = True) -> str:
    value = " ".join(raw.split())
    if required and not value:
        raise invalid("parameter_missing", f"{param} must not be empty", param)
    if len(value) > max_length:
        raise invalid("parameter_invalid", f"{param} is at most {max_length} characters", param)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise invalid("parameter_invalid", f"{param} holds control characters", param)
    return value


def name(raw: str, param: str = "name") -> str:
    return text(raw, param, limits.NAME_MAX_LENGTH)


def merchant_category_code(raw: str) -> str:
    """ISO 18245 merchant category code: four digits (5411 grocery, 5812 eating places)."""
    if not _MCC.fullmatch(raw):
        raise invalid("mcc_invalid", "a merchant category code is four digits, e.g. 5411", "mcc")
    return raw


def id_number(raw: str) -> str:
    value = raw.strip()
    if not value.isascii():
        raise invalid("id_number_invalid", "an ID number is letters, digits and -", "id_number")
    value = value.upper()
    if not _ID_NUMBER.fullmatch(value) or len(value) > limits.ID_NUMBER_MAX_LENGTH:
        raise invalid("id_number_invalid", "an ID number is letters, digits and -", "id_number")
    return value
