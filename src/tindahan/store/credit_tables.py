"""Credit assessments: every automated decision, kept with its reasons.

The Data Privacy Act treats an automated credit decision as profiling: the merchant may ask
why. So each assessment stores the model version, the as-of time, the feature values it
read and the reasons it gave, and is never updated (a new assessment is a new row).

What the database holds a second time: a decision is one of the fixed list; a scored
decision has a probability, a score and a model version, an "insufficient history" one has
none of them (CHECK).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from tindahan.store.payment_tables import _ID, _in
from tindahan.store.tables import metadata

DECISIONS = ("scored", "insufficient_history")

credit_assessments = Table(
    "credit_assessments",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("decision", String(24), nullable=False),
    Column("model_version", String(120)),
    #: The probability of default as a decimal string (e.g. "0.073412"), never a float.
    Column("probability", String(16)),
    Column("score", Integer),
    Column("reasons", Text, nullable=False),  # JSON list
    Column("features", Text, nullable=False),  # JSON object: the values the model read
    Column("as_of_ns", BigInteger, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint(_in("decision", DECISIONS), name="decision"),
    CheckConstraint(
        "(decision = 'scored') = (probability IS NOT NULL AND score IS NOT NULL "
        "AND model_version IS NOT NULL)",
        name="scored_has_score",
    ),
)
Index("ix_credit_assessments_merchant", credit_assessments.c.merchant_id, credit_assessments.c.id)
