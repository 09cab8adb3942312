"""Tables for parties, wallets, payments, access and webhooks (beside the ledger's).

What the database holds a second time, after the services' checks (DESIGN.md):
* a party's kind and status, a wallet's kind, a payment's kind and status are from fixed
  lists (CHECK); amounts are positive and a payment is never refunded above its amount,
  nor its fee returned above the fee (CHECK);
* a payment request is paid at most once (UNIQUE ``payments.request_id``);
* each wallet is one ledger account and each party has one wallet of a kind (UNIQUE);
* an idempotency key is used once per caller (primary key ``(scope, key)``);
* an API key is stored only as its SHA-256 (UNIQUE), and belongs to a party or to the
  operator, never both (CHECK);
* phone and ID numbers are held only encrypted (``*_cipher``); ``phone_index`` is a keyed
  hash (HMAC) so one number opens one party without the number being stored.

Times are ``*_at_ns``: integer nanoseconds since the epoch, UTC, like the ledger's.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tindahan import limits
from tindahan.store.tables import metadata

_ID = 40  # object ids: a short prefix and 24 random characters


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

kyc_tiers = Table(
    "kyc_tiers",
    metadata,
    Column("name", String(limits.TIER_NAME_MAX_LENGTH), primary_key=True),
    Column("per_transaction_max_minor", BigInteger),
    Column("daily_outgoing_max_minor", BigInteger),
    Column("monthly_outgoing_max_minor", BigInteger),
    Column("monthly_incoming_max_minor", BigInteger),
    Column("max_balance_minor", BigInteger),
    Column("updated_at_ns", BigInteger, nullable=False),
)

parties = Table(
    "parties",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column(
        "tier", String(limits.TIER_NAME_MAX_LENGTH), ForeignKey("kyc_tiers.name"), nullable=False
    ),
    Column("name", String(limits.NAME_MAX_LENGTH), nullable=False),
    Column("mcc", String(4)),
    Column("city", String(limits.CITY_MAX_LENGTH)),
    Column("province", String(limits.CITY_MAX_LENGTH)),
    Column("phone_cipher", Text),
    Column("phone_index", String(64), unique=True),
    Column("id_number_cipher", Text),
    Column("created_at_ns", BigInteger, nullable=False),
    #: A merchant's or agent's seven-digit code, typed on USSD and printed on its poster
    #: (``ussd.codes``); customers have none.
    Column("short_code", String(7)),
    #: The language the person reads (SMS, and the web pages once signed in): en, fil, ceb;
    #: NULL: not chosen yet, English.
    Column("language", String(8)),
    CheckConstraint(_in("kind", ("customer", "merchant", "agent")), name="kind"),
    CheckConstraint("language IS NULL OR language IN ('en', 'fil', 'ceb')", name="language"),
    CheckConstraint(_in("status", ("active", "frozen", "closed")), name="status"),
    CheckConstraint("kind = 'merchant' OR mcc IS NULL", name="mcc_for_merchants"),
    Index("ix_parties_short_code", "short_code", unique=True),
    CheckConstraint("kind != 'merchant' OR mcc IS NOT NULL", name="merchant_has_mcc"),
)

wallets = Table(
    "wallets",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("party_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column(
        "account_id",
        String(limits.ID_MAX_LENGTH),
        ForeignKey("ledger_accounts.id"),
        nullable=False,
        unique=True,
    ),
    Column("created_at_ns", BigInteger, nullable=False),
    UniqueConstraint("party_id", "kind", "currency"),
    CheckConstraint(_in("kind", ("main", "settlement", "float")), name="kind"),
)

payment_requests = Table(
    "payment_requests",
    metadata,
    Column("id", String(_ID), primary_key=True),
    #: For people (receipts, the counter): ``services.platform.shortrefs``.
    Column("short_ref", String(8), nullable=False),
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(limits.REFERENCE_MAX_LENGTH)),
    Column("description", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("status", String(16), nullable=False),
    Column("expires_at_ns", BigInteger, nullable=False),
    Column("payment_id", String(_ID)),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint(_in("status", ("open", "paid", "canceled", "expired")), name="status"),
    CheckConstraint("(status = 'paid') = (payment_id IS NOT NULL)", name="paid_has_payment"),
)
Index("ix_payment_requests_merchant", payment_requests.c.merchant_id, payment_requests.c.id)
Index("ix_payment_requests_short_ref", payment_requests.c.short_ref, unique=True)

payments = Table(
    "payments",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("short_ref", String(8), nullable=False),  # services.platform.shortrefs
    Column("kind", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    #: No payer for a funding: the money came from outside, through ``op.bank``.
    Column("payer_id", String(_ID), ForeignKey("parties.id")),
    Column("payee_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("source_wallet_id", String(_ID), ForeignKey("wallets.id")),
    Column("destination_wallet_id", String(_ID), ForeignKey("wallets.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("commission_minor", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("fee_returned_minor", BigInteger, nullable=False),
    Column("request_id", String(_ID), ForeignKey("payment_requests.id"), unique=True),
    Column("reference", String(limits.REFERENCE_MAX_LENGTH)),
    Column("description", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("transfer_ids", Text, nullable=False),
    Column("expires_at_ns", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("fee_minor >= 0 AND fee_minor <= amount_minor", name="fee_within_amount"),
    CheckConstraint("commission_minor >= 0", name="commission_not_negative"),
    CheckConstraint(
        "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refund_within_amount"
    ),
    CheckConstraint(
        "fee_returned_minor >= 0 AND fee_returned_minor <= fee_minor", name="fee_return_within_fee"
    ),
    CheckConstraint("payer_id IS NULL OR payer_id != payee_id", name="not_to_self"),
    CheckConstraint(
        "(kind = 'funding') = (payer_id IS NULL AND source_wallet_id IS NULL)",
        name="funding_has_no_payer",
    ),
    CheckConstraint(
        _in("kind", ("p2p", "merchant", "cash_in", "cash_out", "funding")), name="kind"
    ),
    CheckConstraint(
        _in("status", ("pending", "succeeded", "failed", "refunded", "partially_refunded")),
        name="status",
    ),
)
Index("ix_payments_payer", payments.c.payer_id, payments.c.id)
Index("ix_payments_payee", payments.c.payee_id, payments.c.id)
Index("ix_payments_pending", payments.c.status, payments.c.expires_at_ns)
Index("ix_payments_short_ref", payments.c.short_ref, unique=True)

#: A payment whose legs live in a TigerBeetle cluster (issue 22): where it is in the two-store
#: write order (``services.payments.two_store``). ``legs`` are the pending transfers as JSON
#: (what recovery books again if the first attempt never reached the cluster); ``scope`` and
#: ``idem_key`` name the idempotency record whose stored answer becomes the final one.
two_store_payments = Table(
    "two_store_payments",
    metadata,
    #: The movement's id: a payment's, a payout's or a loan's (``record``); no foreign key,
    #: as it names a row of one table or another (written with it, in its transaction A).
    Column("payment_id", String(_ID), primary_key=True),
    Column("state", String(16), nullable=False),
    #: Whose place it is: ``payment`` (``payments``), ``payout`` (``payouts``),
    #: ``bank_transfer`` (``bank_transfers``), ``loan`` (``loans``: its disbursement,
    #: ``services.payments.loan_cluster``), ``inbound`` (``inbound_transfers``),
    #: ``refund`` (``refunds``), ``loan_repayment`` or ``loan_recovery`` (``loan_moves``)
    #: or ``order`` (``order_places``: an order's escrow movement).
    Column("record", String(16), nullable=False, server_default="payment"),
    Column("legs", Text, nullable=False),
    Column("scope", String(_ID)),
    Column("idem_key", String(limits.IDEMPOTENCY_KEY_MAX_LENGTH)),
    Column("refusal_code", String(64)),
    Column("refusal_message", String(200)),
    Column("deadline_ns", BigInteger, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint(
        _in("state", ("reserving", "reserved", "held", "voiding", "settled", "refused")),
        name="state",
    ),
    CheckConstraint(
        _in(
            "record",
            (
                "payment",
                "payout",
                "bank_transfer",
                "loan",
                "inbound",
                "refund",
                "loan_repayment",
                "order",
                "bank_payout",
                "recall",
                "loan_recovery",
            ),
        ),
        name="record",
    ),
)
Index(
    "ix_two_store_payments_unfinished",
    two_store_payments.c.state,
    two_store_payments.c.created_at_ns,
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("payment_id", String(_ID), ForeignKey("payments.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("fee_returned_minor", BigInteger, nullable=False),
    Column("reason", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("status", String(16), nullable=False),
    Column("transfer_ids", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("fee_returned_minor >= 0", name="fee_return_not_negative"),
)
Index("ix_refunds_payment", refunds.c.payment_id, refunds.c.id)

wallet_usage = Table(
    "wallet_usage",
    metadata,
    Column("account_id", String(limits.ID_MAX_LENGTH), primary_key=True),
    Column("period", String(12), primary_key=True),
    Column("direction", String(3), primary_key=True),
    Column("total_minor", BigInteger, nullable=False),
    CheckConstraint("total_minor >= 0", name="total_not_negative"),
    CheckConstraint(_in("direction", ("in", "out")), name="direction"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("display", String(32), nullable=False),
    Column("party_id", String(_ID), ForeignKey("parties.id")),
    Column("is_operator", Boolean, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("revoked_at_ns", BigInteger),
    CheckConstraint("is_operator = (party_id IS NULL)", name="operator_or_party"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(_ID), primary_key=True),
    Column("key", String(limits.IDEMPOTENCY_KEY_MAX_LENGTH), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
)
Index("ix_idempotency_keys_created", idempotency_keys.c.created_at_ns)

events = Table(
    "events",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("type", String(48), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    # When the NATS relay's stream acknowledged it (``services.platform.relay``); null
    # until then, and always without NATS.
    Column("published_at_ns", BigInteger),
    Index("ix_events_unpublished", "published_at_ns", "created_at_ns"),
)

#: What a party is told on the pages (``webhooks.notices``): one row per notice, written in the
#: transaction of the event it reports (``event_id``); ``facts`` is JSON of amounts, a short
#: reference, a status and at most a masked name, never a sentence (the pages say it in the
#: reader's language). ``read_at_ns`` is set once, when the party sees it.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("party_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("subject_id", String(_ID), nullable=False),
    Column("event_id", String(_ID), nullable=False),
    Column("facts", Text, nullable=False),
    Column("read_at_ns", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    UniqueConstraint("event_id", "party_id", "kind"),
)
Index(
    "ix_notifications_party",
    notifications.c.party_id,
    notifications.c.created_at_ns,
    notifications.c.id,
)
Index("ix_notifications_unread", notifications.c.party_id, notifications.c.read_at_ns)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("party_id", String(_ID), ForeignKey("parties.id")),
    Column("url", String(limits.WEBHOOK_URL_MAX_LENGTH), nullable=False),
    Column("secret_cipher", Text, nullable=False),
    #: ",payment.succeeded,refund.succeeded," or ",*,": matched with LIKE, portably.
    Column("enabled_events", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint(_in("status", ("enabled", "disabled")), name="status"),
)
Index("ix_webhook_endpoints_party", webhook_endpoints.c.party_id)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("event_id", String(_ID), ForeignKey("events.id"), nullable=False),
    Column("endpoint_id", String(_ID), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at_ns", BigInteger, nullable=False),
    Column("locked_until_ns", BigInteger, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("delivered_at_ns", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    UniqueConstraint("event_id", "endpoint_id"),
    CheckConstraint(_in("status", ("pending", "delivered", "failed")), name="status"),
)
Index(
    "ix_webhook_deliveries_due",
    webhook_deliveries.c.status,
    webhook_deliveries.c.next_attempt_at_ns,
)
Index("ix_webhook_deliveries_endpoint", webhook_deliveries.c.endpoint_id, webhook_deliveries.c.id)

#: The SMS outbox (``services.platform.sms``): written in the transaction of the change it
#: announces, sent by the worker through the SMS provider. A message is to a party (its
#: phone and language are read when it is sent) or, for a one-time code, to a number that
#: may have no party yet (``to_cipher``). What goes into a message and the text that went out
#: are personal data: both are sealed by the vault.
sms_messages = Table(
    "sms_messages",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("party_id", String(_ID), ForeignKey("parties.id")),
    Column("to_cipher", Text),
    Column("language", String(8)),
    Column("kind", String(32), nullable=False),
    Column("data_cipher", Text, nullable=False),
    Column("event_id", String(_ID)),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at_ns", BigInteger, nullable=False),
    Column("locked_until_ns", BigInteger, nullable=False),
    Column("last_error", String(500)),
    Column("provider", String(32)),
    Column("provider_message_id", String(100)),
    Column("to_last4", String(4)),
    Column("text_cipher", Text),
    Column("sent_at_ns", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint(_in("status", ("pending", "sent", "failed", "skipped")), name="status"),
    CheckConstraint("party_id IS NOT NULL OR to_cipher IS NOT NULL", name="has_recipient"),
    CheckConstraint("attempts >= 0", name="attempts"),
)
Index("ix_sms_messages_due", sms_messages.c.status, sms_messages.c.next_attempt_at_ns)
Index("ix_sms_messages_created", sms_messages.c.created_at_ns)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(_ID), ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempted_at_ns", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("error", String(500)),
    Column("duration_ms", Integer, nullable=False),
)
Index("ix_webhook_attempts_delivery", webhook_attempts.c.delivery_id, webhook_attempts.c.id)
