"""The SMS outbox: messages written with the change they announce, sent by the worker.

Like webhooks (``services.platform.webhooks``), and for the same reason: a message exists if
and only if its payment committed, and a provider that is down loses nothing.

* **Queued in the transaction** of the event (``events.emit`` calls ``queue_event``; the
  one-time codes and the sign-in notice call ``queue_to_number`` and ``queue_to_party``).
  Only the raw values are stored (sealed by the vault: amounts, names and numbers are
  personal data); the text is rendered when the message is sent, in the person's language
  at that moment (``parties.language``; English when unset).
* **Sent by the worker** (``deliver_due``): a batch of due messages is claimed with a lease
  (PostgreSQL ``FOR UPDATE SKIP LOCKED``, so several workers share the work), rendered, and
  sent through the ``SmsProvider`` port outside any transaction; the attempt is recorded. A
  failure is retried with exponential backoff (``limits.SMS_BACKOFF_BASE_S`` doubling, with
  jitter) up to ``limits.SMS_MAX_ATTEMPTS`` attempts, then ``failed``; a provider's
  permanent refusal (a malformed number) fails at once. After one transient failure the rest
  of the round waits for the next round: the provider is likely down, and hammering it helps
  nobody. A message to a party without a phone number (its own, or its web login's) is
  ``skipped``.
* **What went out** is kept, sealed (``text_cipher``) with the number's last four digits: the
  operator console's "Sent SMS". In a live environment a one-time code's digits are hidden
  there; in a test environment (the demo, the tests, the local gateway) they are shown, so
  the demo's sign-up can be tried without a phone.
* **Reminders only where there is no app** (``sms.notices.REMINDER_KINDS``): a party with a
  web login or an enabled webhook endpoint of its own has an app; the check is made when the
  reminder is queued (one query for the whole batch of the loans' daily close).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.payments.parties import phone_number
from tindahan.services.platform.keys import environment
from tindahan.services.platform.listing import page
from tindahan.services.unit import Platform, Unit, iso, new_id
from tindahan.sms import texts
from tindahan.sms.notices import REMINDER_KINDS, Notice, for_event
from tindahan.sms.port import Outcome, SmsProvider
from tindahan.store.commerce_tables import orders
from tindahan.store.payment_tables import parties, sms_messages, webhook_endpoints
from tindahan.store.pgarray import int_array, text_array
from tindahan.store.web_tables import logins
from tindahan.webhooks.schedule import next_delay_seconds

_SECOND = 10**9


# --- queueing (inside the caller's transaction) ------------------------------------------------
def _row(
    unit: Unit,
    kind: str,
    data: dict[str, Any],
    *,
    party_id: str | None = None,
    to: str | None = None,
    language: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    message_id = new_id("sms")
    now = unit.now()
    return {
        "id": message_id,
        "party_id": party_id,
        "to_cipher": unit.vault.seal(to, f"sms-to:{message_id}") if to is not None else None,
        "language": language,
        "kind": kind,
        "data_cipher": unit.vault.seal(json.dumps(data), f"sms:{message_id}"),
        "event_id": event_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at_ns": now,
        "locked_until_ns": 0,
        "to_last4": to[-4:] if to is not None else None,
        "created_at_ns": now,
    }


def with_app(unit: Unit, party_ids: Iterable[str]) -> set[str]:
    """The parties among ``party_ids`` who have an app: a web login or an enabled webhook
    endpoint of their own."""
    wanted = sorted(set(party_ids))
    if not wanted:
        return set()
    found = set(
        unit.conn.execute(select(logins.c.party_id).where(logins.c.party_id.in_(wanted))).scalars()
    )
    found |= set(
        unit.conn.execute(
            select(webhook_endpoints.c.party_id).where(
                webhook_endpoints.c.party_id.in_(wanted), webhook_endpoints.c.status == "enabled"
            )
        ).scalars()
    )
    return {p for p in found if p is not None}


def queue_notices(unit: Unit, found: Sequence[tuple[str, Notice]]) -> int:
    """Store the messages of (event id, notice) pairs; reminders only for parties without
    an app. Returns how many were queued."""
    rows = notice_rows(unit, found)
    if rows:
        unit.conn.execute(insert(sms_messages), rows)
    return len(rows)


def notice_rows(unit: Unit, found: Sequence[tuple[str, Notice]]) -> list[dict[str, Any]]:
    """The rows ``queue_notices`` stores, not yet stored."""
    reminded = {n.party_id for _, n in found if n.kind in REMINDER_KINDS}
    has_app = with_app(unit, reminded) if reminded else set()
    return [
        _row(unit, n.kind, n.data, party_id=n.party_id, event_id=event_id)
        for event_id, n in found
        if not (n.kind in REMINDER_KINDS and n.party_id in has_app)
    ]


def queue_event(unit: Unit, event_id: str, event_type: str, data: Any, party_ids: Any) -> int:
    """The messages one event becomes (``sms.notices``), queued with it."""
    rows = event_rows(unit, event_id, event_type, data, party_ids)
    if rows:
        unit.conn.execute(insert(sms_messages), rows)
    return len(rows)


def event_rows(
    unit: Unit, event_id: str, event_type: str, data: Any, party_ids: Any
) -> list[dict[str, Any]]:
    """The rows ``queue_event`` stores, not yet stored (on PostgreSQL ``events.emit`` writes
    them in the event's own statement, with ``FROM_ARRAYS``)."""
    if event_type == "shipment.updated" and isinstance(data, Mapping):
        data = {**data, **_order_of(unit, data.get("order_id"))}
    found = for_event(event_type, data, party_ids)
    return notice_rows(unit, [(event_id, n) for n in found]) if found else []


#: PostgreSQL: the insert of ``event_rows``' messages from one array per column (each a
#: string literal, ``store.pgarray``), for a data-modifying CTE; ``array_params`` its values.
#: Its text and parameters are fixed whatever the number of messages.
_ARRAY_COLUMNS = (
    ("id", "text"),
    ("party_id", "text"),
    ("to_cipher", "text"),
    ("language", "text"),
    ("kind", "text"),
    ("data_cipher", "text"),
    ("event_id", "text"),
    ("status", "text"),
    ("attempts", "int"),
    ("next_attempt_at_ns", "bigint"),
    ("locked_until_ns", "bigint"),
    ("to_last4", "text"),
    ("created_at_ns", "bigint"),
)
FROM_ARRAYS = (
    "INSERT INTO sms_messages ("  # noqa: S608 (column names and placeholders only)
    + ", ".join(name for name, _ in _ARRAY_COLUMNS)
    + ") SELECT * FROM unnest("
    + ", ".join(f"CAST(:sms_{name} AS {kind}[])" for name, kind in _ARRAY_COLUMNS)
    + ")"
)
ARRAY_PARAMS = tuple(f"sms_{name}" for name, _ in _ARRAY_COLUMNS)


def array_params(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``FROM_ARRAYS``' values for these rows (``_row``'s)."""
    params = {}
    for name, kind in _ARRAY_COLUMNS:
        column = [row[name] for row in rows]
        params[f"sms_{name}"] = text_array(column) if kind == "text" else int_array(column)
    return params


def _order_of(unit: Unit, order_id: Any) -> dict[str, Any]:
    """A shipment's order: its buyer (whom the parcel's texts are for) and short reference."""
    row = unit.conn.execute(
        select(orders.c.buyer_id, orders.c.short_ref).where(orders.c.id == order_id)
    ).first()
    return {"buyer_id": row[0], "short_ref": row[1]} if row is not None else {}


def queue_to_number(unit: Unit, to: str, language: str | None, kind: str, data: Any) -> str:
    """A message to a phone number (a one-time code: the number may have no party yet)."""
    row = _row(unit, kind, dict(data), to=to, language=texts.language_of(language))
    unit.conn.execute(insert(sms_messages).values(**row))
    return str(row["id"])


def queue_to_party(unit: Unit, party_id: str, kind: str, data: Any) -> str:
    row = _row(unit, kind, dict(data), party_id=party_id)
    unit.conn.execute(insert(sms_messages).values(**row))
    return str(row["id"])


def set_language(unit: Unit, party_id: str, language: str) -> None:
    """The party's language for SMS (and the pages once signed in)."""
    if language not in texts.LANGUAGES:
        raise invalid("language_invalid", "the language is en, fil or ceb", "language")
    unit.conn.execute(update(parties).where(parties.c.id == party_id).values(language=language))


# --- sending (the worker) ----------------------------------------------------------------------
@dataclass(frozen=True)
class Ready:
    message_id: str
    attempts: int
    to: str | None  # None: nobody to send to (a party without a phone): skipped
    text: str


def _claim(unit: Unit) -> list[str]:
    now = unit.now()
    query = (
        select(sms_messages.c.id)
        .where(
            sms_messages.c.status == "pending",
            sms_messages.c.next_attempt_at_ns <= now,
            sms_messages.c.locked_until_ns <= now,
        )
        .order_by(sms_messages.c.next_attempt_at_ns)
        .limit(limits.SMS_BATCH)
    )
    if not unit.db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    ids = list(unit.conn.execute(query).scalars())
    if ids:
        unit.conn.execute(
            update(sms_messages)
            .where(sms_messages.c.id.in_(ids))
            .values(locked_until_ns=now + limits.SMS_LEASE_SECONDS * _SECOND)
        )
    return ids


def _party(unit: Unit, party_id: str | None) -> Any:
    if party_id is None:
        return None
    query = select(parties.c.id, parties.c.name, parties.c.phone_cipher, parties.c.language)
    return unit.conn.execute(query.where(parties.c.id == party_id)).mappings().first()


def _phone(unit: Unit, party: Any) -> str | None:
    """The party's phone number: its own, else its web login's (a merchant onboarded with a
    login may have its number only there)."""
    if party["phone_cipher"] is not None:
        return unit.vault.open(party["phone_cipher"], f"phone:{party['id']}")
    login = unit.conn.execute(
        select(logins.c.id, logins.c.phone_cipher).where(logins.c.party_id == party["id"])
    ).first()
    if login is None:
        return None
    return unit.vault.open(login[1], f"login_phone:{login[0]}")


def _values(unit: Unit, kind: str, data: dict[str, Any], lang: str) -> dict[str, str]:
    """The raw values of a message as the text's placeholders."""
    values: dict[str, str] = {}
    if "amount_minor" in data:
        values["amount"] = texts.amount(int(data["amount_minor"]), str(data["currency"]))
    if "ref" in data:
        values["ref"] = str(data["ref"]) or "-"
    if "other" in data:
        other = _party(unit, data["other"])
        values["name"] = other["name"] if other is not None else "Tindahan"
    if "due" in data:
        values["date"] = texts.day(date.fromisoformat(str(data["due"])), lang)
    if "days" in data:
        values["days"] = str(int(data["days"]))
    if "code" in data:
        values["code"] = str(data["code"])
        values["minutes"] = str(limits.OTP_TTL_S // 60)
    return values


def _render(unit: Unit, message_id: str) -> Ready | None:
    row = unit.conn.execute(select(sms_messages).where(sms_messages.c.id == message_id)).mappings()
    found = row.first()
    if found is None or found["status"] != "pending":
        return None
    data = json.loads(unit.vault.open(found["data_cipher"], f"sms:{message_id}"))
    to, lang = None, found["language"]
    if found["to_cipher"] is not None:
        to = unit.vault.open(found["to_cipher"], f"sms-to:{message_id}")
    else:
        party = _party(unit, found["party_id"])
        to = _phone(unit, party) if party is not None else None
        lang = party["language"] if party is not None else None
    lang = texts.language_of(lang)
    text = texts.render(found["kind"], lang, _values(unit, found["kind"], data, lang))
    return Ready(message_id, found["attempts"], to, text)


def _render_all(unit: Unit, message_ids: list[str]) -> list[Ready | None]:
    """Every claimed message rendered in one read transaction (not one each)."""
    return [_render(unit, message_id) for message_id in message_ids]


def deliver_due(platform: Platform, provider: SmsProvider) -> tuple[int, int]:
    """One round: returns (sent, failed attempts)."""
    sent = failed = 0
    down = False
    claimed = platform.run(_claim)
    rendered = platform.run(partial(_render_all, message_ids=claimed), write=False)
    for message_id, ready in zip(claimed, rendered, strict=True):
        if down:
            platform.run(partial(_release, message_id=message_id))
            continue
        if ready is None:
            continue
        if ready.to is None:
            platform.run(partial(_skip, ready=ready))
            continue
        try:
            outcome = provider.send(ready.to, ready.text, ready.message_id)
        except Exception as exc:  # an adapter's bug or a transport error: a failed attempt
            outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
        platform.run(partial(_record, ready=ready, provider=provider.name, outcome=outcome))
        if outcome.ok:
            sent += 1
        else:
            failed += 1
            down = not outcome.permanent
    return sent, failed


def _release(unit: Unit, message_id: str) -> None:
    unit.conn.execute(
        update(sms_messages).where(sms_messages.c.id == message_id).values(locked_until_ns=0)
    )


def _skip(unit: Unit, ready: Ready) -> None:
    unit.conn.execute(
        update(sms_messages)
        .where(sms_messages.c.id == ready.message_id)
        .values(status="skipped", locked_until_ns=0, last_error="no phone number")
    )


def _record(unit: Unit, ready: Ready, provider: str, outcome: Outcome) -> None:
    now = unit.now()
    attempts = ready.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "locked_until_ns": 0,
        "provider": provider[:32],
        "last_error": (outcome.error or "")[:500] or None,
        "to_last4": ready.to[-4:] if ready.to else None,
    }
    if outcome.ok:
        values.update(
            status="sent",
            sent_at_ns=now,
            provider_message_id=(outcome.provider_message_id or "")[:100] or None,
            text_cipher=unit.vault.seal(ready.text, f"sms-text:{ready.message_id}"),
        )
    elif outcome.permanent or attempts >= limits.SMS_MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        delay = next_delay_seconds(attempts, base=limits.SMS_BACKOFF_BASE_S)
        values.update(next_attempt_at_ns=now + delay * _SECOND)
    unit.conn.execute(
        update(sms_messages).where(sms_messages.c.id == ready.message_id).values(**values)
    )


# --- the console's "Sent SMS" ------------------------------------------------------------------
def _hidden(text: str) -> str:
    """A one-time code's digits replaced (a live environment's console)."""
    return "".join("•" if c.isdigit() else c for c in text)


def list_messages(
    unit: Unit, caller: Caller, limit: int, starting_after: str | None = None
) -> dict[str, Any]:
    """Operator only: the outbox, newest first, with the text of what was sent."""
    caller.require_operator()
    live = environment(unit) == "live"
    made = sms_messages.c.created_at_ns
    query = select(sms_messages).order_by(made.desc(), sms_messages.c.id.desc())
    if starting_after:
        at = unit.conn.execute(
            select(made).where(sms_messages.c.id == starting_after)
        ).scalar_one_or_none()
        if at is None:
            raise invalid("cursor_invalid", "starting_after is not a message", "starting_after")
        query = query.where(or_(made < at, and_(made == at, sms_messages.c.id < starting_after)))
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    items = []
    for row in found[:limit]:
        text = None
        if row["text_cipher"] is not None:
            text = unit.vault.open(row["text_cipher"], f"sms-text:{row['id']}")
            if live and row["kind"] in texts.CODE_KINDS:
                text = _hidden(text)
        items.append(
            {
                "id": row["id"],
                "object": "sms",
                "kind": row["kind"],
                "party_id": row["party_id"],
                "to_last4": row["to_last4"],
                "status": row["status"],
                "attempts": row["attempts"],
                "provider": row["provider"],
                "last_error": row["last_error"],
                "text": text,
                "created": iso(row["created_at_ns"]),
                "sent_at": iso(row["sent_at_ns"]),
            }
        )
    return page(items, len(found) > limit)


def sent_to(unit: Unit, phone: str) -> list[str]:
    """The texts sent to ``phone``, oldest first: what the local gateway's "phone" received
    (the demo and the tests read one-time codes here). Test environments only."""
    if environment(unit) == "live":
        raise invalid("environment_live", "only a test environment reads sent texts", "phone")
    phone = phone_number(phone)
    rows = unit.conn.execute(
        select(
            sms_messages.c.id,
            sms_messages.c.to_cipher,
            sms_messages.c.party_id,
            sms_messages.c.text_cipher,
        )
        .where(sms_messages.c.status == "sent")
        .order_by(sms_messages.c.sent_at_ns, sms_messages.c.id)
    ).mappings()
    found = []
    for row in rows:
        to: str | None
        if row["to_cipher"] is not None:
            to = unit.vault.open(row["to_cipher"], f"sms-to:{row['id']}")
        else:
            party = _party(unit, row["party_id"])
            to = _phone(unit, party) if party is not None else None
        if to == phone:
            found.append(unit.vault.open(row["text_cipher"], f"sms-text:{row['id']}"))
    return found
