"""The operator's view across merchants, by province and category, that no one can re-identify.

Issue 26, item 6: active merchants, digital sales, growth, loans and PAR by province and
merchant category (the merchant's MCC), as a table of cells with a total for each province,
each category and the whole — and never a figure about fewer than ``k`` merchants (10).

**Three blocks of figures, each suppressed on its own count of contributors.** A figure can
only be re-identified through the merchants *in* it, so each block counts those:

* *merchants* — merchants (not closed) and how many sold in the period ("active"):
  contributors are the merchants of the cell;
* *sales* — digital sales in the period and in the period before, and the growth between them:
  contributors are the merchants who sold in either period (a cell of 40 merchants where 3
  sold says the 3's sales — so it is suppressed);
* *loans* — borrowers (merchants with an active loan), their outstanding principal, PAR1 and
  PAR30: contributors are the borrowers;
* *lessons* (item 5) — merchants who completed a lesson in the period ("learners") and the
  lessons they completed: contributors are the learners.

**Primary suppression**: every block of a cell (or of a total) of fewer than ``k`` merchants
is withheld (``None``) — the issue's rule — and so is a block with from 1 to ``k − 1``
contributors. A block nobody contributes to in a cell of ``k`` merchants or more (no borrower
among 40) is zeros, holds nobody's figure, and is shown. A cell that holds no merchant at all
is not listed: there is nobody in it to protect.

**Complementary suppression** (decided here, the issue asks for it): every figure of a block
adds up along two directions — a province's row sums to the province's total, a category's
column to the category's total, and the totals to the grand total. A line (a row or a column
with its total) with exactly one withheld entry gives that entry away by subtraction, so in
every such line one more entry is withheld: the one with the fewest contributors (ties by
name), which loses the least information. This repeats until no line has exactly one withheld
entry — each withholding only adds, so it ends. A total may be withheld this way, and the grand
total too when one province's total alone is withheld. What this does not do: an exact audit
that no *combination* of lines pins a withheld figure down (a linear programme over the whole
table, as τ-Argus does); with the ≥2 rule on every line, a single subtraction never suffices,
which is the attack a spreadsheet user can make. Counts of contributors are never published.

Money stays integer centavos (sums); growth is ``(now − before) / before`` and PAR is at risk
over outstanding, both exact ``Decimal`` quotients rounded ``HALF_EVEN`` (growth to 4 places,
PAR to 6 like ``lending.delinquency.par``); growth is ``None`` when there were no sales before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

#: A cell is ``(province, category)``; ``None`` in a place is the total over it.
Key = tuple[str | None, str | None]
BLOCKS = ("merchants", "sales", "loans", "lessons")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Merchant:
    """One merchant's facts for the period (never published as such)."""

    province: str
    category: str
    sales_minor: int = 0
    previous_minor: int = 0
    outstanding_minor: int = 0
    at_risk1_minor: int = 0
    at_risk30_minor: int = 0
    sold: bool = False
    sold_before: bool = False
    borrower: bool = False
    lessons_completed: int = 0


@dataclass
class _Sums:
    merchants: int = 0
    active: int = 0
    sellers: int = 0
    sales_minor: int = 0
    previous_minor: int = 0
    borrowers: int = 0
    outstanding_minor: int = 0
    at_risk1_minor: int = 0
    at_risk30_minor: int = 0
    learners: int = 0
    lessons: int = 0

    def add(self, m: Merchant) -> None:
        self.merchants += 1
        self.active += m.sold
        self.sellers += m.sold or m.sold_before
        self.sales_minor += m.sales_minor
        self.previous_minor += m.previous_minor
        self.borrowers += m.borrower
        self.outstanding_minor += m.outstanding_minor
        self.at_risk1_minor += m.at_risk1_minor
        self.at_risk30_minor += m.at_risk30_minor
        self.learners += m.lessons_completed > 0
        self.lessons += m.lessons_completed

    def contributors(self, block: str) -> int:
        return {
            "merchants": self.merchants,
            "sales": self.sellers,
            "loans": self.borrowers,
            "lessons": self.learners,
        }[block]


@dataclass(frozen=True)
class Table:
    k: int
    #: Every listed key (cells, then totals) with its figures by block (``None``: withheld).
    rows: dict[Key, dict[str, dict[str, Any] | None]] = field(default_factory=dict)


def _ratio(part: int, whole: int, places: str) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_EVEN)


def _figures(s: _Sums, block: str) -> dict[str, Any]:
    if block == "merchants":
        return {"merchants": s.merchants, "active_merchants": s.active}
    if block == "sales":
        growth = _ratio(s.sales_minor - s.previous_minor, s.previous_minor, "0.0001")
        return {
            "sales_minor": s.sales_minor,
            "previous_sales_minor": s.previous_minor,
            "growth": growth,
        }
    if block == "lessons":
        return {"learners": s.learners, "lessons_completed": s.lessons}
    return {
        "borrowers": s.borrowers,
        "outstanding_minor": s.outstanding_minor,
        "par1": _ratio(s.at_risk1_minor, s.outstanding_minor, "0.000001") or Decimal("0.000000"),
        "par30": _ratio(s.at_risk30_minor, s.outstanding_minor, "0.000001") or Decimal("0.000000"),
    }


def lines(keys: Iterable[Key]) -> list[list[Key]]:
    """Every line that sums to its total: each province's cells with the province's total,
    each category's cells with the category's total, and both sets of totals with the grand
    total."""
    cells = [key for key in keys if key[0] is not None and key[1] is not None]
    provinces = sorted({p for p, _ in cells if p is not None})
    categories = sorted({c for _, c in cells if c is not None})
    out: list[list[Key]] = []
    for p in provinces:
        out.append([key for key in cells if key[0] == p] + [(p, None)])
    for c in categories:
        out.append([key for key in cells if key[1] == c] + [(None, c)])
    out.append([(p, None) for p in provinces] + [(None, None)])
    out.append([(None, c) for c in categories] + [(None, None)])
    return out


def suppress(counts: Mapping[Key, int], k: int, primary: Iterable[Key] = ()) -> set[Key]:
    """The keys to withhold: ``primary`` and those of 1 to ``k − 1`` contributors, then,
    until none is left, one more in every line with exactly one withheld (complementary)."""
    hidden = {key for key, n in counts.items() if 0 < n < k} | set(primary)
    every = lines(counts)
    changed = True
    while changed:
        changed = False
        for line in every:
            if sum(key in hidden for key in line) != 1:
                continue
            shown = [key for key in line if key not in hidden]
            pick = min(shown, key=lambda key: (counts[key], _order(key)))
            hidden.add(pick)
            changed = True
    return hidden


def _order(key: Key) -> tuple[int, str, str]:
    """Cells before totals, then by name: a total is withheld only when no cell will do."""
    return (key[0] is None) + (key[1] is None), key[0] or "", key[1] or ""


def table(merchants: Iterable[Merchant], k: int) -> Table:
    """The cells and totals of ``merchants`` with every block suppressed as above."""
    if k < 1:
        raise ValueError("k is at least 1")
    sums: dict[Key, _Sums] = {}
    for m in merchants:
        province = m.province or UNKNOWN
        for key in ((province, m.category), (province, None), (None, m.category), (None, None)):
            sums.setdefault(key, _Sums()).add(m)
    sums.setdefault((None, None), _Sums())
    few = [key for key, s in sums.items() if s.merchants < k]
    hidden = {
        block: suppress({key: s.contributors(block) for key, s in sums.items()}, k, few)
        for block in BLOCKS
    }
    ordered = sorted(sums, key=_order)
    rows = {
        key: {
            block: None if key in hidden[block] else _figures(sums[key], block) for block in BLOCKS
        }
        for key in ordered
    }
    return Table(k=k, rows=rows)
