"""The PIN asked before money leaves the web app (issue 21, item 7): a login's own payment
PIN, hashed with Argon2 like the sign-in secret; NULL until the person sets one.

Revision ID: 0019_pay_pin
Revises: 0018_reconciliation
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_pay_pin"
down_revision = "0018_reconciliation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pay_pin_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.drop_column("pay_pin_hash")
