"""Request and response bodies, as the OpenAPI document shows them.

Requests are strict: unknown fields are refused (a typo must not silently drop a field),
and ``amount_minor`` must be a JSON integer — ``100.5``, ``"100"`` and ``1e2`` are refused
rather than rounded or coerced, because an amount that was not meant is worse than an error.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tindahan import limits
from tindahan.payments.model import WalletKind
from tindahan.webhooks.events import EVENT_TYPES

T = TypeVar("T")

AmountMinor = Annotated[
    int,
    Field(
        strict=True,
        gt=0,
        le=limits.MAX_AMOUNT_MINOR,
        description="Integer minor units (centavos for PHP): 12345 is ₱123.45.",
        examples=[12345],
    ),
]
Currency = Annotated[
    str,
    Field(
        min_length=3, max_length=3, description="ISO 4217 code; wallets hold PHP.", examples=["PHP"]
    ),
]
#: Ids and slugs are ASCII letters, digits and ``_.:-``: anything else (a NUL byte, which
#: PostgreSQL text cannot hold, spaces, other scripts) is a 400 before it reaches a query.
ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
ObjectId = Annotated[str, Field(min_length=1, max_length=40, pattern=ID_PATTERN)]
Reference = Annotated[str, Field(max_length=limits.REFERENCE_MAX_LENGTH)]
Description = Annotated[str, Field(max_length=limits.DESCRIPTION_MAX_LENGTH)]
Bps = Annotated[int, Field(strict=True, ge=0, le=limits.MAX_FEE_BPS)]
LimitMinor = Annotated[int, Field(strict=True, gt=0, le=limits.MAX_AMOUNT_MINOR)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- requests --------------------------------------------------------------------------------
class PartyCreate(Request):
    kind: Literal["customer", "merchant", "agent"]
    name: Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX_LENGTH)]
    phone: Annotated[str | None, Field(max_length=32, examples=["+639171234567"])] = None
    id_number: Annotated[str | None, Field(max_length=limits.ID_NUMBER_MAX_LENGTH)] = None
    tier: Annotated[str | None, Field(max_length=limits.TIER_NAME_MAX_LENGTH)] = None
    mcc: Annotated[str | None, Field(max_length=4, examples=["5411"])] = None
    city: Annotated[str | None, Field(max_length=limits.CITY_MAX_LENGTH)] = None
    province: Annotated[str | None, Field(max_length=limits.CITY_MAX_LENGTH)] = None
    currency: Literal["PHP", "CNY", "EUR", "USD"] | None = Field(
        None, description="A buyer abroad's wallet currency (customers only); default PHP."
    )

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "merchant",
                    "name": "Aling Nena's Sari-Sari Store",
                    "phone": "+639171234567",
                    "mcc": "5411",
                    "city": "Quezon City",
                    "province": "Metro Manila",
                }
            ]
        },
    )


class PartyUpdate(Request):
    status: Literal["active", "frozen", "closed"] | None = None
    tier: Annotated[str | None, Field(max_length=limits.TIER_NAME_MAX_LENGTH)] = None


class PaymentCreate(Request):
    payee_id: ObjectId
    amount_minor: AmountMinor
    currency: Currency
    payer_id: ObjectId | None = Field(None, description="Operator keys only: who pays.")
    reference: Reference | None = None
    description: Description | None = None

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "payee_id": "mer_…",
                    "amount_minor": 12500,
                    "currency": "PHP",
                    "reference": "OR-1042",
                }
            ]
        },
    )


class PaymentRequestCreate(Request):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "amount_minor": 45000,
                    "currency": "PHP",
                    "reference": "ORDER-1042",
                    "description": "2 kg rice, 1 tray eggs",
                    "expires_in_seconds": 86400,
                }
            ]
        },
    )

    amount_minor: AmountMinor
    currency: Currency
    merchant_id: ObjectId | None = Field(None, description="Operator keys only.")
    reference: Reference | None = None
    description: Description | None = None
    expires_in_seconds: Annotated[
        int | None, Field(strict=True, ge=60, le=limits.PAYMENT_REQUEST_MAX_SECONDS)
    ] = None


class PaymentRequestPay(Request):
    payer_id: ObjectId | None = Field(None, description="Operator keys only: who pays.")


class RefundCreate(Request):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"payment_id": "pay_…", "amount_minor": 5000, "reason": "one item out of stock"}
            ]
        },
    )

    payment_id: ObjectId
    amount_minor: AmountMinor | None = Field(None, description="Default: all that is left.")
    reason: Description | None = None


class MobileTransferCreate(Request):
    """Send money to the wallet registered to a Philippine mobile number."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "mobile": "+639171234567",
                    "amount_minor": 50000,
                    "currency": "PHP",
                    "note": "baon",
                }
            ]
        },
    )

    mobile: Annotated[
        str,
        Field(
            min_length=1,
            max_length=32,
            description="The recipient's registered mobile number (+639XXXXXXXXX or 09XXXXXXXXX).",
        ),
    ]
    amount_minor: AmountMinor
    currency: Currency
    note: Description | None = None
    sender_id: ObjectId | None = Field(None, description="Operator keys only: who sends.")


class CashInCreate(Request):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"customer_id": "cus_…", "amount_minor": 100000, "currency": "PHP"}]
        },
    )

    customer_id: ObjectId
    amount_minor: AmountMinor
    currency: Currency
    agent_id: ObjectId | None = Field(None, description="Operator keys only.")


class CashOutCreate(Request):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"agent_id": "agt_…", "amount_minor": 50000, "currency": "PHP"}]
        },
    )

    agent_id: ObjectId
    amount_minor: AmountMinor
    currency: Currency
    customer_id: ObjectId | None = Field(None, description="Operator keys only.")


class Empty(Request):
    pass


class FundingCreate(Request):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "wallet_id": "wal_…",
                    "amount_minor": 5000000,
                    "currency": "PHP",
                    "reference": "BDO-DEP-0042",
                }
            ]
        },
    )

    wallet_id: ObjectId
    amount_minor: AmountMinor
    currency: Currency
    reference: Reference | None = None


class WebhookEndpointCreate(Request):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://shop.example.ph/tindahan/webhooks",
                    "enabled_events": ["payment.succeeded", "refund.succeeded"],
                }
            ]
        },
    )

    url: Annotated[str, Field(min_length=1, max_length=limits.WEBHOOK_URL_MAX_LENGTH)]
    enabled_events: Annotated[
        list[Literal[(*EVENT_TYPES, "*")]],  # type: ignore[valid-type]
        Field(min_length=1, max_length=len(EVENT_TYPES) + 1),
    ]
    party_id: ObjectId | None = Field(None, description="Operator keys only; none: every event.")


class WebhookEndpointUpdate(Request):
    status: Literal["enabled", "disabled"]


class ApiKeyCreate(Request):
    party_id: ObjectId | None = Field(
        None, description="Operator keys only; none: an operator key."
    )
    scopes: Annotated[list[str] | None, Field(max_length=20)] = None


class KycTierUpdate(Request):
    per_transaction_max_minor: LimitMinor | None = None
    daily_outgoing_max_minor: LimitMinor | None = None
    monthly_outgoing_max_minor: LimitMinor | None = None
    monthly_incoming_max_minor: LimitMinor | None = None
    max_balance_minor: LimitMinor | None = None


RailFee = Annotated[int, Field(strict=True, ge=0, le=limits.MAX_RAIL_FEE_MINOR)]


class FeeSettingsUpdate(Request):
    merchant_discount_bps: Bps | None = None
    agent_commission_bps: Bps | None = None
    marketplace_fee_bps: Bps | None = None
    escrow_auto_release_days: (
        Annotated[int, Field(strict=True, ge=1, le=limits.MAX_AUTO_RELEASE_DAYS)] | None
    ) = None
    #: The bank rails' flat fees in centavos, per rail and kind (``rails.fees``).
    instapay_payout_fee_minor: RailFee | None = None
    instapay_send_fee_minor: RailFee | None = None
    pesonet_payout_fee_minor: RailFee | None = None
    pesonet_send_fee_minor: RailFee | None = None


class QrOrderPaymentCreate(Request):
    payload: Annotated[str, Field(min_length=1, max_length=512, description="The scanned text")]


class QrPaymentCreate(Request):
    payload: Annotated[str, Field(min_length=1, max_length=512, description="The scanned text")]
    amount_minor: AmountMinor | None = Field(None, description="Static codes only.")
    payer_id: ObjectId | None = Field(None, description="Operator keys only: who pays.")

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"payload": "00020101021128…6304ABCD", "amount_minor": 12500}]
        },
    )


# --- responses -------------------------------------------------------------------------------
class Business(BaseModel):
    mcc: str | None
    city: str | None
    province: str | None


class Party(BaseModel):
    id: str
    object: Literal["party"]
    kind: Literal["customer", "merchant", "agent"]
    status: Literal["active", "frozen", "closed"]
    tier: str
    name: str
    business: Business | None
    city: str | None
    province: str | None
    phone_last4: str | None
    id_verified: bool
    created: str


class Wallet(BaseModel):
    id: str
    object: Literal["wallet"]
    party_id: str
    kind: WalletKind
    currency: str
    status: Literal["active", "frozen", "closed"]
    balance_minor: int
    available_minor: int
    pending_in_minor: int
    pending_out_minor: int
    account_id: str
    created: str


class StatementFx(BaseModel):
    """Money from abroad converted on arrival: what came, at which rates, and the margin."""

    amount: str = Field(examples=["100.00 USD"])
    customer_rate: str
    mid_rate: str
    margin_minor: int = Field(description="What the spread kept, in centavos.")


class StatementEntry(BaseModel):
    id: str
    object: Literal["statement_entry"]
    wallet_id: str
    direction: Literal["credit", "debit"]
    amount_minor: int
    signed_amount_minor: int
    currency: str
    phase: Literal["posted", "pending", "posted_hold", "voided_hold"]
    code: int
    payment_id: str | None
    refund_id: str | None
    inbound_transfer_id: str | None = None
    fx: StatementFx | None = None
    counterparty_account_id: str
    created: str


class Payment(BaseModel):
    id: str
    short_ref: str  # 8 characters for people (receipts, the counter): services.platform.shortrefs
    object: Literal["payment"]
    kind: Literal["p2p", "merchant", "cash_in", "cash_out", "funding"]
    status: Literal["pending", "succeeded", "failed", "refunded", "partially_refunded"]
    amount_minor: int
    currency: str
    fee_minor: int
    net_minor: int
    commission_minor: int
    refunded_minor: int
    payer_id: str | None
    payee_id: str
    source_wallet_id: str | None
    destination_wallet_id: str
    request_id: str | None
    reference: str | None
    description: str | None
    transfer_ids: list[str]
    expires_at: str | None
    created: str
    updated: str
    under_review: bool = Field(
        False,
        description="The money is held for a review, for the customer's safety, until an "
        "analyst decides (the payee sees it and cannot spend it yet). Never says why.",
    )


class LedgerTransfer(BaseModel):
    id: str
    object: Literal["ledger_transfer"]
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    code: int
    flags: list[str]
    pending_id: str | None
    timestamp: int
    created: str


class PaymentRequest(BaseModel):
    id: str
    short_ref: str
    object: Literal["payment_request"]
    merchant_id: str
    merchant_name: str | None
    amount_minor: int
    currency: str
    reference: str | None
    description: str | None
    status: Literal["open", "paid", "canceled", "expired"]
    payment_id: str | None
    expires_at: str
    created: str


class Refund(BaseModel):
    id: str
    object: Literal["refund"]
    payment_id: str
    amount_minor: int
    currency: str
    fee_returned_minor: int
    reason: str | None
    status: Literal["succeeded", "pending", "failed"] = Field(
        description="`pending` and `failed` only on a TigerBeetle ledger: a refund being "
        "booked, or one the cluster refused (too little in the settlement wallet)."
    )
    transfer_ids: list[str]
    under_review: bool = Field(
        False,
        description="The refund's money is held for a review, for the customer's safety, "
        "until an analyst decides (the buyer sees it and cannot spend it yet). Never says why.",
    )
    created: str


class WebhookEndpoint(BaseModel):
    id: str
    object: Literal["webhook_endpoint"]
    party_id: str | None
    url: str
    enabled_events: list[str]
    status: Literal["enabled", "disabled"]
    created: str


class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str | None = Field(
        description="Shown once: verify each delivery's signature with it. Null when an "
        "idempotent retry replays the creation: the secret is never stored in the clear."
    )


class WebhookDelivery(BaseModel):
    id: str
    object: Literal["webhook_delivery"]
    event_id: str
    event_type: str
    endpoint_id: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    created: str


class ApiKey(BaseModel):
    id: str
    object: Literal["api_key"]
    display: str
    party_id: str | None
    operator: bool
    scopes: list[str]
    created: str
    revoked: str | None


class ApiKeyWithSecret(ApiKey):
    secret: str | None = Field(
        description="Shown once; only its hash is stored. Null when an idempotent retry "
        "replays the creation."
    )


class KycTier(BaseModel):
    object: Literal["kyc_tier"]
    name: str
    per_transaction_max_minor: int | None
    daily_outgoing_max_minor: int | None
    monthly_outgoing_max_minor: int | None
    monthly_incoming_max_minor: int | None
    max_balance_minor: int | None


class FeeSettings(BaseModel):
    object: Literal["fee_settings"]
    merchant_discount_bps: int
    agent_commission_bps: int
    marketplace_fee_bps: int
    escrow_auto_release_days: int
    instapay_payout_fee_minor: int
    instapay_send_fee_minor: int
    pesonet_payout_fee_minor: int
    pesonet_send_fee_minor: int


class QrCode(BaseModel):
    object: Literal["qr_code"]
    kind: Literal["static", "dynamic"]
    merchant_id: str
    payment_request_id: str | None
    order_id: str | None = None
    payload: str = Field(description="EMVCo MPM / QR Ph payload: render it as a QR code.")


class Notification(BaseModel):
    """Something a party was told (``webhooks.notices``): the facts, not a sentence."""

    id: str
    object: Literal["notification"]
    party_id: str
    kind: str = Field(examples=["order.paid", "shipment.updated", "mobile_transfer.received"])
    subject_id: str = Field(description="The order, payment, payout or bank transfer.")
    event_id: str = Field(description="The event that made it (the same as the webhook's).")
    facts: dict[str, str | int | None]
    read: bool
    read_at: str | None
    created: str | None


class NotificationsRead(Request):
    """Mark notifications read: these ids, or every unread one when ``ids`` is left out."""

    ids: list[ObjectId] | None = Field(None, max_length=limits.MAX_PAGE_SIZE)
    party_id: ObjectId | None = Field(None, description="Operator keys only.")


class NotificationReadResult(BaseModel):
    object: Literal["notification_read"]
    marked: int
    unread: int


class Page(BaseModel, Generic[T]):
    object: Literal["list"]
    data: list[T]
    has_more: bool


class ErrorDetail(BaseModel):
    type: str = Field(examples=["payment_error"])
    code: str = Field(examples=["insufficient_funds"])
    message: str = Field(examples=["the paying wallet's balance is too low"])
    param: str | None = Field(None, examples=["amount_minor"])


class Error(BaseModel):
    error: ErrorDetail
