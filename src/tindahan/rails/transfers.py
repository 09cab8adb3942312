"""An outbound credit transfer's life: what each answer from the clearing house does.

A transfer is ``pending`` from the moment the wallet's money is held (a pending ledger
transfer to the rail's clearing account) until one final answer: ``settled`` (pacs.002
``ACSC`` or ``ACCC``: the hold is posted), ``rejected`` (``RJCT``: the hold is voided and the
reason kept), and, after ``settled`` only, ``returned`` (a pacs.004: the money comes back
from the clearing account, once, never more than was sent).

Answers arrive late, twice, or out of order: ``on_status`` decides from the transfer's
current status alone, so a second ``ACSC`` or a ``RJCT`` after ``ACSC`` does nothing (a
settled transfer comes back only by a return), and an in-between status (``ACSP``,
``PDNG``...) leaves it pending. Every final state is final.
"""

from __future__ import annotations

from enum import StrEnum

from tindahan.rails.reasons import REJECTED, SETTLED


class TransferStatus(StrEnum):
    PENDING = "pending"
    SETTLED = "settled"
    REJECTED = "rejected"
    RETURNED = "returned"


FINAL = frozenset({TransferStatus.SETTLED, TransferStatus.REJECTED, TransferStatus.RETURNED})


class Action(StrEnum):
    POST = "post"  # settle: post the hold
    VOID = "void"  # reject: void the hold
    WAIT = "wait"  # still in flight
    NOTHING = "nothing"  # duplicated or late: already decided


def on_status(current: TransferStatus, transaction_status: str) -> Action:
    """What a pacs.002 transaction status does to a transfer in ``current``."""
    if current is not TransferStatus.PENDING:
        return Action.NOTHING
    if transaction_status in SETTLED:
        return Action.POST
    if transaction_status == REJECTED:
        return Action.VOID
    return Action.WAIT


def may_return(current: TransferStatus, amount_minor: int, sent_minor: int) -> str | None:
    """None when a return of ``amount_minor`` applies; else why not (it then changes nothing)."""
    if current is TransferStatus.RETURNED:
        return "already returned"
    if current is not TransferStatus.SETTLED:
        return f"a {current.value} transfer cannot be returned"
    if not 0 < amount_minor <= sent_minor:
        return f"the return ({amount_minor}) is more than was sent ({sent_minor})"
    return None
