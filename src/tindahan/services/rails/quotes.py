"""What sending money to a bank account would be, said before it is sent: the rail, the fee
and when the money arrives.

The person confirms knowing these (issue 19): the rail is the one ``transfers.start`` will
choose (``rails.directory.route``: InstaPay up to ₱50,000 to a member, else PESONet); an
InstaPay transfer arrives within seconds, a PESONet one leaves at the next cut-off on a
banking day (``rails.batches.cutoff_after``, the operator's holidays applied) and the
receiving bank credits it that banking day. The fee is the operator's for that rail and
kind (``rails.fees``: a payout's or a send's), the one ``transfers.start`` will charge; with
none set it is 0, and the pages say so rather than hide the line.
"""

from __future__ import annotations

from typing import Any

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.rails.batches import cutoff_after
from tindahan.rails.directory import route
from tindahan.rails.fees import FeeKind
from tindahan.rails.model import ClearingSystem
from tindahan.services.ledger import movement
from tindahan.services.lending.holidays import holiday_set
from tindahan.services.rails import bank_accounts, transfers
from tindahan.services.unit import Unit, iso


def quote(
    unit: Unit,
    caller: Caller,
    bank_account_id: object,
    amount_minor: object,
    kind: object = FeeKind.SEND.value,
) -> dict[str, Any]:
    """The rail, fee and arrival of ``amount_minor`` to this account of the caller's; the
    same refusals as the transfer itself (a removed account, no rail for the amount)."""
    caller.require("payments:read")
    if not isinstance(bank_account_id, str):
        raise invalid("parameter_invalid", "bank_account_id is an id", "bank_account_id")
    if kind not in {k.value for k in FeeKind}:
        raise invalid("parameter_invalid", "kind is payout or send", "kind")
    fee_kind = FeeKind(str(kind))
    target = bank_accounts.destination(unit, caller, bank_account_id)
    amount, currency = movement.amount(amount_minor, "PHP")
    rail = route(amount, target.bank)
    leaves_at = None
    if rail is ClearingSystem.PESONET:
        leaves_at = iso(cutoff_after(unit.now(), holiday_set(unit)))
    fee = transfers.fee_for(unit, amount, target, fee_kind)
    return {
        "object": "bank_transfer_quote",
        "bank_account": bank_accounts.get(unit, caller, bank_account_id),
        "kind": fee_kind.value,
        "amount_minor": amount,
        "currency": currency,
        "rail": rail.value.lower(),
        "fee_minor": fee,
        "total_minor": amount + fee,
        "leaves_at": leaves_at,
    }
