"""Bank rails: inbound credit transfers and their recalls (issue 19, item 5).

Written from ``store.rails_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0021_inbound
Revises: 0020_risk_cases
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_inbound"
down_revision = "0020_risk_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_transfers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("uetr", sa.String(length=36), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("rail", sa.String(length=16), nullable=False),
        sa.Column("debtor_agent", sa.String(length=11), nullable=True),
        sa.Column("creditor_account_kind", sa.String(length=8), nullable=True),
        sa.Column("party_id", sa.String(length=40), nullable=True),
        sa.Column("wallet_id", sa.String(length=40), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credited_minor", sa.BigInteger(), nullable=True),
        sa.Column("mid_rate", sa.String(length=32), nullable=True),
        sa.Column("customer_rate", sa.String(length=32), nullable=True),
        sa.Column("spread_bps", sa.BigInteger(), nullable=True),
        sa.Column("margin_minor", sa.BigInteger(), nullable=True),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=8), nullable=True),
        sa.Column("answer_id", sa.String(length=35), nullable=False),
        sa.Column("received_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("returned_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_inbound_transfers_amount_positive")),
        sa.CheckConstraint(
            "status IN ('credited', 'rejected', 'returned')",
            name=op.f("ck_inbound_transfers_status"),
        ),
        sa.CheckConstraint(
            "rail IN ('instapay', 'pesonet')", name=op.f("ck_inbound_transfers_rail")
        ),
        sa.CheckConstraint(
            "(status = 'rejected') = (reason_code IS NOT NULL)",
            name=op.f("ck_inbound_transfers_rejected_has_reason"),
        ),
        sa.CheckConstraint(
            "status = 'rejected' OR (wallet_id IS NOT NULL AND transfer_id IS NOT NULL"
            " AND credited_minor > 0)",
            name=op.f("ck_inbound_transfers_credited_has_wallet"),
        ),
        sa.CheckConstraint(
            "(status = 'returned') = (returned_at_ns IS NOT NULL)",
            name=op.f("ck_inbound_transfers_returned_when"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_inbound_transfers_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_inbound_transfers_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_transfers")),
        sa.UniqueConstraint(
            "uetr", "end_to_end_id", name=op.f("uq_inbound_transfers_uetr_end_to_end_id")
        ),
    )
    with op.batch_alter_table("inbound_transfers", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_transfers_party", ["party_id", "id"], unique=False)
    op.create_table(
        "inbound_recalls",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("inbound_transfer_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=35), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("assigner_agent", sa.String(length=11), nullable=True),
        sa.Column("reason_code", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rejection_code", sa.String(length=8), nullable=True),
        sa.Column("return_id", sa.String(length=35), nullable=True),
        sa.Column("received_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("sent_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected')",
            name=op.f("ck_inbound_recalls_status"),
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at_ns IS NULL)",
            name=op.f("ck_inbound_recalls_decided_when"),
        ),
        sa.CheckConstraint(
            "(status = 'rejected') = (rejection_code IS NOT NULL)",
            name=op.f("ck_inbound_recalls_rejected_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["inbound_transfer_id"],
            ["inbound_transfers.id"],
            name=op.f("fk_inbound_recalls_inbound_transfer_id_inbound_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_recalls")),
        sa.UniqueConstraint(
            "inbound_transfer_id",
            "case_id",
            name=op.f("uq_inbound_recalls_inbound_transfer_id_case_id"),
        ),
    )
    with op.batch_alter_table("inbound_recalls", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_recalls_status", ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_recalls", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_recalls_status")
    op.drop_table("inbound_recalls")
    with op.batch_alter_table("inbound_transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_transfers_party")
    op.drop_table("inbound_transfers")
