"""The participants directory: which banks and e-money issuers a transfer can reach.

A participant is an institution in the Philippine clearing systems: its short ``code`` (our
key, e.g. ``BDO``), its BIC (ISO 9362: 8 or 11 characters, how pacs.008 names the
creditor's agent), its name, whether it is an InstaPay member, a PESONet member, and
whether we route to it at all (``active``). The operator keeps the list; it starts from
``participants.csv`` beside this module (its header comment names the sources and what is
unverified).

Routing (``route``) is the scheme rule of the issue: InstaPay when the amount is at most
₱50,000 (``limits.INSTAPAY_MAX_MINOR``) and the receiving institution is an InstaPay
member; otherwise PESONet, when it is a PESONet member; otherwise the transfer cannot go.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tindahan import limits
from tindahan.kernel.refusals import RefusalError, invalid, refused
from tindahan.payments.parties import text
from tindahan.rails.model import ClearingSystem

BIC = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
CODE = re.compile(rf"[A-Z0-9_]{{2,{limits.PARTICIPANT_CODE_MAX_LENGTH}}}")
COLUMNS = ("code", "bic", "name", "instapay", "pesonet", "active", "checked")
_YES = {"yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class Participant:
    code: str
    bic: str
    name: str
    instapay: bool
    pesonet: bool
    active: bool = True


def code(raw: object) -> str:
    value = raw.strip().upper() if isinstance(raw, str) else ""
    if not CODE.fullmatch(value):
        message = (
            f"a participant code is 2 to {limits.PARTICIPANT_CODE_MAX_LENGTH} capital letters, "
            "digits or _, e.g. BDO"
        )
        raise invalid("participant_code_invalid", message, "code")
    return value


def bic(raw: object) -> str:
    value = raw.strip().upper() if isinstance(raw, str) else ""
    if not BIC.fullmatch(value):
        message = "a BIC is 8 or 11 letters and digits, e.g. BNORPHMM or BNORPHMMXXX"
        raise invalid("bic_invalid", message, "bic")
    return value


def participant(
    raw_code: object,
    raw_bic: object,
    raw_name: object,
    instapay: object,
    pesonet: object,
    active: object = True,
) -> Participant:
    """A checked participant; flags must be real booleans."""
    for value, field in ((instapay, "instapay"), (pesonet, "pesonet"), (active, "active")):
        if not isinstance(value, bool):
            raise invalid("parameter_invalid", f"{field} is true or false", field)
    if not isinstance(raw_name, str):
        raise invalid("parameter_invalid", "name is text", "name")
    return Participant(
        code(raw_code),
        bic(raw_bic),
        text(raw_name, "name", limits.NAME_MAX_LENGTH),
        bool(instapay),
        bool(pesonet),
        bool(active),
    )


def read_csv(content: str) -> list[Participant]:
    """Participants from CSV text with the ``COLUMNS`` header; ``#`` lines are comments."""
    lines = [line for line in content.splitlines() if not line.lstrip().startswith("#")]
    rows = csv.DictReader(io.StringIO("\n".join(lines)))
    if tuple(rows.fieldnames or ()) != COLUMNS:
        raise invalid("csv_invalid", "the header must be " + ",".join(COLUMNS), "file")
    found: dict[str, Participant] = {}
    for number, row in enumerate(rows, start=2):
        if len(found) >= limits.MAX_PARTICIPANTS:
            raise invalid("csv_invalid", f"more than {limits.MAX_PARTICIPANTS} rows", "file")
        item = _row(row, number)
        if item.code in found:
            raise invalid("csv_invalid", f"row {number}: code {item.code} twice", "file")
        found[item.code] = item
    return list(found.values())


def _row(row: dict[str, str], number: int) -> Participant:
    flags = [(row.get(field) or "").strip().lower() for field in ("instapay", "pesonet", "active")]
    if any(flag not in _YES for flag in flags):
        raise invalid("csv_invalid", f"row {number}: flags are yes or no", "file")
    try:
        return participant(
            row.get("code"), row.get("bic"), row.get("name") or "", *(_YES[f] for f in flags)
        )
    except RefusalError as exc:
        raise invalid("csv_invalid", f"row {number}: {exc.message}", "file") from None


def route(amount_minor: int, receiver: Participant) -> ClearingSystem:
    """InstaPay up to its cap for members, else PESONet for members; refused otherwise."""
    if not receiver.active:
        raise refused("participant_inactive", f"{receiver.name} is not reachable now", "bank")
    if amount_minor <= limits.INSTAPAY_MAX_MINOR and receiver.instapay:
        return ClearingSystem.INSTAPAY
    if receiver.pesonet:
        return ClearingSystem.PESONET
    raise refused(
        "no_rail",
        f"{receiver.name} takes only InstaPay, which carries at most ₱50,000.00 a transfer",
        "amount_minor",
    )


def rows(participants: list[Participant]) -> Iterator[dict[str, object]]:
    for item in participants:
        yield {
            "code": item.code,
            "bic": item.bic,
            "name": item.name,
            "instapay": item.instapay,
            "pesonet": item.pesonet,
            "active": item.active,
        }
