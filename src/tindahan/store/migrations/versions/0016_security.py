"""Security hardening (issue 17): sign-in throttles and the browsers owners signed in from.

(The data key's fingerprint lives in ``settings``, which needs no new table.)

Revision ID: 0016_security
Revises: 0015_risk_screening
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_security"
down_revision = "0015_risk_screening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_throttles",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("window_start_ns", sa.BigInteger(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("blocked_until_ns", sa.BigInteger(), nullable=False),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("tries >= 0 AND strikes >= 0", name=op.f("ck_signin_throttles_counts")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_throttles")),
    )
    with op.batch_alter_table("signin_throttles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signin_throttles_updated_at_ns"), ["updated_at_ns"], unique=False
        )
    op.create_table(
        "signin_devices",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("login_id", sa.String(length=40), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["login_id"], ["logins.id"], name=op.f("fk_signin_devices_login_id_logins")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_signin_devices")),
    )
    with op.batch_alter_table("signin_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signin_devices_login_id"), ["login_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signin_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_devices_login_id"))
    op.drop_table("signin_devices")
    with op.batch_alter_table("signin_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_throttles_updated_at_ns"))
    op.drop_table("signin_throttles")
