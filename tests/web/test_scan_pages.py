"""Scan to pay (issue 21, item 6) through HTTP on SQLite and PostgreSQL: a photo of a
shop's static QR Ph code decoded on the server, the shop's name and an amount box, the PIN,
paid once, and the receipt with its short reference; a payment request's code pays the
request; and the bad pictures refused clearly with nothing paid — text that is not an image,
an SVG with a script, a picture with no code, a decompression bomb (refused from its
header) — and a code from another institution. One journey in Chromium at 360 px lives in
``test_browser.py``."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from tests.web.conftest import OPERATOR, Browser, Site
from tests.web.test_buyer_pages import make_request
from tests.web.test_pin_pages import stale
from tindahan import qr
from tindahan.services.qr import codes
from tindahan.services.qr import pay as qrpay


def static_code(site: Site) -> str:
    found = site.platform.run(
        lambda u: qrpay.merchant_code(u, OPERATOR, str(site.merchant.party_id)), write=False
    )
    return str(found["payload"])


def send_picture(browser: Browser, content: bytes, name: str, kind: str) -> Any:
    browser.get("/b/scan")
    files = {"image": (name, content, kind)}
    response = browser.http.post(
        "/b/scan", data={"csrf_token": browser.token(), "payload": ""}, files=files
    )
    browser.last = response.text
    return response


def bomb() -> bytes:
    """A PNG whose header says 60,000 × 60,000 pixels: tiny on the wire, 3.6 GB unpacked."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_photo_of_a_static_code_pays_the_amount_typed_with_the_pin(browser, site, clock):
    browser.sign_in(site.buyer)
    assert 'href="/b/scan"' in browser.get("/b").text
    stale(clock)
    shown = send_picture(browser, codes.png(static_code(site)), "poster.png", "image/png")
    assert shown.status_code == 200, shown.text
    assert "Pay Aling Nena&#39;s Store" in shown.text and 'name="amount"' in shown.text
    assert 'name="pin"' in shown.text
    before = site.balance(site.buyer)
    payload = static_code(site)
    wrong = browser.post(
        "/b/scan/pay",
        {"payload": payload, "amount": "50", "pin": "918273", "idempotency_key": browser.key()},
    )
    assert wrong.status_code == 400 and "Wrong PIN" in wrong.text
    assert site.balance(site.buyer) == before
    key = browser.key()
    sent = {"payload": payload, "amount": "50.00", "pin": site.buyer.pin, "idempotency_key": key}
    paid = browser.post("/b/scan/pay", sent)
    assert paid.status_code == 303 and paid.headers["location"].startswith("/b/payments/pay_")
    again = browser.post("/b/scan/pay", {**sent, "pin": site.buyer.pin})  # a double tap
    assert again.headers["location"] == paid.headers["location"]
    assert site.balance(site.buyer) == before - 5_000
    receipt = browser.get(paid.headers["location"])
    assert "You paid ₱50.00 to Aling Nena&#39;s Store." in receipt.text
    assert 'class="ref-big"' in receipt.text


def test_a_requests_code_pays_the_request(browser, site):
    asked = make_request(site, 2_500)
    payload = site.platform.run(
        lambda u: qrpay.request_code(u, OPERATOR, asked["id"]), write=False
    )["payload"]
    browser.sign_in(site.buyer)
    browser.get("/b/scan")
    shown = browser.post("/b/scan", {"payload": payload})
    assert shown.status_code == 200 and "₱25.00" in shown.text
    assert 'name="amount"' not in shown.text  # the code fixes the amount
    paid = browser.post("/b/scan/pay", {"payload": payload, "idempotency_key": browser.key()})
    assert paid.status_code == 303
    assert site.balance(site.buyer) == 1_000_000 - 2_500


def test_bad_pictures_and_foreign_codes_are_refused_and_nothing_moves(browser, site):
    browser.sign_in(site.buyer)
    before = site.balance(site.buyer)
    text = send_picture(browser, b"hello, not a picture", "note.png", "image/png")
    assert text.status_code == 400 and "not a picture we can read" in text.text
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    script = send_picture(browser, svg, "code.svg", "image/svg+xml")
    assert script.status_code == 400 and "not a picture we can read" in script.text
    blank = codes.png("not a payment")[:0] or _blank_png()
    nothing = send_picture(browser, blank, "blank.png", "image/png")
    assert nothing.status_code == 400 and "No QR code could be read" in nothing.text
    huge = send_picture(browser, bomb(), "bomb.png", "image/png")
    assert huge.status_code == 400 and "too large" in huge.text
    other = qr.encode(
        qr.QrDescription(
            accounts=(qr.AccountTemplate("28", "ph.ppmi.p2m", {"01": "OTHRPHM1XXX", "03": "x"}),),
            mcc="5411",
            name="Other Bank Shop",
            city="Manila",
        )
    )
    browser.get("/b/scan")
    foreign = browser.post("/b/scan", {"payload": other})
    assert foreign.status_code == 400 and "another bank or e-wallet" in foreign.text
    empty = browser.post("/b/scan", {"payload": ""}, from_page="/b/scan")
    assert empty.status_code == 400 and "paste its text" in empty.text
    assert site.balance(site.buyer) == before


def _blank_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (200, 200), 255).save(out, format="PNG")
    return out.getvalue()
