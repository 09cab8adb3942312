"""Protected attributes: columns a credit model must not learn from, excluded by default.

The Philippine Constitution and the Magna Carta of Women (RA 9710, sec. 14 on equal access
to credit) forbid discrimination by sex; fair-lending practice (the US Equal Credit
Opportunity Act is the usual template) adds civil status, religion, race, ethnicity and
national origin. Age is *not* on the default list: lenders may weigh it where the law allows
(capacity to contract), and many scorecards do — a lender whose policy says otherwise adds
it with ``--protected``. The model card lists what was excluded.

A column is protected when one of its name's words (split on anything not a letter or a
digit, and where camelCase turns upper) is in ``WORDS``, or when it contains one of
``PHRASES``: ``personal_status_and_sex`` is caught by "sex", ``Civil Status`` by "civil
status", ``MaritalStatus`` by "marital"; ``essex_branch`` is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WORDS = (
    "sex",
    "gender",
    "marital",
    "married",
    "religion",
    "religious",
    "ethnicity",
    "ethnic",
    "race",
    "tribe",
    "nationality",
)
PHRASES = ("civil status", "civilstatus", "personal status")
DEFAULT = WORDS + PHRASES


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)  # MaritalStatus → Marital Status
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def parse(option: str | None) -> tuple[str, ...]:
    """``--protected "sex,age"`` → the list; ``None`` → the default; ``""`` → none."""
    if option is None:
        return DEFAULT
    return tuple(" ".join(_words(part)) for part in option.split(",") if _words(part))


def matches(column: str, protected: Iterable[str]) -> bool:
    words = _words(column)
    joined = " ".join(words)
    for entry in protected:
        if " " in entry:
            if entry in joined:
                return True
        elif entry in words or entry == "".join(words):
            return True
    return False
