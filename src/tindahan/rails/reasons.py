"""ISO external codes in plain words, in English and Filipino.

A person whose transfer was rejected or returned sees why in words, not ``AC04``. The codes
are those of the ISO 20022 external code sets (``ExternalStatusReason1Code`` for pacs.002,
``ExternalReturnReason1Code`` for pacs.004; the two share their common codes) that a
clearing house's banks actually send for credit transfers; the transaction statuses are
``ExternalPaymentTransactionStatus1Code``. A code we do not know is still shown, as itself,
never dropped. The wording is ours (the ISO names, e.g. "ClosedAccountNumber", said plainly).
"""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "fil"]

#: code → (English, Filipino)
REASONS: dict[str, tuple[str, str]] = {
    "AB05": (
        "the receiving bank did not answer in time",
        "hindi sumagot sa takdang oras ang bangkong tatanggap",
    ),
    "AB06": (
        "the next bank did not answer in time",
        "hindi sumagot sa takdang oras ang susunod na bangko",
    ),
    "AC01": ("wrong account number", "mali ang numero ng account"),
    "AC03": (
        "the receiving account number is not valid",
        "hindi wasto ang numero ng account ng tatanggap",
    ),
    "AC04": ("the account is closed", "sarado na ang account"),
    "AC06": ("the account is blocked", "naka-block ang account"),
    "AC07": ("the receiving account is closed", "sarado na ang account ng tatanggap"),
    "AG01": (
        "this kind of transfer is not allowed on the account",
        "hindi pinapayagan ang ganitong transfer sa account",
    ),
    "AM02": ("the amount is more than allowed", "lampas sa pinapayagang halaga"),
    "AM03": ("this currency is not accepted", "hindi tinatanggap ang currency na ito"),
    "AM04": ("not enough funds", "kulang ang pondo"),
    "AM05": ("duplicate transfer", "dobleng transfer"),
    "AM09": ("wrong amount", "mali ang halaga"),
    "AM14": (
        "more than the account's limits allow",
        "lampas sa limitasyon ng account",
    ),
    "BE01": (
        "the account name does not match the account",
        "hindi tugma ang pangalan sa account",
    ),
    "CNOR": (
        "the receiving bank is not a member of this clearing system",
        "hindi miyembro ng clearing system ang bangkong tatanggap",
    ),
    "CUST": ("the customer asked for it", "hiniling ng customer"),
    "DNOR": (
        "the sending bank is not a member of this clearing system",
        "hindi miyembro ng clearing system ang bangkong nagpadala",
    ),
    "DUPL": ("duplicate payment", "dobleng bayad"),
    "ED05": ("settlement failed", "hindi natuloy ang settlement"),
    "FF01": ("the message was not in a valid format", "hindi wasto ang anyo ng mensahe"),
    "FOCR": ("returned after a recall", "ibinalik dahil sa recall"),
    "FRAD": ("suspected fraud", "hinihinalang panloloko"),
    "MS02": ("refused by the receiving customer", "tinanggihan ng tatanggap"),
    "MS03": (
        "refused by the bank, no reason given",
        "tinanggihan ng bangko, walang ibinigay na dahilan",
    ),
    "NARR": ("see the bank's note", "tingnan ang paliwanag ng bangko"),
    "RC01": ("wrong bank code", "mali ang code ng bangko"),
    "RR04": ("refused for regulatory reasons", "tinanggihan dahil sa regulasyon"),
    "TM01": ("sent after the cut-off time", "naipadala pagkalipas ng cut-off"),
}

#: transaction status (and a statement entry's BOOK) → (English, Filipino)
STATUSES: dict[str, tuple[str, str]] = {
    "ACCC": ("credited to the receiving account", "naipasok na sa account ng tatanggap"),
    "ACSC": ("settled", "naisaayos na (settled)"),
    "ACSP": ("accepted, settlement in progress", "tinanggap, inaayos pa ang settlement"),
    "ACTC": ("accepted for processing", "tinanggap para iproseso"),
    "BOOK": ("booked", "naitala na"),
    "ACCP": ("accepted", "tinanggap"),
    "PDNG": ("pending", "nakabinbin"),
    "RCVD": ("received", "natanggap"),
    "RJCT": ("rejected", "tinanggihan"),
}

#: Statuses that end a credit transfer with the money delivered, and the one that ends it
#: without: anything else (ACSP, PDNG, ...) is still in flight.
SETTLED = frozenset({"ACSC", "ACCC"})
REJECTED = "RJCT"


def _words(table: dict[str, tuple[str, str]], code: str, language: Language) -> str:
    pair = table.get(code)
    if pair is None:
        return code
    return pair[0] if language == "en" else pair[1]


def reason_words(code: str, language: Language = "en") -> str:
    """``"AC04"`` → ``"the account is closed"`` (or ``"sarado na ang account"``)."""
    if code not in REASONS:
        return f"reason {code}" if language == "en" else f"dahilang {code}"
    return _words(REASONS, code, language)


def status_words(code: str, language: Language = "en") -> str:
    """``"RJCT"`` → ``"rejected"`` (or ``"tinanggihan"``); an unknown status is itself."""
    return _words(STATUSES, code, language)
