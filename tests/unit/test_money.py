"""Unit tests of tindahan.money: currencies, Money arithmetic, allocation, rates and rounding."""

from __future__ import annotations

import ast
import decimal
import re
import tokenize
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan.money import (
    CURRENCIES,
    MAX_AMOUNT_MINOR,
    AmountOutOfRangeError,
    Currency,
    CurrencyMismatchError,
    Money,
    MoneyError,
    MoneyTypeError,
    PrecisionError,
    Rounding,
    UnknownCurrencyError,
    allocate,
    apply_bps,
    apply_rate,
    bps_of,
    convert,
    currency,
    exact_minor,
    from_minor,
    to_minor,
)

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "tindahan"
CODES = sorted(CURRENCIES)

amounts = st.integers(min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR)
codes = st.sampled_from(CODES)
roundings = st.sampled_from(list(Rounding))


# --- the package-wide rule --------------------------------------------------------------------


def _float_uses(path: Path) -> list[int]:
    """Lines where the ``float`` type is named: as a name, an attribute, or a string annotation."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines: list[int] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id == "float") or (
            isinstance(node, ast.Attribute) and node.attr == "float"
        ):
            lines.append(node.lineno)
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg | ast.AnnAssign):
            annotations.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        for annotation in annotations:
            for inner in ast.walk(annotation) if annotation else ():
                if isinstance(inner, ast.Constant) and re.search(r"\bfloat\b", str(inner.value)):
                    lines.append(inner.lineno)
    return sorted(set(lines))


#: Credit scoring is statistics: features, probabilities, points and PSI are real numbers by
#: nature (numpy, scikit-learn, LightGBM). No amount is computed from them: the simulator's
#: and the features' amounts stay int64 centavos, and a probability leaves the API as a
#: decimal string. These modules, and only these, may name the float type. ``web/reasons.py``
#: puts the same features' values into Filipino sentences, rounded exactly as the credit
#: package's own English ones are. The benchmarks (``bench``) measure seconds and rates of
#: work (``time.perf_counter``, medians, percentiles): no amount is computed from them.
#: Insights forecast units of demand (rates, seasonal factors, Poisson quantiles): counts of
#: goods, not money; a reorder quantity leaves them as a whole number.
STATISTICS = {"credit", "bench", "insights"}
STATISTICS_FILES = {
    "api/credit.py",
    "cli/credit.py",
    "cli/insights.py",
    "services/insights/reorder.py",
    "cli/simulate.py",
    "services/credit/assessments.py",
    "web/reasons.py",
    # Delivery times are statistics too: hours between pickup and delivery, the model's
    # quantiles, kilometres between PSGC centroids (latitude and longitude) and the
    # simulator's speeds. No fee is computed in these files: the rate cards' fees stay
    # integer centavos in delivery/rates.py.
    "commerce/psgc.py",
    "delivery/history.py",
    "delivery/promise.py",
    "delivery/simulate.py",
}


def _statistics(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] in STATISTICS or relative.as_posix() in STATISTICS_FILES


def test_no_float_in_package() -> None:
    """DESIGN.md invariant 1: no ``float`` on any money path, so none anywhere in the package.

    Across the whole package the *type* is refused (names, attributes, annotations); the word
    itself stays allowed in strings and comments elsewhere, since an agent's "float" (its cash
    and e-money balance) is domain vocabulary. Inside ``money`` even the word is refused.
    """
    assert PACKAGE.is_dir()
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not _statistics(path)
        for line in _float_uses(path)
    ]
    assert not offenders, "the float type is used at:\n" + "\n".join(offenders)


def test_money_package_has_no_float_word_or_literal() -> None:
    offenders: list[str] = []
    for path in sorted((PACKAGE / "money").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for number, line in enumerate(source.splitlines(), start=1):
            if re.search(r"\bfloat\b", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
        with path.open("rb") as handle:
            for token in tokenize.tokenize(handle.readline):
                text = token.string.lower()
                inexact = not text.startswith("0x") and any(c in text for c in ".ej")
                if token.type == tokenize.NUMBER and inexact:
                    offenders.append(f"{path.name}:{token.start[0]}: literal {token.string}")
    assert not offenders, "\n".join(offenders)


def test_float_detector_catches_uses(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import builtins\n"
        "x: float = 1\n"
        "def f(y: 'float') -> int:\n"
        "    return int(builtins.float(y))\n"
        "s = f'{float(2)}'\n"
        "ok = 'agent-float'  # an agent float\n",
        encoding="utf-8",
    )
    assert _float_uses(sample) == [2, 3, 4, 5]


def test_money_imports_no_framework() -> None:
    forbidden = {"sqlalchemy", "alembic", "psycopg", "fastapi", "pydantic", "typer", "rich"}
    for path in (PACKAGE / "money").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & forbidden, path


# --- currencies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "numeric", "exponent"),
    [
        ("PHP", "608", 2),
        ("USD", "840", 2),
        ("JPY", "392", 0),
        ("KWD", "414", 3),
        ("BHD", "048", 3),
        ("OMR", "512", 3),
        ("AUD", "036", 2),
        ("IDR", "360", 2),
    ],
)
def test_currency_table(code: str, numeric: str, exponent: int) -> None:
    assert currency(code) == Currency(code, numeric, exponent)


def test_currency_table_shape() -> None:
    assert len(CURRENCIES) == 24
    for code, info in CURRENCIES.items():
        assert info.code == code
        assert re.fullmatch("[A-Z]{3}", code)
        assert re.fullmatch("[0-9]{3}", info.numeric)
        assert info.exponent in (0, 2, 3)
    assert len({info.numeric for info in CURRENCIES.values()}) == len(CURRENCIES)


@pytest.mark.parametrize("code", ["php", "Php", "PH", "PHPX", " PHP", "", "XYZ", "₱"])
def test_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        currency(code)


def test_unknown_currency_messages() -> None:
    with pytest.raises(UnknownCurrencyError, match=r"did you mean 'PHP'"):
        currency("php")
    with pytest.raises(UnknownCurrencyError, match=r"unsupported currency 'XYZ'"):
        currency("XYZ")
    bad: Any = 608
    with pytest.raises(MoneyTypeError):
        currency(bad)


def test_error_hierarchy() -> None:
    assert issubclass(MoneyError, ValueError)
    assert issubclass(MoneyTypeError, TypeError)
    for error in (UnknownCurrencyError, CurrencyMismatchError, AmountOutOfRangeError):
        assert issubclass(error, MoneyError)


# --- Money ------------------------------------------------------------------------------------


def test_money_validation() -> None:
    assert Money(MAX_AMOUNT_MINOR, "PHP").amount_minor == 2**63 - 1
    assert Money(-MAX_AMOUNT_MINOR, "PHP").amount_minor == -(2**63 - 1)
    with pytest.raises(AmountOutOfRangeError):
        Money(MAX_AMOUNT_MINOR + 1, "PHP")
    with pytest.raises(AmountOutOfRangeError):
        Money(-MAX_AMOUNT_MINOR - 1, "PHP")
    for bad in (True, Decimal("1"), "100", 1.0, None):
        value: Any = bad
        with pytest.raises(MoneyTypeError):
            Money(value, "PHP")
    with pytest.raises(UnknownCurrencyError):
        Money(100, "php")


def test_money_is_frozen_and_hashable() -> None:
    money = Money(100, "PHP")
    with pytest.raises(AttributeError):
        money.amount_minor = 5  # type: ignore[misc]
    assert {money, Money(100, "PHP")} == {money}


def test_arithmetic() -> None:
    a, b = Money(150, "PHP"), Money(50, "PHP")
    assert a + b == Money(200, "PHP")
    assert a - b == Money(100, "PHP")
    assert b - a == Money(-100, "PHP")
    assert -a == Money(-150, "PHP")
    assert +a == a
    assert abs(Money(-7, "PHP")) == Money(7, "PHP")
    assert a * 3 == 3 * a == Money(450, "PHP")
    assert sum([a, b, b], Money.zero("PHP")) == Money(250, "PHP")
    assert Money.zero("JPY").is_zero() and not a.is_zero()
    assert a > b and b < a and a >= a and a <= a
    assert max(a, b) == a
    assert Money(100, "PHP") != Money(100, "USD")
    hundred: object = 100
    assert Money(100, "PHP") != hundred


def test_multiplication_is_by_int_only() -> None:
    money = Money(100, "PHP")
    for factor in (Decimal("1.5"), True, "2", 1.5):
        bad: Any = factor
        with pytest.raises(TypeError):
            money * bad
        with pytest.raises(TypeError):
            bad * money


def test_arithmetic_out_of_range() -> None:
    with pytest.raises(AmountOutOfRangeError):
        Money(MAX_AMOUNT_MINOR, "PHP") + Money(1, "PHP")
    with pytest.raises(AmountOutOfRangeError):
        Money(MAX_AMOUNT_MINOR, "PHP") * 2


def test_money_str() -> None:
    assert str(Money(123450, "PHP")) == "PHP 1234.50"
    assert str(Money(-5, "PHP")) == "PHP -0.05"
    assert str(Money(1234, "JPY")) == "JPY 1234"
    assert str(Money(1, "KWD")) == "KWD 0.001"


@given(amounts, amounts, codes, codes)
def test_arithmetic_refuses_currency_mismatch(x: int, y: int, c1: str, c2: str) -> None:
    if c1 == c2:
        return
    a, b = Money(x, c1), Money(y, c2)
    assert a != b
    for operation in (
        lambda: a + b,
        lambda: a - b,
        lambda: a < b,
        lambda: a <= b,
        lambda: a > b,
        lambda: a >= b,
    ):
        with pytest.raises(CurrencyMismatchError, match=f"{c1} and {c2}"):
            operation()


@given(amounts, amounts, codes)
def test_arithmetic_is_exact(x: int, y: int, code: str) -> None:
    total = x + y
    if abs(total) > MAX_AMOUNT_MINOR:
        with pytest.raises(AmountOutOfRangeError):
            Money(x, code) + Money(y, code)
    else:
        assert (Money(x, code) + Money(y, code)).amount_minor == total
        assert (Money(x, code) + Money(y, code)) - Money(y, code) == Money(x, code)


# --- allocate ---------------------------------------------------------------------------------


def test_allocate_examples() -> None:
    def parts(amount: int, weights: list[int]) -> list[int]:
        return [p.amount_minor for p in allocate(Money(amount, "PHP"), weights)]

    assert parts(100, [1, 1, 1]) == [34, 33, 33]
    assert parts(-100, [1, 1, 1]) == [-34, -33, -33]
    assert parts(5, [1, 1]) == [3, 2]
    assert parts(100, [0, 1]) == [0, 100]
    assert parts(1, [1, 2]) == [0, 1]
    assert parts(0, [3, 4]) == [0, 0]
    assert parts(1000, [7]) == [1000]
    assert parts(10, [3, 3, 3, 1]) == [3, 3, 3, 1]
    assert parts(11, [3, 3, 3, 1]) == [4, 3, 3, 1]  # remainders 0.3 each for the 3s: tie → first


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_bad_weights(weights: list[int]) -> None:
    with pytest.raises(MoneyError):
        allocate(Money(100, "PHP"), weights)


def test_allocate_refuses_non_int_weights() -> None:
    bad: Any = [1, Decimal("0.5")]
    with pytest.raises(MoneyTypeError):
        allocate(Money(100, "PHP"), bad)
    with pytest.raises(MoneyTypeError):
        allocate(Money(100, "PHP"), [True, 1])


@given(
    amounts,
    codes,
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(any),
)
def test_allocate_properties(amount: int, code: str, weights: list[int]) -> None:
    money = Money(amount, code)
    parts = allocate(money, weights)
    total_weight = sum(weights)
    assert len(parts) == len(weights)
    assert all(p.currency == code for p in parts)
    assert sum(p.amount_minor for p in parts) == amount
    for part, weight in zip(parts, weights, strict=True):
        # |part - amount × weight / total| < 1, in exact integers
        assert abs(part.amount_minor * total_weight - amount * weight) < total_weight
        if weight == 0:
            assert part.is_zero()
    assert allocate(-money, weights) == [-p for p in parts]


# --- rates and rounding -----------------------------------------------------------------------


def test_rounding_names_the_decimal_modes() -> None:
    assert [r.name for r in Rounding] == ["HALF_EVEN", "HALF_UP", "DOWN", "UP", "FLOOR", "CEILING"]
    for mode in Rounding:
        assert mode.value == getattr(decimal, f"ROUND_{mode.name}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.005", {"HALF_EVEN": 100, "HALF_UP": 101, "DOWN": 100, "UP": 101}),
        ("1.015", {"HALF_EVEN": 102, "HALF_UP": 102, "DOWN": 101, "UP": 102}),
        ("-1.005", {"HALF_EVEN": -100, "HALF_UP": -101, "DOWN": -100, "UP": -101}),
        ("1.001", {"FLOOR": 100, "CEILING": 101, "HALF_UP": 100}),
        ("-1.001", {"FLOOR": -101, "CEILING": -100, "HALF_UP": -100}),
        ("2.5", {"HALF_EVEN": 250}),
    ],
)
def test_to_minor_examples(value: str, expected: dict[str, int]) -> None:
    for name, minor in expected.items():
        assert to_minor(Decimal(value), "PHP", Rounding[name]) == minor


def test_to_minor_by_exponent() -> None:
    assert to_minor(Decimal("1234.5"), "JPY", Rounding.HALF_EVEN) == 1234
    assert to_minor(Decimal("1.2345"), "KWD", Rounding.HALF_UP) == 1235
    assert to_minor(7, "PHP", Rounding.DOWN) == 700
    assert to_minor(Decimal("1E-999999"), "PHP", Rounding.UP) == 1
    with pytest.raises(AmountOutOfRangeError):
        to_minor(Decimal("1E+40"), "PHP", Rounding.DOWN)
    with pytest.raises(AmountOutOfRangeError):
        to_minor(Decimal(MAX_AMOUNT_MINOR) / 100 + Decimal("0.01"), "PHP", Rounding.DOWN)


def test_rounding_must_be_named() -> None:
    bad: Any = "ROUND_HALF_UP"
    with pytest.raises(MoneyTypeError):
        to_minor(Decimal("1.005"), "PHP", bad)
    with pytest.raises(TypeError):
        to_minor(Decimal("1.005"), "PHP")  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["1", 1.5, None, "NaN"])
def test_values_must_be_decimal_or_int(value: object) -> None:
    bad: Any = value
    with pytest.raises(MoneyTypeError):
        to_minor(bad, "PHP", Rounding.DOWN)


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_values_must_be_finite(value: str) -> None:
    with pytest.raises(MoneyError):
        to_minor(Decimal(value), "PHP", Rounding.DOWN)
    with pytest.raises(MoneyError):
        apply_rate(Money(100, "PHP"), Decimal(value), Rounding.DOWN)


def test_exact_minor() -> None:
    assert exact_minor(Decimal("1.50"), "PHP") == 150
    assert exact_minor(Decimal("1.500"), "PHP") == 150
    assert exact_minor(Decimal("-0.001"), "KWD") == -1
    assert exact_minor(Decimal("12E+2"), "JPY") == 1200
    for value, code in [("1.005", "PHP"), ("0.5", "JPY"), ("0.0001", "KWD")]:
        with pytest.raises(PrecisionError):
            exact_minor(Decimal(value), code)


def test_from_minor() -> None:
    assert from_minor(123450, "PHP") == Decimal("1234.50")
    assert str(from_minor(123450, "PHP")) == "1234.50"
    assert str(from_minor(-1, "KWD")) == "-0.001"
    assert str(from_minor(1234, "JPY")) == "1234"
    assert str(from_minor(MAX_AMOUNT_MINOR, "PHP")) == "92233720368547758.07"


@given(amounts, codes)
def test_from_minor_exact_minor_round_trip(amount: int, code: str) -> None:
    assert exact_minor(from_minor(amount, code), code) == amount
    for mode in Rounding:
        assert to_minor(from_minor(amount, code), code, mode) == amount


def test_apply_rate_and_bps() -> None:
    money = Money(12345, "PHP")  # ₱123.45
    assert apply_rate(money, Decimal("0.015"), Rounding.HALF_EVEN) == Money(185, "PHP")
    assert apply_rate(money, Decimal("0.015"), Rounding.DOWN) == Money(185, "PHP")
    assert apply_rate(money, Decimal("0.015"), Rounding.UP) == Money(186, "PHP")
    assert apply_rate(money, 2, Rounding.UP) == Money(24690, "PHP")
    assert apply_bps(money, 150, Rounding.HALF_UP) == Money(185, "PHP")
    assert apply_bps(Money(100, "PHP"), 50, Rounding.HALF_UP) == Money(1, "PHP")
    assert apply_bps(Money(100, "PHP"), 50, Rounding.HALF_EVEN) == Money(0, "PHP")
    assert apply_bps(Money(-100, "PHP"), 50, Rounding.FLOOR) == Money(-1, "PHP")
    bad: Any = Decimal(150)
    with pytest.raises(MoneyTypeError):
        apply_bps(money, bad, Rounding.HALF_UP)


@pytest.mark.parametrize("rate", ["0.015", 1.5, True, None])
def test_rate_types(rate: object) -> None:
    bad: Any = rate
    with pytest.raises(MoneyTypeError):
        apply_rate(Money(100, "PHP"), bad, Rounding.DOWN)


def test_rate_bounds() -> None:
    with pytest.raises(PrecisionError):
        apply_rate(Money(100, "PHP"), Decimal("0." + "1" * 31), Rounding.DOWN)
    assert apply_rate(Money(100, "PHP"), Decimal("0." + "1" * 30), Rounding.DOWN).amount_minor == 11
    with pytest.raises(MoneyError):
        apply_rate(Money(100, "PHP"), Decimal("1E+30"), Rounding.DOWN)
    with pytest.raises(MoneyError):
        apply_rate(Money(100, "PHP"), Decimal("1E-31"), Rounding.DOWN)
    one = Decimal("1." + "0" * 40)  # trailing zeros are not significant digits
    assert apply_rate(Money(100, "PHP"), one, Rounding.DOWN) == Money(100, "PHP")
    with pytest.raises(AmountOutOfRangeError):
        apply_rate(Money(MAX_AMOUNT_MINOR, "PHP"), 2, Rounding.DOWN)


def test_convert_examples() -> None:
    assert convert(Money(100000, "PHP"), Decimal("0.01724"), "USD", Rounding.HALF_EVEN) == Money(
        1724, "USD"
    )
    assert convert(Money(100, "USD"), Decimal("157.5"), "JPY", Rounding.HALF_EVEN) == Money(
        158, "JPY"
    )
    assert convert(Money(100, "USD"), Decimal("156.5"), "JPY", Rounding.HALF_EVEN) == Money(
        156, "JPY"
    )
    assert convert(Money(1000, "JPY"), Decimal("0.37"), "PHP", Rounding.DOWN) == Money(37000, "PHP")
    assert convert(Money(1, "KWD"), Decimal("190.5"), "PHP", Rounding.CEILING) == Money(20, "PHP")
    for rate in (Decimal(0), Decimal("-1.5")):
        with pytest.raises(MoneyError, match="positive"):
            convert(Money(100, "PHP"), rate, "USD", Rounding.DOWN)
    with pytest.raises(UnknownCurrencyError):
        convert(Money(100, "PHP"), Decimal(1), "usd", Rounding.DOWN)


def _obeys(mode: Rounding, result: int, exact: Fraction) -> bool:
    error = result - exact
    if mode is Rounding.FLOOR:
        return 0 >= error > -1
    if mode is Rounding.CEILING:
        return 0 <= error < 1
    if mode is Rounding.DOWN:
        return abs(result) <= abs(exact) < abs(result) + 1 and result * exact >= 0
    if mode is Rounding.UP:
        return abs(result) >= abs(exact) > abs(result) - 1 and result * exact >= 0
    if abs(error) > Fraction(1, 2):
        return False
    if abs(error) < Fraction(1, 2):
        return True
    if mode is Rounding.HALF_UP:
        return abs(result) > abs(exact)
    return result % 2 == 0  # HALF_EVEN


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    codes,
    codes,
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(100000), places=6),
    roundings,
)
def test_convert_obeys_its_rounding(
    amount: int, source: str, target: str, rate: Decimal, mode: Rounding
) -> None:
    shift = currency(target).exponent - currency(source).exponent
    exact = Fraction(amount) * Fraction(rate) * Fraction(10) ** shift
    if abs(exact) > MAX_AMOUNT_MINOR + 1:
        with pytest.raises(AmountOutOfRangeError):
            convert(Money(amount, source), rate, target, mode)
        return
    if abs(exact) >= MAX_AMOUNT_MINOR - 1:
        return  # at the boundary, in or out of range depends on the mode
    result = convert(Money(amount, source), rate, target, mode)
    assert result.currency == target
    assert _obeys(mode, result.amount_minor, exact), (result, exact)
    if exact.denominator == 1:
        assert result.amount_minor == exact


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(-20000, 20000), roundings)
def test_apply_bps_obeys_its_rounding(amount: int, bps: int, mode: Rounding) -> None:
    result = apply_bps(Money(amount, "PHP"), bps, mode)
    assert _obeys(mode, result.amount_minor, Fraction(amount * bps, 10000))
    assert result == apply_rate(Money(amount, "PHP"), Decimal(bps).scaleb(-4), mode)


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(-20000, 20000), roundings)
def test_bps_of_is_the_share_in_minor_units_rounded_once_as_named(
    amount: int, bps: int, mode: Rounding
) -> None:
    share = bps_of(amount, bps, mode)
    assert _obeys(mode, share, Fraction(amount * bps, 10000))
    assert share == apply_bps(Money(amount, "PHP"), bps, mode).amount_minor


@given(st.integers(min_value=0, max_value=10**12), st.integers(0, 10000))
def test_bps_of_down_and_half_up_are_the_integer_formulas_it_replaces(
    amount: int, bps: int
) -> None:
    """The hand-written forms it replaces (``// 10_000`` commented DOWN, ``+ 5_000`` for
    HALF_UP) agree with it on non-negative amounts, and a share is never more than the
    amount for at most 100%."""
    assert bps_of(amount, bps, Rounding.DOWN) == amount * bps // 10_000
    assert bps_of(amount, bps, Rounding.HALF_UP) == (amount * bps + 5_000) // 10_000
    assert 0 <= bps_of(amount, bps, Rounding.DOWN) <= amount


def test_bps_of_refuses_what_is_not_an_amount_or_basis_points() -> None:
    with pytest.raises(MoneyTypeError):
        bps_of(100, 1.5, Rounding.DOWN)  # type: ignore[arg-type]
    with pytest.raises(MoneyTypeError):
        bps_of(100, True, Rounding.DOWN)
    with pytest.raises(MoneyTypeError):
        bps_of(Decimal(100), 50, Rounding.DOWN)  # type: ignore[arg-type]
    with pytest.raises(AmountOutOfRangeError):
        bps_of(MAX_AMOUNT_MINOR + 1, 50, Rounding.DOWN)
    with pytest.raises(MoneyTypeError):
        bps_of(100, 50, "ROUND_DOWN")  # type: ignore[arg-type]


@given(st.decimals(allow_nan=False, allow_infinity=False, places=8), codes, roundings)
def test_to_minor_obeys_its_rounding(value: Decimal, code: str, mode: Rounding) -> None:
    exact = Fraction(value) * 10 ** currency(code).exponent
    if abs(exact) >= MAX_AMOUNT_MINOR:
        return
    assert _obeys(mode, to_minor(value, code, mode), exact)
