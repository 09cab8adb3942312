"""What a Philippine delivery address must hold before a courier can use it.

An address is a recipient and a contact number, the street or building, the barangay, the
city or municipality, the province, a four-digit postal code (PHLPost's ZIP codes are four
digits) and optional landmark notes ("beside the chapel, green gate"). Text is cleaned the
way people type it (spaces collapsed, control characters refused); the phone is a Philippine
mobile number, normalised to E.164 like every other phone number here, so a courier's SMS
reaches it.

``problems`` lists every field that is wrong at once (a form shows each next to its field);
``address`` refuses the first one with ``RefusalError`` (``param`` names the field, under
``prefix`` when the address is part of a larger request, e.g. ``address.postal_code``).

The barangay, city or municipality and province are then matched against the official
PSGC list (``commerce.psgc``: typing variations forgiven, misspellings refused with the
nearest names as suggestions, the barangay in that city in that province, the postal code
the city's where PHLPost's list says) and kept as their official names, with their codes
(``Address.codes``) for delivery zones. The province may be empty only where the PSGC has
none (Metro Manila, independent cities such as Baguio).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tindahan import limits
from tindahan.commerce import psgc
from tindahan.kernel.refusals import RefusalError, invalid
from tindahan.payments import parties

_POSTAL_CODE = re.compile(r"[0-9]{4}")

FIELDS = (
    "recipient",
    "phone",
    "street",
    "barangay",
    "city",
    "province",
    "postal_code",
    "notes",
)


@dataclass(frozen=True, slots=True)
class Address:
    recipient: str
    phone: str  # E.164, +639XXXXXXXXX
    street: str  # house number, street, building, unit
    barangay: str
    city: str  # city or municipality
    province: str
    postal_code: str
    notes: str  # landmark notes; "" when none
    #: Where it is by the PSGC (None: an address stored before the check, not matched)
    codes: psgc.Codes | None = None

    def as_dict(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in FIELDS}


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    message: str
    suggestions: tuple[str, ...] = ()  # the nearest official names (place fields)


def _one(field: str, raw: object) -> str:
    """One field, cleaned; raises ``RefusalError`` with ``param`` = the field's name."""
    if raw is not None and not isinstance(raw, str):
        raise invalid("parameter_invalid", f"{field} must be text", field)
    text = raw or ""
    if field == "phone":
        if not text.strip():
            raise invalid("parameter_missing", "phone must not be empty", field)
        return parties.phone_number(text)
    if field == "postal_code":
        value = "".join(text.split())
        if not value:
            raise invalid("parameter_missing", "postal_code must not be empty", field)
        if not _POSTAL_CODE.fullmatch(value):
            raise invalid("postal_code_invalid", "a postal code is four digits, e.g. 1100", field)
        return value
    if field == "notes":
        return parties.text(text, field, limits.ADDRESS_NOTES_MAX_LENGTH, required=False)
    if field == "recipient":
        return parties.text(text, field, limits.NAME_MAX_LENGTH)
    if field == "province":  # required unless the city has none (``_place``)
        return parties.text(text, field, limits.CITY_MAX_LENGTH, required=False)
    if field in ("city", "barangay"):
        return parties.text(text, field, limits.CITY_MAX_LENGTH)
    return parties.text(text, field, limits.ADDRESS_LINE_MAX_LENGTH)


def _check(raw: Mapping[str, object]) -> tuple[dict[str, str], psgc.Codes | None, list[Problem]]:
    """The cleaned fields, the place's codes, and every problem (in the form's order)."""
    clean: dict[str, str] = {}
    found: dict[str, Problem] = {}
    for field in FIELDS:
        try:
            clean[field] = _one(field, raw.get(field))
        except RefusalError as refusal:
            found[field] = Problem(field, refusal.code, refusal.message)
    codes = None
    if not {"barangay", "city", "province"} & found.keys():
        codes = _place(clean, found)
    return clean, codes, [found[field] for field in FIELDS if field in found]


def _place(clean: dict[str, str], found: dict[str, Problem]) -> psgc.Codes | None:
    """Match the place against the PSGC list; official names into ``clean``, or problems."""
    if not clean["province"] and not psgc.province_optional(clean["city"]):
        message = "province must not be empty (only Metro Manila and independent cities have none)"
        found["province"] = Problem("province", "parameter_missing", message)
        return None
    postal_code = clean.get("postal_code", "")
    located = psgc.locate(clean["barangay"], clean["city"], clean["province"], postal_code)
    if isinstance(located, list):
        for miss in located:
            found.setdefault(
                miss.field, Problem(miss.field, miss.code, miss.message, miss.suggestions)
            )
        return None
    clean.update(barangay=located.barangay, city=located.city, province=located.province)
    return located.codes


def problems(raw: Mapping[str, object]) -> list[Problem]:
    """Every field that is wrong, in the form's order (empty: the address is good)."""
    return _check(raw)[2]


def address(raw: Mapping[str, object], prefix: str = "") -> Address:
    """The address, cleaned and located; the first wrong field is refused (its param under
    ``prefix``; a misspelled place's message names the nearest official names)."""
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        message = f"unknown address field {unknown[0]!r}; fields: {', '.join(FIELDS)}"
        raise invalid("parameter_unknown", message, prefix + unknown[0])
    clean, codes, found = _check(raw)
    if found:
        first = found[0]
        raise invalid(first.code, first.message, prefix + first.field)
    return Address(**clean, codes=codes)


def from_stored(data: Mapping[str, str], codes: psgc.Codes | None = None) -> Address:
    """An address read back from the vault (written by ``as_dict``; trusted), with the
    codes stored beside it."""
    return Address(**{field: data.get(field, "") for field in FIELDS}, codes=codes)
