"""Encode a typed description into an EMVCo MPM payload, and read one back into it.

Why a typed description: callers (the payments service, the CLI) say what the code means —
which account, how much in integer minor units, which reference — and the codec owns the
format. ``encode`` writes objects in canonical order (ascending ids, sub-ids ascending inside
templates, ``63`` last), appends the CRC, and runs the strict EMVCo conformance check on its
own output, so Tindahan never prints a code another wallet would have to tolerate.
``describe`` is the inverse: ``describe(parse(encode(d))) == d`` for every valid ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Final, Literal

from tindahan.qr.errors import QrError
from tindahan.qr.tlv import Payload, Template, parse, serialize
from tindahan.qr.validate import EXPONENT_BY_NUMERIC, check_strict, is_account_id, parse_amount

TipIndicator = Literal["01", "02", "03"]
"""55: 01 the app prompts for a tip; 02 fixed convenience fee (56); 03 percentage fee (57)."""


@dataclass(frozen=True)
class AccountTemplate:
    """A merchant account information template (id 26-51): GUID (sub-id 00) and sub-fields."""

    template_id: str
    guid: str
    fields: dict[str, str] = field(default_factory=dict)
    """Sub-ids 01-99 to their values, e.g. QR Ph P2M: {"01": acquirer BIC, "03": merchant id}."""


@dataclass(frozen=True)
class AdditionalData:
    """Additional data field template (62); each field at most 25 characters."""

    guid: str | None = None  # 00, e.g. "ph.ppmi.qrph"
    bill_number: str | None = None  # 01
    mobile_number: str | None = None  # 02
    store_label: str | None = None  # 03
    loyalty_number: str | None = None  # 04
    reference_label: str | None = None  # 05
    customer_label: str | None = None  # 06
    terminal_label: str | None = None  # 07
    purpose: str | None = None  # 08


_ADDITIONAL_IDS: Final = {
    "guid": "00",
    "bill_number": "01",
    "mobile_number": "02",
    "store_label": "03",
    "loyalty_number": "04",
    "reference_label": "05",
    "customer_label": "06",
    "terminal_label": "07",
    "purpose": "08",
}


@dataclass(frozen=True)
class QrDescription:
    """What a merchant-presented code says. ``amount_minor`` None makes a static code (01 = 11),
    an amount makes a dynamic one (01 = 12). Fees: ``fee_fixed_minor`` with tip "02",
    ``fee_percentage_hundredths`` (525 = 5.25 %) with tip "03"."""

    accounts: tuple[AccountTemplate, ...]
    mcc: str
    name: str
    city: str
    currency: str = "608"
    country: str = "PH"
    amount_minor: int | None = None
    tip: TipIndicator | None = None
    fee_fixed_minor: int | None = None
    fee_percentage_hundredths: int | None = None
    postal_code: str | None = None
    additional: AdditionalData | None = None


def format_amount(amount_minor: int, exponent: int, tag: str) -> str:
    """Integer minor units as EMVCo amount text: 1250 with exponent 2 is ``"12.50"``."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise QrError(
            f"amount must be a positive int of minor units, found {amount_minor!r}", tag=tag
        )
    if exponent == 0:
        return str(amount_minor)
    digits = str(amount_minor).rjust(exponent + 1, "0")
    return f"{digits[:-exponent]}.{digits[-exponent:]}"


def _exponent(currency: str) -> int:
    exponent = EXPONENT_BY_NUMERIC.get(currency)
    if exponent is None:
        raise QrError(f"currency {currency!r} is not a supported ISO 4217 numeric code", tag="53")
    return exponent


def to_objects(d: QrDescription) -> dict[str, str | Template]:
    """The description's data objects in canonical order (without 63)."""
    exponent = _exponent(d.currency)
    objects: dict[str, str | Template] = {
        "00": "01",
        "01": "11" if d.amount_minor is None else "12",
    }
    for account in d.accounts:
        if not is_account_id(account.template_id) or int(account.template_id) < 26:
            raise QrError("merchant account templates use ids 26-51", tag=account.template_id)
        if account.template_id in objects:
            raise QrError("two account templates with one id", tag=account.template_id)
        if "00" in account.fields:
            raise QrError("sub-id 00 is the guid; pass it as guid", tag=account.template_id)
        subs = {"00": account.guid, **dict(sorted(account.fields.items()))}
        objects[account.template_id] = Template(subs)
    objects["52"] = d.mcc
    objects["53"] = d.currency
    if d.amount_minor is not None:
        objects["54"] = format_amount(d.amount_minor, exponent, "54")
    if d.tip is not None:
        objects["55"] = d.tip
    if d.fee_fixed_minor is not None:
        objects["56"] = format_amount(d.fee_fixed_minor, exponent, "56")
    if d.fee_percentage_hundredths is not None:
        objects["57"] = format_amount(d.fee_percentage_hundredths, 2, "57")
    objects["58"] = d.country
    objects["59"] = d.name
    objects["60"] = d.city
    if d.postal_code is not None:
        objects["61"] = d.postal_code
    if d.additional is not None:
        subs = {
            _ADDITIONAL_IDS[f.name]: value
            for f in fields(d.additional)
            if (value := getattr(d.additional, f.name)) is not None
        }
        objects["62"] = Template(subs)
    return dict(sorted(objects.items()))


def encode(description: QrDescription) -> str:
    """The payload text for ``description``; raise ``QrError`` if it would not conform."""
    text = serialize(to_objects(description))
    check_strict(parse(text))
    return text


_TIPS: Final[dict[str, TipIndicator]] = {"01": "01", "02": "02", "03": "03"}
_DESCRIBED: Final = frozenset(
    ["00", "01", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63"]
)


def _is_template_account(tag: str) -> bool:
    return 26 <= int(tag) <= 51


def _minor(payload: Payload, tag: str, exponent: int) -> int | None:
    value = payload.text(tag)
    if value is None:
        return None
    return parse_amount(value, exponent, tag=tag, offset=payload.offset(tag))


def describe(payload: Payload) -> QrDescription:
    """The description of a strictly valid payload (``check_strict`` first)."""
    check_strict(payload)
    currency = payload.text("53") or ""
    exponent = _exponent(currency)
    accounts = []
    for tag, value in payload.objects.items():
        if isinstance(value, Template) and is_account_id(tag):
            rest = {k: v for k, v in value.sub.items() if k != "00"}
            accounts.append(AccountTemplate(tag, value.sub["00"], rest))
    extra = payload.template("62")
    additional = None
    if extra is not None:
        names = {sub_id: name for name, sub_id in _ADDITIONAL_IDS.items()}
        unknown = [k for k in extra.sub if k not in names]
        if unknown:
            raise QrError(
                "additional data sub-id not supported by the encoder", tag=f"62.{unknown[0]}"
            )
        additional = AdditionalData(**{names[k]: v for k, v in extra.sub.items()})
    tip = payload.text("55")
    unsupported = [
        t for t in payload.objects if t not in _DESCRIBED and not _is_template_account(t)
    ]
    if unsupported:
        raise QrError("object not supported by the encoder", tag=unsupported[0])
    return QrDescription(
        accounts=tuple(accounts),
        mcc=payload.text("52") or "",
        name=payload.text("59") or "",
        city=payload.text("60") or "",
        currency=currency,
        country=payload.text("58") or "",
        amount_minor=_minor(payload, "54", exponent),
        tip=_TIPS.get(tip or ""),
        fee_fixed_minor=_minor(payload, "56", exponent),
        fee_percentage_hundredths=_minor(payload, "57", 2),
        postal_code=payload.text("61"),
        additional=additional,
    )
