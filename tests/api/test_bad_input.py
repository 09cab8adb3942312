"""Bad input through the HTTP API: a specific 4xx with the error object, and no money moves.

Every case below is one bad request. Before it, whatever state it needs is set up (a frozen
party, a paid request, a revoked key...); then the whole money state is snapshotted — every
ledger account's four balances, the count of ledger transfers, payments, refunds, the
wallets' running limit totals, payment requests and parties — the bad request is sent, and
the snapshot is taken again. The answer must be the expected status and ``code`` (and
``param`` where the code names one) in ``{"error": {type, code, message, param}}``, never a
500, and the two snapshots must be equal: a refusal writes nothing, half or whole. The
ledger must still verify (sums to zero, balances match the transfers).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.api.conftest import Party, World, make_party
from tindahan import limits
from tindahan.services.ledger.verify import verify
from tindahan.store.payment_tables import (
    parties,
    payment_requests,
    payments,
    refunds,
    wallet_usage,
)
from tindahan.store.tables import accounts, transfers

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "payment_error",
    403: "permission_error",
    404: "not_found",
    409: "conflict",
}
#: Codes whose error type is not the one their status usually carries.
TYPE_OF_CODE = {
    "idempotency_key_reused": "idempotency_error",
    "route_missing": "invalid_request_error",
    "method_not_allowed": "invalid_request_error",
    "body_too_large": "invalid_request_error",
}


# --- helpers -----------------------------------------------------------------------------
def money_state(platform) -> dict[str, Any]:
    """Everything a money movement (or half of one) would change."""
    with platform.db.engine.connect() as conn:
        balances = conn.execute(
            select(
                accounts.c.id,
                accounts.c.debits_pending,
                accounts.c.debits_posted,
                accounts.c.credits_pending,
                accounts.c.credits_posted,
            ).order_by(accounts.c.id)
        ).all()
        usage = conn.execute(
            select(
                wallet_usage.c.account_id,
                wallet_usage.c.period,
                wallet_usage.c.direction,
                wallet_usage.c.total_minor,
            ).order_by(wallet_usage.c.account_id, wallet_usage.c.period, wallet_usage.c.direction)
        ).all()
        return {
            "balances": [tuple(r) for r in balances],
            "ledger_transfers": conn.execute(select(func.count()).select_from(transfers)).scalar(),
            "payments": conn.execute(
                select(payments.c.id, payments.c.status, payments.c.refunded_minor).order_by(
                    payments.c.id
                )
            ).all(),
            "refunds": conn.execute(select(func.count()).select_from(refunds)).scalar(),
            "usage": [tuple(r) for r in usage],
            "requests": conn.execute(
                select(
                    payment_requests.c.id, payment_requests.c.status, payment_requests.c.payment_id
                ).order_by(payment_requests.c.id)
            ).all(),
            "parties": conn.execute(
                select(parties.c.id, parties.c.status, parties.c.tier).order_by(parties.c.id)
            ).all(),
        }


def assert_error(response: httpx.Response, status: int, code: str, param: Any) -> dict[str, Any]:
    """The error object of DESIGN.md, with this status, code and param."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"type", "code", "message", "param"}, error
    assert error["code"] == code, error
    assert error["type"] == TYPE_OF_CODE.get(code, TYPES.get(status)), error
    assert isinstance(error["message"], str) and error["message"], error
    assert error["param"] == param, error
    return error


@dataclass
class Bad:
    """One request, as raw as a buggy integrator might send it."""

    path: str
    key: str | None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    idem: bool = True
    method: str = "POST"


def send(api, bad: Bad) -> httpx.Response:
    headers = dict(bad.headers)
    if bad.key is not None:
        headers.setdefault("Authorization", f"Bearer {bad.key}")
    if bad.method == "POST" and bad.idem:
        headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
    if bad.content is not None:
        headers.setdefault("Content-Type", "application/json")
        return api.http.request(bad.method, bad.path, headers=headers, content=bad.content)
    if bad.method == "POST":
        return api.http.post(bad.path, headers=headers, json=bad.json)
    return api.http.request(bad.method, bad.path, headers=headers)


@dataclass
class Ctx:
    world: World
    clock: Any

    @property
    def api(self):
        return self.world.api


def body(ctx: Ctx, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """A good payment from the buyer to the merchant, changed."""
    made = {"payee_id": ctx.world.merchant.id, "amount_minor": 1_000, "currency": "PHP"}
    made.update(changes)
    for name in drop:
        made.pop(name)
    return made


def raw_amount(ctx: Ctx, amount_text: str) -> bytes:
    """A payment body with ``amount_minor`` written exactly as given (1e2, 100.0, ...)."""
    payee = json.dumps(ctx.world.merchant.id)
    return f'{{"payee_id": {payee}, "amount_minor": {amount_text}, "currency": "PHP"}}'.encode()


def pay(ctx: Ctx, payer: Party, payee: Party, amount_minor: int, **extra: Any) -> dict[str, Any]:
    new = {"payee_id": payee.id, "amount_minor": amount_minor, "currency": "PHP", **extra}
    return ctx.api.ok(ctx.api.post("/v1/payments", payer.key, new))


def set_status(ctx: Ctx, party: Party, status: str) -> None:
    ctx.api.ok(ctx.api.post(f"/v1/parties/{party.id}", ctx.world.operator, {"status": status}))


def new_customer(ctx: Ctx, name: str = "Pedro", **extra: Any) -> Party:
    return make_party(ctx.api, ctx.world.operator, {"kind": "customer", "name": name, **extra})


def new_merchant(ctx: Ctx) -> Party:
    return make_party(
        ctx.api,
        ctx.world.operator,
        {"kind": "merchant", "name": "Kuya's Carinderia", "mcc": "5812"}
        | {"city": "Pasig", "province": "Metro Manila"},
    )


def closed_customer(ctx: Ctx) -> Party:
    party = new_customer(ctx, "Closed Account")
    set_status(ctx, party, "closed")
    return party


def merchant_payment(ctx: Ctx, amount_minor: int = 10_000) -> dict[str, Any]:
    return pay(ctx, ctx.world.buyer, ctx.world.merchant, amount_minor)


def payment_request(ctx: Ctx, **extra: Any) -> dict[str, Any]:
    made = {"amount_minor": 2_500, "currency": "PHP", "reference": "ORDER-7", **extra}
    return ctx.api.ok(ctx.api.post("/v1/payment_requests", ctx.world.merchant.key, made))


def pay_request_path(request_id: str) -> str:
    return f"/v1/payment_requests/{request_id}/pay"


def paid_request(ctx: Ctx) -> str:
    made = payment_request(ctx)
    ctx.api.ok(ctx.api.post(pay_request_path(made["id"]), ctx.world.other_buyer.key, {}))
    return str(made["id"])


def expired_request(ctx: Ctx) -> str:
    made = payment_request(ctx, expires_in_seconds=60)
    ctx.clock.advance(61)
    return str(made["id"])


def canceled_request(ctx: Ctx) -> str:
    made = payment_request(ctx)
    path = f"/v1/payment_requests/{made['id']}/cancel"
    ctx.api.ok(ctx.api.post(path, ctx.world.merchant.key, {}))
    return str(made["id"])


def revoked_key(ctx: Ctx) -> str:
    made = ctx.api.ok(
        ctx.api.post("/v1/api_keys", ctx.world.operator, {"party_id": ctx.world.buyer.id})
    )
    ctx.api.ok(ctx.api.post(f"/v1/api_keys/{made['id']}/revoke", ctx.world.operator, {}))
    return str(made["secret"])


def read_only_key(ctx: Ctx) -> str:
    made = ctx.api.post(
        "/v1/api_keys",
        ctx.world.operator,
        {"party_id": ctx.world.buyer.id, "scopes": ["payments:read", "wallets:read"]},
    )
    return str(ctx.api.ok(made)["secret"])


def reused_key(ctx: Ctx) -> Bad:
    """The key already paid 1,000; now it comes back asking for 2,000."""
    key = f"order-{uuid.uuid4()}"
    ctx.api.ok(ctx.api.post("/v1/payments", ctx.world.buyer.key, body(ctx), idem=key))
    return Bad(
        "/v1/payments",
        ctx.world.buyer.key,
        body(ctx, amount_minor=2_000),
        headers={"Idempotency-Key": key},
    )


def reused_key_other_path(ctx: Ctx) -> Bad:
    """The same key and body sent to another route is another request."""
    key = f"order-{uuid.uuid4()}"
    first = {"amount_minor": 2_500, "currency": "PHP"}
    ctx.api.ok(ctx.api.post("/v1/payment_requests", ctx.world.merchant.key, first, idem=key))
    return Bad(
        "/v1/payments",
        ctx.world.merchant.key,
        {"payee_id": ctx.world.buyer.id, **first},
        headers={"Idempotency-Key": key},
    )


def refund(ctx: Ctx, key: str, payment_id: str, amount_minor: int | None = None) -> Bad:
    made: dict[str, Any] = {"payment_id": payment_id}
    if amount_minor is not None:
        made["amount_minor"] = amount_minor
    return Bad("/v1/refunds", key, made)


def refund_too_much(ctx: Ctx) -> Bad:
    paid = merchant_payment(ctx)
    ctx.api.ok(
        ctx.api.post(
            "/v1/refunds", ctx.world.merchant.key, {"payment_id": paid["id"], "amount_minor": 6_000}
        )
    )
    return refund(ctx, ctx.world.merchant.key, paid["id"], 4_001)  # 4,000 is left


def refund_fully_refunded(ctx: Ctx) -> Bad:
    paid = merchant_payment(ctx)
    ctx.api.ok(ctx.api.post("/v1/refunds", ctx.world.merchant.key, {"payment_id": paid["id"]}))
    return refund(ctx, ctx.world.merchant.key, paid["id"], 1)


def refund_p2p(ctx: Ctx) -> Bad:
    sent = pay(ctx, ctx.world.buyer, ctx.world.other_buyer, 5_000)
    return refund(ctx, ctx.world.other_buyer.key, sent["id"], 1_000)


def refund_by_another_merchant(ctx: Ctx) -> Bad:
    paid = merchant_payment(ctx)
    return refund(ctx, new_merchant(ctx).key, paid["id"], 1_000)


def refund_by_the_payer(ctx: Ctx) -> Bad:
    paid = merchant_payment(ctx)
    return refund(ctx, ctx.world.buyer.key, paid["id"], 1_000)


def tiered(ctx: Ctx, fund: int = 0, **figures: int) -> Party:
    """A customer in a tier of its own with these limits only (others: none), funded."""
    name = f"t{uuid.uuid4().hex[:12]}"
    ctx.api.ok(ctx.api.post(f"/v1/kyc_tiers/{name}", ctx.world.operator, figures))
    party = new_customer(ctx, "Tiered", tier=name)
    if fund:
        ctx.world.fund(party, fund)
    return party


def freeze_then(ctx: Ctx, party: Party, make: Callable[[], Bad]) -> Bad:
    set_status(ctx, party, "frozen")
    return make()


# --- the table -----------------------------------------------------------------------------
Case = tuple[str, Callable[[Ctx], Bad], int, str, Any]


def _payments(ctx: Ctx, made: dict[str, Any] | None = None, **kw: Any) -> Bad:
    return Bad("/v1/payments", ctx.world.buyer.key, body(ctx) if made is None else made, **kw)


CASES: list[Case] = [
    # the body itself
    (
        "json_malformed",
        lambda c: _payments(c, content=b'{"payee_id": "mer_x", "amount_minor": 100,'),
        400,
        "json_invalid",
        None,
    ),
    (
        "json_truncated_string",
        lambda c: _payments(c, content=b'{"payee_id": "mer'),
        400,
        "json_invalid",
        None,
    ),
    ("body_is_a_list", lambda c: _payments(c, content=b"[1, 2, 3]"), 400, "body_invalid", None),
    ("body_is_a_string", lambda c: _payments(c, content=b'"pay me"'), 400, "body_invalid", None),
    (
        "unknown_field",
        lambda c: _payments(c, body(c, amount=1_000)),
        400,
        "parameter_unknown",
        "amount",
    ),
    (
        "missing_amount",
        lambda c: _payments(c, body(c, ("amount_minor",))),
        400,
        "parameter_missing",
        "amount_minor",
    ),
    (
        "missing_currency",
        lambda c: _payments(c, body(c, ("currency",))),
        400,
        "parameter_missing",
        "currency",
    ),
    (
        "missing_payee",
        lambda c: _payments(c, body(c, ("payee_id",))),
        400,
        "parameter_missing",
        "payee_id",
    ),
    (
        "payee_id_not_a_string",
        lambda c: _payments(c, body(c, payee_id=42)),
        400,
        "parameter_invalid",
        "payee_id",
    ),
    (
        "currency_not_a_string",
        lambda c: _payments(c, body(c, currency=608)),
        400,
        "parameter_invalid",
        "currency",
    ),
    (
        "currency_too_short",
        lambda c: _payments(c, body(c, currency="PH")),
        400,
        "parameter_invalid",
        "currency",
    ),
    (
        "reference_too_long",
        lambda c: _payments(c, body(c, reference="R" * (limits.REFERENCE_MAX_LENGTH + 1))),
        400,
        "parameter_invalid",
        "reference",
    ),
    # amounts: positive whole minor units only, never rounded or coerced
    (
        "amount_zero",
        lambda c: _payments(c, body(c, amount_minor=0)),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_negative",
        lambda c: _payments(c, body(c, amount_minor=-500)),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_decimal",
        lambda c: _payments(c, body(c, amount_minor=12.5)),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_string",
        lambda c: _payments(c, body(c, amount_minor="100")),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_exponent",
        lambda c: _payments(c, content=raw_amount(c, "1e2")),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_whole_float",
        lambda c: _payments(c, content=raw_amount(c, "100.0")),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_boolean",
        lambda c: _payments(c, body(c, amount_minor=True)),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_null",
        lambda c: _payments(c, body(c, amount_minor=None)),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "amount_over_int64",
        lambda c: _payments(c, body(c, amount_minor=2**63)),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    # currencies
    (
        "currency_unknown",
        lambda c: _payments(c, body(c, currency="XYZ")),
        400,
        "currency_invalid",
        "currency",
    ),
    (
        "currency_lowercase",
        lambda c: _payments(c, body(c, currency="php")),
        400,
        "currency_invalid",
        "currency",
    ),
    (
        "currency_not_held",
        lambda c: _payments(c, body(c, currency="USD")),
        400,
        "currency_unsupported",
        "currency",
    ),
    # who pays whom
    (
        "payee_is_payer",
        lambda c: _payments(c, body(c, payee_id=c.world.buyer.id)),
        400,
        "payee_is_payer",
        "payee_id",
    ),
    (
        "payee_unknown",
        lambda c: _payments(c, body(c, payee_id="cus_nosuchparty")),
        404,
        "resource_missing",
        "payee_id",
    ),
    (
        "payer_is_another_party",
        lambda c: _payments(c, body(c, payer_id=c.world.other_buyer.id)),
        404,
        "resource_missing",
        "payer_id",
    ),
    (
        "operator_without_payer",
        lambda c: Bad("/v1/payments", c.world.operator, body(c)),
        400,
        "parameter_missing",
        "payer_id",
    ),
    (
        "payee_frozen",
        lambda c: freeze_then(
            c, c.world.other_buyer, lambda: _payments(c, body(c, payee_id=c.world.other_buyer.id))
        ),
        402,
        "wallet_frozen",
        "payee",
    ),
    (
        "merchant_frozen",
        lambda c: freeze_then(c, c.world.merchant, lambda: _payments(c)),
        402,
        "wallet_frozen",
        "payee",
    ),
    (
        "payer_frozen",
        lambda c: freeze_then(c, c.world.buyer, lambda: _payments(c)),
        402,
        "wallet_frozen",
        "payer",
    ),
    (
        "payee_closed",
        lambda c: _payments(c, body(c, payee_id=closed_customer(c).id)),
        402,
        "wallet_closed",
        "payee",
    ),
    (
        "insufficient_funds",
        lambda c: _payments(c, body(c, amount_minor=1_000_001)),  # the buyer holds 1,000,000
        402,
        "insufficient_funds",
        "amount_minor",
    ),
    (
        "per_transaction_limit",
        lambda c: _payments(
            c,
            body(c, amount_minor=limits.KYC_TIER_DEFAULTS["full"]["per_transaction_max_minor"] + 1),
        ),
        402,
        "limit_exceeded",
        "per_transaction_max_minor",
    ),
    (
        "payee_over_max_balance",
        lambda c: _payments(
            c, body(c, payee_id=tiered(c, max_balance_minor=5_000).id, amount_minor=5_001)
        ),
        402,
        "limit_exceeded",
        "max_balance_minor",
    ),
    (
        "payer_over_daily_limit",
        lambda c: Bad(
            "/v1/payments",
            tiered(c, fund=10_000, daily_outgoing_max_minor=5_000).key,
            body(c, amount_minor=5_001),
        ),
        402,
        "limit_exceeded",
        "daily_outgoing_max_minor",
    ),
    # idempotency keys
    ("idempotency_key_reused", reused_key, 409, "idempotency_key_reused", "Idempotency-Key"),
    (
        "idempotency_key_other_route",
        reused_key_other_path,
        409,
        "idempotency_key_reused",
        "Idempotency-Key",
    ),
    (
        "idempotency_key_missing",
        lambda c: _payments(c, idem=False),
        400,
        "idempotency_key_missing",
        "Idempotency-Key",
    ),
    (
        "idempotency_key_empty",
        lambda c: _payments(c, headers={"Idempotency-Key": ""}),
        400,
        "idempotency_key_missing",
        "Idempotency-Key",
    ),
    (
        "idempotency_key_too_long",
        lambda c: _payments(
            c, headers={"Idempotency-Key": "k" * (limits.IDEMPOTENCY_KEY_MAX_LENGTH + 1)}
        ),
        400,
        "idempotency_key_invalid",
        "Idempotency-Key",
    ),
    # API keys
    ("api_key_missing", lambda c: Bad("/v1/payments", None, body(c)), 401, "api_key_missing", None),
    (
        "api_key_not_bearer",
        lambda c: Bad(
            "/v1/payments", None, body(c), headers={"Authorization": f"Basic {c.world.buyer.key}"}
        ),
        401,
        "api_key_missing",
        None,
    ),
    (
        "api_key_garbage",
        lambda c: Bad("/v1/payments", "hello", body(c)),
        401,
        "api_key_invalid",
        None,
    ),
    (
        "api_key_unknown",
        lambda c: Bad("/v1/payments", "tk_test_" + "A" * 43, body(c)),
        401,
        "api_key_invalid",
        None,
    ),
    (
        "api_key_too_long",
        lambda c: Bad("/v1/payments", c.world.buyer.key + "A" * 200, body(c)),
        401,
        "api_key_invalid",
        None,
    ),
    (
        "api_key_revoked",
        lambda c: Bad("/v1/payments", revoked_key(c), body(c)),
        401,
        "api_key_revoked",
        None,
    ),
    (
        "api_key_read_only",
        lambda c: Bad("/v1/payments", read_only_key(c), body(c)),
        403,
        "scope_missing",
        "payments:write",
    ),
    # operator-only actions from a party's key
    (
        "party_funds_itself",
        lambda c: Bad(
            "/v1/fundings",
            c.world.buyer.key,
            {"wallet_id": c.world.buyer.wallets["main"], "amount_minor": 1_000, "currency": "PHP"},
        ),
        403,
        "operator_only",
        None,
    ),
    (
        "party_creates_party",
        lambda c: Bad("/v1/parties", c.world.buyer.key, {"kind": "customer", "name": "Sneaky"}),
        403,
        "operator_only",
        None,
    ),
    (
        "party_unfreezes_itself",
        lambda c: freeze_then(
            c,
            c.world.buyer,
            lambda: Bad(f"/v1/parties/{c.world.buyer.id}", c.world.buyer.key, {"status": "active"}),
        ),
        403,
        "operator_only",
        None,
    ),
    (
        "party_raises_its_tier_limits",
        lambda c: Bad(
            "/v1/kyc_tiers/full", c.world.buyer.key, {"per_transaction_max_minor": 10**12}
        ),
        403,
        "operator_only",
        None,
    ),
    # another party's ids
    (
        "read_another_party_payment",
        lambda c: Bad(
            f"/v1/payments/{pay(c, c.world.other_buyer, c.world.merchant, 700)['id']}",
            c.world.buyer.key,
            method="GET",
        ),
        404,
        "resource_missing",
        "id",
    ),
    (
        "read_another_party_wallet",
        lambda c: Bad(
            f"/v1/wallets/{c.world.other_buyer.wallets['main']}", c.world.buyer.key, method="GET"
        ),
        404,
        "resource_missing",
        "id",
    ),
    (
        "read_another_party",
        lambda c: Bad(f"/v1/parties/{c.world.other_buyer.id}", c.world.buyer.key, method="GET"),
        404,
        "resource_missing",
        "id",
    ),
    (
        "cash_out_from_another_party",
        lambda c: Bad(
            "/v1/cash_outs",
            c.world.buyer.key,
            {
                "agent_id": c.world.agent.id,
                "amount_minor": 1_000,
                "currency": "PHP",
                "customer_id": c.world.other_buyer.id,
            },
        ),
        404,
        "resource_missing",
        "customer_id",
    ),
    (
        "read_another_merchant_request",
        lambda c: Bad(
            f"/v1/payment_requests/{payment_request(c)['id']}", c.world.buyer.key, method="GET"
        ),
        404,
        "resource_missing",
        "id",
    ),
    (
        "cancel_another_merchant_request",
        lambda c: Bad(
            f"/v1/payment_requests/{payment_request(c)['id']}/cancel", new_merchant(c).key, {}
        ),
        404,
        "resource_missing",
        "id",
    ),
    (
        "refund_by_another_merchant",
        refund_by_another_merchant,
        404,
        "resource_missing",
        "payment_id",
    ),
    ("refund_by_the_payer", refund_by_the_payer, 403, "not_payee", "payment_id"),
    # refunds
    ("refund_exceeds_payment", refund_too_much, 400, "refund_exceeds_payment", "amount_minor"),
    ("refund_fully_refunded", refund_fully_refunded, 409, "payment_not_refundable", "payment_id"),
    ("refund_p2p", refund_p2p, 409, "payment_not_refundable", "payment_id"),
    (
        "refund_zero",
        lambda c: refund(c, c.world.merchant.key, merchant_payment(c)["id"], 0),
        400,
        "amount_invalid",
        "amount_minor",
    ),
    (
        "refund_unknown_payment",
        lambda c: refund(c, c.world.merchant.key, "pay_nosuchpayment"),
        404,
        "resource_missing",
        "payment_id",
    ),
    # payment requests
    (
        "request_paid_twice",
        lambda c: Bad(pay_request_path(paid_request(c)), c.world.buyer.key, {}),
        409,
        "payment_request_paid",
        "id",
    ),
    (
        "request_expired",
        lambda c: Bad(pay_request_path(expired_request(c)), c.world.buyer.key, {}),
        409,
        "payment_request_expired",
        "id",
    ),
    (
        "request_canceled",
        lambda c: Bad(pay_request_path(canceled_request(c)), c.world.buyer.key, {}),
        409,
        "payment_request_canceled",
        "id",
    ),
    (
        "request_unknown",
        lambda c: Bad(pay_request_path("preq_nosuchrequest"), c.world.buyer.key, {}),
        404,
        "resource_missing",
        "id",
    ),
    (
        "request_pay_unknown_field",
        lambda c: Bad(
            pay_request_path(payment_request(c)["id"]), c.world.buyer.key, {"amount_minor": 1}
        ),
        400,
        "parameter_unknown",
        "amount_minor",
    ),
    (
        "request_expiry_too_short",
        lambda c: Bad(
            "/v1/payment_requests",
            c.world.merchant.key,
            {"amount_minor": 100, "currency": "PHP", "expires_in_seconds": 59},
        ),
        400,
        "parameter_invalid",
        "expires_in_seconds",
    ),
    (
        "request_by_a_customer",
        lambda c: Bad(
            "/v1/payment_requests", c.world.buyer.key, {"amount_minor": 100, "currency": "PHP"}
        ),
        400,
        "not_a_merchant",
        "merchant_id",
    ),
    # cash and funding
    (
        "cash_in_to_frozen_customer",
        lambda c: freeze_then(
            c,
            c.world.buyer,
            lambda: Bad(
                "/v1/cash_ins",
                c.world.agent.key,
                {"customer_id": c.world.buyer.id, "amount_minor": 1_000, "currency": "PHP"},
            ),
        ),
        402,
        "wallet_frozen",
        "customer",
    ),
    (
        "cash_out_over_balance",
        lambda c: Bad(
            "/v1/cash_outs",
            c.world.buyer.key,
            {"agent_id": c.world.agent.id, "amount_minor": 1_000_001, "currency": "PHP"},
        ),
        402,
        "insufficient_funds",
        "amount_minor",
    ),
    (
        "fund_closed_wallet",
        lambda c: Bad(
            "/v1/fundings",
            c.world.operator,
            {
                "wallet_id": closed_customer(c).wallets["main"],
                "amount_minor": 1_000,
                "currency": "PHP",
            },
        ),
        402,
        "wallet_closed",
        "destination",
    ),
    (
        "fund_unknown_wallet",
        lambda c: Bad(
            "/v1/fundings",
            c.world.operator,
            {"wallet_id": "wal_nosuchwallet", "amount_minor": 1_000, "currency": "PHP"},
        ),
        404,
        "resource_missing",
        "wallet_id",
    ),
    # parties and tiers
    (
        "close_party_with_money",
        lambda c: Bad(f"/v1/parties/{c.world.buyer.id}", c.world.operator, {"status": "closed"}),
        409,
        "wallet_not_empty",
        None,
    ),
    (
        "reopen_closed_party",
        lambda c: Bad(
            f"/v1/parties/{closed_customer(c).id}", c.world.operator, {"status": "active"}
        ),
        409,
        "party_closed",
        "status",
    ),
    (
        "party_status_unknown",
        lambda c: Bad(f"/v1/parties/{c.world.buyer.id}", c.world.operator, {"status": "deleted"}),
        400,
        "parameter_invalid",
        "status",
    ),
    (
        "party_tier_unknown",
        lambda c: Bad(
            "/v1/parties", c.world.operator, {"kind": "customer", "name": "Ana", "tier": "platinum"}
        ),
        400,
        "tier_invalid",
        "tier",
    ),
    (
        "party_phone_taken",
        lambda c: Bad(
            "/v1/parties",
            c.world.operator,
            {"kind": "customer", "name": "Juan 2", "phone": "+639171234567"},
        ),
        409,
        "phone_taken",
        "phone",
    ),
    (
        "tier_limit_zero",
        lambda c: Bad("/v1/kyc_tiers/basic", c.world.operator, {"per_transaction_max_minor": 0}),
        400,
        "parameter_invalid",
        "per_transaction_max_minor",
    ),
    (
        "tier_name_invalid",
        lambda c: Bad(
            "/v1/kyc_tiers/Gold-Plus", c.world.operator, {"per_transaction_max_minor": 100}
        ),
        400,
        "tier_invalid",
        "name",
    ),
    # HTTP itself
    (
        "body_too_large",
        lambda c: _payments(
            c, content=b'{"reference": "' + b"x" * limits.MAX_REQUEST_BODY_BYTES + b'"}'
        ),
        413,
        "body_too_large",
        None,
    ),
    (
        "route_missing",
        lambda c: Bad("/v1/transfers", c.world.buyer.key, body(c)),
        404,
        "route_missing",
        None,
    ),
    (
        "method_not_allowed",
        lambda c: Bad("/v1/payments", c.world.buyer.key, method="DELETE"),
        405,
        "method_not_allowed",
        None,
    ),
]


def test_the_snapshot_sees_money_move(world, platform):
    """The check the table relies on is not blind: one good payment changes it."""
    before = money_state(platform)
    pay(Ctx(world, None), world.buyer, world.merchant, 1_000)
    after = money_state(platform)
    for part in ("balances", "ledger_transfers", "payments", "usage"):
        assert after[part] != before[part], part


@pytest.mark.parametrize(
    ("build", "status", "code", "param"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_bad_request_is_refused_and_moves_no_money(
    world, platform, clock, build, status, code, param
):
    ctx = Ctx(world, clock)
    bad = build(ctx)
    before = money_state(platform)
    response = send(world.api, bad)
    assert_error(response, status, code, param)
    assert money_state(platform) == before
    assert verify(platform.db).ok
