"""The EMVCo Merchant-Presented Mode QR codec (QR Ph and the other national schemes).

Pure domain code: text in, text or typed values out; no I/O. The one exception type is
``QrError`` (tag, offset, message), so adapters can turn any bad payload into a one-line
error and a fuzzer can assert that nothing else escapes.

* ``decode(payload, strict=False)`` reads like a wallet must: it always rejects what cannot be
  trusted (structure, duplicated ids, ``00`` not first, ``63`` not last, CRC mismatch) and
  reports the deviations real codes have as ``QrWarning``\\ s; ``strict=True`` applies full
  EMVCo conformance instead and raises on the first failure.
* ``encode(description)`` writes canonical, strictly conformant payloads; ``describe`` reads
  one back into the same description.
* ``summarize`` recognises QR Ph person-to-merchant and person-to-person codes by their
  template's globally unique identifier (see ``tindahan.qr.phqr`` for sources).
"""

from __future__ import annotations

from tindahan.qr.crc import crc16, crc_text
from tindahan.qr.encode import AccountTemplate, AdditionalData, QrDescription, describe, encode
from tindahan.qr.errors import QrError, QrWarning
from tindahan.qr.phqr import PHP_NUMERIC, QrPhSummary, summarize
from tindahan.qr.tlv import MAX_PAYLOAD_CHARS, TEMPLATE_IDS, Payload, Template, parse, serialize
from tindahan.qr.validate import check_strict, warnings_for

__all__ = [
    "MAX_PAYLOAD_CHARS",
    "PHP_NUMERIC",
    "TEMPLATE_IDS",
    "AccountTemplate",
    "AdditionalData",
    "Payload",
    "QrDescription",
    "QrError",
    "QrPhSummary",
    "QrWarning",
    "Template",
    "check_strict",
    "crc16",
    "crc_text",
    "decode",
    "describe",
    "encode",
    "parse",
    "serialize",
    "summarize",
    "warnings_for",
]


def decode(payload: str, strict: bool = False) -> tuple[Payload, list[QrWarning]]:
    """Decode ``payload`` into a tree and the warnings a tolerant reader accepts.

    Why both modes: paying a code printed by another institution must work even when it bends
    EMVCo rules that do not affect trust (warnings); ``strict=True`` is for checking our own
    codes and for ``--strict``, and raises ``QrError`` on any conformance failure.
    """
    tree = parse(payload)
    if strict:
        check_strict(tree)
        return tree, []
    return tree, warnings_for(tree)
