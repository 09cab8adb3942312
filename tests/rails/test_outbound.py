"""Outbound credit transfers' life cycles on SQLite and PostgreSQL, against an in-process
clearing house: accepted, rejected, lost then found, duplicated and late answers, returned
after success, answers for transfers we never sent — and the ledger balanced throughout."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from tests.lending.conftest import OPERATOR, make_party, wallet_of
from tests.rails.conftest import FUNDED, Sender, register
from tests.rails.fake_rail import NOW
from tindahan import limits
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.payments.model import WalletKind
from tindahan.rails import MessageError, StatusAnswer
from tindahan.rails import xml as rails_xml
from tindahan.services.ledger import movement
from tindahan.services.ledger import transfers as ledger
from tindahan.services.ledger.verify import verify
from tindahan.services.payments import cash
from tindahan.services.rails import bank_accounts, participants, transfers
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import events

STRANGER = "0b9c8d7e-6f5a-4b3c-a2d1-e0f9a8b7c6d5"


def send(platform: Platform, sender: Sender, account: str, amount: int) -> dict:
    new = transfers.NewBankTransfer(account, amount, "PHP")
    return platform.run(lambda u: transfers.create(u, sender.caller, new))


def state(platform: Platform, transfer_id: str, sender: Sender) -> dict:
    return platform.run(lambda u: transfers.get(u, sender.caller, transfer_id), write=False)


def balances(platform: Platform, sender: Sender, rail: str = "instapay") -> tuple[int, int, int]:
    """(wallet posted, wallet pending out, clearing account posted)."""
    found = ledger.lookup_accounts(platform.db, [sender.account_id, f"op.rail.{rail}"])
    wallet, clearing = found[sender.account_id], found[f"op.rail.{rail}"]
    return (
        wallet.credits_posted - wallet.debits_posted,
        wallet.debits_pending,
        clearing.credits_posted - clearing.debits_posted,
    )


def event_types(platform: Platform) -> list[str]:
    query = select(events.c.type).where(events.c.type.like("bank_transfer.%"))
    return list(platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False))


def test_instapay_accepted_posts_once_and_late_answers_change_nothing(platform, sender, rail):
    made = send(platform, sender, sender.bdo, 123450)
    assert (made["rail"], made["status"]) == ("instapay", "pending")
    assert balances(platform, sender) == (FUNDED, 123450, 0)
    assert transfers.dispatch(platform, rail) == 1
    assert transfers.dispatch(platform, rail) == 0  # sent once
    (message,) = rail.sent
    (item,) = rails_xml.read(message).transactions
    assert (item.uetr, item.end_to_end_id, item.amount_minor) == (
        made["uetr"],
        made["end_to_end_id"],
        123450,
    )
    assert item.creditor is not None and item.creditor.account == "001234567890"
    assert item.creditor_agent == "BNORPHMM"
    receipt = transfers.receive(platform, rail.status(made["uetr"], "ACSC"))
    assert receipt.applied == [made["uetr"]]
    after = state(platform, made["id"], sender)
    assert (after["status"], after["reason"]) == ("settled", None)
    assert balances(platform, sender) == (FUNDED - 123450, 0, 123450)
    for late in (("ACSC", None), ("ACCC", None), ("RJCT", "AC04")):
        again = transfers.receive(platform, rail.status(made["uetr"], *late))
        assert (again.applied, again.ignored) == ([], [made["uetr"]])
    assert state(platform, made["id"], sender)["status"] == "settled"
    assert balances(platform, sender) == (FUNDED - 123450, 0, 123450)
    assert event_types(platform) == ["bank_transfer.succeeded"]
    assert verify(platform.db).ok


def test_rejected_voids_the_hold_and_says_why_in_two_languages(platform, sender, rail):
    made = send(platform, sender, sender.bdo, 500_00)
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(made["uetr"], "ACSP"))  # in between: still pending
    assert state(platform, made["id"], sender)["status"] == "pending"
    transfers.receive(platform, rail.status(made["uetr"], "RJCT", "AC04"))
    after = state(platform, made["id"], sender)
    assert after["status"] == "rejected"
    assert after["reason"] == {
        "code": "AC04",
        "en": "the account is closed",
        "fil": "sarado na ang account",
    }
    assert balances(platform, sender) == (FUNDED, 0, 0)
    transfers.receive(platform, rail.status(made["uetr"], "ACSC"))  # late success: nothing
    assert balances(platform, sender) == (FUNDED, 0, 0)
    assert event_types(platform) == ["bank_transfer.failed"]
    # the day's limits were given back: the whole balance can go again
    assert send(platform, sender, sender.bdo, FUNDED)["status"] == "pending"
    assert verify(platform.db).ok


def test_lost_then_found_by_a_status_request_after_the_time_out(platform, sender, rail, clock):
    made = send(platform, sender, sender.bdo, 10_000)
    transfers.dispatch(platform, rail)
    rail.status_on_request[made["uetr"]] = ("ACCC", None)
    assert transfers.ask(platform, rail).applied == [] and rail.requests == 0  # not yet due
    clock.set(platform.now() + (limits.INSTAPAY_ANSWER_SECONDS + 1) * 10**9)
    assert transfers.ask(platform, rail).applied == [made["uetr"]]
    assert rail.requests == 1
    assert state(platform, made["id"], sender)["status"] == "settled"
    assert transfers.ask(platform, rail).applied == [] and rail.requests == 1  # final: not asked
    assert verify(platform.db).ok


def test_a_return_after_success_credits_back_once_and_never_more_than_sent(platform, sender, rail):
    made = send(platform, sender, sender.bdo, 250_00)
    other = send(platform, sender, sender.bdo, 100_00)
    transfers.dispatch(platform, rail)
    early = transfers.receive(platform, rail.returned(other["uetr"], 100_00))
    assert early.ignored == [other["uetr"]]  # not settled yet: a return changes nothing
    for item in (made, other):
        transfers.receive(platform, rail.status(item["uetr"], "ACSC"))
    too_much = transfers.receive(platform, rail.returned(other["uetr"], 100_01))
    assert too_much.ignored == [other["uetr"]]
    assert transfers.receive(platform, rail.returned(made["uetr"], 250_00, "AC01")).applied
    assert transfers.receive(platform, rail.returned(made["uetr"], 250_00, "AC01")).ignored
    after = state(platform, made["id"], sender)
    assert (after["status"], after["returned_minor"], after["reason"]["code"]) == (
        "returned",
        250_00,
        "AC01",
    )
    assert balances(platform, sender) == (FUNDED - 100_00, 0, 100_00)
    assert verify(platform.db).ok


def test_answers_we_cannot_place_or_read_change_nothing(platform, sender, rail):
    made = send(platform, sender, sender.bdo, 1_00)
    transfers.dispatch(platform, rail)
    stranger = rails_xml.pacs002(
        message_id="S-X",
        created_at=NOW,
        answers=[StatusAnswer("M-unknown", STRANGER, "E2E-unknown", "ACSC")],
    )
    assert transfers.receive(platform, stranger).ignored == [STRANGER]
    with pytest.raises(MessageError):
        transfers.receive(platform, b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>")
    with pytest.raises(RefusalError):
        transfers.receive(platform, rail.sent[0])  # a pacs.008 is not an answer
    assert state(platform, made["id"], sender)["status"] == "pending"
    assert balances(platform, sender) == (FUNDED, 1_00, 0)


def test_routing_and_refusals_hold_nothing(platform, sender, rail):
    assert send(platform, sender, sender.citi, 1_00)["rail"] == "pesonet"  # not on InstaPay
    with pytest.raises(RefusalError) as over_cap:
        send(platform, sender, sender.gcash, limits.INSTAPAY_MAX_MINOR + 1)
    assert over_cap.value.code == "no_rail"
    with pytest.raises(RefusalError) as poor:
        send(platform, sender, sender.bdo, FUNDED)
    assert poor.value.code == "insufficient_funds"
    stranger = Caller("k_x", "cus_nobody", sender.caller.scopes)
    with pytest.raises(RefusalError) as hidden:
        platform.run(
            lambda u: transfers.create(u, stranger, transfers.NewBankTransfer(sender.bdo, 100))
        )
    assert hidden.value.code == "resource_missing"
    assert balances(platform, sender) == (FUNDED, 1_00, 0)


def test_random_answer_sequences_conserve_money_and_end_once(platform, sender, rail):
    """Many transfers, each answered by a random sequence (duplicates, contradictions,
    returns, silence): each ends in at most one final state, the wallet holds exactly what
    the final states say, and the ledger verifies."""
    rng = random.Random(19)
    made = [send(platform, sender, sender.bdo, rng.randrange(1_00, 500_00)) for _ in range(12)]
    transfers.dispatch(platform, rail)
    first_final: dict[str, str] = {}
    for _ in range(60):
        item = rng.choice(made)
        roll = rng.random()
        if roll < 0.35:
            data = rail.status(item["uetr"], rng.choice(["ACSC", "ACCC"]))
        elif roll < 0.6:
            data = rail.status(item["uetr"], "RJCT", rng.choice(["AC01", "AC04", "AM04"]))
        elif roll < 0.75:
            data = rail.status(item["uetr"], rng.choice(["ACSP", "PDNG"]))
        else:
            data = rail.returned(
                item["uetr"], rng.choice([item["amount_minor"], item["amount_minor"] + 1])
            )
        transfers.receive(platform, data)
        now = state(platform, item["id"], sender)["status"]
        if now != "pending":
            first_final.setdefault(item["id"], now)
    expected_out = 0
    expected_pending = 0
    for item in made:
        final = state(platform, item["id"], sender)
        seen = first_final.get(item["id"])
        if seen == "rejected":
            assert final["status"] == "rejected"
        if seen == "settled":
            assert final["status"] in ("settled", "returned")
        if final["status"] == "settled":
            expected_out += item["amount_minor"]
        if final["status"] == "pending":
            expected_pending += item["amount_minor"]
    wallet, pending, clearing = balances(platform, sender)
    assert (wallet, pending, clearing) == (FUNDED - expected_out, expected_pending, expected_out)
    assert verify(platform.db).ok


def test_verify_names_a_bank_transfer_rewritten_in_the_database(platform, sender, rail):
    from sqlalchemy import text

    made = send(platform, sender, sender.bdo, 250_00)
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(made["uetr"], "ACSC"))
    transfers.receive(platform, rail.returned(made["uetr"], 250_00, "AC01"))
    assert verify(platform.db).ok
    with platform.db.begin() as conn:  # issue 17: the record says less came back
        conn.execute(text("UPDATE bank_transfers SET returned_minor = 1, status = 'rejected'"))
    problems = verify(platform.db).violations
    label = f"bank transfer {made['id']}"
    assert f"{label}: returned_minor is 1 on the record but its transfers move 25000" in problems
    assert f"{label} is rejected but its hold was posted" in problems


def test_a_rejected_or_returned_transfer_goes_back_to_the_wallet_it_left(platform, rail):
    """A payout to a bank leaves from the settlement wallet (``start``): a rejection voids
    that wallet's hold and a return credits that wallet, never the party's main wallet."""
    participants.ensure_seeded(platform)
    merchant = make_party(
        platform,
        kind="merchant",
        name="Tindahan ni Aling Nena",
        mcc="5411",
        city="Naga",
        province="Camarines Sur",
    )
    settlement = wallet_of(platform, merchant, "settlement")
    main = wallet_of(platform, merchant)
    platform.run(lambda u: cash.fund(u, OPERATOR, settlement["id"], 1000_00, "PHP", None))
    caller = Caller(f"k_{merchant}", merchant, frozenset(SCOPES))
    account = register(platform, caller, "BDO", "0012-3456-7890")

    def payout(amount: int) -> dict:
        def work(u):
            holder = movement.holders(u, (merchant,))[(merchant, WalletKind.SETTLEMENT)]
            target = bank_accounts.destination(u, caller, account)
            return transfers.start(u, holder, target, amount, "PHP")

        return platform.run(work)

    def posted(wallet: dict) -> tuple[int, int]:
        found = ledger.lookup_accounts(platform.db, [wallet["account_id"]])[wallet["account_id"]]
        return found.credits_posted - found.debits_posted, found.debits_pending

    rejected, returned = payout(300_00), payout(200_00)
    assert rejected["wallet_id"] == settlement["id"]
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(rejected["uetr"], "RJCT", "AC04"))
    transfers.receive(platform, rail.status(returned["uetr"], "ACSC"))
    assert posted(settlement) == (800_00, 0)
    transfers.receive(platform, rail.returned(returned["uetr"], 200_00))
    assert posted(settlement) == (1000_00, 0)
    assert posted(main) == (0, 0)
    assert verify(platform.db).ok
