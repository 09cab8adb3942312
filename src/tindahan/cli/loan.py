"""``tindahan loan``: quote a loan (no database), run the daily close, benchmark it.

The contract outside checks rely on (issue 7)::

    tindahan loan quote --principal MINOR --term N
        --frequency daily|weekly|biweekly|monthly
        --method declining-equal-installment|declining-equal-principal|flat
        --rate PERCENT_PER_PERIOD [--fee MINOR] [--fee-mode deducted|added]
        [--start YYYY-MM-DD] --json

prints one JSON object: ``schedule`` (each installment's ``due_date``, ``principal_minor``,
``interest_minor``, ``fee_minor``, ``total_minor``), ``amount_financed_minor``,
``finance_charge_minor``, ``total_of_payments_minor``, ``eir_per_period`` and
``eir_annual`` as decimal strings (annual = (1 + per period)^(periods per year) − 1), and
more (net proceeds, EIR per month, whether the small-loan ceilings apply and which a
quote breaks). A quote is arithmetic, not an offer: the flat method and rates above the
ceilings are quoted (to compare a legacy offer), never lent. Bad input: one line on
stderr, exit 2.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date
from decimal import Decimal
from typing import Annotated, cast

import typer
import typer.core
from rich.console import Console

from tindahan import limits
from tindahan.cli.errors import fail, friendly
from tindahan.lending.disclosure import Disclosure
from tindahan.lending.terms import FeeMode, Frequency, Method

app = typer.Typer(help="Loans: quote a schedule and its disclosure, run the daily close.")
out = Console(highlight=False, soft_wrap=True)


def business_today() -> date:
    from tindahan.lending.calendar import business_date

    return business_date(time.time_ns())


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _start(text: str | None) -> date:
    from tindahan.kernel.refusals import invalid

    if text is None:
        return business_today()
    try:
        # fromisoformat alone also takes 20260131 and 2026-W05-6: the contract is YYYY-MM-DD
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise invalid("start_invalid", f"--start {text!r} is not a date YYYY-MM-DD") from None


#: Click's UsageError (missing option, no such option, bad value): Typer vendors Click and
#: does not export it, but ``typer.BadParameter`` is one.
_USAGE_ERROR = cast(
    type[Exception], next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
)


class _OneLineUsage(typer.core.TyperCommand):
    """Typer's own refusals (a missing option, an unknown option or method, a --term that is
    no number) as the one ``error:`` line and exit 2 of every other refusal, not a box."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _USAGE_ERROR as exc:
            fail(" ".join(str(getattr(exc, "format_message", exc.__str__)()).split()))
            raise


def _positive(value: int, name: str, maximum: int) -> int:
    from tindahan.kernel.refusals import invalid

    if not 0 < value <= maximum:
        raise invalid("amount_invalid", f"{name} is a whole number from 1 to {maximum}")
    return value


def quote_disclosure(
    principal: int,
    term: int,
    frequency: Frequency,
    method: Method,
    rate: str,
    fee: int,
    fee_mode: FeeMode,
    start: date,
) -> Disclosure:
    from tindahan.kernel.refusals import invalid
    from tindahan.lending.disclosure import disclose
    from tindahan.lending.terms import parse_percent

    _positive(principal, "--principal", limits.SMALL_LOAN_MAX_PRINCIPAL_MINOR * 10**6)
    _positive(term, "--term", limits.QUOTE_MAX_TERM)
    if fee < 0 or (fee >= principal and fee_mode == FeeMode.DEDUCTED):
        raise invalid("fee_invalid", "--fee is at least 0 and, deducted, below --principal")
    periodic = parse_percent(rate, "--rate", Decimal(limits.QUOTE_MAX_RATE_PERCENT))
    return disclose(
        principal, periodic, frequency, method, start, term=term, fee_minor=fee, fee_mode=fee_mode
    )


@app.command(cls=_OneLineUsage)
@friendly
def quote(
    principal: Annotated[int, typer.Option("--principal", help="Principal in centavos.")],
    term: Annotated[int, typer.Option("--term", help="Number of installments.")],
    frequency: Annotated[Frequency, typer.Option("--frequency", help="How often one is due.")],
    method: Annotated[Method, typer.Option("--method", help="How interest is computed.")],
    rate: Annotated[str, typer.Option("--rate", help="Nominal interest, percent per period.")],
    fee: Annotated[int, typer.Option("--fee", help="Processing fee in centavos.")] = 0,
    fee_mode: Annotated[
        FeeMode, typer.Option("--fee-mode", help="Deducted from the proceeds, or added.")
    ] = FeeMode.DEDUCTED,
    start: Annotated[
        str | None, typer.Option("--start", help="Disbursement date (default: today, PH).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """A loan's schedule, finance charge, total of payments and EIR."""
    day = _start(start)
    found = quote_disclosure(principal, term, frequency, method, rate, fee, fee_mode, day)
    result = found.as_dict()
    result["method"] = method.value
    result["start"] = day.isoformat()
    result.update(_ceilings(found, day))
    if as_json:
        typer.echo(json.dumps(result))
        return
    _print(found, result)


def _ceilings(found: Disclosure, day: date) -> dict[str, object]:
    from tindahan.lending import caps

    monthly = found.rate_per_period if found.frequency == Frequency.MONTHLY else None
    is_covered = caps.covered(found.principal_minor, day, found.last_due)
    breaches = []
    if is_covered:
        nominal = monthly if monthly is not None else _monthly_nominal(found)
        breaches = caps.check_price(
            found.principal_minor,
            nominal,
            found.eir_monthly,
            found.finance_charge_minor,
            Decimal(0),
            day,
        )
    return {
        "small_loan_ceilings_apply": is_covered,
        "ceilings_broken": [
            {"cap": b.cap, "message": b.message, "source": b.source} for b in breaches
        ],
    }


def _monthly_nominal(found: Disclosure) -> Decimal:
    from tindahan.lending.terms import NOMINAL_DAYS

    return found.rate_per_period * 30 / NOMINAL_DAYS[found.frequency]


def _peso(amount_minor: int) -> str:
    from tindahan.money import Money, format_money

    return format_money(Money(amount_minor, "PHP"), "en_PH")


def _print(found: Disclosure, result: dict[str, object]) -> None:
    from rich.table import Table

    table = Table("#", "due", "principal", "interest", "fee", "total")
    for i in found.schedule:
        table.add_row(
            str(i.seq),
            i.due_date.isoformat(),
            _peso(i.principal_minor),
            _peso(i.interest_minor),
            _peso(i.fee_minor),
            _peso(i.total_minor),
        )
    out.print(table)
    for label, key in (
        ("amount financed", "amount_financed_minor"),
        ("finance charge", "finance_charge_minor"),
        ("total of payments", "total_of_payments_minor"),
    ):
        value = result[key]
        assert isinstance(value, int)
        out.print(f"{label}: {_peso(value)}")
    out.print(
        f"EIR: {_percent(found.eir_per_period)} per period, "
        f"{_percent(found.eir_monthly)} a month, {_percent(found.eir_annual)} a year"
    )


def _percent(rate: Decimal) -> str:
    """A rate in percent to the hundredth, however large (30% a day is about 10^43% a year:
    ``caps.percent`` has no room for that many digits)."""
    from tindahan.lending import eir

    return f"{eir.text(rate * 100, places=2)}%"
