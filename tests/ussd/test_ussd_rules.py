"""The USSD domain with no database (issue 24): merchant codes and the menus' walk."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan.ussd import codes, menu
from tindahan.ussd.menu import Flow, Prompt, Refusal, Stage


@given(st.integers(0, 10**6 - 1), st.integers(0, 6), st.integers(1, 9))
@settings(max_examples=examples(200))
def test_a_code_catches_any_one_mistyped_digit(body: int, position: int, shift: int) -> None:
    digits = f"{body:06d}"
    code = digits + codes.check_digit(digits)
    assert codes.normalize(code) == code
    typo = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert codes.normalize(typo) is None


def test_new_codes_are_seven_digits_that_check() -> None:
    for _ in range(200):
        code = codes.new()
        assert len(code) == 7 and code[0] != "0" and codes.normalize(code) == code
    assert codes.normalize("123 4566") == "1234566"
    assert codes.normalize("12a4566") is None


def test_inputs_split_on_star_and_refuse_what_a_phone_cannot_send() -> None:
    assert menu.inputs("") == []
    assert menu.inputs("3*1234566*50") == ["3", "1234566", "50"]
    for bad in ("3*<b>", "1\x00", "é", "1" * 161):
        with pytest.raises(menu.MalformedTextError):
            menu.inputs(bad)


@pytest.mark.parametrize(
    ("typed", "pesos"),
    [
        ("1", 100),
        ("250", 25_000),
        ("9999999", 999_999_900),
        ("0", None),
        ("1.5", None),
        ("-5", None),
        ("1e3", None),
        ("١٢", None),
        ("12345678", None),
        ("", None),
    ],
)
def test_amounts_are_whole_pesos(typed: str, pesos: int | None) -> None:
    assert menu.pesos(typed) == pesos


def test_mobile_numbers_in_the_usual_forms() -> None:
    for typed in ("09171234567", "639171234567", "+639171234567", "0917 123 4567"):
        assert menu.mobile(typed) == "+639171234567"
    for typed in ("0817123456", "12345", "091712345678"):
        assert menu.mobile(typed) is None


def test_the_walk_of_paying_a_store() -> None:
    code = codes.new()
    assert menu.route([], signup=False) == Prompt(menu.MAIN)
    assert isinstance(menu.route(["3"], signup=False), Prompt)
    assert menu.route(["3", code], signup=False) == Stage(Flow.MERCHANT, "payee", {"code": code})
    confirm = menu.route(["3", code, "50"], signup=False)
    assert confirm == Stage(Flow.MERCHANT, "confirm", {"code": code, "amount_minor": 5000})
    done = menu.route(["3", code, "50", "240816"], signup=False)
    assert isinstance(done, Stage) and done.stage == "do" and done.pin == "240816"
    assert "240816" not in str(done.values)
    assert isinstance(menu.route(["3", code, "50", "240816", "1"], signup=False), Refusal)


def test_sign_up_walk() -> None:
    assert isinstance(menu.route([], signup=True), Prompt)
    assert menu.route(["Juan"], signup=True) == Prompt(
        "Choose a PIN of {digits} digits:", {"digits": 6}
    )
    assert menu.route(["Juan", "240816", "240816"], signup=True) == Stage(
        Flow.SIGNUP, "do", {"name": "Juan"}, pin="240816"
    )
    assert isinstance(menu.route(["Juan", "240816", "240817"], signup=True), Refusal)
