"""Screening a name against sanctions and watch lists: normalise, then fuzzy-match.

Both sides are normalised by ``names.key`` (Filipino name forms, accents, order). The index
keeps every entry's names already normalised, and their words in an inverted index, so
screening one name is:

* one pass of rapidfuzz's C matcher, ``fuzz.ratio`` on the sorted tokens, over every name —
  spelling slips and transliterations (``Mohamad``/``Muhammad``, ``Reyes``/``Reyez``);
* the names sharing at least two words with it, from the inverted index, scored by
  ``fuzz.token_set_ratio`` when every word of the shorter name is in the longer one (a
  middle name one side omits). Token-set scoring over the whole list would cost seven times
  the first pass, and it scores 100 for *any* subset, so it is only asked where the subset
  is at least two words.

A score is 0–100; a match is at or above ``threshold`` (default ``DEFAULT_THRESHOLD``, 85:
transliterations like ``Mohamad``/``Muhammad Ali`` score 87, one-letter slips 89 or more,
different people who share a surname below 80; near names such as ``Jose``/``Josefa
Rizal`` (91) are candidates an analyst clears). The best score per entry is kept, highest
first. A hit is only a candidate: an analyst confirms it (and a confirmed hit freezes the
party's wallets). Dropping a particle is not forgiven: ``Juan Cruz`` against ``Juan dela
Cruz`` scores 82.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from tindahan.risk.lists import Entry
from tindahan.risk.names import key

DEFAULT_THRESHOLD = 85
DEFAULT_LIMIT = 5


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    name: str  # the entry's name (or alias) that matched
    score: int


class Index:
    """The names of some lists, normalised once."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: list[Entry] = []
        self.keys: list[str] = []
        self.owners: list[tuple[int, str]] = []  # key position → (entry, original name)
        self.words: list[frozenset[str]] = []
        self.postings: dict[str, list[int]] = {}
        for entry in entries:
            self.entries.append(entry)
            for name in entry.names:
                normal = key(name)
                if normal:
                    words = frozenset(normal.split())
                    for word in words:
                        self.postings.setdefault(word, []).append(len(self.keys))
                    self.keys.append(normal)
                    self.words.append(words)
                    self.owners.append((len(self.entries) - 1, name))

    def __len__(self) -> int:
        return len(self.entries)

    def screen(
        self, name: str, threshold: int = DEFAULT_THRESHOLD, limit: int = DEFAULT_LIMIT
    ) -> list[Match]:
        query = key(name)
        if not query or not self.keys:
            return []
        best: dict[int, Match] = {}
        wide = limit * 4
        found = process.extract(
            query, self.keys, scorer=fuzz.ratio, score_cutoff=threshold, limit=wide
        )
        for _, score, position in found:
            self._keep(best, position, round(score))
        words = frozenset(query.split())
        if len(words) >= 2:
            shared = Counter[int]()
            for word in words:
                shared.update(self.postings.get(word, ()))
            for position, count in shared.items():
                if count >= 2 and count == min(len(words), len(self.words[position])):
                    score = fuzz.token_set_ratio(query, self.keys[position])
                    if score >= threshold:
                        self._keep(best, position, round(score))
        ranked = sorted(best.values(), key=lambda m: (-m.score, m.entry.ref))
        return ranked[:limit]

    def _keep(self, best: dict[int, Match], position: int, score: int) -> None:
        entry_at, original = self.owners[position]
        current = best.get(entry_at)
        if current is None or score > current.score:
            best[entry_at] = Match(self.entries[entry_at], original, score)
