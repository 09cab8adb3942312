"""Bank accounts, and money sent to them: the pages merchants (``/m/…``) and customers
(``/b/…``) share.

* ``/banks``: the person's bank accounts (bank from the participants directory, account
  number, account name), listed masked, added and removed.
* ``/send``: money from the main wallet to one of them. Two steps, like the Withdraw page:
  the account and amount are checked and shown back with the rail that will carry it, its
  fee and when it arrives (``services.rails.quotes``), and only "Confirm" sends it — once
  per form, by its idempotency key. On a TigerBeetle ledger it runs the API route's own A
  (``rails.cluster.reserve``) through the two-store order.
* ``/transfers/{id}``: one transfer's status in words — waiting to be sent, sent, credited,
  rejected (the bank's reason, in the reader's language) or returned.

The merchant's "Withdraw to a bank account" (``web.payouts``) uses the same review and
status pages. Everything runs as the signed-in person's own ``Caller``: another's account
or transfer id is "no such page" (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.payments import wallets
from tindahan.services.platform.logins import Viewer
from tindahan.services.rails import bank_accounts, participants, quotes, transfers
from tindahan.services.rails import cluster as rails_cluster
from tindahan.services.unit import Unit
from tindahan.web import forms, i18n, pin, render, session
from tindahan.web.i18n import _
from tindahan.web.merchant import pesos
from tindahan.web.router import router as make_router

router = make_router()

RECENT = 10
#: A service's ``param`` → the form field it is about.
FIELDS = {
    "bank": "bank",
    "account_number": "account_number",
    "account_name": "account_name",
    "bank_account_id": "account",
    "amount_minor": "amount",
}
KINDS = {"/m/": "merchant", "/b/": "customer"}


async def _holder(request: Request) -> Viewer:
    """A merchant under ``/m/``, a customer under ``/b/``."""
    viewer = await session.current(request)
    if viewer is None:
        raise session.SignInRequiredError(request.url.path)
    needed = KINDS[request.url.path[:3]]
    if viewer.kind != needed:
        raise session.WrongRoleError(needed)
    return viewer


Holder = Annotated[Viewer, Depends(_holder)]


def base(viewer: Viewer) -> str:
    return "/m" if viewer.kind == "merchant" else "/b"


def _read(request: Request, work: Any) -> Any:
    return run_in_threadpool(session.platform(request).run, work, write=False)


# --- words -----------------------------------------------------------------------------------
def rail_name(rail: str) -> str:
    return {"instapay": "InstaPay", "pesonet": "PESONet"}.get(rail, rail)


def reason_text(transfer: dict[str, Any]) -> str:
    """The bank's reason in the reader's language (``rails.reasons``' words)."""
    reason = transfer.get("reason")
    if not reason:
        return ""
    return str(reason["fil"] if i18n.language() == "fil" else reason["en"])


def status_words(transfer: dict[str, Any]) -> tuple[str, str, str]:
    """(headline, what it means for the money, badge class) for a transfer's status."""
    status = transfer["status"]
    if status == "settled":
        return (
            _("Credited"),
            _("The receiving bank has credited the account."),
            "good",
        )
    if status == "rejected":
        return (
            _("Rejected: {reason}").format(reason=reason_text(transfer)),
            _("The money is back in your wallet."),
            "bad",
        )
    if status == "returned":
        return (
            _("Returned: {reason}").format(reason=reason_text(transfer)),
            _("{amount} came back to your wallet.").format(
                amount=i18n.money(transfer["returned_minor"], transfer["currency"])
            ),
            "bad",
        )
    if transfer["sent"] is None:
        return (
            _("Waiting to be sent"),
            _("It leaves with the next {rail} clearing.").format(rail=rail_name(transfer["rail"])),
            "",
        )
    return (_("Sent"), _("Waiting for the receiving bank's answer."), "")


def arrival_text(found: dict[str, Any]) -> str:
    """When a quoted transfer arrives, in words."""
    if found["rail"] == "instapay":
        return _("Within seconds, any day and any time.")
    return _(
        "It leaves with the PESONet clearing of {day} at {time} and is credited that banking day."
    ).format(day=i18n.day(found["leaves_at"]), time=i18n.clock(found["leaves_at"]))


# --- bank accounts ---------------------------------------------------------------------------
def _banks(unit: Unit, caller: Caller) -> list[tuple[str, str]]:
    found = participants.list_participants(unit, caller, limits.MAX_PARTICIPANTS, active_only=True)[
        "data"
    ]
    return sorted(((p["code"], p["name"]) for p in found), key=lambda item: item[1])


def accounts_of(unit: Unit, caller: Caller) -> list[dict[str, Any]]:
    found = bank_accounts.list_accounts(unit, caller, limits.MAX_BANK_ACCOUNTS_PER_PARTY)
    return list(found["data"])


async def _accounts_page(
    request: Request, viewer: Viewer, status: int = 200, form: forms.Form | None = None
) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        return {
            "accounts": accounts_of(unit, viewer.caller),
            "banks": _banks(unit, viewer.caller),
        }

    context = await _read(request, work)
    if form is not None:
        context.update(values=form.values, errors=form.errors)
    return render.page(request, "banks/accounts.html", status, base=base(viewer), **context)


@router.get("/m/banks")
@router.get("/b/banks")
async def accounts_page(request: Request, viewer: Holder) -> Response:
    return await _accounts_page(request, viewer)


@router.post("/m/banks")
@router.post("/b/banks")
async def add_account(request: Request, viewer: Holder) -> Response:
    form = await forms.read(request)
    banks = dict(await _read(request, lambda u: _banks(u, viewer.caller)))
    bank = form.choice("bank", list(banks))
    number = form.text("account_number", max_length=40)
    name = form.text("account_name", max_length=limits.NAME_MAX_LENGTH)
    if not form.ok:
        return await _accounts_page(request, viewer, 400, form)
    new = bank_accounts.NewBankAccount(bank, number, name)

    def work(unit: Unit) -> dict[str, Any]:
        return {"id": bank_accounts.register(unit, viewer.caller, new)["id"]}

    try:
        await forms.run_submit(request, viewer, form, work)
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        form.refusal(refusal, FIELDS)
        return await _accounts_page(request, viewer, 400, form)
    return RedirectResponse(f"{base(viewer)}/banks?added=1", status_code=303)


@router.post("/m/banks/{account_id}/remove")
@router.post("/b/banks/{account_id}/remove")
async def remove_account(request: Request, viewer: Holder, account_id: str) -> Response:
    form = await forms.read(request)

    def work(unit: Unit) -> dict[str, Any]:
        return {"id": bank_accounts.remove(unit, viewer.caller, account_id)["id"]}

    await forms.run_submit(request, viewer, form, work)
    return RedirectResponse(f"{base(viewer)}/banks?removed=1", status_code=303)


# --- sending from the main wallet ------------------------------------------------------------
def recent_transfers(unit: Unit, caller: Caller) -> list[dict[str, Any]]:
    """The person's latest transfers to banks, newest first, with their accounts."""
    found = transfers.list_transfers(unit, caller, limits.MAX_PAGE_SIZE)["data"]
    latest = sorted(found, key=lambda t: t["created"], reverse=True)[:RECENT]
    return [with_account(unit, caller, t) for t in latest]


def with_account(unit: Unit, caller: Caller, transfer: dict[str, Any]) -> dict[str, Any]:
    """The transfer with whom it paid: its registered account, or (a QR Ph merchant's code of
    another institution) the merchant's account kept on the transfer, in the same shape."""
    if transfer["bank_account_id"] is not None:
        account = bank_accounts.get(unit, caller, transfer["bank_account_id"])
    else:
        paid = transfers.creditor_of(unit, caller, transfer["id"])
        account = {
            "id": None,
            "bank": paid.bank.code,
            "bank_name": paid.bank.name,
            "bic": paid.bank.bic,
            "account_number_masked": "•••• " + paid.account_number[-4:],
            "account_name": paid.account_name,
        }
    return {**transfer, "account": account}


def account_options(accounts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(id, "BDO •••• 7890 · Name") for a select."""
    return [
        (a["id"], f"{a['bank_name']} {a['account_number_masked']} · {a['account_name']}")
        for a in accounts
    ]


def _main_wallet(unit: Unit, caller: Caller) -> dict[str, Any] | None:
    found = wallets.list_wallets(unit, caller, 10, None, None)["data"]
    return next((w for w in found if w["kind"] == "main"), None)


async def _send_page(
    request: Request, viewer: Viewer, status: int = 200, form: forms.Form | None = None
) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        caller = viewer.caller
        return {
            "accounts": accounts_of(unit, caller),
            "wallet": _main_wallet(unit, caller),
            "transfers": recent_transfers(unit, caller),
        }

    context = await _read(request, work)
    if form is not None:
        context.update(values=form.values, errors=form.errors)
    return render.page(
        request,
        "banks/send.html",
        status,
        base=base(viewer),
        status_words=status_words,
        rail_name=rail_name,
        account_options=account_options(context["accounts"]),
        **context,
    )


@router.get("/m/send")
@router.get("/b/send")
async def send_page(request: Request, viewer: Holder) -> Response:
    return await _send_page(request, viewer)


def read_transfer_form(form: forms.Form) -> tuple[str, int] | None:
    """The account chosen and the amount, checked as text (the services check the rest)."""
    account = form.values.get("account", "")
    if not account:
        form.fail("account", _("Choose a bank account."))
    amount = form.money("amount")
    if not form.ok or amount is None:
        return None
    return account, amount


async def review_page(
    request: Request,
    viewer: Viewer,
    account: str,
    amount: int,
    *,
    action: str,
    source: str,
    back: str,
    errors: dict[str, str] | None = None,
    kind: str = "send",
    available_minor: int | None = None,
) -> Response | forms.Form:
    """The confirmation page (rail, fee, arrival; with ``errors``, a wrong PIN, again), or
    the form with the refusal beside its field when the transfer could not be made
    (nothing is sent here)."""
    form = forms.Form({"account": account, "amount": pesos(amount)})
    try:
        found = await _read(
            request, lambda u: quotes.quote(u, viewer.caller, account, amount, kind)
        )
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        form.refusal(refusal, FIELDS)
        return form
    if available_minor is not None and found["total_minor"] > available_minor:
        # A withdrawal's fee comes from the sales too (``services.payouts.banks``).
        form.fail(
            "amount",
            _("With the fee of {fee}, you can withdraw at most {amount} now.").format(
                fee=i18n.money(found["fee_minor"]),
                amount=i18n.money(max(available_minor - found["fee_minor"], 0)),
            ),
        )
        return form
    return render.page(
        request,
        "banks/confirm.html",
        400 if errors else 200,
        errors=errors or {},
        quote=found,
        action=action,
        back=back,
        source=source,
        amount_text=pesos(amount),
        rail_name=rail_name,
        arrival=arrival_text(found),
    )


@router.post("/m/send/review")
@router.post("/b/send/review")
async def send_review(request: Request, viewer: Holder) -> Response:
    form = await forms.read(request)
    typed = read_transfer_form(form)
    if typed is not None:
        shown = await review_page(
            request,
            viewer,
            *typed,
            action=f"{base(viewer)}/send",
            source=_("Main wallet"),
            back=f"{base(viewer)}/send",
        )
        if isinstance(shown, Response):
            return shown
        form.errors.update(shown.errors)
    return await _send_page(request, viewer, 400, form)


@router.post("/m/send")
@router.post("/b/send")
async def send(request: Request, viewer: Holder) -> Response:
    form = await forms.read(request)
    typed = read_transfer_form(form)
    if typed is not None and not await pin.confirmed(request, viewer, form):
        shown = await review_page(
            request,
            viewer,
            *typed,
            action=f"{base(viewer)}/send",
            source=_("Main wallet"),
            back=f"{base(viewer)}/send",
            errors=form.errors,
        )
        if isinstance(shown, Response):
            return shown
        form.errors.update(shown.errors)
        typed = None
    if typed is not None:
        new = transfers.NewBankTransfer(*typed)

        def work(unit: Unit) -> dict[str, Any]:
            return {"id": transfers.create(unit, viewer.caller, new)["id"]}

        try:
            on_cluster = rails_cluster.reserve(  # a TigerBeetle ledger: the API's A
                lambda u: transfers.check(u, viewer.caller, new)
            )
            made = await forms.run_submit(
                request, viewer, form, work, on_cluster, rails_cluster.RECORD
            )
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, FIELDS)
        else:
            return RedirectResponse(f"{base(viewer)}/transfers/{made['id']}", status_code=303)
    return await _send_page(request, viewer, 400, form)


# --- one transfer ----------------------------------------------------------------------------
@router.get("/m/transfers/{transfer_id}")
@router.get("/b/transfers/{transfer_id}")
async def transfer_page(request: Request, viewer: Holder, transfer_id: str) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        caller = viewer.caller
        return with_account(unit, caller, transfers.get(unit, caller, transfer_id))

    found = await _read(request, work)
    headline, meaning, badge = status_words(found)
    return render.page(
        request,
        "banks/transfer.html",
        transfer=found,
        headline=headline,
        meaning=meaning,
        badge=badge,
        base=base(viewer),
        rail_name=rail_name,
    )
