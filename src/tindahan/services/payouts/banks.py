"""A payout to a bank account: sales out of the settlement wallet, all the way to a bank.

It is two steps in one transaction: the payout (settlement → main wallet, with every check
of ``payouts.create``: what refunds and the loan keep back, the merchant active) and the
outbound credit transfer from the main wallet (``services.rails.transfers``: routed, held
pending on the rail's clearing account, sent by the worker, posted or voided by the
clearing house's answer). Either both happen or neither: a refusal of the second (a removed
account, no rail for the amount, a tier limit) rolls the payout back too.

Through the main wallet, rather than straight from settlement, because a transfer's hold,
its limits given back on a rejection and its return all belong to the main wallet; a
rejected or returned transfer leaves the money there, where the merchant can spend it,
withdraw it again or send it elsewhere. The payout is recorded as one (its description
says where it went) and the transfer as one, each with its own status.

The fee (``rails.fees``, the operator's payout fee for the rail): a withdrawal of an amount
sends that amount and takes the fee from the sales too — the payout is the amount plus the
fee, so what is available must cover both, and the confirmation page says the total. The
automatic payout instead sends what it pays out *less* the fee (the amount is "everything
available less the balance to leave", so the fee comes out of it); a payout no larger than
the fee fails that day with ``fee_exceeds_payout``, nothing moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.rails.fees import FeeKind
from tindahan.services.ledger import movement
from tindahan.services.payouts import payouts
from tindahan.services.rails import bank_accounts, transfers
from tindahan.services.unit import Unit

DESCRIPTION = "To a bank account"


@dataclass(frozen=True)
class NewBankPayout:
    bank_account_id: object
    amount_minor: object
    currency: object = payouts.CURRENCY
    merchant_id: str | None = None  # the operator names the merchant


def create(unit: Unit, caller: Caller, new: NewBankPayout) -> dict[str, Any]:
    """The payout (the amount and the fee), then the transfer; returns both views."""
    caller.require("payments:write")
    if not isinstance(new.bank_account_id, str):
        raise invalid("parameter_invalid", "bank_account_id is an id", "bank_account_id")
    amount_minor, currency = movement.amount(new.amount_minor, new.currency)
    target = bank_accounts.destination(unit, caller, new.bank_account_id)
    fee = transfers.fee_for(unit, amount_minor, target, FeeKind.PAYOUT)
    made = payouts.create(
        unit,
        caller,
        payouts.NewPayout(
            amount_minor + fee, currency, merchant_id=new.merchant_id, description=DESCRIPTION
        ),
    )
    sent = transfers.create(
        unit,
        caller,
        transfers.NewBankTransfer(
            new.bank_account_id,
            amount_minor,
            made["currency"],
            made["merchant_id"],
            kind=FeeKind.PAYOUT,
        ),
    )
    return {"payout": made, "bank_transfer": sent}


def send_on(
    unit: Unit, found: payouts.Wallets, payout: dict[str, Any], bank_account_id: str
) -> dict[str, Any]:
    """The automatic payout's second step, when its destination is a bank account: the
    payout's amount from the main wallet to the account (removed since: refused, and the
    daily run records the payout as failed, nothing moved)."""
    target = bank_accounts.payable(unit, bank_account_id)
    amount = sent_amount(unit, target, payout["amount_minor"])
    return transfers.start(unit, found.main, target, amount, payout["currency"], FeeKind.PAYOUT)


def sent_amount(unit: Unit, target: bank_accounts.Destination, total: int) -> int:
    """What an automatic payout of ``total`` sends to ``target``: ``total`` less the fee
    (``fee_exceeds_payout`` when nothing is left); the TigerBeetle path uses it too."""
    amount = total - transfers.fee_for(unit, total, target, FeeKind.PAYOUT)
    if amount > 0:
        # Below the InstaPay cap the fee may be another rail's: take that one instead.
        amount = total - transfers.fee_for(unit, amount, target, FeeKind.PAYOUT)
    if amount <= 0:
        raise invalid(
            "fee_exceeds_payout",
            "the payout is not more than the bank transfer's fee",
            "amount_minor",
        )
    return amount
