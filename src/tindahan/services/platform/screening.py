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
from tindahan.risk.screening import Index
from tindahan.services.platform import audit
from tindahan.services.unit import Unit, new_id
from tindahan.store.payment_tables import parties
from tindahan.store.risk_tables import risk_screening_hits

LISTS_ENV = "TINDAHAN_SCREENING_LISTS"
DECISIONS = {"confirm": "confirmed", "clear": "cleared"}


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


def screen_party(unit: Unit, party_id: str, name: str) -> list[dict[str, Any]]:
    """Store the candidates for this party's name; returns them."""
    index = configured()
    if index is None:
        return []
    hits = [
        {
            "id": new_id("hit"),
            "party_id": party_id,
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
    if decision == "confirm":
        unit.conn.execute(
            update(parties)
            .where(parties.c.id == hit["party_id"], parties.c.status == PartyStatus.ACTIVE.value)
            .values(status=PartyStatus.FROZEN.value)
        )
    details = {"party_id": hit["party_id"], "source": hit["source"], "ref": hit["ref"]}
    audit.record(
        unit, caller.key_id, f"screening.{decision}", "screening_hit", hit_id, note, details
    )
    return dict(unit.conn.execute(query).mappings().one())
