"""Issue 17, item 5: security headers on every answer, the docs page from the package, and
405 answers that name every method of the path. Through the whole app (pages and API)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tindahan.api import hardening
from tindahan.web import render
from tindahan.web.app import create_app

#: Generous: the shared test machine can be slow to answer, and no test here is about time.
TIMEOUT = 30

BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}
#: One of each kind of answer: API JSON (an error, the health check, a missing route),
#: the OpenAPI document, the docs page and its assets, a page, a page's 404.
PATHS = [
    "/v1/payments",
    "/health",
    "/v1/no-such-route",
    "/openapi.json",
    "/docs",
    "/docs/assets/swagger-ui-bundle.js",
    "/signin",
    "/no-such-page",
]


def test_every_answer_carries_the_security_headers(web: str) -> None:
    for path in PATHS:
        answer = httpx.get(web + path, timeout=TIMEOUT)
        for name, value in BASE_HEADERS.items():
            assert answer.headers[name] == value, (path, name)
        assert answer.headers["referrer-policy"] in ("no-referrer", "same-origin")
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "strict-transport-security" not in answer.headers  # plain HTTP, no proxy said
    answer = httpx.post(web + "/v1/payments", content=b"x" * 10_000_000, timeout=TIMEOUT)
    assert answer.status_code == 413 and answer.headers["x-frame-options"] == "DENY"

    assert httpx.get(web + "/openapi.json", timeout=TIMEOUT).headers["content-security-policy"] == (
        hardening.JSON_CSP
    )
    assert (
        httpx.get(web + "/signin", timeout=TIMEOUT).headers["content-security-policy"] == render.CSP
    )
    page = httpx.get(web + "/docs", timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == hardening.DOCS_CSP
    assert "script-src 'self';" in hardening.DOCS_CSP  # no inline script, no CDN
    assert "http" not in page.text  # every asset is a path on this site
    assert "<script>" not in page.text  # no inline script (the CSP would block it)
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "init.js", "favicon.png"):
        answer = httpx.get(f"{web}{hardening.DOCS_ASSETS}/{asset}", timeout=TIMEOUT)
        assert answer.status_code == 200 and answer.content, asset
    assert (
        "/openapi.json" in httpx.get(f"{web}{hardening.DOCS_ASSETS}/init.js", timeout=TIMEOUT).text
    )


def _hsts(platform, base_url: str, paths: list[str]) -> list[str | None]:
    """The HSTS header of each path, asked in process (the scheme is the base URL's).

    Asked on a thread of its own: Playwright's sync API may already run an event loop on this
    worker's thread, where ``asyncio.run`` refuses to start another.
    """

    async def ask() -> list[str | None]:
        transport = httpx.ASGITransport(app=create_app(platform))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            return [(await client.get(p)).headers.get("strict-transport-security") for p in paths]

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, ask()).result()


def test_hsts_over_https_or_behind_a_tls_proxy(platform, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = ["/health", "/v1/payments", "/docs", "/signin"]
    assert _hsts(platform, "https://tindahan.test", paths) == [hardening.HSTS] * 4
    assert _hsts(platform, "http://tindahan.test", paths) == [None] * 4
    monkeypatch.setenv(hardening.PROXY_ENV, "1")
    assert _hsts(platform, "http://tindahan.test", paths) == [hardening.HSTS] * 4


def test_405_lists_every_method_of_the_path(web: str) -> None:
    for method, path in [
        ("DELETE", "/v1/payments"),  # two routes: list and create
        ("PUT", "/v1/webhook_endpoints"),
        ("PUT", "/signin"),  # a page
    ]:
        answer = httpx.request(method, web + path, timeout=TIMEOUT)
        assert answer.status_code == 405
        allowed = {m.strip() for m in answer.headers["allow"].split(",")} - {"HEAD"}
        assert allowed == {"GET", "POST"}, path
