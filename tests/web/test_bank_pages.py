"""The bank pages through HTTP, on SQLite and PostgreSQL: bank accounts added (every wrong
field said beside it), listed masked and removed; money sent from a buyer's wallet and
withdrawn from a merchant's sales, with the rail, fee and arrival shown before "Confirm"
and nothing moved until then; each transfer's status in words, the bank's reason in English
and Filipino; another person's account or transfer is not found."""

from __future__ import annotations

import re

import pytest

from tests.rails.fake_rail import FakeRail
from tindahan import limits
from tindahan.services.payments import wallets
from tindahan.services.payouts import settings
from tindahan.services.rails import bank_accounts, participants, transfers

from .conftest import OPERATOR, Browser, Person, Site
from .test_merchant_pages import caller
from .test_withdraw_pages import money, settle


@pytest.fixture
def banks_site(site: Site) -> Site:
    participants.ensure_seeded(site.platform)
    return site


def register(site: Site, person: Person, bank: str = "BDO", number: str = "0012-3456-7890") -> str:
    new = bank_accounts.NewBankAccount(bank, number, person.name)
    return site.platform.run(lambda u: bank_accounts.register(u, caller(person), new))["id"]


def available(site: Site, person: Person, kind: str = "main") -> int:
    """What the wallet can spend: its balance less the money held on the rail."""
    found = site.platform.run(lambda u: wallets.get(u, OPERATOR, person.wallets[kind]), write=False)
    return int(found["available_minor"])


def answer(site: Site, status: str, reason: str | None = None) -> None:
    """The clearing house takes what is due and answers each with ``status``."""
    rail = FakeRail()
    transfers.dispatch(site.platform, rail)
    for uetr in rail.transactions:
        transfers.receive(site.platform, rail.status(uetr, status, reason))


def test_bank_accounts_added_listed_masked_and_removed(banks_site: Site, browser: Browser):
    site = banks_site
    browser.sign_in(site.buyer)
    page = browser.get("/b/banks").text
    assert "BDO Unibank Inc." in page and "No bank accounts yet." in page

    form = {"bank": "", "account_number": "12ab", "account_name": "", "idempotency_key": "k" * 20}
    wrong = browser.post("/b/banks", form)
    assert wrong.status_code == 400
    assert "Please choose one of the options." in wrong.text
    assert "Please fill this in." in wrong.text
    bad_number = browser.post(
        "/b/banks",
        {**form, "bank": "BDO", "account_name": "Juan dela Cruz", "idempotency_key": "n" * 20},
    )
    assert bad_number.status_code == 400
    assert re.search(r'id="e-account_number" class="error">[^<]*6 to 20 digits', bad_number.text)
    assert (
        site.platform.run(
            lambda u: bank_accounts.list_accounts(u, caller(site.buyer), 10), write=False
        )["data"]
        == []
    )

    good = {
        "bank": "BDO",
        "account_number": "0012-3456-7890",
        "account_name": "Juan dela Cruz",
        "idempotency_key": browser.key(browser.get("/b/banks").text),
    }
    added = browser.post("/b/banks", good)
    assert added.status_code == 303 and added.headers["location"] == "/b/banks?added=1"
    listed = browser.get("/b/banks").text
    assert "•••• 7890" in listed and "Juan dela Cruz" in listed
    assert "001234567890" not in listed and "0012-3456-7890" not in listed

    (account,) = site.platform.run(
        lambda u: bank_accounts.list_accounts(u, caller(site.buyer), 10), write=False
    )["data"]
    other = Browser(browser.http.base_url.__str__())
    try:
        other.sign_in(site.other_buyer)
        theirs = other.post(
            f"/b/banks/{account['id']}/remove", {"idempotency_key": "o" * 20}, from_page="/b/banks"
        )
        assert theirs.status_code == 404
        assert "•••• 7890" not in other.get("/b/banks").text
        assert other.get("/m/banks").status_code == 404  # a buyer is no merchant
    finally:
        other.close()
    removed = browser.post(
        f"/b/banks/{account['id']}/remove", {"idempotency_key": "r" * 20}, from_page="/b/banks"
    )
    assert removed.status_code == 303
    assert "•••• 7890" not in browser.get("/b/banks").text


def test_a_buyer_sends_to_a_bank_and_sees_it_credited(banks_site: Site, browser: Browser):
    site = banks_site
    bdo = register(site, site.buyer)
    gcash = register(site, site.buyer, "GCASH", "09171234567")
    browser.sign_in(site.buyer)
    assert 'href="/b/send"' in browser.get("/b").text
    page = browser.get("/b/send").text
    assert "BDO Unibank Inc. •••• 7890" in page

    review = browser.post("/b/send/review", {"account": bdo, "amount": "250"})
    assert review.status_code == 200
    assert re.search(r'id="confirm-rail">InstaPay<', review.text)
    assert re.search(r'id="confirm-fee">None', review.text)
    assert "Within seconds" in review.text
    assert site.balance(site.buyer) == 1_000_000  # nothing moves before "Confirm"

    for typed, said in (
        ({"account": "", "amount": "250"}, "Choose a bank account."),
        ({"account": bdo, "amount": "2.505"}, "Enter an amount in pesos"),
        ({"account": gcash, "amount": "60000"}, "takes only InstaPay"),
    ):
        refused = browser.post("/b/send/review", typed, from_page="/b/send")
        assert refused.status_code == 400 and said in refused.text, said
    assert (
        browser.post(
            "/b/send/review", {"account": "bac_nosuch", "amount": "1"}, from_page="/b/send"
        ).status_code
        == 404
    )

    form = {"account": bdo, "amount": "250.00", "idempotency_key": browser.key(review.text)}
    sent = browser.post("/b/send", form)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/b/transfers/btr")
    again = browser.post("/b/send", form)  # a double tap sends once
    assert again.headers["location"] == sent.headers["location"]
    assert available(site, site.buyer) == 1_000_000 - 25_000  # held on the rail
    shown = browser.get(sent.headers["location"]).text
    assert "Waiting to be sent" in shown and 'http-equiv="refresh"' in shown

    answer(site, "ACSC")
    shown = browser.get(sent.headers["location"]).text
    assert re.search(r'id="transfer-status">Credited<', shown)
    assert 'http-equiv="refresh"' not in shown
    assert "Credited" in browser.get("/b/send").text
    other = Browser(browser.http.base_url.__str__())
    try:
        other.sign_in(site.other_buyer)
        assert other.get(sent.headers["location"]).status_code == 404
    finally:
        other.close()


def test_a_stale_sign_in_needs_the_pin_and_a_rejection_says_why(
    banks_site: Site, browser: Browser, clock
):
    site = banks_site
    bdo = register(site, site.buyer)
    browser.sign_in(site.buyer)
    clock.advance(limits.PAY_FRESH_SIGNIN_S + 1)  # no longer a fresh sign-in: the PIN is asked
    review = browser.post("/b/send/review", {"account": bdo, "amount": "100"}, from_page="/b/send")
    assert 'name="pin"' in review.text
    form = {"account": bdo, "amount": "100.00", "idempotency_key": browser.key()}
    for typed, said in ((None, "Enter your PIN."), ("918273", "Wrong PIN.")):
        refused = browser.post("/b/send", form if typed is None else {**form, "pin": typed})
        assert refused.status_code == 400 and said in refused.text, said
        assert re.search(r'id="confirm-rail">InstaPay<', refused.text)  # the same review again
    assert available(site, site.buyer) == 1_000_000  # nothing held
    sent = browser.post("/b/send", {**form, "pin": site.buyer.pin})
    assert sent.status_code == 303
    answer(site, "RJCT", "AC04")
    shown = browser.get(sent.headers["location"]).text
    assert "Rejected: the account is closed" in shown
    assert "The money is back in your wallet." in shown
    assert available(site, site.buyer) == 1_000_000
    browser.post("/lang", {"lang": "fil", "next": "/b/send"}, from_page="/b/send")
    assert "sarado na ang account" in browser.get(sent.headers["location"]).text


def test_a_merchant_withdraws_to_a_bank(banks_site: Site, browser: Browser):
    site = banks_site
    nena = site.merchant
    settle(site, nena, 80_000)
    bdo = register(site, nena)
    theirs = register(site, site.other_merchant)
    browser.sign_in(nena)
    page = browser.get("/m/withdraw").text
    assert "From your sales to a bank account" in page and "BDO Unibank Inc. •••• 7890" in page

    too_much = browser.post("/m/withdraw/bank/review", {"account": bdo, "bank_amount": "800.01"})
    assert too_much.status_code == 400
    assert re.search(
        r'id="e-bank_amount" class="error">You can withdraw at most ' + re.escape(money(80_000)),
        too_much.text,
    )
    review = browser.post(
        "/m/withdraw/bank/review", {"account": bdo, "bank_amount": "500"}, from_page="/m/withdraw"
    )
    assert review.status_code == 200 and 'action="/m/withdraw/bank"' in review.text
    assert re.search(r'id="confirm-rail">InstaPay<', review.text)
    assert site.balance(nena, "settlement") == 80_000

    not_theirs = browser.post(
        "/m/withdraw/bank",
        {"account": theirs, "amount": "500.00", "idempotency_key": "t" * 20},
        from_page="/m/withdraw",
    )
    assert not_theirs.status_code == 404
    form = {"account": bdo, "amount": "500.00", "idempotency_key": browser.key(review.text)}
    done = browser.post("/m/withdraw/bank", form)
    assert done.status_code == 303 and done.headers["location"].startswith("/m/transfers/btr")
    # paid out to the main wallet, and held there on the rail
    assert (site.balance(nena, "settlement"), site.balance(nena)) == (30_000, 50_000)
    assert available(site, nena) == 0
    answer(site, "ACSC")
    assert "Credited" in browser.get(done.headers["location"]).text
    withdraw = browser.get("/m/withdraw").text
    assert 'id="bank-transfers"' in withdraw and "Credited" in withdraw
    assert (site.balance(nena, "settlement"), site.balance(nena)) == (30_000, 0)


def test_the_automatic_payout_can_go_to_a_bank_account(banks_site: Site, browser: Browser):
    site = banks_site
    nena = site.merchant
    bdo = register(site, nena)
    theirs = register(site, site.other_merchant)
    browser.sign_in(nena)
    browser.get("/m/withdraw")
    form = {"enabled": "1", "time": "21:00", "keep": "0", "destination": bdo}
    saved = browser.post("/m/withdraw/settings", {**form, "idempotency_key": browser.key()})
    assert saved.status_code == 303
    page = browser.get("/m/withdraw").text
    assert re.search(rf'<option value="{bdo}" selected>BDO Unibank Inc. •••• 7890', page)
    shown = site.platform.run(lambda u: settings.get(u, caller(nena)), write=False)
    assert (shown["destination"], shown["bank_account_id"]) == ("bank_account", bdo)
    not_theirs = browser.post(
        "/m/withdraw/settings", {**form, "destination": theirs, "idempotency_key": "x" * 20}
    )
    assert not_theirs.status_code == 404
    back = browser.post(
        "/m/withdraw/settings",
        {**form, "destination": "wallet", "idempotency_key": browser.key(page)},
    )
    assert back.status_code == 303
    shown = site.platform.run(lambda u: settings.get(u, caller(nena)), write=False)
    assert (shown["destination"], shown["bank_account_id"]) == ("wallet", None)


def test_the_fee_is_shown_before_confirm_and_on_the_transfer(banks_site: Site, browser: Browser):
    """The operator's fees (``rails.fees``): a send's on the buyer's review, a payout's on the
    merchant's, in the total; a withdrawal that the sales cover without the fee but not with
    it is refused beside the amount; the transfer's page says the fee and that it came back."""
    from tindahan.services.platform import fees

    site = banks_site
    values = {"instapay_send_fee_minor": 15_00, "instapay_payout_fee_minor": 10_00}
    site.platform.run(lambda u: fees.put_fee_settings(u, OPERATOR, values))
    bdo = register(site, site.buyer)
    browser.sign_in(site.buyer)
    review = browser.post("/b/send/review", {"account": bdo, "amount": "250"}, from_page="/b/send")
    assert re.search(r'id="confirm-fee">' + re.escape(money(15_00)) + "<", review.text)
    assert money(26_500) in review.text  # the total
    form = {"account": bdo, "amount": "250.00", "idempotency_key": browser.key(review.text)}
    sent = browser.post("/b/send", form)
    assert available(site, site.buyer) == 1_000_000 - 26_500
    answer(site, "RJCT", "AC04")
    shown = browser.get(sent.headers["location"]).text
    assert re.search(r'id="transfer-fee">' + re.escape(money(15_00)) + " \\(given back\\)", shown)
    assert available(site, site.buyer) == 1_000_000

    nena = site.merchant
    settle(site, nena, 80_000)
    mine = register(site, nena)
    other = Browser(browser.http.base_url.__str__())
    try:
        other.sign_in(nena)
        over = other.post(
            "/m/withdraw/bank/review",
            {"account": mine, "bank_amount": "795"},
            from_page="/m/withdraw",
        )
        assert over.status_code == 400
        assert "With the fee of " + money(10_00) in over.text
        assert money(79_000) in over.text  # at most the sales less the fee
        review = other.post(
            "/m/withdraw/bank/review",
            {"account": mine, "bank_amount": "790"},
            from_page="/m/withdraw",
        )
        assert review.status_code == 200
        assert re.search(r'id="confirm-fee">' + re.escape(money(10_00)) + "<", review.text)
        form = {"account": mine, "amount": "790.00", "idempotency_key": other.key(review.text)}
        done = other.post("/m/withdraw/bank", form)
        assert done.status_code == 303
        assert site.balance(nena, "settlement") == 0
    finally:
        other.close()
