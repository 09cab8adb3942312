"""The SMS outbox: payments, cash-ins and loan reminders become texts in the person's
language, queued with the change and sent by the worker; a provider that is down loses
nothing; a refused message is not retried; the console lists what went out."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select, update

from tests.sms.conftest import OPERATOR, cash_in, fund, pay, person
from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.services.platform import events, logins, sms, webhooks
from tindahan.services.unit import Platform
from tindahan.sms import gsm7
from tindahan.sms.port import Outcome
from tindahan.store.payment_tables import settings, sms_messages
from tindahan.worker import tick
from tindahan.worker.sms import HttpProvider, LocalGateway, from_environment

ANA = "+639171110001"
BEN = "+639181110002"


def rows(platform: Platform) -> list[dict]:
    query = select(sms_messages).order_by(sms_messages.c.created_at_ns, sms_messages.c.id)
    return [dict(r) for r in platform.run(lambda u: u.conn.execute(query).mappings(), write=False)]


def test_a_payment_texts_both_people_in_their_own_language(platform: Platform) -> None:
    ana = person(platform, "Ana Reyes", ANA, language="ceb")
    ben = person(platform, "Ben's Sari-Sari", BEN, kind="merchant", language="fil")
    fund(platform, ana, 100_000)
    gateway = LocalGateway()
    tick(platform, sms_provider=gateway)  # the funding's texts (none: not a payment)
    gateway.sent.clear()
    paid = pay(platform, ana, ben, 12_345)
    queued = [r for r in rows(platform) if r["status"] == "pending"]
    assert sorted(r["kind"] for r in queued) == ["payment_received", "payment_sent"]
    # the values are sealed: no amount, name or number in clear
    assert all("12345" not in r["data_cipher"] and r["to_cipher"] is None for r in queued)
    assert sms.deliver_due(platform, gateway) == (2, 0)
    by_number = dict(gateway.sent)
    assert by_number[ANA].startswith("Tindahan: Nagpadala ka og PHP 123.45 ngadto kang Ben")
    assert paid["short_ref"] in by_number[ANA]
    assert by_number[BEN].startswith("Tindahan: Nakatanggap ka ng PHP 123.45 mula kay Ana Reyes")
    assert all(gsm7.fits_one_part(t) for t in by_number.values())
    assert {r["status"] for r in rows(platform)} == {"sent"}
    assert sms.deliver_due(platform, gateway) == (0, 0)  # sent once


def test_a_cash_in_texts_the_customer_not_the_agent(platform: Platform) -> None:
    agent = person(platform, "Tindahan ni Aling Nena", "+639190000003", kind="agent")
    ana = person(platform, "Ana Reyes", ANA)
    fund(platform, agent, 500_000, kind="float")
    cash_in(platform, agent, ana, 50_000)
    gateway = LocalGateway()
    sms.deliver_due(platform, gateway)
    texts = [t for to, t in gateway.sent if to == ANA]
    assert texts == [
        next(t for t in texts if "cash-in of PHP 500.00 at Tindahan ni Aling Nena" in t)
    ]
    assert not [t for to, t in gateway.sent if to == "+639190000003"]


def test_the_language_can_change_before_the_text_goes(platform: Platform) -> None:
    ana = person(platform, "Ana Reyes", ANA)
    ben = person(platform, "Ben", BEN)
    fund(platform, ana, 10_000)
    pay(platform, ana, ben, 100)
    platform.run(lambda u: sms.set_language(u, ben, "ceb"))
    gateway = LocalGateway()
    sms.deliver_due(platform, gateway)
    assert dict(gateway.sent)[BEN].startswith("Tindahan: Nakadawat ka og PHP 1.00")
    assert dict(gateway.sent)[ANA].startswith("Tindahan: You sent PHP 1.00 to Ben")


def test_an_unknown_language_is_refused(platform: Platform) -> None:
    ana = person(platform, "Ana", ANA)
    with pytest.raises(RefusalError) as caught:
        platform.run(lambda u: sms.set_language(u, ana, "es"))
    assert getattr(caught.value, "code", None) == "language_invalid"


def test_a_party_without_a_phone_is_skipped(platform: Platform) -> None:
    ana = person(platform, "Ana", ANA)
    nobody = person(platform, "No Phone", None)
    fund(platform, ana, 10_000)
    pay(platform, ana, nobody, 100)
    gateway = LocalGateway()
    assert sms.deliver_due(platform, gateway) == (1, 0)
    statuses = {r["kind"]: r["status"] for r in rows(platform)}
    assert statuses == {"payment_sent": "sent", "payment_received": "skipped"}


class Down:
    """A provider that is down until told otherwise."""

    name = "flaky"

    def __init__(self) -> None:
        self.up = False
        self.tries = 0
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str, reference: str) -> Outcome:
        self.tries += 1
        if not self.up:
            return Outcome(False, error="HTTP 503")
        self.sent.append((to, text))
        return Outcome(True, provider_message_id="p1")


def test_a_provider_that_is_down_keeps_the_messages_and_they_go_later(
    platform: Platform, clock
) -> None:
    ana = person(platform, "Ana", ANA)
    ben = person(platform, "Ben", BEN)
    fund(platform, ana, 10_000)
    for _ in range(3):
        pay(platform, ana, ben, 100)
    provider = Down()
    assert sms.deliver_due(platform, provider) == (0, 1)
    assert provider.tries == 1  # the rest of the round waited instead of hammering it
    assert {r["status"] for r in rows(platform)} == {"pending"}
    # the failed one backs off; the next round tries another (once), then waits again
    assert sms.deliver_due(platform, provider) == (0, 1)
    assert provider.tries == 2
    provider.up = True
    clock.advance(3600)
    sent, failed = sms.deliver_due(platform, provider)
    assert (sent, failed) == (6, 0)
    assert {r["status"] for r in rows(platform)} == {"sent"}
    assert max(r["attempts"] for r in rows(platform)) == 2


def test_a_message_gives_up_after_the_last_attempt(platform: Platform, clock) -> None:
    ana = person(platform, "Ana", ANA)
    ben = person(platform, "Ben", None)
    fund(platform, ana, 10_000)
    pay(platform, ana, ben, 100)
    provider = Down()
    for _ in range(limits.SMS_MAX_ATTEMPTS):
        sms.deliver_due(platform, provider)
        clock.advance(7 * 24 * 3600)
    assert provider.tries == limits.SMS_MAX_ATTEMPTS
    assert [r["status"] for r in rows(platform) if r["kind"] == "payment_sent"] == ["failed"]
    sms.deliver_due(platform, provider)
    assert provider.tries == limits.SMS_MAX_ATTEMPTS


def test_a_refused_message_is_not_retried(platform: Platform) -> None:
    ana = person(platform, "Ana", ANA)
    fund(platform, ana, 10_000)
    pay(platform, ana, person(platform, "Ben", None), 100)

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "invalid number"})

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    provider = HttpProvider("https://sms.example/send", "k", client=client)
    assert sms.deliver_due(platform, provider) == (0, 1)
    sent = [r for r in rows(platform) if r["kind"] == "payment_sent"]
    assert sent[0]["status"] == "failed" and "HTTP 400" in sent[0]["last_error"]


def test_the_http_provider_speaks_the_aggregator_shape() -> None:
    seen: list[httpx.Request] = []
    answers = iter(
        [
            httpx.Response(200, json={"id": "msg-77"}),
            httpx.Response(503, text="maintenance"),
            httpx.Response(429, text="slow down"),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    provider = HttpProvider("https://sms.example/send", "secret-key", "TINDAHAN", client)
    assert provider.send(ANA, "hello", "sms_1") == Outcome(True, provider_message_id="msg-77")
    assert json.loads(seen[0].content) == {
        "to": ANA,
        "from": "TINDAHAN",
        "message": "hello",
        "reference": "sms_1",
    }
    assert seen[0].headers["X-API-Key"] == "secret-key"
    down = provider.send(ANA, "hello", "sms_2")
    assert not down.ok and not down.permanent and "503" in (down.error or "")
    throttled = provider.send(ANA, "hello", "sms_3")
    assert not throttled.ok and not throttled.permanent

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    gone = HttpProvider(
        "https://sms.example/send", "k", client=httpx.Client(transport=httpx.MockTransport(broken))
    )
    outcome = gone.send(ANA, "x", "sms_4")
    assert not outcome.ok and not outcome.permanent and "ConnectError" in (outcome.error or "")


def test_the_provider_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINDAHAN_SMS_URL", raising=False)
    assert isinstance(from_environment("test"), LocalGateway)
    assert from_environment("live") is None  # a live database never pretends to send
    monkeypatch.setenv("TINDAHAN_SMS_URL", "https://sms.example/send")
    monkeypatch.setenv("TINDAHAN_SMS_API_KEY", "k1")
    made = from_environment("live")
    assert isinstance(made, HttpProvider) and made.api_key == "k1" and made.sender == "Tindahan"


def _reminder(platform: Platform, merchant: str) -> None:
    data = {"loan_id": "loan_x", "due_date": "2026-12-08", "amount_minor": 152_075}
    overdue = {"loan_id": "loan_x", "days_past_due": 3, "bucket": "1-30"}
    platform.run(
        lambda u: events.emit_many(
            u,
            [
                ("loan.payment_due", data, (merchant,)),
                ("loan.overdue", overdue, (merchant,)),
            ],
        )
    )
    platform.run(lambda u: events.emit(u, "loan.payment_due", data, (merchant,)))


def test_loan_reminders_are_texted_only_to_people_without_an_app(platform: Platform) -> None:
    no_app = person(platform, "Walay App Store", ANA, kind="merchant", language="ceb")
    web = person(platform, "Web Store", BEN, kind="merchant")
    platform.run(
        lambda u: logins.create(u, OPERATOR, party_id=web, phone=BEN, secret="240816", name=None)
    )
    hooked = person(platform, "Hooked Store", "+639190000009", kind="merchant")
    platform.run(
        lambda u: webhooks.create_endpoint(
            u, OPERATOR, "http://127.0.0.1:9/hook", ["loan.payment_due"], hooked
        )
    )
    for merchant in (no_app, web, hooked):
        _reminder(platform, merchant)
    queued = rows(platform)
    assert {r["party_id"] for r in queued} == {no_app}
    assert sorted(r["kind"] for r in queued) == ["loan_due", "loan_due", "loan_overdue"]
    gateway = LocalGateway()
    sms.deliver_due(platform, gateway)
    texts = [t for _, t in gateway.sent]
    assert "Tindahan: Ugma, 8 Dis 2026, ang bayad sa imong loan nga PHP 1,520.75." in texts[0]
    assert any(t.startswith("Tindahan: 3 ka adlaw nang ulahi") for t in texts)


def test_the_console_lists_what_went_out_and_hides_codes_when_live(platform: Platform) -> None:
    platform.run(lambda u: sms.queue_to_number(u, ANA, "fil", "code_signup", {"code": "482913"}))
    sms.deliver_due(platform, LocalGateway())
    listed = platform.run(lambda u: sms.list_messages(u, OPERATOR, 10), write=False)["data"]
    assert listed[0]["status"] == "sent" and listed[0]["to_last4"] == "0001"
    assert "482913" in listed[0]["text"]
    assert platform.run(lambda u: sms.sent_to(u, ANA), write=False) == [listed[0]["text"]]
    platform.run(
        lambda u: u.conn.execute(
            update(settings).where(settings.c.key == "environment").values(value="live")
        )
    )
    listed = platform.run(lambda u: sms.list_messages(u, OPERATOR, 10), write=False)["data"]
    assert "482913" not in listed[0]["text"] and "••••••" in listed[0]["text"]
    with pytest.raises(RefusalError) as caught:
        platform.run(lambda u: sms.sent_to(u, ANA), write=False)
    assert getattr(caught.value, "code", None) == "environment_live"


def test_a_party_cannot_list_the_outbox(platform: Platform) -> None:
    ana = person(platform, "Ana", ANA)
    caller = OPERATOR.__class__("k", ana, OPERATOR.scopes)
    with pytest.raises(RefusalError):
        platform.run(lambda u: sms.list_messages(u, caller, 10), write=False)


def test_a_rolled_back_payment_queues_no_text(platform: Platform) -> None:
    ana = person(platform, "Ana", ANA)
    ben = person(platform, "Ben", BEN)
    with pytest.raises(RefusalError):
        pay(platform, ana, ben, 100)  # no money: refused, rolled back
    assert rows(platform) == []
