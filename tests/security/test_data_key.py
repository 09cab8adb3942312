"""Issue 17, item 4: the data key is checked at start, and rotated without losing anything.

The attacks (and accidents), as found: a live database started without the key (a new one
was made under ./var), or with another key (it started, then answered 500 on personal data
and let a phone number register twice because the blind index changed)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tindahan.cli.app import app as cli
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import addresses, shipments
from tindahan.services.platform import datakey, logins, parties, sms, webhooks
from tindahan.services.rails import bank_accounts, participants
from tindahan.services.unit import Platform
from tindahan.store.database import Database
from tindahan.store.payment_tables import settings
from tindahan.store.rails_tables import bank_accounts as bank_account_table
from tindahan.store.tables import metadata
from tindahan.store.vault import ENV_KEY, Vault
from tindahan.store.web_tables import signin_throttles

OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))
PHONE = "+639171234567"


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _vault(text: str) -> Vault:
    return Vault(base64.urlsafe_b64decode(text))


def _seed(platform: Platform) -> str:
    """Personal data in every protected field: a customer's phone and ID number, a login,
    a webhook secret, a courier's secret, a bank account's number and name. Returns the
    customer's id."""
    new = parties.NewParty("customer", "Juan dela Cruz", phone=PHONE, id_number="1234-5678-9012")
    made = platform.run(lambda u: parties.create(u, OPERATOR, new))
    platform.run(
        lambda u: logins.create(u, OPERATOR, party_id=made["id"], phone=PHONE, secret="240816")
    )
    platform.run(lambda u: webhooks.create_endpoint(u, OPERATOR, "https://8.8.8.8/h", ["*"], None))
    platform.run(lambda u: shipments.register_courier(u, OPERATOR, "LBC Express"))
    participants.ensure_seeded(platform)
    account = bank_accounts.NewBankAccount("BDO", "001234567890", "Juan dela Cruz", made["id"])
    platform.run(lambda u: bank_accounts.register(u, OPERATOR, account))
    platform.run(lambda u: addresses.add(u, OPERATOR, HOME, made["id"]))
    platform.run(lambda u: sms.queue_to_number(u, PHONE, "fil", "otp", {"code": "123456"}))
    return str(made["id"])


HOME = {
    "recipient": "Juan dela Cruz",
    "phone": "0917 123 4567",
    "street": "12 Sampaguita St.",
    "barangay": "Malanday",
    "city": "Marikina",
    "province": "Metro Manila",
    "postal_code": "1805",
    "notes": "",
}


def test_every_encrypted_column_is_rotated():
    """A sealed column missing from ``datakey.FIELDS`` stays under the old key after a
    rotation and can never be read again: every ``*_cipher`` column must be listed."""
    listed = {(field.table.name, field.column) for field in datakey.FIELDS}
    sealed = {
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_cipher")
    }
    assert sealed - listed == set()


def _fingerprint(db: Database) -> str | None:
    query = select(settings.c.value).where(settings.c.key == datakey.FINGERPRINT)
    return db.transact(lambda c: c.execute(query).scalar_one_or_none(), write=False)


def _throttles(db: Database) -> int:
    query = select(signin_throttles.c.key)
    return len(db.transact(lambda c: list(c.execute(query)), write=False))


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest: these tests are about the data key, not the PIN's cost."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(logins, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key in the environment; the development key file (absent) under tmp_path."""
    monkeypatch.delenv(ENV_KEY, raising=False)
    return tmp_path / "var" / "data.key"


def test_the_first_key_is_fingerprinted_and_another_key_is_refused_at_start(
    db: Database, monkeypatch: pytest.MonkeyPatch, no_key: Path
) -> None:
    first, other = _key(), _key()
    monkeypatch.setenv(ENV_KEY, first)
    vault = datakey.open_vault(db, no_key)
    assert _fingerprint(db) == vault.fingerprint() != first  # a fingerprint, never the key
    assert first not in str(_fingerprint(db))
    _seed(Platform(db, vault))
    assert datakey.open_vault(db, no_key).key == vault.key  # the same key starts again

    monkeypatch.setenv(ENV_KEY, other)
    with pytest.raises(datakey.DataKeyError, match="is not the key this database"):
        datakey.open_vault(db, no_key)
    assert _fingerprint(db) == vault.fingerprint()  # unchanged


def test_a_missing_key_on_a_database_in_use_is_refused_and_no_key_is_made(
    db: Database, monkeypatch: pytest.MonkeyPatch, no_key: Path
) -> None:
    monkeypatch.setenv(ENV_KEY, _key())
    _seed(Platform(db, datakey.open_vault(db, no_key)))
    monkeypatch.delenv(ENV_KEY)
    with pytest.raises(datakey.DataKeyError, match=f"{ENV_KEY} is not set"):
        datakey.open_vault(db, no_key)
    assert not no_key.exists()


def test_an_empty_database_gets_a_development_key(db: Database, no_key: Path) -> None:
    vault = datakey.open_vault(db, no_key)  # ``make run`` on a fresh checkout
    assert no_key.is_file() and _fingerprint(db) == vault.fingerprint()
    assert datakey.open_vault(db, no_key).key == vault.key


def test_a_database_from_before_fingerprints_is_checked_by_opening_its_data(
    db: Database, monkeypatch: pytest.MonkeyPatch, no_key: Path
) -> None:
    right = _key()
    _seed(Platform(db, _vault(right)))  # written without open_vault: no fingerprint yet
    assert _fingerprint(db) is None
    monkeypatch.setenv(ENV_KEY, _key())
    with pytest.raises(datakey.DataKeyError, match="does not open"):
        datakey.open_vault(db, no_key)
    assert _fingerprint(db) is None
    monkeypatch.setenv(ENV_KEY, right)
    assert _fingerprint(db) is None
    assert datakey.open_vault(db, no_key).fingerprint() == _fingerprint(db)


def test_rotation_re_encrypts_everything_and_recomputes_the_blind_indexes(
    db: Database, monkeypatch: pytest.MonkeyPatch, no_key: Path
) -> None:
    old, new = _key(), _key()
    monkeypatch.setenv(ENV_KEY, old)
    customer = _seed(Platform(db, datakey.open_vault(db, no_key)))
    with pytest.raises(RefusalError):  # leaves sign-in counters keyed under the old key
        logins.sign_in(Platform(db, _vault(old)), PHONE, "975318", "203.0.113.5")
    assert _throttles(db) > 0

    done = datakey.rotate(db, _vault(old), _vault(new))
    assert _throttles(db) == 0  # they would match nothing under the new key
    assert (done.values, done.indexes, done.already) == (10, 3, False)
    assert datakey.rotate(db, _vault(old), _vault(new)).already  # run again: nothing to do

    monkeypatch.setenv(ENV_KEY, old)
    with pytest.raises(datakey.DataKeyError):
        datakey.open_vault(db, no_key)
    monkeypatch.setenv(ENV_KEY, new)
    platform = Platform(db, datakey.open_vault(db, no_key))
    shown = platform.run(lambda u: parties.get(u, OPERATOR, customer))
    assert shown["phone_last4"] == PHONE[-4:]  # opens under the new key
    _session, viewer, _ = logins.sign_in(platform, PHONE, "240816")  # the login index moved
    assert viewer.party_id == customer
    again = parties.NewParty("customer", "Someone Else", phone=PHONE)
    with pytest.raises(RefusalError) as taken:  # one phone number, one party, still
        platform.run(lambda u: parties.create(u, OPERATOR, again))
    assert taken.value.code == "phone_taken"
    again_account = bank_accounts.NewBankAccount("BDO", "001234567890", "Juan", customer)
    same = platform.run(lambda u: bank_accounts.register(u, OPERATOR, again_account))
    assert same["account_number_masked"].endswith("7890")  # opens under the new key
    ids = db.transact(lambda c: list(c.execute(select(bank_account_table.c.id))), write=False)
    assert [row[0] for row in ids] == [same["id"]]  # found again by its recomputed index
    book = platform.run(lambda u: addresses.list_addresses(u, OPERATOR, 10, party_id=customer))
    assert book["data"][0]["street"] == HOME["street"]  # the address book too


def test_an_interrupted_rotation_changes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch, no_key: Path
) -> None:
    old, new = _key(), _key()
    monkeypatch.setenv(ENV_KEY, old)
    customer = _seed(Platform(db, datakey.open_vault(db, no_key)))
    before = _fingerprint(db)
    sealed = 0
    real_seal = Vault.seal

    def crash_after_three(self: Vault, plaintext: str, context: str) -> str:
        nonlocal sealed
        sealed += 1
        if sealed > 3:
            raise OSError("the machine went away")
        return real_seal(self, plaintext, context)

    monkeypatch.setattr(Vault, "seal", crash_after_three)
    with pytest.raises(OSError):
        datakey.rotate(db, _vault(old), _vault(new))
    monkeypatch.setattr(Vault, "seal", real_seal)
    assert _fingerprint(db) == before
    platform = Platform(db, datakey.open_vault(db, no_key))  # the old key still opens all
    assert platform.run(lambda u: parties.get(u, OPERATOR, customer))["phone_last4"] == "4567"
    assert datakey.rotate(db, _vault(old), _vault(new)).values == 10  # and it runs again


def test_the_commands_refuse_a_wrong_key_and_rotate_from_the_environment(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # a development key, if one were made, would land here
    url = db.url.render_as_string(hide_password=False)
    old, new = _key(), _key()
    runner = CliRunner()
    monkeypatch.setenv(ENV_KEY, old)
    _seed(Platform(db, datakey.open_vault(db)))

    monkeypatch.setenv(ENV_KEY, new)
    for command in (["worker", "--once"], ["webhooks", "replay"], ["db", "upgrade"]):
        refused = runner.invoke(cli, [*command, "--db", url])
        assert refused.exit_code == 2, refused.output
        assert "is not the key this database" in refused.output
    monkeypatch.delenv(ENV_KEY)
    refused = runner.invoke(cli, ["worker", "--once", "--db", url])
    assert refused.exit_code == 2 and f"{ENV_KEY} is not set" in refused.output
    assert not (tmp_path / "var").exists()

    monkeypatch.setenv(ENV_KEY, old)
    missing = runner.invoke(cli, ["keys", "rotate-data-key", "--db", url])
    assert missing.exit_code == 2 and datakey.NEW_KEY_ENV in missing.output
    monkeypatch.setenv(datakey.NEW_KEY_ENV, new)
    rotated = runner.invoke(cli, ["keys", "rotate-data-key", "--db", url])
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 10 values, recomputed 3 blind indexes" in rotated.output
    monkeypatch.setenv(ENV_KEY, new)
    assert runner.invoke(cli, ["worker", "--once", "--db", url]).exit_code == 0
