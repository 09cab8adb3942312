"""QR Ph content: recognise person-to-merchant and person-to-person codes and summarise them.

QR Ph (BSP Circular 1055) is EMVCo MPM with currency 608 and country PH. The scheme's own
technical specification is not public; the sub-tags below come from codes in circulation as
decoded by others, and are routed on the template's globally unique identifier (sub-id ``00``),
never on the template id, because ids 26-51 are assigned per scheme and per issuer.

Sources and assumptions:

* Person-to-merchant, GUID ``ph.ppmi.p2m`` (or ``ph.ppmi.p2micro`` for micro merchants), seen at
  template id 28: sub-id ``01`` is the acquirer's BIC (SWIFT code, e.g. ``RCBCPHMMXXX``), sub-id
  ``03`` the merchant id assigned by the acquirer; ``05`` and others are acquirer-specific flags
  (meaning unknown). Source: a dynamic department-store code dissected in "QRPh Part 4 - What is
  in the QR Code?" (afcsblog.ingonoka.com/post/qrph4-qrcode/qrphpart4). Assumption: sub-id
  ``04``, when present, is the merchant's account number (as in P2P codes).
* Person-to-person (InstaPay QR), GUID ``com.p2pqrpay``, seen at template id 27 with MCC 6016:
  sub-id ``01`` BIC, ``02`` a scheme constant (``99964403`` in every published example; meaning
  unknown, kept as-is), ``04`` the account number, ``05`` a ``+63-…`` mobile number. Source: the
  PayMongo developer reference "QR Transfer Resource" and "Execute a transfer (QR)", whose example
  payloads carry valid CRCs (ED03, C369), and the afcsblog post on P2P QR Ph.
* The additional data template ``62`` may carry its own ``00`` (``ph.ppmi.qrph`` in P2M codes,
  ``com.p2pqrpay`` in P2P ones); its ``05`` is the EMVCo reference label used as the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from tindahan.qr.errors import QrError
from tindahan.qr.tlv import Payload, Template
from tindahan.qr.validate import EXPONENT_BY_NUMERIC, is_account_id, parse_amount

P2M_GUIDS: Final = frozenset({"ph.ppmi.p2m", "ph.ppmi.p2micro"})
P2P_GUIDS: Final = frozenset({"com.p2pqrpay"})
PHP_NUMERIC: Final = "608"

Kind = Literal["p2m", "p2p", "other"]


@dataclass(frozen=True)
class QrPhSummary:
    """What a payment needs from a scanned code; amounts are integer minor units."""

    kind: Kind
    template_id: str | None
    guid: str | None
    acquirer: str | None
    merchant_id: str | None
    account: str | None
    mobile: str | None
    amount_minor: int | None
    currency: str | None
    name: str | None
    city: str | None
    reference: str | None


def _kind(guid: str | None) -> Kind:
    folded = (guid or "").lower()  # some schemes write GUIDs upper-case
    if folded in P2M_GUIDS:
        return "p2m"
    if folded in P2P_GUIDS:
        return "p2p"
    return "other"


def account_templates(payload: Payload) -> list[tuple[str, Template]]:
    """Merchant account information templates (26-51) in payload order."""
    return [
        (tag, value)
        for tag, value in payload.objects.items()
        if isinstance(value, Template) and is_account_id(tag)
    ]


def summarize(payload: Payload) -> QrPhSummary:
    """Summarise a decoded payload; the first QR Ph template (P2M before P2P) wins."""
    templates = account_templates(payload)
    chosen: tuple[str, Template] | None = None
    for wanted in ("p2m", "p2p"):
        chosen = next((t for t in templates if _kind(t[1].get("00")) == wanted), None)
        if chosen is not None:
            break
    if chosen is None and templates:
        chosen = templates[0]
    tag, template = chosen if chosen is not None else (None, Template({}))
    guid = template.get("00")
    kind = _kind(guid)
    currency = payload.text("53")
    amount = payload.text("54")
    amount_minor = None
    if amount is not None:
        exponent = EXPONENT_BY_NUMERIC.get(currency or "")
        amount_minor = parse_amount(amount, exponent, tag="54", offset=payload.offset("54"))
    additional = payload.template("62")
    return QrPhSummary(
        kind=kind,
        template_id=tag,
        guid=guid,
        acquirer=template.get("01") if kind != "other" else None,
        merchant_id=template.get("03") if kind == "p2m" else None,
        account=template.get("04") if kind != "other" else None,
        mobile=template.get("05") if kind == "p2p" else None,
        amount_minor=amount_minor,
        currency=currency,
        name=payload.text("59"),
        city=payload.text("60"),
        reference=additional.get("05") if additional is not None else None,
    )


def require_php(summary: QrPhSummary) -> None:
    """Raise ``QrError`` unless the code is a QR Ph code in pesos."""
    if summary.kind == "other":
        raise QrError(f"not a QR Ph code (globally unique identifier {summary.guid!r})", tag="00")
    if summary.currency != PHP_NUMERIC:
        raise QrError(f"expected currency 608 (PHP), found {summary.currency!r}", tag="53")
