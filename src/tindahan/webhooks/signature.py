"""Signing webhook deliveries: HMAC-SHA256 over ``"{timestamp}.{body}"`` (DESIGN.md).

The header is ``Tindahan-Signature: t=<unix seconds>,v1=<hex digest>``, the scheme Stripe
made familiar: the timestamp is inside what is signed, so a captured delivery cannot be
replayed later than the tolerance, and a receiver compares digests in constant time.
``verify`` is what a receiver runs; the tests run it too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from tindahan import limits

HEADER = "Tindahan-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105  (a label, not a secret)


class SignatureError(ValueError):
    """A delivery's signature header is missing, malformed, stale or wrong."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: int,
    tolerance: int = limits.WEBHOOK_TOLERANCE_SECONDS,
) -> int:
    """Check a delivery; returns its timestamp or raises ``SignatureError``."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise SignatureError("malformed signature header") from exc
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    if not given.isascii() or not hmac.compare_digest(expected, given):
        raise SignatureError("signature does not match")
    return timestamp
