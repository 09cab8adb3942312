"""Three languages on the pages (issue 24, item 4): a person chooses Cebuano with the
switch; the pages follow, and so do their SMS (the party's language)."""

from __future__ import annotations

from sqlalchemy import select

from tindahan.store.payment_tables import parties


def _language(site, party_id: str) -> str | None:
    query = select(parties.c.language).where(parties.c.id == party_id)
    return site.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False)


def test_a_signed_in_person_chooses_cebuano_for_pages_and_sms(browser, site):
    browser.sign_in(site.buyer)
    home = browser.get("/b").text
    assert 'value="ceb"' in home and "Cebuano" in home
    switched = browser.post("/lang", {"lang": "ceb", "next": "/b"})
    assert switched.status_code == 303
    page = browser.get("/b").text
    assert '<html lang="ceb">' in page
    assert "Akong wallet" in page  # "My wallet"
    assert _language(site, site.buyer.party_id) == "ceb"
    browser.post("/lang", {"lang": "fil", "next": "/b"}, from_page="/b")
    assert _language(site, site.buyer.party_id) == "fil"


def test_signed_out_the_switch_sets_only_the_cookie(browser, site):
    switched = browser.post("/lang", {"lang": "ceb", "next": "/signin"}, from_page="/signin")
    assert switched.status_code == 303
    page = browser.get("/signin").text
    assert "Mag-sign in" in page and "Bag-o ka dinhi? Mag-sign up" in page
    assert _language(site, site.buyer.party_id) is None


def test_an_unknown_language_changes_nothing(browser, site):
    browser.sign_in(site.buyer)
    browser.post("/lang", {"lang": "xx", "next": "/b"}, from_page="/b")
    assert _language(site, site.buyer.party_id) is None
    assert '<html lang="en">' in browser.get("/b").text
