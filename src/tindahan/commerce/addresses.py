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

Place names are checked for presence and length only: matching them against the official
PSGC list is left for later (see the README), so nothing here rejects a real barangay.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from tindahan import limits
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

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    message: str


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
    if field in ("city", "province", "barangay"):
        return parties.text(text, field, limits.CITY_MAX_LENGTH)
    return parties.text(text, field, limits.ADDRESS_LINE_MAX_LENGTH)


def problems(raw: Mapping[str, object]) -> list[Problem]:
    """Every field that is wrong, in the form's order (empty: the address is good)."""
    found = []
    for field in FIELDS:
        try:
            _one(field, raw.get(field))
        except RefusalError as refusal:
            found.append(Problem(field, refusal.code, refusal.message))
    return found


def address(raw: Mapping[str, object], prefix: str = "") -> Address:
    """The address, cleaned; the first wrong field is refused (its param under ``prefix``)."""
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        message = f"unknown address field {unknown[0]!r}; fields: {', '.join(FIELDS)}"
        raise invalid("parameter_unknown", message, prefix + unknown[0])
    clean: dict[str, str] = {}
    for field in FIELDS:
        try:
            clean[field] = _one(field, raw.get(field))
        except RefusalError as refusal:
            refusal.param = prefix + field
            raise
    return Address(**clean)


def from_stored(data: Mapping[str, str]) -> Address:
    """An address read back from the vault (written by ``as_dict``; trusted)."""
    return Address(**{field: data.get(field, "") for field in FIELDS})
