"""The OpenAPI description's prose: conventions, key scopes, events and webhook signatures.

The scopes and event types are written from the tuples the code checks against
(``kernel.callers.SCOPES``, ``webhooks.events.EVENT_TYPES``), so the docs an integrator reads
at ``/docs`` cannot name one that does not exist or miss one that does.
"""

from __future__ import annotations

from tindahan import limits
from tindahan.kernel.callers import SCOPES
from tindahan.webhooks.events import EVENT_TYPES
from tindahan.webhooks.signature import HEADER

#: What each scope lets a key do (a party's key, within its own objects).
SCOPE_MEANINGS = {
    "parties:read": "read parties, KYC tiers and fee settings; look up a QR's merchant",
    "parties:write": "create and update parties (operator)",
    "wallets:read": "read wallets and their statements",
    "payments:read": "read payments, refunds, payment requests and sales",
    "payments:write": "pay, refund, request payment, cash in and out, pay by QR",
    "orders:read": "read orders, shipments and disputes",
    "orders:write": "place, pay, ship, cancel and refund orders; open and settle disputes",
    "catalog:write": "manage storefronts and products",
    "credit:read": "read credit assessments",
    "credit:write": "request a credit assessment",
    "loans:read": "read loan products, offers, loans and schedules",
    "loans:write": "make offers, accept them, repay loans",
    "webhooks:read": "read webhook endpoints and their deliveries",
    "webhooks:write": "create webhook endpoints and turn them off or on",
    "keys:write": "create, list and revoke API keys",
    "risk:read": "read risk alerts, cases and rules (operator)",
    "risk:write": "assign, note and decide cases; switch a rule's mode (operator)",
}

_CONVENTIONS = """
Wallets and payments for Philippine micro, small and medium enterprises.

* **Authentication**: `Authorization: Bearer tk_live_…` (or `tk_test_…` on a demo database).
  A party's key reaches only that party's objects; anything else answers 404.
* **Idempotency**: every POST needs an `Idempotency-Key` header. A retry with the same key
  and body returns the first response (`Idempotent-Replayed: true`) and moves no more money;
  the same key with another body is a 409.
* **Device**: an app may send `Tindahan-Device-Id` (8–128 letters, digits or `-_.:`, stable
  per install) with any request; the fraud rules count money moved per device. It is kept
  only as a keyed hash. Anything else in that header is a 400 `invalid_device_id`.
* **Money**: `amount_minor` is an integer number of minor units (centavos: `12345` is ₱123.45)
  with an ISO 4217 `currency`. Decimals are refused, never rounded.
* **Errors**: `{"error": {"type", "code", "message", "param"}}` with a stable `code`.
* **Lists**: `limit` and `starting_after` (the last id of the previous page); `has_more`.
* **Times**: ISO 8601, UTC.
"""

_SIGNATURE = f"""
## Webhook signatures

Each delivery is a POST of one event as JSON with the header
`{HEADER}: t=<unix seconds>,v1=<hex>`, where `<hex>` is the lowercase hex HMAC-SHA256 of
the string `<t>.<body>`: the decimal timestamp from the header, a full stop, then the
request body's raw bytes exactly as received (do not re-serialize the JSON). The HMAC key
is the endpoint's whole signing secret as shown once at creation, `whsec_` prefix
included, encoded as UTF-8 bytes (it is not base64-decoded). Compare in constant time and
refuse a `t` more than {limits.WEBHOOK_TOLERANCE_SECONDS} seconds from your clock.
"""


def _scopes() -> str:
    lines = [f"* `{scope}`: {SCOPE_MEANINGS[scope]}" for scope in SCOPES]
    return "\n## API key scopes\n\nA key has all of them unless made with fewer.\n\n" + (
        "\n".join(lines) + "\n"
    )


def _events() -> str:
    names = ", ".join(f"`{name}`" for name in EVENT_TYPES)
    return f"\n## Webhook event types\n\n{names}, or `*` for all.\n"


DESCRIPTION = _CONVENTIONS + _scopes() + _events() + _SIGNATURE
