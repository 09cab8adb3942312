"""The operator's restructuring and write-off of a loan on a TigerBeetle ledger (issue 22).

Neither has a payer whose money must be reserved first: their transfers are plain posted
bookings between a loan's receivables and the book's own accounts (a restructuring's
penalty waived: ``op.loan.penalty`` → penalty; a write-off: ``op.loan.losses`` → each
receivable, and the reserve back to the settlement wallet), which the cluster refuses only
if the database and the cluster disagree (a bug). So they do not take the two-store
order's hold and post; they book their chain with ``cluster_booking.book_within`` from
inside the transaction that writes their rows, as the daily close does, after holding the
loan in a transaction of their own:

1. **claim** (database, under the Idempotency-Key): the SQL path's checks and figures
   (``loans.decide_restructure`` / ``decide_write_off``: every refusal, same codes), then
   ``loan_busy`` if another movement holds the loan; the loan held
   (``loans.ledger_hold`` = the entry's ``ltx_`` id) and the inputs kept (``loan_moves``:
   kind, business day, ``params``: a restructuring's term, monthly rate, waiver, note and the
   schedule's due dates; a write-off's note). The key's answer is ``pending``. Commit.
2. **book** (database, then cluster, one transaction): the loan read under its hold, the
   figures worked out again from the kept inputs (``plan_restructure`` / ``plan_write_off``:
   the same loan, nothing else booked on it, the same day and dates, so the same legs with
   the same ids), the SQL path's rows, entry and event (``apply_*``), the hold cleared, and
   the chain booked in the cluster last (``book_within``: a repeat answers ``exists``).
   Commit. Then the key's answer becomes the loan (the SQL path's).

A crash after 1 leaves the loan held and the inputs kept; a crash inside 2 after the
cluster booked leaves the cluster with transfers the rolled-back rows would have named.
Either way ``recover`` (a worker round) or the resend with the same key runs 2 again: the
same legs, ``exists`` in the cluster, the rows committed once. While held, the loan takes
no repayment (``loan_busy``) and the daily close leaves it for its next round (its
``blocked``), so nothing changes the figures between the crash and the finish.

Decisions. The entry's id (``ltx_``) is made in 1 and committed with the hold, before any
transfer exists; the transfers' ids are derived from it (``ledger_id(txn).…``, the SQL
path's form), so they are as fixed as ids derived from the loan and its version would be,
and the entry, its transfers and the kept inputs share one name (a write-off leaves the
version as it is: a version alone would not name it). The due dates are kept rather than
worked out again: a holiday added between a crash and its recovery would otherwise move
them. A refusal when the figures are worked out again in 2 (it cannot happen on a loan
held since 1) raises and leaves the loan held for an operator, as a refusal by the cluster
does. Restructuring a loan whose reserve the cluster and the database disagree on is the
cluster's refusal: the write-off's transaction rolls back and the loan stays held.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.services.ledger.cluster_booking import book_within
from tindahan.services.lending import loans
from tindahan.services.lending.views import LoanView
from tindahan.services.platform import idempotency
from tindahan.services.unit import Platform, Unit
from tindahan.store.lending_tables import loan_moves
from tindahan.store.lending_tables import loans as loan_rows
from tindahan.store.payment_tables import idempotency_keys

#: The key's answer between the claim and the book.
PENDING = "loan_operation"
KINDS = ("restructure", "write_off")
#: The crash points (``crash_hook`` is called with each once done): "booked" is inside
#: the book's transaction, after the cluster accepted the chain (if it has legs: a
#: restructuring that forgives nothing books none), before the commit.
STEPS = ("claim", "booked", "C")
#: Recovery leaves alone what is younger: the request that claimed it is still at work.
RECOVER_AFTER_S = 5
RECOVERY_BATCH = 100


def _no_crash(step: str) -> None:
    """Production: nothing happens between the steps."""


#: Called with each step's name once it is done; the crash-point tests make it raise.
crash_hook: Callable[[str], None] = _no_crash

Render = Callable[[Any], idempotency.Response]
RenderRefusal = Callable[[RefusalError], idempotency.Response]


def restructure(
    platform: Platform,
    caller: Caller,
    loan_id: str,
    inputs: dict[str, Any],
    scope: str,
    key: str,
    fingerprint: str,
    render: Render,
    render_refusal: RenderRefusal,
) -> idempotency.Response:
    """``POST /v1/loans/{id}/restructure`` on a TigerBeetle ledger (``inputs``: ``term``,
    ``rate_monthly``, ``waive_penalties``, ``note``, as the body has them)."""

    def claim(unit: Unit) -> dict[str, Any]:
        r = loans.decide_restructure(
            unit,
            caller,
            loan_id,
            inputs["term"],
            inputs["rate_monthly"],
            inputs["waive_penalties"],
            inputs["note"],
        )
        params = {
            "term": r.term,
            "monthly": str(r.monthly),
            "waive": r.waive,
            "note": r.note,
            "dates": [d.isoformat() for d in r.dates],
        }
        return _hold(unit, r.row, "restructure", r.tag, r.day, params)

    return _run(platform, scope, key, fingerprint, claim, render, render_refusal)


def write_off(
    platform: Platform,
    caller: Caller,
    loan_id: str,
    note: str | None,
    scope: str,
    key: str,
    fingerprint: str,
    render: Render,
    render_refusal: RenderRefusal,
) -> idempotency.Response:
    """``POST /v1/loans/{id}/write_off`` on a TigerBeetle ledger."""

    def claim(unit: Unit) -> dict[str, Any]:
        w = loans.decide_write_off(unit, caller, loan_id, note)
        return _hold(unit, w.row, "write_off", w.tag, w.day, {"note": w.note})

    return _run(platform, scope, key, fingerprint, claim, render, render_refusal)


def _hold(
    unit: Unit, row: Any, kind: str, txn: str, day: date, params: dict[str, Any]
) -> dict[str, Any]:
    """The claim's writes: the loan held by the entry's id, the inputs kept."""
    loans.require_unheld(row)
    unit.conn.execute(
        insert(loan_moves),
        {
            "id": txn,
            "loan_id": row["id"],
            "kind": kind,
            "amount_minor": 0,
            "source": "operator",
            "business_date": day.isoformat(),
            "created_at_ns": unit.now(),
            "params": json.dumps(params),
        },
    )
    unit.conn.execute(update(loan_rows).where(loan_rows.c.id == row["id"]).values(ledger_hold=txn))
    return {"object": PENDING, "id": txn, "loan_id": row["id"], "kind": kind, "status": "pending"}


def _run(
    platform: Platform,
    scope: str,
    key: str,
    fingerprint: str,
    claim: Callable[[Unit], dict[str, Any]],
    render: Render,
    render_refusal: RenderRefusal,
) -> idempotency.Response:
    """The claim under the key, then the book, then the key's answer (the module's order);
    a resend of one left pending finishes it first."""
    first = idempotency.run(platform, scope, key, fingerprint, claim, render, render_refusal)
    body = first.body
    if body.get("object") != PENDING or body.get("status") != "pending":
        return first  # refused in the claim, or the finished answer replayed
    if not first.replayed:
        crash_hook("claim")
    txn = str(body["id"])
    finish(platform, txn)
    return platform.run(lambda unit: _answer(unit, txn, scope, key, render, first.replayed))


def finish(platform: Platform, txn: str) -> bool:
    """Step 2 for the move ``txn`` if its loan is still held by it; whether it booked."""
    ledger = platform.ledger
    if ledger is None:
        raise RuntimeError("a loan's operation on the cluster needs a TigerBeetle ledger")
    done = platform.run(lambda unit: _book(unit, ledger, txn))
    if done:
        crash_hook("C")
    return done


def _book(unit: Unit, ledger: LedgerPort, txn: str) -> bool:
    move = unit.conn.execute(select(loan_moves).where(loan_moves.c.id == txn)).mappings().one()
    query = select(loan_rows).where(loan_rows.c.id == move["loan_id"])
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().one()
    if row["ledger_hold"] != txn:
        return False  # booked already (by the request, its resend or recovery)
    params = json.loads(move["params"])
    day = date.fromisoformat(move["business_date"])
    try:
        batch = _apply(unit, row, move["kind"], txn, day, params)
    except RefusalError as exc:  # the same inputs on a held loan: cannot happen
        raise RuntimeError(f"loan {row['id']}'s {move['kind']} {txn}: {exc.code}") from exc
    held = (loan_rows.c.id == row["id"]) & (loan_rows.c.ledger_hold == txn)
    unit.conn.execute(update(loan_rows).where(held).values(ledger_hold=None))
    if batch:
        book_within(unit, ledger, batch)
    crash_hook("booked")
    return True


def _apply(
    unit: Unit, row: Any, kind: str, txn: str, day: date, params: dict[str, Any]
) -> list[NewTransfer]:
    """The kept inputs' figures worked out again and the SQL path's rows written; the legs."""
    if kind == "restructure":
        dates = tuple(date.fromisoformat(d) for d in params["dates"])
        monthly = Decimal(params["monthly"])
        r = loans.plan_restructure(
            unit, row, params["term"], monthly, params["waive"], day, dates, txn, params["note"]
        )
        loans.apply_restructure(unit, r)
        return r.batch
    w = loans.plan_write_off(unit, row, day, txn, params["note"])
    loans.apply_write_off(unit, w)
    return w.batch


def _answer(
    unit: Unit, txn: str, scope: str, key: str, render: Render, replayed: bool
) -> idempotency.Response:
    """The loan as it stands, stored under the key in place of ``pending`` once booked."""
    where = (idempotency_keys.c.scope == scope) & (idempotency_keys.c.key == key)
    stored = unit.conn.execute(select(idempotency_keys).where(where)).mappings().one()
    body = json.loads(stored["response_body"])
    move = unit.conn.execute(select(loan_moves).where(loan_moves.c.id == txn)).mappings().one()
    row = unit.conn.execute(select(loan_rows).where(loan_rows.c.id == move["loan_id"]))
    loan = row.mappings().one()
    if body.get("status") != "pending" or loan["ledger_hold"] == txn:
        return idempotency.Response(stored["status_code"], body, replayed=replayed)
    view: LoanView = loans.view(unit, loan)
    response = render(view)
    unit.conn.execute(
        update(idempotency_keys)
        .where(where)
        .values(status_code=response.status_code, response_body=response.stored_body())
    )
    return idempotency.Response(response.status_code, response.body, replayed=replayed)


def recover(platform: Platform, older_than_s: int = RECOVER_AFTER_S) -> int:
    """A worker round: every restructuring or write-off whose loan its claim still holds
    (older than ``older_than_s``) booked; how many it finished."""
    if platform.ledger is None:
        return 0
    cutoff = platform.now() - older_than_s * 10**9
    query = (
        select(loan_moves.c.id)
        .join(loan_rows, loan_rows.c.ledger_hold == loan_moves.c.id)
        .where(loan_moves.c.kind.in_(KINDS), loan_moves.c.created_at_ns <= cutoff)
        .order_by(loan_moves.c.created_at_ns)
        .limit(RECOVERY_BATCH)
    )
    found = platform.run(lambda unit: list(unit.conn.execute(query).scalars()), write=False)
    return sum(finish(platform, txn) for txn in found)
