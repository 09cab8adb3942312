"""EMVCo MPM data objects: id (2 digits) + length (2 digits) + value, parsed into a tree.

Why this shape: every national scheme built on EMVCo MPM (QR Ph, Pix, PromptPay, SGQR, DuitNow,
QRIS, VietQR) shares this layer, so the parser assumes nothing about Philippine content. Lengths
count *characters* (Python ``str`` positions), not UTF-8 bytes: the merchant information
language template (``64``) may hold e.g. Chinese text. Offsets in errors are character offsets
from the start of the payload.

Always rejected here, because a payload that breaks them cannot be trusted: an empty or
over-long payload, a non-digit id or length, a value that runs past the end, an id twice at one
level, ``00`` not first, ``63`` not last or not four characters, and a CRC mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tindahan.qr.crc import crc_text
from tindahan.qr.errors import QrError

MAX_PAYLOAD_CHARS: Final = 512
"""Longest payload accepted, in characters. EMVCo MPM 1.1 section 3.2 caps a payload at 512
alphanumeric characters; refusing more first keeps the decoder's work bounded on garbage."""

TEMPLATE_IDS: Final = frozenset(
    [f"{n:02d}" for n in range(26, 52)] + ["62", "64"] + [f"{n:02d}" for n in range(80, 100)]
)
"""Top-level ids whose values are themselves data objects: 26-51 merchant account information,
62 additional data field, 64 merchant information language template, 80-99 unreserved."""

CRC_ID: Final = "63"
_HEX_UPPER: Final = frozenset("0123456789ABCDEF")


@dataclass(frozen=True)
class Template:
    """A template's sub-objects, keyed by two-digit sub-id, in payload order."""

    sub: dict[str, str]

    def get(self, sub_id: str) -> str | None:
        return self.sub.get(sub_id)


@dataclass(frozen=True)
class Payload:
    """A decoded payload: top-level objects by two-digit id, in payload order.

    ``offsets`` (character offset of each top-level object, for error messages) is not part of
    equality: two payloads with the same objects in the same order are equal.
    """

    objects: dict[str, str | Template]
    offsets: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def text(self, object_id: str) -> str | None:
        """The value of a primitive top-level object, or None when absent or a template."""
        value = self.objects.get(object_id)
        return value if isinstance(value, str) else None

    def template(self, object_id: str) -> Template | None:
        """A top-level template, or None when absent or primitive."""
        value = self.objects.get(object_id)
        return value if isinstance(value, Template) else None

    def offset(self, object_id: str) -> int | None:
        return self.offsets.get(object_id)


def is_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits (``str.isdigit`` alone also accepts e.g. '²')."""
    return text.isascii() and text.isdigit()


def _label(parent: str | None, object_id: str) -> str:
    return object_id if parent is None else f"{parent}.{object_id}"


def _structure_error(text: str, pos: int, base: int, parent: str | None) -> QrError:
    """The error for the malformed id/length header at ``text[pos:]`` (error path only)."""
    at = base + pos
    head = text[pos : pos + 4]
    if len(head) < 4:
        return QrError(
            f"truncated data object: expected a 2-digit id and 2-digit length, found {head!r}",
            tag=parent,
            offset=at,
        )
    object_id, length_text = head[:2], head[2:]
    if not is_digits(object_id):
        return QrError(f"id must be two digits, found {object_id!r}", tag=parent, offset=at)
    return QrError(
        f"length must be two digits, found {length_text!r}",
        tag=_label(parent, object_id),
        offset=at,
    )


def _objects(
    text: str, base: int, parent: str | None, offsets: dict[str, int] | None
) -> dict[str, str]:
    """Split ``text`` into values by id, in order; ``base`` is its offset in the payload.

    When ``offsets`` is given, each id's offset in the payload is recorded there. One pass, no
    per-object allocations beyond the value slices: this loop is the hot path of decoding.
    """
    found: dict[str, str] = {}
    pos = 0
    size = len(text)
    while pos < size:
        head = text[pos : pos + 4]
        if len(head) < 4 or not (head.isascii() and head.isdigit()):
            raise _structure_error(text, pos, base, parent)
        start = pos + 4
        end = start + int(head) % 100
        object_id = head[:2]
        if end > size:
            raise QrError(
                f"length {end - start} runs past the end ({size - start} characters left)",
                tag=_label(parent, object_id),
                offset=base + pos,
            )
        if object_id in found:
            raise QrError(
                "id appears twice at one level", tag=_label(parent, object_id), offset=base + pos
            )
        found[object_id] = text[start:end]
        if offsets is not None:
            offsets[object_id] = base + pos
        pos = end
    return found


def parse(payload: str) -> Payload:
    """Parse and check the structure and CRC of ``payload``; raise ``QrError`` if untrusted."""
    if not isinstance(payload, str):
        raise QrError(f"payload must be text, not {type(payload).__name__}")
    if not payload:
        raise QrError("empty payload")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise QrError(
            f"payload is {len(payload)} characters; at most {MAX_PAYLOAD_CHARS} are allowed"
        )
    offsets: dict[str, int] = {}
    values = _objects(payload, 0, None, offsets)
    first_id = next(iter(values))
    if first_id != "00":
        raise QrError(
            f"payload format indicator 00 must come first, found {first_id}",
            tag=first_id,
            offset=0,
        )
    last_id = next(reversed(values))
    crc_value = values[last_id]
    crc_at = offsets[last_id]
    if last_id != CRC_ID:
        raise QrError(f"CRC 63 must come last, found {last_id}", tag=last_id, offset=crc_at)
    if len(crc_value) != 4 or not _HEX_UPPER.issuperset(crc_value):
        raise QrError(
            f"CRC must be 4 upper-case hex digits, found {crc_value!r}", tag=CRC_ID, offset=crc_at
        )
    try:
        expected = crc_text(payload[: crc_at + 4])
    except UnicodeEncodeError as exc:
        raise QrError("payload is not encodable as UTF-8", offset=exc.start) from None
    if crc_value != expected:
        raise QrError(
            f"CRC mismatch: payload says {crc_value}, computed {expected}",
            tag=CRC_ID,
            offset=crc_at,
        )
    objects: dict[str, str | Template] = dict(values)
    for object_id, value in values.items():
        if object_id in TEMPLATE_IDS:
            objects[object_id] = Template(_objects(value, offsets[object_id] + 4, object_id, None))
    return Payload(objects, offsets)


def _tlv(object_id: str, value: str, parent: str | None) -> str:
    label = object_id if parent is None else f"{parent}.{object_id}"
    if len(object_id) != 2 or not is_digits(object_id):
        raise QrError(f"id must be two digits, found {object_id!r}", tag=parent)
    if len(value) > 99:
        raise QrError(f"value is {len(value)} characters; at most 99 fit", tag=label)
    return f"{object_id}{len(value):02d}{value}"


def serialize(objects: dict[str, str | Template]) -> str:
    """Write ``objects`` in the given order (without 63) and append the CRC object."""
    parts = []
    for object_id, value in objects.items():
        if object_id == CRC_ID:
            continue
        if isinstance(value, Template):
            inner = "".join(_tlv(sub_id, sub, object_id) for sub_id, sub in value.sub.items())
            parts.append(_tlv(object_id, inner, None))
        else:
            parts.append(_tlv(object_id, value, None))
    body = "".join(parts) + CRC_ID + "04"
    try:
        return body + crc_text(body)
    except UnicodeEncodeError as exc:
        raise QrError("payload is not encodable as UTF-8", offset=exc.start) from None
