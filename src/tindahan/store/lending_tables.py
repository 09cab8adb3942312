"""Tables for loan products, offers, loans, their installments and history, holidays and
the daily close.

Rates are decimal strings (``"0.035"`` is 3.5%), never floats; offers and loans also keep
their rates in parts per million (integers) so the database can hold the legal ceilings a
second time. What the database holds after the services' checks:
* an offer of a covered small loan (≤ ₱10,000, ≤ 4 months) has a nominal rate of at most 6%
  a month, an EIR of at most 12% a month and a finance charge of at most its principal
  (CHECK: BSP Circular 1133, SEC MC 14 s. 2025); net proceeds + finance charge = total of
  payments (CHECK);
* an offer becomes at most one loan (UNIQUE ``loans.offer_id``);
* a merchant has at most one active loan (partial UNIQUE index); a ``cancelled`` loan (its
  disbursement returned after a risk review, 0064) owes nothing and blocks nothing;
* nothing is paid beyond what was due, component by component (CHECKs on installments and
  on the loan's running totals).

A loan's running totals mirror its ledger accounts (``loan.<id>.principal`` …) and
``tindahan ledger verify`` compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from tindahan import limits
from tindahan.store.payment_tables import _ID, _in
from tindahan.store.tables import metadata

_RATE = 24  # a decimal string
_DATE = 10  # ISO YYYY-MM-DD: sorts as the dates do
FREQUENCIES = ("daily", "weekly", "biweekly", "monthly")
METHODS = ("declining-equal-installment", "declining-equal-principal")
FEE_MODES = ("deducted", "added")
DAY_COUNTS = ("30/360", "actual/365")
ACCRUALS = ("daily", "installment")
LOAN_STATUSES = ("active", "closed", "written_off", "cancelled")
OFFER_STATUSES = ("open", "accepted", "expired", "withdrawn")
INSTALLMENT_STATUSES = ("open", "paid", "restructured")
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")

loan_products = Table(
    "loan_products",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", String(limits.NAME_MAX_LENGTH), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("min_principal_minor", BigInteger, nullable=False),
    Column("max_principal_minor", BigInteger, nullable=False),
    Column("frequency", String(10), nullable=False),
    Column("min_term", Integer, nullable=False),
    Column("max_term", Integer, nullable=False),
    Column("method", String(32), nullable=False),
    Column("day_count", String(12), nullable=False),
    Column("rate_min", String(_RATE), nullable=False),  # nominal, per month
    Column("rate_max", String(_RATE), nullable=False),
    Column("fee_bps", Integer, nullable=False),
    Column("fee_mode", String(10), nullable=False),
    Column("penalty_rate", String(_RATE), nullable=False),  # per month, on amounts past due
    Column("grace_days", Integer, nullable=False),
    Column("auto_deduct_bps", Integer, nullable=False),  # 0: no deduction from sales
    Column("accrual", String(12), nullable=False),
    Column("allocation_order", String(64), nullable=False),
    Column("max_probability", String(_RATE), nullable=False),  # highest PD it lends at
    Column("status", String(10), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint(
        "min_principal_minor > 0 AND min_principal_minor <= max_principal_minor", name="amounts"
    ),
    CheckConstraint("min_term > 0 AND min_term <= max_term", name="terms"),
    CheckConstraint("fee_bps >= 0 AND fee_bps <= 10000", name="fee"),
    CheckConstraint(
        f"auto_deduct_bps >= 0 AND auto_deduct_bps <= {limits.MAX_AUTO_DEDUCT_BPS}",
        name="auto_deduct",
    ),
    CheckConstraint(f"grace_days >= 0 AND grace_days <= {limits.MAX_GRACE_DAYS}", name="grace"),
    CheckConstraint(_in("frequency", FREQUENCIES), name="frequency"),
    CheckConstraint(_in("method", METHODS), name="method"),
    CheckConstraint(_in("fee_mode", FEE_MODES), name="fee_mode"),
    CheckConstraint(_in("day_count", DAY_COUNTS), name="day_count"),
    CheckConstraint(_in("accrual", ACCRUALS), name="accrual"),
    CheckConstraint(_in("status", ("active", "retired")), name="status"),
)

loan_offers = Table(
    "loan_offers",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("product_id", String(_ID), ForeignKey("loan_products.id"), nullable=False),
    Column("assessment_id", String(_ID), ForeignKey("credit_assessments.id"), nullable=False),
    Column("limit_minor", BigInteger, nullable=False),
    Column("principal_minor", BigInteger, nullable=False),
    Column("term", Integer, nullable=False),
    Column("rate", String(_RATE), nullable=False),  # nominal, per month
    Column("fee_minor", BigInteger, nullable=False),
    Column("net_proceeds_minor", BigInteger, nullable=False),
    Column("finance_charge_minor", BigInteger, nullable=False),
    Column("total_of_payments_minor", BigInteger, nullable=False),
    Column("eir_monthly", String(_RATE), nullable=False),
    Column("monthly_rate_ppm", Integer, nullable=False),
    Column("eir_monthly_ppm", Integer, nullable=False),
    Column("penalty_rate_ppm", Integer, nullable=False),
    Column("covered", Integer, nullable=False),  # the small-loan ceilings apply (0/1)
    Column("start_date", String(_DATE), nullable=False),
    Column("disclosure", Text, nullable=False),  # JSON: what the merchant was shown
    Column("status", String(10), nullable=False),
    Column("loan_id", String(_ID)),
    Column("expires_at_ns", BigInteger, nullable=False),
    Column("accepted_at_ns", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint(
        "principal_minor > 0 AND limit_minor >= principal_minor AND term > 0 AND fee_minor >= 0",
        name="amounts",
    ),
    CheckConstraint(
        "net_proceeds_minor + finance_charge_minor = total_of_payments_minor", name="disclosure"
    ),
    CheckConstraint(
        "covered = 0 OR (monthly_rate_ppm <= 60000 AND eir_monthly_ppm <= 120000 "
        "AND penalty_rate_ppm <= 50000 AND finance_charge_minor <= principal_minor)",
        name="small_loan_ceilings",
    ),
    CheckConstraint(_in("status", OFFER_STATUSES), name="status"),
    CheckConstraint("(status = 'accepted') = (loan_id IS NOT NULL)", name="accepted_loan"),
)
Index("ix_loan_offers_merchant", loan_offers.c.merchant_id, loan_offers.c.created_at_ns)

loans = Table(
    "loans",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("product_id", String(_ID), ForeignKey("loan_products.id"), nullable=False),
    Column("offer_id", String(_ID), ForeignKey("loan_offers.id"), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("principal_minor", BigInteger, nullable=False),
    Column("term", Integer, nullable=False),
    Column("frequency", String(10), nullable=False),
    Column("method", String(32), nullable=False),
    Column("day_count", String(12), nullable=False),
    Column("rate", String(_RATE), nullable=False),  # nominal, per month
    Column("fee_minor", BigInteger, nullable=False),
    Column("fee_mode", String(10), nullable=False),
    Column("penalty_rate", String(_RATE), nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("auto_deduct_bps", Integer, nullable=False),
    Column("accrual", String(12), nullable=False),
    Column("allocation_order", String(64), nullable=False),
    Column("covered", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("start_date", String(_DATE), nullable=False),
    Column("version", Integer, nullable=False),
    #: Interest booked before the current schedule version began (see ``lending.book``).
    Column("accrual_base_minor", BigInteger, nullable=False),
    # Running totals, each the mirror of a ledger account (see the module text).
    Column("principal_paid_minor", BigInteger, nullable=False),
    Column("interest_accrued_minor", BigInteger, nullable=False),
    Column("interest_paid_minor", BigInteger, nullable=False),
    Column("fee_booked_minor", BigInteger, nullable=False),
    Column("fee_paid_minor", BigInteger, nullable=False),
    Column("penalty_minor", BigInteger, nullable=False),
    Column("penalty_paid_minor", BigInteger, nullable=False),
    Column("waived_minor", BigInteger, nullable=False),
    Column("reserve_minor", BigInteger, nullable=False),
    Column("written_off_minor", BigInteger, nullable=False),
    Column("recovered_minor", BigInteger, nullable=False),
    Column("dpd", Integer, nullable=False),
    Column("max_dpd", Integer, nullable=False),
    Column("bucket", String(8), nullable=False),
    Column("closed_through", String(_DATE), nullable=False),  # the last daily close it had
    Column("disbursed_at_ns", BigInteger, nullable=False),
    Column("closed_at_ns", BigInteger),
    Column("updated_at_ns", BigInteger, nullable=False),
    #: On a TigerBeetle deployment, who has the loan between the two stores (0054): the
    #: daily close's ``close:<day>`` from before its chunk's transfers reach the cluster
    #: until its rows commit, or a repayment's id (``loan_moves``) from its A to its C or
    #: failure. Nothing else books on a held loan (``services.lending.hold``).
    Column("ledger_hold", String(_ID)),
    CheckConstraint(
        "principal_paid_minor >= 0 AND principal_paid_minor <= principal_minor", name="principal"
    ),
    CheckConstraint(
        "interest_paid_minor >= 0 AND interest_paid_minor <= interest_accrued_minor",
        name="interest",
    ),
    CheckConstraint("fee_paid_minor >= 0 AND fee_paid_minor <= fee_booked_minor", name="fee"),
    CheckConstraint(
        "penalty_paid_minor >= 0 AND waived_minor >= 0 AND penalty_paid_minor <= penalty_minor",
        name="penalty",
    ),
    CheckConstraint(
        "reserve_minor >= 0 AND written_off_minor >= 0 AND recovered_minor >= 0 "
        "AND recovered_minor <= written_off_minor",
        name="reserve_and_losses",
    ),
    CheckConstraint("dpd >= 0 AND max_dpd >= dpd", name="dpd"),
    CheckConstraint(_in("status", LOAN_STATUSES), name="status"),
    CheckConstraint(_in("bucket", BUCKETS), name="bucket"),
)
Index(
    "ux_loans_one_active",
    loans.c.merchant_id,
    unique=True,
    sqlite_where=text("status = 'active'"),
    postgresql_where=text("status = 'active'"),
)
Index("ix_loans_status", loans.c.status, loans.c.id)

loan_installments = Table(
    "loan_installments",
    metadata,
    Column("loan_id", String(_ID), ForeignKey("loans.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("start_date", String(_DATE), nullable=False),
    Column("due_date", String(_DATE), nullable=False),
    Column("principal_minor", BigInteger, nullable=False),
    Column("interest_minor", BigInteger, nullable=False),
    Column("preaccrued_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("penalty_minor", BigInteger, nullable=False),
    Column("principal_paid_minor", BigInteger, nullable=False),
    Column("interest_paid_minor", BigInteger, nullable=False),
    Column("fee_paid_minor", BigInteger, nullable=False),
    Column("penalty_paid_minor", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),
    Column("paid_date", String(_DATE)),
    PrimaryKeyConstraint("loan_id", "version", "seq"),
    CheckConstraint(
        "principal_paid_minor >= 0 AND principal_paid_minor <= principal_minor "
        "AND interest_paid_minor >= 0 AND interest_paid_minor <= interest_minor "
        "AND fee_paid_minor >= 0 AND fee_paid_minor <= fee_minor "
        "AND penalty_paid_minor >= 0 AND penalty_paid_minor <= penalty_minor",
        name="paid_within_due",
    ),
    CheckConstraint(
        "preaccrued_minor >= 0 AND preaccrued_minor <= interest_minor", name="preaccrued"
    ),
    CheckConstraint(_in("status", INSTALLMENT_STATUSES), name="status"),
)
Index("ix_loan_installments_open", loan_installments.c.status, loan_installments.c.loan_id)

loan_transactions = Table(
    "loan_transactions",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("loan_id", String(_ID), ForeignKey("loans.id"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("principal_minor", BigInteger, nullable=False),
    Column("interest_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("penalty_minor", BigInteger, nullable=False),
    Column("source", String(16), nullable=False),
    Column("payment_id", String(_ID)),
    Column("order_id", String(_ID)),  # a set-aside from an order's release (0013)
    Column("business_date", String(_DATE), nullable=False),
    Column("transfer_ids", Text, nullable=False),
    Column("note", Text),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("amount_minor >= 0", name="amount"),
)
Index("ix_loan_transactions_loan", loan_transactions.c.loan_id, loan_transactions.c.created_at_ns)

#: A repayment on a TigerBeetle deployment between its A and its C (0054): what A decided
#: (the amount, the wallet, the business day), from which C books the loan's rows once the
#: cluster has the money (``services.payments.repayment_cluster``). The row stays as history.
#: A sale's set-aside between its A and its C (0061, ``kind`` ``set_aside``,
#: ``services.lending.set_aside_cluster``): deleted at its C or failure, so the rows of a
#: loan are the set-asides still under way.
loan_moves = Table(
    "loan_moves",
    metadata,
    Column("id", String(_ID), primary_key=True),  # the loan transaction's id (``ltx_``)
    Column("loan_id", String(_ID), ForeignKey("loans.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("source", String(16), nullable=False),
    Column("business_date", String(_DATE), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    #: A restructuring's or write-off's inputs, JSON (``services.lending.operator_cluster``).
    Column("params", Text),
    CheckConstraint("amount_minor >= 0", name="amount"),
    CheckConstraint(
        _in("kind", ("repayment", "recovery", "restructure", "write_off", "set_aside")), name="kind"
    ),
)

loan_holidays = Table(
    "loan_holidays",
    metadata,
    Column("day", String(_DATE), primary_key=True),
    Column("name", String(limits.NAME_MAX_LENGTH), nullable=False),
)

loan_closes = Table(
    "loan_closes",
    metadata,
    Column("business_date", String(_DATE), primary_key=True),
    Column("loans", Integer, nullable=False),
    Column("report", Text, nullable=False),  # JSON: what the close did
    Column("started_at_ns", BigInteger, nullable=False),
    Column("finished_at_ns", BigInteger, nullable=False),
)
