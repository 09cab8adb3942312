"""The console's risk pages through HTTP and in Chromium at 360 px: only staff see them; the
queue leads to the case; a return is asked twice and moves the money once; a rule's mode
is switched and audited; a screening hit is confirmed (asked twice) and freezes the party;
the reports page offers its CSV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import apps
from tests.web.conftest import OPERATOR, Browser, Site
from tindahan.services.ledger import risk_gate, verify
from tindahan.services.payments import payments
from tindahan.services.platform import audit
from tindahan.services.risk import cases

RULES = """
[[rule]]
id = "new_payee"
version = 3
decision = "review"
explain = "a first {amount_minor} to a new payee"
[rule.params]
min_minor = 300000
kinds = ["p2p"]
"""
PAGES = (
    "/op/risk",
    "/op/risk/cases",
    "/op/risk/cases?status=closed",
    "/op/risk/rules",
    "/op/risk/screening",
    "/op/risk/reports",
)


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def rules_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))


def _hold(site: Site) -> dict[str, Any]:
    """Juan's first ₱5,000 to Maria: held for review, in Juan's case."""
    from tindahan.kernel.callers import DEFAULT_SCOPES, Caller

    juan = Caller("test", site.buyer.party_id, frozenset(DEFAULT_SCOPES))
    assert site.other_buyer.party_id is not None
    new = payments.NewPayment(site.other_buyer.party_id, 500_000, "PHP")
    site.platform.run(lambda u: payments.pay(u, juan, new))
    (case,) = site.platform.run(lambda u: cases.list_cases(u, OPERATOR), write=False)["data"]
    return dict(case)


def _available(site: Site) -> int:
    from tindahan.services.payments import wallets

    wallet_id = site.other_buyer.wallets["main"]
    view = site.platform.run(lambda u: wallets.get(u, OPERATOR, wallet_id), write=False)
    return int(view["available_minor"])


def test_the_risk_pages_are_for_staff_only(
    browser: Browser, second_browser: Browser, site: Site, rules_on: None
) -> None:
    case = _hold(site)
    browser.sign_in(site.merchant)
    for path in (*PAGES, f"/op/risk/cases/{case['id']}"):
        assert browser.get(path).status_code == 404, path
    form = {"decision": "release", "note": "", "idempotency_key": "k" * 20}
    target = f"/op/risk/cases/{case['id']}/decide"
    assert browser.post(target, form, from_page="/m").status_code == 404
    staff = second_browser
    staff.sign_in(site.operator)
    for path in (*PAGES, f"/op/risk/cases/{case['id']}"):
        answer = staff.get(path)
        assert answer.status_code == 200, path
        assert 'aria-current="page"' in answer.text
    assert "Juan dela Cruz" in staff.get("/op/risk").text
    csv_answer = staff.get("/op/risk/reports.csv?type=str")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.text.startswith("report_type,transaction_ref,")
    assert staff.get("/op/risk/reports?start=2026-13-01").status_code == 400
    still = site.platform.run(lambda u: cases.get(u, OPERATOR, case["id"]), write=False)
    assert still["status"] == "open"


def test_a_return_is_asked_twice_and_moves_the_money_once(
    browser: Browser, site: Site, rules_on: None
) -> None:
    case = _hold(site)
    before = _available(site)
    browser.sign_in(site.operator)
    path = f"/op/risk/cases/{case['id']}"
    page = browser.get(path).text
    assert "a first 500000 to a new payee" in page and "new_payee v3" in page
    asked = browser.post(
        f"{path}/decide", {"decision": "return", "note": "scam", "idempotency_key": browser.key()}
    )
    assert asked.status_code == 200 and "Are you sure?" in asked.text
    assert (
        site.platform.run(lambda u: cases.get(u, OPERATOR, case["id"]), write=False)["status"]
        == "open"
    )
    confirm = {
        "decision": "return",
        "note": "scam",
        "confirm": "yes",
        "idempotency_key": browser.key(asked.text),
    }
    done = browser.post(f"{path}/decide", confirm)
    assert done.status_code == 303
    again = browser.post(f"{path}/decide", confirm)  # a double submit: the same answer
    assert again.status_code == 303
    closed = site.platform.run(lambda u: cases.get(u, OPERATOR, case["id"]), write=False)
    assert (closed["decision"], closed["notes"][0]["body"]) == ("return", "scam")
    assert _available(site) == before
    assert site.balance(site.buyer) == 1_000_000
    assert verify.verify(site.platform.db).ok
    page = browser.get(path).text
    assert "Returned the money" in page and "Are you sure?" not in page


def test_one_alerts_hold_is_settled_from_the_case_page_asked_twice(
    browser: Browser, site: Site, rules_on: None
) -> None:
    """A case closed by a report keeps its money held; the alert's own line releases it."""
    case = _hold(site)
    site.platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "report", "filed"))
    (alert,) = site.platform.run(lambda u: cases.get(u, OPERATOR, case["id"]), write=False)[
        "alerts"
    ]
    before = _available(site)
    browser.sign_in(site.operator)
    path = f"/op/risk/cases/{case['id']}"
    page = browser.get(path).text
    assert f"{path}/alerts/{alert['id']}/settle" in page and "Release this" in page
    settle = f"{path}/alerts/{alert['id']}/settle"
    asked = browser.post(settle, {"decision": "release", "idempotency_key": browser.key(page)})
    assert asked.status_code == 200 and "Yes, release it" in asked.text
    assert _available(site) == before  # asking moved nothing
    confirm = {"decision": "release", "confirm": "yes", "idempotency_key": browser.key(asked.text)}
    unsure = browser.post(settle, {**confirm, "note": ""})
    assert unsure.status_code == 400 and _available(site) == before  # a note is needed
    done = browser.post(settle, {**confirm, "note": "a known customer"})
    assert done.status_code == 303 and done.headers["location"].endswith("done=settled")
    assert browser.post(settle, {**confirm, "note": "a known customer"}).status_code == 303
    assert _available(site) == before + 500_000
    entries = site.platform.run(
        lambda u: audit.list_entries(u, OPERATOR, 10, object_id=alert["id"]), write=False
    )["data"]
    assert [(e["action"], e["note"]) for e in entries] == [("risk.release", "a known customer")]
    page = browser.get(path).text
    assert "Release this" not in page  # nothing left to settle
    elsewhere = browser.post(
        f"{path}/alerts/ra.nothing/settle", {**confirm, "idempotency_key": "z" * 20}
    )
    assert elsewhere.status_code == 404
    assert verify.verify(site.platform.db).ok


def test_a_rule_is_switched_to_shadow_and_audited(
    browser: Browser, site: Site, rules_on: None
) -> None:
    browser.sign_in(site.operator)
    browser.get("/op/risk/rules")
    form = {"mode": "shadow", "idempotency_key": browser.key()}
    assert browser.post("/op/risk/rules/new_payee/mode", form).status_code == 303
    page = browser.get("/op/risk/rules?done=new_payee").text
    assert "Switched." in page and 'value="shadow" selected' in page
    entries = site.platform.run(
        lambda u: audit.list_entries(u, OPERATOR, 10, object_id="new_payee"), write=False
    )["data"]
    assert [e["action"] for e in entries] == ["risk.rule_mode"]
    bad = {"mode": "loud", "idempotency_key": browser.key(page)}
    assert browser.post("/op/risk/rules/new_payee/mode", bad).status_code == 400


def test_a_confirmed_screening_hit_freezes_the_party(
    browser: Browser, site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tindahan.services.platform import parties, screening

    watch = tmp_path / "watch.csv"
    watch.write_text("id,name\nw7,Pedro Penduko\n")
    monkeypatch.setenv(screening.LISTS_ENV, str(watch))
    pedro = site.platform.run(
        lambda u: parties.create(
            u, OPERATOR, parties.NewParty(kind="customer", name="Pedro Penduko")
        )
    )
    browser.sign_in(site.operator)
    page = browser.get("/op/risk/screening").text
    assert "Pedro Penduko" in page and "w7" in page
    (hit,) = site.platform.run(lambda u: screening.list_hits(u, OPERATOR), write=False)
    asked = browser.post(
        f"/op/risk/screening/{hit['id']}", {"decision": "confirm", "idempotency_key": browser.key()}
    )
    assert asked.status_code == 200 and "Yes, confirm and freeze" in asked.text
    assert (
        site.platform.run(lambda u: parties.get(u, OPERATOR, pedro["id"]), write=False)["status"]
        == "active"
    )
    form = {"decision": "confirm", "confirm": "yes", "idempotency_key": browser.key(asked.text)}
    assert browser.post(f"/op/risk/screening/{hit['id']}", form).status_code == 303
    assert (
        site.platform.run(lambda u: parties.get(u, OPERATOR, pedro["id"]), write=False)["status"]
        == "frozen"
    )


def test_the_payee_reads_under_review_in_english_and_filipino(
    browser: Browser, site: Site, rules_on: None
) -> None:
    case = _hold(site)
    browser.sign_in(site.other_buyer)
    page = browser.get("/b").text
    assert "₱5,000.00 is under review, for your safety" in page and "Under review" in page
    assert "new_payee" not in page and "new payee" not in page
    browser.http.cookies.set("tdh_lang", "fil")
    filipino = browser.get("/b").text
    assert "para sa iyong kaligtasan" in filipino and "Sinusuri pa" in filipino
    site.platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "release", "ok"))
    browser.http.cookies.set("tdh_lang", "en")
    assert "under review" not in browser.get("/b").text


# --- in Chromium, at a phone's width -----------------------------------------------------------
@pytest.fixture
def live(site: Site, shared_server: Any) -> Iterator[str]:
    with shared_server.serving(apps.web_app(site.platform)) as base_url:
        yield base_url


def test_queue_case_and_release_at_phone_width(
    site: Site, chromium: Any, live: str, rules_on: None
) -> None:
    from tests.web.conftest import Pages, screenshot, sign_in_page

    case = _hold(site)
    pages = Pages(chromium, live)
    try:
        page = pages()
        page.set_viewport_size({"width": 360, "height": 800})
        sign_in_page(page, site.operator.phone, site.operator.pin)
        page.goto(page.base + "/op/risk")
        screenshot(page, "console-risk-queue")
        page.locator("#alerts a").first.click()
        page.wait_for_url(f"**/op/risk/cases/{case['id']}")
        assert page.locator("#held").inner_text() == "₱5,000.00"
        screenshot(page, "console-risk-case-open")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_label("Add a note").fill("Juan says it is rent")
        page.get_by_role("button", name="Add the note").click()
        page.wait_for_url("**?done=noted")
        assert "Juan says it is rent" in page.locator("#notes").inner_text()
        screenshot(page, "console-risk-case")
        page.get_by_role("button", name="Release the money").click()  # no reason given
        assert page.locator("#e-note").inner_text() == "Please fill this in."
        page.get_by_label("Why (note)").fill("Rent, lease seen")
        page.get_by_role("button", name="Release the money").click()
        page.wait_for_url("**?done=decided")
        assert page.locator("#case-status").inner_text() == "Closed"
        assert page.locator("#held").inner_text() == "₱0.00"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(page, "console-risk-case-closed")
    finally:
        pages.close()
    assert _available(site) >= 500_000
    assert verify.verify(site.platform.db).ok
