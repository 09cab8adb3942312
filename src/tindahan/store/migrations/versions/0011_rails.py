"""Bank rails: the participants directory and parties' bank accounts (issue 19).

Written from ``store.rails_tables`` as Alembic's autogenerate would, then reviewed. The
directory's first rows are not loaded here: ``services.rails.participants.ensure_seeded``
fills an empty directory from ``rails/participants.csv`` at start-up, so the operator's
later edits are never overwritten by a migration.

Revision ID: 0011_rails
Revises: 0010_payouts
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_rails"
down_revision = "0010_payouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "participants",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("instapay", sa.Boolean(), nullable=False),
        sa.Column("pesonet", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("length(bic) IN (8, 11)", name=op.f("ck_participants_bic_length")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_participants")),
        sa.UniqueConstraint("bic", name=op.f("uq_participants_bic")),
    )
    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=False),
        sa.Column("participant_code", sa.String(length=16), nullable=False),
        sa.Column("number_index", sa.String(length=64), nullable=False),
        sa.Column("number_cipher", sa.Text(), nullable=False),
        sa.Column("name_cipher", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("removed_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(status = 'removed') = (removed_at_ns IS NOT NULL)",
            name=op.f("ck_bank_accounts_removed_when"),
        ),
        sa.CheckConstraint("status IN ('active', 'removed')", name=op.f("ck_bank_accounts_status")),
        sa.ForeignKeyConstraint(
            ["participant_code"],
            ["participants.code"],
            name=op.f("fk_bank_accounts_participant_code_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_bank_accounts_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint(
            "party_id",
            "participant_code",
            "number_index",
            name=op.f("uq_bank_accounts_party_id_participant_code_number_index"),
        ),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_bank_accounts_party", ["party_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_accounts_party")
    op.drop_table("bank_accounts")
    op.drop_table("participants")
