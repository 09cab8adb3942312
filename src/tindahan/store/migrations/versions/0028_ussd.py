"""USSD (issue 24): sessions, and the merchants' and agents' short codes.

``parties.short_code`` is seven digits with a Luhn check digit (``ussd.codes``), unique; the
merchants and agents that exist are given one here. (A person's language is
``parties.language``, from ``0027_sms``.)

Revision ID: 0028_ussd
Revises: 0027_sms
Create Date: 2026-12-07
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0028_ussd"
down_revision = "0027_sms"
branch_labels = None
depends_on = None


def _check_digit(digits: str) -> str:
    # A copy of ``ussd.codes.check_digit``: a migration must not change when the code does.
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def _code(taken: set[str]) -> str:
    while True:
        body = str(secrets.choice(range(1, 10))) + "".join(
            secrets.choice("0123456789") for _ in range(5)
        )
        code = body + _check_digit(body)
        if code not in taken:
            taken.add(code)
            return code


def upgrade() -> None:
    op.add_column("parties", sa.Column("short_code", sa.String(length=7), nullable=True))
    conn = op.get_bind()
    rows = sa.table(
        "parties", sa.column("id", sa.String), sa.column("kind"), sa.column("short_code")
    )
    ids = conn.execute(
        sa.select(rows.c.id).where(rows.c.kind.in_(("merchant", "agent"))).order_by(rows.c.id)
    ).scalars()
    taken: set[str] = set()
    for party_id in list(ids):
        conn.execute(sa.update(rows).where(rows.c.id == party_id).values(short_code=_code(taken)))
    op.create_index("ix_parties_short_code", "parties", ["short_code"], unique=True)
    op.create_table(
        "ussd_sessions",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("signup", sa.Boolean(), nullable=False),
        sa.Column("started_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_step_ns", sa.BigInteger(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
    )
    op.create_index("ix_ussd_sessions_started", "ussd_sessions", ["started_at_ns"])


def downgrade() -> None:
    op.drop_index("ix_ussd_sessions_started", table_name="ussd_sessions")
    op.drop_table("ussd_sessions")
    op.drop_index("ix_parties_short_code", table_name="parties")
    op.execute("ALTER TABLE parties DROP COLUMN short_code")
