"""Every SMS in every language fits one 160-septet GSM-7 part with the longest realistic
values, counted as the network counts (extension characters take two septets)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan import limits
from tindahan.sms import gsm7, texts

#: The longest realistic values: a wallet moves at most ₱9,999,999.99 in one payment (above
#: the largest KYC tier's limits), a short reference is 9 characters, names are cut to
#: ``SMS_NAME_MAX_CHARS``; the longest month abbreviation and a two-digit day; a loan 999
#: days late.
LONGEST = {
    "amount": texts.amount(999_999_999, "PHP"),
    "name": "Maria Clara Dimaculangan-Villanueva Sari-Sari Store and Carinderia",
    "ref": "7KQ2-M9XD",
    "date": "28 Sep 2026",
    "days": "999",
    "code": "123456",
    "minutes": "5",
}


@pytest.mark.parametrize("lang", texts.LANGUAGES)
@pytest.mark.parametrize("kind", texts.KINDS)
def test_every_text_fits_one_part_with_the_longest_values(kind: str, lang: str) -> None:
    template = texts.TEXTS[kind][lang]
    wanted = set(re.findall(r"\{(\w+)\}", template))
    text = texts.render(kind, lang, {k: v for k, v in LONGEST.items() if k in wanted})
    count = gsm7.septets(text)
    assert count is not None, f"{kind}/{lang} is not GSM-7: {text!r}"
    assert count <= 160, f"{kind}/{lang} is {count} septets: {text!r}"
    for key in wanted - {"name"}:
        assert LONGEST[key] in text  # nothing but the name is ever cut
    if "name" in wanted:  # the name is cut, never dropped
        assert "Maria Clara" in text


def test_every_kind_has_all_three_languages_with_the_same_placeholders() -> None:
    assert set(texts.TEXTS) == set(texts.KINDS)
    for kind, by_language in texts.TEXTS.items():
        assert set(by_language) == {"en", "fil", "ceb"}, kind
        english = sorted(re.findall(r"\{\w+\}", by_language["en"]))
        for lang, template in by_language.items():
            assert sorted(re.findall(r"\{\w+\}", template)) == english, (kind, lang)
            assert gsm7.septets(template) is not None, (kind, lang)


def test_the_languages_differ() -> None:
    for kind, by_language in texts.TEXTS.items():
        assert len(set(by_language.values())) == 3, kind


def test_septets_count_the_extension_table_twice_and_refuse_other_characters() -> None:
    assert gsm7.septets("abc") == 3
    assert gsm7.septets("€") == 2
    assert gsm7.septets("[x]") == 5
    assert gsm7.septets("ñÑéü@£") == 6
    assert gsm7.septets("₱1") is None  # the peso sign is not in GSM-7
    assert gsm7.septets("á") is None
    assert gsm7.fits_one_part("a" * 160)
    assert not gsm7.fits_one_part("a" * 161)
    assert not gsm7.fits_one_part("€" * 81)  # 162 septets in 81 characters
    assert gsm7.fits_one_part("€" * 80)


def test_names_are_made_gsm7_and_cut() -> None:
    assert gsm7.plain("José  Ramón\tÑiño") == "José Ramon Ñiño"
    assert gsm7.plain("Tindahan ni Aling {Nena} ₱") == "Tindahan ni Aling ?Nena? ?"
    assert gsm7.plain("😀 Store") == "? Store"
    text = texts.render(
        "payment_received", "en", {"amount": "PHP 1.00", "ref": "X", "name": "€" * 50}
    )
    assert gsm7.fits_one_part(text)


def test_amounts_are_exact_in_every_currency() -> None:
    assert texts.amount(123_450, "PHP") == "PHP 1,234.50"
    assert texts.amount(5, "PHP") == "PHP 0.05"
    assert texts.amount(1_000, "JPY") == "JPY 1,000"
    assert texts.amount(-150, "USD") == "USD -1.50"


def test_dates_name_the_month_in_the_language() -> None:
    day = date(2026, 12, 8)
    assert texts.day(day, "en") == "8 Dec 2026"
    assert texts.day(day, "fil") == "8 Dis 2026"
    assert texts.day(day, "ceb") == "8 Dis 2026"
    assert texts.day(date(2026, 9, 1), "fil") == "1 Set 2026"
    assert texts.day(date(2026, 9, 1), "ceb") == "1 Sep 2026"


def test_an_unknown_or_missing_language_is_english() -> None:
    assert texts.language_of(None) == "en"
    assert texts.language_of("xx") == "en"
    assert texts.language_of("ceb") == "ceb"


@settings(max_examples=examples(50), deadline=None)
@given(
    name=st.text(max_size=200),
    amount=st.integers(min_value=0, max_value=10**15),
    lang=st.sampled_from(texts.LANGUAGES),
    kind=st.sampled_from(("payment_received", "payment_sent", "cash_in")),
)
def test_any_name_and_amount_fits_one_part(name: str, amount: int, lang: str, kind: str) -> None:
    values = {"amount": texts.amount(amount, "PHP"), "ref": "7KQ2-M9XD", "name": name}
    text = texts.render(kind, lang, values)
    assert gsm7.fits_one_part(text)
    assert texts.amount(amount, "PHP") in text
    assert len(text) >= len(texts.TEXTS[kind][lang]) - 30  # the template is all there


def test_a_name_cut_to_its_limit() -> None:
    name = "x" * 100
    text = texts.render("payment_received", "en", {"amount": "PHP 1.00", "ref": "A", "name": name})
    assert "x" * (limits.SMS_NAME_MAX_CHARS - 1) + "." in text
    assert "x" * limits.SMS_NAME_MAX_CHARS not in text


def test_which_events_become_which_texts() -> None:
    from tindahan.sms.notices import for_event

    paid = {"amount_minor": 100, "currency": "PHP", "payer_id": "a", "payee_id": "b"}
    assert [(n.party_id, n.kind) for n in for_event("payment.succeeded", paid, ("a", "b"))] == [
        ("a", "payment_sent"),
        ("b", "payment_received"),
    ]
    cash = {**paid, "payer_id": "agent", "payee_id": "c"}
    assert [(n.party_id, n.kind) for n in for_event("cash_in.succeeded", cash, ("agent", "c"))] == [
        ("c", "cash_in")
    ]
    assert for_event("order.paid", paid, ("a",)) == []
    assert for_event("loan.payment_due", {"loan_id": "x"}, ("m",)) == []  # not its shape
    due = {"amount_minor": 5, "due_date": "2026-12-08"}
    assert [n.kind for n in for_event("loan.payment_due", due, ("m",))] == ["loan_due"]
