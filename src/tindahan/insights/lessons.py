"""Lessons for merchants (issue 26, item 5): a few phone screens of Markdown, a short quiz,
and the rule that picks the next lesson from the merchant's own data.

**The text.** A lesson is written in Markdown (markdown-it-py, CommonMark): its body is cut
into screens at each line holding only ``---``; pictures are ``![what it shows](/lessons/
pictures/NAME.svg)``, one of the small drawings shipped in ``lesson_pictures`` (no image from
another site: the pages' Content-Security-Policy would block it and a merchant on a prepaid
load should not pay for it). The HTML markdown-it makes is cleaned by nh3 (the Ammonia
sanitiser) with a short allow-list, every time it is shown; when the operator saves a lesson,
HTML that nh3 would remove (a script, a style, an event handler, a frame) is *refused* with
the tags named rather than silently dropped, and so is a picture that does not exist — the
lesson is then not saved at all.

**Uploaded pictures.** The operator may also upload a photo for a lesson (the console
editor, ``POST /v1/lesson_images``): it is checked and re-encoded exactly as a product photo
(``commerce.photos``: JPEG, PNG or WebP sniffed from its bytes, size and pixel caps, decoded
to the end, kept only as metadata-free WebP) and referenced as ``![what it shows](/media/
NAME.webp)``. A ``/media/`` name is accepted only if it is one of the lesson pictures
uploaded (``uploaded``, which the service reads); any other — a product's photo, a name
made up, a typo — is refused like a missing drawing.

**The quiz** is plain lines: ``? question`` starts a question, ``+ answer`` is the right
choice (exactly one), ``- answer`` a wrong one (at least one). A quiz is passed when every
answer is right; wrong ones are marked and the merchant may try again.

**The next lesson** (``suggest``): the first lesson not yet completed whose reason the
merchant's data shows, in this order — an open loan offer → what a loan's EIR means;
products without a photo → product photos; products with a short description →
descriptions; products without a recorded cost → pricing with margins; paid online orders →
packing and shipping; no loan yet → building a credit history. Without any, the first not
completed in the catalogue's order; none when all are done.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from importlib import resources

import nh3
from markdown_it import MarkdownIt

from tindahan import limits

#: The shipped lessons, in the order a new merchant is offered them.
SLUGS = (
    "photos",
    "descriptions",
    "pricing",
    "shipping",
    "scams",
    "privacy",
    "eir",
    "credit-history",
)
LANGUAGES = ("en", "fil", "ceb")
PICTURE_PREFIX = "/lessons/pictures/"
#: Where an uploaded lesson picture is served (the product photos' route: content-hashed).
UPLOAD_PREFIX = "/media/"
SLUG_MAX_CHARS = 40
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PICTURE = re.compile(r"^[a-z0-9-]{1,40}\.svg$")
_SCREEN_BREAK = re.compile(r"^---[ \t]*$", re.MULTILINE)
#: Descriptions shorter than this say too little to sell (a name again, a price).
SHORT_DESCRIPTION_CHARS = 40

_TAGS = {
    "p", "h2", "h3", "h4", "strong", "em", "b", "i", "ul", "ol", "li", "a", "img", "blockquote",
    "code", "pre", "br", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}


class LessonError(ValueError):
    """A lesson or an answer refused, naming the field; nothing was saved."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Question:
    text: str
    choices: tuple[str, ...]
    answer: int


@dataclass(frozen=True)
class Lesson:
    slug: str
    lang: str
    title: str
    summary: str
    body: str
    quiz: str
    screens: tuple[str, ...]
    questions: tuple[Question, ...]


# --- Markdown -------------------------------------------------------------------------------
_MD = MarkdownIt("commonmark", {"html": True, "linkify": False})


def _dirty(markdown: str) -> str:
    return str(_MD.render(markdown))


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


class _Tags(HTMLParser):
    """The tags and attributes of an HTML text, and its pictures' sources."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: set[str] = set()
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(f"<{tag}>")
        for name, value in attrs:
            self.seen.add(f"{name}=")
            if tag == "img" and name == "src":
                self.images.append(value or "")
            if name in ("href", "src") and (value or "").strip().lower().startswith(
                ("javascript:", "vbscript:", "data:")
            ):
                self.seen.add(f"{name}={(value or '').split(':')[0].strip().lower()}:")


def _tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def picture_names() -> frozenset[str]:
    folder = resources.files("tindahan.insights") / "lesson_pictures"
    return frozenset(p.name for p in folder.iterdir() if _PICTURE.match(p.name))


@cache
def _pictures() -> frozenset[str]:
    return picture_names()


def picture(name: str) -> bytes | None:
    """A shipped drawing's SVG, or ``None`` for a name that is not one."""
    if name not in _pictures():
        return None
    return (resources.files("tindahan.insights") / "lesson_pictures" / name).read_bytes()


def render(markdown: str) -> str:
    """One screen as safe HTML (cleaned whatever the source holds)."""
    return _clean(_dirty(markdown))


def _check_screen(markdown: str, number: int, uploaded: Container[str]) -> None:
    dirty = _dirty(markdown)
    clean = _clean(dirty)
    removed = sorted(_tags(dirty).seen - _tags(clean).seen)
    if removed:
        raise LessonError(
            "body",
            f"screen {number} has HTML that is not allowed in a lesson ({', '.join(removed)}): "
            "remove it and save again",
        )
    for source in _tags(clean).images:
        if source.startswith(UPLOAD_PREFIX) and source[len(UPLOAD_PREFIX) :] in uploaded:
            continue
        name = source[len(PICTURE_PREFIX) :] if source.startswith(PICTURE_PREFIX) else None
        if name is None or name not in _pictures():
            raise LessonError(
                "body",
                f"screen {number} shows a picture that does not exist: {source or '(empty)'} "
                f"(pictures are {UPLOAD_PREFIX}NAME.webp of a picture uploaded for lessons, "
                f"or {PICTURE_PREFIX}NAME.svg, one of: {', '.join(sorted(_pictures()))})",
            )


def screens(body: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _SCREEN_BREAK.split(body) if part.strip())


# --- the quiz -------------------------------------------------------------------------------
def parse_quiz(text: str) -> tuple[Question, ...]:
    """``? question`` / ``+ right`` / ``- wrong`` lines into questions, or a refusal naming
    the line."""
    found: list[Question] = []
    current: str | None = None
    choices: list[str] = []
    right: list[int] = []
    start = 0

    def close() -> None:
        if current is None:
            return
        if len(right) != 1:
            raise LessonError(
                "quiz", f"the question on line {start} needs exactly one right answer (+)"
            )
        if len(choices) < 2 or len(choices) > limits.LESSON_MAX_CHOICES:
            raise LessonError(
                "quiz",
                f"the question on line {start} needs 2 to {limits.LESSON_MAX_CHOICES} answers",
            )
        found.append(Question(current, tuple(choices), right[0]))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        mark, rest = line[0], line[1:].strip()
        if mark == "?" and rest:
            close()
            current, choices, right, start = rest, [], [], number
        elif mark in "+-" and rest:
            if current is None:
                raise LessonError("quiz", f"line {number} is an answer before any question (?)")
            if mark == "+":
                right.append(len(choices))
            choices.append(rest)
        else:
            raise LessonError(
                "quiz",
                f"line {number} is not '? question', '+ right answer' or '- wrong answer'",
            )
    close()
    if not found:
        raise LessonError("quiz", "the quiz needs at least one question ('? question')")
    if len(found) > limits.LESSON_MAX_QUESTIONS:
        raise LessonError("quiz", f"a quiz has at most {limits.LESSON_MAX_QUESTIONS} questions")
    return tuple(found)


def grade(questions: tuple[Question, ...], answers: Sequence[int | None]) -> list[bool]:
    """Whether each answer (a choice's index, ``None`` unanswered) is right."""
    padded = list(answers) + [None] * (len(questions) - len(answers))
    return [a is not None and a == q.answer for q, a in zip(questions, padded, strict=False)]


# --- a whole lesson -------------------------------------------------------------------------
def lesson(
    slug: str,
    lang: str,
    title: str,
    summary: str,
    body: str,
    quiz: str,
    uploaded: Container[str] = frozenset(),
) -> Lesson:
    """A lesson checked whole: every field, every screen's HTML and pictures (a shipped
    drawing, or an uploaded picture whose name is in ``uploaded``), the quiz."""
    if not SLUG.match(slug) or len(slug) > SLUG_MAX_CHARS:
        raise LessonError(
            "slug", "the lesson's name is lowercase letters, digits and dashes (at most 40)"
        )
    if lang not in LANGUAGES:
        raise LessonError("lang", f"the language is one of {', '.join(LANGUAGES)}")
    title, summary = title.strip(), summary.strip()
    if not title or len(title) > limits.LESSON_TITLE_MAX_CHARS:
        raise LessonError("title", f"the title is 1 to {limits.LESSON_TITLE_MAX_CHARS} characters")
    if len(summary) > limits.LESSON_SUMMARY_MAX_CHARS:
        raise LessonError(
            "summary", f"the summary is at most {limits.LESSON_SUMMARY_MAX_CHARS} characters"
        )
    if len(body) > limits.LESSON_BODY_MAX_CHARS:
        raise LessonError("body", f"the text is at most {limits.LESSON_BODY_MAX_CHARS} characters")
    if len(quiz) > limits.LESSON_QUIZ_MAX_CHARS:
        raise LessonError("quiz", f"the quiz is at most {limits.LESSON_QUIZ_MAX_CHARS} characters")
    parts = screens(body.replace("\r\n", "\n"))
    if not parts:
        raise LessonError("body", "the lesson needs at least one screen of text")
    if len(parts) > limits.LESSON_MAX_SCREENS:
        raise LessonError(
            "body", f"a lesson has at most {limits.LESSON_MAX_SCREENS} screens (--- lines)"
        )
    for number, part in enumerate(parts, start=1):
        _check_screen(part, number, uploaded)
    questions = parse_quiz(quiz)
    return Lesson(slug, lang, title, summary, body, quiz, parts, questions)


def shipped(slug: str, lang: str) -> Lesson | None:
    """A lesson as shipped with the package (``lesson_texts/LANG/SLUG.md``), if there is one.

    The file is ``# Title``, the summary's paragraph, the screens, and after a line ``???``
    the quiz."""
    if slug not in SLUGS or lang not in LANGUAGES:
        return None
    return _shipped(slug, lang)


@cache
def _shipped(slug: str, lang: str) -> Lesson:
    path = resources.files("tindahan.insights") / "lesson_texts" / lang / f"{slug}.md"
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("\n\n")
    body, _, quiz = rest.partition("\n???\n")
    summary, _, body = body.partition("\n\n")
    return lesson(slug, lang, head.removeprefix("# ").strip(), summary, body, quiz)


# --- what to take next ----------------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    """What the merchant's data says, for ``suggest``."""

    open_offer: bool = False
    products_without_photo: int = 0
    products_short_description: int = 0
    products_without_cost: int = 0
    paid_orders: int = 0
    has_loan: bool = False


def reasons(facts: Facts) -> list[str]:
    """The lessons the data points to, most pressing first."""
    found: list[str] = []
    if facts.open_offer:
        found.append("eir")
    if facts.products_without_photo:
        found.append("photos")
    if facts.products_short_description:
        found.append("descriptions")
    if facts.products_without_cost:
        found.append("pricing")
    if facts.paid_orders:
        found.append("shipping")
    if not facts.has_loan:
        found.append("credit-history")
    return found


def suggest(facts: Facts, order: list[str], completed: set[str]) -> tuple[str, bool] | None:
    """The next lesson and whether the data pointed to it (``False``: next in order)."""
    for slug in reasons(facts):
        if slug in order and slug not in completed:
            return slug, True
    for slug in order:
        if slug not in completed:
            return slug, False
    return None
