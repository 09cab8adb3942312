"""SMS (issue 24): the outbox of text messages, a language per party, one-time codes.

Revision ID: 0027_sms
Revises: 0026_risk_seen
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_sms"
down_revision = "0026_risk_seen"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch.create_check_constraint(
            op.f("ck_parties_language"), "language IS NULL OR language IN ('en', 'fil', 'ceb')"
        )
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("party_id", sa.String(40), sa.ForeignKey("parties.id")),
        sa.Column("to_cipher", sa.Text()),
        sa.Column("language", sa.String(8)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data_cipher", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(40)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("locked_until_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("provider", sa.String(32)),
        sa.Column("provider_message_id", sa.String(100)),
        sa.Column("to_last4", sa.String(4)),
        sa.Column("text_cipher", sa.Text()),
        sa.Column("sent_at_ns", sa.BigInteger()),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name="status"),
        sa.CheckConstraint("party_id IS NOT NULL OR to_cipher IS NOT NULL", name="has_recipient"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
    )
    op.create_index("ix_sms_messages_due", "sms_messages", ["status", "next_attempt_at_ns"])
    op.create_index("ix_sms_messages_created", "sms_messages", ["created_at_ns"])
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("phone_index", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("used_at_ns", sa.BigInteger()),
        sa.CheckConstraint("purpose IN ('signup', 'reset')", name="purpose"),
        sa.CheckConstraint("tries >= 0 AND tries <= 3", name="tries"),
    )
    op.create_index("ix_one_time_codes_number", "one_time_codes", ["phone_index", "purpose"])


def downgrade() -> None:
    op.drop_index("ix_one_time_codes_number", table_name="one_time_codes")
    op.drop_table("one_time_codes")
    op.drop_index("ix_sms_messages_created", table_name="sms_messages")
    op.drop_index("ix_sms_messages_due", table_name="sms_messages")
    op.drop_table("sms_messages")
    with op.batch_alter_table("parties") as batch:
        batch.drop_constraint(op.f("ck_parties_language"), type_="check")
        batch.drop_column("language")
