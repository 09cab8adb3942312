"""Searching a storefront: the words of a product, and the words of a query.

SQLite (FTS5) and PostgreSQL (``to_tsvector``) split text into words by different rules
(``3-in-1`` is one word to PostgreSQL's parser and three to FTS5's), so neither is given the
raw title: both index ``search_text``, the title and description already cut here into
lowercase words without accents (letters and digits of any script; everything else
separates) and joined by single spaces. A query is cut the same way, and every one of its
words must begin a word of the product (``kap`` finds "Kape"), on either engine: the same
products, always.
"""

from __future__ import annotations

import re
import unicodedata

from tindahan import limits
from tindahan.kernel.refusals import invalid

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """``"Kape 3-in-1, Parañaque"`` → ``["kape", "3", "in", "1", "paranaque"]``: compatibility
    forms unfolded (``①`` is ``1``), accents dropped (a phone keyboard without ``ñ`` still
    finds Parañaque, Niño, café), casefolded."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _WORD.findall(unicodedata.normalize("NFC", bare).casefold())


def search_text(title: str, description: str | None) -> str:
    return " ".join(words(title) + words(description or ""))


def terms(query: object) -> list[str]:
    """The query's words (none: no search), each at most ``SEARCH_TERM_MAX_LENGTH``."""
    if query is None:
        return []
    if not isinstance(query, str) or len(query) > limits.SEARCH_QUERY_MAX_LENGTH:
        message = f"a search is at most {limits.SEARCH_QUERY_MAX_LENGTH} characters"
        raise invalid("search_invalid", message, "q")
    found = list(dict.fromkeys(words(query)))
    if len(found) > limits.SEARCH_MAX_TERMS:
        message = f"a search has at most {limits.SEARCH_MAX_TERMS} words"
        raise invalid("search_invalid", message, "q")
    if any(len(t) > limits.SEARCH_TERM_MAX_LENGTH for t in found):
        message = f"a search word is at most {limits.SEARCH_TERM_MAX_LENGTH} characters"
        raise invalid("search_invalid", message, "q")
    return found


def category_name(value: object) -> str:
    if not isinstance(value, str) or not " ".join(value.split()):
        raise invalid("category_name_invalid", "name the category", "name")
    name = " ".join(value.split())
    if len(name) > limits.CATEGORY_NAME_MAX_LENGTH:
        message = f"a category name is at most {limits.CATEGORY_NAME_MAX_LENGTH} characters"
        raise invalid("category_name_invalid", message, "name")
    return name
