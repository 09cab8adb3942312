"""Routing between InstaPay and PESONet, and a bank account's number and mask."""

from __future__ import annotations

import pytest

from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.rails.bank_accounts import account_number, masked
from tindahan.rails.directory import Participant, route
from tindahan.rails.model import ClearingSystem

BOTH = Participant("BDO", "BNORPHMM", "BDO Unibank", instapay=True, pesonet=True)
INSTAPAY_ONLY = Participant("GCASH", "GXCHPHM2XXX", "GCash", instapay=True, pesonet=False)
PESONET_ONLY = Participant("CITI", "CITIPHMX", "Citibank", instapay=False, pesonet=True)


def test_instapay_up_to_its_cap_for_members_else_pesonet():
    cap = limits.INSTAPAY_MAX_MINOR
    assert cap == 5_000_000  # ₱50,000.00
    assert route(cap, BOTH) is ClearingSystem.INSTAPAY
    assert route(cap + 1, BOTH) is ClearingSystem.PESONET
    assert route(1, PESONET_ONLY) is ClearingSystem.PESONET
    assert route(cap, INSTAPAY_ONLY) is ClearingSystem.INSTAPAY
    with pytest.raises(RefusalError) as caught:
        route(cap + 1, INSTAPAY_ONLY)
    assert caught.value.code == "no_rail"
    inactive = Participant("X", "BNORPHMM", "Gone", True, True, active=False)
    with pytest.raises(RefusalError, match="not reachable"):
        route(100, inactive)


def test_account_numbers_keep_their_digits_and_show_the_last_four():
    assert account_number(" 0012-3456 7890 ") == "001234567890"
    assert masked("001234567890") == "•••• 7890"
    for bad in ("12345", "1" * 21, "12345x7890", "", None, 1234567890):
        with pytest.raises(RefusalError):
            account_number(bad)
