"""Lessons' rules (issue 26, item 5), no database: the shipped lessons in three languages, the
Markdown cleaned, unsafe HTML and broken pictures refused naming the screen, the quiz's
format and grading, and the next lesson from the merchant's data."""

from __future__ import annotations

import pytest

from tindahan.insights import lessons as rules

QUIZ = "? Which light?\n- The flash\n+ Daylight\n- A dark corner\n"


def _lesson(body: str, quiz: str = QUIZ) -> rules.Lesson:
    return rules.lesson("test", "en", "A title", "", body, quiz)


@pytest.mark.parametrize("lang", rules.LANGUAGES)
def test_every_shipped_lesson_is_written_in_every_language(lang):
    english = {slug: rules.shipped(slug, "en") for slug in rules.SLUGS}
    for slug in rules.SLUGS:
        found = rules.shipped(slug, lang)
        assert found is not None and found.lang == lang
        assert 2 <= len(found.screens) <= 4 and found.summary
        assert not set("*[]#") & set(found.summary)  # shown as plain text in the list
        source = english[slug]
        assert source is not None
        # the same shape in every language: screens, questions, the right answers, pictures
        assert len(found.screens) == len(source.screens)
        assert [q.answer for q in found.questions] == [q.answer for q in source.questions]
        assert [len(q.choices) for q in found.questions] == [
            len(q.choices) for q in source.questions
        ]
        pictures = [p for p in rules.picture_names() if p in found.body]
        assert pictures and pictures == [p for p in rules.picture_names() if p in source.body]
        if lang != "en":
            assert found.title != source.title


def test_a_screen_is_rendered_as_clean_html():
    found = _lesson(
        "**Bold** and [a link](https://example.org)\n\n---\n\n"
        "![a box](/lessons/pictures/parcel.svg)"
    )
    assert len(found.screens) == 2
    first = rules.render(found.screens[0])
    assert "<strong>Bold</strong>" in first
    assert 'href="https://example.org"' in first and 'rel="noopener noreferrer nofollow"' in first
    assert rules.render(found.screens[1]) == (
        '<p><img src="/lessons/pictures/parcel.svg" alt="a box"></p>\n'
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Hello <script>alert(1)</script>", "<script>"),
        ('Hi <img src="/lessons/pictures/parcel.svg" onerror="alert(1)">', "onerror="),
        ('<p style="color:red">red</p>', "style="),
        ('<iframe src="https://example.org"></iframe>', "<iframe>"),
        ('<a href="javascript:alert(1)">x</a>', "href=javascript:"),
    ],
)
def test_unsafe_html_is_refused_naming_it(body, named):
    with pytest.raises(rules.LessonError) as refused:
        _lesson("A first screen\n\n---\n\n" + body)
    assert refused.value.field == "body"
    assert refused.value.message.startswith("screen 2 has HTML that is not allowed")
    assert named in refused.value.message


def test_whatever_is_stored_is_cleaned_when_shown():
    shown = rules.render('x <script>alert(1)</script><img src=x onerror="alert(1)">')
    assert "script" not in shown and "onerror" not in shown


@pytest.mark.parametrize(
    "source",
    ["/lessons/pictures/missing.svg", "https://example.org/photo.png", "photo-light.svg", ""],
)
def test_a_broken_picture_is_refused(source):
    with pytest.raises(rules.LessonError) as refused:
        _lesson(f"Look: ![a photo]({source})")
    assert refused.value.field == "body"
    assert "shows a picture that does not exist" in refused.value.message


def test_an_uploaded_picture_is_shown_only_when_its_name_is_known():
    name = "ab" * 32 + ".webp"
    body = f"---\nLook: ![a cup of kape](/media/{name})"
    found = rules.lesson("test", "en", "A title", "", body, QUIZ, frozenset({name}))
    assert (
        rules.render(found.screens[0])
        == f'<p>Look: <img src="/media/{name}" alt="a cup of kape"></p>\n'
    )
    with pytest.raises(rules.LessonError) as refused:  # the same text, the name not uploaded
        rules.lesson("test", "en", "A title", "", body, QUIZ, frozenset({"cd" * 32 + ".webp"}))
    assert f"screen 1 shows a picture that does not exist: /media/{name}" in refused.value.message
    with pytest.raises(rules.LessonError):  # not under /media/: the name alone is not enough
        rules.lesson("test", "en", "A title", "", f"![x](/lessons/pictures/{name})", QUIZ,
                     frozenset({name}))  # fmt: skip


def test_the_shipped_pictures_are_served_and_nothing_else():
    found = rules.picture("parcel.svg")
    assert found is not None and found.startswith(b"<svg") and b"<script" not in found
    assert rules.picture("../lessons.py") is None and rules.picture("nope.svg") is None


@pytest.mark.parametrize(
    ("quiz", "message"),
    [
        ("", "at least one question"),
        ("+ an answer first\n", "line 1 is an answer before any question"),
        ("? Q\n- a\n- b\n", "the question on line 1 needs exactly one right answer"),
        ("? Q\n+ a\n+ b\n", "the question on line 1 needs exactly one right answer"),
        ("? Q\n+ only\n", "needs 2 to 6 answers"),
        ("? Q\n+ a\n- b\nwhat is this\n", "line 4 is not '? question'"),
        ("? Q\n+ a\n- b\n" * 11, "at most 10 questions"),
    ],
)
def test_a_bad_quiz_is_refused_naming_the_line(quiz, message):
    with pytest.raises(rules.LessonError) as refused:
        _lesson("Text", quiz)
    assert refused.value.field == "quiz" and message in refused.value.message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"lang": "es"}, "lang"),
        ({"title": "  "}, "title"),
        ({"body": "  \n---\n "}, "body"),
        ({"body": "x\n---\n" * 13}, "body"),
    ],
)
def test_bad_fields_are_refused(fields, field):
    values = {"slug": "ok", "lang": "en", "title": "T", "summary": "", "body": "x", "quiz": QUIZ}
    with pytest.raises(rules.LessonError) as refused:
        rules.lesson(**{**values, **fields})
    assert refused.value.field == field


def test_grading():
    questions = _lesson("x", QUIZ + "? Two?\n+ yes\n- no\n").questions
    assert questions[0] == rules.Question(
        "Which light?", ("The flash", "Daylight", "A dark corner"), 1
    )
    assert rules.grade(questions, [1, 0]) == [True, True]
    assert rules.grade(questions, [0, 0]) == [False, True]
    assert rules.grade(questions, [1]) == [True, False]


def test_the_next_lesson_follows_the_merchants_data():
    order = list(rules.SLUGS)
    new = rules.Facts()
    assert rules.suggest(new, order, set()) == ("credit-history", True)
    assert rules.suggest(rules.Facts(has_loan=True), order, set()) == ("photos", False)
    offer = rules.Facts(open_offer=True, products_without_photo=2)
    assert rules.suggest(offer, order, set()) == ("eir", True)
    assert rules.suggest(offer, order, {"eir"}) == ("photos", True)
    everything = set(order)
    assert rules.suggest(offer, order, everything) is None
    costs = rules.Facts(products_without_cost=1, has_loan=True)
    assert rules.suggest(costs, order, set()) == ("pricing", True)
