"""The console's "Sent SMS": what the outbox sent through the local gateway, in the
person's language, for staff only."""

from __future__ import annotations

from tests.web.conftest import OPERATOR
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.payments import payments
from tindahan.services.platform import sms
from tindahan.worker.sms import LocalGateway


def test_sent_sms_are_listed_for_staff(browser, site):
    platform = site.platform
    platform.run(lambda u: sms.set_language(u, site.merchant.party_id, "fil"))
    who = Caller("test", site.buyer.party_id, frozenset(DEFAULT_SCOPES))
    new = payments.NewPayment(site.merchant.party_id, 7_500, "PHP")
    platform.run(lambda u: payments.pay(u, who, new))
    sent, failed = sms.deliver_due(platform, LocalGateway())
    assert (sent, failed) == (2, 0)
    browser.sign_in(site.operator)
    page = browser.get("/op/sms").text
    assert "Sent SMS" in page and "Payment received" in page
    assert "Nakatanggap ka ng PHP 75.00" in page  # the merchant reads Filipino
    assert "You sent PHP 75.00" in page
    listed = platform.run(lambda u: sms.list_messages(u, OPERATOR, 5), write=False)["data"]
    assert {m["status"] for m in listed} == {"sent"}


def test_the_buyer_cannot_see_sent_sms(browser, site):
    browser.sign_in(site.buyer)
    assert browser.get("/op/sms").status_code == 404
