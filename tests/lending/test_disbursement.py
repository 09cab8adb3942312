"""``lending.disbursement``: what accepting an offer books, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan.lending.disbursement import Leg, Party, plan
from tindahan.lending.disclosure import disclose
from tindahan.lending.terms import FeeMode, Frequency, Method

DAY = date(2026, 9, 1)


def _loan(principal: int, fee: int, mode: FeeMode):
    return disclose(
        principal, D("0.01"), Frequency.WEEKLY, Method.EQUAL_INSTALLMENT, DAY, term=4,
        fee_minor=fee, fee_mode=mode,
    )  # fmt: skip


def test_a_deducted_fee_comes_out_of_the_principal_and_is_owed_no_more():
    made = plan(_loan(1_000_000, 30_000, FeeMode.DEDUCTED), DAY)
    assert made.legs == (
        Leg("disburse", Party.PRINCIPAL, Party.WALLET, 970_000),
        Leg("fee", Party.PRINCIPAL, Party.OP_FEES, 30_000),
    )
    assert made.net_proceeds_minor == 970_000
    assert made.totals.fee_booked == 0
    assert made.closed_through == date(2026, 8, 31)


def test_an_added_fee_is_owed_from_the_start_and_the_merchant_gets_the_whole_principal():
    made = plan(_loan(1_000_000, 30_000, FeeMode.ADDED), DAY)
    assert made.legs == (
        Leg("disburse", Party.PRINCIPAL, Party.WALLET, 1_000_000),
        Leg("fee", Party.FEE, Party.OP_FEES, 30_000),
    )
    assert made.totals.fee_booked == 30_000
    assert made.totals.principal_paid == made.totals.reserve == 0


def test_no_fee_no_fee_leg():
    assert plan(_loan(500_000, 0, FeeMode.DEDUCTED), DAY).legs == (
        Leg("disburse", Party.PRINCIPAL, Party.WALLET, 500_000),
    )


@pytest.mark.parametrize("mode", list(FeeMode))
@given(st.integers(100_000, 10_000_000), st.integers(0, 99_999))
def test_the_principal_receivable_pays_out_exactly_the_principal(mode, principal, fee):
    """Whatever the fee: what leaves the principal receivable is the principal (the loan's
    receivable starts at what was lent), and what the fee receivable pays is what it is owed."""
    made = plan(_loan(principal, fee, mode), DAY)
    out = {p: sum(x.amount_minor for x in made.legs if x.debit is p) for p in Party}
    assert out[Party.PRINCIPAL] == principal
    assert out[Party.FEE] == made.totals.fee_booked
    assert sum(x.amount_minor for x in made.legs if x.credit is Party.OP_FEES) == fee
