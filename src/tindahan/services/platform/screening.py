"""Screening parties against the sanctions and watch lists the operator configured.

``TINDAHAN_SCREENING_LISTS`` names the lists, comma-separated: files ending ``.xml`` are
read as the UN Security Council consolidated list, others as watch list CSVs
(``tindahan.risk.lists``). They are read and indexed once per process (again when a file
changes); a bad list is refused whole, with its line or element named — creating a party
then fails (``screening_list_invalid``, with that message) rather than skip screening
silently. Unset: no screening.

``parties.create`` calls ``screen_party`` in its transaction: each candidate at or above the
threshold (``risk.screening.DEFAULT_THRESHOLD``) is stored as an open hit with the entry and
the score. An operator confirms a hit — the party is frozen, so its wallets can neither pay
nor be paid (``movement.require_active``) — or clears it; both go to the audit log.

Bank transfers' counterparties: ``services.rails.bank_accounts`` screens a bank account's
holder name as the account is registered (and registered again), the hit's ``subject``
naming the account. Confirming such a hit blocks the account — removed, and refused if
registered again (``bank_account_blocked``) — so nothing more is sent to it; the party who
registered it is *not* frozen: typing a listed name is not being listed. An analyst who
thinks otherwise opens a case on the party. While a hit is open the account works: a
candidate is not a match, and most are namesakes.

Senders of inbound bank transfers (``screen_name``): the name on the pacs.008 is screened as
the credit arrives (``services.rails.inbound``); a candidate holds the credit for review with
an alert rather than a hit here — the sender is not a party to freeze, and what the analyst
decides is the money.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found, refused
from tindahan.payments.model import PartyStatus
from tindahan.risk import lists
from tindahan.risk.errors import RiskInputError
from tindahan.risk.screening import Index, Match
from tindahan.services.platform import audit
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.payment_tables import parties
from tindahan.store.rails_tables import bank_accounts
from tindahan.store.risk_tables import risk_screening_hits

LISTS_ENV = "TINDAHAN_SCREENING_LISTS"
DECISIONS = {"confirm": "confirmed", "clear": "cleared"}
STATUSES = ("open", "confirmed", "cleared")


@lru_cache(maxsize=4)
def _index(paths: tuple[tuple[str, int], ...]) -> Index:
    entries: list[lists.Entry] = []
    for path, _ in paths:
        file = Path(path)
        loaded = (
            lists.load_un(file) if file.suffix.lower() == ".xml" else lists.load_watchlist(file)
        )
        entries.extend(loaded)
    return Index(entries)


def configured() -> Index | None:
    setting = os.environ.get(LISTS_ENV, "").strip()
    if not setting:
        return None
    paths = []
    for part in setting.split(","):
        path = Path(part.strip())
        try:
            paths.append((str(path), path.stat().st_mtime_ns))
        except OSError as exc:
            raise invalid("screening_list_missing", f"cannot read {path}: {exc.strerror}") from None
    try:
        return _index(tuple(paths))
    except RiskInputError as exc:  # the operator's configuration: said, never skipped
        raise refused(
            "screening_list_invalid", f"the screening lists are not usable: {exc}"
        ) from None


def screen_name(name: str) -> list[Match]:
    """The candidates for a name that is not a party's (a sender's on an inbound bank
    transfer), best first; none when no lists are configured."""
    index = configured()
    return [] if index is None else index.screen(name)


def screen_party(
    unit: Unit, party_id: str, name: str, subject: str | None = None
) -> list[dict[str, Any]]:
    """Store the candidates for this party's name (or, with ``subject``, the name of that
    bank account's holder); returns them."""
    index = configured()
    if index is None:
        return []
    hits = [
        {
            "id": new_id("hit"),
            "party_id": party_id,
            "subject": subject,
            "source": m.entry.source[:64],
            "ref": m.entry.ref[:64],
            "matched_name": m.name[: limits.SCREEN_MAX_NAME_LENGTH],
            "score": m.score,
            "status": "open",
            "created_at_ns": unit.now(),
        }
        for m in index.screen(name)
    ]
    if hits:
        unit.conn.execute(insert(risk_screening_hits), hits)
    return hits


def list_hits(unit: Unit, caller: Caller, status: str = "open") -> list[dict[str, Any]]:
    caller.require_operator()
    query = (
        select(risk_screening_hits)
        .where(risk_screening_hits.c.status == status)
        .order_by(risk_screening_hits.c.score.desc(), risk_screening_hits.c.created_at_ns.desc())
        .limit(limits.RISK_ALERTS_PAGE)
    )
    return [dict(r) for r in unit.conn.execute(query).mappings()]


def decide_hit(
    unit: Unit, caller: Caller, hit_id: str, decision: str, note: str | None = None
) -> dict[str, Any]:
    """Confirm (freeze the party) or clear a hit."""
    caller.require_operator()
    if decision not in DECISIONS:
        raise invalid("decision_invalid", "the decision is confirm or clear", "decision")
    query = select(risk_screening_hits).where(risk_screening_hits.c.id == hit_id)
    hit = unit.conn.execute(query).mappings().first()
    if hit is None:
        raise not_found("screening hit", "hit_id")
    if hit["status"] != "open":
        raise conflict("hit_decided", f"this hit is already {hit['status']}", "hit_id")
    unit.conn.execute(
        update(risk_screening_hits)
        .where(risk_screening_hits.c.id == hit_id)
        .values(status=DECISIONS[decision], decided_by=caller.key_id, decided_at_ns=unit.now())
    )
    if decision == "confirm" and hit["subject"] is not None:
        unit.conn.execute(
            update(bank_accounts)
            .where(bank_accounts.c.id == hit["subject"], bank_accounts.c.status == "active")
            .values(status="removed", removed_at_ns=unit.now())
        )
    elif decision == "confirm":
        unit.conn.execute(
            update(parties)
            .where(parties.c.id == hit["party_id"], parties.c.status == PartyStatus.ACTIVE.value)
            .values(status=PartyStatus.FROZEN.value)
        )
    details = {"party_id": hit["party_id"], "source": hit["source"], "ref": hit["ref"]}
    if hit["subject"] is not None:
        details["subject"] = hit["subject"]
    audit.record(
        unit, caller.key_id, f"screening.{decision}", "screening_hit", hit_id, note, details
    )
    return dict(unit.conn.execute(query).mappings().one())


def blocked(unit: Unit, subject: str) -> bool:
    """Whether a confirmed hit blocks this bank account."""
    query = select(risk_screening_hits.c.id).where(
        risk_screening_hits.c.subject == subject, risk_screening_hits.c.status == "confirmed"
    )
    return unit.conn.execute(query.limit(1)).first() is not None


def _reader(caller: Caller) -> None:
    caller.require_operator()
    caller.require("risk:read")


def hit_view(row: Any) -> dict[str, Any]:
    """A hit as the analysts' API shows it."""
    return {
        "id": row["id"],
        "object": "screening_hit",
        "party_id": row["party_id"],
        "subject": "bank_account" if row["subject"] else "party",
        "bank_account_id": row["subject"],
        "list": row["source"],
        "entry_ref": row["ref"],
        "matched_name": row["matched_name"],
        "score": row["score"],
        "status": row["status"],
        "decided_by": row["decided_by"],
        "decided": iso(row["decided_at_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def list_hit_views(unit: Unit, caller: Caller, status: str = "open") -> dict[str, Any]:
    """The hits of a status, the highest score first (at most ``RISK_ALERTS_PAGE``)."""
    _reader(caller)
    if status not in STATUSES:
        raise invalid("status_invalid", f"status is one of {', '.join(STATUSES)}", "status")
    rows = list_hits(unit, caller, status)
    return {"object": "list", "data": [hit_view(r) for r in rows], "has_more": False}


def decide_hit_view(
    unit: Unit, caller: Caller, hit_id: str, decision: str, note: str | None = None
) -> dict[str, Any]:
    caller.require_operator()
    caller.require("risk:write")
    return hit_view(decide_hit(unit, caller, hit_id, decision, note))
