"""Bank rails: the switch's camt.054 notifications as received, and each day's
reconciliation with its breaks (issue 19, item 7).

Written from ``store.rails_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0018_reconciliation
Revises: 0017_addresses
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_reconciliation"
down_revision = "0017_addresses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rail_notifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=34), nullable=True),
        sa.Column("uetr", sa.String(length=36), nullable=True),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("booking_date", sa.String(length=10), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=True),
        sa.Column("received_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_rail_notifications_amount_positive")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_rail_notifications_position")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rail_notifications")),
        sa.UniqueConstraint(
            "message_id", "position", name=op.f("uq_rail_notifications_message_id_position")
        ),
    )
    with op.batch_alter_table("rail_notifications", schema=None) as batch_op:
        batch_op.create_index("ix_rail_notifications_received", ["received_at_ns"], unique=False)
    op.create_table(
        "reconciliations",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("statement_id", sa.String(length=35), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("break_count", sa.Integer(), nullable=False),
        sa.Column("ran_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "matched >= 0 AND break_count >= 0", name=op.f("ck_reconciliations_counts")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_reconciliations")),
    )
    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("uetr", sa.String(length=36), nullable=True),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=True),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ours_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("theirs_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("ours_date", sa.String(length=10), nullable=True),
        sa.Column("theirs_date", sa.String(length=10), nullable=True),
        sa.Column("ledger_transfer_id", sa.String(length=80), nullable=True),
        sa.Column("entry_reference", sa.String(length=35), nullable=True),
        sa.CheckConstraint(
            "kind IN ('missing_ours', 'missing_theirs', 'amount_mismatch', 'date_mismatch')",
            name=op.f("ck_reconciliation_breaks_kind"),
        ),
        sa.CheckConstraint(
            "(ours_amount_minor IS NULL) = (kind = 'missing_ours')"
            " AND (theirs_amount_minor IS NULL) = (kind = 'missing_theirs')",
            name=op.f("ck_reconciliation_breaks_sides"),
        ),
        sa.ForeignKeyConstraint(
            ["day"],
            ["reconciliations.day"],
            name=op.f("fk_reconciliation_breaks_day_reconciliations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_breaks")),
    )
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_breaks_day", ["day", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_breaks_day")
    op.drop_table("reconciliation_breaks")
    op.drop_table("reconciliations")
    with op.batch_alter_table("rail_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_rail_notifications_received")
    op.drop_table("rail_notifications")
