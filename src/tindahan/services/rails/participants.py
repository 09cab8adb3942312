"""The participants directory: read by anyone with a key, kept by the operator.

An empty directory is filled once from ``rails/participants.csv`` (``ensure_seeded``, run at
start-up beside the operator's accounts); from then on only the operator changes it, each
change in the audit log, so a migration or a restart never undoes an operator's edit. A
participant is never deleted (bank accounts and transfers name it): it is made inactive.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import func, insert, select, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, not_found
from tindahan.rails import directory
from tindahan.rails.directory import Participant
from tindahan.services.platform import audit
from tindahan.services.platform.listing import page
from tindahan.services.unit import Platform, Unit, iso
from tindahan.store.rails_tables import participants

SEED_FILE = "participants.csv"


@dataclass(frozen=True)
class NewParticipant:
    code: object
    bic: object
    name: object
    instapay: object
    pesonet: object
    active: object = True


def seed_rows() -> list[Participant]:
    content = (resources.files("tindahan.rails") / SEED_FILE).read_text(encoding="utf-8")
    return directory.read_csv(content)


def ensure_seeded(platform: Platform) -> int:
    """Fill an empty directory from the CSV; returns how many rows were added (0: not empty)."""

    def work(unit: Unit) -> int:
        count = unit.conn.execute(select(func.count()).select_from(participants)).scalar_one()
        if count:
            return 0
        now = unit.now()
        rows = [dict(row, updated_at_ns=now) for row in directory.rows(seed_rows())]
        unit.conn.execute(insert(participants), rows)
        return len(rows)

    return platform.run(work)


def view(row: Any) -> dict[str, Any]:
    return {
        "object": "participant",
        "code": row["code"],
        "bic": row["bic"],
        "name": row["name"],
        "instapay": bool(row["instapay"]),
        "pesonet": bool(row["pesonet"]),
        "active": bool(row["active"]),
        "updated": iso(row["updated_at_ns"]),
    }


def find(unit: Unit, code: str) -> Participant:
    """The participant with this code (as the domain's record); 404 when there is none."""
    row = _row(unit, code)
    if row is None:
        raise not_found("bank", "bank")
    return Participant(
        row["code"],
        row["bic"],
        row["name"],
        bool(row["instapay"]),
        bool(row["pesonet"]),
        bool(row["active"]),
    )


def by_bic(unit: Unit, bic: str) -> Participant | None:
    """The participant with this BIC, or None. An 8-character BIC and its 11-character form
    with branch ``XXX`` (the head office) name the same institution (ISO 9362), so
    ``BNORPHMM`` finds a row written ``BNORPHMMXXX`` and the other way round."""
    wanted = bic.strip().upper()
    if len(wanted) == 11 and wanted.endswith("XXX"):
        wanted = wanted[:8]
    candidates = (wanted, wanted + "XXX") if len(wanted) == 8 else (wanted,)
    query = select(participants.c.code).where(participants.c.bic.in_(candidates))
    found = unit.conn.execute(query.order_by(participants.c.code)).scalars().first()
    return None if found is None else find(unit, found)


def _row(unit: Unit, code: str) -> Any:
    query = select(participants).where(participants.c.code == code.strip().upper())
    return unit.conn.execute(query).mappings().first()


def list_participants(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None = None,
    *,
    active_only: bool = False,
) -> dict[str, Any]:
    caller.require("payments:read")
    query = select(participants).order_by(participants.c.code).limit(limit + 1)
    if starting_after:
        query = query.where(participants.c.code > starting_after)
    if active_only:
        query = query.where(participants.c.active.is_(True))
    rows = unit.conn.execute(query).mappings().all()
    return page([view(row) for row in rows[:limit]], len(rows) > limit)


def get(unit: Unit, caller: Caller, code: str) -> dict[str, Any]:
    caller.require("payments:read")
    row = _row(unit, code)
    if row is None:
        raise not_found("participant", "code")
    return view(row)


def create(unit: Unit, caller: Caller, new: NewParticipant) -> dict[str, Any]:
    """Add a participant (operator)."""
    caller.require("parties:write")
    caller.require_operator()
    item = directory.participant(new.code, new.bic, new.name, new.instapay, new.pesonet, new.active)
    if _row(unit, item.code) is not None:
        raise conflict("participant_exists", f"{item.code} is already in the directory", "code")
    _check_bic_free(unit, item.bic, item.code)
    row = next(directory.rows([item]))
    unit.conn.execute(insert(participants).values(**row, updated_at_ns=unit.now()))
    audit.record(unit, caller.scope, "participant.create", "participant", item.code, details=row)
    return get(unit, caller, item.code)


def change(unit: Unit, caller: Caller, code: str, fields: dict[str, object]) -> dict[str, Any]:
    """Change a participant's BIC, name, memberships or active flag (operator)."""
    caller.require("parties:write")
    caller.require_operator()
    row = _row(unit, code)
    if row is None:
        raise not_found("participant", "code")
    merged = {**view(row), **fields}
    item = directory.participant(
        row["code"],
        merged["bic"],
        merged["name"],
        merged["instapay"],
        merged["pesonet"],
        merged["active"],
    )
    _check_bic_free(unit, item.bic, item.code)
    values = {key: value for key, value in next(directory.rows([item])).items() if key != "code"}
    unit.conn.execute(
        update(participants)
        .where(participants.c.code == item.code)
        .values(**values, updated_at_ns=unit.now())
    )
    audit.record(unit, caller.scope, "participant.change", "participant", item.code, details=values)
    return get(unit, caller, item.code)


def _check_bic_free(unit: Unit, bic: str, code: str) -> None:
    query = select(participants.c.code).where(
        participants.c.bic == bic, participants.c.code != code
    )
    other = unit.conn.execute(query).scalar_one_or_none()
    if other is not None:
        raise conflict("bic_taken", f"{bic} is the BIC of {other} already", "bic")
