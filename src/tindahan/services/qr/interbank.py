"""Paying another institution's QR Ph code: an InstaPay credit transfer to its merchant.

A QR Ph person-to-merchant code (merchant account information template with GUID
``ph.ppmi.p2m``) names its acquirer in sub-id 01 — the BIC of the bank or e-money issuer
that signed the merchant up — the merchant's id at that acquirer in 03 and, when the
acquirer prints it, the merchant's credit account in 04; the merchant's name is tag 59.
When the acquirer is not us (``services.qr.pay`` pays our own codes), the code is paid here:

* the acquirer's BIC is looked up in the participants directory (``participants.by_bic``:
  8- and 11-character forms alike); an acquirer we do not know, one made inactive, or one
  that is not an InstaPay member is refused before anything is held;
* the creditor account is sub-id 04, else the merchant id 03 (the acquirer credits its own
  merchant by it); the creditor name is tag 59 as printed. Nothing is registered: the
  account and name are kept on the transfer, sealed (``transfers.start``);
* QR Ph P2M rides InstaPay only (the scheme's rule), so an amount over InstaPay's
  ₱50,000.00 cap is refused (``qr_over_instapay_cap``), never sent by PESONet;
* it leaves the payer's **main** wallet through the outbound transfer machinery
  (``services.rails.transfers.start``): the amount and the InstaPay send fee held as one
  linked batch (the live risk gate judges it there, the tier's outgoing limits count it),
  then the worker sends the pacs.008 and the clearing house's answer posts or voids it. On a
  TigerBeetle ledger (issue 22) ``POST /v1/qr/bank_transfers`` takes the outbound transfers'
  cluster path instead (``rails.cluster.start`` with ``checked``: held with no timeout, sent
  once held, posted or voided by the answer), and so does the web scan page's pay step
  (``rails.cluster.reserve`` given to ``forms.submit``);
* ``quote`` says the same — merchant, bank, amount, fee, total — before the person confirms.

Person-to-person InstaPay codes (``com.p2pqrpay``) and other countries' schemes stay refused
(``qr_not_payable``): issue 19 asks for merchant codes; a P2P code is a send to a person's
account, which "send to a bank account" already does with the account typed in.
"""

from __future__ import annotations

import re
from typing import Any

from tindahan import limits, qr
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, refused
from tindahan.payments.model import WalletKind
from tindahan.rails.fees import FeeKind
from tindahan.services.ledger import movement
from tindahan.services.platform.parties import owner_id
from tindahan.services.qr.pay import acquirer
from tindahan.services.rails import bank_accounts, participants, transfers
from tindahan.services.unit import Unit

#: A creditor account as pacs.008 carries it (``Othr/Id``, Max34Text), read from a code.
ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{0,33}")


def is_ours(summary: qr.QrPhSummary) -> bool:
    return summary.kind == "p2m" and (summary.acquirer or "").upper() == acquirer().upper()


def read(payload: str) -> qr.QrPhSummary:
    """The summary of another institution's P2M code in pesos, or a clear refusal."""
    try:
        tree, _warnings = qr.decode(payload)
        summary = qr.summarize(tree)
    except qr.QrError as exc:
        raise invalid("qr_invalid", f"not a payable QR code: {exc}", "payload") from None
    if is_ours(summary):
        raise invalid("qr_on_us", "this code is ours: pay it with POST /v1/qr/payments", "payload")
    if summary.kind != "p2m":
        message = "only QR Ph merchant (P2M) codes of other institutions can be paid"
        raise refused("qr_not_payable", message, "payload")
    if summary.currency != qr.PHP_NUMERIC:
        raise invalid("qr_invalid", "this code is not in pesos (currency 608)", "payload")
    return summary


def _destination(unit: Unit, summary: qr.QrPhSummary, payer: str) -> bank_accounts.Destination:
    bank = participants.by_bic(unit, summary.acquirer or "")
    if bank is None:
        message = f"the institution of this code ({summary.acquirer}) is not in our directory"
        raise refused("qr_acquirer_unknown", message, "payload")
    if not bank.active:
        raise refused("participant_inactive", f"{bank.name} is not reachable now", "payload")
    if not bank.instapay:
        message = f"{bank.name} is not on InstaPay, which QR Ph merchant payments ride"
        raise refused("qr_acquirer_not_instapay", message, "payload")
    account = (summary.account or summary.merchant_id or "").strip()
    if not ACCOUNT.fullmatch(account):
        raise invalid("qr_invalid", "this code names no merchant account (26-51, 03/04)", "payload")
    name = (summary.name or "").strip()
    if not name:
        raise invalid("qr_invalid", "this code names no merchant (59)", "payload")
    return bank_accounts.Destination(None, payer, bank, account, name)


def _amount(summary: qr.QrPhSummary, typed: object) -> int:
    """The code's amount (a dynamic code; nothing typed) or the one typed (a static code),
    within InstaPay's cap."""
    if summary.amount_minor is None:
        if typed is None:
            message = "a static code needs the amount to pay"
            raise invalid("amount_required", message, "amount_minor")
        amount, _currency = movement.amount(typed, "PHP")
    elif typed is not None and typed != summary.amount_minor:
        raise invalid(
            "amount_mismatch", "this code fixes the amount; leave amount_minor out", "amount_minor"
        )
    else:
        amount = summary.amount_minor
    if amount <= 0:
        raise invalid("amount_invalid", "the amount must be more than zero", "amount_minor")
    if amount > limits.INSTAPAY_MAX_MINOR:
        message = (
            "QR Ph merchant payments ride InstaPay, which carries at most ₱50,000.00 a payment"
        )
        raise refused("qr_over_instapay_cap", message, "amount_minor")
    return amount


def describe(unit: Unit, caller: Caller, payload: str) -> dict[str, Any]:
    """Whom a scanned code of another institution pays, before any amount: the name printed
    on it, its bank, and the amount when the code fixes one (the scan page's first step)."""
    caller.require("payments:read")
    summary = read(payload)
    target = _destination(unit, summary, caller.party_id or "")
    return {
        "object": "qr_interbank_scan",
        "merchant_name": target.account_name,
        "bank": target.bank.code,
        "bank_name": target.bank.name,
        "amount_minor": summary.amount_minor,
        "payload": payload,
    }


def quote(
    unit: Unit, caller: Caller, payload: str, amount_minor: object, payer_id: str | None = None
) -> dict[str, Any]:
    """What paying this code would be, said before it is paid: the merchant's printed name,
    its bank, the account masked, the amount, the InstaPay fee and the total. Nothing is held;
    the same refusals as ``pay``."""
    caller.require("payments:read")
    summary = read(payload)
    payer = owner_id(unit, caller, payer_id)
    target = _destination(unit, summary, payer)
    amount = _amount(summary, amount_minor)
    fee = transfers.fee_for(unit, amount, target, FeeKind.SEND)
    return {
        "object": "qr_interbank_quote",
        "merchant_name": target.account_name,
        "bank": target.bank.code,
        "bank_name": target.bank.name,
        "account_number_masked": "•••• " + target.account_number[-4:],
        "amount_minor": amount,
        "amount_fixed": summary.amount_minor is not None,
        "currency": "PHP",
        "rail": "instapay",
        "fee_minor": fee,
        "total_minor": amount + fee,
        "reference": summary.reference,
        "payload": payload,
    }


def checked(
    unit: Unit, caller: Caller, payload: str, amount_minor: object, payer_id: str | None = None
) -> tuple[movement.Holder, bank_accounts.Destination, int, str, FeeKind]:
    """The payment's checks (either ledger): the payer's main wallet, the code's merchant
    at its acquirer, the amount, in pesos, the send fee's kind."""
    caller.require("payments:write")
    summary = read(payload)
    payer = owner_id(unit, caller, payer_id)
    target = _destination(unit, summary, payer)
    amount = _amount(summary, amount_minor)
    wallet = movement.holders(unit, (payer,))[(payer, WalletKind.MAIN)]
    return wallet, target, amount, "PHP", FeeKind.SEND


def pay(
    unit: Unit, caller: Caller, payload: str, amount_minor: object, payer_id: str | None = None
) -> dict[str, Any]:
    """Hold the amount and the fee on the payer's main wallet and record the InstaPay
    transfer (``transfers.start``); the worker sends it. Returns the bank transfer. On a
    TigerBeetle ledger the API and the scan page give ``checked`` to ``rails.cluster``."""
    return transfers.start(unit, *checked(unit, caller, payload, amount_minor, payer_id))
