"""The matching rules of reconciliation, with no database: the key (UETR and direction, then
EndToEndId, direction and amount), each kind of break, and the Manila day's cut."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from tindahan.rails.reconciliation import (
    BreakKind,
    Movement,
    day_bounds,
    manila_day,
    reconcile,
)

DAY = date(2026, 9, 1)
OUT = Movement("0b9c8d7e-6f5a-4b3c-a2d1-e0f9a8b7c6d5", "E1", 100_00, "PHP", False, DAY, "t1")


def kinds(result) -> list[str]:
    return sorted(found.kind.value for found in result.breaks)


def test_the_manila_day_runs_from_16_00_utc_to_16_00_utc():
    start, end = day_bounds(DAY)
    assert start == int(datetime(2026, 8, 31, 16, tzinfo=UTC).timestamp()) * 10**9
    assert end - start == 86_400 * 10**9
    assert manila_day(start) == DAY and manila_day(start - 1) == DAY - timedelta(days=1)
    assert manila_day(end - 1) == DAY and manila_day(end) == DAY + timedelta(days=1)


def test_one_payment_out_and_back_is_two_movements_matched_by_direction():
    back = replace(OUT, credit=True, reference="t2")
    result = reconcile(DAY, [OUT, back], [back, OUT])
    assert (result.matched, result.breaks) == (2, ())
    only_out = reconcile(DAY, [OUT, back], [OUT])
    assert kinds(only_out) == ["missing_theirs"] and only_out.breaks[0].ours == back


def test_the_uetr_comes_first_then_the_end_to_end_id_with_the_amount():
    changed = replace(OUT, amount_minor=100_01)
    assert kinds(reconcile(DAY, [OUT], [changed])) == ["amount_mismatch"]
    no_uetr = replace(OUT, uetr=None)
    assert reconcile(DAY, [OUT], [no_uetr]).matched == 1
    assert kinds(reconcile(DAY, [OUT], [replace(no_uetr, amount_minor=1)])) == [
        "missing_ours",
        "missing_theirs",
    ]
    other = replace(OUT, uetr="1b9c8d7e-6f5a-4b3c-a2d1-e0f9a8b7c6d5")  # another payment
    assert kinds(reconcile(DAY, [OUT], [other])) == ["missing_ours", "missing_theirs"]


def test_a_date_mismatch_is_found_either_way():
    tomorrow = replace(OUT, booking_date=DAY + timedelta(days=1))
    assert kinds(reconcile(DAY, [OUT], [tomorrow])) == ["date_mismatch"]
    yesterday = replace(OUT, booking_date=DAY - timedelta(days=1))
    result = reconcile(DAY, [], [OUT], nearby=[yesterday])
    assert kinds(result) == ["date_mismatch"]
    assert result.breaks[0].kind is BreakKind.DATE and result.breaks[0].ours == yesterday
    assert kinds(reconcile(DAY, [], [OUT])) == ["missing_ours"]
