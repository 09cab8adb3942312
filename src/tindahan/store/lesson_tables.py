"""Lessons for merchants (issue 26, item 5).

``lessons``: a lesson the operator wrote or edited in the console, one row per lesson and
language; a shipped lesson (``insights.lessons.shipped``) is shown until the operator saves
its own. The Markdown source and quiz are kept as written; they are checked whole before a
row is written and cleaned again every time they are shown.

``lesson_progress``: one row per merchant and lesson — the furthest screen seen, the last
quiz's score, and when it was first passed (the certificate's date; kept when a later try
fails). Counted, by province and category, in the operator's aggregates.

``lesson_images``: the pictures the operator uploaded for lessons, one row per picture named
by its widest rendition (the SHA-256 of its WebP bytes, as product photos are; the bytes in
the ``MediaStore``). A lesson's Markdown may show ``/media/NAME`` only for a name here; rows
are never deleted (a saved lesson may show it), so a product photo's removal keeps the files.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tindahan import limits
from tindahan.store.tables import metadata

_ID = limits.ID_MAX_LENGTH

lessons = Table(
    "lessons",
    metadata,
    Column("slug", String(40), nullable=False),
    Column("lang", String(3), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", String(limits.LESSON_TITLE_MAX_CHARS), nullable=False),
    Column("summary", String(limits.LESSON_SUMMARY_MAX_CHARS), nullable=False),
    Column("body", Text, nullable=False),
    Column("quiz", Text, nullable=False),
    Column("updated_by", String(_ID), nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("slug", "lang"),
    CheckConstraint("lang IN ('en', 'fil', 'ceb')", name="lang"),
)

lesson_progress = Table(
    "lesson_progress",
    metadata,
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("slug", String(40), nullable=False),
    Column("screen", Integer, nullable=False),
    Column("score", Integer),
    Column("questions", Integer),
    Column("lang", String(3), nullable=False),
    Column("started_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    Column("completed_at_ns", BigInteger),
    PrimaryKeyConstraint("merchant_id", "slug"),
    CheckConstraint("screen >= 0", name="screen"),
    CheckConstraint(
        "(score IS NULL AND questions IS NULL) OR (0 <= score AND score <= questions)",
        name="score",
    ),
)
Index("ix_lesson_progress_slug", lesson_progress.c.slug, lesson_progress.c.completed_at_ns)

lesson_images = Table(
    "lesson_images",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    #: Every rendition kept, as product photos' ``renditions``: ``[{w, h, name}]``.
    Column("renditions", Text, nullable=False),
    Column("uploaded_by", String(_ID), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
)
