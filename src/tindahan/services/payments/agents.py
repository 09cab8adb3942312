"""Cash in at an agent (issue 21, item 6): the agents nearest a customer and what to tell
them.

Where the customer is: the city and province on their party profile; without one, those of
the first address in their address book (sealed by the vault as
``services.commerce.addresses`` seals it, opened here the same way: payments sit below
commerce among the services, so the row is read from the store, not through that module);
without either, nowhere (every agent is then "elsewhere", listed by name). The ranking is
the domain's (``payments.agents``). Only active agents with a float wallet are listed: a
frozen or closed agent cannot cash anyone in.

What the customer tells the agent is their **cash-in code**: their wallet's party id, shown
as text and as a QR code for the agent's app to scan, which the agent's cash-in takes as
``customer_id`` (``POST /v1/cash_ins``, ``services.payments.cash.cash_in``). Agents are not
asked to look people up by phone number: a number read aloud across a counter is overheard,
and a mistyped one would credit a stranger.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from tindahan import limits
from tindahan.commerce import addresses as address_rules
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import not_found
from tindahan.payments import agents as rules
from tindahan.payments.model import PartyKind, PartyStatus, WalletKind
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import addresses
from tindahan.store.payment_tables import parties, wallets

#: How many agents the page lists.
NEAREST = 10


def _place(unit: Unit, party_id: str) -> rules.Place:
    row = unit.conn.execute(
        select(parties.c.city, parties.c.province).where(parties.c.id == party_id)
    ).first()
    if row is None:
        raise not_found("party", "party_id")
    if row[0] or row[1]:
        return rules.Place(row[0], row[1])
    first = unit.conn.execute(
        select(addresses.c.id, addresses.c.address_cipher)
        .where(addresses.c.party_id == party_id, addresses.c.status == "active")
        .order_by(addresses.c.id)
        .limit(1)
    ).first()
    if first is None:
        return rules.Place(None, None)
    stored = json.loads(unit.vault.open(first[1], f"address:{first[0]}"))
    opened = address_rules.from_stored(stored)  # as the address book opens it
    return rules.Place(opened.city, opened.province)


_AGENTS = (
    select(parties.c.id, parties.c.name, parties.c.city, parties.c.province)
    .select_from(parties.join(wallets, wallets.c.party_id == parties.c.id))
    .where(
        parties.c.kind == PartyKind.AGENT.value,
        parties.c.status == PartyStatus.ACTIVE.value,
        wallets.c.kind == WalletKind.FLOAT.value,
    )
    .limit(limits.AGENT_SCAN_MAX)
)


def cash_in_at(unit: Unit, caller: Caller, party_id: str | None = None) -> dict[str, Any]:
    """The nearest agents to the customer and their cash-in code (an operator names the
    customer)."""
    caller.require("payments:read")
    who = party_id or caller.party_id
    if who is None or not caller.reaches(who):
        raise not_found("party", "party_id")
    place = _place(unit, who)
    found = [rules.Agent(r[0], r[1], rules.Place(r[2], r[3])) for r in unit.conn.execute(_AGENTS)]
    ranked = rules.nearest(place, found, NEAREST)
    return {
        "object": "cash_in_guide",
        "code": who,
        "city": place.city,
        "province": place.province,
        "agents": [
            {
                "id": a.party_id,
                "name": a.name,
                "city": a.place.city,
                "province": a.place.province,
                "ring": where,
            }
            for a, where in ranked
        ],
    }
