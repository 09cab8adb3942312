"""Screening hits name what was screened: the party's own name, or a bank account's holder
(issue 20).

Bank transfers go to accounts a party registers with the holder's name; that name is
screened as the account is registered. A hit keeps the party (who registered it) and, in
``subject``, the bank account (``bac_…``); null is the party's own name, as every hit
before this was.

Revision ID: 0029_screening_subject
Revises: 0028_ussd
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_screening_subject"
down_revision = "0028_ussd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk_screening_hits") as batch:
        batch.add_column(sa.Column("subject", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_screening_hits") as batch:
        batch.drop_column("subject")
