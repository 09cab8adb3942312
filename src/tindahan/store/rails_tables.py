"""Tables for the bank rails: the participants directory and parties' bank accounts.

What the database holds a second time, after the services' checks (DESIGN.md):
* a participant's BIC is 8 or 11 characters and belongs to one participant (UNIQUE);
* a bank account's number and holder's name are held only encrypted (``*_cipher``, AES-GCM
  bound to the account's id); ``number_index`` is a keyed hash of bank and number, so one
  party registers one account once (UNIQUE ``party_id, participant_code, number_index``)
  without the number being stored in clear;
* a removed account says when (CHECK), and is kept: past transfers name it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tindahan import limits
from tindahan.store.payment_tables import _ID, _in
from tindahan.store.tables import metadata

ACCOUNT_STATUSES = ("active", "removed")

participants = Table(
    "participants",
    metadata,
    Column("code", String(limits.PARTICIPANT_CODE_MAX_LENGTH), primary_key=True),
    Column("bic", String(11), nullable=False, unique=True),
    Column("name", String(limits.NAME_MAX_LENGTH), nullable=False),
    Column("instapay", Boolean, nullable=False),
    Column("pesonet", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint("length(bic) IN (8, 11)", name="bic_length"),
)

bank_accounts = Table(
    "bank_accounts",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("party_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column(
        "participant_code",
        String(limits.PARTICIPANT_CODE_MAX_LENGTH),
        ForeignKey("participants.code"),
        nullable=False,
    ),
    Column("number_index", String(64), nullable=False),
    Column("number_cipher", Text, nullable=False),
    Column("name_cipher", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("removed_at_ns", BigInteger),
    CheckConstraint(_in("status", ACCOUNT_STATUSES), name="status"),
    CheckConstraint("(status = 'removed') = (removed_at_ns IS NOT NULL)", name="removed_when"),
    UniqueConstraint("party_id", "participant_code", "number_index"),
)
Index("ix_bank_accounts_party", bank_accounts.c.party_id, bank_accounts.c.id)

TRANSFER_STATUSES = ("pending", "settled", "rejected", "returned")
RAILS = ("instapay", "pesonet")

#: Outbound credit transfers: one row per pacs.008 transaction we send. UETR and EndToEndId
#: are unique (an answer finds its transfer by them, and a second send of the same one is
#: refused); ``hold_id`` is the pending ledger transfer; a final status says when, and a
#: rejected or returned one why.
bank_transfers = Table(
    "bank_transfers",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("party_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("wallet_id", String(_ID), ForeignKey("wallets.id"), nullable=False),
    #: A registered bank account, or (paying another institution's QR Ph code) none: then
    #: the acquirer named by the code and the merchant's account and name, sealed.
    Column("bank_account_id", String(_ID), ForeignKey("bank_accounts.id")),
    Column("participant_code", String(limits.PARTICIPANT_CODE_MAX_LENGTH)),
    Column("creditor_number_cipher", Text),
    Column("creditor_name_cipher", Text),
    Column("rail", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("uetr", String(36), nullable=False, unique=True),
    Column("end_to_end_id", String(35), nullable=False, unique=True),
    Column("message_id", String(35), nullable=False),
    Column("hold_id", String(limits.ID_MAX_LENGTH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason_code", String(35)),
    Column("returned_minor", BigInteger, nullable=False, server_default="0"),
    #: The fee (``rails.fees``): held with the transfer, posted with it, voided with a
    #: rejection; what came back of it after a return.
    Column("kind", String(8), nullable=False, server_default="send"),
    Column("fee_minor", BigInteger, nullable=False, server_default="0"),
    Column("fee_refunded_minor", BigInteger, nullable=False, server_default="0"),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("sent_at_ns", BigInteger),
    Column("asked_at_ns", BigInteger),
    Column("finished_at_ns", BigInteger),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("kind IN ('payout', 'send')", name="kind"),
    CheckConstraint(
        "fee_minor >= 0 AND fee_refunded_minor >= 0 AND fee_refunded_minor <= fee_minor",
        name="fee",
    ),
    CheckConstraint(_in("status", TRANSFER_STATUSES), name="status"),
    CheckConstraint(_in("rail", RAILS), name="rail"),
    CheckConstraint("returned_minor >= 0 AND returned_minor <= amount_minor", name="returned"),
    CheckConstraint("(status = 'pending') = (finished_at_ns IS NULL)", name="finished_when"),
    CheckConstraint("(bank_account_id IS NULL) = (participant_code IS NOT NULL)", name="creditor"),
)
Index("ix_bank_transfers_party", bank_transfers.c.party_id, bank_transfers.c.id)
Index("ix_bank_transfers_status", bank_transfers.c.status, bank_transfers.c.sent_at_ns)

#: camt.054 notifications from the clearing switch, one row per entry, as received: the
#: references, amount, direction and booking day only (the names and accounts in the
#: message are personal data and are not kept). A message received twice is kept once
#: (UNIQUE ``message_id, position``).
rail_notifications = Table(
    "rail_notifications",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("message_id", String(35), nullable=False),
    Column("position", Integer, nullable=False),
    Column("account", String(34)),
    Column("uetr", String(36)),
    Column("end_to_end_id", String(35)),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credit", Boolean, nullable=False),
    Column("booking_date", String(10), nullable=False),
    Column("reference", String(35)),
    Column("received_at_ns", BigInteger, nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("position >= 0", name="position"),
    UniqueConstraint("message_id", "position"),
)
Index("ix_rail_notifications_received", rail_notifications.c.received_at_ns)

BREAK_KINDS = ("missing_ours", "missing_theirs", "amount_mismatch", "date_mismatch")

#: The last reconciliation of each Manila day (``tindahan rails reconcile``): re-running a
#: day replaces its row and its breaks in one transaction.
reconciliations = Table(
    "reconciliations",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("statement_id", String(35), nullable=False),
    Column("matched", Integer, nullable=False),
    Column("break_count", Integer, nullable=False),
    Column("ran_at_ns", BigInteger, nullable=False),
    CheckConstraint("matched >= 0 AND break_count >= 0", name="counts"),
)

#: One movement that did not reconcile: its kind and what each side said (a side's amount
#: and day are NULL when that side has no such movement).
reconciliation_breaks = Table(
    "reconciliation_breaks",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("day", String(10), ForeignKey("reconciliations.day"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("uetr", String(36)),
    Column("end_to_end_id", String(35)),
    Column("credit", Boolean, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("ours_amount_minor", BigInteger),
    Column("theirs_amount_minor", BigInteger),
    Column("ours_date", String(10)),
    Column("theirs_date", String(10)),
    Column("ledger_transfer_id", String(limits.SYSTEM_ID_MAX_LENGTH)),
    Column("entry_reference", String(35)),
    CheckConstraint(_in("kind", BREAK_KINDS), name="kind"),
    CheckConstraint(
        "(ours_amount_minor IS NULL) = (kind = 'missing_ours')"
        " AND (theirs_amount_minor IS NULL) = (kind = 'missing_theirs')",
        name="sides",
    ),
)
Index("ix_reconciliation_breaks_day", reconciliation_breaks.c.day, reconciliation_breaks.c.id)

INBOUND_STATUSES = ("credited", "rejected", "returned")

#: Inbound credit transfers: one row per pacs.008 transaction another bank sent us, credited
#: or rejected. UNIQUE ``(uetr, end_to_end_id)`` is the exactly-once: a second delivery of
#: the same transaction cannot insert a second row (racing deliveries wait on the index,
#: and the loser finds the winner's row and its answer). A credited one names its wallet
#: and its ledger transfer; a rejected one its ISO reason; one in a foreign currency the
#: PHP it became and the rates (``margin_minor``: what the spread kept, in centavos).
inbound_transfers = Table(
    "inbound_transfers",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("uetr", String(36), nullable=False),
    Column("end_to_end_id", String(35), nullable=False),
    Column("message_id", String(35), nullable=False),
    Column("rail", String(16), nullable=False),
    Column("debtor_agent", String(11)),
    Column("creditor_account_kind", String(8)),
    Column("party_id", String(_ID), ForeignKey("parties.id")),
    Column("wallet_id", String(_ID), ForeignKey("wallets.id")),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credited_minor", BigInteger),
    Column("mid_rate", String(32)),
    Column("customer_rate", String(32)),
    Column("spread_bps", BigInteger),
    Column("margin_minor", BigInteger),
    Column("transfer_id", String(limits.ID_MAX_LENGTH)),
    Column("status", String(16), nullable=False),
    Column("reason_code", String(8)),
    Column("answer_id", String(35), nullable=False),
    Column("received_at_ns", BigInteger, nullable=False),
    Column("returned_at_ns", BigInteger),
    #: The debtor's name (``Dbtr/Nm``), sealed by the vault (null when the message gave none).
    Column("debtor_name_cipher", Text),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint(_in("status", INBOUND_STATUSES), name="status"),
    CheckConstraint(_in("rail", RAILS), name="rail"),
    CheckConstraint(
        "(status = 'rejected') = (reason_code IS NOT NULL)", name="rejected_has_reason"
    ),
    CheckConstraint(
        "status = 'rejected' OR (wallet_id IS NOT NULL AND transfer_id IS NOT NULL"
        " AND credited_minor > 0)",
        name="credited_has_wallet",
    ),
    CheckConstraint("(status = 'returned') = (returned_at_ns IS NOT NULL)", name="returned_when"),
    UniqueConstraint("uetr", "end_to_end_id"),
)
Index("ix_inbound_transfers_party", inbound_transfers.c.party_id, inbound_transfers.c.id)

RECALL_STATUSES = ("pending", "accepted", "rejected")

#: Recalls (camt.056) of inbound transfers, each decided by the operator. UNIQUE
#: ``(inbound_transfer_id, case_id)``: the same request delivered twice is one recall.
#: A decided one says when, and a rejected one why (a camt.029 rejection reason).
inbound_recalls = Table(
    "inbound_recalls",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("inbound_transfer_id", String(_ID), ForeignKey("inbound_transfers.id"), nullable=False),
    Column("case_id", String(35), nullable=False),
    Column("message_id", String(35), nullable=False),
    Column("assigner_agent", String(11)),
    Column("reason_code", String(8)),
    Column("status", String(16), nullable=False),
    Column("rejection_code", String(8)),
    Column("return_id", String(35)),
    Column("received_at_ns", BigInteger, nullable=False),
    Column("decided_at_ns", BigInteger),
    Column("sent_at_ns", BigInteger),
    CheckConstraint(_in("status", RECALL_STATUSES), name="status"),
    CheckConstraint("(status = 'pending') = (decided_at_ns IS NULL)", name="decided_when"),
    CheckConstraint(
        "(status = 'rejected') = (rejection_code IS NOT NULL)", name="rejected_has_reason"
    ),
    UniqueConstraint("inbound_transfer_id", "case_id"),
)
Index("ix_inbound_recalls_status", inbound_recalls.c.status, inbound_recalls.c.id)

#: Inbound credits an analyst returned after a review (``services.risk.holds``): each one's
#: pacs.004 to the sender's bank (``return_id`` its message id), sent by the worker's round
#: (``services.rails.recalls.dispatch``) and marked sent once the port took it.
inbound_review_returns = Table(
    "inbound_review_returns",
    metadata,
    Column(
        "inbound_transfer_id", String(_ID), ForeignKey("inbound_transfers.id"), primary_key=True
    ),
    Column("hold_id", String(limits.SYSTEM_ID_MAX_LENGTH), nullable=False),
    Column("return_id", String(35), nullable=False),
    Column("reason_code", String(8), nullable=False),
    Column("decided_at_ns", BigInteger, nullable=False),
    Column("sent_at_ns", BigInteger),
)
Index("ix_inbound_transfers_transfer", inbound_transfers.c.transfer_id)
