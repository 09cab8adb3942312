"""Unit tests of the payments domain rules: fees, KYC tiers, parties, periods, states, access.

Plain Python, no database: each rule is checked at its edges (the half centavo, the limit
itself and one centavo over, the Manila midnight) and, where a law holds for every input,
with Hypothesis.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan import limits
from tindahan.kernel import callers as access
from tindahan.kernel.callers import DEFAULT_SCOPES, OPERATOR, SCOPES, Caller, parse_scopes
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.money import Money
from tindahan.payments import fees, parties, periods, tiers
from tindahan.payments.model import PaymentStatus, status_after_refunds
from tindahan.payments.tiers import LIMIT_NAMES, TierLimits, tier_from

# --- fees: merchant discount (HALF_UP) and agent commission (DOWN) ---------------------------


@pytest.mark.parametrize(
    ("amount_minor", "bps", "expected"),
    [
        (50, 100, 1),  # 0.5 centavo: HALF_UP gives 1 (HALF_EVEN and DOWN would give 0)
        (250, 100, 3),  # 2.5: HALF_UP gives 3 (HALF_EVEN would give 2)
        (49, 100, 0),  # 0.49: below the half, down
        (149, 100, 1),  # 1.49
        (150, 100, 2),  # 1.5
        (10_000, 100, 100),  # exact
        (12_345, 250, 309),  # 308.625 -> 309
        (0, 100, 0),
        (1_000_000, 0, 0),
        (1_000_000, limits.MAX_FEE_BPS, 100_000),
    ],
)
def test_merchant_discount_rounds_half_up(amount_minor: int, bps: int, expected: int) -> None:
    fee = fees.merchant_discount(Money(amount_minor, "PHP"), bps)
    assert fee == Money(expected, "PHP")


@pytest.mark.parametrize(
    ("amount_minor", "bps", "expected"),
    [
        (199, 50, 0),  # 0.995 centavo: DOWN gives 0 (HALF_UP would give 1)
        (399, 50, 1),  # 1.995 -> 1
        (300, 50, 1),  # 1.5 -> 1 (half is still down)
        (10_000, 50, 50),  # exact
        (99_999, 50, 499),  # 499.995 -> 499
        (0, 50, 0),
    ],
)
def test_agent_commission_rounds_down(amount_minor: int, bps: int, expected: int) -> None:
    commission = fees.agent_commission(Money(amount_minor, "PHP"), bps)
    assert commission == Money(expected, "PHP")


fee_amounts = st.integers(min_value=0, max_value=10**15)
fee_rates = st.integers(min_value=0, max_value=limits.MAX_FEE_BPS)


@given(fee_amounts, fee_rates)
def test_merchant_discount_is_nearest_with_ties_up(amount_minor: int, bps: int) -> None:
    fee = fees.merchant_discount(Money(amount_minor, "PHP"), bps).amount_minor
    # amount × bps / 10,000 to the nearest centavo, a half going up, in integers.
    assert fee == (2 * amount_minor * bps + 10_000) // 20_000
    assert abs(fee * 10_000 - amount_minor * bps) <= 5_000


@given(fee_amounts, fee_rates)
def test_agent_commission_never_exceeds_the_rate(amount_minor: int, bps: int) -> None:
    commission = fees.agent_commission(Money(amount_minor, "PHP"), bps).amount_minor
    assert commission == amount_minor * bps // 10_000
    assert commission * 10_000 <= amount_minor * bps < (commission + 1) * 10_000


def test_fees_keep_the_currency() -> None:
    assert fees.merchant_discount(Money(10_000, "USD"), 100).currency == "USD"
    assert fees.agent_commission(Money(10_000, "USD"), 100).currency == "USD"


@pytest.mark.parametrize("bps", [0, 1, 100, limits.MAX_FEE_BPS])
def test_check_bps_accepts_the_range(bps: int) -> None:
    assert fees.check_bps(bps, "merchant_discount_bps") == bps


@pytest.mark.parametrize("bps", [-1, limits.MAX_FEE_BPS + 1, True, False, 1.0, "100", None])
def test_check_bps_refuses(bps: object) -> None:
    with pytest.raises(RefusalError) as caught:
        fees.check_bps(bps, "merchant_discount_bps")
    assert caught.value.code == "rate_invalid"
    assert caught.value.category is Category.INVALID
    assert caught.value.param == "merchant_discount_bps"


# --- fees: the share of the fee a refund gives back (cumulative floor) ------------------------


@st.composite
def refund_plans(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """An amount A > 0, a fee F in 0..A, and partial refunds (each > 0) summing to at most A."""
    amount = draw(st.one_of(st.integers(1, 1_000), st.integers(1, limits.MAX_AMOUNT_MINOR)))
    fee = draw(st.integers(0, amount))
    cuts = draw(st.lists(st.integers(1, amount), unique=True, max_size=12))
    if draw(st.booleans()):
        cuts.append(amount)  # refunded in full
    points = sorted(set(cuts))
    refunds = [b - a for a, b in zip([0, *points], points, strict=False)]
    return amount, fee, refunds


@given(refund_plans())
def test_fee_returned_is_the_cumulative_floor(plan: tuple[int, int, list[int]]) -> None:
    amount, fee, refunds = plan
    returned = 0
    refunded = 0
    for refund in refunds:
        share = fees.fee_returned(fee, amount, refunded, refund)
        assert share >= 0
        returned += share
        refunded += refund
        assert returned == fee * refunded // amount
        assert returned <= fee
    if refunded == amount:
        assert returned == fee


def test_fee_returned_examples() -> None:
    # ₱100.00 paid with a ₱1.00 fee; three refunds of ₱33.33, ₱33.33 and ₱33.34.
    assert fees.fee_returned(100, 10_000, 0, 3_333) == 33
    assert fees.fee_returned(100, 10_000, 3_333, 3_333) == 33
    assert fees.fee_returned(100, 10_000, 6_666, 3_334) == 34  # the last one squares it
    # A fee of 1 centavo on 3 centavos: refunds of 1 each give back 0, 0, then 1.
    assert [fees.fee_returned(1, 3, before, 1) for before in (0, 1, 2)] == [0, 0, 1]
    # A full refund in one go gives back the whole fee.
    assert fees.fee_returned(37, 1_234, 0, 1_234) == 37


# --- tiers: validation ----------------------------------------------------------------------


def _figures(**overrides: int | None) -> dict[str, int | None]:
    figures: dict[str, int | None] = dict.fromkeys(LIMIT_NAMES, 1_000)
    figures.update(overrides)
    return figures


def test_default_tiers_are_the_limits_figures() -> None:
    defaults = tiers.default_tiers()
    assert [t.name for t in defaults] == list(limits.KYC_TIER_DEFAULTS)
    for tier in defaults:
        assert tier.figures() == limits.KYC_TIER_DEFAULTS[tier.name]


def test_tier_from_builds_limits() -> None:
    tier = tier_from("gold_2", _figures(max_balance_minor=limits.MAX_AMOUNT_MINOR))
    assert tier == TierLimits("gold_2", 1_000, 1_000, 1_000, 1_000, limits.MAX_AMOUNT_MINOR)
    assert set(tier.figures()) == set(LIMIT_NAMES)
    assert "name" not in tier.figures()


def test_tier_from_missing_or_none_is_unlimited() -> None:
    tier = tier_from("open", {"daily_outgoing_max_minor": None, "max_balance_minor": 5})
    assert tier.figures() == {
        "per_transaction_max_minor": None,
        "daily_outgoing_max_minor": None,
        "monthly_outgoing_max_minor": None,
        "monthly_incoming_max_minor": None,
        "max_balance_minor": 5,
    }


@pytest.mark.parametrize(
    "name", ["", "Basic", "1basic", "_basic", "ba-sic", "ba sic", "básic", "a" * 33, None]
)
def test_tier_from_refuses_bad_names(name: object) -> None:
    with pytest.raises(RefusalError) as caught:
        tier_from(name, _figures())  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.param) == ("tier_invalid", "name")
    assert caught.value.category is Category.INVALID


def test_tier_name_may_be_as_long_as_the_limit() -> None:
    name = "a" * limits.TIER_NAME_MAX_LENGTH
    assert tier_from(name, {}).name == name


def test_tier_from_refuses_unknown_limits() -> None:
    with pytest.raises(RefusalError) as caught:
        tier_from("basic", {**_figures(), "weekly_outgoing_max_minor": 5})
    assert (caught.value.code, caught.value.param) == ("tier_invalid", "weekly_outgoing_max_minor")
    assert "weekly_outgoing_max_minor" in caught.value.message


@pytest.mark.parametrize("limit_name", LIMIT_NAMES)
@pytest.mark.parametrize(
    "value", [0, -1, limits.MAX_AMOUNT_MINOR + 1, True, False, 1.5, 100.0, "100"]
)
def test_tier_from_refuses_bad_figures(limit_name: str, value: object) -> None:
    figures: dict[str, object] = dict(_figures())
    figures[limit_name] = value
    with pytest.raises(RefusalError) as caught:
        tier_from("basic", figures)
    assert (caught.value.code, caught.value.param) == ("tier_invalid", limit_name)


# --- tiers: checks, each naming its limit ------------------------------------------------------

LIMITED = TierLimits("limited", 100, 200, 300, 400, 500)
UNLIMITED = TierLimits("unlimited", None, None, None, None, None)
HUGE = limits.MAX_AMOUNT_MINOR


def _refusal_param(call: object, *args: object) -> str | None:
    with pytest.raises(RefusalError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.code == "limit_exceeded"
    assert caught.value.category is Category.REFUSED
    return caught.value.param


def test_check_amount_allows_up_to_the_limit() -> None:
    tiers.check_amount(LIMITED, 100, "PHP")
    assert _refusal_param(tiers.check_amount, LIMITED, 101, "PHP") == "per_transaction_max_minor"


def test_check_amount_message_shows_the_limit() -> None:
    basic = tiers.default_tiers()[0]
    with pytest.raises(RefusalError) as caught:
        tiers.check_amount(basic, 1_000_001, "PHP")
    assert "per-transaction maximum" in caught.value.message
    assert "10,000.00" in caught.value.message


def test_check_outgoing_names_each_limit() -> None:
    tiers.check_outgoing(LIMITED, 200, 300, "PHP")
    daily = _refusal_param(tiers.check_outgoing, LIMITED, 201, 300, "PHP")
    monthly = _refusal_param(tiers.check_outgoing, LIMITED, 200, 301, "PHP")
    assert daily == "daily_outgoing_max_minor"
    assert monthly == "monthly_outgoing_max_minor"


def test_check_incoming_names_each_limit() -> None:
    tiers.check_incoming(LIMITED, 400, 500, "PHP")
    monthly = _refusal_param(tiers.check_incoming, LIMITED, 401, 500, "PHP")
    balance = _refusal_param(tiers.check_incoming, LIMITED, 400, 501, "PHP")
    assert monthly == "monthly_incoming_max_minor"
    assert balance == "max_balance_minor"


def test_messages_name_the_limit_in_words() -> None:
    cases = [
        (tiers.check_outgoing, (LIMITED, 201, 0, "PHP"), "daily outgoing limit"),
        (tiers.check_outgoing, (LIMITED, 0, 301, "PHP"), "monthly outgoing limit"),
        (tiers.check_incoming, (LIMITED, 401, 0, "PHP"), "monthly incoming limit"),
        (tiers.check_incoming, (LIMITED, 0, 501, "PHP"), "maximum wallet balance"),
    ]
    for check, args, words in cases:
        with pytest.raises(RefusalError) as caught:
            check(*args)
        assert words in caught.value.message


def test_none_is_unlimited() -> None:
    tiers.check_amount(UNLIMITED, HUGE, "PHP")
    tiers.check_outgoing(UNLIMITED, HUGE, HUGE, "PHP")
    tiers.check_incoming(UNLIMITED, HUGE, HUGE, "PHP")


def test_one_unlimited_figure_leaves_the_others_enforced() -> None:
    tier = TierLimits("mixed", None, None, 300, 400, None)
    tiers.check_outgoing(tier, HUGE, 300, "PHP")
    assert _refusal_param(tiers.check_outgoing, tier, HUGE, 301, "PHP") == (
        "monthly_outgoing_max_minor"
    )
    tiers.check_incoming(tier, 400, HUGE, "PHP")
    assert _refusal_param(tiers.check_incoming, tier, 401, 0, "PHP") == (
        "monthly_incoming_max_minor"
    )


# --- parties -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "+639171234567",
        "09171234567",
        "0917 123 4567",
        "+63 917-123-4567",
        "+63 (917) 123 4567",
        "(0917) 123.4567",
        "0917-123-4567",
        " +63 917 123 4567 ",
        "0917\u00a0123\t4567",
    ],
)
def test_phone_numbers_normalise_to_e164(raw: str) -> None:
    assert parties.phone_number(raw) == "+639171234567"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "9171234567",  # no prefix
        "639171234567",  # country code without +
        "+6309171234567",  # both prefixes
        "+63 817 123 4567",  # not a mobile (9XX)
        "02 8123 4567",  # Manila landline
        "0917123456",  # a digit short
        "091712345678",  # a digit long
        "+1 917 123 4567",
        "+63917123456a",
        "0917/123/4567",
        "+639171234567\n+639181234567",
    ],
)
def test_phone_numbers_refused(raw: str) -> None:
    with pytest.raises(RefusalError) as caught:
        parties.phone_number(raw)
    assert (caught.value.code, caught.value.param) == ("phone_invalid", "phone")
    assert caught.value.category is Category.INVALID


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_way_of_writing_a_number_is_one_number(rest: str) -> None:
    e164 = "+639" + rest
    written = [
        e164,
        "09" + rest,
        f"+63 9{rest[:2]} {rest[2:5]} {rest[5:]}",
        f"09{rest[:2]}-{rest[2:]}",
    ]
    assert {parties.phone_number(w) for w in written} == {e164}


@pytest.mark.parametrize(
    "raw", ["+63 9\uff11\uff17 \uff11\uff12\uff13 \uff14\uff15\uff16\uff17", "09١٧١٢٣٤٥٦٧"]
)
def test_phone_numbers_with_non_ascii_digits_are_refused(raw: str) -> None:
    with pytest.raises(RefusalError):
        parties.phone_number(raw)


@pytest.mark.parametrize("raw", ["5411", "5812", "0000", "9999"])
def test_merchant_category_code_accepts_four_digits(raw: str) -> None:
    assert parties.merchant_category_code(raw) == raw


@pytest.mark.parametrize("raw", ["", "541", "54111", "54a1", " 5411", "5411 ", "5411\n", "-541"])
def test_merchant_category_code_refuses(raw: str) -> None:
    with pytest.raises(RefusalError) as caught:
        parties.merchant_category_code(raw)
    assert (caught.value.code, caught.value.param) == ("mcc_invalid", "mcc")


def test_merchant_category_code_refuses_non_ascii_digits() -> None:
    with pytest.raises(RefusalError):
        parties.merchant_category_code("٥٤١١")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ab-12", "AB-12"), ("  n01-23-456789 ", "N01-23-456789"), ("X" * 40, "X" * 40)],
)
def test_id_number_normalises(raw: str, expected: str) -> None:
    assert parties.id_number(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "AB 12", "AB_12", "AB/12", "X" * 41, "ÄB12"])
def test_id_number_refuses(raw: str) -> None:
    with pytest.raises(RefusalError) as caught:
        parties.id_number(raw)
    assert (caught.value.code, caught.value.param) == ("id_number_invalid", "id_number")


def test_text_collapses_whitespace() -> None:
    assert parties.text("  Aling \t Nena's\n  Store ", "name", 50) == "Aling Nena's Store"


def test_text_required_and_optional() -> None:
    with pytest.raises(RefusalError) as caught:
        parties.text(" \t ", "city", 10)
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "city")
    assert parties.text("   ", "city", 10, required=False) == ""


def test_text_length_counts_after_collapsing() -> None:
    assert parties.text("a    b", "name", 3) == "a b"
    with pytest.raises(RefusalError) as caught:
        parties.text("abcd", "name", 3)
    assert (caught.value.code, caught.value.param) == ("parameter_invalid", "name")


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b"])
def test_text_refuses_control_characters(control: str) -> None:
    with pytest.raises(RefusalError) as caught:
        parties.text(f"Sari{control}Sari", "name", 50)
    assert (caught.value.code, caught.value.param) == ("parameter_invalid", "name")


@pytest.mark.parametrize("control", ["\x7f", "\x9b"])
def test_text_refuses_del_and_c1_controls(control: str) -> None:
    with pytest.raises(RefusalError):
        parties.text(f"Sari{control}Sari", "name", 50)


def test_name_uses_the_name_limit() -> None:
    assert parties.name("x" * limits.NAME_MAX_LENGTH) == "x" * limits.NAME_MAX_LENGTH
    with pytest.raises(RefusalError) as caught:
        parties.name("x" * (limits.NAME_MAX_LENGTH + 1))
    assert caught.value.param == "name"


# --- periods: Manila days and months ---------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(iso: str) -> int:
    """Nanoseconds since the epoch of an ISO 8601 UTC instant (no float on the way)."""
    return (datetime.fromisoformat(iso) - EPOCH) // timedelta(microseconds=1) * 1_000


@pytest.mark.parametrize(
    ("iso", "day", "month"),
    [
        ("2026-11-29T15:59:59+00:00", "D2026-11-29", "M2026-11"),
        ("2026-11-29T16:00:00+00:00", "D2026-11-30", "M2026-11"),
        ("2026-11-29T00:00:00+00:00", "D2026-11-29", "M2026-11"),  # 8 a.m. in Manila
        ("2026-11-28T23:59:59+00:00", "D2026-11-29", "M2026-11"),  # 7:59 a.m. in Manila
        ("2026-11-30T15:59:59+00:00", "D2026-11-30", "M2026-11"),
        ("2026-11-30T16:00:00+00:00", "D2026-12-01", "M2026-12"),
        ("2026-12-31T15:59:59+00:00", "D2026-12-31", "M2026-12"),
        ("2026-12-31T16:00:00+00:00", "D2027-01-01", "M2027-01"),
        ("2028-02-28T16:00:00+00:00", "D2028-02-29", "M2028-02"),
    ],
)
def test_day_and_month_keys_follow_manila(iso: str, day: str, month: str) -> None:
    assert periods.day_key(_ns(iso)) == day
    assert periods.month_key(_ns(iso)) == month


def test_last_nanosecond_before_manila_midnight() -> None:
    midnight = _ns("2026-11-29T16:00:00+00:00")
    assert periods.day_key(midnight - 1) == "D2026-11-29"
    assert periods.day_key(midnight) == "D2026-11-30"


def test_local_time_is_utc_plus_8() -> None:
    local = periods.local_time(_ns("2026-11-29T16:00:00+00:00"))
    assert local.utcoffset() == timedelta(hours=8)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2026, 11, 30, 0, 0)


@given(st.integers(min_value=0, max_value=_ns("2099-12-31T00:00:00+00:00")))
def test_keys_are_the_utc_date_eight_hours_on(now_ns: int) -> None:
    manila = EPOCH + timedelta(microseconds=now_ns // 1_000) + timedelta(hours=8)
    assert periods.day_key(now_ns) == f"D{manila:%Y-%m-%d}"
    assert periods.month_key(now_ns) == f"M{manila:%Y-%m}"


# --- model: status after refunds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("refunded", "status"),
    [
        (-1, PaymentStatus.SUCCEEDED),
        (0, PaymentStatus.SUCCEEDED),
        (1, PaymentStatus.PARTIALLY_REFUNDED),
        (9_999, PaymentStatus.PARTIALLY_REFUNDED),
        (10_000, PaymentStatus.REFUNDED),
        (10_001, PaymentStatus.REFUNDED),
    ],
)
def test_status_after_refunds(refunded: int, status: PaymentStatus) -> None:
    assert status_after_refunds(10_000, refunded) is status


# --- access: callers and scopes --------------------------------------------------------------

OPERATOR_CALLER = Caller("key_op", None, frozenset(SCOPES))
MERCHANT = Caller("key_m", "mer_1", frozenset({"payments:read"}))


def test_operator_reaches_everything() -> None:
    assert OPERATOR_CALLER.operator
    assert OPERATOR_CALLER.scope == OPERATOR
    assert OPERATOR_CALLER.reaches("mer_1")
    assert OPERATOR_CALLER.reaches("cus_9", None)
    assert OPERATOR_CALLER.reaches()


def test_party_reaches_only_itself() -> None:
    assert not MERCHANT.operator
    assert MERCHANT.scope == "mer_1"
    assert MERCHANT.reaches("mer_1")
    assert MERCHANT.reaches("cus_9", "mer_1")
    assert not MERCHANT.reaches("mer_2")
    assert not MERCHANT.reaches("cus_9", "mer_10")
    assert not MERCHANT.reaches(None)
    assert not MERCHANT.reaches()


def test_require_scope() -> None:
    MERCHANT.require("payments:read")
    with pytest.raises(RefusalError) as caught:
        MERCHANT.require("payments:write")
    refusal = caught.value
    assert refusal.category is Category.PERMISSION
    assert (refusal.code, refusal.param) == ("scope_missing", "payments:write")
    assert "payments:write" in refusal.message


def test_operator_key_still_needs_its_scopes() -> None:
    narrow_operator = Caller("key_op2", None, frozenset({"payments:read"}))
    with pytest.raises(RefusalError) as caught:
        narrow_operator.require("keys:write")
    assert caught.value.code == "scope_missing"


def test_require_operator() -> None:
    OPERATOR_CALLER.require_operator()
    with pytest.raises(RefusalError) as caught:
        MERCHANT.require_operator()
    assert caught.value.category is Category.PERMISSION
    assert caught.value.code == "operator_only"


def test_unauthenticated_is_an_authentication_refusal() -> None:
    refusal = access.unauthenticated("api_key_invalid", "no such key")
    assert refusal.category is Category.AUTHENTICATION
    assert (refusal.code, refusal.message) == ("api_key_invalid", "no such key")


def test_parse_scopes() -> None:
    assert parse_scopes("payments:read") == frozenset({"payments:read"})
    assert parse_scopes(" payments:read , payments:write,payments:read,") == frozenset(
        {"payments:read", "payments:write"}
    )
    assert parse_scopes(",".join(SCOPES)) == frozenset(SCOPES)
    assert frozenset(DEFAULT_SCOPES) == frozenset(SCOPES)


@pytest.mark.parametrize("text", ["", " ", ",", " , ,"])
def test_parse_scopes_refuses_empty(text: str) -> None:
    with pytest.raises(RefusalError) as caught:
        parse_scopes(text)
    assert (caught.value.code, caught.value.param) == ("scopes_invalid", "scopes")
    assert caught.value.category is Category.INVALID
    assert "at least one" in caught.value.message


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("payments:delete", "payments:delete"),
        ("payments:read,admin", "admin"),
        ("Payments:Read", "Payments:Read"),
        ("payments:read payments:write", "payments:read payments:write"),
    ],
)
def test_parse_scopes_refuses_unknown(text: str, unknown: str) -> None:
    with pytest.raises(RefusalError) as caught:
        parse_scopes(text)
    assert (caught.value.code, caught.value.param) == ("scopes_invalid", "scopes")
    assert repr(unknown) in caught.value.message
