"""Names made comparable: the forms a Filipino name takes on IDs, lists and forms.

Screening compares a customer's name with sanctions and watch list entries written by
other people, in other orders and spellings. Before any fuzzy score, both sides go through
the same normaliser:

* case and accents: ``Peña`` = ``Pena`` = ``PEÑA`` (Unicode NFKD, marks dropped: ñ → n);
* punctuation is a space: ``Ma.``, ``Sto.``, ``O'Brien``, ``Ruiz-Santos``;
* abbreviations spelled out: ``Ma.`` → maria, ``Ma. Cristina`` → maria cristina, ``Sto.`` →
  santo, ``Sta.`` → santa, ``Ng.`` stays (it is a surname);
* generational suffixes dropped: Jr., Sr., II, III, IV (a son and father are screened alike);
* surname particles joined to what follows: ``dela Cruz``, ``De La Cruz``, ``Dela Cruz`` and
  ``Delacruz`` all become ``delacruz``; likewise ``de los Santos``, ``del Rosario``, ``San
  Jose``, ``Santo Tomas``;
* single letters (middle initials) dropped: ``Juan P. dela Cruz`` = ``Juan dela Cruz``;
* order ignored: ``Surname, Given`` is turned round (so its particles join the surname),
  and the tokens are sorted, so ``De La Cruz, Juan`` = ``Juan dela Cruz``.

Middle names that one side has and the other lacks are left to the matcher's token-set
score (``screening``), which a shorter name fully inside a longer one scores high.
"""

from __future__ import annotations

import re
import unicodedata

from tindahan import limits

ABBREVIATIONS = {"ma": "maria", "sto": "santo", "sta": "santa"}
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
#: Particles that belong to the word after them (longest runs first by construction).
PARTICLES = frozenset(
    {
        "de",
        "del",
        "dela",
        "della",
        "la",
        "las",
        "los",
        "delos",
        "delas",
        "san",
        "santo",
        "santa",
        "di",
        "da",
        "van",
        "von",
        "y",
    }
)
_NOT_LETTERS = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, accents off, anything not a letter or digit a space."""
    decomposed = unicodedata.normalize("NFKD", text[: limits.SCREEN_MAX_NAME_LENGTH])
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_LETTERS.sub(" ", bare.casefold()).strip()


def tokens(name: str) -> list[str]:
    """The name's words after the rules above, in their order."""
    if "," in name:  # "dela Cruz, Juan": the surname first, as lists and IDs write it
        surname, _, given = name.partition(",")
        name = f"{given} {surname}"
    words = [ABBREVIATIONS.get(w, w) for w in fold(name).split()]
    words = [w for w in words if w not in SUFFIXES]
    joined: list[str] = []
    pending = ""
    for word in words:
        if word in PARTICLES:
            pending += word
            continue
        if len(word) == 1 and not pending:
            continue  # an initial
        joined.append(pending + word)
        pending = ""
    if pending:
        joined.append(pending)
    return joined


def key(name: str) -> str:
    """The normalised form to score: the tokens, sorted, one space apart."""
    return " ".join(sorted(tokens(name)))
