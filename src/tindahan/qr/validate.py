"""Conformance: tolerant warnings for reading, strict errors for ``--strict`` and encoding.

Why two levels: wallets must read the codes that are really printed, and some of those deviate
from EMVCo MPM (a payload format indicator other than ``01``, national P2P codes without
``52``/``59``/``60``, an amount of ``00.00``, names longer than 25 characters). Reading reports
those as ``QrWarning``. Everything Tindahan writes, and everything read with ``strict=True``,
must pass the full EMVCo MPM 1.1 rules checked by ``check_strict``.

Amounts are parsed as text into integer minor units; there is no binary fraction anywhere.
"""

from __future__ import annotations

from typing import Final

from tindahan.money.currency import CURRENCIES
from tindahan.qr.errors import QrError, QrWarning
from tindahan.qr.tlv import Payload, Template, is_digits

MAX_NAME: Final = 25
"""Merchant name (59): at most 25 characters (EMVCo MPM 1.1, table 4.3)."""
MAX_CITY: Final = 15
"""Merchant city (60): at most 15 characters."""
MAX_POSTAL: Final = 10
"""Postal code (61): at most 10 characters."""
MAX_AMOUNT: Final = 13
"""Transaction amount (54) and fixed fee (56): at most 13 characters."""
MAX_PERCENTAGE: Final = 5
"""Convenience fee percentage (57): at most 5 characters, e.g. ``"99.99"``."""
MAX_ADDITIONAL: Final = 25
"""Additional data sub-objects 01-08 (bill number ... purpose): at most 25 characters."""
MAX_GUID: Final = 32
"""Globally unique identifier (sub-id 00 of templates 26-51): at most 32 characters."""

MANDATORY: Final = ("00", "52", "53", "58", "59", "60", "63")
TIP_INDICATORS: Final = frozenset({"01", "02", "03"})
POINTS_OF_INITIATION: Final = frozenset({"11", "12"})
EXPONENT_BY_NUMERIC: Final = {c.numeric: c.exponent for c in CURRENCIES.values()}
"""Minor-unit exponent by ISO 4217 numeric code, from ``tindahan.money``'s table."""

_PRINTABLE: Final = frozenset(chr(c) for c in range(0x20, 0x7F))
_LETTERS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Precomputed id sets for the fast paths below (membership tests instead of ``int(tag)``).
_ALL_IDS: Final = frozenset(f"{n:02d}" for n in range(100))
_ACCOUNT_IDS: Final = frozenset(f"{n:02d}" for n in range(2, 52))
_GUID_IDS: Final = _ACCOUNT_IDS | frozenset(f"{n:02d}" for n in range(80, 100))
_RESERVED_IDS: Final = frozenset(f"{n:02d}" for n in range(65, 80))
_MANDATORY_IDS: Final = frozenset(MANDATORY)
_FEE_IDS: Final = frozenset({"55", "56", "57"})


def is_account_id(object_id: str) -> bool:
    """Merchant account information ids: 02-25 (card schemes, primitive) and 26-51 (templates)."""
    return is_digits(object_id) and 2 <= int(object_id) <= 51


def parse_amount(text: str, exponent: int | None, *, tag: str, offset: int | None) -> int:
    """Parse an EMVCo amount (``"12.50"``, ``"12"``, ``"12."``) into integer minor units.

    Digits with at most one ``.``; no sign, no exponent, no spaces. With an unknown currency
    (``exponent`` None) the digits are checked but the result counts hundredths.
    """
    whole, _, fraction = text.partition(".")
    if (
        not text
        or (whole and not is_digits(whole))
        or (fraction and not is_digits(fraction))
        or not (whole or fraction)
        or "." in fraction
    ):
        raise QrError(
            f"amount must be digits with at most one '.', found {text[:20]!r}",
            tag=tag,
            offset=offset,
        )
    places = 2 if exponent is None else exponent
    if len(fraction) > places:
        raise QrError(
            f"amount {text!r} has {len(fraction)} decimals; the currency has {places}",
            tag=tag,
            offset=offset,
        )
    # Exact: the minor units are the digits with the fraction padded to the exponent.
    return int((whole or "0") + fraction.ljust(places, "0"))


def warnings_for(payload: Payload) -> list[QrWarning]:
    """Deviations that tolerant reading accepts, in payload order."""
    if _no_warnings(payload):
        return []
    found: list[QrWarning] = []

    def warn(tag: str, message: str) -> None:
        found.append(QrWarning(tag, message, payload.offset(tag)))

    if payload.text("00") != "01":
        warn("00", f"payload format indicator should be '01', found {payload.text('00')!r}")
    poi = payload.text("01")
    if poi is not None and poi not in POINTS_OF_INITIATION:
        warn("01", f"point of initiation should be '11' or '12', found {poi!r}")
    for tag in MANDATORY:
        if tag not in payload.objects:
            warn(tag, "mandatory object is missing")
    if not any(is_account_id(tag) for tag in payload.objects):
        found.append(QrWarning(None, "no merchant account information object (02-51)"))
    currency = payload.text("53")
    if currency is not None and currency not in EXPONENT_BY_NUMERIC:
        warn("53", f"currency {currency!r} is not in Tindahan's ISO 4217 table")
    amount = payload.text("54")
    if amount is not None:
        exponent = EXPONENT_BY_NUMERIC.get(currency or "")
        try:
            if parse_amount(amount, exponent, tag="54", offset=None) == 0:
                warn("54", f"amount is zero ({amount!r})")
        except QrError as exc:
            warn("54", exc.message)
    for tag, limit in (("59", MAX_NAME), ("60", MAX_CITY), ("61", MAX_POSTAL)):
        value = payload.text(tag)
        if value is not None and len(value) > limit:
            warn(tag, f"{len(value)} characters; at most {limit} are allowed")
    return found


def _no_warnings(payload: Payload) -> bool:
    """True only when ``warnings_for`` would find nothing (a quick, conservative test).

    False means "not sure": the full check then runs and reports the deviations in order.
    """
    objects = payload.objects
    if objects.get("00") != "01" or not objects.keys() >= _MANDATORY_IDS:
        return False
    if _ACCOUNT_IDS.isdisjoint(objects):
        return False
    poi = objects.get("01")
    if poi is not None and not (isinstance(poi, str) and poi in POINTS_OF_INITIATION):
        return False
    currency = objects["53"]
    if not isinstance(currency, str) or currency not in EXPONENT_BY_NUMERIC:
        return False
    amount = objects.get("54")
    if amount is not None:
        if not isinstance(amount, str):
            return False
        try:
            if parse_amount(amount, EXPONENT_BY_NUMERIC[currency], tag="54", offset=None) == 0:
                return False
        except QrError:
            return False
    for tag, limit in (("59", MAX_NAME), ("60", MAX_CITY), ("61", MAX_POSTAL)):
        value = objects.get(tag)
        if isinstance(value, str) and len(value) > limit:
            return False
    return True


def _conforms(payload: Payload) -> bool:
    """True only when ``check_strict`` would not raise (a quick, conservative test).

    It covers the codes Tindahan and QR Ph issuers print; anything unusual (template 64, tips
    and fees, templates at primitive ids, a non-digit id) answers False and is left to the full,
    ordered checks, which then raise the first failure exactly as before.
    """
    objects = payload.objects
    keys = objects.keys()
    if not (keys >= _MANDATORY_IDS and _ALL_IDS.issuperset(keys)):
        return False
    if _ACCOUNT_IDS.isdisjoint(keys) or not _RESERVED_IDS.isdisjoint(keys):
        return False
    if "64" in keys or not _FEE_IDS.isdisjoint(keys):
        return False
    for tag, value in objects.items():
        if isinstance(value, Template):
            sub = value.sub
            if not sub:
                return False
            for text in sub.values():
                if not (text and text.isascii() and text.isprintable()):
                    return False
            if tag in _GUID_IDS:
                guid = sub.get("00")
                if guid is None or len(guid) > MAX_GUID:
                    return False
            elif tag == "62":
                for sub_id, text in sub.items():
                    if "01" <= sub_id <= "08" and len(text) > MAX_ADDITIONAL:
                        return False
        elif not (isinstance(value, str) and value and value.isascii() and value.isprintable()):
            return False
    if objects["00"] != "01":
        return False
    poi = objects.get("01")
    if poi is not None and not (isinstance(poi, str) and poi in POINTS_OF_INITIATION):
        return False
    mcc = objects["52"]
    currency = objects["53"]
    country = objects["58"]
    if not (isinstance(mcc, str) and len(mcc) == 4 and mcc.isdigit()):
        return False
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isdigit()):
        return False
    if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        return False
    if not country.isupper():  # with ASCII (checked above) and isalpha: exactly A-Z
        return False
    for tag, limit in (("59", MAX_NAME), ("60", MAX_CITY), ("61", MAX_POSTAL)):
        found = objects.get(tag)
        if found is not None and not (isinstance(found, str) and len(found) <= limit):
            return False
    amount = objects.get("54")
    if amount is not None:
        if not isinstance(amount, str) or len(amount) > MAX_AMOUNT:
            return False
        exponent = EXPONENT_BY_NUMERIC.get(currency)
        try:
            if parse_amount(amount, exponent, tag="54", offset=None) == 0:
                return False
        except QrError:
            return False
    return True


def check_strict(payload: Payload) -> None:
    """Raise ``QrError`` for the first EMVCo MPM conformance failure of ``payload``."""
    if _conforms(payload):
        return
    _check_presence(payload)
    for tag, value in payload.objects.items():
        at = payload.offset(tag)
        if isinstance(value, Template):
            _check_template(tag, value, at)
        else:
            _check_chars(tag, value, at)
    _check_conventions(payload)
    _check_merchant(payload)
    _check_amounts(payload)


def _fail(tag: str, message: str, offset: int | None) -> QrError:
    return QrError(message, tag=tag, offset=offset)


def _check_presence(payload: Payload) -> None:
    for tag in MANDATORY:
        if tag not in payload.objects:
            raise QrError("mandatory object is missing", tag=tag)
    if not any(is_account_id(tag) for tag in payload.objects):
        raise QrError("at least one merchant account information object (02-51) is required")
    for tag in payload.objects:
        if 65 <= int(tag) <= 79:
            raise _fail(tag, "id is reserved for future use by EMVCo", payload.offset(tag))


def _check_chars(tag: str, value: str, at: int | None, *, any_text: bool = False) -> None:
    if not value:
        raise _fail(tag, "value must not be empty", at)
    if any_text:
        return
    if value.isascii() and value.isprintable():  # exactly 0x20-0x7E for ASCII text
        return
    bad = next((c for c in value if c not in _PRINTABLE), None)
    if bad is not None:
        raise _fail(tag, f"expected printable ASCII (ans), found {bad!r}", at)


def _check_template(tag: str, template: Template, at: int | None) -> None:
    if not template.sub:
        raise _fail(tag, "template must not be empty", at)
    for sub_id, sub in template.sub.items():
        # 64 carries the merchant's name and city in another language and script.
        _check_chars(f"{tag}.{sub_id}", sub, at, any_text=(tag == "64" and sub_id != "00"))
    if is_account_id(tag) or 80 <= int(tag) <= 99:
        guid = template.get("00")
        if guid is None:
            raise _fail(f"{tag}.00", "globally unique identifier is missing", at)
        if len(guid) > MAX_GUID:
            raise _fail(f"{tag}.00", f"{len(guid)} characters; at most {MAX_GUID}", at)
    if tag == "62":
        for sub_id, sub in template.sub.items():
            if "01" <= sub_id <= "08" and len(sub) > MAX_ADDITIONAL:
                raise _fail(f"62.{sub_id}", f"{len(sub)} characters; at most 25", at)
    if tag == "64":
        for sub_id, limit in (("00", 2), ("01", MAX_NAME), ("02", MAX_CITY)):
            found = template.get(sub_id)
            if sub_id != "02" and found is None:
                raise _fail(f"64.{sub_id}", "mandatory sub-object is missing", at)
            if found is not None and len(found) > limit:
                raise _fail(f"64.{sub_id}", f"{len(found)} characters; at most {limit}", at)


def _check_conventions(payload: Payload) -> None:
    if payload.text("00") != "01":
        raise _fail("00", f"expected '01', found {payload.text('00')!r}", 0)
    poi = payload.text("01")
    if "01" in payload.objects and poi not in POINTS_OF_INITIATION:
        raise _fail(
            "01", f"expected '11' (static) or '12' (dynamic), found {poi!r}", payload.offset("01")
        )


def _exact(payload: Payload, tag: str, size: int, allowed: frozenset[str], what: str) -> str:
    value = payload.text(tag)
    if value is None or len(value) != size or any(c not in allowed for c in value):
        raise _fail(tag, f"expected {what}, found {value!r}", payload.offset(tag))
    return value


def _check_merchant(payload: Payload) -> None:
    digits = frozenset("0123456789")
    _exact(payload, "52", 4, digits, "a 4-digit merchant category code")
    _exact(payload, "53", 3, digits, "a 3-digit ISO 4217 numeric currency")
    _exact(payload, "58", 2, _LETTERS, "a 2-letter ISO 3166-1 country code")
    for tag, limit in (("59", MAX_NAME), ("60", MAX_CITY), ("61", MAX_POSTAL)):
        value = payload.text(tag)
        if tag in payload.objects and value is None:
            raise _fail(tag, "expected a value, found a template", payload.offset(tag))
        if value is not None and len(value) > limit:
            raise _fail(
                tag, f"{len(value)} characters; at most {limit} are allowed", payload.offset(tag)
            )


def _check_amounts(payload: Payload) -> None:
    exponent = EXPONENT_BY_NUMERIC.get(payload.text("53") or "")
    for tag in ("54", "56"):
        value = payload.text(tag)
        if value is None:
            continue
        at = payload.offset(tag)
        if len(value) > MAX_AMOUNT:
            raise _fail(tag, f"{len(value)} characters; at most {MAX_AMOUNT}", at)
        if parse_amount(value, exponent, tag=tag, offset=at) == 0:
            raise _fail(tag, f"amount must not be zero, found {value!r}", at)
    tip = payload.text("55")
    if tip is not None and tip not in TIP_INDICATORS:
        raise _fail("55", f"expected '01', '02' or '03', found {tip!r}", payload.offset("55"))
    for tag, indicator in (("56", "02"), ("57", "03")):
        present = tag in payload.objects
        if present and tip != indicator:
            raise _fail(
                tag,
                f"allowed only with tip indicator 55 = {indicator!r}, found {tip!r}",
                payload.offset(tag),
            )
        if tip == indicator and not present:
            raise _fail(tag, f"required when tip indicator 55 = {indicator!r}", None)
    percentage = payload.text("57")
    if percentage is not None:
        at = payload.offset("57")
        if len(percentage) > MAX_PERCENTAGE:
            raise _fail("57", f"{len(percentage)} characters; at most {MAX_PERCENTAGE}", at)
        hundredths = parse_amount(percentage, 2, tag="57", offset=at)
        if not 0 < hundredths < 100_00:
            raise _fail(
                "57", f"percentage must be between 00.01 and 99.99, found {percentage!r}", at
            )
