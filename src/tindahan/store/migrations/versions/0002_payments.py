"""Payments: parties, wallets, payments, requests, refunds, API keys, idempotency, webhooks.

Generated from ``store.payment_tables`` by Alembic's autogenerate, then reviewed; it also
seeds the KYC tiers from ``limits.KYC_TIER_DEFAULTS`` (the operator changes them later).

Revision ID: 0002_payments
Revises: 0001_ledger
Create Date: 2026-11-29
"""

import time

import sqlalchemy as sa
from alembic import op

from tindahan import limits

revision = "0002_payments"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_created", ["created_at_ns"], unique=False)

    op.create_table(
        "kyc_tiers",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("per_transaction_max_minor", sa.BigInteger(), nullable=True),
        sa.Column("daily_outgoing_max_minor", sa.BigInteger(), nullable=True),
        sa.Column("monthly_outgoing_max_minor", sa.BigInteger(), nullable=True),
        sa.Column("monthly_incoming_max_minor", sa.BigInteger(), nullable=True),
        sa.Column("max_balance_minor", sa.BigInteger(), nullable=True),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kyc_tiers")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "wallet_usage",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f("ck_wallet_usage_direction")),
        sa.CheckConstraint("total_minor >= 0", name=op.f("ck_wallet_usage_total_not_negative")),
        sa.PrimaryKeyConstraint("account_id", "period", "direction", name=op.f("pk_wallet_usage")),
    )
    op.create_table(
        "parties",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("mcc", sa.String(length=4), nullable=True),
        sa.Column("city", sa.String(length=80), nullable=True),
        sa.Column("province", sa.String(length=80), nullable=True),
        sa.Column("phone_cipher", sa.Text(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("id_number_cipher", sa.Text(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind != 'merchant' OR mcc IS NOT NULL", name=op.f("ck_parties_merchant_has_mcc")
        ),
        sa.CheckConstraint(
            "kind = 'merchant' OR mcc IS NULL", name=op.f("ck_parties_mcc_for_merchants")
        ),
        sa.CheckConstraint(
            "kind IN ('customer', 'merchant', 'agent')", name=op.f("ck_parties_kind")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'frozen', 'closed')", name=op.f("ck_parties_status")
        ),
        sa.ForeignKeyConstraint(
            ["tier"], ["kyc_tiers.name"], name=op.f("fk_parties_tier_kyc_tiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        sa.UniqueConstraint("phone_index", name=op.f("uq_parties_phone_index")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("display", sa.String(length=32), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=True),
        sa.Column("is_operator", sa.Boolean(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "is_operator = (party_id IS NULL)", name=op.f("ck_api_keys_operator_or_party")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_api_keys_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_table(
        "payment_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "(status = 'paid') = (payment_id IS NOT NULL)",
            name=op.f("ck_payment_requests_paid_has_payment"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'canceled', 'expired')",
            name=op.f("ck_payment_requests_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payment_requests_amount_positive")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_payment_requests_merchant_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_requests")),
    )
    with op.batch_alter_table("payment_requests", schema=None) as batch_op:
        batch_op.create_index("ix_payment_requests_merchant", ["merchant_id", "id"], unique=False)

    op.create_table(
        "wallets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('main', 'settlement', 'float')", name=op.f("ck_wallets_kind")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_wallets_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_wallets_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("account_id", name=op.f("uq_wallets_account_id")),
        sa.UniqueConstraint(
            "party_id", "kind", "currency", name=op.f("uq_wallets_party_id_kind_currency")
        ),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret_cipher", sa.Text(), nullable=False),
        sa.Column("enabled_events", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('enabled', 'disabled')", name=op.f("ck_webhook_endpoints_status")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_webhook_endpoints_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_endpoints_party", ["party_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payer_id", sa.String(length=40), nullable=True),
        sa.Column("payee_id", sa.String(length=40), nullable=False),
        sa.Column("source_wallet_id", sa.String(length=40), nullable=True),
        sa.Column("destination_wallet_id", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("commission_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_returned_minor", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("transfer_ids", sa.Text(), nullable=False),
        sa.Column("expires_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('p2p', 'merchant', 'cash_in', 'cash_out', 'funding')",
            name=op.f("ck_payments_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'refunded', 'partially_refunded')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "commission_minor >= 0", name=op.f("ck_payments_commission_not_negative")
        ),
        sa.CheckConstraint(
            "fee_minor >= 0 AND fee_minor <= amount_minor",
            name=op.f("ck_payments_fee_within_amount"),
        ),
        sa.CheckConstraint(
            "fee_returned_minor >= 0 AND fee_returned_minor <= fee_minor",
            name=op.f("ck_payments_fee_return_within_fee"),
        ),
        sa.CheckConstraint(
            "payer_id IS NULL OR payer_id != payee_id", name=op.f("ck_payments_not_to_self")
        ),
        sa.CheckConstraint(
            "(kind = 'funding') = (payer_id IS NULL AND source_wallet_id IS NULL)",
            name=op.f("ck_payments_funding_has_no_payer"),
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor",
            name=op.f("ck_payments_refund_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["destination_wallet_id"],
            ["wallets.id"],
            name=op.f("fk_payments_destination_wallet_id_wallets"),
        ),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["parties.id"], name=op.f("fk_payments_payee_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["parties.id"], name=op.f("fk_payments_payer_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["payment_requests.id"],
            name=op.f("fk_payments_request_id_payment_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["source_wallet_id"], ["wallets.id"], name=op.f("fk_payments_source_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("request_id", name=op.f("uq_payments_request_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_payee", ["payee_id", "id"], unique=False)
        batch_op.create_index("ix_payments_payer", ["payer_id", "id"], unique=False)
        batch_op.create_index("ix_payments_pending", ["status", "expires_at_ns"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("locked_until_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_webhook_deliveries_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "event_id", "endpoint_id", name=op.f("uq_webhook_deliveries_event_id_endpoint_id")
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_due", ["status", "next_attempt_at_ns"], unique=False
        )
        batch_op.create_index("ix_webhook_deliveries_endpoint", ["endpoint_id", "id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee_returned_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transfer_ids", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_amount_positive")),
        sa.CheckConstraint(
            "fee_returned_minor >= 0", name=op.f("ck_refunds_fee_return_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index("ix_refunds_payment", ["payment_id", "id"], unique=False)

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("attempted_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_attempts_delivery", ["delivery_id", "id"], unique=False)

    _seed_tiers()


def _seed_tiers() -> None:
    tiers = sa.table(
        "kyc_tiers",
        sa.column("name", sa.String),
        sa.column("per_transaction_max_minor", sa.BigInteger),
        sa.column("daily_outgoing_max_minor", sa.BigInteger),
        sa.column("monthly_outgoing_max_minor", sa.BigInteger),
        sa.column("monthly_incoming_max_minor", sa.BigInteger),
        sa.column("max_balance_minor", sa.BigInteger),
        sa.column("updated_at_ns", sa.BigInteger),
    )
    now = time.time_ns()
    op.bulk_insert(
        tiers,
        [
            {"name": name, **figures, "updated_at_ns": now}
            for name, figures in limits.KYC_TIER_DEFAULTS.items()
        ],
    )


def downgrade() -> None:
    raise NotImplementedError("payment records are never dropped by a migration")
