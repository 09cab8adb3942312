"""Every SMS Tindahan sends, in English (``en``), Filipino (``fil``) and Cebuano (``ceb``).

Each text is written in GSM-7 and must fit one 160-septet part with the longest realistic
values (``tests/unit/test_sms_texts.py`` renders every kind in every language with them and
counts septets, extension characters at two). Two parts would cost the operator twice and
arrive out of order on some basic phones, so none of them is longer.

Values put into a text are made to fit: names are made GSM-7 (``gsm7.plain``) and cut to
``limits.SMS_NAME_MAX_CHARS``; if a text is still too long (an amount of billions), the name
is cut further, down to its initial. Amounts are ``PHP 1,234.50`` in every language (``₱``
is not in GSM-7), exact: minor units are never rounded. Dates are ``8 Dis 2026``, with the
month in the person's language.

The Cebuano texts were written by the engineers from Filipino and English and have not been
reviewed by a native speaker (see the README's "Languages").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from tindahan import limits
from tindahan.money.currency import currency
from tindahan.sms import gsm7

LANGUAGES = ("en", "fil", "ceb")
DEFAULT_LANGUAGE = "en"

KINDS = (
    "payment_received",
    "payment_sent",
    "cash_in",
    "loan_due",
    "loan_overdue",
    "code_signup",
    "code_reset",
    "signin_throttled",
    "order_paid",
    "order_shipped",
    "order_shipped_by",
    "order_late",
    "order_late_shop",
    "parcel_out_for_delivery",
    "parcel_delivered",
    "parcel_failed_attempt",
    "parcel_returned",
)
#: Kinds that carry a one-time code: hidden from the console in a live environment.
CODE_KINDS = frozenset({"code_signup", "code_reset"})

TEXTS: Mapping[str, Mapping[str, str]] = {
    "payment_received": {
        "en": "Tindahan: You received {amount} from {name}. Ref {ref}.",
        "fil": "Tindahan: Nakatanggap ka ng {amount} mula kay {name}. Ref {ref}.",
        "ceb": "Tindahan: Nakadawat ka og {amount} gikan kang {name}. Ref {ref}.",
    },
    "payment_sent": {
        "en": "Tindahan: You sent {amount} to {name}. Ref {ref}. Not you? Change your PIN now.",
        "fil": (
            "Tindahan: Nagpadala ka ng {amount} kay {name}. Ref {ref}. "
            "Hindi ikaw? Palitan agad ang PIN mo."
        ),
        "ceb": (
            "Tindahan: Nagpadala ka og {amount} ngadto kang {name}. Ref {ref}. "
            "Dili ikaw? Ilisi dayon ang imong PIN."
        ),
    },
    "cash_in": {
        "en": "Tindahan: Your cash-in of {amount} at {name} is now in your wallet. Ref {ref}.",
        "fil": "Tindahan: Pumasok na sa wallet mo ang cash-in na {amount} sa {name}. Ref {ref}.",
        "ceb": "Tindahan: Anaa na sa imong wallet ang cash-in nga {amount} sa {name}. Ref {ref}.",
    },
    "loan_due": {
        "en": (
            "Tindahan: Your loan payment of {amount} is due tomorrow, {date}. Keep it in your "
            "wallet or pay at an agent to avoid a penalty."
        ),
        "fil": (
            "Tindahan: Bukas, {date}, ang hulog mo sa loan na {amount}. Itabi ito sa wallet mo "
            "o magbayad sa agent para walang multa."
        ),
        "ceb": (
            "Tindahan: Ugma, {date}, ang bayad sa imong loan nga {amount}. Ibilin kini sa "
            "imong wallet o bayri sa agent aron walay multa."
        ),
    },
    "loan_overdue": {
        "en": (
            "Tindahan: Your loan payment is {days} day(s) late. Pay now at an agent or from "
            "your wallet to stop the penalties."
        ),
        "fil": (
            "Tindahan: {days} araw nang huli ang hulog mo sa loan. Magbayad na sa agent o mula "
            "sa wallet mo para matigil ang multa."
        ),
        "ceb": (
            "Tindahan: {days} ka adlaw nang ulahi ang bayad sa imong loan. Bayri na sa agent o "
            "gikan sa imong wallet aron mohunong ang multa."
        ),
    },
    "code_signup": {
        "en": (
            "Tindahan: {code} is your code to sign up. It expires in {minutes} minutes. Never "
            "share it with anyone, not even Tindahan staff."
        ),
        "fil": (
            "Tindahan: {code} ang code mo para mag-sign up. Mag-e-expire ito sa {minutes} "
            "minuto. Huwag itong ibigay kaninuman, kahit sa taga-Tindahan."
        ),
        "ceb": (
            "Tindahan: {code} ang imong code sa pag-sign up. Mo-expire kini sulod sa {minutes} "
            "ka minuto. Ayaw kini ihatag bisan kang kinsa, bisan sa taga-Tindahan."
        ),
    },
    "code_reset": {
        "en": (
            "Tindahan: {code} is your code to reset your PIN. It expires in {minutes} minutes. "
            "Never share it with anyone, not even Tindahan staff."
        ),
        "fil": (
            "Tindahan: {code} ang code mo para palitan ang PIN. Mag-e-expire ito sa {minutes} "
            "minuto. Huwag itong ibigay kaninuman, kahit sa taga-Tindahan."
        ),
        "ceb": (
            "Tindahan: {code} ang imong code sa pag-ilis sa PIN. Mo-expire kini sulod sa "
            "{minutes} ka minuto. Ayaw kini ihatag bisan kang kinsa, bisan sa taga-Tindahan."
        ),
    },
    "signin_throttled": {
        "en": (
            "Tindahan: Many wrong PINs were just tried on your number. If it was not you, keep "
            "your PIN secret: nobody from Tindahan will ever ask for it."
        ),
        "fil": (
            "Tindahan: Maraming maling PIN ang sinubukan sa numero mo. Kung hindi ikaw, ilihim "
            "ang PIN mo: walang taga-Tindahan na hihingi nito."
        ),
        "ceb": (
            "Tindahan: Daghang sayop nga PIN ang gisulayan sa imong numero. Kung dili ikaw, "
            "ayaw ipakita ang imong PIN: walay taga-Tindahan nga mangayo niini."
        ),
    },
    "order_paid": {
        "en": (
            "Tindahan: New paid order {ref}, {amount}, from {name}. Pack it and ship it from "
            "your orders page."
        ),
        "fil": (
            "Tindahan: May bagong bayad na order {ref}, {amount}, mula kay {name}. I-pack at "
            "ipadala mula sa pahina ng orders mo."
        ),
        "ceb": (
            "Tindahan: Naay bag-ong bayad nga order {ref}, {amount}, gikan kang {name}. I-pack "
            "ug ipadala gikan sa imong orders page."
        ),
    },
    "order_shipped": {
        "en": (
            "Tindahan: Your order {ref} from {name} has been shipped. Follow it on "
            "your orders page."
        ),
        "fil": (
            "Tindahan: Naipadala na ang order mo {ref} mula sa {name}. Sundan ito "
            "sa pahina ng orders mo."
        ),
        "ceb": (
            "Tindahan: Napadala na ang imong order {ref} gikan sa {name}. Sunda "
            "kini sa imong orders page."
        ),
    },
    "order_shipped_by": {
        "en": (
            "Tindahan: Your order {ref} from {name} has been shipped. It should arrive by {date}."
        ),
        "fil": (
            "Tindahan: Naipadala na ang order mo {ref} mula sa {name}. Darating ito hanggang "
            "{date}."
        ),
        "ceb": (
            "Tindahan: Napadala na ang imong order {ref} gikan sa {name}. Moabot kini hangtod "
            "{date}."
        ),
    },
    "order_late": {
        "en": "Tindahan: Your order {ref} is late: it was due by {date}. The shop has been told.",
        "fil": (
            "Tindahan: Huli na ang order mo {ref}: dapat dumating ito hanggang {date}. "
            "Nasabihan na ang tindahan."
        ),
        "ceb": (
            "Tindahan: Ulahi na ang imong order {ref}: kinahanglan miabot kini hangtod {date}. "
            "Gisultihan na ang tindahan."
        ),
    },
    "order_late_shop": {
        "en": (
            "Tindahan: Order {ref} is late: it was due by {date} and is not delivered. "
            "Check with the courier."
        ),
        "fil": (
            "Tindahan: Huli na ang order {ref}: dapat dumating ito hanggang {date} at hindi pa "
            "naihahatid. Alamin sa courier."
        ),
        "ceb": (
            "Tindahan: Ulahi na ang order {ref}: kinahanglan miabot kini hangtod {date} ug wala "
            "pa mahatud. Pangutan-a ang courier."
        ),
    },
    "parcel_out_for_delivery": {
        "en": (
            "Tindahan: Your order {ref} is out for delivery today. Keep your phone "
            "on for the courier."
        ),
        "fil": (
            "Tindahan: Ihahatid na ngayon ang order mo {ref}. Panatilihing bukas "
            "ang phone mo para sa courier."
        ),
        "ceb": (
            "Tindahan: Ihatod na karon ang imong order {ref}. Ayaw i-off ang imong "
            "phone para sa courier."
        ),
    },
    "parcel_delivered": {
        "en": (
            "Tindahan: Your order {ref} was delivered. Not received? Open a dispute on your "
            "orders page before the money goes to the seller."
        ),
        "fil": (
            "Tindahan: Naihatid na ang order mo {ref}. Hindi natanggap? Mag-dispute sa pahina "
            "ng orders mo bago mapunta ang bayad sa seller."
        ),
        "ceb": (
            "Tindahan: Nahatod na ang imong order {ref}. Wala madawat? Pag-dispute sa imong "
            "orders page sa dili pa moadto ang bayad sa seller."
        ),
    },
    "parcel_failed_attempt": {
        "en": (
            "Tindahan: The courier could not deliver your order {ref} today and will try "
            "again. Keep your phone on."
        ),
        "fil": (
            "Tindahan: Hindi naihatid ngayon ang order mo {ref}; susubukan ulit ng courier. "
            "Panatilihing bukas ang phone mo."
        ),
        "ceb": (
            "Tindahan: Wala mahatod karon ang imong order {ref}; sulayan pag-usab sa courier. "
            "Ayaw i-off ang imong phone."
        ),
    },
    "parcel_returned": {
        "en": (
            "Tindahan: Your order {ref} is going back to the seller. Your money stays held "
            "until the order is settled."
        ),
        "fil": (
            "Tindahan: Ibinabalik sa seller ang order mo {ref}. Nakatabi ang pera mo hanggang "
            "maayos ang order."
        ),
        "ceb": (
            "Tindahan: Gibalik sa seller ang imong order {ref}. Gitipigan ang imong kwarta "
            "hangtod mahusay ang order."
        ),
    },
}

MONTHS: Mapping[str, tuple[str, ...]] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fil": ("Ene", "Peb", "Mar", "Abr", "May", "Hun", "Hul", "Ago", "Set", "Okt", "Nob", "Dis"),
    "ceb": ("Ene", "Peb", "Mar", "Abr", "May", "Hun", "Hul", "Ago", "Sep", "Okt", "Nob", "Dis"),
}


class TextTooLongError(ValueError):
    """A text that cannot be made to fit one part (a template bug: the tests prevent it)."""


def language_of(value: str | None) -> str:
    """A stored preference, or the default when there is none (or an unknown one)."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def amount(amount_minor: int, currency_code: str) -> str:
    """``123450, "PHP"`` → ``PHP 1,234.50``: exact, the currency's own decimal places."""
    places = currency(currency_code).exponent
    sign = "-" if amount_minor < 0 else ""
    whole, minor = divmod(abs(amount_minor), 10**places)
    fraction = f".{minor:0{places}d}" if places else ""
    return f"{currency_code} {sign}{whole:,}{fraction}"


def day(value: date, lang: str) -> str:
    return f"{value.day} {MONTHS[language_of(lang)][value.month - 1]} {value.year}"


def _name(value: str, keep: int) -> str:
    text = gsm7.plain(value).strip()
    if len(text) <= keep:
        return text
    return text[: max(keep - 1, 1)].rstrip() + "."


def render(kind: str, lang: str, params: Mapping[str, str]) -> str:
    """The text of ``kind`` in ``lang`` with ``params`` (already formatted strings, except
    ``name`` which is made GSM-7 and shortened here), within one part."""
    template = TEXTS[kind][language_of(lang)]
    values = {k: gsm7.plain(v) for k, v in params.items() if k != "name"}
    keep = limits.SMS_NAME_MAX_CHARS
    while True:
        if "name" in params:
            values["name"] = _name(params["name"], keep) or "?"
        text = template.format(**values)
        if gsm7.fits_one_part(text):
            return text
        if "name" not in params or keep <= 1:
            raise TextTooLongError(f"{kind}/{lang} does not fit one part: {text!r}")
        keep -= 1
