"""The data key, checked before anything reads personal data, and rotated in one go.

Why: a server started without ``TINDAHAN_DATA_KEY`` used to make itself a new key under
``./var/`` (relative to wherever it was started), and one started with another key ran
fine until it answered 500 on every read of a phone number, and let a number register twice
(the blind index changed with the key). So:

* the database keeps a **fingerprint** of its key (``Vault.fingerprint``: an HMAC of a
  constant under the key; the key itself never enters the database), written the first
  time a key is used on it;
* ``open_vault`` (what ``serve``, the server processes, ``worker`` and every command that
  reads personal data call) refuses to start, with a message saying what to do, when the
  key does not match the fingerprint, or when no key is configured and the database already
  holds personal data (a new development key is made only for a database with none);
* a database from before fingerprints, holding data, gets its fingerprint once one stored
  value has been seen to open under the key given;
* ``rotate`` re-encrypts every protected field and recomputes every blind index under a new
  key, then records the new fingerprint, **in one transaction**: interrupted, nothing has
  changed and it is simply run again; finished, running it again says so and does nothing.
  Sign-in throttling counters (keyed by blind indexes) are cleared: they last minutes.
  Every encrypted column is listed in ``FIELDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Table, delete, insert, select, update

from tindahan.store.commerce_tables import addresses, couriers, order_addresses
from tindahan.store.database import Database
from tindahan.store.payment_tables import parties, settings, sms_messages, webhook_endpoints
from tindahan.store.rails_tables import bank_accounts, bank_transfers, inbound_transfers
from tindahan.store.vault import DEV_KEY_FILE, ENV_KEY, Vault, VaultError
from tindahan.store.web_tables import logins, signin_throttles

FINGERPRINT = "data_key_fingerprint"
NEW_KEY_ENV = "TINDAHAN_NEW_DATA_KEY"


class DataKeyError(VaultError):
    """The data key is missing for a database that needs it, or is not its key."""


def _plain(_row: Any, plain: str) -> str:
    return plain


@dataclass(frozen=True)
class Field:
    """One encrypted column: its table, the column, how its context names the row, and
    the blind index column kept beside it (if any), with what that index is taken of."""

    table: Table
    column: str
    context: Callable[[str], str]
    index: str | None = None
    indexed: Callable[[Any, str], str] = _plain
    #: The row's key, which the context names (``order_addresses`` are keyed by order).
    key: str = "id"


#: Every value sealed by the vault, with the context it was sealed under. A new encrypted
#: column belongs here, or rotation would leave it under the old key (a test seeds each).
FIELDS = (
    Field(parties, "phone_cipher", lambda i: f"phone:{i}", "phone_index"),
    Field(parties, "id_number_cipher", lambda i: f"id_number:{i}"),
    Field(logins, "phone_cipher", lambda i: f"login_phone:{i}", "phone_index"),
    Field(webhook_endpoints, "secret_cipher", lambda i: f"webhook:{i}"),
    Field(couriers, "secret_cipher", lambda i: f"courier:{i}"),
    Field(
        bank_accounts,
        "number_cipher",
        lambda i: f"bank_account_number:{i}",
        "number_index",
        lambda row, plain: f"bank_account:{row['participant_code']}:{plain}",
    ),
    Field(bank_accounts, "name_cipher", lambda i: f"bank_account_name:{i}"),
    Field(bank_transfers, "creditor_number_cipher", lambda i: f"qr_creditor_number:{i}"),
    Field(bank_transfers, "creditor_name_cipher", lambda i: f"qr_creditor_name:{i}"),
    Field(inbound_transfers, "debtor_name_cipher", lambda i: f"inbound_debtor_name:{i}"),
    Field(addresses, "address_cipher", lambda i: f"address:{i}"),
    Field(order_addresses, "address_cipher", lambda i: f"order_address:{i}", key="order_id"),
    Field(sms_messages, "to_cipher", lambda i: f"sms-to:{i}"),
    Field(sms_messages, "data_cipher", lambda i: f"sms:{i}"),
    Field(sms_messages, "text_cipher", lambda i: f"sms-text:{i}"),
)


def _column(field: Field, name: str) -> Column[Any]:
    return field.table.c[name]


def _stored(conn: Connection) -> str | None:
    query = select(settings.c.value).where(settings.c.key == FINGERPRINT)
    return conn.execute(query).scalar_one_or_none()


def _sample(conn: Connection) -> tuple[Field, str, str] | None:
    """One sealed value of the database (field, row id, ciphertext), or None: it holds no
    personal data yet."""
    for field in FIELDS:
        cipher = _column(field, field.column)
        query = select(field.table.c[field.key], cipher).where(cipher.is_not(None)).limit(1)
        row = conn.execute(query).first()
        if row is not None:
            return field, row[0], row[1]
    return None


def _mismatch(stored: str, vault: Vault) -> DataKeyError:
    return DataKeyError(
        f"the data key ({ENV_KEY}, fingerprint {vault.fingerprint()[:12]}…) is not the key "
        f"this database's personal data is encrypted with (fingerprint {stored[:12]}…): "
        "start with the right key; to change keys use `tindahan keys rotate-data-key`"
    )


def open_vault(database: Database, dev_key_file: Path = DEV_KEY_FILE) -> Vault:
    """The vault for ``database``, its key checked (see the module's docstring)."""
    vault = Vault.configured(dev_key_file)
    if vault is None:

        def holds_data(conn: Connection) -> bool:
            return _stored(conn) is not None or _sample(conn) is not None

        if database.transact(holds_data, write=False):
            raise DataKeyError(
                f"{ENV_KEY} is not set, and this database already holds personal data "
                f"encrypted under a key: set {ENV_KEY} to that key (no new key is made for "
                "a database in use)"
            )
        vault = Vault.from_environment(dev_key_file)  # a new development key, with a warning
    check(database, vault)
    return vault


def check(database: Database, vault: Vault) -> None:
    """Refuse a key that is not this database's; record the fingerprint of the first."""

    def work(conn: Connection) -> None:
        stored = _stored(conn)
        if stored is not None:
            if stored != vault.fingerprint():
                raise _mismatch(stored, vault)
            return
        sample = _sample(conn)
        if sample is not None:  # a database from before fingerprints: the key must open it
            field, row_id, cipher = sample
            try:
                vault.open(cipher, field.context(row_id))
            except VaultError:
                raise DataKeyError(
                    f"the data key ({ENV_KEY}) does not open this database's personal data: "
                    "start with the key it was encrypted with"
                ) from None
        conn.execute(insert(settings).values(key=FINGERPRINT, value=vault.fingerprint()))

    database.transact(work)  # two servers starting at once: the second re-reads and compares


@dataclass(frozen=True)
class Rotation:
    values: int  # ciphertexts re-encrypted
    indexes: int  # blind indexes recomputed
    already: bool = False  # the database was already under the new key


def rotate(database: Database, old: Vault, new: Vault) -> Rotation:
    """Every protected field re-encrypted under ``new``, every blind index recomputed, and
    the fingerprint replaced, in one transaction."""
    if old.key == new.key:
        raise DataKeyError(f"{NEW_KEY_ENV} is the current key: nothing to rotate")

    def work(conn: Connection) -> Rotation:
        stored = _stored(conn)
        if stored == new.fingerprint():
            return Rotation(0, 0, already=True)
        if stored is not None and stored != old.fingerprint():
            raise _mismatch(stored, old)
        values = indexes = 0
        for field in FIELDS:
            done, indexed = _rotate_field(conn, field, old, new)
            values, indexes = values + done, indexes + indexed
        _clear_throttles(conn)
        changed = update(settings).where(settings.c.key == FINGERPRINT)
        if conn.execute(changed.values(value=new.fingerprint())).rowcount == 0:
            conn.execute(insert(settings).values(key=FINGERPRINT, value=new.fingerprint()))
        return Rotation(values, indexes)

    return database.transact(work)


def _rotate_field(conn: Connection, field: Field, old: Vault, new: Vault) -> tuple[int, int]:
    cipher = _column(field, field.column)
    rows = conn.execute(select(field.table).where(cipher.is_not(None))).mappings().all()
    indexed = 0
    key = field.table.c[field.key]
    for row in rows:
        row_id = row[field.key]
        context = field.context(row_id)
        plain = old.open(row[field.column], context)
        changes: dict[str, str] = {field.column: new.seal(plain, context)}
        if field.index is not None:
            changes[field.index] = new.index(field.indexed(row, plain))
            indexed += 1
        conn.execute(update(field.table).where(key == row_id).values(**changes))
    return len(rows), indexed


def _clear_throttles(conn: Connection) -> None:
    """Sign-in counters are keyed by blind indexes; under a new key they would match nothing."""
    conn.execute(delete(signin_throttles))
