"""Any tabular CSV with a binary target, made ready for the models — or refused clearly.

Outside checks run ``tindahan credit`` on datasets we have never seen, so nothing here
knows German Credit or the merchant features. The rules, decided once:

* **Target.** ``--positive VALUE`` names the event (default, "bad"); every other value is
  the non-event. Without it a two-valued target takes ``1``/``true``/``yes`` or a word such
  as "bad" or "default" as the event, and otherwise the rarer value (said in the notes). A
  target with more than two values and no ``--positive``, with one value, or absent, is an
  error. Rows whose target is missing are left out (counted in the notes).
* **Column types.** A column whose every present value is a number is numeric; one where
  none or few are is categorical. A column where nearly all values (``NUMERIC_SHARE``) are
  numbers but some are text is an error naming the column, the row and the value: that is a
  data-entry problem a person must look at, not a category.
* **Useless columns** — all missing, one value only, or text that is different in every row
  (an identifier) — are dropped, each with a note; if nothing is left, an error.
* **Protected attributes** (``protected``) are excluded, each with a note.
* Missing values stay missing: both models handle them (a "Missing" bin; LightGBM's own
  missing-value branch).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tindahan.credit import protected as protected_words
from tindahan.credit.errors import CreditError

NUMERIC_SHARE = 0.9
EVENT_WORDS = (
    "1",
    "true",
    "yes",
    "y",
    "bad",
    "default",
    "defaulted",
    "delinquent",
    "charged off",
    "chargeoff",
    "event",
)
MIN_ROWS = 20


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "numeric" or "categorical"
    categories: tuple[str, ...] = ()


class Columns:
    """Rows as numpy arrays by column name, for a model to score without a data frame (one
    merchant's decision: building a frame cost more than the scorecard's lookups). Read by
    the models exactly as a frame is: ``x[name]`` and ``len(x)``."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        self.data = data
        self.rows = len(next(iter(data.values()))) if data else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def __len__(self) -> int:
        return self.rows


#: What a model scores: a data frame, or ``Columns``.
Rows = pd.DataFrame | Columns


@dataclass
class Table:
    """Features (numeric as float64, categorical as ``object`` strings with NaN for missing)
    and, when there is one, the target as 0/1."""

    features: pd.DataFrame
    columns: list[Column]
    target: np.ndarray | None = None
    target_name: str = ""
    positive: str = ""
    notes: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    data_hash: str = ""

    @property
    def numeric(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "numeric"]

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "categorical"]


def read_csv(path: str | Path) -> tuple[pd.DataFrame, str]:
    """All cells as text (types are decided here, not guessed by pandas), and the file's
    SHA-256 for the model's metadata."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise CreditError(f"cannot read {path}: {error.strerror or error}") from None
    digest = hashlib.sha256(raw).hexdigest()
    compression = "gzip" if raw[:2] == b"\x1f\x8b" else None
    try:
        # Blank lines are kept (as empty rows, left out for their missing target) so that a
        # row's index plus 2 is its line in the file, for error messages.
        frame = pd.read_csv(
            io.BytesIO(raw),
            dtype=str,
            compression=compression,
            skipinitialspace=True,
            skip_blank_lines=False,
        )
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        OSError,
        EOFError,
    ) as e:
        raise CreditError(f"{path} is not a readable CSV file: {str(e).splitlines()[0]}") from None
    _unique_header(raw, compression, path)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, digest


def _unique_header(raw: bytes, compression: str | None, path: str | Path) -> None:
    """pandas renames a repeated column (``y`` → ``y.1``), which could smuggle a copy of the
    target in as a feature: read the header row as written and refuse repeats."""
    data = gzip.decompress(raw) if compression else raw
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    names = [name.strip() for name in next(csv.reader([first]), [])]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CreditError(f"{path} has two columns with the same name, {repeated[0]!r}")


def load(
    path: str | Path,
    target: str,
    positive: str | None = None,
    protected: tuple[str, ...] = protected_words.DEFAULT,
) -> Table:
    frame, digest = read_csv(path)
    table = prepare(frame, target, positive, protected)
    table.data_hash = digest
    return table


def prepare(
    frame: pd.DataFrame,
    target: str,
    positive: str | None = None,
    protected: tuple[str, ...] = protected_words.DEFAULT,
) -> Table:
    """A training table from text cells: target, types, drops, exclusions."""
    if target not in frame.columns:
        shown = ", ".join(list(frame.columns)[:12])
        raise CreditError(f"no target column {target!r}; the columns are: {shown}")
    labels = frame[target].map(_clean)
    notes: list[str] = []
    keep = labels.notna()
    if not keep.all():
        notes.append(f"{int((~keep).sum())} rows without a target value were left out")
    frame, labels = frame[keep], labels[keep]
    event = _event(labels, target, positive, notes)
    y = (labels == event).to_numpy(dtype=np.int8)
    if y.sum() == 0 or y.sum() == len(y):
        raise CreditError(f"target {target!r} has only one class once {event!r} is the event")
    if len(y) < MIN_ROWS or min(int(y.sum()), int(len(y) - y.sum())) < 2:
        raise CreditError(f"too few rows to learn from: {len(y)} rows, {int(y.sum())} events")
    table = _features(frame.drop(columns=[target]), protected, notes)
    table.target, table.target_name, table.positive = y, target, event
    return table


def _clean(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _event(labels: pd.Series, target: str, positive: str | None, notes: list[str]) -> str:
    values = sorted(labels.unique(), key=str)
    if not values:
        raise CreditError(f"target {target!r} has no values: every row's target is empty")
    if positive is not None:
        wanted = positive.strip()
        if wanted not in values:
            shown = ", ".join(map(repr, values[:10]))
            raise CreditError(f"--positive {positive!r} is not a value of {target!r} ({shown})")
        return wanted
    if len(values) > 2:
        shown = ", ".join(map(repr, values[:10]))
        raise CreditError(
            f"target {target!r} has {len(values)} values ({shown}); "
            "say which one is the event with --positive"
        )
    if len(values) < 2:
        raise CreditError(f"target {target!r} has only one value ({values[0]!r})")
    lowered = {v.lower(): v for v in values}
    if set(lowered) == {"0", "1"} or set(lowered) == {"0.0", "1.0"}:
        return str(lowered.get("1", lowered.get("1.0", "")))
    known = [v for w, v in lowered.items() if w in EVENT_WORDS]
    if len(known) == 1:
        notes.append(f"event: {target} = {known[0]!r}")
        return str(known[0])
    counts = labels.value_counts()
    if counts.iloc[0] == counts.iloc[1]:
        raise CreditError(
            f"target {target!r} has two equally common values; say which is the event "
            "with --positive"
        )
    rare = str(counts.idxmin())
    notes.append(f"event: {target} = {rare!r} (the rarer value; set --positive to change)")
    return rare


def _features(frame: pd.DataFrame, protected: tuple[str, ...], notes: list[str]) -> Table:
    excluded = [c for c in frame.columns if protected_words.matches(c, protected)]
    for name in excluded:
        notes.append(f"{name}: excluded as a protected attribute")
    data: dict[str, pd.Series] = {}
    columns: list[Column] = []
    dropped: list[str] = []
    for name in frame.columns:
        if name in excluded:
            continue
        text = frame[name].map(_clean)
        column, values, why = _typed(name, text)
        if why:
            dropped.append(name)
            notes.append(f"{name}: dropped, {why}")
            continue
        data[name], columns = values, [*columns, column]
    if not columns:
        raise CreditError("no usable feature columns are left (see the notes: " + _tail(notes))
    features = pd.DataFrame(data, index=frame.index)
    return Table(features, columns, notes=notes, excluded=excluded, dropped=dropped)


def _tail(notes: list[str]) -> str:
    return "; ".join(notes[-5:]) + ")"


def _typed(name: str, text: pd.Series) -> tuple[Column, pd.Series, str]:
    present = text.dropna()
    if present.empty:
        return Column(name, "numeric"), text, "all values are missing"
    if present.nunique() == 1:
        return Column(name, "numeric"), text, f"one value only ({present.iloc[0]!r})"
    numbers = pd.to_numeric(present, errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers.astype(float))
    if not bad.any():
        return Column(name, "numeric"), pd.to_numeric(text).astype(float), ""
    share = 1 - bad.mean()
    if share >= NUMERIC_SHARE:
        row = int(bad[bad].index[0])
        raise CreditError(
            f"column {name!r} is numeric in {share:.0%} of rows but line {row + 2} holds "
            f"{present[row]!r} (text in a numeric column); fix or blank it"
        )
    if present.nunique() == len(present) and len(present) > MIN_ROWS:
        return Column(name, "categorical"), text, "every value is different (an identifier?)"
    categories = tuple(sorted(present.unique(), key=str))
    return Column(name, "categorical", categories), text.astype(object), ""


def for_scoring(frame: pd.DataFrame, columns: list[Column]) -> tuple[pd.DataFrame, list[str]]:
    """Rows to score, in a trained model's columns and types; unseen categories count as
    missing (noted); a missing column or text in a numeric one is an error."""
    absent = [c.name for c in columns if c.name not in frame.columns]
    if absent:
        raise CreditError(f"the data lacks the model's columns: {', '.join(absent[:12])}")
    data: dict[str, pd.Series] = {}
    notes: list[str] = []
    for column in columns:
        text = frame[column.name].map(_clean)
        if column.kind == "numeric":
            numbers = pd.to_numeric(text, errors="coerce")
            bad = text.notna() & (numbers.isna() | ~np.isfinite(numbers.astype(float)))
            if bad.any():
                row = int(bad[bad].index[0])
                raise CreditError(
                    f"column {column.name!r} must be numeric but line {row + 2} holds {text[row]!r}"
                )
            data[column.name] = numbers.astype(float)
            continue
        unseen = text.notna() & ~text.isin(column.categories)
        if unseen.any():
            notes.append(f"{column.name}: {int(unseen.sum())} unseen values scored as missing")
        data[column.name] = text.where(~unseen).astype(object)
    return pd.DataFrame(data, index=frame.index), notes
