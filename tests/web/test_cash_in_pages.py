"""Cash in on the buyer's pages (issue 21, item 6), through HTTP on SQLite and PostgreSQL:
the nearest active agents by the buyer's place (profile, else the first saved address), the
cash-in code as text and QR, and that code is what an agent's cash-in takes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import OPERATOR, Browser, Site
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import addresses
from tindahan.services.payments import agents, cash, wallets
from tindahan.services.platform import parties

HOME = {
    "recipient": "Juan dela Cruz",
    "phone": "0917 000 0004",
    "street": "12 Sampaguita St.",
    "barangay": "Malanday",
    "city": "Marikina",
    "province": "Metro Manila",
    "postal_code": "1805",
}


def _agent(site: Site, name: str, city: str, province: str, funded: int = 0) -> str:
    new = parties.NewParty("agent", name, city=city, province=province)
    made: dict[str, Any] = site.platform.run(lambda u: parties.create(u, OPERATOR, new))
    if funded:
        found = site.platform.run(
            lambda u: wallets.list_wallets(u, OPERATOR, 10, None, made["id"]), write=False
        )["data"]
        wallet = next(w["id"] for w in found if w["kind"] == "float")
        site.platform.run(lambda u: cash.fund(u, OPERATOR, wallet, funded, "PHP", "float"))
    return str(made["id"])


def test_agents_nearest_the_buyers_address_and_the_code(browser: Browser, site: Site) -> None:
    cebu = _agent(site, "Zeny's Store", "Cebu City", "Cebu")
    qc = _agent(site, "Ben's Sari-sari", "Quezon City", "Metro Manila")
    town = _agent(site, "Tess Loading Station", "Marikina City", "Metro Manila", 500_000)
    frozen = _agent(site, "Closed Corner", "Marikina", "Metro Manila")
    site.platform.run(lambda u: parties.update_party(u, OPERATOR, frozen, "frozen", None))
    browser.sign_in(site.buyer)
    assert 'href="/b/cash-in"' in browser.get("/b").text
    before = browser.get("/b/cash-in")
    assert before.status_code == 200
    assert "Add an address to see the agents in your town first." in before.text
    buyer = Caller("test", site.buyer.party_id, frozenset(DEFAULT_SCOPES))
    site.platform.run(lambda u: addresses.add(u, buyer, HOME))
    page = browser.get("/b/cash-in").text
    assert "Nearest to City of Marikina, Metro Manila first." in page  # as PSGC names it
    assert "Closed Corner" not in page
    order = [page.index(name) for name in ("Tess Loading", "Ben&#39;s Sari-sari", "Zeny&#39;s")]
    assert order == sorted(order), order
    assert "In your town" in page and "In your province" in page and "Farther" in page
    code = site.buyer.party_id
    assert f'<strong id="cash-in-code">{code}</strong>' in page
    qr = browser.get("/b/cash-in/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    # The code is what the agent's cash-in takes: the money lands in this buyer's wallet.
    agent = Caller("test", town, frozenset(DEFAULT_SCOPES))
    before_balance = site.balance(site.buyer)
    site.platform.run(lambda u: cash.cash_in(u, agent, str(code), 20_000, "PHP", None))
    assert site.balance(site.buyer) == before_balance + 20_000
    guide = site.platform.run(lambda u: agents.cash_in_at(u, buyer), write=False)
    assert [a["id"] for a in guide["agents"]] == [town, qc, cebu]


def test_another_party_cannot_read_a_buyers_guide(site: Site) -> None:
    other = Caller("test", site.other_buyer.party_id, frozenset(DEFAULT_SCOPES))
    with pytest.raises(RefusalError) as caught:
        site.platform.run(
            lambda u: agents.cash_in_at(u, other, str(site.buyer.party_id)), write=False
        )
    assert caught.value.code == "resource_missing"
