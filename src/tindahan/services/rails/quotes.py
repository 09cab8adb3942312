"""What sending money to a bank account would be, said before it is sent: the rail, the fee
and when the money arrives.

The person confirms knowing these (issue 19): the rail is the one ``transfers.start`` will
choose (``rails.directory.route``: InstaPay up to ₱50,000 to a member, else PESONet); an
InstaPay transfer arrives within seconds, a PESONet one leaves at the next cut-off on a
banking day (``rails.batches.cutoff_after``, the operator's holidays applied) and the
receiving bank credits it that banking day. No fee is charged on either rail yet (fees per
rail are not built): ``fee_minor`` is 0, and the pages say so rather than hide the line.
"""

from __future__ import annotations

from typing import Any

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.rails.batches import cutoff_after
from tindahan.rails.directory import route
from tindahan.rails.model import ClearingSystem
from tindahan.services.ledger import movement
from tindahan.services.lending.holidays import holiday_set
from tindahan.services.rails import bank_accounts
from tindahan.services.unit import Unit, iso

#: What each rail costs the sender, in centavos: nothing is charged yet (see above).
FEE_MINOR = {ClearingSystem.INSTAPAY: 0, ClearingSystem.PESONET: 0}


def quote(
    unit: Unit, caller: Caller, bank_account_id: object, amount_minor: object
) -> dict[str, Any]:
    """The rail, fee and arrival of ``amount_minor`` to this account of the caller's; the
    same refusals as the transfer itself (a removed account, no rail for the amount)."""
    caller.require("payments:read")
    if not isinstance(bank_account_id, str):
        raise invalid("parameter_invalid", "bank_account_id is an id", "bank_account_id")
    target = bank_accounts.destination(unit, caller, bank_account_id)
    amount, currency = movement.amount(amount_minor, "PHP")
    rail = route(amount, target.bank)
    leaves_at = None
    if rail is ClearingSystem.PESONET:
        leaves_at = iso(cutoff_after(unit.now(), holiday_set(unit)))
    return {
        "object": "bank_transfer_quote",
        "bank_account": bank_accounts.get(unit, caller, target.id),
        "amount_minor": amount,
        "currency": currency,
        "rail": rail.value.lower(),
        "fee_minor": FEE_MINOR[rail],
        "total_minor": amount + FEE_MINOR[rail],
        "leaves_at": leaves_at,
    }
