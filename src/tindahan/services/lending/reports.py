"""The operator's view of the loan book: the portfolio summary and the loan tape.

Portfolio, by product and by province (the merchant's): loans and active loans, principal
disbursed, outstanding principal (active loans), collected (every centavo repaid, by
component, recoveries included), written off, and PAR1/PAR30/PAR90 (``lending.delinquency``)
— all from the loan rows, which ``verify`` holds equal to the ledger. The loan tape is one
CSV row per loan with its terms and its state, what a lender's auditor or a buyer of the
portfolio asks for.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.lending.delinquency import par
from tindahan.services.unit import Unit, iso
from tindahan.store.lending_tables import loan_products, loans
from tindahan.store.payment_tables import parties

_ROWS = (
    select(loans, parties.c.province, loan_products.c.name.label("product_name"))
    .join(parties, parties.c.id == loans.c.merchant_id)
    .join(loan_products, loan_products.c.id == loans.c.product_id)
    .order_by(loans.c.id)
)


def _empty() -> dict[str, Any]:
    return {
        "loans": 0,
        "active": 0,
        "disbursed_minor": 0,
        "outstanding_minor": 0,
        "collected_minor": 0,
        "collected": {
            "principal_minor": 0,
            "interest_minor": 0,
            "fee_minor": 0,
            "penalty_minor": 0,
            "recovered_minor": 0,
        },
        "written_off_minor": 0,
        "_par": [],
    }


def _add(group: dict[str, Any], row: Any) -> None:
    group["loans"] += 1
    group["disbursed_minor"] += row["principal_minor"]
    paid = {
        "principal_minor": row["principal_paid_minor"],
        "interest_minor": row["interest_paid_minor"],
        "fee_minor": row["fee_paid_minor"],
        "penalty_minor": row["penalty_paid_minor"],
        "recovered_minor": row["recovered_minor"],
    }
    for key, value in paid.items():
        group["collected"][key] += value
    group["collected_minor"] += sum(paid.values())
    group["written_off_minor"] += row["written_off_minor"]
    if row["status"] == "active":
        outstanding = row["principal_minor"] - row["principal_paid_minor"]
        group["active"] += 1
        group["outstanding_minor"] += outstanding
        group["_par"].append((outstanding, row["dpd"]))


def _finish(group: dict[str, Any]) -> dict[str, Any]:
    ratios = par(group.pop("_par"))
    group.update({k: f"{v:f}" for k, v in ratios.items()})
    return group


def portfolio(unit: Unit, caller: Caller) -> dict[str, Any]:
    caller.require_operator()
    total = _empty()
    by_product: dict[str, dict[str, Any]] = defaultdict(_empty)
    by_province: dict[str, dict[str, Any]] = defaultdict(_empty)
    names = {}
    for row in unit.conn.execute(_ROWS).mappings():
        if row["status"] == "cancelled":  # its disbursement returned: never lent
            continue
        _add(total, row)
        _add(by_product[row["product_id"]], row)
        _add(by_province[row["province"] or "unknown"], row)
        names[row["product_id"]] = row["product_name"]
    return {
        "object": "loan_portfolio",
        "as_of": iso(unit.now()),
        "currency": "PHP",
        "total": _finish(total),
        "by_product": [
            {"product_id": k, "name": names[k], **_finish(v)} for k, v in sorted(by_product.items())
        ],
        "by_province": [{"province": k, **_finish(v)} for k, v in sorted(by_province.items())],
    }


TAPE_COLUMNS = (
    "loan_id",
    "merchant_id",
    "province",
    "product_id",
    "product_name",
    "status",
    "currency",
    "principal_minor",
    "term",
    "frequency",
    "method",
    "rate_monthly",
    "fee_minor",
    "fee_mode",
    "start_date",
    "disbursed_at",
    "closed_at",
    "principal_paid_minor",
    "outstanding_principal_minor",
    "interest_accrued_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_minor",
    "penalty_paid_minor",
    "waived_minor",
    "reserve_minor",
    "days_past_due",
    "max_days_past_due",
    "bucket",
    "written_off_minor",
    "recovered_minor",
)


def _tape_row(row: Any) -> list[Any]:
    outstanding = (
        0
        if row["status"] == "written_off"
        else row["principal_minor"] - row["principal_paid_minor"]
    )
    return [
        row["id"],
        row["merchant_id"],
        row["province"] or "",
        row["product_id"],
        row["product_name"],
        row["status"],
        row["currency"],
        row["principal_minor"],
        row["term"],
        row["frequency"],
        row["method"],
        row["rate"],
        row["fee_minor"],
        row["fee_mode"],
        row["start_date"],
        iso(row["disbursed_at_ns"]),
        iso(row["closed_at_ns"]) or "",
        row["principal_paid_minor"],
        outstanding,
        row["interest_accrued_minor"],
        row["interest_paid_minor"],
        row["fee_paid_minor"],
        row["penalty_minor"],
        row["penalty_paid_minor"],
        row["waived_minor"],
        row["reserve_minor"],
        row["dpd"],
        row["max_dpd"],
        row["bucket"],
        row["written_off_minor"],
        row["recovered_minor"],
    ]


def tape(unit: Unit, caller: Caller) -> str:
    """The loan tape as CSV text (a header, then one row per loan, by id)."""
    caller.require_operator()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TAPE_COLUMNS)
    for rows in _pages(unit):
        writer.writerows(_tape_row(r) for r in rows)
    return out.getvalue()


def _pages(unit: Unit) -> Iterator[list[Any]]:
    after = ""
    while True:
        query = _ROWS.where(loans.c.id > after).limit(limits.LOAN_TAPE_PAGE)
        rows = list(unit.conn.execute(query).mappings())
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]
