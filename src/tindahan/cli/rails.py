"""``tindahan rails read``: an ISO 20022 message on the command line (issue 19's contract);
``tindahan rails participants list|add|set``: the operator's participants directory;
``tindahan rails switch [--port P] [--faults PROFILE] [--db FILE]``: the simulated clearing
house, its state in its own SQLite file (``switch.journal``);
``tindahan rails recalls list|decide``: banks' recalls of inbound transfers (operator);
``tindahan rails fees [--instapay-send MINOR ...] [--json]``: the fee per rail and kind;
``tindahan rails reconcile --date YYYY-MM-DD [--db URL] [--statement FILE] [--json]``: a
day's movements on the clearing accounts against the switch's camt.053 statement.

``read FILE`` validates the message against its schema and prints what it says: the
message type (its full ISO identifier, e.g. ``pacs.008.001.08``), message id and, per
transaction, UETR, EndToEndId, amount, currency, debtor and creditor names and accounts,
status and reason. ``--json`` prints one JSON object with keys ``message_type``,
``message_id`` and ``transactions`` (objects with ``uetr``, ``end_to_end_id``, ``amount``
as a decimal string, ``currency``, ``debtor_name``, ``creditor_name``, ``status``,
``reason``, and also ``debtor_account``, ``creditor_account``, ``reason_text``). Exit 0
when valid; exit 2 with one line ``error: <problem>: <detail>`` when not, the problem being
one of: too large, not XML, entity declarations, unknown message, schema-invalid, invalid.

``reconcile`` reads the statement from FILE, or fetches it from the configured switch
(``TINDAHAN_RAILS_SWITCH_URL``, ``TINDAHAN_RAILS_SECRET``), matches and stores the day's
result (``services.rails.reconciliation``), and prints a table of the breaks, or with
``--json`` one object ``{"date", "statement_id", "matched", "breaks": [{"kind", "uetr",
"end_to_end_id", "direction", "currency", "ours_amount", "theirs_amount", ...}], "ran"}``.
Exit 0 when the day is clean, 1 when there are breaks, 2 on bad input (a bad date, a
statement unreadable, invalid, of another day or account) with one line naming it.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from tindahan import limits
from tindahan.cli.errors import fail, friendly
from tindahan.cli.ledger import DbOption
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.switch.journal import DEFAULT_PATH as DEFAULT_SWITCH_DB

app = typer.Typer(help="Bank rails: InstaPay and PESONet messages (ISO 20022).")
out = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")

if TYPE_CHECKING:
    from tindahan.rails import Message, Transaction
    from tindahan.services.unit import Unit


def _load(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(limits.MAX_RAIL_MESSAGE_BYTES + 1)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
        raise AssertionError("unreachable") from None


def _amount(item: Transaction) -> str | None:
    from tindahan.money import from_minor

    if item.amount_minor is None or item.currency is None:
        return None
    return str(from_minor(item.amount_minor, item.currency))


def as_json(message: Message) -> dict[str, Any]:
    return {
        "message_type": message.message_type.value,
        "message_id": message.message_id,
        "transactions": [_row(item) for item in message.transactions],
    }


def _row(item: Transaction) -> dict[str, Any]:
    from tindahan.rails.reasons import reason_words

    debtor, creditor = item.debtor, item.creditor
    return {
        "uetr": item.uetr,
        "end_to_end_id": item.end_to_end_id,
        "amount": _amount(item),
        "currency": item.currency,
        "debtor_name": debtor.name if debtor else None,
        "debtor_account": debtor.account if debtor else None,
        "creditor_name": creditor.name if creditor else None,
        "creditor_account": creditor.account if creditor else None,
        "status": item.status,
        "reason": item.reason,
        "reason_text": reason_words(item.reason) if item.reason else None,
    }


@app.command("read")
def read(
    file: Annotated[Path, typer.Argument(help="The message (XML file)")],
    as_object: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Validate a pacs.008/002/028/004 or camt.053/054 message and print what it says."""
    from tindahan.rails import MessageError
    from tindahan.rails.xml import read as read_message

    try:
        message = read_message(_load(file))
    except MessageError as exc:
        fail(str(exc))
        return
    if as_object:
        typer.echo(json.dumps(as_json(message), ensure_ascii=False))
        return
    _print(message)


def _print(message: Message) -> None:
    from rich.markup import escape

    from tindahan.rails.reasons import reason_words, status_words

    out.print(f"{message.message_type.value}  message id {escape(message.message_id)}")
    if message.account:
        out.print(f"account {escape(message.account)}")
    for number, item in enumerate(message.transactions, start=1):
        row = _row(item)
        amount = f"{row['amount']} {row['currency']}" if row["amount"] else "-"
        if item.credit_debit:
            amount += " credit" if item.credit_debit == "CRDT" else " debit"
        uetr, e2e = row["uetr"] or "-", row["end_to_end_id"] or "-"
        out.print(f"{number}. {amount}  UETR {uetr}  EndToEndId {escape(e2e)}")
        for side in ("debtor", "creditor"):
            if row[f"{side}_name"] or row[f"{side}_account"]:
                name, account = row[f"{side}_name"] or "-", row[f"{side}_account"] or "-"
                out.print(f"   {side}: {escape(name)}  account {escape(account)}")
        if item.status:
            out.print(f"   status: {item.status} ({status_words(item.status)})")
        if item.reason:
            note = f" — {item.note}" if item.note else ""
            out.print(f"   reason: {item.reason} ({reason_words(item.reason)}){escape(note)}")


# --- the participants directory (operator) -------------------------------------------------
participants_app = typer.Typer(help="The participants directory: banks and e-money issuers.")
app.add_typer(participants_app, name="participants")
OPERATOR = Caller("cli", None, frozenset(SCOPES))


def _run(db: str | None, work: Callable[[Unit], T]) -> T:
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        return Platform(database, open_vault(database)).run(work)


def _print_participant(row: dict[str, Any]) -> None:
    from rich.markup import escape

    rails = [name for name in ("instapay", "pesonet") if row[name]]
    state = "active" if row["active"] else "inactive"
    out.print(
        f"{row['code']:<10} {row['bic']:<11}  {', '.join(rails) or 'no rail':<17} {state:<8} "
        f"{escape(row['name'])}"
    )


@participants_app.command("list")
@friendly
def list_participants(
    db: DbOption = None,
    as_object: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Every participant, by code."""
    from tindahan.services.rails import participants

    result = _run(
        db,
        lambda u: participants.list_participants(u, OPERATOR, limits.MAX_PARTICIPANTS),
    )
    if as_object:
        typer.echo(json.dumps(result["data"], ensure_ascii=False))
        return
    for row in result["data"]:
        _print_participant(row)


@participants_app.command("add")
@friendly
def add_participant(
    code: Annotated[str, typer.Argument(help="Short code, e.g. BDO")],
    bic: Annotated[str, typer.Option("--bic", help="BIC, 8 or 11 characters")],
    name: Annotated[str, typer.Option("--name", help="The institution's name")],
    instapay: Annotated[bool, typer.Option("--instapay/--no-instapay")] = False,
    pesonet: Annotated[bool, typer.Option("--pesonet/--no-pesonet")] = False,
    db: DbOption = None,
) -> None:
    """Add a participant to the directory."""
    from tindahan.services.rails import participants

    new = participants.NewParticipant(code, bic, name, instapay, pesonet)
    _print_participant(_run(db, lambda u: participants.create(u, OPERATOR, new)))


@participants_app.command("set")
@friendly
def set_participant(
    code: Annotated[str, typer.Argument(help="The participant's code")],
    bic: Annotated[str | None, typer.Option("--bic")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    instapay: Annotated[bool | None, typer.Option("--instapay/--no-instapay")] = None,
    pesonet: Annotated[bool | None, typer.Option("--pesonet/--no-pesonet")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    db: DbOption = None,
) -> None:
    """Change a participant: BIC, name, memberships, or stop routing to it (--inactive)."""
    from tindahan.services.rails import participants

    given = {"bic": bic, "name": name, "instapay": instapay, "pesonet": pesonet, "active": active}
    fields: dict[str, object] = {key: value for key, value in given.items() if value is not None}
    if not fields:
        fail("say what to change: --bic, --name, --instapay/--no-instapay, ...")
    _print_participant(_run(db, lambda u: participants.change(u, OPERATOR, code, fields)))


# --- fees per rail ------------------------------------------------------------------------
@app.command("fees")
@friendly
def rail_fees(
    instapay_payout: Annotated[int | None, typer.Option(help="Centavos per payout")] = None,
    instapay_send: Annotated[int | None, typer.Option(help="Centavos per send")] = None,
    pesonet_payout: Annotated[int | None, typer.Option(help="Centavos per payout")] = None,
    pesonet_send: Annotated[int | None, typer.Option(help="Centavos per send")] = None,
    db: DbOption = None,
    as_object: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """The flat fee per bank transfer, per rail and kind (a merchant's payout of its sales,
    or a send from a main wallet); with options, set them first (operator)."""
    from tindahan.money import from_minor
    from tindahan.services.platform import fees

    given = {
        "instapay_payout_fee_minor": instapay_payout,
        "instapay_send_fee_minor": instapay_send,
        "pesonet_payout_fee_minor": pesonet_payout,
        "pesonet_send_fee_minor": pesonet_send,
    }
    changes = {key: value for key, value in given.items() if value is not None}

    def work(unit: Unit) -> dict[str, Any]:
        if changes:
            return fees.put_fee_settings(unit, OPERATOR, changes)
        return fees.fees_view(unit, OPERATOR)

    found = _run(db, work)
    shown = {key: found[key] for key in given}
    if as_object:
        typer.echo(json.dumps(shown))
        return
    for key, value in shown.items():
        rail, kind = key.split("_")[:2]
        out.print(f"{rail:<9} {kind:<7} {from_minor(value, 'PHP')} PHP")


# --- recalls of inbound transfers (item 5) --------------------------------------------------
recalls_app = typer.Typer(help="Banks' recalls (camt.056) of money sent to wallets.")
app.add_typer(recalls_app, name="recalls")


def _print_recall(row: dict[str, Any]) -> None:
    from rich.markup import escape

    from tindahan.money import from_minor

    amount = from_minor(row["amount_minor"], row["currency"])
    reason = row["reason"]["code"] if row["reason"] else "-"
    said = f"  ({row['rejection']['code']}: {row['rejection']['en']})" if row["rejection"] else ""
    out.print(
        f"{row['id']}  {row['status']:<8} {amount} {row['currency']}  reason {reason}  "
        f"from {row['bank'] or '-'}  UETR {row['uetr']}{escape(said)}"
    )


@recalls_app.command("list")
@friendly
def list_recalls(
    status: Annotated[
        str | None, typer.Option("--status", help="pending, accepted or rejected")
    ] = None,
    db: DbOption = None,
    as_object: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """The recalls, oldest first (--status pending: what waits for a decision)."""
    from tindahan.services.rails import recalls

    result = _run(
        db,
        lambda u: recalls.list_recalls(u, OPERATOR, limits.MAX_PAGE_SIZE, status=status),
    )
    if as_object:
        typer.echo(json.dumps(result["data"], ensure_ascii=False))
        return
    for row in result["data"]:
        _print_recall(row)


@recalls_app.command("decide")
@friendly
def decide_recall(
    recall_id: Annotated[str, typer.Argument(help="The recall's id (rcl_…)")],
    accept: Annotated[
        bool, typer.Option("--accept/--reject", help="Send the money back, or keep it")
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="A rejection's reason: CUST, LEGL, ...")
    ] = None,
    db: DbOption = None,
) -> None:
    """Accept (the money goes back if the wallet still has it, else rejected AM04) or reject.
    The worker sends the pacs.004 and camt.029 to the clearing switch."""
    from tindahan.services.rails import recalls

    decision = "accept" if accept else "reject"
    _print_recall(_run(db, lambda u: recalls.decide(u, OPERATOR, recall_id, decision, reason)))


# --- the simulated clearing switch (item 6) ----------------------------------------------
@app.command("switch")
@friendly
def switch(
    port: Annotated[int, typer.Option("--port", min=1024, max=65535)] = 8619,
    faults: Annotated[
        str,
        typer.Option("--faults", help="none, rejected, late, duplicated, lost, returned, recalled"),
    ] = "none",
    tindahan_url: Annotated[
        str | None,
        typer.Option(
            "--tindahan", help="Tindahan's API (e.g. http://127.0.0.1:8000): banks pay wallets"
        ),
    ] = None,
    database: Annotated[
        Path,
        typer.Option("--db", help="The switch's own SQLite file (kept across restarts)"),
    ] = DEFAULT_SWITCH_DB,
    holidays: Annotated[
        list[str] | None,
        typer.Option(
            "--holiday",
            help="A day with no PESONet clearing, YYYY-MM-DD (repeat), besides the regular "
            "Philippine holidays of the lending calendar",
        ),
    ] = None,
    pesonet_at_once: Annotated[
        bool, typer.Option("--pesonet-at-once", help="Settle PESONet on arrival, no cut-offs")
    ] = False,
) -> None:
    """Run the simulated InstaPay/PESONet clearing house on 127.0.0.1 (its own process).

    Requests must be signed with $TINDAHAN_RAILS_SECRET; Tindahan's worker reaches it when
    TINDAHAN_RAILS_SWITCH_URL and the same secret are set. What it knows is kept in its own
    SQLite file (--db, default ./var/switch.sqlite3); PESONet settles at the cut-offs, and
    its banks' PESONet transfers to Tindahan wallets are delivered at them."""
    import uvicorn

    from tindahan.lending.calendar import philippine_regular_holidays
    from tindahan.services.rails import participants
    from tindahan.services.rails.transfers import our_bic
    from tindahan.switch.app import create_app
    from tindahan.switch.clearing import PROFILES, ClearingHouse
    from tindahan.switch.journal import Journal
    from tindahan.switch.settlement import SettlementAccount
    from tindahan.worker import rails as worker_rails

    secret = os.environ.get(worker_rails.SECRET_ENV)
    if not secret:
        fail(f"set {worker_rails.SECRET_ENV} (the secret Tindahan signs its requests with)")
        return
    if faults not in PROFILES:
        fail(f"--faults is one of {', '.join(PROFILES)}")
        return
    this_year = datetime.now(UTC).year  # and the next: a December wait crosses into it
    regular = {
        day for year in (this_year, this_year + 1) for day in philippine_regular_holidays(year)
    }
    days = frozenset(regular | {_holiday(text) for text in holidays or ()})
    try:
        journal = Journal(database)
    except (ValueError, sqlite3.Error) as exc:
        fail(f"--db {database}: {exc}")
        return
    house = ClearingHouse(
        participants.seed_rows(),
        faults,
        settlement=SettlementAccount(account=our_bic()),
        journal=journal,
        pesonet_cutoffs=not pesonet_at_once,
        holidays=days,
    )
    out.print(
        f"clearing switch on http://127.0.0.1:{port} (faults: {faults}; database: {database})"
    )
    uvicorn.run(
        create_app(house, secret, tindahan_url), host="127.0.0.1", port=port, log_level="warning"
    )


# --- reconciliation (item 7) ------------------------------------------------------------------
KIND_WORDS = {
    "missing_ours": "missing on our side",
    "missing_theirs": "missing on theirs",
    "amount_mismatch": "amount mismatch",
    "date_mismatch": "date mismatch",
}


def _holiday(text: str) -> date:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    fail(f"--holiday must be a date YYYY-MM-DD, got {text!r}")
    raise AssertionError("unreachable")


def _day(text: str) -> date:
    """A calendar date written YYYY-MM-DD exactly (not the other forms ISO 8601 allows)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    fail(f"--date must be a date YYYY-MM-DD, got {text!r}")
    raise AssertionError("unreachable")


def _statement(file: Path | None, day: date) -> bytes:
    import httpx

    from tindahan.worker import rails as worker_rails

    if file is not None:
        return _load(file)
    rail = worker_rails.from_environment()
    if rail is None:
        fail(
            f"no --statement FILE and no switch to fetch it from (set "
            f"{worker_rails.URL_ENV} and {worker_rails.SECRET_ENV})"
        )
        raise AssertionError("unreachable")
    try:
        return rail.statement(day)
    except httpx.HTTPError as exc:
        fail(f"cannot fetch the statement from the switch: {exc}")
        raise AssertionError("unreachable") from None


@app.command("reconcile")
@friendly
def reconcile(
    day_text: Annotated[str, typer.Option("--date", help="The Manila day, YYYY-MM-DD")],
    db: DbOption = None,
    statement: Annotated[
        Path | None, typer.Option("--statement", help="The camt.053 (else fetched)")
    ] = None,
    as_object: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Match a day's movements on the clearing accounts against the switch's statement."""
    from tindahan.services.rails import reconciliation

    day = _day(day_text)
    message = reconciliation.read_statement(_statement(statement, day), day)
    result = _run(db, lambda u: reconciliation.run(u, OPERATOR, day, message))
    if as_object:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print_reconciliation(result)
    raise typer.Exit(1 if result["breaks"] else 0)


def _print_reconciliation(result: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Column, Table

    breaks = result["breaks"]
    out.print(
        f"{result['date']}  statement {escape(result['statement_id'])}  "
        f"matched {result['matched']}  breaks {len(breaks)}"
    )
    if not breaks:
        out.print("clean: every movement is on both sides")
        return
    table = Table(
        Column("kind", no_wrap=True),  # what the row says, never broken over lines
        Column("UETR", overflow="fold"),
        Column("EndToEndId", overflow="fold"),
        "way",
        Column("ours", justify="right"),
        Column("theirs", justify="right"),
        "our day",
        "their day",
    )
    for found in breaks:
        table.add_row(
            KIND_WORDS[found["kind"]],
            found["uetr"] or "-",
            escape(found["end_to_end_id"] or "-"),
            found["direction"],
            found["ours_amount"] or "-",
            found["theirs_amount"] or "-",
            found["ours_date"] or "-",
            found["theirs_date"] or "-",
        )
    out.print(table)
