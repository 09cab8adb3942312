"""The merchant's money pages: the dashboard, the wallet statements (and their CSV), the QR
poster.

**What "sales" means here.** The dashboard's sales are ``services.payments.sales.daily_sales``:
merchant payments to this merchant (QR and direct; succeeded, partly or fully refunded) at
their creation for their gross amount, plus online orders at their payment for their total —
the same events the credit model reads, so the figures a merchant sees are the ones its
loan offer is computed from. Refunds are not netted out of the day of the sale (they show on
the statement on their own day). Days and months are Manila's (UTC+8).

**Statements.** Both wallets (``main`` and ``settlement``: sales land in settlement) are
listed newest first from ``services.payments.wallets.statement``, each with its own "older" cursor.
The CSV of one wallet's month has fixed English column names and machine-readable types, so
a spreadsheet reads it the same in either language; amounts are pesos written from integer
centavos with ``divmod`` (never a float), and the running balance starts from the posted
balance before the month (``services.payments.wallets.balance_before``).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, invalid
from tindahan.payments.model import TransferCode
from tindahan.payments.periods import PHILIPPINE_TIME
from tindahan.services.payments import sales, wallets
from tindahan.services.qr import codes as qrcodes
from tindahan.services.qr import pay as qrpay
from tindahan.services.unit import Unit
from tindahan.web import charts, i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant

router = make_router()

CHART_DAYS = 90
#: Days at either end of the chart that get no label (half a label's width).
TICK_MARGIN = 5
RECENT = 10
STATEMENT_PAGE = 25
WALLET_KINDS = ("settlement", "main")
Cursor = Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)]


# --- shared pieces -----------------------------------------------------------------------
def my_wallets(unit: Unit, caller: Caller) -> dict[str, dict[str, Any]]:
    found = wallets.list_wallets(unit, caller, 10, None, None)["data"]
    return {w["kind"]: w for w in found}


def entry_label(code: int, direction: str) -> str:
    """What a statement line is, in words a store owner uses."""
    incoming = direction == "credit"
    labels = {
        TransferCode.MERCHANT_PAYMENT: _("Sale"),
        TransferCode.MERCHANT_DISCOUNT: _("Merchant fee"),
        TransferCode.P2P: _("Money received") if incoming else _("Money sent"),
        TransferCode.REFUND: _("Refund received") if incoming else _("Refund to buyer"),
        TransferCode.REFUND_FEE_RETURN: _("Fee returned"),
        TransferCode.CASH_IN: _("Cash in"),
        TransferCode.CASH_OUT: _("Cash out"),
        TransferCode.AGENT_COMMISSION: _("Agent commission"),
        TransferCode.FUNDING: _("Money added"),
        TransferCode.ESCROW_IN: _("Order payment"),
        TransferCode.ESCROW_RELEASE: _("Order payout"),
        TransferCode.MARKETPLACE_FEE: _("Marketplace fee"),
        TransferCode.ESCROW_REFUND: _("Order refund"),
        TransferCode.LOAN_DISBURSEMENT: _("Loan received"),
        TransferCode.LOAN_FEE: _("Loan fee"),
        TransferCode.LOAN_REPAYMENT: _("Loan repayment"),
        TransferCode.LOAN_SET_ASIDE: _("Set aside for your loan"),
        TransferCode.LOAN_RESERVE_RETURN: _("Loan reserve returned"),
        TransferCode.PAYOUT: _("Withdrawal from sales") if incoming else _("Withdrawal"),
        TransferCode.RISK_HOLD: _("Under review, for your safety"),
        TransferCode.RISK_RETURN: _("Returned after a review")
        if incoming
        else _("Sent back after a review"),
    }
    return labels.get(code, _("Transfer"))  # type: ignore[call-overload, no-any-return]


def code_name(code: int) -> str:
    try:
        return TransferCode(code).name.lower()
    except ValueError:
        return f"code_{code}"


def detail(entry: dict[str, Any], others: dict[str, dict[str, Any]]) -> str:
    """The other side and the payment's own words: ``Juan C. · Ref 123 · 2 kape``."""
    found = others.get(entry.get("payment_id") or "")
    if not found:
        return ""
    parts = [found["name"], found["reference"], found["description"]]
    return " · ".join(p for p in parts if p)


def described(unit: Unit, caller: Caller, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statement entries with ``label`` and ``detail`` for people."""
    ids = [e["payment_id"] for e in entries if e.get("payment_id")]
    others = sales.counterparties(unit, caller, ids)
    return [
        {**e, "label": entry_label(e["code"], e["direction"]), "detail": detail(e, others)}
        for e in entries
    ]


def with_fees(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each sale with its merchant fee beside it (``fee_minor``) instead of a line of its
    own: one line per sale for the dashboard. The statement keeps every line."""
    sales_of = {
        e["payment_id"]
        for e in entries
        if e["code"] == TransferCode.MERCHANT_PAYMENT and e["payment_id"]
    }
    fees = {
        e["payment_id"]: e["amount_minor"]
        for e in entries
        if e["code"] == TransferCode.MERCHANT_DISCOUNT and e["payment_id"] in sales_of
    }
    out = []
    for e in entries:
        if e["code"] == TransferCode.MERCHANT_DISCOUNT and e["payment_id"] in sales_of:
            continue
        fee = fees.get(e["payment_id"]) if e["code"] == TransferCode.MERCHANT_PAYMENT else None
        out.append({**e, "fee_minor": fee})
    return out


# --- the dashboard -----------------------------------------------------------------------
@router.get("/m")
def dashboard(request: Request, viewer: Merchant) -> Response:
    caller = viewer.caller

    def work(unit: Unit) -> dict[str, Any]:
        assert caller.party_id is not None
        held = my_wallets(unit, caller)
        on = sales.today(unit)
        daily = sales.daily_sales(unit, caller, caller.party_id, CHART_DAYS, on)
        recent: list[dict[str, Any]] = []
        for wallet in held.values():
            found = wallets.statement(unit, caller, wallet["id"], 2 * RECENT, None, None, None)
            recent += found["data"]
        recent.sort(key=lambda e: e["created"], reverse=True)
        kinds = {w["id"]: w["kind"] for w in held.values()}
        shown = [{**e, "wallet": kinds[e["wallet_id"]]} for e in with_fees(recent)[:RECENT]]
        return {
            "wallets": held,
            "review": {
                k: wallets.under_review_minor(unit, caller, w["id"]) for k, w in held.items()
            },
            "today": on,
            "totals": sales.totals(daily, on),
            "chart": sales_chart(daily),
            "recent": described(unit, caller, shown),
        }

    found = session.platform(request).run(work, write=False)
    return render.page(request, "merchant/dashboard.html", **found)


def is_payday(day: date) -> bool:
    """The 15th and the last day of the month: when wages are paid, and stores sell more."""
    return day.day == 15 or (day + timedelta(days=1)).month != day.month


def sales_chart(daily: list[tuple[date, int, int]]) -> charts.Chart:
    """One bar a day; paydays in the accent colour; a tick on the 1st of each month (three
    or four labels: readable at 360 px)."""
    labels = [i18n.day(d, "d MMM") for d, _a, _c in daily]
    points = [(label, amount) for label, (_d, amount, _c) in zip(labels, daily, strict=True)]
    paydays = [label for label, (d, _a, _c) in zip(labels, daily, strict=True) if is_payday(d)]
    inner = range(TICK_MARGIN, len(daily) - TICK_MARGIN)  # a label at an edge would be cut
    ticks = [labels[i] for i in inner if daily[i][0].day == 1]
    return charts.bars(points, shown=ticks, highlight=paydays, text=i18n.money)


# --- statements --------------------------------------------------------------------------
@router.get("/m/wallet")
def wallet_page(
    request: Request,
    viewer: Merchant,
    main_after: Cursor = None,
    settlement_after: Cursor = None,
) -> Response:
    caller = viewer.caller
    cursors = {"main": main_after, "settlement": settlement_after}

    def work(unit: Unit) -> dict[str, Any]:
        held = my_wallets(unit, caller)
        shown = []
        for kind in WALLET_KINDS:
            wallet = held.get(kind)
            if wallet is None:
                continue
            found = wallets.statement(
                unit, caller, wallet["id"], STATEMENT_PAGE, cursors[kind], None, None
            )
            entries = described(unit, caller, found["data"])
            older = None
            if found["has_more"] and entries:
                older = {**{k + "_after": v for k, v in cursors.items() if v}}
                older[kind + "_after"] = entries[-1]["id"]
            review = wallets.under_review_minor(unit, caller, wallet["id"])
            shown.append({"wallet": wallet, "entries": entries, "older": older, "review": review})
        return {"statements": shown, "month": sales.today(unit).strftime("%Y-%m")}

    found = session.platform(request).run(work, write=False)
    return render.page(request, "merchant/wallet.html", **found)


@router.get("/m/wallet/statement.csv")
def statement_csv(
    request: Request,
    viewer: Merchant,
    wallet: Annotated[str, Query(max_length=20)] = "settlement",
    month: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    if wallet not in WALLET_KINDS:
        text = _("Choose the main or the settlement wallet.")
        raise RefusalError(Category.INVALID, "wallet_invalid", text, "wallet")
    try:
        start, end = sales.month_bounds(month)
    except RefusalError:
        text = _("Choose a month, written like 2026-11.")
        raise RefusalError(Category.INVALID, "month_invalid", text, "month") from None
    caller = viewer.caller

    def work(unit: Unit) -> str:
        held = my_wallets(unit, caller)[wallet]
        opening = wallets.balance_before(unit, caller, held["id"], start)
        entries: list[dict[str, Any]] = []
        after = None
        while True:
            found = wallets.statement(
                unit, caller, held["id"], limits.MAX_PAGE_SIZE, after, start, end
            )
            entries += found["data"]
            if len(entries) > limits.STATEMENT_CSV_MAX_ROWS:
                message = "this month has too many lines for one file: use the API"
                raise invalid("statement_too_long", message, "month")
            if not found["has_more"]:
                break
            after = found["data"][-1]["id"]
        paid = [e["payment_id"] for e in entries if e["payment_id"]]
        others = sales.counterparties(unit, caller, paid)
        return statement_text(list(reversed(entries)), opening, others)

    body = session.platform(request).run(work, write=False)
    name = f"tindahan-{wallet}-{month}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


CSV_COLUMNS = (
    "time",
    "type",
    "description",
    "direction",
    "amount_php",
    "balance_php",
    "status",
    "transfer_id",
)
#: Statement phases that changed the posted balance.
POSTED = ("posted", "posted_hold")


def pesos(amount_minor: int) -> str:
    """``-123456`` → ``-1234.56``: exact, from integer centavos."""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{'-' if amount_minor < 0 else ''}{whole}.{cents:02d}"


def statement_text(
    entries: list[dict[str, Any]], opening: int, others: dict[str, dict[str, Any]]
) -> str:
    """The CSV of ``entries`` (oldest first) from the ``opening`` balance."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    balance = opening
    for e in entries:
        if e["phase"] in POSTED:
            balance += e["signed_amount_minor"]
        writer.writerow(
            [
                manila(e["created"]),
                code_name(e["code"]),
                spreadsheet_safe(detail(e, others)),
                e["direction"],
                pesos(e["amount_minor"]),
                pesos(balance),
                e["phase"],
                e["id"],
            ]
        )
    return out.getvalue()


def manila(created: str) -> str:
    """``2026-11-15T02:00:00.123456Z`` → ``2026-11-15T10:00:00.123456+08:00``."""
    moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    return moment.astimezone(PHILIPPINE_TIME).isoformat()


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (a buyer wrote the reference)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- the QR poster -----------------------------------------------------------------------
def _poster(request: Request, viewer: Merchant) -> bytes:
    caller = viewer.caller
    assert caller.party_id is not None
    party = caller.party_id

    def work(unit: Unit) -> bytes:
        code = qrpay.merchant_code(unit, caller, party)
        short = qrpay.merchant_short_code(unit, caller, party)
        note = _("Merchant code {code}").format(code=short) if short else None
        return qrcodes.svg(code["payload"], qrpay.merchant_name(unit, caller, party), note=note)

    return session.platform(request).run(work, write=False)


def inline_svg(image: bytes, label: str) -> Markup:
    """Our own SVG (segno's, with an escaped caption) in the page, sized by CSS."""
    text = image.decode()
    start = text.index("<svg")
    opening = Markup('<svg class="qr" role="img" aria-label="{}"').format(label)
    # segno writes the symbol; the caption inside it is escaped by qrcodes.svg
    return Markup(str(opening) + text[start + 4 :])  # noqa: S704


@router.get("/m/qr")
def qr_page(request: Request, viewer: Merchant) -> Response:
    image = inline_svg(_poster(request, viewer), _("QR Ph code of {name}").format(name=viewer.name))
    return render.page(request, "merchant/qr.html", image=image)


@router.get("/m/qr.svg")
def qr_svg(request: Request, viewer: Merchant) -> Response:
    headers = {"Content-Disposition": 'attachment; filename="tindahan-qr.svg"'}
    response = Response(_poster(request, viewer), media_type="image/svg+xml", headers=headers)
    render.secure(response, signed_in=True)
    return response
