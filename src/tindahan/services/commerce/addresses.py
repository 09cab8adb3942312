"""The buyer's address book, and the copy of an address each order keeps.

A party (a buyer; a merchant buying too) keeps up to ``limits.MAX_ADDRESSES_PER_PARTY``
delivery addresses; the operator reaches anyone's (naming ``party_id``). The whole address is
personal data (Data Privacy Act): it is checked by ``commerce.addresses``, then sealed as one
JSON object with the vault, bound to the row (``address:{id}``), and opened only to be shown
to whoever reaches it. Removing an entry marks it removed (orders may name it).

At checkout the buyer names an entry of their own book or types a new one (saved to the book
unless asked not to). ``attach`` seals a *copy* under the order (``order_address:{order_id}``),
so a later edit or removal of the book changes no order already placed. Who reads an order's
address is who reads the order: its buyer, its merchant (who ships it) and the operator;
webhook events carry no address (event payloads are stored in clear in the outbox), an
integrator GETs the order for it.

Beside each sealed address its PSGC codes are kept in clear (``commerce.psgc.Codes``: a
barangay, not a person), shown as ``psgc`` in the address objects, for delivery zones.
Addresses stored before the check got null codes from the migration; ``backfill_codes``
(run by ``tindahan db upgrade``) matches them against the list and fills those that match,
leaving the others null (they are shown, and used, as before; editing one checks it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from tindahan import limits
from tindahan.commerce import addresses as rules
from tindahan.commerce import psgc
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, conflict, invalid, not_found
from tindahan.services.platform import audit
from tindahan.services.platform.listing import page
from tindahan.services.platform.parties import owner_id
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import addresses, order_addresses

ACTIVE, REMOVED = "active", "removed"


@dataclass(frozen=True)
class Delivery:
    """Where an order goes: a book entry (``address_id``) or a new ``address``, not both."""

    address_id: str | None = None
    address: Mapping[str, object] | None = None
    save: bool = True  # a new address is added to the buyer's book as well


def _seal(unit: Unit, address: rules.Address, context: str) -> str:
    return unit.vault.seal(json.dumps(address.as_dict(), sort_keys=True), context)


def _open(unit: Unit, stored: str, context: str) -> rules.Address:
    return rules.from_stored(json.loads(unit.vault.open(stored, context)))


_CODE_COLUMNS = ("barangay_code", "city_code", "province_code", "region_code")


def _code_values(address: rules.Address) -> dict[str, str | None]:
    """The PSGC columns of a row holding ``address`` (all null: not located)."""
    if address.codes is None:
        return dict.fromkeys(_CODE_COLUMNS)
    return address.codes.as_dict()


def codes_of(row: Any) -> psgc.Codes | None:
    """The PSGC codes stored beside an address row (None: not matched)."""
    if row["barangay_code"] is None:
        return None
    return psgc.Codes(
        row["barangay_code"], row["city_code"], row["province_code"], row["region_code"]
    )


def psgc_view(row: Any) -> dict[str, str | None] | None:
    codes = codes_of(row)
    return None if codes is None else codes.as_dict()


def _view(unit: Unit, row: Any) -> dict[str, Any]:
    opened = _open(unit, row["address_cipher"], f"address:{row['id']}")
    return {
        "id": row["id"],
        "object": "address",
        "party_id": row["party_id"],
        **opened.as_dict(),
        "psgc": psgc_view(row),
        "status": row["status"],
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
    }


def _row(unit: Unit, caller: Caller, address_id: str, param: str = "id") -> Any:
    query = select(addresses).where(addresses.c.id == address_id)
    row = unit.conn.execute(query).mappings().first()
    if row is None or not caller.reaches(row["party_id"]):
        raise not_found("address", param)
    return row


def _check_room(unit: Unit, owner: str) -> None:
    count = unit.conn.execute(
        select(func.count())
        .select_from(addresses)
        .where(addresses.c.party_id == owner, addresses.c.status == ACTIVE)
    ).scalar_one()
    if count >= limits.MAX_ADDRESSES_PER_PARTY:
        message = f"an address book holds at most {limits.MAX_ADDRESSES_PER_PARTY} addresses"
        raise conflict("address_book_full", message, "address")


def _insert(unit: Unit, owner: str, address: rules.Address) -> str:
    _check_room(unit, owner)
    address_id = new_id("adr")
    now = unit.now()
    unit.conn.execute(
        insert(addresses).values(
            id=address_id,
            party_id=owner,
            address_cipher=_seal(unit, address, f"address:{address_id}"),
            **_code_values(address),
            status=ACTIVE,
            created_at_ns=now,
            updated_at_ns=now,
        )
    )
    return address_id


# --- the address book ------------------------------------------------------------------------
def add(
    unit: Unit, caller: Caller, raw: Mapping[str, object], party_id: str | None = None
) -> dict[str, Any]:
    caller.require("orders:write")
    owner = owner_id(unit, caller, party_id)
    address_id = _insert(unit, owner, rules.address(raw))
    audit.record(unit, caller.scope, "address.add", "address", address_id)
    return get(unit, caller, address_id)


def get(unit: Unit, caller: Caller, address_id: str) -> dict[str, Any]:
    caller.require("orders:read")
    return _view(unit, _row(unit, caller, address_id))


def change(
    unit: Unit, caller: Caller, address_id: str, raw: Mapping[str, object]
) -> dict[str, Any]:
    """Replace some fields of an active entry (orders already placed keep their copy)."""
    caller.require("orders:write")
    row = _row(unit, caller, address_id)
    if row["status"] != ACTIVE:
        raise conflict("address_removed", "this address was removed", "id")
    current = _open(unit, row["address_cipher"], f"address:{address_id}").as_dict()
    merged: dict[str, object] = {**current, **raw}
    address = rules.address(merged)
    unit.conn.execute(
        update(addresses)
        .where(addresses.c.id == address_id)
        .values(
            address_cipher=_seal(unit, address, f"address:{address_id}"),
            **_code_values(address),
            updated_at_ns=unit.now(),
        )
    )
    audit.record(unit, caller.scope, "address.change", "address", address_id)
    return get(unit, caller, address_id)


def remove(unit: Unit, caller: Caller, address_id: str) -> dict[str, Any]:
    caller.require("orders:write")
    row = _row(unit, caller, address_id)
    if row["status"] == ACTIVE:
        unit.conn.execute(
            update(addresses)
            .where(addresses.c.id == address_id)
            .values(status=REMOVED, updated_at_ns=unit.now())
        )
        audit.record(unit, caller.scope, "address.remove", "address", address_id)
    return get(unit, caller, address_id)


def list_addresses(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None = None,
    *,
    party_id: str | None = None,
) -> dict[str, Any]:
    """A party's active addresses, oldest first (an operator names the party)."""
    caller.require("orders:read")
    owner = owner_id(unit, caller, party_id)
    query = (
        select(addresses)
        .where(addresses.c.party_id == owner, addresses.c.status == ACTIVE)
        .order_by(addresses.c.id)
        .limit(limit + 1)
    )
    if starting_after:
        query = query.where(addresses.c.id > starting_after)
    rows = unit.conn.execute(query).mappings().all()
    return page([_view(unit, row) for row in rows[:limit]], len(rows) > limit)


# --- orders ----------------------------------------------------------------------------------
def chosen(unit: Unit, caller: Caller, buyer_id: str, delivery: Delivery) -> rules.Address:
    """The address an order will go to, checked before anything is written."""
    if delivery.address_id is not None and delivery.address is not None:
        message = "give address_id or address, not both"
        raise invalid("parameter_invalid", message, "address_id")
    if delivery.address is not None:
        return rules.address(delivery.address, prefix="address.")
    if not delivery.address_id:
        raise invalid("parameter_missing", "give address_id or address", "address_id")
    row = _row(unit, caller, delivery.address_id, "address_id")
    if row["party_id"] != buyer_id:
        raise not_found("address", "address_id")
    if row["status"] != ACTIVE:
        raise conflict("address_removed", "this address was removed", "address_id")
    opened = _open(unit, row["address_cipher"], f"address:{row['id']}")
    return rules.from_stored(opened.as_dict(), codes_of(row))


def attach(
    unit: Unit, order_id: str, buyer_id: str, delivery: Delivery, address: rules.Address
) -> None:
    """Keep a sealed copy of ``address`` with the order (and save a new one to the book)."""
    source = delivery.address_id
    if delivery.address is not None and delivery.save:
        source = _insert(unit, buyer_id, address)
    unit.conn.execute(
        insert(order_addresses).values(
            order_id=order_id,
            address_id=source,
            address_cipher=_seal(unit, address, f"order_address:{order_id}"),
            **_code_values(address),
            created_at_ns=unit.now(),
        )
    )


def of_order(unit: Unit, order_id: str) -> dict[str, Any] | None:
    """The order's delivery address, opened, with its ``psgc`` codes (None: placed without
    one)."""
    query = select(order_addresses).where(order_addresses.c.order_id == order_id)
    row = unit.conn.execute(query).mappings().first()
    if row is None:
        return None
    opened = _open(unit, row["address_cipher"], f"order_address:{order_id}")
    return {**opened.as_dict(), "psgc": psgc_view(row)}


def order_codes(unit: Unit, order_id: str) -> psgc.Codes | None:
    """Where an order goes by the PSGC (None: no address, or one not matched): what a
    delivery zone is derived from (``psgc.region_of``, ``psgc.province_or_city_of``)."""
    query = select(order_addresses).where(order_addresses.c.order_id == order_id)
    row = unit.conn.execute(query).mappings().first()
    return None if row is None else codes_of(row)


def _located(address: rules.Address) -> psgc.Codes | None:
    """The codes of a stored address if it passes today's checks as it is, else None."""
    try:
        return rules.address({**address.as_dict()}).codes
    except RefusalError:
        return None


def backfill_codes(unit: Unit) -> dict[str, int]:
    """Fill the PSGC codes of addresses stored before the check: those that match the list
    get their codes (their sealed text is left as typed); the others stay null. Idempotent
    (rows with codes are skipped). Returns how many rows were matched and left, by table."""
    counts = {"matched": 0, "unmatched": 0}
    for table, context in ((addresses, "address"), (order_addresses, "order_address")):
        key = table.c.id if table is addresses else table.c.order_id
        rows = unit.conn.execute(
            select(key.label("key"), table.c.address_cipher).where(table.c.barangay_code.is_(None))
        ).mappings()
        for row in list(rows):
            codes = _located(_open(unit, row["address_cipher"], f"{context}:{row['key']}"))
            if codes is None:
                counts["unmatched"] += 1
                continue
            unit.conn.execute(update(table).where(key == row["key"]).values(**codes.as_dict()))
            counts["matched"] += 1
    return counts
