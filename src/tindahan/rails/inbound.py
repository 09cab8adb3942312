"""Inbound credit transfers: another bank's pacs.008 to a Tindahan wallet, and its answer.

A transfer names its creditor account (``CdtrAcct/Id/Othr/Id``) either as a wallet's
number (its id, ``wal_…``) or as the mobile number registered to a party (``09171234567``,
``+639171234567``), whose main wallet gets the money. Each transaction is answered in a
pacs.002: ``ACSC`` when the wallet was credited, ``RJCT`` with the ISO external status
reason otherwise, and then nothing moved:

* ``AC01`` no such wallet or registered number (``IncorrectAccountNumber``);
* ``AC04`` the wallet's owner is closed (``ClosedAccountNumber``);
* ``AC06`` the wallet is frozen (``BlockedAccount``);
* ``AG01`` the number is a business wallet (settlement, float), which takes no transfers
  from outside (``TransactionForbidden``);
* ``AM02`` more than the owner's KYC tier allows in one transaction (``NotAllowedAmount``);
* ``AM14`` over the tier's monthly incoming total or maximum balance
  (``AmountExceedsAgreedLimit``);
* ``AM03`` a currency we take no transfers in, or one the operator has no rate for today
  (``NotAllowedCurrency``);
* ``RR04`` refused by the live risk rules (``RegulatoryReason``).

Exactly once: a transfer is one UETR with one EndToEndId; a second delivery of the same
pair is answered as the first was and moves nothing (the services hold it with a unique
constraint; see ``services.rails.inbound``).

A recall (camt.056) of a credited transfer is decided by the operator: accepted only while
the wallet still holds the amount (then the money goes back by a pacs.004 and the camt.029
says so), otherwise rejected with its ``ExternalPaymentCancellationRejectionReason`` —
``ARDT`` already returned, ``AM04`` the money is no longer there, ``CUST`` the customer
(or the operator for them) refused, ``NOOR`` no such original transaction.
"""

from __future__ import annotations

import re
from enum import StrEnum

from tindahan.kernel.refusals import RefusalError

WALLET_PREFIX = "wal_"
#: A Philippine mobile number as a bank's app sends it: 09…, 639… or +639…, 12 digits
#: after the country code at most; checked properly by ``payments.parties.phone_number``.
_MOBILE = re.compile(r"\+?[0-9][0-9 -]{9,15}")


class InboundStatus(StrEnum):
    CREDITED = "credited"
    REJECTED = "rejected"
    RETURNED = "returned"  # credited, then sent back after an accepted recall


class RecallStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


#: The pacs.002 transaction status of each final state.
ANSWER = {InboundStatus.CREDITED: "ACSC", InboundStatus.REJECTED: "RJCT"}
#: camt.029 ``CxlStsRsn`` codes a rejected recall carries.
RECALL_REJECTIONS = {
    "ARDT": "already returned",
    "AM04": "the money is no longer in the wallet",
    "CUST": "the customer refused",
    "LEGL": "refused for a legal reason",
    "NOOR": "no such original transaction",
}


def creditor_kind(account: str | None) -> str | None:
    """``"wallet"``, ``"phone"``, or None when the account is neither (``AC01``)."""
    if not account:
        return None
    if account.startswith(WALLET_PREFIX):
        return "wallet"
    if _MOBILE.fullmatch(account):
        return "phone"
    return None


def reason_for(refusal: RefusalError) -> str:
    """The ISO status reason a refusal of the credit becomes in the pacs.002."""
    code, param = refusal.code, refusal.param
    if code == "limit_exceeded":
        return "AM02" if param == "per_transaction_max_minor" else "AM14"
    return {
        "resource_missing": "AC01",
        "phone_invalid": "AC01",
        "wallet_closed": "AC04",
        "wallet_frozen": "AC06",
        "wallet_kind": "AG01",
        "fx_pair_unsupported": "AM03",
        "currency_unsupported": "AM03",
        "currency_mismatch": "AM03",
        "amount_invalid": "AM02",
        "risk_blocked": "RR04",
        "risk_review": "RR04",
    }.get(code, "NARR")


def may_recall(status: InboundStatus, available_minor: int, credited_minor: int) -> str | None:
    """None when an accepted recall can send the money back; else the camt.029 reason."""
    if status is InboundStatus.RETURNED:
        return "ARDT"
    if status is not InboundStatus.CREDITED:
        return "NOOR"
    if available_minor < credited_minor:
        return "AM04"
    return None
