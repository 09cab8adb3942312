"""The codec's error and warning types.

``QrError`` is the only exception the codec raises on bad input: a payload that cannot be
trusted (always), or one that breaks EMVCo conformance (strict mode and encoding). It names the
tag, the offset in characters from the start of the payload, and what was expected and found,
so a CLI or API can print one readable line. It subclasses ``ValueError`` so callers that only
know "bad value" still catch it.

``QrWarning`` is a deviation that real codes in circulation have; tolerant reading reports it
and carries on, strict reading turns it into a ``QrError``.
"""

from __future__ import annotations

from dataclasses import dataclass


class QrError(ValueError):
    """A payload that cannot be decoded or does not conform (tag, offset, message)."""

    def __init__(self, message: str, *, tag: str | None = None, offset: int | None = None):
        self.tag = tag
        self.offset = offset
        self.message = message
        super().__init__(_describe(tag, offset, message))


@dataclass(frozen=True)
class QrWarning:
    """A tolerated deviation found while reading (tag, message, offset)."""

    tag: str | None
    message: str
    offset: int | None = None

    def __str__(self) -> str:
        return _describe(self.tag, self.offset, self.message)


def _describe(tag: str | None, offset: int | None, message: str) -> str:
    where = []
    if tag is not None:
        where.append(f"tag {tag}")
    if offset is not None:
        where.append(f"at offset {offset}")
    return f"{' '.join(where)}: {message}" if where else message
