"""Loans for the web tests, made through the services: the lending tests' weekly "Puhunan"
product, a scored credit assessment stored as the credit service stores it (no model
needed: ``tests.lending.conftest.assess``), an offer from it, and an accepted loan."""

from __future__ import annotations

from typing import Any

from tests.lending.conftest import PRODUCT, assess
from tests.web.conftest import OPERATOR, Person
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.lending import loans
from tindahan.services.lending import offers as loan_offers
from tindahan.services.lending.views import LoanView, OfferView
from tindahan.services.platform import parties
from tindahan.services.unit import Platform


def caller_of(person: Person) -> Caller:
    return Caller("test", person.party_id, frozenset(DEFAULT_SCOPES))


def make_product(platform: Platform, new: loan_offers.NewProduct = PRODUCT) -> dict[str, Any]:
    return platform.run(lambda u: loan_offers.create_product(u, OPERATOR, new))


def make_offer(platform: Platform, person: Person, product: dict[str, Any]) -> OfferView:
    """A fresh assessment (average sales ₱20,000 a month) and an offer from it."""
    assert person.party_id is not None
    assess(platform, person.party_id)
    new = loan_offers.NewOffer(product["id"])
    return platform.run(lambda u: loan_offers.create_offer(u, caller_of(person), new))


def accept(platform: Platform, person: Person, offer: OfferView) -> LoanView:
    return platform.run(lambda u: loan_offers.accept(u, caller_of(person), offer["id"]))


def make_loan(platform: Platform, person: Person, product: dict[str, Any]) -> LoanView:
    return accept(platform, person, make_offer(platform, person, product))


def loan(platform: Platform, loan_id: str) -> LoanView:
    return platform.run(lambda u: loans.get(u, OPERATOR, loan_id), write=False)


def offer(platform: Platform, offer_id: str) -> OfferView:
    return platform.run(lambda u: loan_offers.get_offer(u, OPERATOR, offer_id), write=False)


def loans_of(platform: Platform, person: Person) -> list[dict[str, Any]]:
    found = platform.run(lambda u: loans.list_loans(u, caller_of(person)), write=False)
    return found["data"]


def merchant_in(platform: Platform, name: str, province: str) -> Person:
    """Another merchant (no sign-in) in another province, for the portfolio's rows."""
    new = parties.NewParty("merchant", name, mcc="5411", city="Calamba", province=province)
    made = platform.run(lambda u: parties.create(u, OPERATOR, new))
    return Person(name, "", "", made["id"])
