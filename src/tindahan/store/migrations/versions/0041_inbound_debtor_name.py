"""The debtor's name of an inbound bank transfer, sealed (screened before the credit lands).

Revision ID: 0041_inbound_debtor_name
Revises: 0040_lessons
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0041_inbound_debtor_name"
down_revision = "0040_lessons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_transfers") as batch:
        batch.add_column(sa.Column("debtor_name_cipher", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_transfers") as batch:
        batch.drop_column("debtor_name_cipher")
