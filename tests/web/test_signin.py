"""Signing in and out, CSRF, cookies, languages and errors: the frame every page shares."""

from __future__ import annotations

import httpx
import pytest

from tindahan import limits
from tindahan.services.platform import logins


def test_front_page_signed_out_sets_an_anonymous_cookie_and_a_strict_policy(browser):
    response = browser.get("/")
    assert response.status_code == 200
    assert "Sign in" in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["vary"] == "Accept-Language, Cookie"
    cookie = response.headers["set-cookie"].lower()
    assert "tdh_anon=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_cookies_are_secure_unless_the_test_flag_says_otherwise(site, web, monkeypatch):
    monkeypatch.delenv("TINDAHAN_WEB_INSECURE_COOKIES")
    with httpx.Client(base_url=web, timeout=30) as client:
        assert "secure" in client.get("/signin").headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("headers", "secure"),
    [
        ({}, True),  # loopback: a secure context, Secure kept
        ({"Host": "192.168.1.20:8000"}, False),  # a phone on the shop's Wi-Fi, plain HTTP
        ({"Host": "tindahan.example", "X-Forwarded-Proto": "https"}, True),  # a TLS proxy
    ],
)
def test_cookies_are_secure_over_https_and_on_loopback_only(web, monkeypatch, headers, secure):
    monkeypatch.delenv("TINDAHAN_WEB_INSECURE_COOKIES")
    with httpx.Client(base_url=web, headers=headers, timeout=30) as client:
        cookie = client.get("/signin").headers["set-cookie"].lower()
    assert "tdh_anon=" in cookie
    assert ("; secure" in cookie) is secure


def test_signing_in_over_plain_http_from_the_network_works(site, web, monkeypatch):
    """The cookies a LAN browser keeps carry the CSRF token's basis: the form is accepted."""
    monkeypatch.delenv("TINDAHAN_WEB_INSECURE_COOKIES")
    lan = {"Host": "192.168.1.20:8000", "Origin": "http://192.168.1.20:8000"}
    with httpx.Client(base_url=web, headers=lan, timeout=30) as client:
        form = client.get("/signin")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post(
            "/signin",
            data={"csrf_token": token, "phone": site.merchant.phone, "secret": site.merchant.pin},
        )
    assert answer.status_code == 303, answer.text[:300]
    assert "secure" not in answer.headers["set-cookie"].lower()


def test_wrong_pin_keeps_the_phone_never_echoes_the_pin_and_signs_nobody_in(site, browser):
    response = browser.post(
        "/signin", {"phone": site.merchant.phone, "secret": "999999"}, from_page="/signin"
    )
    assert response.status_code == 401
    assert "Wrong phone number or PIN." in response.text
    assert f'value="{site.merchant.phone}"' in response.text
    assert "999999" not in response.text
    assert "tdh_session" not in response.headers.get("set-cookie", "")
    assert browser.get("/m").status_code == 303  # still signed out: sent to sign in


def test_an_unknown_phone_gets_the_same_answer_as_a_wrong_pin(site, browser):
    response = browser.post(
        "/signin", {"phone": "09179998888", "secret": "246813"}, from_page="/signin"
    )
    assert response.status_code == 401
    assert "Wrong phone number or PIN." in response.text


def test_a_malformed_phone_is_an_error_beside_the_field(site, browser):
    response = browser.post("/signin", {"phone": "12", "secret": "246813"}, from_page="/signin")
    assert response.status_code == 400
    assert 'id="e-phone"' in response.text


def test_sign_in_lands_on_the_home_of_the_kind_of_person(site, browser, second_browser):
    assert browser.sign_in(site.merchant).headers["location"] == "/m"
    assert second_browser.sign_in(site.operator).headers["location"] == "/op"
    assert browser.get("/signin").headers["location"] == "/m"  # already signed in


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(site, browser):
    response = browser.post(
        "/signin",
        {"phone": site.buyer.phone, "secret": site.buyer.pin, "next": "/b/orders"},
        from_page="/signin?next=/b/orders",
    )
    assert response.headers["location"] == "/b/orders"
    other = httpx.Client(base_url=str(browser.http.base_url), timeout=30, follow_redirects=False)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        other.cookies.clear()
        page = other.get("/signin")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        sent = {"csrf_token": token, "phone": site.buyer.phone, "secret": site.buyer.pin}
        answer = other.post("/signin", data={**sent, "next": target})
        assert answer.headers["location"] == "/b"
    other.close()


def test_a_post_without_the_token_is_refused_and_signs_nobody_in(site, browser):
    browser.get("/signin")
    response = browser.http.post(
        "/signin", data={"phone": site.merchant.phone, "secret": site.merchant.pin}
    )
    assert response.status_code == 403
    assert "Form refused" in response.text
    assert "tdh_session" not in response.headers.get("set-cookie", "")


def test_a_token_from_another_browser_is_refused(site, browser, second_browser):
    second_browser.get("/signin")
    stolen = second_browser.token()
    browser.get("/signin")
    response = browser.http.post(
        "/signin",
        data={"csrf_token": stolen, "phone": site.merchant.phone, "secret": site.merchant.pin},
    )
    assert response.status_code == 403


def test_a_post_from_another_origin_is_refused_even_with_a_token(site, browser):
    browser.get("/signin")
    response = browser.http.post(
        "/signin",
        data={"csrf_token": browser.token(), "phone": site.merchant.phone, "secret": "246813"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_the_token_changes_at_sign_in(site, browser):
    browser.get("/signin")
    before = browser.token()
    browser.sign_in(site.buyer)
    browser.get("/b/orders")
    after = browser.token()
    assert before != after
    response = browser.http.post("/signout", data={"csrf_token": before})
    assert response.status_code == 403  # the signed-out token is not the session's


def test_five_wrong_pins_make_this_browser_wait_even_with_the_right_pin(site, browser, clock):
    for _ in range(limits.SIGNIN_PAIR_TRIES):
        browser.post(
            "/signin", {"phone": site.buyer.phone, "secret": "000000"}, from_page="/signin"
        )
    response = browser.post(
        "/signin", {"phone": site.buyer.phone, "secret": site.buyer.pin}, from_page="/signin"
    )
    assert response.status_code == 429
    assert "locked" in response.text
    clock.advance(limits.SIGNIN_PAIR_FIRST_WAIT_S)
    assert browser.sign_in(site.buyer).status_code == 303


def test_sign_out_ends_the_session_on_the_server(site, browser):
    browser.sign_in(site.merchant)
    secret = browser.http.cookies.get("tdh_session")
    assert logins.viewer(site.platform, secret) is not None
    browser.get("/m")
    response = browser.post("/signout", {})
    assert response.status_code == 303
    assert logins.viewer(site.platform, secret) is None
    replay = httpx.Client(
        base_url=str(browser.http.base_url), timeout=30, cookies={"tdh_session": secret}
    )
    assert replay.get("/m").status_code == 303  # the old cookie signs nobody in
    replay.close()


def test_signed_out_pages_redirect_to_sign_in_with_the_way_back(browser, site):
    response = browser.get("/m/orders")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/m/orders"


@pytest.mark.parametrize("path", ["/m", "/op"])
def test_a_buyer_finds_nothing_on_merchant_or_operator_pages(site, browser, path):
    browser.sign_in(site.buyer)
    response = browser.get(path)
    assert response.status_code == 404
    assert "Not found" in response.text


def test_the_language_switch_and_the_browser_language(site, browser):
    browser.get("/signin")
    response = browser.post("/lang", {"lang": "fil", "next": "/signin"})
    assert response.headers["location"] == "/signin"
    page = browser.get("/signin")
    assert "Mag-sign in" in page.text and '<html lang="fil">' in page.text
    browser.post("/lang", {"lang": "en", "next": "/"})
    assert "Mag-sign in" not in browser.get("/signin").text
    fresh = httpx.Client(base_url=str(browser.http.base_url), timeout=30)
    assert "Mag-sign in" in fresh.get("/signin", headers={"Accept-Language": "fil-PH"}).text
    fresh.close()


def test_the_api_keeps_its_json_errors_and_pages_get_pages(browser):
    api = browser.get("/v1/no_such_thing")
    assert api.status_code == 404 and api.json()["error"]["code"] == "route_missing"
    unauthorised = browser.get("/v1/parties")
    assert unauthorised.status_code == 401 and "error" in unauthorised.json()
    page = browser.get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "There is no such page" in page.text


def test_the_stylesheet_is_kept_for_a_year_and_a_new_version_is_a_new_address(browser):
    page = browser.get("/signin").text
    assert "/static/app.css?v=" in page
    css = browser.get("/static/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "immutable" in css.headers["cache-control"]
    assert browser.get("/static/nothing.css").status_code == 404


def test_too_many_tries_answer_429_with_retry_after_alike_for_known_and_unknown_numbers(
    site, browser, second_browser
):
    """Issue 17: the web form throttles as the service does, and its throttled answer is the
    same page, status and wait whether the number has a login or not."""
    answers = []
    for who, phone in ((browser, site.merchant.phone), (second_browser, "09179998888")):
        for n in range(limits.SIGNIN_PAIR_TRIES):
            tried = who.post(
                "/signin", {"phone": phone, "secret": f"97{n:04d}"}, from_page="/signin"
            )
            assert tried.status_code == 401
        answers.append(
            who.post("/signin", {"phone": phone, "secret": "975319"}, from_page="/signin")
        )
    for answer in answers:
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == str(limits.SIGNIN_PAIR_FIRST_WAIT_S)
        assert "Too many wrong tries." in answer.text
        assert "tdh_session" not in answer.headers.get("set-cookie", "")


def test_signing_in_marks_the_browser_with_an_owner_cookie(site, browser):
    cookie = browser.sign_in(site.merchant).headers["set-cookie"]
    assert "tdh_device=" in cookie and "max-age=31536000" in cookie.lower()
    assert "httponly" in cookie.lower()
