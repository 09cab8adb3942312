"""Short references a cashier can read aloud (issue 21, item 8): every payment, order and
payment request gets one beside its long id, such as ``7KQ2-M9XD`` on a receipt.

Why it is built this way:
* **Eight characters of Crockford's base32** (``0-9`` and ``A-Z`` without ``I L O U``): no
  letter a person confuses with a digit (I/1, L/1, O/0) and none that spells the usual rude
  words (U). 32^8 is about 1.1 × 10^12, so collisions are rare but not impossible: each
  table holds a UNIQUE index on ``short_ref``.
* **Random, not counted**: a counter would tell a shop how many sales the others made, and
  would be a hot row every payment waits on.
* **Collisions retried without aborting the transaction**: the row is inserted with ``ON
  CONFLICT (short_ref) DO NOTHING`` (PostgreSQL and SQLite both have it); no row inserted
  means another payment holds that reference — committed, or still in flight, in which case
  PostgreSQL waits for it to end — and a new reference is drawn. A conflict on anything
  else (the id) still raises. ``limits.SHORT_REF_TRIES`` bounds the draws.
* **Found by whom it concerns** (``find``): a merchant finds its own payments, orders and
  requests, a buyer its own, the operator every one; anyone else's reference is "not found",
  like an id that does not exist.
* **Typed by people**: ``normalize`` takes lower case, spaces and dashes, and Crockford's
  reading of look-alikes (I and L as 1, O as 0), so what a buyer reads out is found.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import Table, TextClause, bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import orders
from tindahan.store.hotpath import fetch_named
from tindahan.store.payment_tables import payment_requests, payments

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(text: str) -> str | None:
    """A typed reference in its stored form, or None if it cannot be one."""
    ref = text.strip().upper().translate(_READ_AS)
    if len(ref) != LENGTH or any(c not in ALPHABET for c in ref):
        return None
    return ref


def shown(ref: str) -> str:
    """Four, a dash, four: ``7KQ2-M9XD``, easier to read aloud."""
    return f"{ref[:4]}-{ref[4:]}" if len(ref) == LENGTH else ref


def insert(unit: Unit, table: Table, row: Mapping[str, Any]) -> str:
    """Insert ``row`` into ``table`` with a new, unique ``short_ref``; returns it. The
    statement is built once per table, dialect and set of columns (building it cost more
    than running it: every payment makes one); on PostgreSQL it runs on the driver
    (``fetch_named``), every value cast as SQLAlchemy would have sent it."""
    postgres = unit.conn.dialect.name == "postgresql"
    statement = _statement(table, postgres, tuple(row.keys()))
    for _ in range(limits.SHORT_REF_TRIES):
        values = {**row, "short_ref": new()}
        if postgres:
            taken = not fetch_named(unit.conn, statement, values)
        else:
            taken = unit.conn.execute(statement, values).first() is None
        if not taken:
            return str(values["short_ref"])
    raise RuntimeError(f"no free short reference after {limits.SHORT_REF_TRIES} draws")


@functools.lru_cache(maxsize=64)
def _statement(table: Table, postgres: bool, columns: tuple[str, ...]) -> Any:
    """The insert of these columns and ``short_ref``, nothing when the reference is taken."""
    named = dict.fromkeys((*columns, "short_ref"))
    dialect = pg_insert if postgres else sqlite_insert
    return (
        dialect(table)
        .values({name: bindparam(name, type_=table.c[name].type) for name in named})
        .on_conflict_do_nothing(index_elements=["short_ref"])
        .returning(table.c.short_ref)  # no row back: the reference was taken
    )


@functools.lru_cache(maxsize=16)
def claim(table: Table, columns: tuple[str, ...]) -> TextClause:
    """The insert of ``_statement`` (PostgreSQL) as a constant ``text()``, every bind typed:
    to ride in another statement as a data-modifying CTE (the payer's usage upsert's:
    ``movement.limit_outgoing_claimed``). Its ``RETURNING`` is empty when the drawn
    reference was taken, as ``insert``'s is."""
    named = tuple(dict.fromkeys((*columns, "short_ref")))
    return text(
        f"INSERT INTO {table.name} ({', '.join(named)}) "  # noqa: S608 (the table's own names)
        f"VALUES ({', '.join(':' + name for name in named)}) "
        "ON CONFLICT (short_ref) DO NOTHING RETURNING short_ref"
    ).bindparams(*(bindparam(name, type_=table.c[name].type) for name in named))


class Found(NamedTuple):
    object: str  # "payment" | "order" | "payment_request"
    id: str


#: Each table with the parties who may find its rows by reference.
_SEARCHED = (
    ("payment", payments, (payments.c.payer_id, payments.c.payee_id)),
    ("order", orders, (orders.c.buyer_id, orders.c.merchant_id)),
    ("payment_request", payment_requests, (payment_requests.c.merchant_id,)),
)


def find(unit: Unit, caller: Caller, text: str) -> list[Found]:
    """What this reference names among what the caller reaches (at most one per kind)."""
    ref = normalize(text)
    if ref is None:
        message = f"a reference is {LENGTH} letters and digits, like 7KQ2-M9XD"
        raise invalid("short_ref_invalid", message, "ref")
    found = []
    for kind, table, owners in _SEARCHED:
        query = select(table.c.id, *owners).where(table.c.short_ref == ref)
        row = unit.conn.execute(query).first()
        if row is not None and caller.reaches(*row[1:]):
            found.append(Found(kind, row[0]))
    return found
