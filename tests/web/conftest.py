"""Web fixtures: the whole app (pages and API) under the session's uvicorn server, a small
barangay with people who can sign in, an httpx client that behaves like a browser (cookies,
the CSRF token read off the page), and Playwright driving Debian's Chromium. The ``site`` is
built once per worker (per database kind and clock) and each test gets a copy of its
database (tests/snapshots.py).

httpx does not send ``Secure`` cookies over plain HTTP (browsers do, on 127.0.0.1), so the
httpx tests set ``TINDAHAN_WEB_INSECURE_COOKIES=1``; the browser tests run with the flag on.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import apps, snapshots
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.commerce import catalog
from tindahan.services.payments import cash, wallets
from tindahan.services.platform import chart, keys, logins, parties
from tindahan.services.unit import Platform
from tindahan.store.database import Database
from tindahan.store.vault import Vault

TEST_DATA_KEY = base64.urlsafe_b64encode(b"w" * 32).decode()
OPERATOR = Caller("test", None, frozenset(DEFAULT_SCOPES))
CHROMIUM = os.environ.get("TINDAHAN_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("TINDAHAN_SCREENSHOTS", "test-artifacts/screenshots"))
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch) -> None:
    """Argon2 at its production cost takes about 0.4 s a hash on this machine, and the pages'
    tests make and check dozens: here it runs at its cheapest settings. The hash is still
    Argon2id (its parameters travel in the hash), and tests/logins checks the real cost."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(logins, "_hasher", cheap)


@pytest.fixture
def vault() -> Vault:
    return Vault(base64.urlsafe_b64decode(TEST_DATA_KEY))


def _platform(db: Database, vault: Vault) -> Platform:
    made = Platform(db, vault)
    chart.ensure_operator_accounts(made)
    keys.set_environment(made, "test")
    return made


@pytest.fixture
def platform(db, vault) -> Platform:
    return _platform(db, vault)


@pytest.fixture
def web(platform, shared_server, monkeypatch) -> Iterator[str]:
    """The base URL of the app, pages and API, for this test's platform."""
    monkeypatch.setenv("TINDAHAN_WEB_INSECURE_COOKIES", "1")
    with shared_server.serving(apps.web_app(platform)) as base_url:
        yield base_url


@dataclass
class Person:
    name: str
    phone: str
    pin: str
    party_id: str | None
    wallets: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    platform: Platform
    operator: Person
    merchant: Person
    other_merchant: Person
    buyer: Person
    other_buyer: Person
    storefront: dict[str, Any]
    products: list[dict[str, Any]]
    other_storefront: dict[str, Any]

    def balance(self, person: Person, kind: str = "main") -> int:
        wallet = self.platform.run(
            lambda u: wallets.get(u, OPERATOR, person.wallets[kind]), write=False
        )
        return int(wallet["balance_minor"])


def _person(platform: Platform, new: parties.NewParty | None, phone: str, pin: str) -> Person:
    if new is None:
        platform.run(
            lambda u: logins.create(
                u, None, party_id=None, phone=phone, secret=pin, name="Ops Staff"
            )
        )
        return Person("Ops Staff", phone, pin, None)
    made = platform.run(lambda u: parties.create(u, OPERATOR, new))
    platform.run(lambda u: logins.create(u, None, party_id=made["id"], phone=phone, secret=pin))
    found = platform.run(
        lambda u: wallets.list_wallets(u, OPERATOR, 10, None, made["id"]), write=False
    )["data"]
    return Person(new.name, phone, pin, made["id"], {w["kind"]: w["id"] for w in found})


def _shop(platform: Platform, owner: Person, slug: str, name: str) -> dict[str, Any]:
    who = Caller("test", owner.party_id, frozenset(DEFAULT_SCOPES))
    return platform.run(
        lambda u: catalog.create_storefront(
            u,
            who,
            slug=slug,
            name=name,
            description="Sari-sari goods, delivered in Marikina.",
            shipping_fee_minor=5_000,
        )
    )


def build_site(platform: Platform) -> Site:
    place = {"city": "Marikina", "province": "Metro Manila"}
    operator = _person(platform, None, "09170000001", "135792")
    merchant = _person(
        platform,
        parties.NewParty("merchant", "Aling Nena's Store", mcc="5411", **place),
        "09170000002",
        "246813",
    )
    other = _person(
        platform,
        parties.NewParty("merchant", "Mang Tonyo's Hardware", mcc="5251", **place),
        "09170000003",
        "975318",
    )
    buyer = _person(
        platform,
        parties.NewParty("customer", "Juan dela Cruz", tier="full"),
        "09170000004",
        "864209",
    )
    other_buyer = _person(
        platform, parties.NewParty("customer", "Maria Santos", tier="full"), "09170000005", "531864"
    )
    for person in (buyer, other_buyer):
        wallet = person.wallets["main"]
        platform.run(lambda u, w=wallet: cash.fund(u, OPERATOR, w, 1_000_000, "PHP", "TEST"))
    store = _shop(platform, merchant, "nena-store", "Aling Nena's Store")
    owner = Caller("test", merchant.party_id, frozenset(DEFAULT_SCOPES))
    made = []
    for new in (
        catalog.NewProduct("Coffee 3-in-1, 10 sachets", 6_500, stock=30),
        catalog.NewProduct(
            "T-shirt, cotton",
            25_000,
            variants=[catalog.NewVariant("M", 5), catalog.NewVariant("L", 2)],
        ),
    ):
        made.append(
            platform.run(
                lambda u, n=new: catalog.create_product(u, owner, storefront_id=store["id"], new=n)
            )
        )
    other_store = _shop(platform, other, "tonyo-hardware", "Mang Tonyo's Hardware")
    return Site(platform, operator, merchant, other, buyer, other_buyer, store, made, other_store)


@dataclass(frozen=True)
class SavedSite:
    """What a snapshot of the site hands each test: everything of ``Site`` but its platform."""

    people: tuple[Person, ...]  # operator, merchant, other merchant, buyer, other buyer
    storefront: dict[str, Any]
    products: list[dict[str, Any]]
    other_storefront: dict[str, Any]


def _snapshot_site(db: Database, _fixture: Callable[[str], Any]) -> SavedSite:
    made = build_site(_platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY))))
    people = (made.operator, made.merchant, made.other_merchant, made.buyer, made.other_buyer)
    return SavedSite(people, made.storefront, made.products, made.other_storefront)


snapshots.register(
    snapshots.Recipe(
        "site", {name: __name__ for name in ("site", "platform", "vault")}, _snapshot_site
    )
)


@pytest.fixture
def site(request, platform) -> Site:
    saved = snapshots.restored(request, "site")
    if saved is None:
        return build_site(platform)
    operator, merchant, other, buyer, other_buyer = saved.people
    return Site(
        platform,
        operator,
        merchant,
        other,
        buyer,
        other_buyer,
        saved.storefront,
        saved.products,
        saved.other_storefront,
    )


class Browser:
    """httpx with a browser's habits: cookies kept, forms sent with the page's CSRF token
    (and idempotency key, when the form has one), redirects not followed unless asked."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
        self.last = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        if "text/html" in response.headers.get("content-type", ""):
            self.last = response.text
        return response

    def token(self, page: str | None = None) -> str:
        match = _TOKEN.search(page if page is not None else self.last)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def key(self, page: str | None = None) -> str:
        match = _KEY.search(page if page is not None else self.last)
        assert match, "no idempotency key on the page"
        return match.group(1)

    def post(
        self, path: str, data: dict[str, str], *, from_page: str | None = None
    ) -> httpx.Response:
        """POST ``data`` with the CSRF token of ``from_page`` (fetched first), or of the last
        page seen."""
        if from_page is not None:
            self.get(from_page)
        body = {"csrf_token": self.token(), **data}
        response = self.http.post(path, data=body)
        if "text/html" in response.headers.get("content-type", ""):
            self.last = response.text
        return response

    def sign_in(self, person: Person) -> httpx.Response:
        response = self.post(
            "/signin", {"phone": person.phone, "secret": person.pin}, from_page="/signin"
        )
        assert response.status_code == 303, response.text
        return response

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser(web) -> Iterator[Browser]:
    made = Browser(web)
    yield made
    made.close()


@pytest.fixture
def second_browser(web) -> Iterator[Browser]:
    made = Browser(web)
    yield made
    made.close()


# --- a real browser ------------------------------------------------------------------------
def chromium_missing() -> str | None:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        return (
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium; "
            ".ci/run does) or set TINDAHAN_CHROMIUM to a Chromium binary"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


class Pages:
    """New browser contexts at a phone's width (360 × 800) on one site, each a separate
    person (its own cookies); all closed by ``close``. ``page.base`` is the site's URL."""

    def __init__(self, chromium: Any, base_url: str) -> None:
        self.chromium = chromium
        self.base_url = base_url
        self.contexts: list[Any] = []

    def __call__(self) -> Any:
        context = self.chromium.new_context(viewport={"width": 360, "height": 800}, locale="en-PH")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.base = self.base_url
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def sign_in_page(page: Any, phone: str, pin: str) -> None:
    """Sign in as a person would: the form's labels, the button."""
    page.goto(page.base + "/signin")
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_label("PIN or password").fill(pin)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> Path:
    """Save the page as ``<name>-<width>.png`` under the artifacts folder."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
