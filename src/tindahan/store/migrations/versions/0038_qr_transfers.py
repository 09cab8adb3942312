"""Bank transfers that pay another institution's QR Ph code (issue 19, item 3).

Such a transfer has no registered bank account: ``bank_account_id`` becomes nullable and the
creditor is kept on the transfer itself: ``participant_code`` (the acquirer the code names)
and the merchant's account and name, sealed by the vault like a bank account's
(``creditor_number_cipher``, ``creditor_name_cipher``). Exactly one of the two kinds of
creditor is set (CHECK ``creditor``).

Revision ID: 0038_qr_transfers
Revises: 0037_product_costs
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0038_qr_transfers"
down_revision = "0037_product_costs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_transfers") as batch:
        batch.alter_column("bank_account_id", existing_type=sa.String(40), nullable=True)
        batch.add_column(sa.Column("participant_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("creditor_number_cipher", sa.Text(), nullable=True))
        batch.add_column(sa.Column("creditor_name_cipher", sa.Text(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_bank_transfers_creditor"),
            "(bank_account_id IS NULL) = (participant_code IS NOT NULL)",
        )


def downgrade() -> None:
    # A QR transfer has no bank account: with any on record, NOT NULL fails and nothing
    # is lost (money records are never deleted to downgrade).
    with op.batch_alter_table("bank_transfers") as batch:
        batch.drop_constraint(op.f("ck_bank_transfers_creditor"), type_="check")
        batch.drop_column("creditor_name_cipher")
        batch.drop_column("creditor_number_cipher")
        batch.drop_column("participant_code")
        batch.alter_column("bank_account_id", existing_type=sa.String(40), nullable=False)
