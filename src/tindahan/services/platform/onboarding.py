"""Onboarding a merchant or a cash agent from the console, in one transaction.

Until now a new merchant needed the API: create the party, then its login, each a call. The
console's onboarding does it all at once (issue 21, item 9): the party with its business
profile and KYC tier, the ID images the operator checked, and its web sign-in with a first
PIN made here and shown once. One transaction: a duplicate phone, a bad number or a refused
image leaves nothing behind (no party, no wallet, no login, no audit entry).

The ID images are checked and re-encoded like product photos (``commerce.photos``: a JPEG,
PNG or WebP, within the byte and pixel bounds, decoded to the end, rewritten without any
metadata), keeping one width (the widest, ``limits.PHOTO_WIDTHS[-1]``: legible, not a
12-megapixel original). They are personal data (Data Privacy Act): each is sealed by the
vault (AES-GCM, bound to the party) and written to the platform's *private* store, never the
public one that serves product photos. Which images a party has is kept in its
``party.onboarded`` audit entry (the kind and the stored name of each), so the console can
list and show them to operators, and the log says who checked them and when.

If the transaction rolls back after an image was written, the sealed file stays unreferenced:
it opens only with the vault's key and the party id it was sealed for, which was never
committed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from tindahan.commerce import photos as images
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, invalid, not_found
from tindahan.payments.model import PartyKind
from tindahan.services.platform import audit, logins, parties
from tindahan.services.unit import Unit
from tindahan.store.media import NAME
from tindahan.store.web_tables import audit_log

#: The images an operator may attach: the ID's front (required) and its back.
DOCUMENT_KINDS = ("id_front", "id_back")
#: Onboarding from the console makes sellers and cash agents; buyers sign up themselves.
KINDS = (PartyKind.MERCHANT.value, PartyKind.AGENT.value)
ACTION = "party.onboarded"
#: The first PIN: six digits, not a run (``logins.check_secret``).
FIRST_PIN_DIGITS = 6


@dataclass(frozen=True)
class Document:
    """A checked ID image: its kind and its re-encoded WebP bytes."""

    kind: str
    width: int
    height: int
    data: bytes


def prepare_document(kind: str, data: bytes) -> Document:
    """The upload checked and re-encoded (call it before opening a unit: decoding takes a
    moment no lock should wait on). Refusals name the field (``kind``)."""
    if kind not in DOCUMENT_KINDS:
        raise invalid("document_kind_invalid", "an ID image is id_front or id_back", "kind")
    try:
        prepared = images.prepare(data)
    except RefusalError as refusal:
        raise RefusalError(refusal.category, refusal.code, refusal.message, kind) from None
    widest = prepared.renditions[-1]
    return Document(kind, widest.width, widest.height, widest.data)


def first_pin() -> str:
    """A random six-digit PIN that ``logins.check_secret`` accepts (no run, no repeat)."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(FIRST_PIN_DIGITS))
        try:
            return logins.check_secret(pin)
        except RefusalError:
            continue


def onboard(
    unit: Unit,
    caller: Caller,
    new: parties.NewParty,
    documents: list[Document],
    pin: str,
) -> dict[str, Any]:
    """The party, its login and its documents, or nothing. Answers the party's view with
    ``login`` (the login's view) and ``documents`` (kind and stored name of each)."""
    caller.require_operator()
    if new.kind not in KINDS:
        raise invalid("kind_invalid", "onboard a merchant or a cash agent", "kind")
    if new.phone is None:
        raise invalid("parameter_missing", "a phone number is needed to sign in", "phone")
    if not any(d.kind == "id_front" for d in documents):
        raise invalid("document_missing", "attach the front of the ID", "id_front")
    party = parties.create(unit, caller, new)
    login = logins.create(unit, caller, party_id=party["id"], phone=new.phone, secret=pin)
    stored = [_store(unit, party["id"], d) for d in documents]
    details = {
        "kind": party["kind"],
        "tier": party["tier"],
        "login_id": login["id"],
        "documents": stored,
    }
    audit.record(unit, caller.key_id, ACTION, "party", party["id"], None, details)
    return {**party, "login": login, "documents": stored}


def _store(unit: Unit, party_id: str, document: Document) -> dict[str, Any]:
    sealed = unit.vault.seal(
        base64.b64encode(document.data).decode(), f"kyc:{party_id}:{document.kind}"
    ).encode()
    name = hashlib.sha256(sealed).hexdigest() + ".webp"
    unit.platform.private_media.put(name, sealed)
    return {
        "kind": document.kind,
        "name": name,
        "width": document.width,
        "height": document.height,
    }


def documents(unit: Unit, caller: Caller, party_id: str) -> list[dict[str, Any]]:
    """The ID images recorded at the party's onboarding (none for a party made otherwise)."""
    caller.require_operator()
    parties.party_row(unit, caller, party_id)
    found = unit.conn.execute(
        select(audit_log.c.details)
        .where(audit_log.c.object_id == party_id)
        .where(audit_log.c.action == ACTION)
    ).first()
    if found is None:
        return []
    return list(json.loads(found.details).get("documents", []))


def document_image(unit: Unit, caller: Caller, party_id: str, name: str) -> bytes:
    """One ID image's WebP bytes, opened; "not found" for a name the party does not have."""
    if not NAME.fullmatch(name):
        raise not_found("document", "name")
    recorded = {d["name"]: d for d in documents(unit, caller, party_id)}
    document = recorded.get(name)
    sealed = unit.platform.private_media.get(name) if document else None
    if document is None or sealed is None:
        raise not_found("document", "name")
    plain = unit.vault.open(sealed.decode(), f"kyc:{party_id}:{document['kind']}")
    return base64.b64decode(plain)
