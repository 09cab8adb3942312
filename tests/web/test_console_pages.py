"""The operator console through HTTP: only staff see it; the trial balance agrees with the
ledger; verify runs from a button and catches a balance changed by hand; a party's tier
changes only with a note, once per form, and the audit log says who and why."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.web.conftest import OPERATOR
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import disputes, escrow, orders, shipments
from tindahan.services.ledger import transfers as ledger_service
from tindahan.services.payments import payments
from tindahan.services.platform import audit, books, fees, logins, parties, webhooks
from tindahan.services.unit import ledger_id

PAGES = ("/op", "/op/parties", "/op/disputes", "/op/webhooks", "/op/sms", "/op/audit")


def _as_operator(browser, site):
    browser.sign_in(site.operator)
    return browser


def _pay(site, payer, payee, amount_minor):
    who = Caller("test", payer.party_id, frozenset(DEFAULT_SCOPES))
    new = payments.NewPayment(payee.party_id, amount_minor, "PHP")
    return site.platform.run(lambda u: payments.pay(u, who, new))


def _party(site, person):
    return site.platform.run(lambda u: parties.get(u, OPERATOR, person.party_id), write=False)


def _history(site, party_id):
    return site.platform.run(
        lambda u: audit.list_entries(u, OPERATOR, 50, object_id=party_id), write=False
    )["data"]


def _error_beside(page: str, field: str) -> str:
    match = re.search(rf'<p id="e-{field}" class="error">([^<]+)</p>', page)
    assert match, f"no error beside {field}"
    return match.group(1)


# --- who may see it ----------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["merchant", "buyer"])
def test_the_console_is_not_found_for_merchants_and_buyers(browser, site, who):
    person = getattr(site, who)
    browser.sign_in(person)
    for path in (*PAGES, f"/op/parties/{site.other_buyer.party_id}"):
        answer = browser.get(path)
        assert answer.status_code == 404, path
        assert "Maria Santos" not in answer.text and "Trial balance" not in answer.text
    target = f"/op/parties/{site.buyer.party_id}"
    form = {"tier": "basic", "status": "frozen", "note": "x", "idempotency_key": "k" * 20}
    assert browser.post(target, form, from_page="/b").status_code == 404
    assert browser.post("/op/verify", {}, from_page="/b").status_code == 404
    assert _party(site, site.buyer)["status"] == "active"
    assert _history(site, site.buyer.party_id) == []


def test_signed_out_the_console_sends_to_sign_in(browser, site):
    for path in PAGES:
        answer = browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=/op")


def test_every_console_page_renders_for_staff(browser, site):
    _as_operator(browser, site)
    for path in (*PAGES, f"/op/parties/{site.merchant.party_id}"):
        answer = browser.get(path)
        assert answer.status_code == 200, path
        assert 'aria-current="page"' in answer.text
        assert len(answer.content) < 200_000
    assert browser.get("/op/parties/cus_nosuchparty").status_code == 404
    form = {"tier": "full", "status": "active", "note": "why", "idempotency_key": "k" * 20}
    assert browser.post("/op/parties/cus_nosuchparty", form, from_page="/op").status_code == 404
    assert browser.post("/lang", {"lang": "fil", "next": "/op"}).status_code == 303
    assert "Patakbuhin ang verify ngayon" in browser.get("/op").text


# --- the books ---------------------------------------------------------------------------------
def test_the_trial_balance_is_what_the_ledger_says(browser, site):
    _pay(site, site.buyer, site.merchant, 150_000)
    _pay(site, site.other_buyer, site.buyer, 20_000)
    trial = site.platform.run(lambda u: books.trial_balance(u, OPERATOR), write=False)
    php = next(b for b in trial["ledgers"] if b["currency"] == "PHP")
    for book in trial["ledgers"]:  # double entry, per currency ledger
        assert book["debits_posted_minor"] == book["credits_posted_minor"]
        assert book["debit_balance_minor"] == book["credit_balance_minor"]
        assert book["balanced"]
    by_code = {line["code"]: line for line in php["codes"]}
    bank = ledger_service.lookup_accounts(site.platform.db, ["op.bank"])["op.bank"]
    assert by_code[510]["debit_balance_minor"] == bank.debits_posted - bank.credits_posted
    assert bank.debits_posted == 2_000_000  # the two fundings of ₱10,000
    wallets_total = sum(
        site.balance(p, k)
        for p in (site.merchant, site.other_merchant, site.buyer, site.other_buyer)
        for k in p.wallets
    )
    groups = {g["group"]: g for g in php["groups"]}
    assert groups["wallets"]["credit_balance_minor"] == wallets_total
    paid = site.platform.run(lambda u: payments.list_payments(u, OPERATOR, 50, None), write=False)
    fees = sum(p.get("fee_minor") or 0 for p in paid["data"])
    assert fees > 0 and groups["fees"]["credit_balance_minor"] == fees
    assert wallets_total + fees == 2_000_000  # all the money in came from the bank

    _as_operator(browser, site)
    page = browser.get("/op").text
    assert "Trial balance" in page and "Balanced" in page
    assert "₱20,000.00" in page  # the bank's debit balance and the credit total
    assert f"₱{wallets_total // 100:,}.{wallets_total % 100:02d}" in page
    held = site.platform.run(lambda u: books.escrow_held(u, OPERATOR), write=False)
    assert held == {"object": "escrow_held", "currency": "PHP", "orders": 0, "held_minor": 0}
    assert "Escrow held" in page


def test_the_trial_balance_is_for_the_operator_only(platform, site):
    merchant = Caller("test", site.merchant.party_id, frozenset(DEFAULT_SCOPES))
    for read in (books.trial_balance, books.escrow_held, books.last_verify):
        with pytest.raises(RefusalError) as refused:
            platform.run(lambda u, r=read: r(u, merchant), write=False)
        assert refused.value.code == "operator_only"
    with pytest.raises(RefusalError):
        platform.run(lambda u: logins.actor_names(u, merchant, ["lgn_x"]))
    assert platform.run(lambda u: logins.actor_names(u, OPERATOR, ["cli", "key_x"])) == {}


def test_verify_runs_from_the_button_and_catches_a_balance_changed_by_hand(browser, site, clock):
    _pay(site, site.buyer, site.merchant, 5_000)
    _as_operator(browser, site)
    assert "has not been run" in browser.get("/op").text
    answer = browser.post("/op/verify", {}, from_page="/op")
    assert answer.status_code == 303 and answer.headers["location"] == "/op#verify"
    page = browser.get("/op").text
    assert "No problems found." in page and "by Ops Staff" in page

    account_id = ledger_id(site.buyer.wallets["main"])
    assert ledger_service.lookup_accounts(site.platform.db, [account_id])
    with site.platform.db.engine.begin() as conn:  # a hand edit, past the services
        conn.execute(
            text("UPDATE ledger_accounts SET credits_posted = credits_posted + 100 WHERE id = :id"),
            {"id": account_id},
        )
    clock.advance(60)  # the test clock stands still; the second run is a minute later
    browser.post("/op/verify", {}, from_page="/op")
    page = browser.get("/op").text
    assert "No problems found." not in page and "problem" in page
    assert account_id in page
    last = site.platform.run(lambda u: books.last_verify(u, OPERATOR), write=False)
    assert last is not None and not last["ok"]
    assert any(account_id in v for v in last["violations"])
    audit_page = browser.get("/op/audit").text
    assert audit_page.count("ledger.verified") == 2


def test_verify_without_the_csrf_token_is_refused(browser, site):
    _as_operator(browser, site)
    browser.get("/op")
    answer = browser.http.post("/op/verify", data={})
    assert answer.status_code == 403
    assert site.platform.run(lambda u: books.last_verify(u, OPERATOR), write=False) is None


# --- parties -----------------------------------------------------------------------------------
def test_parties_by_kind_and_name(browser, site):
    _as_operator(browser, site)
    page = browser.get("/op/parties").text
    for name in ("Aling Nena", "Mang Tonyo", "Juan dela Cruz", "Maria Santos"):
        assert name in page
    page = browser.get("/op/parties?kind=merchant").text
    assert "Aling Nena" in page and "Juan dela Cruz" not in page
    page = browser.get("/op/parties?q=SANTOS").text
    assert "Maria Santos" in page and "Aling Nena" not in page
    page = browser.get("/op/parties?q=100%25").text
    assert "No parties match." in page
    found = site.platform.run(lambda u: parties.list_parties(u, OPERATOR, 2, None), write=False)
    assert found["has_more"] and len(found["data"]) == 2
    rest = site.platform.run(
        lambda u: parties.list_parties(u, OPERATOR, 50, found["data"][-1]["id"]), write=False
    )
    ids = [p["id"] for p in found["data"] + rest["data"]]
    assert len(ids) == len(set(ids)) == 4


def test_the_party_page_shows_no_full_phone_number(browser, site):
    _as_operator(browser, site)
    page = browser.get(f"/op/parties/{site.buyer.party_id}").text
    assert "Juan dela Cruz" in page and "₱10,000.00" in page
    assert site.buyer.phone not in page and site.buyer.phone[1:] not in page
    assert "basic" in page and "full" in page and "business" in page  # the tiers offered


def test_a_tier_change_needs_a_note(browser, site):
    _as_operator(browser, site)
    target = f"/op/parties/{site.merchant.party_id}"
    browser.get(target)
    form = {"tier": "full", "status": "active", "note": "  ", "idempotency_key": browser.key()}
    answer = browser.post(target, form)
    assert answer.status_code == 400
    assert _error_beside(answer.text, "note") == "Please fill this in."
    assert '<option value="full" selected>' in answer.text  # what was chosen is kept
    assert _party(site, site.merchant)["tier"] == "business"
    assert _history(site, site.merchant.party_id) == []

    form = {**form, "note": "x" * 501, "idempotency_key": browser.key()}
    answer = browser.post(target, form)
    assert answer.status_code == 400
    assert "500" in _error_beside(answer.text, "note")
    assert "x" * 501 in answer.text  # the typed note is kept
    assert _party(site, site.merchant)["tier"] == "business"

    form = {**form, "tier": "gold", "note": "why", "idempotency_key": browser.key()}
    answer = browser.post(target, form)
    assert answer.status_code == 400 and _error_beside(answer.text, "tier")
    assert _party(site, site.merchant)["tier"] == "business"
    assert _history(site, site.merchant.party_id) == []


def test_a_tier_change_with_a_note_is_made_once_and_audited(browser, site, clock):
    _as_operator(browser, site)
    target = f"/op/parties/{site.merchant.party_id}"
    browser.get(target)
    note = "Business permit and DTI registration checked"
    form = {"tier": "full", "status": "active", "note": note, "idempotency_key": browser.key()}
    answer = browser.post(target, form)
    assert answer.status_code == 303 and answer.headers["location"] == target + "?saved=1"
    assert _party(site, site.merchant)["tier"] == "full"
    (entry,) = _history(site, site.merchant.party_id)
    assert entry["note"] == note and entry["details"] == {"tier": ["business", "full"]}
    party_id = site.merchant.party_id
    clock.advance(60)
    site.platform.run(  # meanwhile someone moves it back; a replay must not redo the change
        lambda u: parties.update_party(u, OPERATOR, party_id, None, "business", note="undo")
    )
    again = browser.post(target, form)  # the same form sent twice
    assert again.status_code == 303
    assert _party(site, site.merchant)["tier"] == "business"
    assert [e["note"] for e in _history(site, party_id)] == ["undo", note]
    page = browser.get(target + "?saved=1").text
    assert "Saved." in page and note in page
    audit_page = browser.get("/op/audit").text
    assert note in audit_page and "Ops Staff" in audit_page
    assert f'href="/op/parties/{party_id}"' in audit_page
    assert audit_page.count("party.updated") == 2


def test_freezing_a_party(browser, site):
    _as_operator(browser, site)
    target = f"/op/parties/{site.buyer.party_id}"
    browser.get(target)
    form = {"tier": "full", "status": "frozen", "note": "AML alert 41: hold", "idempotency_key": ""}
    form["idempotency_key"] = browser.key()
    assert browser.post(target, form).status_code == 303
    assert _party(site, site.buyer)["status"] == "frozen"
    assert "Frozen" in browser.get(target).text


def test_a_party_change_without_the_csrf_token_is_refused(browser, site):
    _as_operator(browser, site)
    target = f"/op/parties/{site.merchant.party_id}"
    browser.get(target)
    form = {"tier": "full", "status": "frozen", "note": "why", "idempotency_key": browser.key()}
    assert browser.http.post(target, data=form).status_code == 403
    assert _party(site, site.merchant)["tier"] == "business"
    assert _party(site, site.merchant)["status"] == "active"


# --- webhooks and the audit log ----------------------------------------------------------------
def test_webhook_deliveries_are_listed(browser, site):
    made = site.platform.run(
        lambda u: webhooks.create_endpoint(u, OPERATOR, "http://127.0.0.1:9/hooks", ["*"], None)
    )
    _pay(site, site.buyer, site.merchant, 7_500)
    _as_operator(browser, site)
    page = browser.get("/op/webhooks").text
    assert "http://127.0.0.1:9/hooks" in page
    assert "payment.succeeded" in page and "Waiting" in page
    log = site.platform.run(
        lambda u: webhooks.list_all_deliveries(u, OPERATOR, 50, None), write=False
    )
    assert [d["endpoint_id"] for d in log["data"]] == [made["id"]]
    merchant = Caller("test", site.merchant.party_id, frozenset(DEFAULT_SCOPES))
    with pytest.raises(RefusalError):
        site.platform.run(lambda u: webhooks.list_all_deliveries(u, merchant, 50, None))


def test_the_audit_log_pages_newest_first(browser, site, clock):
    clock.advance(60)  # after the site's logins were created

    def write(unit):
        for i in range(30):
            audit.record(unit, "cli", "party.updated", "party", site.buyer.party_id, f"n{i:02d}")

    site.platform.run(write)
    _as_operator(browser, site)
    first = browser.get("/op/audit").text
    match = re.search(r'href="/op/audit\?starting_after=([^"]+)"', first)
    assert match, "an older-page link"
    second = browser.get(f"/op/audit?starting_after={match.group(1)}").text
    notes = re.findall(r"<td>(n\d\d)</td>", first) + re.findall(r"<td>(n\d\d)</td>", second)
    logged_in = "login.created"  # the site's logins are in the log too, after the notes
    assert logged_in in second
    assert len(notes) == 30 and len(set(notes)) == 30


# --- disputes ------------------------------------------------------------------------------------
def _as(person):
    return Caller("test", person.party_id, frozenset(DEFAULT_SCOPES))


def _disputed(site, reason="The parcel never came", quantity=2):
    """Juan buys coffee × quantity and pays into escrow, Nena ships, Juan disputes it."""
    buyer, seller = _as(site.buyer), _as(site.merchant)
    coffee = next(p for p in site.products if p["title"].startswith("Coffee"))
    line = orders.CartLine(coffee["id"], quantity)
    store = site.storefront["id"]
    order = site.platform.run(lambda u: orders.checkout(u, buyer, store, [line]))
    site.platform.run(lambda u: escrow.pay(u, buyer, order["id"], None))
    site.platform.run(
        lambda u: shipments.ship(u, seller, order["id"], "LBC", "LBC-" + order["id"][4:])
    )
    return site.platform.run(lambda u: disputes.open_dispute(u, buyer, order["id"], reason))


def _order(site, order_id):
    return site.platform.run(lambda u: orders.get(u, OPERATOR, order_id), write=False)


def _dispute(site, dispute_id):
    return site.platform.run(lambda u: disputes.get(u, OPERATOR, dispute_id), write=False)


def _money_now(site):
    return (site.balance(site.buyer), site.balance(site.merchant, "settlement"))


def _resolve_form(browser, path, resolution, **fields):
    browser.get(path)
    page = browser.last.split(f'name="resolution" value="{resolution}"')[0]
    return {"resolution": resolution, "idempotency_key": browser.key(page.rsplit("<form", 1)[1])}


def test_list_disputes_open_first_newest_first_paged(platform, site, clock):
    first = _disputed(site, "Wrong size")
    clock.advance(60)
    second = _disputed(site, "Broken seal")
    clock.advance(60)
    third = _disputed(site, "Never came")
    platform.run(lambda u: disputes.resolve(u, OPERATOR, third["id"], "refund", None, "ok"))

    def listed(status=None, limit=10, after=None):
        found = platform.run(
            lambda u: disputes.list_disputes(
                u, OPERATOR, status=status, limit=limit, starting_after=after
            ),
            write=False,
        )
        return [d["id"] for d in found["data"]], found["has_more"]

    assert listed() == ([second["id"], first["id"], third["id"]], False)
    assert listed("open") == ([second["id"], first["id"]], False)
    assert listed("resolved") == ([third["id"]], False)
    assert listed(limit=1) == ([second["id"]], True)
    assert listed(limit=1, after=second["id"]) == ([first["id"]], True)
    assert listed(limit=1, after=first["id"]) == ([third["id"]], False)
    for status, after in ((None, "dsp_nosuchdispute"), ("resolved", first["id"])):
        with pytest.raises(RefusalError) as refused:
            listed(status, after=after)
        assert refused.value.code == "cursor_invalid"
    with pytest.raises(RefusalError) as refused:
        listed("lost")
    assert refused.value.code == "status_invalid"
    for person in (site.buyer, site.merchant):
        with pytest.raises(RefusalError) as refused:
            platform.run(
                lambda u, p=person: disputes.list_disputes(
                    u, _as(p), status=None, limit=10, starting_after=None
                ),
                write=False,
            )
        assert refused.value.code == "operator_only"


def test_the_dispute_list_shows_the_order_the_people_and_the_money(browser, site, clock):
    dispute = _disputed(site, "Two sachets were torn open")
    _as_operator(browser, site)
    page = browser.get("/op/disputes")
    assert page.status_code == 200
    assert 'href="/op/disputes" aria-current="page"' in page.text
    assert f'href="/op/disputes/{dispute["id"]}"' in page.text
    for seen in ("Aling Nena&#39;s Store", "Juan dela Cruz", "Two sachets were torn open"):
        assert seen in page.text
    assert "₱180.00" in page.text  # 2 × ₱65 + ₱50 shipping, all held
    assert "Older" not in page.text
    assert "No disputes here." in browser.get("/op/disputes?status=resolved").text
    assert dispute["id"] in browser.get("/op/disputes?status=all").text
    assert browser.get("/op/disputes?starting_after=dsp_nosuchdispute").status_code == 400


def test_the_list_pages_with_an_older_link(browser, site, clock, monkeypatch):
    from tindahan.web import console

    monkeypatch.setattr(console, "PAGE", 1)
    old = _disputed(site, "First complaint")
    clock.advance(60)
    new = _disputed(site, "Second complaint")
    _as_operator(browser, site)
    page = browser.get("/op/disputes").text
    link = 'href="/op/disputes/{}"'.format
    assert link(new["id"]) in page and link(old["id"]) not in page
    older = f"/op/disputes?status=open&amp;starting_after={new['id']}"
    assert older in page
    page = browser.get(older.replace("&amp;", "&")).text
    assert link(old["id"]) in page and link(new["id"]) not in page and "Newest" in page


def test_a_split_with_a_note_moves_exactly_the_parts(browser, site):
    dispute = _disputed(site)
    held = _order(site, dispute["order_id"])["escrow"]["held_minor"]
    assert held == 18_000
    buyer_before, merchant_before = _money_now(site)
    _as_operator(browser, site)
    path = f"/op/disputes/{dispute['id']}"
    page = browser.get(path)
    assert page.status_code == 200
    assert "LBC-" + dispute["order_id"][4:] in page.text and "The parcel never came" in page.text
    assert "Coffee 3-in-1, 10 sachets" in page.text
    form = _resolve_form(browser, path, "split")
    form.update(split_amount="50.25", split_note="Half the sachets arrived torn")
    answer = browser.post(f"{path}/resolve", form)
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}?done=1"
    bps = site.platform.run(lambda u: fees.fees_view(u, OPERATOR), write=False)[
        "marketplace_fee_bps"
    ]
    released = held - 5_025
    fee = (released * bps + 5_000) // 10_000  # half up, to the centavo
    assert _money_now(site) == (buyer_before + 5_025, merchant_before + released - fee)
    order = _order(site, dispute["order_id"])
    assert order["status"] != "disputed" and order["escrow"]["held_minor"] == 0
    assert order["escrow"]["fee_minor"] == fee
    assert order["history"][-1]["note"] == "Half the sachets arrived torn"
    resolved = _dispute(site, dispute["id"])
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "split")
    assert (resolved["refund_minor"], resolved["release_minor"]) == (5_025, released)
    page = browser.get(f"{path}?done=1").text
    assert "Resolved. The money has moved" in page
    assert "Split between the buyer and the merchant" in page and "₱50.25" in page
    assert "Half the sachets arrived torn" in page
    assert f'action="{path}/resolve"' not in page  # the forms are gone


def test_refund_and_release_settle_the_whole_amount(browser, site):
    refund, release = _disputed(site), _disputed(site, "Late", quantity=1)
    buyer_before, merchant_before = _money_now(site)
    _as_operator(browser, site)
    for dispute, resolution in ((refund, "refund"), (release, "release")):
        path = f"/op/disputes/{dispute['id']}"
        form = _resolve_form(browser, path, resolution)
        form[f"{resolution}_note"] = f"Decided: {resolution}"
        assert browser.post(f"{path}/resolve", form).status_code == 303
    released = _order(site, release["order_id"])["escrow"]
    assert _money_now(site) == (
        buyer_before + 18_000,
        merchant_before + released["released_minor"] - released["fee_minor"],
    )
    assert released["released_minor"] == 11_500 and released["fee_minor"] > 0


def test_a_resolution_needs_a_note(browser, site):
    dispute = _disputed(site)
    before = _money_now(site)
    _as_operator(browser, site)
    path = f"/op/disputes/{dispute['id']}"
    form = _resolve_form(browser, path, "split")
    form.update(split_amount="40", split_note="   ")
    answer = browser.post(f"{path}/resolve", form)
    assert answer.status_code == 400
    assert _error_beside(answer.text, "split_note") == "Please fill this in."
    assert 'name="split_amount" type="text" value="40"' in answer.text  # the typed amount kept
    form = _resolve_form(browser, path, "release")
    answer = browser.post(f"{path}/resolve", {**form, "release_note": ""})
    assert answer.status_code == 400 and _error_beside(answer.text, "release_note")
    # "Refund everything" tapped by a slip, with no note typed in its own form: nothing moves.
    form = _resolve_form(browser, path, "refund")
    answer = browser.post(f"{path}/resolve", {**form, "refund_note": ""})
    assert answer.status_code == 400 and _error_beside(answer.text, "refund_note")
    assert _money_now(site) == before
    assert _dispute(site, dispute["id"])["status"] == "open"
    assert _order(site, dispute["order_id"])["status"] == "disputed"


@pytest.mark.parametrize("amount", ["180", "250.00"])
def test_a_split_of_all_or_more_than_is_held_is_refused_beside_the_amount(browser, site, amount):
    dispute = _disputed(site)
    before = _money_now(site)
    _as_operator(browser, site)
    path = f"/op/disputes/{dispute['id']}"
    form = _resolve_form(browser, path, "split")
    form.update(split_amount=amount, split_note="The buyer asked for it all")
    answer = browser.post(f"{path}/resolve", form)
    assert answer.status_code == 400
    error = _error_beside(answer.text, "split_amount")
    assert "₱180.00" in error and "less than" in error
    assert "The buyer asked for it all" in answer.text  # the note is kept
    assert _money_now(site) == before
    assert _dispute(site, dispute["id"])["status"] == "open"


def test_a_double_submit_resolves_once(browser, site):
    dispute = _disputed(site)
    buyer_before, _merchant = _money_now(site)
    _as_operator(browser, site)
    path = f"/op/disputes/{dispute['id']}"
    form = _resolve_form(browser, path, "split")
    form.update(split_amount="30", split_note="Partly damaged")
    first = browser.post(f"{path}/resolve", form)
    second = browser.post(f"{path}/resolve", form)
    assert first.status_code == second.status_code == 303
    assert _money_now(site)[0] == buyer_before + 3_000
    steps = [s["action"] for s in _order(site, dispute["order_id"])["history"]]
    assert steps.count("resolve_split") == 1
    # another form (a new key) on the settled dispute is refused, and nothing moves
    form = {**form, "idempotency_key": "k" * 20}
    answer = browser.post(f"{path}/resolve", form)
    assert answer.status_code == 400 and "This dispute is already resolved." in answer.text
    assert _money_now(site)[0] == buyer_before + 3_000


@pytest.mark.parametrize("who", ["merchant", "buyer"])
def test_disputes_are_not_found_for_merchants_and_buyers(browser, site, who):
    dispute = _disputed(site, "Secret complaint text")
    before = _money_now(site)
    browser.sign_in(getattr(site, who))
    path = f"/op/disputes/{dispute['id']}"
    for page in ("/op/disputes", "/op/disputes?status=all", path):
        answer = browser.get(page)
        assert answer.status_code == 404, page
        assert "Secret complaint text" not in answer.text
    form = {"resolution": "refund", "refund_note": "mine", "idempotency_key": "k" * 20}
    home = "/m" if who == "merchant" else "/b"
    assert browser.post(f"{path}/resolve", form, from_page=home).status_code == 404
    assert _money_now(site) == before
    assert _dispute(site, dispute["id"])["status"] == "open"


def test_an_unknown_dispute_is_not_found(browser, site):
    _as_operator(browser, site)
    assert browser.get("/op/disputes/dsp_nosuchdispute").status_code == 404
    form = {"resolution": "refund", "refund_note": "x", "idempotency_key": "k" * 20}
    answer = browser.post("/op/disputes/dsp_nosuchdispute/resolve", form, from_page="/op")
    assert answer.status_code == 404


def test_resolving_without_the_csrf_token_is_refused(browser, site):
    dispute = _disputed(site)
    before = _money_now(site)
    _as_operator(browser, site)
    path = f"/op/disputes/{dispute['id']}"
    form = _resolve_form(browser, path, "refund")
    form["refund_note"] = "Refund it"
    assert browser.http.post(f"{path}/resolve", data=form).status_code == 403
    assert _money_now(site) == before
    assert _dispute(site, dispute["id"])["status"] == "open"
