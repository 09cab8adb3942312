"""Bank rails: InstaPay and PESONet over ISO 20022 (issue 19).

The domain of money leaving and entering Tindahan through the country's two clearing
systems: the messages (``model``: plain typed records, amounts in integer minor units),
the amounts' text in messages (``amounts``: at most the currency's decimals, nothing
rounded), identifiers (``identifiers``: UETR, EndToEndId, message ids), and the ISO
external status and return reason codes in plain English and Filipino (``reasons``).

The XML itself (building, hardened parsing, validating against the ISO 20022 schemas) is
the adapter package ``tindahan.rails.xml``, the only place that imports lxml; the rest of
the package imports no framework, as every domain package (import-linter holds both).
"""

from tindahan.rails.errors import MessageError, Problem
from tindahan.rails.model import (
    ClearingSystem,
    CreditTransfer,
    Entry,
    Message,
    MessageType,
    Party,
    PaymentReturn,
    RecallAnswer,
    RecallRequest,
    StatusAnswer,
    StatusQuery,
    Transaction,
)

__all__ = [
    "ClearingSystem",
    "CreditTransfer",
    "Entry",
    "Message",
    "MessageError",
    "MessageType",
    "Party",
    "PaymentReturn",
    "Problem",
    "RecallAnswer",
    "RecallRequest",
    "StatusAnswer",
    "StatusQuery",
    "Transaction",
]
