"""Unit tests of tindahan.money.text: parsing and formatting money with Babel."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan.money import (
    MAX_AMOUNT_MINOR,
    AmountOutOfRangeError,
    Money,
    MoneyError,
    MoneyParseError,
    MoneyTypeError,
    PrecisionError,
    UnknownCurrencyError,
    UnknownLocaleError,
    format_amount,
    format_money,
    parse_money,
)

LOCALES = ["en_PH", "fil_PH", "en-PH", "fil-PH"]
amounts = st.integers(min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR)


@pytest.mark.parametrize(
    ("money", "locale", "text"),
    [
        (Money(123450, "PHP"), "en_PH", "₱1,234.50"),
        (Money(123450, "PHP"), "fil_PH", "₱1,234.50"),
        (Money(123450, "PHP"), "fil-PH", "₱1,234.50"),
        (Money(-500, "PHP"), "en_PH", "-₱5.00"),
        (Money(0, "PHP"), "en_PH", "₱0.00"),
        (Money(1000, "USD"), "en_PH", "$10.00"),
        (Money(123456, "JPY"), "en_PH", "¥123,456"),
        (Money(1234567, "KWD"), "en_PH", "KWD1,234.567"),
        (Money(1234567, "KWD"), "fil_PH", "KWD1,234.567"),
        (Money(100, "IDR"), "en_PH", "IDR1.00"),  # ISO 4217 decimals, not CLDR's
        (Money(MAX_AMOUNT_MINOR, "PHP"), "en_PH", "₱92,233,720,368,547,758.07"),
    ],
)
def test_format_money(money: Money, locale: str, text: str) -> None:
    assert format_money(money, locale) == text


def test_format_money_default_locale_and_amount() -> None:
    assert format_money(Money(123450, "PHP")) == "₱1,234.50"
    assert format_amount(Money(123450, "PHP")) == "1,234.50"
    assert format_amount(Money(-5, "KWD"), "fil_PH") == "-0.005"
    assert format_amount(Money(1234, "JPY")) == "1,234"


@pytest.mark.parametrize("locale", ["xx_YY", "", "en_PH_!!", "@@", "klingon"])
def test_unknown_locale(locale: str) -> None:
    with pytest.raises(UnknownLocaleError, match="unknown locale"):
        format_money(Money(1, "PHP"), locale)
    with pytest.raises(UnknownLocaleError):
        parse_money("1.00", locale=locale)


def test_locale_type() -> None:
    bad: Any = None
    with pytest.raises(MoneyTypeError):
        format_money(Money(1, "PHP"), bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("₱1,234.50", Money(123450, "PHP")),
        ("1234.5 PHP", Money(123450, "PHP")),
        ("PHP 1,234.50", Money(123450, "PHP")),
        ("PHP1234", Money(123400, "PHP")),
        ("1,234.50", Money(123450, "PHP")),
        ("  ₱ 5  ", Money(500, "PHP")),
        ("5 ₱", Money(500, "PHP")),
        ("-₱5.00", Money(-500, "PHP")),
        ("₱-5.00", Money(-500, "PHP")),
        ("- PHP 5", Money(-500, "PHP")),
        ("−5 PHP", Money(-500, "PHP")),  # U+2212 MINUS SIGN
        ("+₱5", Money(500, "PHP")),
        ("-0.00", Money(0, "PHP")),
        ("USD 10", Money(1000, "USD")),
        ("US$10", Money(1000, "USD")),
        ("€5", Money(500, "EUR")),
        ("£5.10", Money(510, "GBP")),
        ("HK$3", Money(300, "HKD")),
        ("JP¥100", Money(100, "JPY")),
        ("CN¥1.5", Money(150, "CNY")),
        ("KWD 1.234", Money(1234, "KWD")),
        ("JPY 1,000", Money(1000, "JPY")),
        ("₱1,000,000", Money(100000000, "PHP")),
    ],
)
def test_parse_money_accepts(text: str, expected: Money) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", MoneyParseError, "empty"),
        ("   ", MoneyParseError, "empty"),
        ("garbage", MoneyParseError, "not an amount"),
        ("PHP", MoneyParseError, "not an amount"),
        ("₱5 USD", MoneyParseError, "two currencies"),
        ("PHP 5 PHP", MoneyParseError, "two currencies"),
        ("-₱-5", MoneyParseError, "two signs"),
        ("(₱5.00)", MoneyParseError, "parentheses"),
        ("₱1.005", PrecisionError, "3 decimal places but PHP has 2"),
        ("₱1.500", PrecisionError, "never rounded"),
        ("JP¥1.5", PrecisionError, "1 decimal places but JPY has 0"),
        ("JPY 100.0", PrecisionError, "JPY has 0"),
        ("KWD 1.2345", PrecisionError, "KWD has 3"),
        ("₱999,999,999,999,999,999.00", AmountOutOfRangeError, "outside"),
        ("12,34", MoneyParseError, "badly grouped"),
        ("1,2345.00", MoneyParseError, "badly grouped"),
        ("1234,567", MoneyParseError, "badly grouped"),
        ("1.234,50", MoneyParseError, "not a well-formed number"),
        ("₱.50", MoneyParseError, "not a well-formed number"),
        ("5.", MoneyParseError, "not a well-formed number"),
        ("1,,234", MoneyParseError, "not a well-formed number"),
        ("1e5", MoneyParseError, "not an amount"),
        ("NaN", MoneyParseError, "not an amount"),
        ("Infinity PHP", MoneyParseError, "not an amount"),
        ("1_000", MoneyParseError, "not an amount"),
        ("١٢٣", MoneyParseError, "not an amount"),
        ("$10.00", MoneyParseError, "ambiguous"),
        ("¥100", MoneyParseError, "ambiguous"),
        ("php 5", MoneyParseError, "upper case: 'PHP'"),
        ("XYZ 5", UnknownCurrencyError, "unsupported currency 'XYZ'"),
        ("Rs 5", MoneyParseError, "unrecognised currency 'Rs'"),
        ("5" * 65, MoneyParseError, "too long"),
    ],
)
def test_parse_money_refuses(text: str, error: type[MoneyError], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_money(text)


def test_parse_money_default_currency() -> None:
    assert parse_money("$10.00", default_currency="USD") == Money(1000, "USD")
    assert parse_money("¥100", default_currency="JPY") == Money(100, "JPY")
    assert parse_money("10", default_currency="USD") == Money(1000, "USD")
    assert parse_money("PHP 10", default_currency="USD") == Money(1000, "PHP")  # marker wins
    assert parse_money("₱10", default_currency=None) == Money(1000, "PHP")
    with pytest.raises(MoneyParseError, match="no currency"):
        parse_money("10", default_currency=None)
    with pytest.raises(MoneyParseError, match="ambiguous"):
        parse_money("$10", default_currency="SGD")
    with pytest.raises(UnknownCurrencyError):
        parse_money("10", default_currency="php")
    bad: Any = 10
    with pytest.raises(MoneyTypeError):
        parse_money(bad)


def test_parse_money_other_locales() -> None:
    assert parse_money("1.234,50 €", locale="de_DE") == Money(123450, "EUR")
    assert parse_money(format_money(Money(123450, "EUR"), "fr_FR"), locale="fr_FR") == Money(
        123450, "EUR"
    )
    with pytest.raises(MoneyParseError):
        parse_money("1,234.50 EUR", locale="de_DE")


@given(amounts, st.sampled_from(["PHP", "USD", "JPY", "KWD"]), st.sampled_from(LOCALES))
def test_parse_format_round_trip(amount: int, code: str, locale: str) -> None:
    money = Money(amount, code)
    assert parse_money(format_money(money, locale), default_currency=code, locale=locale) == money
    assert parse_money(format_amount(money, locale), default_currency=code, locale=locale) == money
    assert parse_money(str(money), default_currency=None, locale=locale) == money


@given(amounts, st.sampled_from(["PHP", "KWD", "IDR", "EUR", "GBP"]), st.sampled_from(LOCALES))
def test_round_trip_with_peso_default(amount: int, code: str, locale: str) -> None:
    money = Money(amount, code)
    assert parse_money(format_money(money, locale), locale=locale) == money


@given(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from(["PHP", "USD", "JPY", "KWD"]),
    st.integers(min_value=0, max_value=9),
    st.sampled_from(LOCALES),
)
def test_parse_never_rounds(amount: int, code: str, digit: int, locale: str) -> None:
    text = format_money(Money(amount, code), locale)
    extra = f"{text}{digit}" if "." in text else f"{text}.{digit}"
    with pytest.raises(PrecisionError):
        parse_money(extra, default_currency=code, locale=locale)
