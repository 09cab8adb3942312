"""Two sessions of one phone paying at once stay within the balance (issue 24), on
PostgreSQL, through the HTTP callback: each session's last step runs in its own thread."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.ussd.conftest import BUYER_PHONE, PIN, Barangay, Phone


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_two_sessions_of_one_phone_cannot_overspend(server: str, barangay: Barangay) -> None:
    code = barangay.merchant_code
    phones = []
    for _ in range(2):  # a phone holds one session at a time; the network may overlap two
        phone = Phone(httpx.Client(base_url=server, timeout=60), BUYER_PHONE)
        phone.run("3", code, "700")  # up to the PIN: each session waits at its last step
        phones.append(phone)
    start = threading.Barrier(len(phones))
    answers: list[str] = []

    def pay(phone: Phone) -> None:
        start.wait()
        answers.append(phone.dial("3", code, "700", PIN))

    threads = [threading.Thread(target=pay, args=(p,)) for p in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for phone in phones:
        phone.http.close()
    paid = [a for a in answers if a.startswith("END Paid P700.00")]
    low = [a for a in answers if a == "END Your balance is too low. Nothing moved."]
    assert len(paid) == 1 and len(low) == 1, answers  # ₱1,000 pays ₱700 once, not twice
    assert barangay.available(barangay.buyer) == 30_000
