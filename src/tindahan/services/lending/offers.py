"""Loan products (the operator's), offers (from a credit assessment) and acceptance.

An **offer** is one loan, disclosed in full before the merchant can take it: the amount,
the term, the price, the schedule, the net proceeds, the finance charge, the total of
payments and the EIR (``lending.disclosure``). How it is made from an assessment:

* eligibility and the limit are ``lending.eligibility.decide`` (a scored assessment of the
  merchant's, recent enough, a probability of default the product lends at; the limit from
  the product, the KYC tier and recent sales), the principal and term
  ``lending.eligibility.choose``; this module loads their inputs and stores the offer;
* **price**: the product's monthly rate range, placed by the probability of default
  (``rate_min`` at PD 0, ``rate_max`` at ``max_probability``), ``HALF_UP`` to 0.0001%;
* a covered small loan that would break a ceiling (``lending.caps``) is never created: the
  request is refused with the ceiling and its source.

A newer offer withdraws the merchant's open ones. Accepting disburses at once (one linked
batch). The schedule's dates count from the day of acceptance: for 30/360 products the
amounts cannot change with the day; for actual/365 ones, if they would, the acceptance is
refused (``offer_changed``) and the merchant asks for a fresh offer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.ledger.model import NewTransfer
from tindahan.lending import calendar as holidays
from tindahan.lending import caps, disbursement, eligibility
from tindahan.lending.allocation import DEFAULT_ORDER, parse_order
from tindahan.lending.disclosure import Disclosure, disclose
from tindahan.lending.terms import (
    DayCount,
    FeeMode,
    Frequency,
    Method,
    due_dates,
    parse_percent,
    periodic_rate,
)
from tindahan.money import Rounding, bps_of
from tindahan.payments.model import PartyKind, TransferCode, WalletKind
from tindahan.services.ledger import movement
from tindahan.services.ledger.transfers import open_accounts_in_transaction
from tindahan.services.lending import loans
from tindahan.services.lending.holidays import holiday_set
from tindahan.services.lending.views import LoanView, OfferView
from tindahan.services.platform.events import emit
from tindahan.services.unit import Unit, iso, ledger_id, new_id
from tindahan.store.credit_tables import credit_assessments
from tindahan.store.lending_tables import (
    loan_installments,
    loan_offers,
    loan_products,
)
from tindahan.store.lending_tables import loans as loan_table

_PPM = Decimal(1_000_000)


# --- products ------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewProduct:
    name: str
    min_principal_minor: int
    max_principal_minor: int
    frequency: str
    min_term: int
    max_term: int
    rate_min: str  # percent a month
    rate_max: str
    method: str = Method.EQUAL_INSTALLMENT.value
    day_count: str = DayCount.THIRTY_360.value
    fee_bps: int = 0
    fee_mode: str = FeeMode.DEDUCTED.value
    penalty_rate: str = "0"  # percent a month
    grace_days: int = 0
    auto_deduct_bps: int = 0
    accrual: str = "daily"
    allocation_order: str = ",".join(DEFAULT_ORDER)
    max_probability: str = "0.2"
    currency: str = "PHP"


def _choice(value: str, kind: Any, param: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(k.value for k in kind)
        raise invalid(f"{param}_invalid", f"{param} is one of {known}", param) from None


def _count(value: object, low: int, high: int, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"{param}_invalid", f"{param} is a whole number from {low} to {high}", param)
    return value


def check_product(new: NewProduct, on: date) -> dict[str, Any]:
    """The product's row, or the first reason it cannot exist."""
    from tindahan.payments import parties as party_rules

    name = party_rules.text(new.name, "name", limits.NAME_MAX_LENGTH)
    if new.currency != "PHP":
        raise invalid("currency_unsupported", "loans are in PHP", "currency")
    frequency = _choice(new.frequency, Frequency, "frequency")
    method = _choice(new.method, Method, "method")
    if method == Method.FLAT:
        message = (
            "flat add-on interest is for quoting only: BSP Circular 730 has lenders charge "
            "interest on the outstanding balance"
        )
        raise invalid("method_not_allowed", message, "method")
    day_count = _choice(new.day_count, DayCount, "day_count")
    fee_mode = _choice(new.fee_mode, FeeMode, "fee_mode")
    if new.accrual not in ("daily", "installment"):
        raise invalid("accrual_invalid", "accrual is daily or installment", "accrual")
    top = limits.LOAN_MAX_PRINCIPAL_MINOR
    low = _count(new.min_principal_minor, 1, top, "min_principal_minor")
    high = _count(new.max_principal_minor, low, top, "max_principal_minor")
    longest = limits.LOAN_MAX_TERM[frequency.value]
    min_term = _count(new.min_term, 1, longest, "min_term")
    max_term = _count(new.max_term, min_term, longest, "max_term")
    _count(new.fee_bps, 0, 10_000, "fee_bps")
    _count(new.auto_deduct_bps, 0, limits.MAX_AUTO_DEDUCT_BPS, "auto_deduct_bps")
    _count(new.grace_days, 0, limits.MAX_GRACE_DAYS, "grace_days")
    ceiling = Decimal(limits.LOAN_MAX_MONTHLY_RATE) * 100
    rate_min = parse_percent(new.rate_min, "rate_min", ceiling)
    rate_max = parse_percent(new.rate_max, "rate_max", ceiling)
    penalty = parse_percent(new.penalty_rate, "penalty_rate", ceiling)
    order = parse_order(new.allocation_order)
    try:
        pd_max = parse_percent(
            str(Decimal(new.max_probability) * 100), "max_probability", Decimal(100)
        )
    except ArithmeticError:
        raise invalid(
            "max_probability_invalid", "max_probability is a decimal like 0.2", "max_probability"
        ) from None
    if rate_min > rate_max:
        raise invalid("rate_invalid", "rate_min is above rate_max", "rate_min")
    row = {
        "name": name,
        "currency": "PHP",
        "min_principal_minor": low,
        "max_principal_minor": high,
        "frequency": frequency.value,
        "min_term": min_term,
        "max_term": max_term,
        "method": method.value,
        "day_count": day_count.value,
        "rate_min": _text(rate_min),
        "rate_max": _text(rate_max),
        "fee_bps": new.fee_bps,
        "fee_mode": fee_mode.value,
        "penalty_rate": _text(penalty),
        "grace_days": new.grace_days,
        "auto_deduct_bps": new.auto_deduct_bps,
        "accrual": new.accrual,
        "allocation_order": ",".join(order),
        "max_probability": _text(pd_max),
    }
    _check_ceilings(row, on)
    return row


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _check_ceilings(product: dict[str, Any], on: date) -> None:
    """Every covered loan the product could make, at its highest rate, within the ceilings:
    the EIR is highest at the shortest term (the fee over fewest periods), the total cost
    at the longest; both amounts are tried for rounding."""
    rate = Decimal(product["rate_max"])
    amounts = {
        product["min_principal_minor"],
        min(product["max_principal_minor"], limits.SMALL_LOAN_MAX_PRINCIPAL_MINOR),
    }
    for principal in sorted(amounts):
        for term in sorted(
            {product["min_term"], product["max_term"], _longest_covered(product, on)}
        ):
            if term is None:
                continue
            found = _disclose(product, principal, term, rate, on, ())
            if not caps.covered(principal, on, found.last_due):
                continue
            breaches = caps.check_price(
                principal,
                rate,
                found.eir_monthly,
                found.finance_charge_minor,
                Decimal(product["penalty_rate"]),
                on,
            )
            if breaches:
                first = breaches[0]
                message = (
                    f"a {term}-installment loan of {principal} centavos at this product's "
                    f"highest rate breaks a legal ceiling: {first.message} ({first.source})"
                )
                raise invalid("legal_cap_exceeded", message, first.cap)


def _longest_covered(product: dict[str, Any], on: date) -> int | None:
    best = None
    for term in range(product["min_term"], product["max_term"] + 1):
        last = due_dates(on, Frequency(product["frequency"]), term)[-1]
        if caps.covered(1, on, last):
            best = term
        else:
            break
    return best


def create_product(unit: Unit, caller: Caller, new: NewProduct) -> dict[str, Any]:
    caller.require_operator()
    row = check_product(new, loans.today(unit))
    now = unit.now()
    row.update(id=new_id("lnp"), status="active", created_at_ns=now, updated_at_ns=now)
    unit.conn.execute(insert(loan_products), row)
    return product_view(row)


def product_view(row: Any) -> dict[str, Any]:
    keys = (
        "id",
        "name",
        "currency",
        "min_principal_minor",
        "max_principal_minor",
        "frequency",
        "min_term",
        "max_term",
        "method",
        "day_count",
        "rate_min",
        "rate_max",
        "fee_bps",
        "fee_mode",
        "penalty_rate",
        "grace_days",
        "auto_deduct_bps",
        "accrual",
        "allocation_order",
        "max_probability",
        "status",
    )
    view = {k: row[k] for k in keys}
    view["allocation_order"] = row["allocation_order"].split(",")
    view.update(object="loan_product", created=iso(row["created_at_ns"]))
    return view


def product_row(unit: Unit, product_id: str) -> Any:
    row = (
        unit.conn.execute(select(loan_products).where(loan_products.c.id == product_id))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("loan product", "product_id")
    return row


def get_product(unit: Unit, caller: Caller, product_id: str) -> dict[str, Any]:
    caller.require("loans:read")
    return product_view(product_row(unit, product_id))


def list_products(unit: Unit, caller: Caller) -> dict[str, Any]:
    caller.require("loans:read")
    rows = unit.conn.execute(
        select(loan_products).order_by(loan_products.c.created_at_ns)
    ).mappings()
    return {"object": "list", "data": [product_view(r) for r in rows], "has_more": False}


def retire_product(unit: Unit, caller: Caller, product_id: str) -> dict[str, Any]:
    caller.require_operator()
    product_row(unit, product_id)
    unit.conn.execute(
        update(loan_products)
        .where(loan_products.c.id == product_id)
        .values(status="retired", updated_at_ns=unit.now())
    )
    return product_view(product_row(unit, product_id))


# --- offers --------------------------------------------------------------------------------
def _disclose(
    product: Any,
    principal: int,
    term: int,
    monthly: Decimal,
    start: date,
    holidays_: frozenset[date] | tuple[()],
) -> Disclosure:
    frequency = Frequency(product["frequency"])
    day_count = DayCount(product["day_count"])
    rate = periodic_rate(monthly, frequency, day_count)
    dates = holidays.shifted(due_dates(start, frequency, term), holidays_)
    factors = None
    if day_count == DayCount.ACTUAL_365 and frequency == Frequency.MONTHLY:
        starts = [start, *dates[:-1]]
        nominal = Decimal(365) / 12
        factors = [Decimal((d - s).days) / nominal for s, d in zip(starts, dates, strict=True)]
    fee = bps_of(principal, product["fee_bps"], Rounding.HALF_UP)
    return disclose(
        principal,
        rate,
        frequency,
        Method(product["method"]),
        start,
        dates=dates,
        fee_minor=fee,
        fee_mode=FeeMode(product["fee_mode"]),
        factors=factors,
    )


def _assessment(unit: Unit, caller: Caller, merchant_id: str, assessment_id: str | None) -> Any:
    query = select(credit_assessments).where(credit_assessments.c.merchant_id == merchant_id)
    if assessment_id is not None:
        query = query.where(credit_assessments.c.id == assessment_id)
    row = (
        unit.conn.execute(
            query.order_by(
                credit_assessments.c.created_at_ns.desc(), credit_assessments.c.id.desc()
            ).limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        if assessment_id is not None:
            raise not_found("credit assessment", "assessment_id")
        raise conflict("assessment_required", "assess the merchant's credit first", "assessment_id")
    return row


def _assessment_facts(row: Any) -> eligibility.Assessment:
    sales = json.loads(row["features"]).get("sales_month_avg") or 0
    probability = row["probability"]
    return eligibility.Assessment(
        row["decision"] == "scored",
        None if probability is None else Decimal(probability),
        row["created_at_ns"],
        Decimal(str(sales)),
    )


def _product_terms(row: Any) -> eligibility.Product:
    return eligibility.Product(
        row["min_principal_minor"],
        row["max_principal_minor"],
        row["min_term"],
        row["max_term"],
        Decimal(row["max_probability"]),
    )


def _price(product: Any, probability: Decimal) -> Decimal:
    low, high = Decimal(product["rate_min"]), Decimal(product["rate_max"])
    cap = Decimal(product["max_probability"])
    share = min(Decimal(1), probability / cap) if cap > 0 else Decimal(1)
    return (low + (high - low) * share).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class NewOffer:
    product_id: str
    merchant_id: str | None = None
    assessment_id: str | None = None
    principal_minor: int | None = None
    term: int | None = None


def create_offer(unit: Unit, caller: Caller, new: NewOffer) -> OfferView:
    caller.require("loans:write")
    merchant_id = new.merchant_id or caller.party_id
    if merchant_id is None:
        raise invalid("parameter_missing", "an operator key must give merchant_id", "merchant_id")
    if not caller.reaches(merchant_id):
        raise not_found("merchant", "merchant_id")
    product = product_row(unit, new.product_id)
    if product["status"] != "active":
        raise conflict("product_retired", "this loan product is no longer offered", "product_id")
    holder = movement.holders(unit, (merchant_id,)).get((merchant_id, WalletKind.MAIN))
    if holder is None or holder.party_kind != PartyKind.MERCHANT:
        raise not_found("merchant", "merchant_id")
    movement.require_active(holder, "merchant")
    _no_open_loan(unit, merchant_id)
    assessment = _assessment(unit, caller, merchant_id, new.assessment_id)
    now = unit.now()
    terms = _product_terms(product)
    decision = eligibility.decide(
        _assessment_facts(assessment), terms, holder.tier.per_transaction_max_minor, now
    )
    if not decision.eligible:
        why = decision.reasons[0]
        raise conflict(why.code, why.message, why.param)
    limit = decision.limit_minor
    principal, term = eligibility.choose(limit, terms, new.principal_minor, new.term)
    probability = Decimal(assessment["probability"])
    monthly = _price(product, probability)
    day = loans.today(unit)
    found = _disclose(product, principal, term, monthly, day, holiday_set(unit))
    covered = caps.covered(principal, day, found.last_due)
    penalty = Decimal(product["penalty_rate"])
    if covered:
        breaches = caps.check_price(
            principal, monthly, found.eir_monthly, found.finance_charge_minor, penalty, day
        )
        if breaches:
            first = breaches[0]
            raise invalid("legal_cap_exceeded", f"{first.message} ({first.source})", first.cap)
    unit.conn.execute(
        update(loan_offers)
        .where(loan_offers.c.merchant_id == merchant_id, loan_offers.c.status == "open")
        .values(status="withdrawn")
    )
    row = {
        "id": new_id("lno"),
        "merchant_id": merchant_id,
        "product_id": product["id"],
        "assessment_id": assessment["id"],
        "limit_minor": limit,
        "principal_minor": principal,
        "term": term,
        "rate": _text(monthly),
        "fee_minor": found.fee_minor,
        "net_proceeds_minor": found.net_proceeds_minor,
        "finance_charge_minor": found.finance_charge_minor,
        "total_of_payments_minor": found.total_of_payments_minor,
        "eir_monthly": f"{found.eir_monthly.quantize(Decimal('1e-8'))}",
        "monthly_rate_ppm": int(monthly * _PPM),
        "eir_monthly_ppm": int(
            (found.eir_monthly * _PPM).to_integral_value(rounding="ROUND_CEILING")
        ),
        "penalty_rate_ppm": int(penalty * _PPM),
        "covered": int(covered),
        "start_date": day.isoformat(),
        "disclosure": json.dumps(found.as_dict()),
        "status": "open",
        "loan_id": None,
        "expires_at_ns": now + limits.LOAN_OFFER_SECONDS * 10**9,
        "accepted_at_ns": None,
        "created_at_ns": now,
    }
    unit.conn.execute(insert(loan_offers), row)
    view = offer_view(row, product, now)
    emit(unit, "loan_offer.created", view, (merchant_id,))
    return view


def _no_open_loan(unit: Unit, merchant_id: str) -> None:
    found = unit.conn.execute(
        select(loan_table.c.id).where(
            loan_table.c.merchant_id == merchant_id, loan_table.c.status == "active"
        )
    ).first()
    if found is not None:
        raise conflict(
            "loan_already_open", "repay the open loan before taking another", "merchant_id"
        )


def offer_view(row: Any, product: Any, now: int) -> OfferView:
    """An open offer past its time shows as ``expired`` (the row is left as it was: reading
    changes nothing, and acceptance checks the time itself)."""
    disclosure = json.loads(row["disclosure"])
    status = row["status"]
    if status == "open" and now >= row["expires_at_ns"]:
        status = "expired"
    return {
        "id": row["id"],
        "object": "loan_offer",
        "merchant_id": row["merchant_id"],
        "product_id": row["product_id"],
        "assessment_id": row["assessment_id"],
        "status": status,
        "limit_minor": row["limit_minor"],
        "principal_minor": row["principal_minor"],
        "term": row["term"],
        "frequency": product["frequency"],
        "method": product["method"],
        "rate_monthly": row["rate"],
        "fee_mode": product["fee_mode"],
        "penalty_rate_monthly": product["penalty_rate"],
        "grace_days": product["grace_days"],
        "auto_deduct_bps": product["auto_deduct_bps"],
        "small_loan_ceilings_apply": bool(row["covered"]),
        "disclosure": disclosure,
        "loan_id": row["loan_id"],
        "expires_at": iso(row["expires_at_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def _offer_row(unit: Unit, caller: Caller, offer_id: str, *, lock: bool = False) -> Any:
    return loans.merchant_row(unit, caller, loan_offers, offer_id, "loan offer", lock=lock)


def get_offer(unit: Unit, caller: Caller, offer_id: str) -> OfferView:
    caller.require("loans:read")
    row = _offer_row(unit, caller, offer_id)
    return offer_view(row, product_row(unit, row["product_id"]), unit.now())


def list_offers(unit: Unit, caller: Caller, merchant_id: str | None = None) -> dict[str, Any]:
    caller.require("loans:read")
    query = select(loan_offers).order_by(loan_offers.c.created_at_ns.desc(), loan_offers.c.id)
    if merchant_id is not None and not caller.reaches(merchant_id):
        raise not_found("party", "merchant_id")
    who = caller.party_id or merchant_id
    if who:
        query = query.where(loan_offers.c.merchant_id == who)
    rows = list(unit.conn.execute(query.limit(limits.MAX_PAGE_SIZE)).mappings())
    products = {r["product_id"]: product_row(unit, r["product_id"]) for r in rows}
    return {
        "object": "list",
        "data": [offer_view(r, products[r["product_id"]], unit.now()) for r in rows],
        "has_more": False,
    }


# --- acceptance and disbursement ---------------------------------------------------------------
def accept(unit: Unit, caller: Caller, offer_id: str) -> LoanView:
    """The merchant accepts: the loan is booked and the net proceeds reach the wallet."""
    loan = _accepting(unit, caller, offer_id)
    emit(unit, "loan.disbursed", loan.view, (loan.wallet.party_id,))
    applied = movement.book(unit, movement.linked(loan.batch))
    movement.check_balance(loan.wallet, applied, "PHP")
    return loan.view


@dataclass(frozen=True, slots=True)
class Accepted:
    """A loan stored by its acceptance, its disbursement's legs not booked yet."""

    view: LoanView
    batch: list[NewTransfer]
    wallet: movement.Holder


def _accepting(unit: Unit, caller: Caller, offer_id: str) -> Accepted:
    caller.require("loans:write")
    row = _offer_row(unit, caller, offer_id, lock=True)
    if caller.operator:
        raise conflict("merchant_only", "only the merchant can accept their loan offer", "id")
    status = row["status"]
    if status == "accepted":
        raise conflict(
            "offer_already_accepted", f"this offer is already loan {row['loan_id']}", "id"
        )
    if status in ("withdrawn", "expired") or unit.now() >= row["expires_at_ns"]:
        word = "withdrawn by a newer offer" if status == "withdrawn" else "expired"
        raise conflict(
            f"offer_{'withdrawn' if status == 'withdrawn' else 'expired'}",
            f"this offer has {word}",
            "id",
        )
    product = product_row(unit, row["product_id"])
    merchant_id = row["merchant_id"]
    _no_open_loan(unit, merchant_id)
    wallet = movement.holders(unit, (merchant_id,))[(merchant_id, WalletKind.MAIN)]
    movement.require_active(wallet, "merchant")
    day = loans.today(unit)
    found = _disclose(
        product, row["principal_minor"], row["term"], Decimal(row["rate"]), day, holiday_set(unit)
    )
    shown = json.loads(row["disclosure"])
    if _amounts(found.as_dict()) != _amounts(shown):
        raise conflict(
            "offer_changed",
            "the schedule would differ from the one disclosed: ask for a new offer",
            "id",
        )
    return _disburse(unit, row, product, found, wallet, day)


def accepted(unit: Unit, caller: Caller, offer_id: str) -> Accepted:
    """Every check of an acceptance, then the loan stored (``_disburse``) with its legs
    not booked: ``accept`` books them on the SQL ledger, ``payments.loan_cluster`` through the
    two-store order on TigerBeetle."""
    return _accepting(unit, caller, offer_id)


def _amounts(disclosure: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [
        (i["principal_minor"], i["interest_minor"], i["fee_minor"]) for i in disclosure["schedule"]
    ]


#: A loan keeps its product's terms as they were when it was taken.
_PRODUCT_TERMS = (
    "frequency",
    "method",
    "day_count",
    "fee_mode",
    "penalty_rate",
    "grace_days",
    "auto_deduct_bps",
    "accrual",
    "allocation_order",
)


def _disburse(
    unit: Unit, offer: Any, product: Any, found: Disclosure, wallet: movement.Holder, day: date
) -> Accepted:
    """Store the loan as ``lending.disbursement.plan`` opens it, its legs not booked."""
    plan = disbursement.plan(found, day)
    loan_id = new_id("loan")
    now = unit.now()
    merchant_id = offer["merchant_id"]
    loan = {
        "id": loan_id,
        "merchant_id": merchant_id,
        "product_id": product["id"],
        "offer_id": offer["id"],
        "currency": "PHP",
        "principal_minor": plan.principal_minor,
        "term": offer["term"],
        "rate": offer["rate"],
        "fee_minor": plan.fee_minor,
        "covered": offer["covered"],
        **{name: product[name] for name in _PRODUCT_TERMS},
        **loans.totals_values(plan.totals),
        "status": "active",
        "start_date": plan.start_date.isoformat(),
        "version": 1,
        "written_off_minor": 0,
        "recovered_minor": 0,
        "dpd": 0,
        "max_dpd": 0,
        "bucket": "current",
        "closed_through": plan.closed_through.isoformat(),
        "disbursed_at_ns": now,
        "closed_at_ns": None,
        "updated_at_ns": now,
    }
    unit.conn.execute(insert(loan_table), loan)
    lines = loans.schedule_rows(loan_id, found.schedule)
    unit.conn.execute(insert(loan_installments), lines)
    unit.conn.execute(
        update(loan_offers)
        .where(loan_offers.c.id == offer["id"])
        .values(status="accepted", loan_id=loan_id, accepted_at_ns=now)
    )
    opened = open_accounts_in_transaction(
        unit.db, unit.conn, loans.new_accounts(loan_id, merchant_id)
    )
    assert all(o.result == "ok" for o in opened), opened
    accounts = {
        disbursement.Party.PRINCIPAL: loans.account(loan_id, "principal"),
        disbursement.Party.FEE: loans.account(loan_id, "fee"),
        disbursement.Party.WALLET: wallet.account_id,
        disbursement.Party.OP_FEES: loans.OP_FEES,
    }
    codes = {"disburse": TransferCode.LOAN_DISBURSEMENT, "fee": TransferCode.LOAN_FEE}
    batch = [
        NewTransfer(
            ledger_id(loan_id, leg.name),
            accounts[leg.debit],
            accounts[leg.credit],
            leg.amount_minor,
            "PHP",
            codes[leg.name],
            metadata={"loan": loan_id},
        )
        for leg in plan.legs
    ]
    movement.limit_incoming(unit, wallet, found.net_proceeds_minor, "PHP")
    loans.record(
        unit,
        loan_id,
        "disbursement",
        {},
        "lender",
        day,
        [t.id for t in batch],
        amount=found.net_proceeds_minor,
    )
    view = loans.view(
        unit,
        unit.conn.execute(select(loan_table).where(loan_table.c.id == loan_id)).mappings().one(),
    )
    return Accepted(view, batch, wallet)
