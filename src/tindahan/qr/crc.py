"""CRC-16/CCITT-FALSE, the EMVCo MPM checksum (data object ``63``).

EMVCo MPM 4.6.1 (by way of ISO/IEC 13239): polynomial 0x1021, initial value 0xFFFF, no
reflection of input or output, no final XOR. It runs over the UTF-8 bytes of the payload from
the first character up to and including ``6304`` (the CRC's own id and length) and is written
as four upper-case hexadecimal digits. Check value: ``crc16(b"123456789") == 0x29B1``.
"""

from __future__ import annotations

import binascii
from typing import Final

_POLY: Final = 0x1021
_INIT: Final = 0xFFFF


def _table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY) if crc & 0x8000 else (crc << 1)
        rows.append(crc & 0xFFFF)
    return tuple(rows)


_TABLE: Final = _table()


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` as an int in 0..0xFFFF.

    ``binascii.crc_hqx`` is the same non-reflected 0x1021 CRC in C (the hot path of decoding);
    ``crc16_reference`` below is the table-driven definition the tests compare it with.
    """
    return binascii.crc_hqx(data, _INIT)


def crc16_reference(data: bytes) -> int:
    """Table-driven CRC-16/CCITT-FALSE in plain Python, the definition ``crc16`` must match."""
    crc = _INIT
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def crc_text(text: str) -> str:
    """The four upper-case hex digits EMVCo writes for ``text`` (which ends with ``6304``)."""
    return f"{crc16(text.encode('utf-8')):04X}"
