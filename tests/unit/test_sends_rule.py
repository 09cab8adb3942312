"""The domain rule of sending to a mobile number: who may send to whom."""

from __future__ import annotations

import pytest

from tindahan.kernel.refusals import RefusalError
from tindahan.payments import sends
from tindahan.payments.sends import Side


@pytest.mark.parametrize("kind", ["customer", "merchant", "agent"])
def test_anyone_sends_to_a_customer(kind: str) -> None:
    sends.check(Side("a", kind), Side("b", "customer"))


@pytest.mark.parametrize("kind", ["merchant", "agent"])
def test_a_business_number_is_refused(kind: str) -> None:
    with pytest.raises(RefusalError) as caught:
        sends.check(Side("a", "customer"), Side("b", kind))
    assert (caught.value.code, caught.value.param) == ("recipient_is_business", "mobile")


def test_not_to_oneself() -> None:
    with pytest.raises(RefusalError) as caught:
        sends.check(Side("a", "customer"), Side("a", "customer"))
    assert caught.value.code == "recipient_is_sender"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Juana Dela Cruz", "Juana D. C."),
        ("  maria   santos ", "maria S."),
        ("Ben", "Ben"),
        ("", ""),
    ],
)
def test_masked_name(name: str, shown: str) -> None:
    assert sends.masked_name(name) == shown


def test_a_send_is_texted_as_a_payment() -> None:
    from tindahan.sms.notices import for_event

    data = {
        "amount_minor": 500,
        "currency": "PHP",
        "short_ref": "ABCD2345",
        "payer_id": "cus_a",
        "payee_id": "cus_b",
    }
    found = for_event("mobile_transfer.succeeded", data, ("cus_a", "cus_b"))
    assert [(n.party_id, n.kind) for n in found] == [
        ("cus_a", "payment_sent"),
        ("cus_b", "payment_received"),
    ]
