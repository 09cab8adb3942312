"""The switch's banks paying Tindahan wallets (issue 19, item 5): inbound credit transfers.

A counterparty bank (a member of the directory, BDO unless named) sends a pacs.008 to a
Tindahan wallet — its number (``wal_…``) or a registered mobile number as the creditor
account — over InstaPay (up to ₱50,000; delivered at once, any day and any time) or PESONet
(delivered at the first cut-off on a banking day at or after it was asked for:
``ClearingHouse.hold_inbound``). ``payment`` builds it; ``recall``
builds the camt.056 that bank sends when it wants the money back (reason ``DUPL``). The app
(``switch.app``, ``POST /inbound``) delivers them to Tindahan and books what Tindahan
credited on its settlement account (``ClearingHouse.pay_in``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tindahan import limits
from tindahan.rails import ClearingSystem, CreditTransfer, Party, RecallRequest
from tindahan.rails import xml as rails_xml
from tindahan.rails.directory import Participant
from tindahan.rails.identifiers import new_reference, new_uetr

#: Tindahan's BIC as the counterparty banks address it (``TINDAHAN_RAILS_BIC``'s default).
TINDAHAN_BIC = "TNDHPHM1XXX"


@dataclass(frozen=True, slots=True)
class Payment:
    """A counterparty bank's credit transfer to a Tindahan wallet, as sent."""

    message_id: str
    uetr: str
    end_to_end_id: str
    amount_minor: int
    currency: str
    bank_bic: str
    rail: ClearingSystem = ClearingSystem.INSTAPAY


def payment(
    bank: Participant, account: str, amount_minor: int, currency: str = "PHP"
) -> tuple[Payment, bytes]:
    """The pacs.008 ``bank`` sends to pay ``account`` (``MessageError`` if it cannot be)."""
    rail = (
        ClearingSystem.INSTAPAY
        if amount_minor <= limits.INSTAPAY_MAX_MINOR and bank.instapay
        else ClearingSystem.PESONET
    )
    made = Payment(
        new_reference("M"), new_uetr(), new_reference("E"), amount_minor, currency, bank.bic, rail
    )
    now = datetime.now(UTC)
    transfer = CreditTransfer(
        uetr=made.uetr,
        end_to_end_id=made.end_to_end_id,
        amount_minor=amount_minor,
        currency=currency,
        debtor=Party(f"A customer of {bank.name}"[: limits.NAME_MAX_LENGTH], "000012345678"),
        debtor_agent=bank.bic,
        creditor=Party(None, account),
        creditor_agent=TINDAHAN_BIC,
    )
    data = rails_xml.pacs008(
        message_id=made.message_id,
        created_at=now,
        settlement_date=now.date(),
        clearing_system=rail,
        instructing_agent=bank.bic,
        instructed_agent=TINDAHAN_BIC,
        transfers=[transfer],
    )
    return made, data


def recall(made: Payment, reason: str = "DUPL") -> bytes:
    """The camt.056 the paying bank sends to have ``made`` back."""
    return rails_xml.camt056(
        message_id=new_reference("RCL"),
        created_at=datetime.now(UTC),
        assigner=made.bank_bic,
        assignee=TINDAHAN_BIC,
        case_id=new_reference("CASE"),
        recalls=[
            RecallRequest(
                made.message_id,
                made.uetr,
                made.end_to_end_id,
                made.amount_minor,
                made.currency,
                reason,
            )
        ],
    )
