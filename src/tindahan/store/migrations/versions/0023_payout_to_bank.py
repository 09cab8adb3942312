"""The automatic daily payout may go to a bank account: ``payout_settings.bank_account_id``,
named exactly when the destination is ``bank_account`` (issue 19, item 1).

Revision ID: 0023_payout_to_bank
Revises: 0022_risk_legs
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_payout_to_bank"
down_revision = "0022_risk_legs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payout_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_account_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_payout_settings_bank_account_id_bank_accounts"),
            "bank_accounts",
            ["bank_account_id"],
            ["id"],
        )
        batch_op.drop_constraint(op.f("ck_payout_settings_destination"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_payout_settings_destination"),
            "destination IN ('wallet', 'bank_account')",
        )
        batch_op.create_check_constraint(
            op.f("ck_payout_settings_bank_account_named"),
            "(destination = 'bank_account') = (bank_account_id IS NOT NULL)",
        )


def downgrade() -> None:
    op.execute("UPDATE payout_settings SET destination = 'wallet', bank_account_id = NULL")
    with op.batch_alter_table("payout_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payout_settings_bank_account_named"), type_="check")
        batch_op.drop_constraint(op.f("ck_payout_settings_destination"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_payout_settings_destination"), "destination IN ('wallet')"
        )
        batch_op.drop_constraint(
            op.f("fk_payout_settings_bank_account_id_bank_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("bank_account_id")
