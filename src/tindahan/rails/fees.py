"""What sending money to a bank costs the sender, and when the fee comes back.

**The fee** is flat, in minor units, set by the operator per rail and per kind of transfer
(``setting_key``): a merchant's **payout** to a bank account (its sales leaving through the
settlement wallet) and a **send** to a bank account from a main wallet (a customer cashing
out, a merchant paying a supplier). Flat rather than a share of the amount because both
schemes charge their participants per transaction, not per peso, and because a person can
check a flat fee by hand before confirming. Decided: **no free allowance** (a number of free
transfers a month): it makes the fee depend on what else the person did that month, which a
quote shown before confirming could not promise once two transfers race; an operator who
wants free transfers sets the fee to 0. At most ``limits.MAX_RAIL_FEE_MINOR``.

**The fee comes back** (``fee_refunded``):
* when the transfer is **rejected** (pacs.002 ``RJCT``): always — nothing left Tindahan, the
  person got no service, whatever the reason;
* when a settled transfer is **returned** (pacs.004): unless the return's reason says the
  sender gave the wrong account (``SENDER_ERRORS``: wrong or invalid number, closed or
  blocked account, a name that does not match, a wrong bank code). Then the transfer went
  through the clearing house twice because of the sender's details, at the operator's
  cost, and the fee is kept; any other reason (a recall the operator agreed to, the bank's
  own refusal, fraud suspected by the bank, a duplicate) gives it back.
"""

from __future__ import annotations

from enum import StrEnum

from tindahan.rails.model import ClearingSystem


class FeeKind(StrEnum):
    PAYOUT = "payout"  # a merchant's sales to its bank account
    SEND = "send"  # a main wallet's money to a bank account


#: Return reasons that are the sender's doing: the fee is kept (see above).
SENDER_ERRORS = frozenset({"AC01", "AC03", "AC04", "AC06", "AC07", "BE01", "RC01"})


def setting_key(rail: ClearingSystem | str, kind: FeeKind) -> str:
    """The operator's setting for this rail and kind: ``instapay_payout_fee_minor`` …"""
    name = rail.value if isinstance(rail, ClearingSystem) else rail
    return f"{name.lower()}_{kind.value}_fee_minor"


SETTING_KEYS = tuple(setting_key(rail, kind) for rail in ClearingSystem for kind in FeeKind)


def fee_refunded(fee_minor: int, *, returned: bool, reason: str | None) -> int:
    """What of the fee goes back when the transfer fails: all of it on a rejection, all or
    nothing on a return by its reason."""
    if not returned:
        return fee_minor
    return 0 if (reason or "") in SENDER_ERRORS else fee_minor
