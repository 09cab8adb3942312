"""``tindahan logins create`` and the demo's sign-ins."""

from __future__ import annotations

import base64

import pytest
import typer
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tindahan.cli import logins as logins_cli
from tindahan.services.payments import wallets
from tindahan.services.platform import keys, logins
from tindahan.services.seed import demo
from tindahan.services.unit import Platform
from tindahan.store.commerce_tables import products, storefronts
from tindahan.store.database import connect
from tindahan.store.lending_tables import loan_offers
from tindahan.store.payment_tables import api_keys
from tindahan.store.vault import Vault
from tindahan.store.web_tables import logins as login_table

runner = CliRunner()
# As ``cli/app.py`` wires it: ``tindahan logins …``.
tindahan = typer.Typer()
tindahan.add_typer(logins_cli.app, name="logins")


@pytest.fixture(autouse=True)
def data_key(monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)


def vault() -> Vault:
    return Vault(base64.urlsafe_b64decode(TEST_DATA_KEY))


def invoke(*args: str, input: str | None = None):
    return runner.invoke(tindahan, ["logins", *args], input=input)


def test_logins_create_asks_the_pin_twice_hidden_and_never_prints_it(db, db_url):
    pin = "240816"
    made = invoke(
        "create",
        "--operator",
        "--name",
        "Ana",
        "--phone",
        "0917 000 0009",
        "--db",
        db_url,
        input=f"{pin}\n{pin}\n",
    )
    assert made.exit_code == 0, made.output
    assert pin not in made.output
    assert "login lgn_" in made.stdout and "phone ending 0009" in made.stdout
    platform = Platform(db, vault())
    _, viewer, _ = logins.sign_in(platform, "+639170000009", pin)
    assert viewer.operator and viewer.name == "Ana"
    assert viewer.login_id in made.stdout

    mismatch = invoke(
        "create",
        "--operator",
        "--name",
        "Ben",
        "--phone",
        "+639170000010",
        "--db",
        db_url,
        input="240816\n240817\n240816\n240816\n",
    )
    assert mismatch.exit_code == 0, mismatch.output  # asked again after the mismatch
    logins.sign_in(platform, "+639170000010", "240816")


def test_logins_create_from_stdin_and_its_clean_refusals(db, db_url):
    from tests.logins.conftest import new_party

    platform = Platform(db, vault())

    from tindahan.services.platform import chart

    chart.ensure_operator_accounts(platform)
    shop = new_party(platform, "merchant", "Kusina ni Lola")
    args = ("create", "--party", shop, "--phone", "+639170000011", "--db", db_url)
    made = invoke(*args, "--secret-stdin", input="a long passphrase\n")
    assert made.exit_code == 0, made.output
    assert "Kusina ni Lola" in made.stdout and "passphrase" not in made.output
    assert logins.sign_in(platform, "+639170000011", "a long passphrase")[1].party_id == shop

    again = invoke(*args, "--secret-stdin", input="a long passphrase\n")
    assert again.exit_code == 2 and "(login_exists)" in again.output
    weak = invoke("create", "--operator", "--name", "X", "--phone", "+639170000012",
                  "--db", db_url, "--secret-stdin", input="123456\n")  # fmt: skip
    assert weak.exit_code == 2 and "(secret_weak)" in weak.output
    assert "Traceback" not in weak.output
    both = invoke("create", "--operator", "--party", shop, "--phone", "+639170000012",
                  "--db", db_url, "--secret-stdin", input="240816\n")  # fmt: skip
    assert both.exit_code == 2 and "exactly one of" in both.output


def test_seed_logins_on_the_demo_signs_everyone_in_and_is_idempotent(
    sqlite_url, seeded_demo, merchant_model
):
    seeded_demo.copy_to(sqlite_url)  # ``demo seed``, run once per worker (its exit 0 checked)
    with connect(sqlite_url) as database:
        platform = Platform(database, vault())
        lent = demo.seed_lending(platform, merchant_model)
        assert "offer" in lent
        made = demo.seed_logins(platform)
        assert [m["who"] for m in made] == [
            "operator",
            "merchant with a loan offer",
            "merchant",
            "online seller",
            "buyer",
        ]
        assert len({m["phone"] for m in made}) == len(made)
        kinds = {}
        for entry in made:
            assert logins.check_secret(entry["pin"]) == entry["pin"]
            _, viewer, _ = logins.sign_in(platform, entry["phone"], entry["pin"])
            assert viewer.name == entry["name"]
            kinds[entry["who"]] = viewer
        assert kinds["operator"].operator and kinds["operator"].name == "Operator (demo)"
        assert kinds["merchant"].name == "Aling Nena's Sari-Sari Store"
        assert kinds["online seller"].name == "Ate Joy's Ukay-Ukay"
        assert kinds["buyer"].name == "Juan dela Cruz" and kinds["buyer"].kind == "customer"
        shop = kinds["merchant with a loan offer"]
        assert shop.kind == "merchant" and shop.name not in demo.NAMES

        def main_balance(party_id: str) -> int:
            found = platform.run(
                lambda u: wallets.list_wallets(u, demo.OPERATOR, 10, None, party_id)
            )["data"]
            return next(w["balance_minor"] for w in found if w["kind"] == "main")

        def count(query):
            return platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False)

        store = select(storefronts.c.id).where(storefronts.c.merchant_id == shop.party_id)
        store_id = count(store)
        assert count(select(storefronts.c.slug).where(storefronts.c.id == store_id)).startswith(
            "tindahan-demo-"
        )
        in_stock = (
            select(func.count()).select_from(products).where(products.c.storefront_id == store_id)
        )
        assert count(in_stock) == 3
        assert main_balance(shop.party_id) >= 200_000
        assert main_balance(kinds["buyer"].party_id) >= 500_000
        balances = (main_balance(shop.party_id), main_balance(kinds["buyer"].party_id))

        assert demo.seed_logins(platform) == made  # again: nothing new
        assert count(select(func.count()).select_from(login_table)) == len(made)
        assert (main_balance(shop.party_id), main_balance(kinds["buyer"].party_id)) == balances

        # The offer closes (accepted, expired): the banner still names whoever signs in
        # with the phone it prints, read back from the logins.
        closing = update(loan_offers).where(loan_offers.c.status == "open")
        platform.run(lambda u: u.conn.execute(closing.values(status="expired")))
        assert demo.seed_logins(platform) == made

        # The same keys at every start, working, each for the party beside it.
        printed = demo.demo_keys(platform, made)
        assert demo.demo_keys(platform, made) == printed
        assert set(printed) == {"operator", "merchant", "merchant with a loan offer"}
        assert all(secret.startswith("tk_test_") for secret in printed.values())
        assert keys.authenticate(platform, printed["operator"]).operator
        assert (
            keys.authenticate(platform, printed["merchant"]).party_id == kinds["merchant"].party_id
        )
        offer_key = keys.authenticate(platform, printed["merchant with a loan offer"])
        assert offer_key.party_id == shop.party_id
        assert count(select(func.count()).select_from(api_keys)) == 3  # stored once
