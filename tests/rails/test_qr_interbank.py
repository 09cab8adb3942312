"""Paying another institution's QR Ph merchant code (issue 19, item 3): the acquirer read
from the code and found in the directory, an InstaPay credit transfer from the main wallet
through the real switch over signed HTTP, the fee quoted first, and every refusal holding
nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.lending.conftest import OPERATOR
from tests.rails.conftest import FUNDED, Sender
from tests.rails.test_outbound import balances, state
from tests.rails.test_rail_fees import INSTAPAY_FEE, priced  # noqa: F401
from tests.rails.test_switch import SECRET, switch_url  # noqa: F401
from tindahan import limits, qr
from tindahan.kernel.refusals import RefusalError
from tindahan.rails import xml as rails_xml
from tindahan.services.ledger.verify import verify
from tindahan.services.qr import interbank
from tindahan.services.qr import pay as qrpay
from tindahan.services.rails import participants, transfers
from tindahan.services.unit import Platform
from tindahan.store.rails_tables import bank_transfers
from tindahan.worker.rails import HttpRail, rails_round

GCASH = "GXCHPHM2XXX"


def code(
    acquirer: str = GCASH,
    *,
    amount: int | None = None,
    account: str | None = "1009876543",
    guid: str = "ph.ppmi.p2m",
    name: str = "Aling Nena Store",
    reference: str | None = None,
) -> str:
    fields = {"01": acquirer, "03": "MID0042"}
    if account is not None:
        fields["04"] = account
    return qr.encode(
        qr.QrDescription(
            accounts=(qr.AccountTemplate("28", guid, fields),),
            mcc="5411",
            name=name,
            city="Quezon City",
            amount_minor=amount,
            additional=qr.AdditionalData(guid="ph.ppmi.qrph", reference_label=reference)
            if reference
            else None,
        )
    )


class Recording:
    """The real switch's port, keeping what was sent to it."""

    def __init__(self, inner: HttpRail) -> None:
        self.inner = inner
        self.sent: list[bytes] = []

    def send(self, message: bytes) -> None:
        self.sent.append(message)
        self.inner.send(message)

    def request_status(self, message: bytes) -> bytes | None:
        return self.inner.request_status(message)

    def answers(self) -> list[bytes]:
        return self.inner.answers()


def pay(platform: Platform, sender: Sender, payload: str, amount: int | None) -> dict:
    return platform.run(lambda u: interbank.pay(u, sender.caller, payload, amount))


def quote(platform: Platform, sender: Sender, payload: str, amount: int | None) -> dict:
    return platform.run(lambda u: interbank.quote(u, sender.caller, payload, amount), write=False)


def count(platform: Platform) -> int:
    return platform.run(lambda u: len(u.conn.execute(select(bank_transfers)).all()), write=False)


def test_a_static_code_is_quoted_then_paid_over_instapay_through_the_switch(
    platform,
    sender,
    switch_url,  # noqa: F811
    priced,  # noqa: F811
):
    payload = code()
    said = quote(platform, sender, payload, 250_00)
    assert said["merchant_name"] == "Aling Nena Store"
    assert (said["bank"], said["rail"], said["account_number_masked"]) == (
        "GCASH",
        "instapay",
        "•••• 6543",
    )
    assert (said["amount_minor"], said["fee_minor"], said["total_minor"]) == (
        250_00,
        INSTAPAY_FEE,
        250_00 + INSTAPAY_FEE,
    )
    assert count(platform) == 0  # a quote holds nothing
    made = pay(platform, sender, payload, 250_00)
    assert (made["rail"], made["status"], made["bank_account_id"]) == ("instapay", "pending", None)
    assert (made["participant_code"], made["fee_minor"]) == ("GCASH", INSTAPAY_FEE)
    assert balances(platform, sender)[:2] == (FUNDED, 250_00 + INSTAPAY_FEE)
    # the merchant's account and name are sealed on the transfer, never stored in clear
    row = platform.run(
        lambda u: u.conn.execute(select(bank_transfers)).mappings().one(), write=False
    )
    assert "1009876543" not in row["creditor_number_cipher"]
    assert "Nena" not in row["creditor_name_cipher"]
    with switch_url("none") as base_url:
        rail = Recording(HttpRail(base_url, SECRET))
        assert rails_round(platform, rail) == 1
    (item,) = rails_xml.read(rail.sent[0]).transactions
    assert item.creditor is not None and item.creditor.account == "1009876543"
    assert item.creditor.name == "Aling Nena Store"
    assert item.creditor_agent == GCASH and item.amount_minor == 250_00
    after = state(platform, made["id"], sender)
    assert after["status"] == "settled"
    assert balances(platform, sender) == (FUNDED - 250_00 - INSTAPAY_FEE, 0, 250_00)
    assert verify(platform.db).ok


def test_a_dynamic_code_pays_its_amount_and_a_rejection_gives_everything_back(
    platform,
    sender,
    switch_url,  # noqa: F811
    priced,  # noqa: F811
):
    # an 8-character acquirer BIC finds the participant written with branch XXX, and the
    # merchant id (03) is the account when the code prints no credit account (04)
    payload = code("GXCHPHM2", amount=1_234_50, account=None, reference="INV-77")
    with pytest.raises(RefusalError) as mismatch:
        pay(platform, sender, payload, 1_000_00)
    assert mismatch.value.code == "amount_mismatch"
    made = pay(platform, sender, payload, None)
    assert made["amount_minor"] == 1_234_50 and made["participant_code"] == "GCASH"
    with switch_url("rejected") as base_url:
        assert rails_round(platform, HttpRail(base_url, SECRET)) == 1
    after = state(platform, made["id"], sender)
    assert (after["status"], after["reason"]["code"]) == ("rejected", "AC04")
    assert after["fee_refunded_minor"] == INSTAPAY_FEE
    assert balances(platform, sender) == (FUNDED, 0, 0)
    opened = platform.run(lambda u: transfers.creditor_of(u, sender.caller, made["id"]))
    assert (opened.account_number, opened.bank.code) == ("MID0042", "GCASH")
    assert verify(platform.db).ok


@pytest.mark.parametrize(
    ("payload", "amount", "wanted"),
    [
        pytest.param(code(), limits.INSTAPAY_MAX_MINOR + 1, "qr_over_instapay_cap", id="cap"),
        pytest.param(
            code(amount=limits.INSTAPAY_MAX_MINOR + 1),
            None,
            "qr_over_instapay_cap",
            id="fixed-over-cap",
        ),
        pytest.param(code("ZZZZPHM1XXX"), 100_00, "qr_acquirer_unknown", id="unknown"),
        pytest.param(code("CITIPHMX"), 100_00, "qr_acquirer_not_instapay", id="pesonet-only"),
        pytest.param(code(guid="com.p2pqrpay"), 100_00, "qr_not_payable", id="p2p"),
        pytest.param(code(qrpay.DEFAULT_ACQUIRER), 100_00, "qr_on_us", id="ours"),
        pytest.param(code(), None, "amount_required", id="static-no-amount"),
        pytest.param(code(), 0, "amount_invalid", id="zero"),
        pytest.param(code(account="bad account!"), 100_00, "qr_invalid", id="account"),
        pytest.param("not a code", 100_00, "qr_invalid", id="garbage"),
    ],
)
def test_refusals_are_clear_and_hold_nothing(platform, sender, payload, amount, wanted):
    with pytest.raises(RefusalError) as refused:
        pay(platform, sender, payload, amount)
    assert refused.value.code == wanted
    with pytest.raises(RefusalError) as said:
        quote(platform, sender, payload, amount)
    assert said.value.code == wanted
    assert count(platform) == 0
    assert balances(platform, sender)[:2] == (FUNDED, 0)


def test_an_inactive_acquirer_and_a_short_balance_are_refused(platform, sender):
    participants_change = participants.change
    platform.run(lambda u: participants_change(u, OPERATOR, "GCASH", {"active": False}))
    with pytest.raises(RefusalError) as inactive:
        pay(platform, sender, code(), 100_00)
    assert inactive.value.code == "participant_inactive"
    platform.run(lambda u: participants_change(u, OPERATOR, "GCASH", {"active": True}))
    with pytest.raises(RefusalError) as short:
        pay(platform, sender, code("PAPHPHM1XXX"), FUNDED + 1)
    assert short.value.code in {"insufficient_funds", "limit_exceeded"}
    assert count(platform) == 0 and balances(platform, sender)[:2] == (FUNDED, 0)
