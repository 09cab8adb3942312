"""Identifiers of a credit transfer: UETR, EndToEndId, message ids.

* UETR (unique end-to-end transaction reference): a random (version 4) UUID in lowercase,
  the pattern the ISO 20022 schema's ``UUIDv4Identifier`` demands; it follows the money
  through every bank and is how an answer finds its transfer.
* EndToEndId and message ids: at most 35 characters (``Max35Text``). Ours are the
  sender's prefix and random hex, so they never repeat and never carry personal data.
"""

from __future__ import annotations

import re
import secrets
import uuid

UETR_PATTERN = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}")
MAX35 = 35


def new_uetr() -> str:
    """A fresh UETR: ``uuid4`` in its lowercase canonical text."""
    return str(uuid.uuid4())


def is_uetr(text: str) -> bool:
    return UETR_PATTERN.fullmatch(text) is not None


def new_reference(prefix: str) -> str:
    """``prefix`` + random hex, 35 characters at most (an EndToEndId or a message id)."""
    if not prefix.isalnum() or len(prefix) > 8:
        raise ValueError(f"reference prefix must be 1 to 8 letters or digits, got {prefix!r}")
    return prefix + secrets.token_hex(12)
